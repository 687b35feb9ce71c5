#!/usr/bin/env bash
# newlab.sh: `make new-lab N=09 SLUG=shm-ring NAME=ring [TITLE=...]`: a new lab's files in the house shapes.
#   N      the lab's number (09; 9 works too)
#   SLUG   lower-case words with dashes: the folders are labs/, solutions/ and tests/NN-SLUG/
#   NAME   the student's file and API prefix (lower_snake_case): NAME.h, NAME.c, NAME_echo()
#   TITLE  the lab's title for lab.conf and the README (default: SLUG in words)
# The lab it writes already works end to end (a small pipe example, its grader, five known-buggy
# variants): `make lint` accepts it, its solution scores full marks and its skeleton less. Then
# replace the example with the lab's own API, file by file.
#   common/newlab.sh --prove DIR   the self-test's round trip, in a copy of this tree made in DIR
# Exit status: 0 done, 1 (--prove) the round trip failed, 2 bad input (nothing was written).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATES=$ROOT/common/templates

die() { echo "ipclab: $*" >&2; exit 2; }

# Cleanup on any exit before the lab is complete: the staging folder, and any folder already
# moved into place (an interrupt between two moves). Nothing half-made stays behind.
stage='' moved=()
rollback() {
  [ -n "$stage" ] && rm -rf "$stage"
  [ ${#moved[@]} -gt 0 ] && rm -rf "${moved[@]}"
}
trap rollback EXIT
trap 'rollback; trap - INT EXIT; kill -INT $$' INT
trap 'rollback; trap - TERM EXIT; kill -TERM $$' TERM

# scaffold TREE N SLUG NAME TITLE: writes the lab into TREE; sets MADE to the lab's folder name.
scaffold() {
  local tree=$1 n=$2 slug=$3 name=$4 title=$5
  [[ $n =~ ^[0-9]{1,2}$ ]] && [ "$((10#$n))" -ge 1 ] || die "N must be a lab number from 1 to 99 (got '$n')"
  n=$(printf '%02d' "$((10#$n))")
  [[ $slug =~ ^[a-z0-9]+(-[a-z0-9]+)*$ ]] || die "SLUG must be lower-case words joined by dashes, like shm-ring (got '$slug')"
  [[ $name =~ ^[a-z][a-z0-9_]*$ ]] || die "NAME must be lower_snake_case, like ring or shm_ring (got '$name')"
  case $name in demo | grader) die "NAME=$name would clash with the lab's own $name.c: pick another" ;; esac
  [ ! -e "/usr/include/$name.h" ] || die "NAME=$name would shadow the system header <$name.h> (the lab folder is on the include path): pick another"
  [[ $title != *[$'\n|@']* ]] || die "TITLE may not contain a newline, '|' or '@'"
  local lab=$n-$slug existing
  existing=$(cd "$tree" && ls -d tests/"$n"-* labs/"$n"-* solutions/"$n"-* 2>/dev/null | head -n 1)
  [ -z "$existing" ] || die "lab $n exists already ($existing): pick the next free number"

  # Everything is written into a staging folder first, then moved: an error or Ctrl-C leaves
  # no half-made lab behind.
  stage=$(mktemp -d "$tree/.newlab.XXXXXX") || die "cannot write in $tree"
  mkdir -p "$stage/labs/$lab" "$stage/solutions/$lab" "$stage/tests/$lab/buggy"
  local sub=(-e "s|@NN@|$n|g" -e "s|@SLUG@|$slug|g" -e "s|@NAME@|$name|g"
    -e "s|@NAME_UC@|${name^^}|g" -e "s|@TITLE@|$title|g")
  fill() { sed "${sub[@]}" "$TEMPLATES/$1" >"$stage/$2" || die "cannot write $2"; }
  fill README.md.in "labs/$lab/README.md"
  fill header.h.in "labs/$lab/$name.h"
  fill skeleton.c.in "labs/$lab/$name.c"
  fill demo.c.in "labs/$lab/demo.c"
  fill solution.c.in "solutions/$lab/$name.c"
  fill lab.conf.in "tests/$lab/lab.conf"
  fill grader.c.in "tests/$lab/grader.c"
  local p
  for p in "$TEMPLATES"/buggy/*.patch.in; do
    fill "buggy/$(basename "$p")" "tests/$lab/buggy/$(basename "$p" .in)"
  done
  # Long names move line breaks: format what no patch applies to (the solution is kept short).
  # As root a missing clang-format is installed first (lint needs it next, in a fresh root too).
  "$ROOT/common/deps.sh" clang-format=clang-format >/dev/null 2>&1 || true
  if command -v clang-format >/dev/null; then
    (cd "$stage" && clang-format -i --style="file:$ROOT/.clang-format" "labs/$lab"/*.[ch] "tests/$lab/grader.c") ||
      die "clang-format failed on the new files"
  fi
  local d
  for d in labs solutions tests; do
    mkdir -p "$tree/$d" || die "cannot create $d/"
    moved+=("$tree/$d/$lab")
    mv "$stage/$d/$lab" "$tree/$d/$lab" || die "cannot create $d/$lab"
  done
  moved=() # complete: from here on, nothing is rolled back
  rm -rf "$stage"
  stage=
  MADE=$lab
}

# --prove DIR: new-lab in a copy of this tree, then lint it and grade its solution and skeleton.
prove() {
  local dir=$1 copy lab rc=0 passed=0 failed=0
  ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
  bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*"; rc=1; }
  rm -rf "$dir" && mkdir -p "$dir" || die "cannot create $dir"
  copy=$dir/tree
  mkdir -p "$copy"
  # The tracked and new files, as they are now; a git repository, so lint sees "the change".
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy") ||
    die "cannot copy the tree into $copy"
  (cd "$copy" && git init -q && git add -A && git -c user.name=newlab -c user.email=newlab@localhost commit -qm copy) ||
    die "git cannot commit the copy in $copy"
  local n=99
  while [ -n "$(ls -d "$copy"/tests/"$n"-* 2>/dev/null)" ]; do n=$((n - 1)); done
  lab=$(cd "$copy" && N=$n SLUG=round-trip NAME=roundtrip TITLE="Round trip" common/newlab.sh) ||
    { bad "make new-lab N=$n failed"; return 1; }
  ok "make new-lab N=$n SLUG=round-trip NAME=roundtrip wrote $lab"
  local build=$dir/build
  if IPCLAB_BUILD=$build "$copy/common/lint.sh" "$lab" >"$dir/lint.log" 2>&1; then
    ok "make lint accepts it ($(tail -n 1 "$dir/lint.log"))"
  else
    bad "make lint rejects the new lab: see $dir/lint.log"
    grep FAIL "$dir/lint.log" | sed 's/^/      /'
  fi
  # Lint must also say no: four planted mistakes, each named (then the lab is put back).
  local saved=$dir/saved
  cp -a "$copy/tests/$lab" "$saved" && cp "$copy/labs/$lab/roundtrip.h" "$saved.h"
  sed -i 's/^Must fail: echo_eintr$/Must fail: echo_eintr_typo/' "$copy/tests/$lab/buggy/eintr-is-fatal.patch"
  sed -i 's/^GRADER_TEST(echo_exact_fit)/GRADER_TEST(echo_exact_fits)/' "$copy/tests/$lab/grader.c"
  sed -i 's/LAB[0-9]*_ROUNDTRIP_H/ROUNDTRIP_H/' "$copy/labs/$lab/roundtrip.h"
  printf '#!/usr/bin/env bash\n# planted.sh: hides the status of date behind local.\nf() { local when=$(date); echo "$when"; }\n' >"$copy/common/planted.sh"
  IPCLAB_BUILD=$build "$copy/common/lint.sh" "$lab" >"$dir/lint-broken.log" 2>&1
  local found=0 want
  for want in 'Must fail: echo_eintr_typo is not a test' 'GRADER_TEST(echo_exact_fits), which has no' 'include guard is not' 'shellcheck: 1 warning'; do
    grep -q "FAIL.*$want" "$dir/lint-broken.log" && found=$((found + 1))
  done
  if [ $found -eq 4 ]; then ok "make lint names each of 4 planted mistakes (a Must fail: typo, a test missing from lab.conf, a wrong include guard, a shell warning)"
  else bad "make lint named $found of 4 planted mistakes: see $dir/lint-broken.log"; fi
  rm -f "$copy/common/planted.sh"
  rm -rf "$copy/tests/$lab" && mv "$saved" "$copy/tests/$lab" && mv "$saved.h" "$copy/labs/$lab/roundtrip.h" ||
    die "cannot restore $copy/tests/$lab"
  local tree s m
  for tree in solutions labs; do
    IPCLAB_BUILD=$build LAB=$n SOLUTIONS=$([ $tree = solutions ] && echo 1) STRICT=1 \
      REPORT="$dir/$tree.json" "$copy/common/ipclab.sh" check >"$dir/$tree.log" 2>&1
    read -r _ _ s m _ < <(awk -v l="$lab" '$1 == "lab" && $2 == l' "$dir/$tree.sum" 2>/dev/null)
    if [ -z "${s:-}" ]; then bad "$tree/$lab was not graded: see $dir/$tree.log"
    elif [ $tree = solutions ] && [ "$s" = "$m" ]; then ok "its solution scores full marks ($s/$m)"
    elif [ $tree = labs ] && [ "$s" -lt "$m" ]; then ok "its skeleton scores less ($s/$m)"
    else bad "$tree/$lab scored $s/$m: see $dir/$tree.log"; fi
  done
  echo "$passed passed, $failed failed"
  return $rc
}

if [ "${1:-}" = --prove ]; then
  [ -n "${2:-}" ] || die "usage: common/newlab.sh --prove DIR"
  prove "$2"
  exit
fi
[ $# -eq 0 ] || die "usage: make new-lab N=09 SLUG=shm-ring NAME=ring [TITLE='Shared-memory ring']"
[ -n "${N:-}" ] && [ -n "${SLUG:-}" ] && [ -n "${NAME:-}" ] ||
  die "say the lab's number, slug and file name: make new-lab N=09 SLUG=shm-ring NAME=ring [TITLE='...']"
TITLE=${TITLE:-$(tr '-' ' ' <<<"${SLUG:-}")}
TITLE=${TITLE^}
scaffold "$ROOT" "$N" "$SLUG" "$NAME" "$TITLE"
lab=$MADE
cat <<EOF >&2
ipclab: lab $lab created: labs/$lab/ (README.md, $NAME.h, $NAME.c, demo.c), solutions/$lab/$NAME.c,
  tests/$lab/ (lab.conf, grader.c, buggy/*.patch). It works already: make lint, then
  make test LAB=${lab%%-*} SKIP_SLIDES=1. Now replace the example with the lab's own API, in
  the order of README.md "Adding a lab", and add the lab to the README's table.
EOF
echo "$lab"
