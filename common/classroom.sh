#!/usr/bin/env bash
# classroom.sh: GitHub Classroom: `workflow` writes the autograding workflow (make classroom); `grade` runs in it and emits the runner result.
#
#   classroom.sh workflow [DIR]   writes DIR/.github/workflows/classroom.yml (default build/classroom)
#                                 LAB=04 grades one lab (several: LAB=03,04); default every lab
#   classroom.sh grade            grades (LAB=, LABS_DIR=, REPORT= as for make check), prints the usual
#                                 report inside a ::stop-commands:: block, and writes
#                                 result=<base64 runner result> to $GITHUB_OUTPUT (else to stdout)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
die() { echo "ipclab: $*" >&2; exit 2; }

workflow() {
  local dir=${1:-$BUILD/classroom} lab=${LAB:-}
  [[ $lab =~ ^[A-Za-z0-9,\ -]*$ ]] || die "LAB=$lab: only lab numbers or names, comma separated"
  local w d hit
  for w in ${lab//,/ }; do
    # The same lab names make check accepts; an unknown one is refused now, not on the runner.
    hit=
    for d in "$ROOT"/tests/[0-9][0-9]-*/; do
      d=$(basename "$d")
      if [ "$w" = "$d" ] || [ "$w" = "${d#*-}" ] || { [[ $w =~ ^[0-9]+$ ]] && [ "$((10#$w))" = "$((10#${d%%-*}))" ]; }; then hit=1; fi
    done
    [ -n "$hit" ] || die "there is no lab '$w'. The labs are: $(cd "$ROOT/tests" && printf '%s ' [0-9][0-9]-*)"
  done
  local out=$dir/.github/workflows/classroom.yml
  mkdir -p "$(dirname "$out")" || die "cannot create $(dirname "$out")"
  PART=$out.part # global: the trap runs after this function returns
  trap 'rm -f "$PART"' EXIT
  # The names are the ones Classroom requires (workflow, job, reporter's runner and env).
  cat >"$out.part" <<EOF
# classroom.yml: GitHub Classroom autograding for the IPC lab (written by make classroom; commit it to the template repository).
# Classroom reads only a workflow named "Autograding Tests" with the one job "run-autograding-tests".
name: Autograding Tests
'on': [push, repository_dispatch, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Install the grader's packages
        run: sudo common/deps.sh cc=gcc file:/usr/include/stdio.h=libc6-dev make=make pkg-config=pkg-config pc:check=check python3=python3
      # As root the grader needs no user namespace (Ubuntu 24.04 restricts them), and each test
      # runs as uid 65534 under a fork limit. Student output is printed between stop-commands.
      - name: Grade
        id: ipclab
        run: sudo env "PATH=\$PATH" "GITHUB_OUTPUT=\$GITHUB_OUTPUT" IPCLAB_BUILD=/tmp/ipclab-build LAB='$lab' common/classroom.sh grade
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          IPCLAB_RESULTS: "\${{steps.ipclab.outputs.result}}"
        with:
          runners: ipclab
EOF
  mv -f "$out.part" "$out"
  echo "ipclab: wrote $out (labs: ${lab:-all})"
  echo "  copy .github/ into the template repository of the assignment; each Check test reaches Classroom with its own points."
}

grade() {
  local gh_out=${GITHUB_OUTPUT:-} tok rc
  # Nothing the lab code can see names a runner command file: the result is written after it ends.
  unset GITHUB_OUTPUT GITHUB_ENV GITHUB_PATH GITHUB_STEP_SUMMARY GITHUB_STATE
  "$ROOT/common/deps.sh" python3=python3 || exit 2
  W=$(mktemp -d /tmp/ipclab-classroom.XXXXXX) || die "no temporary folder"
  trap 'rm -rf "$W"' EXIT
  chmod 700 "$W"
  if [ "$(id -u)" -eq 0 ]; then
    # The grader runs tests as uid 65534 only where it can run the binary and has no pids cgroup.
    mkdir -p "$BUILD" && chmod 711 "$BUILD"
  fi
  hide=()
  if [ "$(id -u)" -eq 0 ] && unshare --mount --propagation private -- true 2>/dev/null; then
    hide=(unshare --mount --propagation private -- sh -c 'mount -t tmpfs -o ro none /sys/fs/cgroup 2>/dev/null; exec "$@"' sh)
  fi
  # A random token nobody can print in advance: until it comes back, the runner runs no command
  # that lab code prints (a fake "::notice title=Autograding complete::" stays text).
  tok=ipclab-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  echo "::stop-commands::$tok"
  "${hide[@]}" env REPORT="$W/report.json" IPCLAB_BUILD="$BUILD" "$ROOT/ipclab" check </dev/null 2>&1
  rc=$?
  echo "::$tok::"
  python3 "$ROOT/common/classroom.py" "$W/report.json" "$W/runner.json" || die "classroom.py failed"
  [ -z "${REPORT:-}" ] || cp "$W/report.json" "$REPORT" 2>/dev/null # REPORT=path keeps the JSON report
  [ "$rc" -le 1 ] || echo "::error title=ipclab::the grader could not grade (exit $rc): see the log above"
  local b64
  b64=$(base64 -w0 <"$W/runner.json")
  if [ -n "$gh_out" ]; then
    echo "result=$b64" >>"$gh_out"
  else
    echo "result=$b64"
  fi
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("runner result: %s, %d/%d points over %d tests" % (r["status"], sum(t["score"] for t in r["tests"]), r["max_score"], len(r["tests"])))' "$W/runner.json"
}

case ${1:-} in
  workflow) shift; workflow "$@" ;;
  grade) grade ;;
  *) echo "usage: common/classroom.sh workflow [DIR] | grade" >&2; exit 2 ;;
esac
