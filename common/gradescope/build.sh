#!/usr/bin/env bash
# build.sh: `make gradescope [LAB=04]`: writes build/gradescope/autograder.zip (setup.sh and run_autograder at its root).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
OUT=${GRADESCOPE_ZIP:-$BUILD/gradescope/autograder.zip}
VISIBILITY=${VISIBILITY:-visible}
"$ROOT/common/deps.sh" python3=python3 || exit 2
python3 -c 'import zipfile, json' 2>/dev/null || { echo "ipclab: python3 lacks zipfile/json: install the package python3" >&2; exit 2; }
case $VISIBILITY in hidden|after_due_date|after_published|visible) ;;
  *) echo "ipclab: VISIBILITY must be visible, hidden, after_due_date or after_published (got '$VISIBILITY')" >&2; exit 2 ;;
esac

labs=()
for w in ${LAB:+${LAB//,/ }}; do
  hit=
  for d in "$ROOT"/tests/[0-9][0-9]-*/; do
    l=$(basename "$d")
    if [ "$w" = "$l" ] || [ "$w" = "${l#*-}" ] || { [[ $w =~ ^[0-9]+$ ]] && [ "$((10#$w))" = "$((10#${l%%-*}))" ]; }; then hit=$l; fi
  done
  [ -n "$hit" ] || { echo "ipclab: there is no lab '$w'. The labs are: $(cd "$ROOT/tests" && printf "%s " [0-9][0-9]-*)" >&2; exit 2; }
  labs+=("$hit")
done
[ ${#labs[@]} -gt 0 ] || mapfile -t labs < <(cd "$ROOT/tests" && printf "%s\n" [0-9][0-9]-*)

mkdir -p "$(dirname "$OUT")"
trap 'rm -f "$OUT.part"' EXIT
python3 - "$ROOT" "$OUT" "$VISIBILITY" "${labs[@]}" <<'PY' || exit 3
import os, sys, zipfile
root, out, vis, labs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def add(z, path, arc, mode=None):
    info = zipfile.ZipInfo(arc, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    st = os.stat(path)
    info.external_attr = ((mode or st.st_mode) & 0xFFFF) << 16
    with open(path, "rb") as f:
        z.writestr(info, f.read())
def tree(z, rel, skip=()):
    for d, dirs, files in os.walk(os.path.join(root, rel)):
        dirs[:] = sorted(x for x in dirs if x not in skip)
        for f in sorted(files):
            p = os.path.join(d, f)
            add(z, p, os.path.relpath(p, root))
part = out + ".part"
with zipfile.ZipFile(part, "w") as z:
    # At the zip root, as Gradescope requires (a zip of the folder is the classic mistake).
    add(z, os.path.join(root, "common/gradescope/setup.sh"), "setup.sh", 0o100755)
    add(z, os.path.join(root, "common/gradescope/run_autograder"), "run_autograder", 0o100755)
    info = zipfile.ZipInfo("gradescope.conf", date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o100644 << 16
    z.writestr(info, "# gradescope.conf: what this upload grades (written by make gradescope).\n"
               f"LABS='{' '.join(labs)}'\nVISIBILITY={vis}\n")
    add(z, os.path.join(root, "ipclab"), "ipclab")
    tree(z, "common", skip=("templates",))  # make new-lab's templates (with their buggy/) are not for grading
    for lab in labs:
        for part_dir in ("labs", "tests", "solutions"):
            tree(z, os.path.join(part_dir, lab), skip=("buggy",))
os.replace(part, out)
PY
echo "ipclab: wrote $(realpath --relative-to="$PWD" "$OUT" 2>/dev/null || echo "$OUT") for ${#labs[@]} lab(s): ${labs[*]}"
echo "  upload it as the autograder of a Gradescope programming assignment (Ubuntu 22.04 base image)."
echo "  students submit their .c file(s), flat or in lab folders (e.g. 04-pipe-backpressure/pipes_lab.c)."
