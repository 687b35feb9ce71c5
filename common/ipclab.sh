#!/usr/bin/env bash
# ipclab.sh: the driver behind `make check`, `make run` and `make bench` (reads settings from the environment).
#
#   check   LAB= TEST= SOLUTIONS=1 LABS_DIR=path SUBMISSIONS=path REPORT=path SANITIZE= STRICT=1
#   run     LAB= [SOLUTIONS=1] [ARGS=...]       build and run the lab's demo
#   bench   LAB=                                 build and run the lab's benchmark (reference solution)
#   labs                                         list the labs
#   prepare LAB=                                 build the library and the graders (common/class.sh calls it once)
#   timeout-scale N                              the time scale for N busy processes (class.sh, make test-repeat)
# Exit status: 0 all full marks, 1 something below full marks, 2 bad input, 3 internal error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
# The student's state (common/student.sh): hint levels asked for, read by the report; progress.
export IPCLAB_HINTS_DIR=${IPCLAB_HINTS_DIR:-$BUILD/hints}
PROGRESS=${IPCLAB_PROGRESS:-$BUILD/progress.json}
CC=${CC:-cc}
CFLAGS_BASE=(-std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-result)
# The link option that routes the student's calls through common/fault.c: its list is read
# from fault.c's own __wrap_ declarations, so a new wrapper needs no second edit here.
wrap_option() {
  local fns
  fns=$(sed -n 's/^[a-z_]* *\**__wrap_\([a-z0-9_]*\)(.*;$/--wrap=\1/p' "$ROOT/common/fault.c" | sort -u | paste -sd, -)
  [ -n "$fns" ] || internal "common/fault.c declares no __wrap_ function"
  echo "-Wl,$fns"
}

die() { echo "ipclab: $*" >&2; exit 2; }
internal() { echo "ipclab: internal error: $*" >&2; exit 3; }

# --- the labs -------------------------------------------------------------------------------
all_labs() {
  local d
  for d in "$ROOT"/tests/[0-9][0-9]-*/; do
    d=${d%/}
    [ -f "$d/lab.conf" ] && echo "${d##*/}"
  done
}

# Maps "01", "1", "fork-clone" or "01-fork-clone" (several, comma or space separated) to slugs.
select_labs() {
  local want=${1//,/ } w lab found out=()
  [ -z "$want" ] && { all_labs; return; }
  for w in $want; do
    found=
    for lab in $(all_labs); do
      if [ "$w" = "$lab" ] || [ "$w" = "${lab#*-}" ] || { [[ $w =~ ^[0-9]+$ ]] && [ "$((10#$w))" = "$((10#${lab%%-*}))" ]; }; then
        found=$lab
      fi
    done
    if [ -z "$found" ]; then
      echo "ipclab: there is no lab '$w'. The labs are:" >&2
      list_labs >&2
      exit 2
    fi
    out+=("$found")
  done
  printf '%s\n' "${out[@]}"
}

list_labs() {
  local lab
  for lab in $(all_labs); do
    printf '  %-4s %-24s %s\n' "${lab%%-*}" "$lab" "$(labtool get "$ROOT/tests/$lab/lab.conf" title)"
  done
}

# --- building -------------------------------------------------------------------------------
need_tools() {
  "$ROOT/common/deps.sh" "$CC=gcc" file:/usr/include/stdio.h=libc6-dev make=make \
    pkg-config=pkg-config pc:check=check || exit 2
  # Asked once a run: a class run grades each student's labs with the same flags.
  read -ra CHECK_CFLAGS <<<"$(pkg-config --cflags check)"
  read -ra CHECK_LIBS <<<"$(pkg-config --libs check)"
  WRAP=$(wrap_option) || exit 3
  # Every student's every lab is one link: gold, where binutils has it, links a grader in about
  # two thirds of the CPU time of the default linker. Where it is absent the default serves.
  LD_FAST=()
  command -v ld.gold >/dev/null 2>&1 && LD_FAST=(-fuse-ld=gold)
}

# True when TARGET is missing or older than any of the other files.
stale() {
  local target=$1 f
  shift
  [ -e "$target" ] || return 0
  for f in "$@"; do [ "$f" -nt "$target" ] && return 0; done
  return 1
}

sanitize_flags=()
build_common() {
  local libdir=$BUILD/common${SANITIZE:+-$SANITIZE} src obj
  local objs=()
  mkdir -p "$libdir"
  for src in "$ROOT"/common/*.c; do
    [ "${src##*/}" = labtool.c ] && continue
    obj=$libdir/${src##*/}
    obj=${obj%.c}.o
    if stale "$obj" "$src" "$ROOT"/common/*.h; then
      # Built aside and renamed: runs in parallel (make mutants) never see half a file.
      "$CC" "${CFLAGS_BASE[@]}" -Werror "${sanitize_flags[@]}" "${CHECK_CFLAGS[@]}" \
        -c "$src" -o "$obj.$BASHPID" && mv -f "$obj.$BASHPID" "$obj" || internal "common/${src##*/} does not compile"
    fi
    objs+=("$obj")
  done
  if stale "$libdir/libgrader.a" "${objs[@]}"; then
    rm -f "$libdir/libgrader.a.$BASHPID"
    ar rcs "$libdir/libgrader.a.$BASHPID" "${objs[@]}" && mv -f "$libdir/libgrader.a.$BASHPID" "$libdir/libgrader.a" || internal "ar failed"
  fi
  LIBGRADER=$libdir/libgrader.a
}

LABTOOL=$BUILD/common/labtool
build_labtool() {
  mkdir -p "$BUILD/common"
  if stale "$LABTOOL" "$ROOT"/common/labtool.c "$ROOT"/common/labconf.[ch] "$ROOT"/common/report.[ch]; then
    "$CC" "${CFLAGS_BASE[@]}" -Werror "$ROOT"/common/labtool.c "$ROOT"/common/labconf.c \
      "$ROOT"/common/report.c -o "$LABTOOL" || internal "labtool does not compile"
  fi
}
labtool() { "$LABTOOL" "$@"; }

# build_grader_obj LAB: prints the path of the lab's compiled tests. The grader always builds
# against the repository's header and tests, never a submission's, so it is compiled once and
# shared by every submission (and every student of a class). A failure here is our bug.
build_grader_obj() {
  local lab=$1 obj=$BUILD/graders${SANITIZE:+-$SANITIZE}/$1/tests.o
  if stale "$obj" "$ROOT/tests/$lab/grader.c" "$ROOT/labs/$lab"/*.h "$ROOT"/common/*.h; then
    mkdir -p "$(dirname "$obj")"
    "$CC" "${CFLAGS_BASE[@]}" "${sanitize_flags[@]}" -I"$ROOT/labs/$lab" -I"$ROOT/common" -Werror \
      "${CHECK_CFLAGS[@]}" -c "$ROOT/tests/$lab/grader.c" -o "$obj.$BASHPID" &&
      mv -f "$obj.$BASHPID" "$obj" || internal "tests/$lab/grader.c does not compile"
  fi
  echo "$obj"
}

# --- grading one lab ------------------------------------------------------------------------
# grade_lab LAB TREE OUTDIR RERUN: prints the lab's section and writes its fragments, in
# $GRADE_BASE/LAB, which cmd_check has made empty.
grade_lab() {
  local lab=$1 tree=$2 outdir=$3 rerun=$4
  local conf=$ROOT/tests/$lab/lab.conf src=$tree/$lab shown
  local work=$GRADE_BASE/$lab info files ldline f missing=() found ldlibs
  shown=$(display_path "$src")
  # One labtool for both keys: every process started costs about a millisecond here.
  info=$(labtool get "$conf" files ldlibs) || internal "bad $conf"
  { IFS= read -r files; IFS= read -r ldline; } <<<"$info"
  for f in $files; do [ -f "$src/$f" ] || missing+=("$f"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ -d "$src" ]; then
      found=$(cd "$src" && ls -1 2>/dev/null | paste -sd' ')
      echo "missing ${missing[*]} in $shown/ (found: ${found:-nothing}). A submission is exactly these files: $files" >"$work/detail"
    else
      echo "there is no folder $shown/: submit it with the file(s) $files" >"$work/detail"
    fi
    labtool ungraded "$conf" "$lab" not-submitted "$work/detail" "$outdir" "$shown" "$rerun"
    return
  fi

  local cflags=("${CFLAGS_BASE[@]}" "${sanitize_flags[@]}" -I"$ROOT/labs/$lab" -I"$ROOT/common")
  # A class run (IPCLAB_DEBUG_INFO=0) needs no debug information in the student's objects: -g
  # changes no generated code, and without it a compile costs about a third less. Sanitizer
  # reports keep it for their line numbers.
  [ "${IPCLAB_DEBUG_INFO:-1}" = 0 ] && [ -z "${SANITIZE:-}" ] && cflags+=(-g0)
  local objs=() ok=1
  : >"$work/warnings"
  for f in $files; do
    # Relative paths make the compiler's messages readable.
    if ! (cd "$tree" && "$CC" "${cflags[@]}" ${STRICT:+-Werror} -c "$lab/$f" -o "$work/${f%.c}.o") >>"$work/warnings" 2>&1; then
      ok=
    fi
    objs+=("$work/${f%.c}.o")
  done
  local tests_o
  tests_o=$(build_grader_obj "$lab") || exit 3
  read -ra ldlibs <<<"$ldline"
  if [ -n "$ok" ]; then
    # Linking can still fail on the student's side: a missing or duplicate function.
    if ! "$CC" "${cflags[@]}" "${LD_FAST[@]}" "$tests_o" "${objs[@]}" "$LIBGRADER" "${CHECK_LIBS[@]}" \
         "${ldlibs[@]}" "$WRAP" -o "$work/grader" >>"$work/warnings" 2>&1; then
      ok=
    fi
  fi
  if [ -z "$ok" ]; then
    labtool ungraded "$conf" "$lab" compile-error "$work/warnings" "$outdir" "$shown" "$rerun"
    return
  fi
  local only=() tracer=()
  [ -n "${TEST:-}" ] && only=(--only "$TEST")
  # TRACE=1: the grader runs under strace -f; the trace of the test comes before its report.
  [ -n "${TRACE:-}" ] && tracer=(python3 "$ROOT/common/trace.py" "$lab" "$work/trace" --)
  (cd "$work" && IPCLAB_SANITIZE=${SANITIZE:-} "${tracer[@]}" ./grader --lab "$lab" --conf "$conf" --out "$outdir" \
     --dir "$shown" --rerun "$rerun" --warnings "$work/warnings" "${only[@]}")
  local rc=$?
  case $rc in
    0|1) ;;
    2) exit 2 ;;
    130|143) echo "ipclab: interrupted: $lab was not graded, and nothing of the run is left behind" >&2; exit "$rc" ;;
    *) internal "the grader of $lab stopped with status $rc" ;;
  esac
}

tree_tag() {
  local sum
  case $1 in
    "$ROOT/labs") echo labs ;;
    "$ROOT/solutions") echo solutions ;;
    *) sum=$(printf '%s' "$1" | cksum) && echo "tree-${sum%% *}" ;;
  esac
}

display_path() {
  case $1 in "$ROOT"/*) echo "${1#"$ROOT"/}" ;; *) echo "$1" ;; esac
}

# --- merging --------------------------------------------------------------------------------
# merge OUTDIR JSON: report.c joins the per-lab parts and prints the summary; sets TOTAL/MAX.
merge() {
  local outdir=$1 json=$2
  mkdir -p "$(dirname "$json")"
  labtool merge "$outdir" "$json" "${LABS[@]}" || internal "the report could not be written to $(display_path "$json")"
  read -r TOTAL MAX < <(awk '$1 == "lab" {s += $3; m += $4} END {print s + 0, m + 0}' "${json%.json}.sum")
  echo "  report: $(display_path "$json") (also .tap, .xml, and .sum for scripts)"
}

# --- commands -------------------------------------------------------------------------------
setup() {
  need_tools
  build_labtool
  if [ -n "${SANITIZE:-}" ]; then
    case $SANITIZE in
      thread|address|undefined|address,undefined) sanitize_flags=(-fsanitize="$SANITIZE" -fno-omit-frame-pointer) ;;
      *) die "SANITIZE must be thread, address, undefined or address,undefined (got '$SANITIZE')" ;;
    esac
    # LeakSanitizer would report the heap that Check and the runner still hold when each forked
    # test process exits, and turn that exit into a crash of correct code. The leaks that
    # matter here (descriptors, IPC objects, children) are the ledger's job.
    case $SANITIZE in address*) export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" ;; esac
  fi
  build_common
}

resolve_tree() {
  if [ -n "${LABS_DIR:-}" ] && [ -n "${SOLUTIONS:-}" ]; then die "give LABS_DIR or SOLUTIONS=1, not both"; fi
  if [ -n "${SOLUTIONS:-}" ]; then TREE=$ROOT/solutions; return; fi
  if [ -z "${LABS_DIR:-}" ]; then TREE=$ROOT/labs; return; fi
  [ -d "$LABS_DIR" ] || die "LABS_DIR=$LABS_DIR is not a folder"
  TREE=$(cd "$LABS_DIR" && pwd)
  local lab any=
  for lab in $(all_labs); do [ -d "$TREE/$lab" ] && any=1; done
  if [ -z "$any" ]; then
    echo "ipclab: $LABS_DIR holds no lab folder. A submission mirrors labs/, for example:" >&2
    echo "    $LABS_DIR/01-fork-clone/$(labtool get "$ROOT/tests/01-fork-clone/lab.conf" files | cut -d' ' -f1)" >&2
    echo "  found instead: $(ls -1 "$LABS_DIR" 2>/dev/null | head -n 8 | tr '\n' ' ')" >&2
    exit 2
  fi
}

rerun_prefix() {
  local lab=$1
  local p="make check LAB=${lab%%-*}"
  [ -n "${SOLUTIONS:-}" ] && p+=" SOLUTIONS=1"
  [ -n "${LABS_DIR:-}" ] && p+=" LABS_DIR=$LABS_DIR"
  [ -n "${SANITIZE:-}" ] && p+=" SANITIZE=$SANITIZE"
  echo "$p"
}

cmd_check() {
  setup
  resolve_tree
  local selected
  selected=$(select_labs "${LAB:-}") || exit 2
  mapfile -t LABS <<<"$selected"
  [ -n "$selected" ] || die "no labs found under tests/"
  if [ -n "${TEST:-}" ]; then
    local lab keep=()
    for lab in "${LABS[@]}"; do
      labtool tests "$ROOT/tests/$lab/lab.conf" | cut -f1 | grep -qx -- "$TEST" && keep+=("$lab")
    done
    if [ ${#keep[@]} -eq 0 ]; then
      local where="any lab"
      [ -n "${LAB:-}" ] && where="lab $LAB"
      echo "ipclab: no test called '$TEST' in $where. The tests are:" >&2
      for lab in "${LABS[@]}"; do
        labtool tests "$ROOT/tests/$lab/lab.conf" | awk -F'\t' -v l="${lab%%-*}" '{printf "  LAB=%s TEST=%-26s %s\n", l, $1, $3}' >&2
      done
      exit 2
    fi
    LABS=("${keep[@]}")
  fi
  if [ -n "${TRACE:-}" ]; then
    [ -n "${TEST:-}" ] || die "TRACE=1 traces one test: add TEST=name, e.g. make check LAB=04 TEST=filter_no_deadlock TRACE=1"
    "$ROOT/common/deps.sh" strace=strace python3=python3-minimal || exit 2
  fi
  # A run is the student's own when REPORT is not set (scripts, the self-test, make mutants and
  # SUBMISSIONS set it), or when IPCLAB_PROGRESS is given (make watch): only those touch the
  # progress file and end with a pointer to make watch.
  local INTERACTIVE=
  { [ -z "${REPORT:-}" ] || [ -n "${IPCLAB_PROGRESS:-}" ]; } && INTERACTIVE=1
  local json
  # Two runs on one tree (make watch and make check side by side) would empty each other's work
  # folders: the second waits for the first. The lock is on the tree folder itself (nothing to
  # clean up), and goes with this process.
  exec {tree_lock}<"$TREE"
  if ! flock -n "$tree_lock"; then
    echo "ipclab: another make check is grading $(display_path "$TREE")/ right now; waiting for it to end" >&2
    flock "$tree_lock"
  fi
  # The per-lab fragments live under build/; a run killed with SIGKILL leaves its folder, which
  # the next run removes (its pid is in the name).
  local old
  for old in "$BUILD"/tmp/report.*; do
    [ -d "$old" ] && ! kill -0 "${old##*.}" 2>/dev/null && rm -rf "$old"
  done
  OUTDIR=$BUILD/tmp/report.$BASHPID
  rm -rf "$OUTDIR"
  mkdir -p "$OUTDIR" || internal "cannot create $OUTDIR"
  # A submission's build folder (any tree but labs/ and solutions/) goes with the run, so a
  # class leaves no copy of the graders per student behind.
  # Its tag is computed once: a class runs this for every student.
  local tag
  tag=$(tree_tag "$TREE")
  GRADE_BASE=$BUILD/grade/$tag${SANITIZE:+-$SANITIZE}
  GRADE_TMP=
  case $tag in tree-*) GRADE_TMP=$GRADE_BASE ;; esac
  # The traps come after the lock: a run interrupted while it waits has created nothing, and
  # must not remove the work folder of the run it waits for (both use the same one).
  trap 'rm -rf "$OUTDIR" ${GRADE_TMP:+"$GRADE_TMP"}' EXIT
  trap 'rm -rf "$OUTDIR" ${GRADE_TMP:+"$GRADE_TMP"}; trap - INT; kill -INT $$' INT
  trap 'rm -rf "$OUTDIR" ${GRADE_TMP:+"$GRADE_TMP"}; trap - TERM; kill -TERM $$' TERM
  local outdir=$OUTDIR
  json=${REPORT:-$BUILD/report.json}
  case $json in /*) ;; *) json=$PWD/$json ;; esac
  echo "ipclab: grading $(display_path "$TREE")/ (${#LABS[@]} lab(s))${TEST:+, test $TEST}"
  # Every lab's work folder is emptied with one rm and made with one mkdir, not one each.
  local lab works=() old_works=()
  for lab in "${LABS[@]}"; do
    works+=("$GRADE_BASE/$lab")
    [ -e "$GRADE_BASE/$lab" ] && old_works+=("$GRADE_BASE/$lab")
  done
  [ ${#old_works[@]} -eq 0 ] || rm -rf "${old_works[@]}"
  mkdir -p "${works[@]}" || internal "cannot create the work folders under $(display_path "$GRADE_BASE")"
  for lab in "${LABS[@]}"; do
    grade_lab "$lab" "$TREE" "$outdir" "$(rerun_prefix "$lab")"
  done
  merge "$outdir" "$json"
  # Progress counts the student's own attempts at whole labs: not the reference, not one test,
  # not a sanitizer run (its maximum is smaller).
  if [ -n "$INTERACTIVE" ] && [ -z "${SOLUTIONS:-}" ] && [ -z "${TEST:-}" ] && [ -z "${SANITIZE:-}" ] && [ -z "${SUBMISSIONS:-}" ]; then
    labtool progress-update "$PROGRESS" "${json%.json}.sum" || echo "ipclab: could not update $(display_path "$PROGRESS") (the grades above stand)" >&2
    if [ -z "${LAB:-}" ]; then
      local confs=()
      for lab in "${LABS[@]}"; do confs+=("$ROOT/tests/$lab/lab.conf"); done
      labtool progress "$PROGRESS" "${confs[@]}"
    fi
  fi
  result_line "$outdir"
  [ "$TOTAL" -eq "$MAX" ]
}

# The last line of a run: a result, worded so that it never reads like a build failure.
result_line() {
  local outdir=$1 lab score max below=()
  for lab in "${LABS[@]}"; do
    read -r _ _ score max _ <"$outdir/$lab.sum"
    [ "$score" -lt "$max" ] && below+=("${lab%%-*}")
  done
  echo
  if [ ${#below[@]} -eq 0 ]; then
    echo "Result: full marks, $TOTAL/$MAX."
  else
    local list
    list=$(IFS=,; echo "${below[*]}" | sed 's/,/, /g')
    if [ ${#LABS[@]} -gt 1 ] && [ -n "$INTERACTIVE" ] && [ -z "${SOLUTIONS:-}" ]; then
      # Many labs below full marks (a fresh clone: all of them): one lab at a time is the way in.
      echo "Result: $TOTAL/$MAX. ${#below[@]} lab(s) below full marks: $list. One lab at a time: make watch LAB=${below[0]} re-grades it on every save and shows its first failing test."
    else
      echo "Result: $TOTAL/$MAX. ${#below[@]} lab(s) below full marks: $list. Fix the first failing test above, then run the same command again."
    fi
  fi
}

# Everything a run needs before any submission is compiled: tools, the library, every selected
# lab's tests. A class is graded by many processes at once (common/class.sh): they find it built.
cmd_prepare() {
  setup
  local lab selected
  selected=$(select_labs "${LAB:-}") || exit 2
  for lab in $selected; do build_grader_obj "$lab" >/dev/null; done
}

# Builds a program from the lab's own sources (demo.c or bench.c) plus the tree's student files.
build_program() {
  local lab=$1 main=$2 tree=$3 exe=$4 f srcs=() ldlibs
  local conf=$ROOT/tests/$lab/lab.conf
  for f in $(labtool get "$conf" files); do
    [ -f "$tree/$lab/$f" ] || die "$(display_path "$tree/$lab/$f") is missing"
    srcs+=("$tree/$lab/$f")
  done
  mkdir -p "$(dirname "$exe")"
  read -ra ldlibs <<<"$(labtool get "$conf" ldlibs)"
  "$CC" "${CFLAGS_BASE[@]}" ${STRICT:+-Werror} -O2 "${sanitize_flags[@]}" -pthread -I"$ROOT/labs/$lab" -I"$ROOT/common" \
    "$main" "${srcs[@]}" "$ROOT/common/race.c" "${ldlibs[@]}" -lrt -o "$exe" ||
    die "the $(basename "$main" .c) of lab $lab does not compile (see above)"
}

cmd_run() {
  need_tools
  build_labtool
  [ -n "${LAB:-}" ] || die "say which lab's demo to run, e.g. make run LAB=01"
  resolve_tree
  local lab
  lab=$(select_labs "$LAB") || exit 2
  [ "$(echo "$lab" | wc -l)" -eq 1 ] || die "make run takes one lab"
  local exe
  exe=$BUILD/run/$(tree_tag "$TREE")/$lab/demo
  build_program "$lab" "$ROOT/labs/$lab/demo.c" "$TREE" "$exe"
  [ -n "${BUILD_ONLY:-}" ] && return 0
  echo "ipclab: running the demo of $lab (with the code in $(display_path "$TREE")/$lab)"
  # shellcheck disable=SC2086
  exec "$exe" ${ARGS:-}
}

cmd_bench() {
  need_tools
  build_labtool
  [ -n "${LAB:-}" ] || die "say which lab to benchmark, e.g. make bench LAB=04"
  local lab
  lab=$(select_labs "$LAB") || exit 2
  [ -f "$ROOT/tests/$lab/bench.c" ] || die "lab $lab has no benchmark (tests/$lab/bench.c)"
  [ -n "${LABS_DIR:-}" ] || [ -n "${SOLUTIONS:-}" ] || SOLUTIONS=1 # measure the reference by default
  resolve_tree
  local exe
  exe=$BUILD/bench/$(tree_tag "$TREE")/$lab/bench
  build_program "$lab" "$ROOT/tests/$lab/bench.c" "$TREE" "$exe"
  # shellcheck disable=SC2086
  exec "$exe" ${ARGS:-}
}

# timeout-scale N: how much the time limits of a test grow when N busy processes share this
# machine's cores (ceil(N / cores), at most 10). A class run and make test-repeat both ask here.
cmd_timeout_scale() {
  local n=${1:-} s
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "timeout-scale needs a positive number of processes (got '$n')"
  s=$(((n + $(nproc) - 1) / $(nproc)))
  echo $((s > 10 ? 10 : s))
}

case ${1:-check} in
  timeout-scale) cmd_timeout_scale "${2:-}" ;;
  check) if [ -n "${SUBMISSIONS:-}" ]; then exec "$ROOT/common/class.sh"; else cmd_check; fi ;;
  prepare) cmd_prepare ;;
  labs-selected) need_tools; build_labtool; select_labs "${LAB:-}" ;;
  run) cmd_run ;;
  bench) cmd_bench ;;
  labs) need_tools; build_labtool; list_labs ;;
  *) die "unknown command '$1' (check, run, bench, labs)" ;;
esac
