#!/usr/bin/env bash
# studenttest.sh: the self-test of the student's loop (hint levels, progress, make watch in tmux, TRACE=1).
#   common/studenttest.sh WORKDIR LAB...   prints "ok ..." and "FAIL ..." lines; exit 1 on any FAIL.
# make test runs it (its section "Student loop"); it never touches build/progress.json or build/hints.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
LABTOOL=$BUILD/common/labtool
WORK=${1:?usage: studenttest.sh WORKDIR LAB...}
shift
LABS=("$@")
fails=0
ok() { printf 'ok %s\n' "$*"; }
bad() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
has_lab() { local l; for l in "${LABS[@]}"; do [ "${l%%-*}" = "$1" ] && return 0; done; return 1; }
mkdir -p "$WORK"
export IPCLAB_HINTS_DIR=$WORK/hints IPCLAB_PROGRESS=$WORK/progress.json
rm -rf "$IPCLAB_HINTS_DIR" "$IPCLAB_PROGRESS"

# --- hint levels ------------------------------------------------------------------------------
for lab in "${LABS[@]}"; do
  conf=$ROOT/tests/$lab/lab.conf
  if err=$("$LABTOOL" lint "$conf" 2>&1); then
    ok "$lab: every test has at least 2 hint levels ($(awk '/^hint[0-9]*:/' "$conf" | wc -l) hints for $(grep -c '^test:' "$conf") tests)"
  else
    bad "$lab: $err"
  fi
done
# The check must be able to fail: the first test of lab 01 with its second level taken out.
conf=$ROOT/tests/01-fork-clone/lab.conf
awk '/^test:/{n++} n==1 && /^hint2:/{skip=1; next} skip && /^[ \t]/{next} {skip=0; print}' "$conf" >"$WORK/one-level.conf"
if "$LABTOOL" lint "$WORK/one-level.conf" >/dev/null 2>&1; then
  bad "labtool lint accepted a test with a single hint level ($WORK/one-level.conf)"
elif "$LABTOOL" check "$WORK/one-level.conf" 2>/dev/null; then
  ok "a test with one hint level fails the lint, and still loads (old single hint: is level 1)"
else
  bad "a lab.conf with a single hint: no longer loads"
fi

# make check shows level 1, then the levels asked for with make hint.
first=$("$LABTOOL" tests "$conf" | head -n 1 | cut -f1)
LAB=01 TEST=$first REPORT=$WORK/hint1.json "$ROOT/common/ipclab.sh" check >"$WORK/hint1.log" 2>&1
LAB=01 TEST=$first "$ROOT/common/student.sh" hint >"$WORK/hint-cmd.log" 2>&1
LAB=01 TEST=$first REPORT=$WORK/hint2.json "$ROOT/common/ipclab.sh" check >"$WORK/hint2.log" 2>&1
if grep -q 'hint 1/' "$WORK/hint1.log" && ! grep -q 'hint 2/' "$WORK/hint1.log" &&
   grep -q "next hint: make hint LAB=01 TEST=$first" "$WORK/hint1.log" &&
   grep -q 'hint 2/' "$WORK/hint-cmd.log" && grep -q 'hint 2/' "$WORK/hint2.log" &&
   grep -q '"hints":\["[^"]*","' "$WORK/hint2.json"; then
  ok "make check shows hint 1 of $first; after make hint it shows hints 1 and 2 (text and JSON)"
else
  bad "hint levels in make check (see $WORK/hint1.log, hint-cmd.log, hint2.log)"
fi

# --- progress ---------------------------------------------------------------------------------
printf 'lab 01-fork-clone 10 26 graded 0.5\nlab 02-shm-race 0 40 compile-error 0.1\n' >"$WORK/a.sum"
printf 'lab 01-fork-clone 26 26 graded 0.5\n' >"$WORK/b.sum"
printf 'lab 01-fork-clone 3 26 graded 0.5\n' >"$WORK/c.sum"
for s in a b c; do "$LABTOOL" progress-update "$IPCLAB_PROGRESS" "$WORK/$s.sum" || bad "progress-update $s failed"; done
line=$(grep '"01-fork-clone"' "$IPCLAB_PROGRESS")
if [[ $line == *'"best":26,"max":26,"last":3,"attempts":3,'* ]] && [[ $line =~ \"completed\":\"20[0-9-]+T ]] &&
   grep -q '"02-shm-race":{"best":0,"max":40,"last":0,"attempts":1' "$IPCLAB_PROGRESS"; then
  ok "progress keeps the best score, the last, the attempts and the completion time"
else
  bad "progress file: $(tr '\n' ' ' <"$IPCLAB_PROGRESS")"
fi
"$ROOT/common/student.sh" progress >"$WORK/progress.log" 2>&1
if grep -Eq '^  01-fork-clone +26/26 +3 +3 +20' "$WORK/progress.log" && grep -q 'next: make watch LAB=02' "$WORK/progress.log"; then
  ok "make progress prints the table and points at the next lab (02)"
else
  bad "make progress: $(cat "$WORK/progress.log")"
fi
# A scripted run (REPORT set, no IPCLAB_PROGRESS) leaves the student's progress alone.
real=$BUILD/progress.json
before=$(cat "$real" 2>/dev/null || echo none)
env -u IPCLAB_PROGRESS LAB=01 REPORT=$WORK/scripted.json "$ROOT/common/ipclab.sh" check >/dev/null 2>&1
if [ "$before" = "$(cat "$real" 2>/dev/null || echo none)" ]; then ok "a scripted make check (REPORT=...) records no progress"
else bad "a scripted run (REPORT=...) changed $real"; fi

[ "$fails" -eq 0 ]
