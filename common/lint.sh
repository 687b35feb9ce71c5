#!/usr/bin/env bash
# lint.sh: `make lint`: the checks that need no grading run, in seconds (layout, metadata, naming, format, copies).
#   common/lint.sh [NN-slug...]   the labs to check (default: every tests/NN-*/lab.conf)
#   LINT_BASE=rev                 what counts as "the change" for the format and copy checks
#                                 (default HEAD: the uncommitted change; CI passes its merge base)
# The naming rule it enforces is written in common/README.md ("Naming"). Prints one ok/FAIL line
# per check, then "N passed, N failed"; exits 1 when something failed, 2 on bad input.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
OUT=$BUILD/lint
BASE=${LINT_BASE:-HEAD}
passed=0 failed=0
ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*"; }
note() { printf '  note  %s\n' "$*"; }

"$ROOT/common/deps.sh" cc=gcc file:/usr/include/stdio.h=libc6-dev make=make pkg-config=pkg-config \
  pc:check=check || exit 2
mkdir -p "$OUT" || exit 2
rm -f "$OUT/format.log"

# lab.conf is read by the real parser (labconf.c, through labtool), so lint and the grader never
# disagree on it. ipclab.sh builds labtool once here, before the demos build it in parallel.
IPCLAB_BUILD=$BUILD "$ROOT/common/ipclab.sh" labs >"$OUT/labs.log" 2>&1
LABTOOL=$BUILD/common/labtool
[ -x "$LABTOOL" ] || { echo "lint: common/labtool.c does not build: see $OUT/labs.log" >&2; exit 2; }

if [ $# -gt 0 ]; then
  LABS=("$@")
  for lab in "${LABS[@]}"; do
    [ -f "$ROOT/tests/$lab/lab.conf" ] || { echo "lint: no lab $lab (tests/$lab/lab.conf)" >&2; exit 2; }
  done
else
  LABS=()
  for d in "$ROOT"/tests/[0-9][0-9]-*/; do [ -f "$d/lab.conf" ] && LABS+=("$(basename "$d")"); done
fi

# --- per lab: the files, the demo, the variants (what the self-test's layout section checked) ---
# The demos build in the background, two at a time, while the cheap checks run.
demo_build() {
  local lab=$1 tree=$2
  local sol=
  [ "$tree" = solutions ] && sol=1
  env LAB="$lab" STRICT=1 BUILD_ONLY=1 SOLUTIONS=$sol \
    IPCLAB_BUILD="$BUILD" "$ROOT/common/ipclab.sh" run >"$OUT/demo-$lab-$tree.log" 2>&1
  echo $? >"$OUT/demo-$lab-$tree.rc"
}
demos() {
  local lab tree n=0
  for lab in "${LABS[@]}"; do
    [ -f "$ROOT/labs/$lab/demo.c" ] || continue
    for tree in labs solutions; do
      rm -f "$OUT/demo-$lab-$tree.rc"
      demo_build "$lab" "$tree" &
      n=$((n + 1))
      [ $((n % 2)) -eq 0 ] && wait
    done
  done
  wait
}
demos &
demos_pid=$!

# The names a lab's grader defines, from its source: GRADER_TEST(name) at the start of a line.
grader_tests() { sed -n 's/^GRADER_TEST(\([^)]*\)).*/\1/p' "$1" | sort; }
conf_tests() { "$LABTOOL" tests "$1" | cut -f1 | sort; }

check_lab() {
  local lab=$1 problems=() f n stem
  local conf=$ROOT/tests/$lab/lab.conf grader=$ROOT/tests/$lab/grader.c files names defined
  if ! files=$("$LABTOOL" get "$conf" files 2>&1); then
    bad "$lab: tests/$lab/lab.conf: $files"
    return
  fi
  # Layout: the three trees mirror each other.
  for f in README.md demo.c; do [ -f "$ROOT/labs/$lab/$f" ] || problems+=("labs/$lab/$f missing"); done
  ls "$ROOT/labs/$lab"/*.h >/dev/null 2>&1 || problems+=("labs/$lab has no header")
  [ -f "$grader" ] || problems+=("tests/$lab/grader.c missing")
  for f in $files; do
    [ -f "$ROOT/labs/$lab/$f" ] || problems+=("labs/$lab/$f missing")
    [ -f "$ROOT/solutions/$lab/$f" ] || problems+=("solutions/$lab/$f missing")
    grep -q TODO "$ROOT/labs/$lab/$f" 2>/dev/null || problems+=("labs/$lab/$f has no TODO marker")
  done
  n=$(find "$ROOT/tests/$lab/buggy" -name '*.patch' ! -name 'hostile-*' 2>/dev/null | wc -l)
  [ "$n" -ge 5 ] || problems+=("only $n known-buggy variants in tests/$lab/buggy/ (at least 5)")

  # lab.conf and grader.c agree (the grader also refuses to start when they do not).
  if [ -f "$grader" ]; then
    names=$(conf_tests "$conf")
    defined=$(grader_tests "$grader")
    for f in $(comm -23 <(echo "$names") <(echo "$defined")); do
      problems+=("lab.conf lists test $f, which grader.c does not define (GRADER_TEST($f))")
    done
    for f in $(comm -13 <(echo "$names") <(echo "$defined")); do
      problems+=("grader.c defines GRADER_TEST($f), which has no 'test: $f' block in lab.conf")
    done
  fi
  # Every Must fail: names a real test, or the self-test's check of that variant proves nothing.
  local p t
  for p in "$ROOT/tests/$lab/buggy/"*.patch; do
    [ -f "$p" ] || continue
    grep -q '^Mistake: ' "$p" || problems+=("buggy/$(basename "$p") has no 'Mistake:' line")
    case $(basename "$p") in hostile-*) ;; *) grep -q '^Must fail: ' "$p" ||
      problems+=("buggy/$(basename "$p") has no 'Must fail:' line") ;; esac
    for t in $(sed -n 's/^Must fail: *//p' "$p"); do
      grep -qx -- "$t" <<<"$names" || problems+=("buggy/$(basename "$p"): Must fail: $t is not a test of lab.conf")
    done
    # "Varies: TESTS -- WHY": tests whose verdict on this buggy code depends on how its own race
    # goes (make test-repeat tolerates them). Never a Must fail test, and always with a reason.
    local varies
    varies=$(sed -n 's/^Varies: *//p' "$p")
    [ -z "$varies" ] || [[ $varies == *" -- "?* ]] || problems+=("buggy/$(basename "$p"): Varies: gives no reason (Varies: TESTS -- WHY)")
    for t in ${varies%% -- *}; do
      grep -qx -- "$t" <<<"$names" || problems+=("buggy/$(basename "$p"): Varies: $t is not a test of lab.conf")
      [[ " $(sed -n 's/^Must fail: *//p' "$p") " != *" $t "* ]] || problems+=("buggy/$(basename "$p"): $t is both Must fail and Varies")
    done
  done

  # Naming (common/README.md, "Naming"): NN-slug; one student file STEM.c with its header STEM.h.
  [[ $lab =~ ^[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*$ ]] || problems+=("the folder $lab is not NN-slug (lower case, digits, dashes)")
  for f in $files; do
    stem=${f%.c}
    [[ $f =~ ^[a-z][a-z0-9_]*\.c$ ]] || problems+=("$f: student files are lower_snake_case .c files")
    [ -f "$ROOT/labs/$lab/$stem.h" ] || problems+=("labs/$lab/$stem.h missing: the header is named after its .c file")
    [ -e "/usr/include/$stem.h" ] && problems+=("labs/$lab/$stem.h shadows the system header <$stem.h>: rename it")
    local guard="LAB${lab%%-*}_${stem^^}_H"
    grep -q "^#ifndef $guard\$" "$ROOT/labs/$lab/$stem.h" 2>/dev/null || problems+=("labs/$lab/$stem.h: the include guard is not $guard")
    head -n 1 "$ROOT/labs/$lab/$stem.h" 2>/dev/null | grep -q "^/\* $stem.h: Lab ${lab%%-*} API: " ||
      problems+=("labs/$lab/$stem.h: the first line is not '/* $stem.h: Lab ${lab%%-*} API: ...'")
  done
  for f in $names; do
    [[ $f =~ ^[a-z][a-z0-9_]*$ ]] || problems+=("test $f: test names are lower_snake_case")
  done
  for p in "$ROOT/tests/$lab/buggy/"*.patch; do
    [ -f "$p" ] || continue
    [[ $(basename "$p") =~ ^[a-z0-9]+(-[a-z0-9]+)*\.patch$ ]] || problems+=("buggy/$(basename "$p"): variant names are lower-case-with-dashes.patch")
  done
  # Every test teaches in at least two hint levels (hint:, hint2:, hint3:), with no gap.
  local levels
  levels=$("$LABTOOL" lint "$conf" 2>&1) || problems+=("hint levels: $levels")
  # Labs from 09 on prefix their API with the file stem (stem_push); 01-08 predate the rule.
  if [ "$((10#${lab%%-*}))" -ge 9 ]; then
    for f in $files; do
      stem=${f%.c}
      for fn in $(sed -n 's/^[a-z].*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p' "$ROOT/labs/$lab/$stem.h"); do
        [[ $fn == "${stem}_"* ]] || problems+=("$stem.h declares $fn(): API functions start with ${stem}_")
      done
    done
  fi
  if [ ${#problems[@]} -eq 0 ]; then ok "$lab: complete, conf and grader agree ($(wc -w <<<"$names") tests, $n known-buggy variants)"
  else for f in "${problems[@]}"; do bad "$lab: $f"; done; fi
}

printf '\n== Lint: layout, lab.conf against grader.c, Must fail: names, naming ==\n'
for lab in "${LABS[@]}"; do check_lab "$lab"; done

# --- the tree: every source file says what it is for, in its first comment line ---------------
cd "$ROOT" || exit 2
in_git=
git rev-parse --git-dir >/dev/null 2>&1 && in_git=1
if [ -n "$in_git" ]; then
  mapfile -t sources < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' '*.sh' '*.py')
else
  mapfile -t sources < <(find common labs solutions tests slides -path '*/node_modules' -prune -o \( -name '*.[ch]' -o -name '*.sh' -o -name '*.py' \) -print)
fi
missing=()
for f in "${sources[@]}"; do
  [ -f "$f" ] || continue
  first=$(grep -v '^#!' "$f" | head -n 1)
  case $first in '/* '*|'# '*|'"""'*|'// '*) ;; *) missing+=("$f") ;; esac
done
if [ ${#missing[@]} -eq 0 ]; then ok "every source file starts with a comment that says what it is for"
else bad "no first-line comment in: ${missing[*]}"; fi

# --- the change: clang-format on the lines it touches, duplicates on the blocks it adds ---------
# Whole-tree formatting is not demanded: most files predate .clang-format's 100 columns, and
# reformatting them would only make merges hard. What is written from now on must be clean.
changed_ranges() { # FILE: "--lines=a:b" for each added hunk against BASE (a new file: all of it)
  if git ls-files --error-unmatch -- "$1" >/dev/null 2>&1 && git cat-file -e "$BASE:$1" 2>/dev/null; then
    git diff -U0 --no-color "$BASE" -- "$1" |
      sed -n 's/^@@ -[0-9,]* +\([0-9]*\)\(,\([0-9]*\)\)\{0,1\} @@.*/\1 \3/p' |
      awk '{n = ($2 == "") ? 1 : $2; if (n > 0) printf "--lines=%d:%d\n", $1, $1 + n - 1}'
  else
    echo "--lines=1:$(wc -l <"$1")"
  fi
}
check_format() {
  local f cfiles ranges unformatted=()
  mapfile -t cfiles < <({ git diff --name-only "$BASE" -- '*.c' '*.h'; git ls-files --others --exclude-standard -- '*.c' '*.h'; } | sort -u)
  if [ ${#cfiles[@]} -eq 0 ]; then
    ok "clang-format: no C file changed since $BASE"
  else
    # Needed only now that there is something to check (a fresh clone has nothing).
    "$ROOT/common/deps.sh" clang-format=clang-format || exit 2
    for f in "${cfiles[@]}"; do
      [ -f "$f" ] || continue
      mapfile -t ranges < <(changed_ranges "$f")
      [ ${#ranges[@]} -gt 0 ] || continue
      clang-format --dry-run -Werror "${ranges[@]}" "$f" >>"$OUT/format.log" 2>&1 ||
        unformatted+=("clang-format -i ${ranges[*]} $f")
    done
    if [ ${#unformatted[@]} -eq 0 ]; then ok "clang-format: the ${#cfiles[@]} C file(s) changed since $BASE are clean where they changed"
    else
      bad "clang-format: lines changed since $BASE are not formatted (what is wrong: $OUT/format.log); to fix them:"
      printf '        %s\n' "${unformatted[@]}"
    fi
  fi
}
check_copies() {
  local dup_args copies
  if ! command -v duplicates >/dev/null; then
    note "duplicates is not installed here: the check for copied blocks is skipped"
  else
    dup_args=(--change)
    [ "$BASE" = HEAD ] || dup_args+=(--base "$BASE")
    duplicates "${dup_args[@]}" >"$OUT/duplicates.txt" 2>&1
    # A row is a pair; "boilerplate" rows share only thin shapes and are shown, not counted.
    copies=$(grep -E '^D[0-9]+ ' "$OUT/duplicates.txt" | grep -v 'boilerplate')
    if grep -q '^incomplete:' "$OUT/duplicates.txt"; then
      bad "duplicates did not finish: $(grep -m1 '^incomplete:' "$OUT/duplicates.txt")"
    elif [ -z "$copies" ]; then ok "duplicates --change${dup_args[2]:+ --base $BASE}: no copied block added ($(grep -c "^D[0-9]" "$OUT/duplicates.txt") boilerplate pair(s) shown in $OUT/duplicates.txt)"
    else
      bad "duplicates: the change copies blocks that could be one function (full list: $OUT/duplicates.txt):"
      printf '        %s\n' "${copies//$'\n'/$'\n'        }"
    fi
  fi
}
if [ -z "$in_git" ]; then
  note "not a git checkout: there is no change to check with clang-format and duplicates"
elif ! git rev-parse --verify -q "$BASE^{commit}" >/dev/null; then
  echo "lint: LINT_BASE=$BASE is not a commit" >&2
  exit 2
else
  check_format
  check_copies
fi

# --- short functions: the library and the graders read as steps --------------------------------
# A function starts at a line in column 0 that names it and ends at the "}" in column 0; its
# body (the lines between) is at most MAX_FUNCTION_LINES. Students' and demo code are exempt.
MAX_FUNCTION_LINES=60
check_lengths() {
  local long
  long=$(cd "$ROOT" && for f in common/*.c tests/*/grader.c; do
    awk -v F="$f" -v max="$MAX_FUNCTION_LINES" '
      /^[A-Za-z_].*\)$|^[A-Za-z_].*\) *\{$|^GRADER_TEST\(/ { name = $0; start = NR }
      /^}/ { if (start && NR - start - 1 > max) printf "%s:%d: %s (%d lines)\n", F, start, name, NR - start - 1; start = 0 }' "$f"
  done)
  if [ -z "$long" ]; then ok "no function in common/*.c or a grader is over $MAX_FUNCTION_LINES lines"
  else
    bad "functions over $MAX_FUNCTION_LINES lines (split them into steps named for what they check):"
    printf '        %s\n' "${long//$'\n'/$'\n'        }"
  fi
}
check_lengths

# --- the shell scripts: shellcheck at warning level, on every script of the tree ---------------
# A script is a file with a shell's #! line, or one that says "# shellcheck shell=bash" (sourced).
check_scripts() {
  local scripts=() f
  "$ROOT/common/deps.sh" shellcheck=shellcheck || exit 2
  while IFS= read -r -d '' f; do
    if head -n 2 "$f" | grep -Eq '^#!.*(bash|/sh)|^# shellcheck shell='; then scripts+=("$f"); fi
  done < <(cd "$ROOT" && find . -path ./build -prune -o -path ./slides/node_modules -prune -o -path ./.git -prune \
    -o -type f ! -name '*.c' ! -name '*.h' ! -name '*.md' ! -name '*.py' ! -name '*.patch' -size -200k -print0 | sort -z)
  if (cd "$ROOT" && shellcheck -S warning -f gcc "${scripts[@]}") >"$OUT/shellcheck.log" 2>&1; then
    ok "shellcheck: the ${#scripts[@]} shell scripts have no warning"
  else
    bad "shellcheck: $(grep -c ': \(warning\|error\):' "$OUT/shellcheck.log") warning(s) in the shell scripts (see $OUT/shellcheck.log); the first:"
    head -n 3 "$OUT/shellcheck.log" | sed 's/^/        /'
  fi
}
check_scripts

# --- the demos, built in the background above --------------------------------------------------
wait "$demos_pid"
broken=0
for lab in "${LABS[@]}"; do
  [ -f "$ROOT/labs/$lab/demo.c" ] || continue
  for tree in labs solutions; do
    [ "$(cat "$OUT/demo-$lab-$tree.rc" 2>/dev/null)" = 0 ] && continue
    broken=1
    bad "$lab: the demo does not build warning-free with $tree/ (see $OUT/demo-$lab-$tree.log)"
  done
done
[ $broken -eq 1 ] || ok "the demos of ${#LABS[@]} lab(s) build warning-free with labs/ and with solutions/"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
