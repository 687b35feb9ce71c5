#!/usr/bin/env bash
# genclass.sh: makes a synthetic class for the class-grading self-test and benchmark: DEST/student-NNN/...
#
# Usage: common/genclass.sh DEST N [SEED]     (LAB=04,05 limits the labs)
# For every lab, each student hands in the reference solution, the skeleton, one of the lab's
# known-buggy variants (never a hostile one), or nothing, drawn with a fixed seed. Every file gets
# a first line naming its student, so no two students' files are the same bytes. A third of the
# students use lab folders, a third put the files flat, a third one folder down (as an unpacked
# zip of the repository would).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${1:?usage: genclass.sh DEST N [SEED]}
N=${2:?usage: genclass.sh DEST N [SEED]}
RANDOM=${3:-42}

mapfile -t LABS < <(LAB=${LAB:-} "$ROOT/common/ipclab.sh" labs-selected)
CACHE=$DEST.variants
rm -rf "$DEST" "$CACHE"
mkdir -p "$DEST" "$CACHE"

# Every known-buggy variant, applied once.
declare -A VARIANTS
for lab in "${LABS[@]}"; do
  VARIANTS[$lab]=
  for p in "$ROOT/tests/$lab/buggy/"*.patch; do
    name=$(basename "$p" .patch)
    case $name in hostile-*) continue ;; esac
    cp -r "$ROOT/solutions/$lab" "$CACHE/$lab-$name"
    patch -s -p1 -d "$CACHE/$lab-$name" <"$p" >/dev/null
    VARIANTS[$lab]+="$name "
  done
done

for ((i = 1; i <= N; i++)); do
  student=$(printf 'student-%03d' "$i")
  case $((i % 3)) in
    0) base=$DEST/$student ;;
    1) base=$DEST/$student ;;
    2) base=$DEST/$student/ipclab-main/labs ;;
  esac
  mkdir -p "$DEST/$student"
  for lab in "${LABS[@]}"; do
    case $((RANDOM % 4)) in
      0) from=$ROOT/solutions/$lab ;;
      1) from=$ROOT/labs/$lab ;;
      2) read -ra vs <<<"${VARIANTS[$lab]}"
        from=$CACHE/$lab-${vs[$((RANDOM % ${#vs[@]}))]} ;;
      3) [ $((RANDOM % 3)) -eq 0 ] && continue # nothing handed in for this lab
        from=$ROOT/solutions/$lab ;;
    esac
    to=$base/$lab
    [ $((i % 3)) -eq 1 ] && to=$DEST/$student
    mkdir -p "$to"
    for f in $("$ROOT/build/common/labtool" get "$ROOT/tests/$lab/lab.conf" files); do
      { echo "/* $student */"; cat "$from/$f"; } >"$to/$f"
    done
  done
done
rm -rf "$CACHE"
