#!/usr/bin/env bash
# setup.sh: Gradescope runs this once, as root, when it builds the autograder image: install and prove the grader.
set -uo pipefail
umask 026 # uid 65534 (the tests) may run the grader but not read what is built (run_autograder too)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AG=${AUTOGRADER:-/autograder}
export IPCLAB_BUILD=$AG/build
# Gradescope's default image is Ubuntu 22.04; Debian 12 has the same packages.
"$SRC/common/deps.sh" cc=gcc file:/usr/include/stdio.h=libc6-dev make=make pkg-config=pkg-config \
  pc:check=check python3=python3 nm=binutils \
  setpriv=util-linux unshare=util-linux timeout=coreutils || exit 1
# python3-minimal alone lacks json: the full python3 package brings it.
python3 -c 'import json, argparse' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null ||
  { echo "setup.sh: python3 lacks json and apt-get could not install python3" >&2; exit 1; }
# The grader's build lives outside source/ (root only): uid 65534 must be able to run the binary.
mkdir -p "$IPCLAB_BUILD"
chmod 711 "$AG" "$IPCLAB_BUILD"
chmod 700 "$SRC"
# shellcheck source=/dev/null
. "$SRC/gradescope.conf"
# Prove the image: every reference solution shipped in the upload gets full marks here.
for lab in $LABS; do
  [ -d "$SRC/solutions/$lab" ] || continue # a rebuild after the first setup
  if ! LAB=$lab SOLUTIONS=1 REPORT=$IPCLAB_BUILD/setup-$lab.json "$SRC/ipclab" check >"$IPCLAB_BUILD/setup-$lab.log" 2>&1; then
    tail -n 25 "$IPCLAB_BUILD/setup-$lab.log"
    echo "setup.sh: the reference solution of $lab does not get full marks in this image" >&2
    exit 1
  fi
  grep -m1 '^Result:' "$IPCLAB_BUILD/setup-$lab.log" | sed "s/^/setup.sh: $lab solution: /"
done
rm -rf "$SRC/solutions" # proven; no need to keep them in the image
