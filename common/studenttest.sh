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
# The check must be able to fail: the first test of lab 01 with only its first level left.
conf=$ROOT/tests/01-fork-clone/lab.conf
awk '/^test:/{n++} n==1 && /^hint[23]:/{skip=1; next} skip && /^[ \t]/{next} {skip=0; print}' "$conf" >"$WORK/one-level.conf"
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

# What a student's code prints may be any bytes; the JSON report must stay valid UTF-8 JSON.
mkdir -p "$WORK/bytes"
cp -r "$ROOT/labs/01-fork-clone" "$WORK/bytes/"
sed -i '/^pid_t spawn_fork(/,/^{/ s/^{$/{ fputs("bytes: \\377\\376 \\303\\251\\n", stdout); fflush(stdout);/' "$WORK/bytes/01-fork-clone/forkclone.c"
LAB=01 TEST=spawn_runs_program LABS_DIR="$WORK/bytes" REPORT="$WORK/bytes.json" "$ROOT/common/ipclab.sh" check >"$WORK/bytes.log" 2>&1
if python3 -c 'import json, sys; t = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))["labs"][0]["tests"][0]; sys.exit("\ufffd\ufffd \u00e9" not in t["output"])' "$WORK/bytes.json"; then
  ok "output that is not UTF-8 reaches the JSON report as U+FFFD, and valid UTF-8 stays as it is"
else
  bad "the JSON report of output with invalid UTF-8 (see $WORK/bytes.json, $WORK/bytes.log)"
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
env -u IPCLAB_PROGRESS LAB=01 REPORT="$WORK/scripted.json" "$ROOT/common/ipclab.sh" check >/dev/null 2>&1
mkdir -p "$WORK/inbox/alice/01-fork-clone"
cp "$ROOT/solutions/01-fork-clone/forkclone.c" "$WORK/inbox/alice/01-fork-clone/"
env -u IPCLAB_PROGRESS SUBMISSIONS="$WORK/inbox" "$ROOT/common/ipclab.sh" check >"$WORK/inbox.log" 2>&1
if [ "$before" = "$(cat "$real" 2>/dev/null || echo none)" ]; then ok "a scripted make check (REPORT=...) and SUBMISSIONS=... record no progress"
else bad "a scripted run (REPORT=... or SUBMISSIONS=...) changed $real"; fi

# A first make check over several labs (a fresh clone: nothing passes) ends pointing at make watch.
if has_lab 01; then
  LAB=01,02 "$ROOT/common/ipclab.sh" check >"$WORK/fresh.log" 2>&1
  last=$(tail -n 1 "$WORK/fresh.log")
  if [[ $last == Result:*"make watch LAB=01"* ]]; then ok "make check on unsolved labs ends with: ...${last##*below full marks: }"
  else bad "make check on unsolved labs 01,02 ends with: $last"; fi
fi

# Two checks of one tree take turns; the one that waits, stopped while it waits, must leave the
# other's work folder alone (both grade in the same one).
if has_lab 01; then
  rm -rf "$WORK/turns" && mkdir -p "$WORK/turns/tree"
  cp -r "$ROOT/solutions/01-fork-clone" "$WORK/turns/tree/"
  turn() { LAB=01 LABS_DIR=$WORK/turns/tree REPORT=$WORK/turns/$1.json "$ROOT/common/ipclab.sh" check >"$WORK/turns/$1.log" 2>&1; }
  turn first & first=$!
  for _ in $(seq 100); do grep -q 'ipclab: grading' "$WORK/turns/first.log" 2>/dev/null && break; sleep 0.1; done
  turn second & second=$!
  for _ in $(seq 100); do grep -q 'another make check is grading' "$WORK/turns/second.log" 2>/dev/null && break; sleep 0.1; done
  waited=$(grep -c 'another make check is grading' "$WORK/turns/second.log")
  kill -TERM "$second" 2>/dev/null
  wait "$second"; rc2=$?
  wait "$first"
  if [ "$waited" = 1 ] && [ "$rc2" = 143 ] && grep -q 'Result: full marks' "$WORK/turns/first.log"; then
    ok "a second make check of the same tree waits its turn; stopped while waiting (status 143), it leaves the first one's work alone"
  else
    bad "two checks of one tree: the second waited: $waited, its status on TERM: $rc2 (want 143), the first: $(tail -n 1 "$WORK/turns/first.log") (see $WORK/turns/)"
  fi
fi

# --- make watch, driven in tmux as a student would ------------------------------------------
# screen: what the watch pane shows now. wait_for TEXT SECONDS: until the pane shows TEXT.
# A private tmux server whose socket lives in our folder: nothing of it is left in /tmp.
TMUX_SOCK=$WORK/tmux.sock
tmx() { tmux -S "$TMUX_SOCK" "$@"; }
screen() { tmx capture-pane -p -t watch 2>/dev/null; }
wait_for() {
  local deadline=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    screen | grep -q -- "$1" && return 0
    sleep 0.05
  done
  return 1
}
# Our processes: anything whose command line names this run's folder, and the watcher itself.
ours() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
    case $cmd in "tmux "*) ;; *"$WORK/"*|*watch.py*) echo "${p#/proc/} $cmd" ;; esac
  done
}

# watch_run NAME POLL: starts make watch on a copy of labs/ in an 80x24 tmux pane.
watch_run() {
  local name=$1 poll=$2 tree=$WORK/$1/labs
  rm -rf "${WORK:?}/$name"
  mkdir -p "$WORK/$name"
  cp -r "$ROOT/labs" "$tree"
  (cd "$tree" && find . -type f | sort) >"$WORK/$name/files.before"
  rm -f "$IPCLAB_PROGRESS"
  tmx kill-server 2>/dev/null
  # The pane's shell outlives a Ctrl-C, as an interactive shell would (a trap, not an ignore:
  # make and the watch get the default action back at exec).
  tmx -f /dev/null new-session -d -s watch -x 80 -y 24 \
    "bash -c \"trap : INT; env LABS_DIR='$tree' LAB=01 WATCH_POLL='$poll' NO_COLOR=1 IPCLAB_PROGRESS='$IPCLAB_PROGRESS' \
       IPCLAB_HINTS_DIR='$WORK/$name/hints' make -s -C '$ROOT' watch; echo \\\$? >'$WORK/$name/rc'; exec sleep 600\""
}

# watch_quit NAME KEY: q must end with status 0; Ctrl-C (C-c) may not, but must clean up too.
watch_quit() {
  local name=$1 key=$2
  tmx send-keys -t watch "$key"
  for _ in $(seq 100); do [ -f "$WORK/$name/rc" ] && break; sleep 0.1; done
  screen >"$WORK/$name/after-q.txt"
  # Looked for while the terminal is still open: closing it would hang up what was left.
  sleep 0.3
  local left files
  left=$(ours)
  tmx kill-server 2>/dev/null
  rm -f "$TMUX_SOCK"
  if [ ! -f "$WORK/$name/rc" ] || { [ "$key" = q ] && [ "$(cat "$WORK/$name/rc")" != 0 ]; }; then
    bad "$name: $key did not end make watch (status 0 for q; rc: $(cat "$WORK/$name/rc" 2>/dev/null || echo none))"
    return
  fi
  files=$(diff <(cd "$WORK/$name/labs" && find . -type f | sort) "$WORK/$name/files.before"; ls -d "$BUILD"/tmp/watch.* 2>/dev/null)
  if [ -z "$left" ] && [ -z "$files" ]; then ok "$name: $key quits (status $(cat "$WORK/$name/rc")), no process and no file left behind"
  else bad "$name: left behind after q: $left $files"; fi
}

# A typo in LAB is said at once, terminal or not, and leaves nothing.
if LAB=99 "$ROOT/common/student.sh" watch </dev/null >"$WORK/typo.log" 2>&1; then bad "make watch LAB=99 did not fail"
elif grep -q "no lab '99'" "$WORK/typo.log" && ! ls -d "$BUILD"/tmp/watch.* >/dev/null 2>&1; then ok "make watch LAB=99: a clear error, nothing left"
else bad "make watch LAB=99: $(cat "$WORK/typo.log")"; fi

if ! err=$("$ROOT/common/deps.sh" tmux=tmux inotifywait=inotify-tools 2>&1); then
  bad "make watch is not tested: $err"
elif has_lab 01; then
  watch_run inotify ""
  if wait_for 'FAIL 0/' 60 && screen | grep -q '0/26 points' && screen | grep -q '| inotify'; then
    ok "inotify: make watch opens lab 01 on the skeleton, first failing test in full (80x24, NO_COLOR)"
  else
    bad "inotify: no failing lab 01 on screen: $(screen | head -n 5 | tr '\n' '|')"
  fi
  tmx send-keys -t watch h
  sleep 0.3
  tmx send-keys -t watch h
  if wait_for 'hint 2/' 5 && screen | grep -q 'hint 1/'; then ok "inotify: h twice shows two hint levels"
  else bad "inotify: after h h the screen shows no second hint level"; fi
  # t: the trace of the first failing test, then any key goes back.
  tmx send-keys -t watch t
  if wait_for '== trace of this test' 60 && screen | grep -q 'trace of the first failing test'; then
    tmx send-keys -t watch x
    if wait_for 'FAIL 0/' 10; then ok "inotify: t shows the trace of the first failing test, a key goes back"
    else bad "inotify: after the trace, a key did not go back to the lab"; fi
  else
    bad "inotify: t showed no trace: $(screen | head -n 5 | tr '\n' '|')"
  fi
  # A save that does not compile: the compiler's first error, on screen.
  printf 'int broken(void) { return nope; }\n' >>"$WORK/inotify/labs/01-fork-clone/forkclone.c"
  if wait_for 'DOES NOT COMPILE' 30 && screen | grep -q "error: .*nope.* undeclared"; then ok "inotify: a save that does not compile shows the compiler's first error"
  else bad "inotify: no compile error on screen: $(screen | head -n 8 | tr '\n' '|')"; fi
  t0=$(date +%s%N)
  cp "$ROOT/solutions/01-fork-clone/forkclone.c" "$WORK/inotify/labs/01-fork-clone/forkclone.c"
  if wait_for '26/26 points' 30; then
    figure=$(( ($(date +%s%N) - t0) / 1000000 ))
    shown=$(screen | grep -o 'save -> result [0-9.]* s')
    ok "inotify: full marks on screen $figure ms after the save (as seen by tmux; the watch says: ${shown:-nothing})"
  else
    bad "inotify: no full marks 30 s after copying the solution in: $(screen | head -n 6 | tr '\n' '|')"
  fi
  # A save during a run restarts it: save a version whose reap() never returns (its run lasts
  # seconds: a broken file's run could end before the next save), then the solution.
  hang=$WORK/hang-variant
  rm -rf "$hang" && cp -r "$ROOT/solutions/01-fork-clone" "$hang" &&
    patch -s -p1 -d "$hang" <"$ROOT/tests/01-fork-clone/buggy/hostile-hang.patch"
  cp "$hang/forkclone.c" "$WORK/inotify/labs/01-fork-clone/forkclone.c"
  if wait_for 'grading\.\.\.' 20; then
    cp "$ROOT/solutions/01-fork-clone/forkclone.c" "$WORK/inotify/labs/01-fork-clone/forkclone.c"
    if wait_for 'restarted' 20 && wait_for 'graded in' 30 && screen | grep -q '26/26 points'; then
      ok "inotify: a save during a run restarts it, and the last save's result is shown"
    else
      bad "inotify: no restart after a save during a run: $(screen | head -n 3 | tr '\n' '|')"
    fi
  else
    bad "inotify: the save that breaks the file started no run"
  fi
  tmx send-keys -t watch n
  if wait_for 'Lab 02' 10; then ok "inotify: n opens lab 02"; else bad "inotify: n did not open lab 02"; fi
  wait_for 'graded in' 60
  tmx send-keys -t watch r
  if wait_for 'grading\.\.\.' 10 && wait_for 'graded in' 60; then ok "inotify: r re-runs the lab"
  else bad "inotify: r started no run"; fi
  tmx send-keys -t watch l
  if wait_for 'Labs: j/k' 10 && screen | grep -Eq '01-fork-clone +26/26 +done' && screen | grep -Eq '> 02-shm-race'; then
    tmx send-keys -t watch q
    if wait_for 'ipclab watch  Lab 02' 10; then ok "inotify: l lists the labs (01 done, 26/26; 02 selected), q goes back"
    else bad "inotify: q in the list did not go back"; fi
  else
    bad "inotify: l shows no list of labs: $(screen | head -n 4 | tr '\n' '|')"
  fi
  watch_quit inotify q

  watch_run poll 1
  if wait_for 'FAIL 0/' 60 && screen | grep -q 'polling every'; then ok "polling: WATCH_POLL=1 says it polls, and grades the skeleton"
  else bad "polling: $(screen | head -n 4 | tr '\n' '|')"; fi
  t0=$(date +%s%N)
  cp "$ROOT/solutions/01-fork-clone/forkclone.c" "$WORK/poll/labs/01-fork-clone/forkclone.c"
  if wait_for '26/26 points' 30; then
    ok "polling: full marks on screen $(( ($(date +%s%N) - t0) / 1000000 )) ms after the save"
  else
    bad "polling: no full marks 30 s after copying the solution in"
  fi
  watch_quit poll C-c
fi

# --- TRACE=1 on lab 04's write-then-read variant: the blocked write, and who holds the read end --
if has_lab 04; then
  if ! err=$("$ROOT/common/deps.sh" strace=strace patch=patch 2>&1); then
    bad "TRACE=1 is not tested: $err"
  else
    tree=$WORK/trace/labs
    rm -rf "$WORK/trace"
    mkdir -p "$tree"
    cp -r "$ROOT/solutions/04-pipe-backpressure" "$tree/"
    (cd "$tree/04-pipe-backpressure" && patch -s -p1 <"$ROOT/tests/04-pipe-backpressure/buggy/filter-write-then-read.patch")
    # strace slows every traced call: on a machine so loaded that the test itself timed out
    # (TIME) before it could deadlock, there is nothing to see, so that case is run once more.
    for _ in 1 2; do
      LAB=04 TEST=filter_no_deadlock TRACE=1 LABS_DIR=$tree REPORT="$WORK/trace/report.json" \
        "$ROOT/common/ipclab.sh" check >"$WORK/trace/out.txt" 2>&1
      grep -q '^  TIME ' "$WORK/trace/out.txt" || break
    done
    # The first screen (24 lines) of what the student sees.
    head -n 24 "$WORK/trace/out.txt" >"$WORK/trace/screen.txt"
    if grep -Eq 'pid [0-9]+ \(your test\): write\([0-9]+<pipe:\[[0-9]+\]>.*= \?' "$WORK/trace/screen.txt" &&
       grep -Eq 'its read end is held by pid [0-9]+ \(cat\) fd 0' "$WORK/trace/screen.txt" &&
       grep -q 'deadlock' "$WORK/trace/screen.txt"; then
      ok "TRACE=1 on 04 filter-write-then-read: the blocked write, cat holding the read end and the deadlock, in the first 24 lines"
    else
      bad "TRACE=1 on 04 filter-write-then-read: the first screen lacks the blocked write or its reader (see $WORK/trace/out.txt)"
    fi
    # Where strace cannot run (no ptrace), the kernel's own view: a stand-in strace that fails.
    mkdir -p "$WORK/trace/nostrace"
    printf '#!/bin/sh\necho "strace: ptrace(PTRACE_SEIZE): Operation not permitted" >&2\nexit 1\n' >"$WORK/trace/nostrace/strace"
    chmod +x "$WORK/trace/nostrace/strace"
    PATH=$WORK/trace/nostrace:$PATH LAB=04 TEST=filter_no_deadlock TRACE=1 LABS_DIR=$tree REPORT="$WORK/trace/kernel.json" \
      "$ROOT/common/ipclab.sh" check >"$WORK/trace/kernel.txt" 2>&1
    if grep -q "the kernel's own view instead" "$WORK/trace/kernel.txt" &&
       grep -Eq 'its read end is held by pid [0-9]+ \(cat\) fd 0' "$WORK/trace/kernel.txt" &&
       grep -q 'deadlock' "$WORK/trace/kernel.txt" && grep -q '^  FAIL .*filter_no_deadlock' "$WORK/trace/kernel.txt"; then
      ok "TRACE=1 without ptrace: the kernel's view shows both blocked writes, cat holding the read end, the deadlock"
    else
      bad "TRACE=1 without ptrace (see $WORK/trace/kernel.txt)"
    fi
    # The same test on the reference solution: nothing blocks, so no deadlock is claimed.
    LAB=04 TEST=filter_no_deadlock TRACE=1 SOLUTIONS=1 REPORT="$WORK/trace/ref.json" \
      "$ROOT/common/ipclab.sh" check >"$WORK/trace/ref.txt" 2>&1
    if grep -q '== trace of this test' "$WORK/trace/ref.txt" && ! grep -q 'deadlock:' "$WORK/trace/ref.txt" &&
       grep -q 'Result: full marks' "$WORK/trace/ref.txt"; then
      ok "TRACE=1 on the reference solution: a trace, full marks, and no deadlock claimed"
    else
      bad "TRACE=1 on the reference solution (see $WORK/trace/ref.txt)"
    fi
  fi
fi

[ "$fails" -eq 0 ]
