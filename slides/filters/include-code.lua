--[[
include-code.lua: pandoc Lua filter that puts real lab code on the slides.

A code block such as

    ```{.c include="solutions/01-fork-clone/spawn.c" function="spawn_fork"}
    ```

is replaced by the text of that file (path relative to the repository root), or,
with `function`, by the definition of that C function: from the line at column 0
that names it (plus the return-type line above, when the name starts the line)
down to the first closing brace at column 0. The block must be empty in the
Markdown: code is never pasted into the slides, it is read from the tree when the
deck is built.

The build FAILS, naming the slide's include, when the file or the function is
missing: that is how the slides notice that a lab changed under them. A C code
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
            return table.concat(lines, "\n", start, j)
          end
        end
        fail(string.format("function '%s' in %s has no closing brace at column 0",
                           name, path))
      end
    end
  end
  return nil
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
  if fn then
    local body = extract_function(split_lines(text), fn, path)
    if not body then
      fail(string.format("function '%s' is not defined in %s (looked for a "
                         .. "definition at column 0 ending with '}' at column 0). "
                         .. "The slide is out of date, or the lab renamed it.",
                         fn, path))
    end
    text = body
    shown = path .. ": " .. fn .. "()"
  else
    text = text:gsub("\n+$", "")
  end

  local attr = el.attr
  attr.attributes["include"] = nil
  attr.attributes["function"] = nil
  local block = pandoc.CodeBlock(text, attr)
  local caption = pandoc.Para({ pandoc.Code(shown) })
  return pandoc.Div({ block, caption }, pandoc.Attr("", { "lab-code" }))
end
