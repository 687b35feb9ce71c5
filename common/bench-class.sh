#!/usr/bin/env bash
# bench-class.sh: `make bench-class`: grades a generated class sequentially and in parallel and prints the ratios, measured in the same run.
#
#   STUDENTS=300   the size of the class graded in parallel
#   SAMPLE=20      how many of them are also graded one at a time (the sequential rate)
#   JOBS=N         as for make check SUBMISSIONS=... (default: 8 per core)
#   ONE_RUNS=5     how many times one correct student is timed (the median is printed)
# Prints students per minute both ways, their ratio, the CPU and wall time of one correct
# student's eight labs, and whether the sampled students got the same grades both ways.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
B=$BUILD/bench-class
STUDENTS=${STUDENTS:-300}
SAMPLE=${SAMPLE:-20}
[ "$SAMPLE" -le "$STUDENTS" ] || SAMPLE=$STUDENTS
export -n LAB TEST SOLUTIONS LABS_DIR
unset LAB TEST SOLUTIONS LABS_DIR

"$ROOT/common/ipclab.sh" prepare >/dev/null || exit $?
echo "bench-class: generating a class of $STUDENTS (solution, skeleton, known-buggy variant or nothing, per lab) ..."
"$ROOT/common/genclass.sh" "$B/in" "$STUDENTS" 1 || exit 3
rm -rf "$B/sample" && mkdir -p "$B/sample"
find "$B/in" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort | head -n "$SAMPLE" |
  while read -r s; do cp -r "$B/in/$s" "$B/sample/"; done

now() { date +%s.%N; }
# run NAME DIR [VAR=VALUE...]: grades DIR from scratch, prints the seconds it took
run() {
  local name=$1 dir=$2 t0 rc
  shift 2
  rm -rf "${B:?}/$name"
  t0=$(now)
  env "$@" FRESH=1 SUBMISSIONS="$dir" CLASS_OUT="$B/$name" "$ROOT/common/ipclab.sh" check >"$B/$name.log" 2>&1
  rc=$?
  [ $rc -le 1 ] || { echo "bench-class: the $name run failed (status $rc); see $B/$name.log" >&2; exit 3; }
  awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f", b - a}'
}

echo "bench-class: $SAMPLE students, one at a time ..."
t_seq=$(run seq "$B/sample" JOBS=1) || exit 3
jobs=${JOBS:-$(($(nproc) * 8))}
echo "bench-class: all $STUDENTS students, $jobs at a time ..."
t_par=$(run par "$B/in" JOBS="$jobs") || exit 3

# One correct student, eight labs: what one submission costs in CPU once the graders are built,
# compiled as a class run compiles it (IPCLAB_DEBUG_INFO=0). On a shared machine single
# samples of it spread from 1.4 to 1.8 s in one sitting: the figure is the median (by user +
# system) of ONE_RUNS samples.
ONE_RUNS=${ONE_RUNS:-5}
[[ $ONE_RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench-class: ONE_RUNS must be a positive number" >&2; exit 2; }
mkdir -p "$B/one" && rm -rf "$B/one/alice" && cp -r "$ROOT/solutions" "$B/one/alice"
LABS_DIR=$B/one/alice REPORT=$B/one/warm.json "$ROOT/common/ipclab.sh" check >/dev/null 2>&1
TIMEFORMAT='%R %U %S'
samples=()
for ((i = 0; i < ONE_RUNS; i++)); do
  samples+=("$( { time IPCLAB_DEBUG_INFO=0 LABS_DIR=$B/one/alice REPORT=$B/one/report.json "$ROOT/common/ipclab.sh" check >/dev/null 2>&1; } 2>&1)")
done
read -r o_wall o_user o_sys < <(printf '%s\n' "${samples[@]}" | awk '{print $2 + $3, $0}' | sort -n |
  awk -v n="$ONE_RUNS" 'NR == int((n + 1) / 2) {print $2, $3, $4}')

same=$(join -t, <(tail -n +2 "$B/seq/grades.csv" | LC_ALL=C sort) <(tail -n +2 "$B/par/grades.csv" | LC_ALL=C sort) |
  awk -F, '{k = (NF - 1) / 2; a = ""; b = ""; for (i = 2; i <= k + 1; i++) a = a "," $i; for (i = k + 2; i <= NF; i++) b = b "," $i; if (a != b) bad++} END {print bad + 0}')

awk -v s="$SAMPLE" -v ts="$t_seq" -v p="$STUDENTS" -v tp="$t_par" -v j="$jobs" -v cores="$(nproc)" \
    -v ow="$o_wall" -v ou="$o_user" -v os="$o_sys" -v runs="$ONE_RUNS" -v bad="$same" 'BEGIN {
  rs = s * 60 / ts; rp = p * 60 / tp
  printf "\n== Class grading, measured in this run (%d cores) ==\n", cores
  printf "  one at a time:   %4d students in %7.1f s = %6.1f students/min\n", s, ts, rs
  printf "  %2d at a time:    %4d students in %7.1f s = %6.1f students/min\n", j, p, tp, rp
  printf "  ratio:           %.1fx the sequential throughput\n", rp / rs
  printf "  %d students:     %.1f min in parallel; %.1f min one at a time (at the rate measured above)\n", p, tp / 60, p / rs
  printf "  one correct student, 8 labs: %.2f s CPU (%.2f user + %.2f system), %.2f s wall (median of %d)\n", ou + os, ou, os, ow, runs
  printf "  the %d sampled students: %s\n", s, bad == 0 ? "the same grades both ways" : bad " of them got different grades (see seq/ and par/)"
}'
echo "  logs and gradebooks: $B/{seq,par}/"
[ "$same" -eq 0 ]
