#!/usr/bin/env bash
# selftest.sh: `make test`: proves the graders: solutions score full marks, skeletons and every
# known-buggy variant lose marks, nothing is left behind, and students (non-root) get the same.
#   LAB=NN limits it to one lab; SKIP_SLIDES=1 skips the browser test of the slides.
#   REPEAT=N grades every solution and variant N times (make test-repeat: only that, N=10).
#   SECTIONS="b m" runs only those of the optional sections (lint b e f m h g k slides s);
#   (a), (c) and (d) always run.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IPCLAB=$ROOT/common/ipclab.sh
BUILD=${IPCLAB_BUILD:-$ROOT/build}
WORK=$BUILD/selftest${LAB:+-${LAB//[^a-z0-9-]/_}}
START=$(date +%s.%N)
passed=0 failed=0
failures=()

ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
bad() { failed=$((failed + 1)); failures+=("$*"); printf '  FAIL  %s\n' "$*"; }
section() { printf '\n== %s ==\n' "$*"; }
SECTIONS=${SECTIONS:-all}
want() { [ "$SECTIONS" = all ] || [[ " ${SECTIONS//,/ } " == *" $1 "* ]]; }

# Everything the self-test will need, asked for at once: one install line for a new machine.
needs=(cc=gcc file:/usr/include/stdio.h=libc6-dev make=make pkg-config=pkg-config pc:check=check patch=patch)
# The student's loop (s) drives make watch in tmux, watches with inotifywait and traces with strace.
needs+=(tmux=tmux inotifywait=inotify-tools strace=strace)
# Lint (the first section) runs shellcheck, and make new-lab's round trip formats with clang-format.
needs+=(shellcheck=shellcheck clang-format=clang-format)
if [ -z "${SKIP_SLIDES:-}" ] && [ -z "${LAB:-}" ] && [ -f "$ROOT/slides/slides.mk" ]; then
  needs+=(pandoc=pandoc dot=graphviz node=nodejs npm=npm chromium=chromium pdfinfo=poppler-utils
    file:/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf=fonts-dejavu-core
    file:/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Oblique.ttf=fonts-dejavu-extra)
fi
# The class section (k) also spreads a class over two stand-in hosts with GNU parallel and rsync.
[ -z "${LAB:-}" ] && needs+=(parallel=parallel rsync=rsync py:json=python3)
"$ROOT/common/deps.sh" "${needs[@]}" || exit 2
rm -rf "$WORK"
mkdir -p "$WORK"

# The labs to prove (LAB= narrows it, with the same spelling rules as make check).
mapfile -t LABS < <("$IPCLAB" labs | awk '{print $2}')
if [ -n "${LAB:-}" ]; then
  keep=()
  for l in "${LABS[@]}"; do
    case ",${LAB// /,}," in *",${l%%-*},"*|*",$((10#${l%%-*})),"*|*",$l,"*|*",${l#*-},"*) keep+=("$l") ;; esac
  done
  [ ${#keep[@]} -gt 0 ] || { echo "ipclab: no lab matches LAB=$LAB" >&2; exit 2; }
  LABS=("${keep[@]}")
fi

# --- what exists before, to prove nothing is left behind afterwards ---------------------------
snapshot() {
  {
    ls -1 /dev/shm 2>/dev/null | sed 's/^/shm /'
    for k in shm msg sem; do
      awk -v k="$k" 'NR > 1 {print "sysv-" k " key=" $1 " id=" $2}' "/proc/sysvipc/$k" 2>/dev/null
    done
    if [ "$(id -u)" -eq 0 ]; then
      # Queues are only listable through an mqueue mount: make a private one.
      unshare -m sh -c 'd=$(mktemp -d) && mount -t mqueue none "$d" && ls -1 "$d"; umount "$d" 2>/dev/null; rmdir "$d"' 2>/dev/null | sed 's/^/mq /'
    fi
    # (Test dirs of runs still in progress, ours or another's, are removed by their runner.)
    find /tmp -xdev -path '/tmp/ipclab-run.*' -prune -o \( -type p -o -type s \) -newer "$WORK/.start" -print 2>/dev/null | sed 's/^/file /'
    # Our own cgroups whose run is over, run directories no live run holds, report folders.
    for cg in /sys/fs/cgroup/*/ipclab-[0-9]* /sys/fs/cgroup/ipclab-[0-9]* /sys/fs/cgroup/*/*/ipclab-[0-9]*; do
      [ -d "$cg" ] && ! kill -0 "${cg##*-}" 2>/dev/null && echo "cgroup $cg"
    done
    for d in /tmp/ipclab-run.*; do
      [ -f "$d/.lock" ] && flock -n "$d/.lock" true && echo "run-dir $d"
    done
    ls -d "$BUILD"/tmp/report.* 2>/dev/null | sed 's/^/report-dir /'
    # A submission's build folder goes with its run (labs/ and solutions/ keep theirs).
    find "$BUILD/grade" -mindepth 1 -maxdepth 1 -name 'tree-*' -newer "$WORK/.start" 2>/dev/null | sed 's/^/build-dir /'
    # Processes started from our build tree (graders, probes, and whatever they forked).
    for p in /proc/[0-9]*; do
      exe=$(readlink "$p/exe" 2>/dev/null) || continue
      case $exe in "$BUILD"/fresh/*) ;; "$BUILD"/*) [ "${p#/proc/}" != $$ ] && echo "process ${p#/proc/} $exe" ;; esac
    done
  } | sort
}
touch "$WORK/.start"
snapshot >"$WORK/before"

# --- grading helpers ---------------------------------------------------------------------------
# grade NAME [VAR=VALUE...]: runs make check's driver; the .sum lands in $WORK/NAME.sum.
# With REPEAT=N (sections a and c), it grades N times and records any verdict that changed: the
# first run alone (as a student's make check), the other N-1 side by side, REPEAT_JOBS at a time
# (default: all), with their time limits scaled as a class run scales them (IPCLAB_TIMEOUT_SCALE).
REPEAT=${REPEAT:-1}
REPEAT_JOBS=${REPEAT_JOBS:-$((REPEAT > 1 ? REPEAT - 1 : 1))}
# The scale counts what shares the cores: the repeats, and LOAD's busy loops (one per core).
sharing=$REPEAT_JOBS
[ -z "${LOAD:-}" ] || sharing=$((sharing + $(nproc)))
REPEAT_SCALE=$("$ROOT/common/ipclab.sh" timeout-scale "$sharing") || exit 2
flaky=() tolerated=() varies=
grade() {
  local name=$1
  shift
  env "$@" REPORT="$WORK/$name.json" "$IPCLAB" check >"$WORK/$name.log" 2>&1
  local rc=$?
  [ $rc -le 1 ] || { tail -n 15 "$WORK/$name.log" | sed 's/^/        /'; }
  return $rc
}
verdicts() { awk '$1 == "test" {print $2, $3}' "$WORK/$1.sum" 2>/dev/null; }
grade_repeated() {
  local name=$1 i changed running=() arg src=$ROOT/solutions
  grade "$@"
  local rc=$?
  for arg in "${@:2}"; do case $arg in LABS_DIR=*) src=${arg#LABS_DIR=} ;; esac; done
  for ((i = 2; i <= REPEAT; i++)); do
    # Runs side by side must not share a build folder: each grades its own copy of the tree,
    # as its own uid (for a root run with no pids cgroup, see contain.c).
    rm -rf "$WORK/repeat/$name.r$i" && mkdir -p "$WORK/repeat" && cp -r "$src" "$WORK/repeat/$name.r$i"
    grade "$name.r$i" "${@:2}" SOLUTIONS= LABS_DIR="$WORK/repeat/$name.r$i" \
      IPCLAB_TIMEOUT_SCALE="$REPEAT_SCALE" IPCLAB_DROP_UID=$((65533 - i)) &
    running+=($!)
    [ ${#running[@]} -lt "$REPEAT_JOBS" ] || { wait "${running[@]}"; running=(); }
  done
  # (A bare wait would also wait for LOAD's busy loops.)
  [ ${#running[@]} -eq 0 ] || wait "${running[@]}"
  rm -rf "$WORK/repeat"
  # A change in a test the variant's patch lists under Varies: (its own race) is only reported.
  local t listed
  for ((i = 2; i <= REPEAT; i++)); do
    changed='' listed=''
    for t in $(diff <(verdicts "$name") <(verdicts "$name.r$i") | awk '/^>/ {print $2 ":" $3}'); do
      case " $varies " in *" ${t%%:*} "*) listed+=" $t" ;; *) changed+=" $t" ;; esac
    done
    [ -z "$changed" ] || flaky+=("$name, run $i of $REPEAT:$changed (logs: $WORK/$name.log, $WORK/$name.r$i.log)")
    [ -z "$listed" ] || tolerated+=("$name, run $i:$listed")
  done
  return $rc
}

# LOAD=1 keeps every core busy while the self-test runs: verdicts must not depend on idle CPUs.
load_pids=()
if [ -n "${LOAD:-}" ]; then
  for ((i = 0; i < $(nproc); i++)); do (while :; do :; done) & load_pids+=($!); done
  trap 'kill "${load_pids[@]}" 2>/dev/null' EXIT
  echo "(LOAD=1: $(nproc) busy loops keep every core busy)"
fi
# lab_score NAME LAB -> "score max status"
lab_score() { awk -v l="$2" '$1 == "lab" && $2 == l {print $3, $4, $5}' "$WORK/$1.sum"; }
# full_marks NAME WHAT: each lab's solution, graded as NAME, has full marks (WHAT names the mode).
full_marks() {
  local lab s m st
  for lab in "${LABS[@]}"; do
    read -r s m st <<<"$(lab_score "$1" "$lab")"
    if [ "${st:-}" = graded ] && [ "$s" = "$m" ]; then ok "$lab $2: $s/$m"
    else bad "$lab $2: ${s:-?}/${m:-?} (${st:-no result}); see $WORK/$1.log"; fi
  done
}
test_status() { awk -v t="$2" '$1 == "test" && $2 == t {print $3}' "$WORK/$1.sum"; }

# --- (0) the tree is well formed: common/lint.sh (make lint) is the one owner of these checks -----
if want lint; then
  section "Layout and lint: labs/, solutions/ and tests/ mirror each other, lab.conf and grader.c agree (make lint)"
  "$ROOT/common/lint.sh" "${LABS[@]}" >"$WORK/lint.log" 2>&1
  lint_rc=$?
  while IFS= read -r line; do
    case $line in "  ok    "*) ok "${line#  ok    }" ;; "  FAIL  "*) bad "${line#  FAIL  }" ;; "  "*) echo "$line" ;; esac
  done <"$WORK/lint.log"
  [ $lint_rc -le 1 ] || bad "common/lint.sh stopped with status $lint_rc; see $WORK/lint.log"
  # A lab made by make new-lab must pass lint and grade as it should: proved in a copy of the
  # tree (about 10 s, so also when LAB= narrows the run).
  if "$ROOT/common/newlab.sh" --prove "$WORK/new-lab" >"$WORK/new-lab.log" 2>&1; then
    ok "make new-lab: a new lab in a copy of the tree passes lint (which names 4 planted mistakes), its solution scores full marks, its skeleton less"
  else
    bad "make new-lab: its round trip failed: $(grep -m1 FAIL "$WORK/new-lab.log" | sed 's/^ *//'); see $WORK/new-lab.log"
  fi
fi

# --- (a) solutions: full marks, warning-free ---------------------------------------------------
section "(a) Every reference solution scores full marks (built with -Werror)"
grade_repeated solutions SOLUTIONS=1 STRICT=1 LAB="$(IFS=,; echo "${LABS[*]}")"
full_marks solutions solution

# --- (b) skeletons: compile cleanly, score less ------------------------------------------------
if want b; then
  section "(b) Every skeleton compiles warning-free and scores less than full marks"
  grade skeletons STRICT=1 LAB="$(IFS=,; echo "${LABS[*]}")"
  for lab in "${LABS[@]}"; do
    read -r s m st <<<"$(lab_score skeletons "$lab")"
    if [ "${st:-}" = graded ] && [ "$s" -lt "$m" ]; then ok "$lab skeleton: $s/$m"
    else bad "$lab skeleton: ${s:-?}/${m:-?} (${st:-no result}); see $WORK/skeletons.log"; fi
  done
fi

# --- (c) known-buggy variants: each loses the tests it declares --------------------------------
section "(c) Every known-buggy variant loses the tests it declares"
for lab in "${LABS[@]}"; do
  for patch in "$ROOT/tests/$lab/buggy/"*.patch; do
    [ -f "$patch" ] || continue
    name=$(basename "$patch" .patch)
    tree=$WORK/variants/$lab-$name
    mkdir -p "$tree"
    cp -r "$ROOT/solutions/$lab" "$tree/$lab"
    if ! patch -s -p1 -d "$tree/$lab" <"$patch" >"$WORK/$lab-$name.patchlog" 2>&1; then
      bad "$lab/$name: the patch no longer applies to the solution ($(head -n 1 "$WORK/$lab-$name.patchlog"))"
      continue
    fi
    must=$(sed -n 's/^Must fail: *//p' "$patch")
    varies=$(sed -n 's/^Varies: *//p' "$patch")
    varies=${varies%% -- *}
    t0=$(date +%s.%N)
    grade_repeated "v-$lab-$name" LABS_DIR="$tree" LAB="$lab"
    varies=
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
    read -r s m st <<<"$(lab_score "v-$lab-$name" "$lab")"
    missed=()
    for t in $must; do
      case $(test_status "v-$lab-$name" "$t") in pass|"") missed+=("$t") ;; esac
    done
    if [ "${st:-}" != graded ]; then
      bad "$lab/$name: not graded (${st:-no result}); see $WORK/v-$lab-$name.log"
    elif [ ${#missed[@]} -gt 0 ]; then
      bad "$lab/$name: NOT CAUGHT: ${missed[*]} passed; see $WORK/v-$lab-$name.log"
    elif [ -n "$must" ] && [ "$s" -ge "$m" ]; then
      bad "$lab/$name: scored full marks"
    else
      ok "$lab/$name: ${must:-contained} ($s/$m, $(printf '%.1f' "$secs") s)"
    fi
  done
done

# --- (e) as a student: not root ----------------------------------------------------------------
if want e; then
  if [ "$(id -u)" -eq 0 ]; then
    section "(e) The solutions also score full marks for an unprivileged user"
    if id nobody >/dev/null 2>&1; then
      home=$(mktemp -d /tmp/ipclab-student.XXXXXX)
      tar -C "$ROOT" -cf - common labs solutions tests | tar -C "$home" -xf -
      chown -R nobody "$home"
      chmod 755 "$home"
      if setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- env HOME="$home" \
           IPCLAB_BUILD="$home/build" SOLUTIONS=1 LAB="$(IFS=,; echo "${LABS[*]}")" \
           REPORT="$home/report.json" "$home/common/ipclab.sh" check >"$WORK/nobody.log" 2>&1; then
        ok "all solutions: full marks as uid $(id -u nobody) ($(grep -m1 'sandbox:' "$WORK/nobody.log" | sed 's/^ *sandbox: //' | cut -c1-70)...)"
      else
        bad "solutions as an unprivileged user: see $WORK/nobody.log"
        tail -n 20 "$WORK/nobody.log" | sed 's/^/        /'
      fi
      rm -rf "$home"
    else
      bad "no 'nobody' user to run the unprivileged check as"
    fi
  fi
fi

# --- (f) where the kernel refuses namespaces ---------------------------------------------------
if want f; then
  section "(f) Without namespaces (the fallback mode) the solutions still score full marks"
  grade fallback SOLUTIONS=1 IPCLAB_NO_NAMESPACES=1 LAB="$(IFS=,; echo "${LABS[*]}")"
  full_marks fallback "solution without namespaces"
  escape=$ROOT/tests/01-fork-clone/buggy/hostile-setsid-escape.patch
  if [ -f "$escape" ] && [ -d "$WORK/variants/01-fork-clone-hostile-setsid-escape" ]; then
    # The daemon must still be swept: section (d) below looks for any process left.
    grade fallback-escape LABS_DIR="$WORK/variants/01-fork-clone-hostile-setsid-escape" LAB=01 IPCLAB_NO_NAMESPACES=1
    ok "a setsid() daemon graded without namespaces ($(lab_score fallback-escape 01-fork-clone | cut -d' ' -f1,2 | tr ' ' /)); (d) checks it was swept"
  fi
fi

# --- (m) mutation testing: every mutant is killed or listed as equivalent --------------------
if want m; then
  # MUTANTS_SAMPLE=N grades N evenly spread mutants per lab (a fixed sample: the same every run);
  # MUTANTS_SAMPLE=all grades every one (make mutants does that too); 0 skips the section.
  sample=${MUTANTS_SAMPLE:-40}
  if [ "$sample" != 0 ]; then
    section "(m) Mutants of each solution are killed by its grader, or listed as equivalent in lab.conf"
    "$ROOT/common/deps.sh" python3=python3-minimal || exit 2
    margs=(--lab "$(IFS=,; echo "${LABS[*]}")" --out "$WORK/mutants")
    [ "$sample" = all ] || margs+=(--sample "$sample")
    t0=$(date +%s)
    python3 "$ROOT/common/mutants.py" "${margs[@]}" >"$WORK/mutants.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    for lab in "${LABS[@]}"; do
      line=$(grep -E "^  $lab +killed" "$WORK/mutants.log" | tail -n 1 | sed 's/^ *//; s/  */ /g')
      report=$(ls "$WORK/mutants/$lab".*txt "$WORK/mutants/$lab.txt" 2>/dev/null | head -n 1)
      surv=$(grep -h '^  SURVIVED ' "$report" 2>/dev/null | awk '{print $2}' | paste -sd' ')
      if [ -n "$line" ] && [ -z "$surv" ]; then ok "${line/ killed/: killed}"
      elif [ -n "$surv" ]; then bad "$lab: mutants that survive and no lab.conf line explains: $surv (see $report)"
      else bad "$lab: no mutation result; see $WORK/mutants.log"; fi
    done
    [ $rc -le 1 ] || bad "mutants.py stopped with status $rc; see $WORK/mutants.log"
    echo "        ($secs s; reports in $WORK/mutants/)"
  fi
fi

# --- (h) every advertised sanitizer mode gives correct code full marks --------------------------
if want h; then
  section "(h) With each SANITIZE= mode that make help advertises, the solutions score full marks"
  for san in thread address undefined; do
    grade "sanitize-$san" SOLUTIONS=1 SANITIZE=$san LAB="$(IFS=,; echo "${LABS[*]}")"
    short=()
    for lab in "${LABS[@]}"; do
      read -r s m st <<<"$(lab_score "sanitize-$san" "$lab" 2>/dev/null)"
      if [ "${st:-}" != graded ]; then
        short+=("$lab not graded")
      elif [ "$s" != "$m" ]; then
        # Lab 02's naive counter races on purpose: ThreadSanitizer must say so (see its README).
        if [ "$san" = thread ] && [ "$lab" = 02-shm-race ] && [ "$(test_status "sanitize-$san" naive_loses_updates)" != pass ] &&
           [ "$((m - s))" -le "$(awk '/^test: naive_loses_updates/{f=1} f && /^points:/{print $2; exit}' "$ROOT/tests/$lab/lab.conf")" ]; then
          continue
        fi
        short+=("$lab ${s:-?}/${m:-?}")
      fi
    done
    if [ ${#short[@]} -eq 0 ]; then ok "SANITIZE=$san: every solution full marks"
    else bad "SANITIZE=$san: ${short[*]}; see $WORK/sanitize-$san.log"; fi
  done
fi

# --- (g) a chroot: "/" is not a mount point, and no cgroup hierarchy is mounted ------------------
if want g; then
  # How sbuild, pbuilder and many CI images run builds. The grader must fall back part-way (its
  # PID namespace keeps working, with /proc made private instead of "/"), and with no pids cgroup,
  # tests run as an unprivileged uid under RLIMIT_NPROC: a fork bomb and a setsid() daemon must
  # still be contained and swept. The chroot is made of read-only bind mounts of this machine's
  # /usr and /etc, in a private mount namespace that vanishes with the section.
  if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /; then
    section "(g) In a chroot with no cgroup hierarchy: fallbacks hold, hostile code is still contained"
    ok "this self-test already runs where / is not a mount point (a chroot): every section above proved it"
  elif [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && [ -d /usr/bin ]; then
    section "(g) In a chroot with no cgroup hierarchy: fallbacks hold, hostile code is still contained"
    CR=$WORK/chroot
    mkdir -p "$CR"/{usr,etc,proc,dev,tmp,"$ROOT"} && chmod 1777 "$CR/tmp"
    for l in bin lib lib32 lib64 sbin; do [ -L "/$l" ] && ln -sfn "$(readlink "/$l")" "$CR/$l"; done
    # in_chroot NAME VAR=VALUE...: runs the driver in the chroot; the .sum lands in $WORK/NAME.sum
    in_chroot() {
      local name=$1
      shift
      unshare --mount --propagation private -- /bin/sh -c '
        CR=$1 ROOT=$2; shift 2
        mount --bind -o ro /usr "$CR/usr" && mount --bind -o ro /etc "$CR/etc" &&
        mount --bind "$ROOT" "$CR$ROOT" && mount -t proc proc "$CR/proc" &&
        mount --rbind /dev "$CR/dev" && mount --make-rslave "$CR/dev" &&
        mount -t tmpfs -o mode=1777,nosuid,nodev shm "$CR/dev/shm" &&
        exec chroot "$CR" "$@"' sh "$CR" "$ROOT" \
        env "$@" REPORT="$WORK/$name.json" IPCLAB_BUILD="$BUILD/chroot-build" "$IPCLAB" check \
        >"$WORK/$name.log" 2>&1
    }
    in_chroot chroot SOLUTIONS=1 LAB="$(IFS=,; echo "${LABS[*]}")"
    line=$(grep -m1 'sandbox:' "$WORK/chroot.log" | sed 's/^ *sandbox: //')
    full_marks chroot "solution in a chroot"
    echo "        sandbox: $line"
    case $line in *"not a mount point"*"no pids cgroup"*) ok "the sandbox line says what was refused and what runs instead" ;;
      *) bad "the sandbox line in a chroot does not name the refusals: $line" ;; esac
    for v in hostile-fork-bomb hostile-setsid-escape; do
      tree=$WORK/variants/01-fork-clone-$v
      [ -d "$tree" ] || continue
      for mode in ns fallback; do
        t0=$(date +%s.%N)
        nons=()
        [ $mode = fallback ] && nons=(IPCLAB_NO_NAMESPACES=1)
        in_chroot "chroot-$v-$mode" LABS_DIR="$tree" LAB=01 "${nons[@]}"
        secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
        read -r s m st <<<"$(lab_score "chroot-$v-$mode" 01-fork-clone)"
        stray=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$CR" ] && echo "${p#/proc/}"; done)
        if [ "${st:-}" = graded ] && [ "$s" -lt "$m" ] && [ -z "$stray" ]; then
          ok "$v in a chroot ($mode): graded $s/$m in $secs s, nothing left running"
        else
          bad "$v in a chroot ($mode): ${s:-?}/${m:-?} (${st:-no result}), left running: ${stray:-none}; see $WORK/chroot-$v-$mode.log"
          [ -n "$stray" ] && kill -9 $stray 2>/dev/null
        fi
      done
    done
  fi
fi

# --- (k) a whole class: parallel, resumable, the gradebook and the class report -------------------
if want k; then
  # Only on a full self-test. Two labs keep it short; the mechanisms are the same for eight.
  if [ -z "${LAB:-}" ]; then
    section "(k) A class: parallel grades equal sequential ones, an interrupted run resumes, bad input is contained"
    C=$WORK/class
    K_LABS=01,03
    LAB=$K_LABS "$ROOT/common/genclass.sh" "$C/in" 9 11
    # The students a real inbox also has: a name with a space and non-ASCII letters and stray files,
    # an empty folder, a folder of the wrong files, a fork bomb, and an output flood.
    z="$C/in/Zoë Ångström"
    mkdir -p "$z/01-fork-clone" "$z/03-shm-pointers" "$z/old" "$C/in/empty" "$C/in/wrong files"
    cp "$ROOT/solutions/01-fork-clone/forkclone.c" "$z/01-fork-clone/" && cp "$ROOT/solutions/03-shm-pointers/shmlist.c" "$z/03-shm-pointers/"
    echo notes >"$z/notes.txt" && echo junk >"$z/a.out" && echo 'int main(void) { return 0; }' >"$z/old/main.c"
    echo 'int main(void) { return 0; }' >"$C/in/wrong files/main.c" && echo pdf >"$C/in/wrong files/report.pdf"
    mkdir -p "$C/in/fork bomb/01-fork-clone" "$C/in/fork bomb/03-shm-pointers"
    cp -r "$WORK/variants/01-fork-clone-hostile-fork-bomb/01-fork-clone/forkclone.c" "$C/in/fork bomb/01-fork-clone/" 2>/dev/null ||
      { cp -r "$ROOT/solutions/01-fork-clone/forkclone.c" "$C/in/fork bomb/01-fork-clone/" && patch -s -p1 -d "$C/in/fork bomb/01-fork-clone" <"$ROOT/tests/01-fork-clone/buggy/hostile-fork-bomb.patch"; }
    cp "$ROOT/solutions/03-shm-pointers/shmlist.c" "$C/in/fork bomb/03-shm-pointers/"
    mkdir -p "$C/in/flood/03-shm-pointers"
    { echo '#include <stdio.h>'; sed '/^int list_init(void \*base, size_t size)/{n;s/$/\n\tfor (;;)\n\t\tputs("flood flood flood flood flood flood flood flood flood flood");/}' \
        "$ROOT/solutions/03-shm-pointers/shmlist.c"; } >"$C/in/flood/03-shm-pointers/shmlist.c"
    echo "not a student" >"$C/in/README.txt"
    n_in=$(find "$C/in" -mindepth 1 -maxdepth 1 -type d | wc -l)
    classrun() { # NAME VAR=VALUE...: grades the class ($IN, default $C/in) into $C/NAME
      local name=$1
      shift
      env "$@" SUBMISSIONS="${IN:-$C/in}" LAB=$K_LABS CLASS_OUT="$C/$name" "$IPCLAB" check >"$C/$name.log" 2>&1
    }
    t0=$(date +%s.%N)
    classrun seq JOBS=1
    rc=$?
    t1=$(date +%s.%N)
    classrun par JOBS=6
    rc2=$?
    t2=$(date +%s.%N)
    rows=$(($(wc -l <"$C/seq/grades.csv" 2>/dev/null || echo 0) - 1))
    if [ $rc -le 1 ] && [ "$rows" -eq "$n_in" ]; then ok "$n_in students graded one at a time, one gradebook line each ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", b - a}') s)"
    else bad "sequential class run: status $rc, $rows gradebook lines for $n_in students; see $C/seq.log"; fi
    if [ $rc2 -le 1 ] && cmp -s "$C/seq/grades.csv" "$C/par/grades.csv"; then
      ok "JOBS=6 gives the same grades.csv as JOBS=1 ($(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "%.0f s vs %.0f s", c - b, b - a}'))"
    else
      bad "JOBS=6 grades differ from JOBS=1 (status $rc2): diff $C/seq/grades.csv $C/par/grades.csv"
      # The lines and the tests that differ, so a CI log alone shows which student, lab and test.
      diff "$C/seq/grades.csv" "$C/par/grades.csv" | head -n 12 | sed 's/^/        /'
      while IFS= read -r s; do
        diff <(grep '^test' "$C/seq/students/$s/report.sum") <(grep '^test' "$C/par/students/$s/report.sum") | grep '^[<>]' | sed "s/^/        $s: /"
      done < <(diff "$C/seq/grades.csv" "$C/par/grades.csv" | sed -n 's/^[<>] \([^,]*\),.*/\1/p' | sort -u)
    fi
    grep -q '^Zoë Ångström,26,30,56,56,$' "$C/seq/grades.csv" && ok "a name with spaces and non-ASCII letters, with stray files and a stray folder: full marks" ||
      bad "Zoë Ångström's line in $C/seq/grades.csv is wrong"
    grep -q '^empty,0,0,0,56,no lab files found$' "$C/seq/grades.csv" && grep -q '^wrong files,0,0,0,56,no lab files found$' "$C/seq/grades.csv" &&
      grep -q 'report.pdf' "$C/seq/students/wrong files/feedback.html" &&
      ok "an empty folder and a folder of the wrong files: 0, 'no lab files found', and the feedback lists what was found" ||
      bad "empty or wrong-files student misreported; see $C/seq/grades.csv"
    bomb=$(grep '^fork bomb,' "$C/seq/grades.csv") flood=$(grep '^flood,' "$C/seq/grades.csv")
    case "$bomb|$flood" in
      "fork bomb,"[0-9]*",30,"*"|flood,0,"[0-9]*",56,01 not submitted") 
        # With a pids cgroup the bomb is stopped at its first refused fork, not at its timeout.
        if ! grep -q 'writing 16 MiB' "$C/seq/students/flood/report.json"; then bad "the flood was not cut at 16 MiB; see $C/seq/students/flood/log.txt"
        elif grep -q 'processes (pids cgroup)' "$C/seq/students/fork bomb/report.json" && ! grep -q 'started processes without end' "$C/seq/students/fork bomb/report.json"; then
          bad "the fork bomb was not stopped at the process limit; see $C/seq/students/fork bomb/log.txt"
        else ok "a fork bomb and an output flood are graded and cut ($bomb; $flood)"; fi ;;
      *) bad "fork bomb or flood misgraded: '$bomb' '$flood'" ;;
    esac
    # Two hosts, each a folder of this machine reached through common/loopback-ssh (GNU parallel
    # and rsync do the rest as they would over ssh): the same gradebook as a local run.
    if [ ! -e /sys/devices/system/cpu/possible ]; then
      # GNU parallel counts CPUs with lscpu, which needs /sys (absent in make test-fresh's chroot).
      printf '  skip  %s\n' "HOSTS=h1,h2: GNU parallel cannot count CPUs without /sys here (the host's make test runs it)"
    else
      t0=$(date +%s.%N)
      classrun hosts JOBS=3 HOSTS=h1,h2 IPCLAB_SSH="$ROOT/common/loopback-ssh" LOOPBACK_ROOT="$C/hosts-home"
      rc=$?
      t3=$(date +%s.%N)
      spread=$(awk 'NR > 1 {print $2}' "$C/hosts/hosts.joblog" 2>/dev/null | sort | uniq -c | awk '{printf "%s%s: %d", sep, $2, $1; sep = ", "}')
      left_over=$(find "$C/hosts-home" -mindepth 2 2>/dev/null | head -n 3)
      if [ $rc -le 1 ] && cmp -s "$C/seq/grades.csv" "$C/hosts/grades.csv" && [ -z "$left_over" ]; then
        ok "HOSTS=h1,h2 (GNU parallel, loopback): the same grades.csv ($spread students; $(awk -v a="$t0" -v b="$t3" 'BEGIN{printf "%.0f", b - a}') s vs $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.0f", b - a}') s locally), nothing left on the hosts"
      else bad "HOSTS=h1,h2: status $rc, left on the hosts: ${left_over:-nothing}; first difference: $(diff "$C/seq/grades.csv" "$C/hosts/grades.csv" 2>&1 | sed -n 2p); see $C/hosts.log"; fi
    fi
    # Interrupt a run once two students are done, then run it again: it resumes. The class is the
    # one above without its fork bomb and flood: they are proven above, and next to them a test's
    # fixed inner deadline (2 s for a child's answer) was once missed, which is not what this checks.
    mkdir -p "$C/calm"
    for d in "$C/in"/*/; do
      case $(basename "$d") in "fork bomb" | flood) ;; *) cp -r "$d" "$C/calm/" ;; esac
    done
    grep -v -e '^fork bomb,' -e '^flood,' "$C/seq/grades.csv" >"$C/seq-calm.csv"
    env --default-signal=INT SUBMISSIONS="$C/calm" LAB=$K_LABS CLASS_OUT="$C/res" JOBS=2 "$IPCLAB" check >"$C/res-1.log" 2>&1 &
    cpid=$!
    for ((i = 0; i < 600; i++)); do
      [ "$(ls "$C/res/students"/*/hash 2>/dev/null | wc -l)" -ge 2 ] && break
      sleep 0.1
    done
    kill -INT $cpid
    wait $cpid
    rc=$?
    left=$(for p in /proc/[0-9]*; do tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q "$C/res" && echo "${p#/proc/}"; done)
    kept=$(ls "$C/res/students"/*/hash 2>/dev/null | wc -l)
    if [ $rc -eq 130 ] && [ -z "$left" ] && grep -q 'interrupted after' "$C/res-1.log"; then ok "Ctrl-C stops the run (status 130), nothing of it keeps running, $kept graded students kept"
    else bad "interrupted class run: status $rc, still running: ${left:-none}; see $C/res-1.log"; fi
    IN=$C/calm classrun res JOBS=3
    again=$(grep -c ' unchanged ' "$C/res.log")
    if cmp -s "$C/seq-calm.csv" "$C/res/grades.csv" && [ "$again" -ge "$kept" ] && [ "$kept" -ge 2 ]; then
      ok "run again, it grades only the rest ($again kept) and ends with the same grades.csv"
    else bad "resumed run: $again kept of $kept, grades differ? diff $C/seq-calm.csv $C/res/grades.csv"; fi
    if [ -z "${SKIP_SLIDES:-}" ] && [ -f "$ROOT/slides/slides.mk" ]; then
      if make -s -C "$ROOT" test-class-report CLASS_OUT="$C/seq" >"$C/report-test.log" 2>&1; then
        ok "the class report in headless Chromium: $(tail -n 1 "$C/report-test.log")"
      else
        bad "the class report in headless Chromium: see $C/report-test.log"
        tail -n 12 "$C/report-test.log" | sed 's/^/        /'
      fi
    fi
  fi
fi

# --- slides ------------------------------------------------------------------------------------
if want slides; then
  if [ -z "${SKIP_SLIDES:-}" ] && [ -z "${LAB:-}" ] && [ -f "$ROOT/slides/slides.mk" ]; then
    section "Slides: built offline and checked in headless Chromium"
    if make -s -C "$ROOT" test-slides >"$WORK/slides.log" 2>&1; then
      ok "slides: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/slides.log" | tail -n 1)"
    else
      bad "slides: see $WORK/slides.log"
      tail -n 20 "$WORK/slides.log" | sed 's/^/        /'
    fi
    if make -s -C "$ROOT" slides-pdf >"$WORK/slides-pdf.log" 2>&1; then
      ok "handout PDF: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/slides-pdf.log" | tail -n 1)"
    else
      bad "handout PDF: see $WORK/slides-pdf.log"
      tail -n 20 "$WORK/slides-pdf.log" | sed 's/^/        /'
    fi
  fi
fi

# --- (s) the student's loop: hint levels, progress, make watch in tmux, TRACE=1 ------------------
if want s; then
  section "(s) The student's loop: hint levels, progress, make watch (tmux), TRACE=1"
  "$ROOT/common/studenttest.sh" "$WORK/student" "${LABS[@]}" >"$WORK/student.log" 2>&1
  while read -r word rest; do
    case $word in ok) ok "$rest" ;; FAIL) bad "$rest" ;; esac
  done <"$WORK/student.log"
  grep -Eq '^(ok|FAIL) ' "$WORK/student.log" || bad "common/studenttest.sh printed no result (see $WORK/student.log)"
fi

# --- (d) nothing left behind -------------------------------------------------------------------
section "(d) Nothing is left behind: processes, shm, queues, SysV objects, FIFOs, sockets, cgroups, run and build folders"
sleep 0.2
snapshot >"$WORK/after"
left=$(comm -13 "$WORK/before" "$WORK/after")
if [ -z "$left" ]; then ok "no process, /dev/shm object, queue, SysV object, FIFO, socket, cgroup, run or build folder left"
else bad "left behind:"; echo "$left" | sed 's/^/        /'; fi

if [ "$REPEAT" -gt 1 ]; then
  section "Determinism: every solution and variant graded $REPEAT times (once alone, then $REPEAT_JOBS at a time, time limits x$REPEAT_SCALE)${LOAD:+, with every core busy}"
  if [ ${#flaky[@]} -eq 0 ]; then ok "no verdict changed between runs (apart from ${#tolerated[@]} changes in tests a variant lists under Varies:)"
  else for f in "${flaky[@]}"; do bad "verdict changed: $f"; done; fi
  for f in "${tolerated[@]}"; do echo "        varies as its patch says: $f"; done
fi

elapsed=$(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
section "Self-test summary ($(printf '%.0f' "$elapsed") s wall)"
for f in "${failures[@]}"; do echo "  FAIL  $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
