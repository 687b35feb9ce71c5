#!/usr/bin/env bash
# fresh.sh: `make test-fresh`: runs the README's quick start in a fresh minimal Debian root.
#
# Proves that a new machine with only git and make needs no other command typed: a minimal
# root is built with debootstrap (cached in build/fresh/ between runs), given this host's apt
# sources, CA certificates and npm configuration (so it reaches the same package registries),
# and a clone of this repository's committed HEAD. Then, inside it:
#   1. as an unprivileged user, `make check` and `make test` each print the one install
#      command (C library headers included) and exit 2;
#   2. as root, `make check` installs what it needs and grades; `make test` passes.
# The root is entered with chroot, so "/" is not a mount point and no cgroup hierarchy is
# mounted: the grader's fallbacks for both are exercised by the whole self-test.
# Settings: FRESH_SUITE (default: this host's codename), FRESH_MIRROR (default: this host's
# first Debian source), FRESH_KEEP=1 keeps the root afterwards for a look.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
FRESH=$BUILD/fresh
START=$(date +%s)
passed=0 failed=0

ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*"; }
since() { echo "$(($(date +%s) - $1)) s"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "ipclab: make test-fresh builds a Debian root with debootstrap and chroot: run it as root" >&2
  exit 2
fi
"$ROOT/common/deps.sh" debootstrap=debootstrap git=git unshare=util-linux || exit 2
git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null || { echo "ipclab: $ROOT is not a git clone with a commit" >&2; exit 2; }

# shellcheck source=common/freshroot.sh
. "$ROOT/common/freshroot.sh"

fresh_suite
echo "== make test-fresh: the quick start on a fresh $ID $suite root (git, make, ca-certificates only) =="
fresh_base || { echo "$passed passed, $failed failed"; exit 1; }

# --- a fresh copy, with the host's package sources, CA certificates and npm configuration -------
R=$FRESH/root
fresh_root
git clone -q "$ROOT" "$R/root/ipclab" || { bad "git clone into the fresh root failed"; exit 1; }
chmod 755 "$R/root"
ok "fresh root with the host's apt sources, CA certificates and npm configuration; clone of $(git -C "$ROOT" rev-parse --short HEAD)"

# --- 1. an unprivileged user without the packages: one install line, exit 2 --------------------
for target in check test; do
  in_root setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
    make -C /root/ipclab "$target" >"$FRESH/nonroot-$target.log" 2>&1
  rc=$?
  line=$(grep -m1 'sudo apt-get' "$FRESH/nonroot-$target.log" | sed 's/^ *//')
  if [ $rc -ne 0 ] && [ -n "$line" ] && [[ $line == *libc6-dev* ]] && ! grep -q 'internal error' "$FRESH/nonroot-$target.log"; then
    ok "as nobody, make $target says: $line (exit $rc)"
  else
    bad "as nobody, make $target (exit $rc) did not print the install line; see $FRESH/nonroot-$target.log"
    tail -n 8 "$FRESH/nonroot-$target.log" | sed 's/^/        /'
  fi
done

# --- 2. root: make check grades, make test passes ------------------------------------------------
t=$(date +%s)
in_root make -C /root/ipclab check >"$FRESH/check.log" 2>&1
rc=$?
result=$(grep -m1 '^Result:' "$FRESH/check.log")
sandbox=$(grep -m1 'sandbox:' "$FRESH/check.log" | sed 's/^ *//')
if [ $rc -eq 0 ] && [ -n "$result" ]; then
  ok "make check: ${result#Result: } ($(since "$t"), exit 0)"
  echo "        $sandbox"
else
  bad "make check (exit $rc) did not grade; see $FRESH/check.log"
  tail -n 15 "$FRESH/check.log" | sed 's/^/        /'
fi

t=$(date +%s)
in_root make -C /root/ipclab test >"$FRESH/test.log" 2>&1
rc=$?
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$FRESH/test.log" | tail -n 1)
if [ $rc -eq 0 ] && [ -n "$summary" ]; then
  ok "make test: $summary ($(since "$t"))"
else
  bad "make test (exit $rc): ${summary:-no summary}; see $FRESH/test.log"
  grep -E '^  FAIL' "$FRESH/test.log" | head -n 20 | sed 's/^/      /'
fi

[ -n "${FRESH_KEEP:-}" ] || remove_root
echo "== make test-fresh: $(since "$START") wall =="
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
