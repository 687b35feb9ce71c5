#!/usr/bin/env bash
# student.sh: the student's loop around make check: `make hint`, `make progress` and `make watch`.
#
#   hint      LAB=NN TEST=name [LEVEL=n]   show the next hint level of a test (make check shows them too)
#   progress                                 the table of build/progress.json: best score, attempts, completion
#   watch     [LAB=NN] [WATCH_POLL=1]        re-grade the lab on every save, one screen (common/watch.py)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
LABTOOL=$BUILD/common/labtool
export IPCLAB_HINTS_DIR=${IPCLAB_HINTS_DIR:-$BUILD/hints}
export IPCLAB_PROGRESS=${IPCLAB_PROGRESS:-$BUILD/progress.json}

die() { echo "ipclab: $*" >&2; exit 2; }

# Builds labtool (and checks the tools) through the driver, and lists the labs: "NN slug title".
labs() { "$ROOT/common/ipclab.sh" labs; }

# One lab, spelled 01, 1, fork-clone or 01-fork-clone, as make check takes it.
one_lab() {
  local want=$1 listing lab n found=
  listing=$(labs) || exit 2
  while read -r n lab _; do
    if [ "$want" = "$lab" ] || [ "$want" = "${lab#*-}" ] || { [[ $want =~ ^[0-9]+$ ]] && [ "$((10#$want))" = "$((10#$n))" ]; }; then
      found=$lab
    fi
  done <<<"$listing"
  [ -n "$found" ] || { echo "ipclab: there is no lab '$want'. The labs are:" >&2; echo "$listing" >&2; exit 2; }
  echo "$found"
}

cmd_hint() {
  { [ -n "${LAB:-}" ] && [ -n "${TEST:-}" ]; } || die "say which test, e.g. make hint LAB=01 TEST=clone_runs_fn (every failure in make check names its test)"
  local lab
  lab=$(one_lab "$LAB") || exit 2
  mkdir -p "$BUILD" || die "cannot create $BUILD"
  "$LABTOOL" hint "$ROOT/tests/$lab/lab.conf" "$lab" "$IPCLAB_HINTS_DIR" "$TEST" ${LEVEL:+"$LEVEL"}
}

cmd_progress() {
  local confs=() lab
  labs >/dev/null || exit 2
  for lab in $(labs | awk '{print $2}'); do confs+=("$ROOT/tests/$lab/lab.conf"); done
  "$LABTOOL" progress "$IPCLAB_PROGRESS" "${confs[@]}"
}

cmd_watch() {
  # python3-minimal lacks termios and json: ask for the full python3 when either is missing.
  if ! python3 -c 'import json, termios' 2>/dev/null; then
    local v
    v=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
    "$ROOT/common/deps.sh" python3=python3 ${v:+"file:/usr/lib/python$v/json/__init__.py=python3"} || exit 2
    python3 -c 'import json, termios' 2>/dev/null || die "python3 lacks json or termios even after installing python3"
  fi
  labs >/dev/null || exit 2
  # inotify-tools as root; anyone else gets the install line, and make watch polls meanwhile.
  if ! command -v inotifywait >/dev/null 2>&1 && ! "$ROOT/common/deps.sh" inotifywait=inotify-tools; then
    echo "ipclab: make watch polls for saves until then (the screen says so)" >&2
    sleep 2
  fi
  exec python3 "$ROOT/common/watch.py" "$@"
}

case ${1:-} in
  hint) cmd_hint ;;
  progress) cmd_progress ;;
  watch) shift; cmd_watch "$@" ;;
  *) die "unknown command '${1:-}' (hint, progress, watch)" ;;
esac
