#!/usr/bin/env bash
# class.sh: `make check SUBMISSIONS=dir`: grades a whole class in parallel and resumably, then writes the gradebook.
#
#   SUBMISSIONS=dir  every folder in dir is one student, whatever its name. A student's .c files may
#                    sit in lab folders (alice/04-pipe-backpressure/pipes_lab.c), flat (alice/pipes_lab.c),
#                    or a few folders down (alice/ipclab-main/labs/04-.../pipes_lab.c); other files are ignored.
#   JOBS=N           students graded at once (default: 8 per core; most of a test's time is waiting, not CPU;
#                    tests' timeouts grow by JOBS per core, see probe_bound in probes.c)
#   LAB=04,05        only these labs (one assignment)
#   FRESH=1          grade everyone again; by default a student whose files and graders have not
#                    changed since the last run keeps that grade, so an interrupted run resumes
#   CLASS_OUT=dir    where the results go (default build/submissions)
#   HOSTS=h1,h2      grade on these machines (GNU parallel --sshlogin syntax); each has the repository
#                    at HOSTS_ROOT (default: the same path as here). IPCLAB_SSH replaces ssh (the
#                    self-test uses common/loopback-ssh).
# Writes CLASS_OUT/grades.csv, grades.json, index.html (the class report) and, per student,
# students/<name>/feedback.html, report.json (.tap, .xml, .sum), log.txt and the files graded.
# Exit status: 0 every student full marks, 1 some below, 2 bad input, 130/143 interrupted.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
IPCLAB=$ROOT/common/ipclab.sh
OUT=${CLASS_OUT:-$BUILD/submissions}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

die() { echo "ipclab: $*" >&2; exit 2; }

[ -d "$SUBMISSIONS" ] || die "SUBMISSIONS=$SUBMISSIONS is not a folder"
SUB=$(cd "$SUBMISSIONS" && pwd)
JOBS_GIVEN=${JOBS:-}
JOBS=${JOBS:-$(($(nproc) * 8))}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a number of students graded at once (got '$JOBS')"
# More students than cores share each core: a test then needs more wall time for the same work,
# so its timeout (a bound on hangs, never a measure of speed) grows by the sharing.
SCALE=$("$ROOT/common/ipclab.sh" timeout-scale "$JOBS") || exit 2
# The report pages and the gradebook are written by Python (json, csv, html: the full stdlib).
"$ROOT/common/deps.sh" py:json=python3 || exit 2
# Tools, the library and the graders, built once here: the students' runs only compile their own files.
env -u SUBMISSIONS "$IPCLAB" prepare || exit $?

# The labs to grade and the files each one takes.
mapfile -t LABS < <(env -u SUBMISSIONS "$IPCLAB" labs | awk '{print $2}')
if [ -n "${LAB:-}" ]; then
  sel=$(env -u SUBMISSIONS LAB="$LAB" "$IPCLAB" labs-selected) || exit 2
  mapfile -t LABS <<<"$sel"
fi
declare -A FILES
for lab in "${LABS[@]}"; do FILES[$lab]=$("$BUILD/common/labtool" get "$ROOT/tests/$lab/lab.conf" files); done
LABSEL=$(IFS=,; echo "${LABS[*]}")

# A grade stays valid while the graders, headers, library and settings that produced it are the same.
VERSION=$(cat "$ROOT"/tests/*/lab.conf "$ROOT"/tests/*/grader.c "$ROOT"/labs/*/*.h "$ROOT"/common/*.[ch] \
  "$ROOT"/common/ipclab.sh | sha256sum | cut -c1-16)-$LABSEL-${SANITIZE:-}

# The students: every folder of SUB (hidden ones aside), sorted the same way on every machine.
mapfile -d '' STUDENTS < <(find "$SUB" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\0' | LC_ALL=C sort -z)
mapfile -d '' STRAY < <(find "$SUB" -mindepth 1 -maxdepth 1 ! -type d ! -name '.*' -printf '%f\0' | LC_ALL=C sort -z)
if [ ${#STUDENTS[@]} -eq 0 ]; then
  echo "ipclab: SUBMISSIONS=$SUBMISSIONS has no student folders. Expected one folder per student, e.g." >&2
  echo "    $SUBMISSIONS/alice/${LABS[0]}/${FILES[${LABS[0]}]%% *}" >&2
  [ ${#STRAY[@]} -gt 0 ] && echo "  found only files: ${STRAY[*]:0:8} (unpack archives into a folder per student)" >&2
  exit 2
fi
for f in "${STRAY[@]}"; do echo "ipclab: ignored $f: not a folder (a student is a folder; unpack archives first)" >&2; done

mkdir -p "$OUT/students" || die "cannot create $OUT"
exec 9>"$OUT/.lock"
flock -n 9 || die "another class run is writing $OUT; wait for it, or set CLASS_OUT to another folder"

# stage NAME DEST: copies the lab files a student handed in into DEST/<lab>/<file>, from wherever
# they are (a lab folder first, then the shallowest match), and says in DEST/../notes.txt what it did.
stage() {
  local src=$SUB/$1 dest=$2 notes=$3 lab f rel best entries=() e
  rm -rf "$dest" && mkdir -p "$dest"
  : >"$notes"
  mapfile -d '' entries < <(find "$src" -mindepth 1 -maxdepth 5 -name '.*' -prune -o -type f -name '*.c' \
    -printf '%d\t%P\0' 2>/dev/null | LC_ALL=C sort -z -n)
  for lab in "${LABS[@]}"; do
    for f in ${FILES[$lab]}; do
      best=
      for e in "${entries[@]}"; do
        rel=${e#*$'\t'}
        [ "${rel##*/}" = "$f" ] || continue
        case /$rel in */"$lab/$f") best=$rel; break ;; esac
        [ -n "$best" ] || best=$rel
      done
      [ -n "$best" ] || continue
      mkdir -p "$dest/$lab" && cp -- "$src/$best" "$dest/$lab/$f"
      [ "$best" = "$lab/$f" ] || echo "took $best as $lab/$f" >>"$notes"
    done
  done
}

digest() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -c1-32; }

fmt_time() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

# --- grading, JOBS students at a time ------------------------------------------------------------
declare -A RUNNING=() # pid -> index into STUDENTS (assigned: an empty, unassigned array is "unbound" to set -u)
declare -A SLOT=()    # pid -> its job slot; each slot has its own uid where tests drop to one (see contain.c)
declare -a BUSY=()
total=${#STUDENTS[@]} done_n=0 kept=0 graded_now=0 below=0 errors=0 interrupted=
start=$(date +%s)
trap 'interrupted=130' INT
trap 'interrupted=143' TERM
trap 'interrupted=129' HUP

finish() { # PID STATUS: the end of one local run
  local i=${RUNNING[$1]}
  unset "RUNNING[$1]"
  BUSY[${SLOT[$1]}]=
  unset "SLOT[$1]"
  record "$i" "$2"
}

record() { # INDEX STATUS: records the end of one student's run
  local i=$1 rc=$2 name dir line
  name=${STUDENTS[$i]}
  dir=$OUT/students/$name
  echo "$rc" >"$dir/status"
  case $rc in
    0 | 1) cat "$dir/.hash" >"$dir/hash"
      line=$(awk '$1 == "lab" {s += $3; m += $4} END {printf "%d/%d", s, m}' "$dir/report.sum")
      [ "$rc" -eq 1 ] && below=$((below + 1)) ;;
    *) line="not graded (status $rc): see $(display "$dir/log.txt")"
      errors=$((errors + 1)) ;;
  esac
  done_n=$((done_n + 1)) graded_now=$((graded_now + 1))
  progress "$name" "$line"
}

progress() {
  local now left eta=
  now=$(($(date +%s) - start))
  left=$((total - done_n))
  [ $graded_now -gt 0 ] && [ $left -gt 0 ] && eta=", about $(fmt_time $((now * left / graded_now / 1))) left"
  printf '  [%*d/%d] %-28s %-12s %s%s\n' ${#total} "$done_n" "$total" "$1" "$2" "$(fmt_time "$now")" "$eta"
}

display() { case $1 in "$ROOT"/*) echo "${1#"$ROOT"/}" ;; *) echo "$1" ;; esac; }

reap_one() {
  local pid rc
  wait -n -p pid "${!RUNNING[@]}"
  rc=$?
  [ -n "${pid:-}" ] && [ -n "${RUNNING[$pid]+x}" ] && finish "$pid" "$rc"
}

# --- many machines: GNU parallel sends each student's files to a host, grades there, brings the results back
TODO=()
grade_on_hosts() {
  [ ${#TODO[@]} -gt 0 ] || return 0
  local remote=${HOSTS_ROOT:-$ROOT} ssh=() i rc cmd
  [ -n "${IPCLAB_SSH:-}" ] && ssh=(--ssh "$IPCLAB_SSH")
  echo "ipclab: building the graders on every host ($HOSTS) ..."
  parallel "${ssh[@]}" --nonall -S "$HOSTS" "LAB=$LABSEL $remote/common/ipclab.sh prepare >/dev/null" ||
    { echo "ipclab: a host could not build the graders: every host needs the repository at $remote (HOSTS_ROOT) and what make check needs" >&2; errors=$((errors + ${#TODO[@]})); return; }
  # In the host's copy of the student's folder: grade, keep the log and the status, say which student is done.
  # A host runs 8 students per core unless JOBS says how many: their timeouts grow to match.
  local host_scale=${JOBS_GIVEN:+$SCALE}
  cmd='env -u SUBMISSIONS -u HOSTS -u TEST -u CLASS_OUT IPCLAB_TIMEOUT_SCALE='"${host_scale:-8}"' IPCLAB_DEBUG_INFO=0 IPCLAB_DROP_UID=$((65533 - {%} % 500)) LAB='"$LABSEL"' SANITIZE='"${SANITIZE:-}"' LABS_DIR="$PWD"/{} REPORT="$PWD"/{//}/report.json '
  cmd+="$remote"'/common/ipclab.sh check >{//}/log.txt 2>&1 </dev/null; echo $? >{//}/status; echo "  done {//}"'
  # RSYNC_OLD_ARGS: parallel quotes --return paths for the remote shell itself, and rsync 3.2.4+
  # would quote them again (a student called "fork bomb" came back as "'./fork bomb'").
  (cd "$OUT/students" && for i in "${TODO[@]}"; do printf '%s/files\0' "${STUDENTS[$i]}"; done |
    RSYNC_OLD_ARGS=1 parallel -0 "${ssh[@]}" -S "$HOSTS" --jobs "${JOBS_GIVEN:-800%}" --workdir ... --transferfile '{}' --return '{//}' --cleanup \
      --joblog "$OUT/hosts.joblog" "$cmd")
  for i in "${TODO[@]}"; do
    rc=$(cat "$OUT/students/${STUDENTS[$i]}/status" 2>/dev/null) ||
      { rc=3; nothing_back "${STUDENTS[$i]}"; }
    [ -f "$OUT/students/${STUDENTS[$i]}/report.sum" ] || [ "$rc" -gt 1 ] || rc=3
    record "$i" "$rc"
  done
}

nothing_back() { # NAME: the student's log says that no result came back, and what the joblog knows
  local log=$OUT/students/$1/log.txt
  [ -s "$log" ] && return
  {
    echo "ipclab: nothing came back from the host that graded $1 (no status, no report)."
    echo "Its line in $(display "$OUT/hosts.joblog") (Host, Exitval, Signal):"
    awk -F'\t' -v s="$1/" 'index($0, s) {print "  " $2 ", exit " $7 ", signal " $8}' "$OUT/hosts.joblog" 2>/dev/null
    echo "Check that the host has the repository at ${HOSTS_ROOT:-$ROOT}, and try: ${IPCLAB_SSH:-ssh} HOST true"
  } >"$log"
}

if [ -n "${HOSTS:-}" ]; then
  "$ROOT/common/deps.sh" parallel=parallel rsync=rsync || exit 2
  echo "ipclab: grading ${total} student(s) of $(display "$SUB") (${#LABS[@]} lab(s)) on $HOSTS"
else
  echo "ipclab: grading ${total} student(s) of $(display "$SUB") (${#LABS[@]} lab(s), $JOBS at a time)"
fi
printf '%s\0' "${STUDENTS[@]}" >"$OUT/roster"
for i in "${!STUDENTS[@]}"; do
  [ -n "$interrupted" ] && break
  name=${STUDENTS[$i]}
  dir=$OUT/students/$name
  mkdir -p "$dir"
  stage "$name" "$dir/.files" "$dir/.notes"
  h=$VERSION-$(digest "$dir/.files")
  if [ -z "${FRESH:-}" ] && [ "$(cat "$dir/hash" 2>/dev/null)" = "$h" ] && [ -f "$dir/report.json" ]; then
    rm -rf "$dir/.files" "$dir/.notes"
    done_n=$((done_n + 1)) kept=$((kept + 1))
    [ "$(cat "$dir/status" 2>/dev/null)" = 1 ] && below=$((below + 1))
    progress "$name" "unchanged"
    continue
  fi
  # The old result goes first: a run cut short leaves no hash, so the next run grades again.
  find "$dir" -mindepth 1 -maxdepth 1 ! -name .files ! -name .notes -exec rm -rf {} +
  mv "$dir/.files" "$dir/files" && mv "$dir/.notes" "$dir/notes.txt"
  echo "$h" >"$dir/.hash"
  if [ -z "$(ls -A "$dir/files")" ]; then
    # Nothing to compile: the gradebook says what was found instead, and no grader runs.
    (cd "$SUB/$name" && find . -mindepth 1 -maxdepth 3 -name '.*' -prune -o -print | sed 's|^\./||' | head -n 20) >"$dir/found.txt"
    echo 0 >"$dir/status" && cat "$dir/.hash" >"$dir/hash"
    done_n=$((done_n + 1)) graded_now=$((graded_now + 1)) below=$((below + 1))
    progress "$name" "no lab files"
    continue
  fi
  if [ -n "${HOSTS:-}" ]; then
    TODO+=("$i") # graded on the hosts below, all at once
    continue
  fi
  while [ ${#RUNNING[@]} -ge "$JOBS" ] && [ -z "$interrupted" ]; do reap_one; done
  [ -n "$interrupted" ] && break
  for ((slot = 0; slot < JOBS; slot++)); do [ -z "${BUSY[$slot]:-}" ] && break; done
  # Its own session: Ctrl-C reaches this script only, which then stops every student's run cleanly.
  setsid env -u SUBMISSIONS -u TEST LABS_DIR="$dir/files" LAB="$LABSEL" REPORT="$dir/report.json" \
    IPCLAB_TIMEOUT_SCALE=$SCALE IPCLAB_DEBUG_INFO=0 \
    IPCLAB_DROP_UID=$((65533 - slot % 500)) "$IPCLAB" check >"$dir/log.txt" 2>&1 </dev/null &
  RUNNING[$!]=$i SLOT[$!]=$slot BUSY[$slot]=1
done
while [ ${#RUNNING[@]} -gt 0 ] && [ -z "$interrupted" ]; do reap_one; done
[ -n "${HOSTS:-}" ] && [ -z "$interrupted" ] && grade_on_hosts

if [ -n "$interrupted" ]; then
  echo "ipclab: interrupted: stopping ${#RUNNING[@]} run(s) in progress ..." >&2
  for pid in "${!RUNNING[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for pid in "${!RUNNING[@]}"; do
    wait "$pid" 2>/dev/null
    rm -f "$OUT/students/${STUDENTS[${RUNNING[$pid]}]}/report."*
  done
fi

# --- the gradebook and the class report ----------------------------------------------------------
for lab in "${LABS[@]}"; do
  printf '%s\t%s\t%s\n' "$lab" "$("$BUILD/common/labtool" get "$ROOT/tests/$lab/lab.conf" max)" \
    "$("$BUILD/common/labtool" get "$ROOT/tests/$lab/lab.conf" title)"
done >"$OUT/labs.tsv"
python3 "$ROOT/common/gradebook.py" --out "$OUT" || exit 3
secs=$(($(date +%s) - start))
echo
echo "ipclab: $done_n of $total student(s) graded in $(fmt_time "$secs") ($graded_now now, $kept unchanged since the last run); $below below full marks$([ "$errors" -gt 0 ] && echo ", $errors could not be graded")"
echo "  gradebook: $(display "$OUT/grades.csv") (one column per lab) and grades.json"
echo "  class report: $(display "$OUT/index.html"); each student's feedback: $(display "$OUT")/students/<name>/feedback.html"
if [ -n "$interrupted" ]; then
  echo "ipclab: interrupted after $done_n of $total students: what was graded is kept; run the same command again to grade the rest" >&2
  exit "$interrupted"
fi
[ "$errors" -eq 0 ] || exit 1
[ "$below" -eq 0 ]
