--[[
include-code.lua: pandoc Lua filter that puts real lab code on the slides.

A code block such as

    ```{.c include="solutions/01-fork-clone/forkclone.c" function="spawn_fork"}
    ```

is replaced by the text of that file (path relative to the repository root), or,
with `function`, by the definition of that C function: from the line at column 0
that names it (plus the return-type line above, when the name starts the line)
down to the first closing brace at column 0. The block must be empty in the
Markdown: code is never pasted into the slides, it is read from the tree when the
deck is built.

Slides have room for about 18 lines of code, so a block may show only part of
the file or function:

    ```{.c include="..." function="recv_frame" from="Judge the length" to="return len;"}
    ```

starts at the first line that contains the text `from` and ends at the first
line from there on that contains `to` (either may be left out: the start or the
end of the function or file). `lines="12-30"` picks lines by number instead,
counted from 1 at the first line of the function (or file). The caption then
names the excerpt by its line numbers in the file, and the indentation that all
its lines share is removed.

The build FAILS, naming the slide's include, when the file, the function or an
excerpt's `from`/`to` text is missing: that is how the slides notice that a lab changed under them. A C code
block without `include` fails too, for the same reason.

Repository root: $SLIDES_ROOT when set (slides.mk sets it), else the parent of
the directory holding this filter's directory (slides/filters/.. /..).
]]

local function fail(msg)
  error("include-code: " .. msg, 0)
end

local function repo_root()
  local env = os.getenv("SLIDES_ROOT")
  if env and env ~= "" then
    return env
  end
  local script = PANDOC_SCRIPT_FILE or "slides/filters/include-code.lua"
  local dir = script:match("^(.*)/[^/]*$") or "."
  return dir .. "/../.."
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then
    return nil
  end
  local text = f:read("a")
  f:close()
  return text
end

local function split_lines(text)
  local lines = {}
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("(.-)\n") do
    lines[#lines + 1] = line
  end
  return lines
end

-- Escape Lua pattern magic characters in a C identifier (only '_' and alnum
-- are legal, but be safe).
local function literal(s)
  return (s:gsub("([%^%$%(%)%%%.%[%]%*%+%-%?])", "%%%1"))
end

-- Is the declaration that starts at line i a definition (a '{' comes before a
-- ';')? Looks at most 30 lines ahead.
local function is_definition(lines, i, name_end)
  for k = i, math.min(#lines, i + 30) do
    local s = (k == i) and lines[k]:sub(name_end) or lines[k]
    s = s:gsub("//.*$", "")
    local brace, semi = s:find("{", 1, true), s:find(";", 1, true)
    if brace and (not semi or brace < semi) then
      return true
    end
    if semi then
      return false
    end
  end
  return false
end

local function extract_function(lines, name, path)
  local pat = "%f[%w_]" .. literal(name) .. "%s*%("
  for i, line in ipairs(lines) do
    local first = line:sub(1, 1)
    -- A definition starts at column 0 and is not a comment, a preprocessor
    -- line, a closing brace or a blank line.
    if first:match("[%a_]") then
      local _, name_end = line:find(pat)
      if name_end and is_definition(lines, i, name_end) then
        local start = i
        -- GNU style: return type on the line above ("static int\nname(...)").
        if line:find("^" .. literal(name) .. "%s*%(") and i > 1 then
          local above = lines[i - 1]
          if above:match("^[%a_]") and not above:match("[;}]%s*$") then
            start = i - 1
          end
        end
        for j = i, #lines do
          if lines[j]:match("^}") then
            return start, j
          end
        end
        fail(string.format("function '%s' in %s has no closing brace at column 0",
                           name, path))
      end
    end
  end
  return nil
end

-- Narrow lines[first..last] to an excerpt: `from`/`to` (text that a line
-- contains) or `lines` ("a-b", counted from 1 at `first`). Returns the new
-- first and last line numbers.
local function excerpt(lines, first, last, attrs, where)
  local from, to, range = attrs["from"], attrs["to"], attrs["lines"]
  if range then
    if from or to then
      fail(where .. ": use either lines=\"a-b\" or from/to, not both")
    end
    local a, b = range:match("^%s*(%d+)%s*%-%s*(%d+)%s*$")
    a, b = tonumber(a), tonumber(b)
    if not a or a < 1 or b < a or first + b - 1 > last then
      fail(string.format("%s: lines=\"%s\" is not a range inside its %d lines",
                         where, range, last - first + 1))
    end
    return first + a - 1, first + b - 1
  end
  local a, b = first, last
  if from then
    a = nil
    for k = first, last do
      if lines[k]:find(from, 1, true) then
        a = k
        break
      end
    end
    if not a then
      fail(string.format("%s: no line contains from=\"%s\": the lab changed; fix the "
                         .. "excerpt", where, from))
    end
  end
  if to then
    b = nil
    for k = a, last do
      if lines[k]:find(to, 1, true) then
        b = k
        break
      end
    end
    if not b then
      fail(string.format("%s: no line from there on contains to=\"%s\": the lab "
                         .. "changed; fix the excerpt", where, to))
    end
  end
  return a, b
end

local function has_class(el, class)
  for _, c in ipairs(el.classes) do
    if c == class then
      return true
    end
  end
  return false
end

function CodeBlock(el)
  local path = el.attributes["include"]
  if not path then
    if has_class(el, "c") then
      fail("a C code block has no include=\"...\": C code on the slides must come "
           .. "from a lab file (write ```{.c include=\"solutions/NN-name/file.c\" "
           .. "function=\"name\"}```). The block starts: "
           .. el.text:sub(1, 60):gsub("\n", " "))
    end
    return nil
  end
  if el.text:match("%S") then
    fail(string.format("the include block for %s must be empty in the Markdown: "
                       .. "its text comes from the file", path))
  end
  local full = repo_root() .. "/" .. path
  local text = read_file(full)
  if not text then
    fail(string.format("%s does not exist (looked for %s). The slide that includes "
                       .. "it is out of date, or the lab moved: fix the include.",
                       path, full))
  end
  local fn = el.attributes["function"]
  local shown = path
  local lines = split_lines(text:gsub("\n+$", ""))
  local first, last = 1, #lines
  if fn then
    first, last = extract_function(lines, fn, path)
    if not first then
      fail(string.format("function '%s' is not defined in %s (looked for a "
                         .. "definition at column 0 ending with '}' at column 0). "
                         .. "The slide is out of date, or the lab renamed it.",
                         fn, path))
    end
    shown = path .. ": " .. fn .. "()"
  end
  local a, b = excerpt(lines, first, last, el.attributes,
                       fn and (path .. ": " .. fn .. "()") or path)
  if a ~= first or b ~= last then
    shown = shown .. string.format(", lines %d-%d", a, b)
  end
  local picked = { table.unpack(lines, a, b) }
  -- An excerpt from inside a function starts indented: drop the indentation that every
  -- non-blank line shares, so the code starts at the panel's left edge.
  local common
  for _, l in ipairs(picked) do
    if l:match("%S") then
      local ind = l:match("^[ \t]*")
      if not common or #ind < #common then
        common = ind
      end
    end
  end
  for k, l in ipairs(picked) do
    if common and l:sub(1, #common) == common then
      picked[k] = l:sub(#common + 1)
    end
  end
  text = table.concat(picked, "\n")

  local attr = el.attr
  attr.attributes["include"] = nil
  attr.attributes["function"] = nil
  attr.attributes["from"] = nil
  attr.attributes["to"] = nil
  attr.attributes["lines"] = nil
  local block = pandoc.CodeBlock(text, attr)
  local caption = pandoc.Para({ pandoc.Code(shown) })
  return pandoc.Div({ block, caption }, pandoc.Attr("", { "lab-code" }))
end
