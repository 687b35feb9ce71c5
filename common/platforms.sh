#!/usr/bin/env bash
# platforms.sh: `make test-platforms`: proves the Gradescope autograder in a fresh Debian root, and the Classroom workflow and runner result.
#
# Gradescope: builds the zip, lays out /autograder in a fresh debootstrap root (standing in for
# Gradescope's image), runs setup.sh, then run_autograder (namespaces forced off, as in
# Gradescope's containers) for a solution, a skeleton, a buggy variant, a hostile variant and the
# broken cases (no file, a compile error, a constructor, a grader that cannot build, a results
# builder that fails), and validates every results.json against common/gradescope/results.schema.json.
# Classroom: see the second half. Settings: PLATFORM_LAB (default 04), PLATFORM_BUGGY (a patch
# name in tests/LAB/buggy/), SKIP_GRADESCOPE=1 or SKIP_CLASSROOM=1, PLATFORM_SUITE=jammy (an
# Ubuntu 22.04 root, Gradescope's default image, from archive.ubuntu.com, instead of this host's
# Debian; debootstrap cannot check its signatures without Ubuntu's keyring, apt in it then does).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${IPCLAB_BUILD:-$ROOT/build}
FRESH=$BUILD/fresh
OUT=$BUILD/platforms
START=$(date +%s)
passed=0 failed=0
GS=$ROOT/common/gradescope
SCHEMA=$GS/results.schema.json

ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*"; }
since() { echo "$(($(date +%s) - $1)) s"; }
# RLIMIT_NPROC counts every process of uid 65534 on the machine: other graders' fork bombs (a
# concurrent make test) can starve ours. Failures say how many there were.
elsewhere() {
  local n
  n=$(ps -eo uid=,pid= | while read -r u p; do [ "$u" = 65534 ] && [ "$(readlink "/proc/$p/root" 2>/dev/null)" != "${R:-}" ] && echo "$p"; done | wc -l)
  [ "$n" -gt 20 ] && echo " (meanwhile $n processes of uid 65534 ran outside this test: RLIMIT_NPROC is machine-wide)"
}

"$ROOT/common/deps.sh" python3=python3 patch=patch || exit 2
python3 -c 'import json, zipfile' 2>/dev/null || { echo "ipclab: python3 lacks json/zipfile: apt-get install python3" >&2; exit 2; }
lab_arg=${PLATFORM_LAB:-04}
LABN=$(cd "$ROOT/tests" && for d in [0-9][0-9]-*; do [ "$((10#${d%%-*}))" = "$((10#$lab_arg))" ] 2>/dev/null && echo "$d"; done)
[ -n "$LABN" ] || { echo "ipclab: PLATFORM_LAB=$lab_arg is not a lab" >&2; exit 2; }
FILE=$(sed -n 's/^files: *//p' "$ROOT/tests/$LABN/lab.conf")
[ "$(wc -w <<<"$FILE")" -eq 1 ] || { echo "ipclab: PLATFORM_LAB must be a one-file lab" >&2; exit 2; }
buggy=$ROOT/tests/$LABN/buggy/${PLATFORM_BUGGY:-$(cd "$ROOT/tests/$LABN/buggy" && printf '%s\n' *.patch | grep -v '^hostile-' | head -n 1)}
[ -f "$buggy" ] || { echo "ipclab: no buggy variant $buggy" >&2; exit 2; }
must_fail=$(sed -n 's/^Must fail: *//p' "$buggy" | head -n 1)

rm -rf "$OUT/variants"
mkdir -p "$OUT/variants"
# --- the variants: each one a submission folder ----------------------------------------------------
V=$OUT/variants
sol=$ROOT/solutions/$LABN/$FILE
mkdir -p "$V/solution" "$V/skeleton/$LABN" "$V/buggy/nested/$LABN" "$V/hostile" "$V/compile-error" "$V/missing" "$V/constructor"
cp "$sol" "$V/solution/$FILE"                       # flat
cp "$ROOT/labs/$LABN/$FILE" "$V/skeleton/$LABN/"      # in its lab folder
cp "$sol" "$V/buggy/nested/$LABN/$FILE"               # in a lab folder inside another folder
patch -s -d "$V/buggy/nested/$LABN" -p1 <"$buggy" || { echo "ipclab: $buggy does not apply" >&2; exit 3; }
# The hostile code runs at the top of every function the header declares (the first { after a
# non-static definition), so every test that calls the student triggers it.
{
  awk '{print} /^[a-z].*\)$/ && !/^static/ {arm = 1} arm && /^\{$/ {print "\tvoid hostile_try_everything(void);\n\thostile_try_everything();"; arm = 0}' "$sol"
  cat "$GS/hostile.c.in"
} >"$V/hostile/$FILE"
sed '0,/return/s/return\(.*\);/return\1/' "$sol" >"$V/compile-error/$FILE"
echo "my solution is in the other file" >"$V/missing/README.txt"
# A symlink to the hidden tests: root would copy them, and the compile errors would show them.
mkdir -p "$V/symlink"
ln -s "/autograder/source/tests/$LABN/grader.c" "$V/symlink/$FILE"
{ cat "$sol"; printf '#include <stdio.h>\n__attribute__((constructor)) static void early(void) { puts("before main"); }\n'; } >"$V/constructor/$FILE"

# results_field FILE EXPR: a python expression over r (the results) and tests.
results_field() {
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); tests = r["tests"]; print(eval(sys.argv[2]))' "$@" 2>/dev/null
}

# unpack_autograder ZIP: unzips into /autograder/source keeping each file's mode, as Gradescope
# does, and puts run_autograder where Gradescope runs it.
unpack_autograder() {
  python3 -c 'import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    p = z.extract(i, sys.argv[2])
    os.chmod(p, (i.external_attr >> 16) & 0o777 or 0o644)' "$1" "$R/autograder/source"
  cp "$R/autograder/source/run_autograder" "$R/autograder/run_autograder"
}

gradescope() {
  echo "== Gradescope: autograder.zip in a fresh root, run_autograder on $LABN =="
  # --- the zip -------------------------------------------------------------------------------------
  local zip=$OUT/autograder.zip all=$OUT/autograder-all.zip names
  if GRADESCOPE_ZIP=$zip LAB=$LABN "$GS/build.sh" >"$OUT/zip.log" 2>&1 &&
     GRADESCOPE_ZIP=$all LAB='' "$GS/build.sh" >>"$OUT/zip.log" 2>&1; then
    names=$(python3 - "$zip" "$all" "$ROOT" <<'PY'
import os, sys, zipfile
one, every, root = sys.argv[1:]
z = zipfile.ZipFile(one)
ex = lambda n: (z.getinfo(n).external_attr >> 16) & 0o111
problems = [n + " is not at the zip root and executable" for n in ("setup.sh", "run_autograder") if n not in z.namelist() or not ex(n)]
labs = sorted({n.split("/")[1] for n in z.namelist() if n.startswith("tests/")})
want = sorted(d for d in os.listdir(os.path.join(root, "tests")) if os.path.exists(os.path.join(root, "tests", d, "lab.conf")))
got = sorted({n.split("/")[1] for n in zipfile.ZipFile(every).namelist() if n.startswith("tests/") and n.endswith("lab.conf")})
if got != want:
    problems.append(f"the all-labs zip has {got}, not {want}")
if any("/buggy/" in n for n in z.namelist()):
    problems.append("the zip carries the buggy variants")
print("; ".join(problems) if problems else "ok " + " ".join(labs))
PY
)
    if [ "${names%% *}" = ok ]; then
      ok "make gradescope LAB=$LABN: setup.sh and run_autograder at the zip root, executable; labs: ${names#ok }; the all-labs zip has all $(cd "$ROOT/tests" && printf '%s\n' */lab.conf | wc -l)"
    else
      bad "autograder.zip: $names"
    fi
  else
    bad "make gradescope failed: $(tail -n 3 "$OUT/zip.log")"
    return
  fi

  # --- /autograder in a fresh root -----------------------------------------------------------------
  # shellcheck source=common/freshroot.sh
  . "$ROOT/common/freshroot.sh"
  if [ -n "${PLATFORM_SUITE:-}" ]; then
    export FRESH_SUITE=$PLATFORM_SUITE FRESH_MIRROR=${FRESH_MIRROR:-http://archive.ubuntu.com/ubuntu}
    export FRESH_DEBOOTSTRAP_OPTS="--no-check-gpg --components=main,universe" FRESH_OWN_SOURCES=1
  fi
  fresh_suite
  fresh_base || return
  R=$OUT/root
  # Docker gives each container (so each Gradescope submission) a private IPC namespace: without
  # one, the leak checks of the fallback would see other graders' SysV objects on this machine.
  FRESH_UNSHARE=--ipc
  fresh_root
  trap 'remove_root' EXIT
  mkdir -p "$R/autograder/source" "$R/autograder/submission" "$R/autograder/results"
  unpack_autograder "$zip"
  local t
  t=$(date +%s)
  if in_root bash -c 'cd /autograder/source && bash ./setup.sh' >"$OUT/setup.log" 2>&1; then
    ok "setup.sh as root in a fresh $suite root: $(grep -m1 'solution:' "$OUT/setup.log" | sed 's/^setup.sh: //') ($(since "$t"))"
  else
    bad "setup.sh failed; see $OUT/setup.log$(elsewhere)"
    tail -n 15 "$OUT/setup.log" | sed 's/^/        /'
    return
  fi
  local ra_sum
  ra_sum=$(cat "$R/autograder/run_autograder" "$R/autograder/source/run_autograder" | cksum)

  # grade VARIANT [ENV...]: runs run_autograder on the variant's folder; the results in $OUT/VARIANT.json.
  # Namespaces are off unless NS=1: Gradescope's containers may refuse them.
  grade() {
    local v=$1 name=$1 t envs=(IPCLAB_NO_NAMESPACES=1)
    shift
    [ "${1:-}" = "--as" ] && { name=$2; shift 2; }
    [ -n "${NS:-}" ] && envs=()
    rm -rf "$R/autograder/submission" "$R/autograder/results"
    mkdir -p "$R/autograder/submission"
    cp -r "$V/$v/." "$R/autograder/submission/"
    t=$(date +%s)
    in_root env "${envs[@]}" /autograder/run_autograder >"$OUT/$name.log" 2>&1
    local rc=$?
    cp "$R/autograder/results/results.json" "$OUT/$name.json" 2>/dev/null || : >"$OUT/$name.json"
    local why
    if ! why=$(python3 "$GS/validate.py" "$SCHEMA" "$OUT/$name.json" 2>&1 | head -n 3); then
      bad "$name: results.json is not valid: $why"
      return 1
    fi
    [ "$rc" -eq 0 ] || { bad "$name: run_autograder exited $rc (Gradescope wants 0)"; return 1; }
    SCORE=$(results_field "$OUT/$name.json" 'r["score"]')
    MAX=$(results_field "$OUT/$name.json" 'sum(t.get("max_score", 0) for t in tests)')
    TOOK=$(since "$t")
  }

  if grade solution && [ "$SCORE" = "$MAX" ] && [ "$MAX" -gt 0 ]; then
    ok "solution (flat): valid, full marks $SCORE/$MAX ($TOOK); $(grep -o 'tests run as uid 65534[^;]*' "$OUT/solution.log" | head -n 1)"
  else
    bad "solution: ${SCORE:-?}/${MAX:-?}, not full marks; see $OUT/solution.log$(elsewhere)"
  fi
  if NS=1 grade solution --as solution-namespaces && [ "$SCORE" = "$MAX" ]; then
    ok "solution, namespaces allowed: valid, full marks $SCORE/$MAX ($TOOK)"
  else
    bad "solution with namespaces: ${SCORE:-?}/${MAX:-?}; see $OUT/solution-namespaces.log"
  fi
  if grade skeleton && [ "$SCORE" -lt "$MAX" ]; then
    ok "skeleton (in its lab folder): valid, $SCORE/$MAX ($TOOK)"
  else
    bad "skeleton: ${SCORE:-?}/${MAX:-?}; see $OUT/skeleton.log"
  fi
  if grade buggy; then
    local missed
    missed=$(results_field "$OUT/buggy.json" "' '.join(n for n in '$must_fail'.split() if not any(t['name'].startswith('${LABN%%-*} ' + n + ':') and t['status'] == 'failed' and t['score'] == 0 for t in tests))")
    if [ -z "$missed" ] && [ "$SCORE" -lt "$MAX" ]; then
      ok "buggy $(basename "$buggy" .patch) (nested folder): valid, $SCORE/$MAX, loses $must_fail ($TOOK)"
    else
      bad "buggy $(basename "$buggy"): $SCORE/$MAX, still passes: ${missed:-?}"
    fi
  fi
  if grade hostile; then
    local leftover forged
    leftover=$(ps -eo uid=,pid= | while read -r u p; do [ "$u" = 65534 ] && [ "$(readlink "/proc/$p/root" 2>/dev/null)" = "$R" ] && echo "$p"; done | wc -l)
    # A file the hostile code created in results/ would prove it could write there.
    forged=$(grep -c 9999 "$OUT/hostile.json")
    [ -e "$R/autograder/results/forged" ] && forged=$((forged + 1))
    [ -e "$R/tmp/ipclab-hostile-read-the-tests" ] && forged=$((forged + 100)) # it could read the tests
    if [ "$SCORE" -lt "$MAX" ] && [ "$forged" -eq 0 ] && [ "$leftover" -eq 0 ] && grep -q 'sandbox:.*tests run as uid 65534' "$OUT/hostile.log" &&
       [ "$(cat "$R/autograder/run_autograder" "$R/autograder/source/run_autograder" | cksum)" = "$ra_sum" ]; then
      ok "hostile (writes results.json and run_autograder, reads the tests, prints fake score lines, fork-bombs): valid, $SCORE/$MAX, nothing forged or read, no process left ($TOOK)"
    else
      bad "hostile: $SCORE/$MAX, forged results (+100: read the tests): $forged, processes left: $leftover, run_autograder changed: see $OUT/hostile.log"
    fi
  fi
  if grade compile-error && [ "$SCORE" = 0 ] && [ "$(results_field "$OUT/compile-error.json" '"does not compile" in tests[0]["name"] and "error" in tests[0]["output"]')" = True ]; then
    ok "compile error: valid, 0/$MAX with the compiler's message ($TOOK)"
  else
    bad "compile error: ${SCORE:-?}/${MAX:-?}; see $OUT/compile-error.json"
  fi
  if grade missing && [ "$SCORE" = 0 ] && [ "$(results_field "$OUT/missing.json" '"not submitted" in tests[0]["name"] and "README.txt" in tests[0]["output"]')" = True ]; then
    ok "nothing submitted: valid, 0/$MAX, says what was found instead ($TOOK)"
  else
    bad "missing: ${SCORE:-?}/${MAX:-?}; see $OUT/missing.json"
  fi
  if grade constructor && [ "$SCORE" = 0 ] && [ "$(results_field "$OUT/constructor.json" '"refused" in tests[0]["name"] and "constructor" in tests[0]["output"]')" = True ]; then
    ok "a constructor (code outside the tests): refused with the reason, 0/$MAX ($TOOK)"
  else
    bad "constructor: ${SCORE:-?}/${MAX:-?}; see $OUT/constructor.json"
  fi
  if grade symlink && [ "$SCORE" = 0 ] && ! grep -q GRADER_TEST "$OUT/symlink.json" &&
     [ "$(results_field "$OUT/symlink.json" '"not submitted" in tests[0]["name"]')" = True ]; then
    ok "a symlink to the hidden tests as the submission: not followed, 0/$MAX, nothing of the tests shown ($TOOK)"
  else
    bad "symlink: ${SCORE:-?}/${MAX:-?}; see $OUT/symlink.json"
  fi
  # The grader itself broken (its tests do not compile): that lab scores 0 with a clear message.
  local g=$R/autograder/source/tests/$LABN/grader.c
  cp "$g" "$g.orig" && echo '#error the grader is broken on purpose' >>"$g"
  rm -rf "$R/autograder/build/graders"
  if grade solution --as grader-error && [ "$SCORE" = 0 ] && [ "$(results_field "$OUT/grader-error.json" '"could not be graded" in tests[0]["name"] and "instructor" in tests[0]["output"]')" = True ]; then
    ok "a grader that cannot build: valid, 0/$MAX, tells the student to tell the instructor ($TOOK)"
  else
    bad "grader error: ${SCORE:-?}/${MAX:-?}; see $OUT/grader-error.json"
  fi
  mv "$g.orig" "$g"
  # The results builder itself failing: the fallback results.json is still valid.
  local b=$R/autograder/source/common/gradescope/results.py
  mv "$b" "$b.orig"
  if grade solution --as builder-error && [ "$SCORE" = 0 ] && grep -q 'could not grade' "$OUT/builder-error.json"; then
    ok "a results builder that fails: the fallback results.json is valid, 0 with a message ($TOOK)"
  else
    bad "builder error: see $OUT/builder-error.json"
  fi
  mv "$b.orig" "$b"

  # The all-labs zip, in the same root: every solution, each in its lab folder, gets full marks
  # (the submission is graded as preprocessed by uid 65534, so this proves that changes nothing).
  rm -rf "$R/autograder/source" "$R/autograder/build" "$V/all"
  mkdir -p "$R/autograder/source" "$V/all"
  unpack_autograder "$all"
  cp -r "$ROOT/solutions/." "$V/all/"
  t=$(date +%s)
  if in_root bash -c 'cd /autograder/source && bash ./setup.sh' >"$OUT/setup-all.log" 2>&1 &&
     grade all && [ "$SCORE" = "$MAX" ] && [ "$(results_field "$OUT/all.json" 'len({t["number"].split(".")[0] for t in tests})')" = "$(cd "$ROOT/tests" && printf '%s\n' */lab.conf | wc -l)" ]; then
    ok "the all-labs zip: setup.sh, then every solution in its lab folder: valid, full marks $SCORE/$MAX ($(since "$t"))"
  else
    bad "the all-labs zip: ${SCORE:-?}/${MAX:-?}; see $OUT/setup-all.log and $OUT/all.log$(elsewhere)"
  fi
  remove_root
  trap - EXIT
}

classroom() {
  echo "== GitHub Classroom: the workflow, and the runner result of a buggy and a hostile variant =="
  local dir=$OUT/classroom wf
  rm -rf "$dir"
  if LAB=$LABN "$ROOT/common/classroom.sh" workflow "$dir" >"$OUT/classroom-workflow.log" 2>&1; then
    wf=$dir/.github/workflows/classroom.yml
  else
    bad "classroom.sh workflow failed: $(cat "$OUT/classroom-workflow.log")"
    return
  fi
  # Debian's python3-yaml parses it (the host's python3 may lack yaml: ask for the system one).
  local why
  "$ROOT/common/deps.sh" file:/usr/lib/python3/dist-packages/yaml/__init__.py=python3-yaml >/dev/null || { bad "python3-yaml is missing"; return; }
  local yaml_rc
  why=$(/usr/bin/python3 - "$wf" <<'PY'
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
p = []
if w.get("name") != "Autograding Tests": p.append("workflow name")
if list(w.get("jobs", {})) != ["run-autograding-tests"]: p.append("the one job run-autograding-tests")
if w.get("permissions", {}).get("checks") != "write": p.append("checks: write")
if not {"push", "repository_dispatch"} <= set(w.get("on", [])): p.append("on push and repository_dispatch")
job = w.get("jobs", {}).get("run-autograding-tests", {})
if "github-classroom[bot]" not in job.get("if", ""): p.append("the if that skips Classroom's own commit")
steps = job.get("steps", [])
uses = [s.get("uses", "") for s in steps]
if "actions/checkout@v4" not in uses: p.append("checkout")
grade = [s for s in steps if s.get("id") == "ipclab"]
if not grade or "classroom.sh grade" not in grade[0].get("run", "") or "sudo" not in grade[0].get("run", ""): p.append("the grade step (id ipclab, as root)")
rep = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter@")]
if not rep or rep[0].get("with", {}).get("runners") != "ipclab" or rep[0].get("env", {}).get("IPCLAB_RESULTS") != "${{steps.ipclab.outputs.result}}":
    p.append("the reporter with runners: ipclab and IPCLAB_RESULTS")
if rep and "actions/checkout@v4" in uses and uses.index(rep[0]["uses"]) < uses.index("actions/checkout@v4"): p.append("step order")
print("; ".join(p))
PY
  )
  yaml_rc=$?
  if [ "$yaml_rc" -eq 0 ] && [ -z "$why" ]; then
    ok "make classroom: the YAML parses; workflow 'Autograding Tests', job run-autograding-tests, checkout, install, grade (sudo), reporter (runners: ipclab)"
  else
    bad "classroom.yml: wrong or missing: ${why:-it does not parse}"
  fi

  # cgrade VARIANT: the grade step on a variant (as a lab folder), with a GITHUB_OUTPUT file.
  cgrade() {
    local v=$1 sub=$OUT/classroom/$1
    mkdir -p "$sub/$LABN"
    find "$V/$v" -name "$FILE" -exec cp {} "$sub/$LABN/$FILE" \;
    : >"$OUT/classroom-$v.out"
    GITHUB_OUTPUT=$OUT/classroom-$v.out LABS_DIR=$sub LAB=$LABN REPORT=$OUT/classroom-$v-report.json "$ROOT/common/classroom.sh" grade >"$OUT/classroom-$v.log" 2>&1
    sed -n 's/^result=//p' "$OUT/classroom-$v.out" | base64 -d >"$OUT/classroom-$v.json" 2>/dev/null
  }
  cgrade buggy
  if why=$(python3 "$GS/validate.py" "$ROOT/common/classroom.schema.json" "$OUT/classroom-buggy.json" 2>&1); then
    # REPORT= keeps the same run's JSON report: the runner result must say exactly what it says.
    why=$(python3 - "$OUT/classroom-buggy.json" "$OUT/classroom-buggy-report.json" "$must_fail" "${LABN%%-*}" <<'PY'
import json, sys
rr, rep = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
must, short = sys.argv[3].split(), sys.argv[4]
p = []
got = sum(t["score"] for t in rr["tests"])
tests = [t for l in rep["labs"] for t in l["tests"]]
if rr["max_score"] != rep["max"]: p.append(f"max_score {rr['max_score']} != report max {rep['max']}")
if got != rep["score"]: p.append(f"points {got} != report score {rep['score']}")
if len(rr["tests"]) != len(tests): p.append(f"{len(rr['tests'])} entries for {len(tests)} tests")
for a, b in zip(rr["tests"], tests):
    if a["score"] != b["points"] or not a["name"].startswith(f"{short} {b['name']}:"): p.append(f"entry {a['name']} != {b['name']}")
for n in must:
    if not any(a["name"].startswith(f"{short} {n}:") and a["score"] == 0 and a["status"] != "pass" for a in rr["tests"]):
        p.append(f"{n} is not failed with 0")
if rr["status"] != "fail": p.append(f"status {rr['status']}")
partial = [a for a in rr["tests"] if a["score"] > 0]
print("; ".join(p[:3]) if p else f"ok {got}/{rr['max_score']} over {len(tests)} tests, {len(partial)} with points")
PY
    )
    if [ "${why%% *}" = ok ]; then
      ok "runner result of buggy $(basename "$buggy" .patch): valid version 1; ${why#ok } (per test), equal to the JSON report; $must_fail at 0"
    else
      bad "runner result of the buggy variant: $why"
    fi
  else
    bad "runner result of the buggy variant is not valid: $why"
  fi

  # Lab code that prints workflow commands: all of it lands between stop-commands and the token.
  cgrade hostile
  why=$(python3 - "$OUT/classroom-hostile.log" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
stop = [i for i, l in enumerate(lines) if l.startswith("::stop-commands::")]
if len(stop) != 1: print("no single ::stop-commands:: line"); sys.exit()
tok = lines[stop[0]].split("::")[2]
end = [i for i, l in enumerate(lines) if l == f"::{tok}::"]
if len(end) != 1 or end[0] < stop[0]: print("the token never resumes commands"); sys.exit()
inside = "\n".join(lines[stop[0] + 1:end[0]])
outside = [l for i, l in enumerate(lines) if (i < stop[0] or i > end[0]) and l.strip().startswith("::")]
if "::notice title=Autograding complete::Points 9999" not in inside: print("the hostile lines are not in the log at all (nothing proven)"); sys.exit()
if tok in inside: print("the token appears inside the block"); sys.exit()
print("; ".join("command outside the block: " + l for l in outside) or "ok")
PY
  )
  local hs
  hs=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("%d/%d" % (sum(t["score"] for t in r["tests"]), r["max_score"]))' "$OUT/classroom-hostile.json" 2>/dev/null)
  if [ "$why" = ok ] && [ -n "$hs" ] && [ "${hs%/*}" -lt "${hs#*/}" ]; then
    ok "hostile variant: its '::notice title=Autograding complete::Points 9999/9999' stays inside ::stop-commands::<random token>; runner result $hs"
  else
    bad "hostile variant on Classroom: ${why:-?}, runner result ${hs:-none}; see $OUT/classroom-hostile.log"
  fi
}

[ -n "${SKIP_GRADESCOPE:-}" ] || {
  if [ "$(id -u)" -ne 0 ]; then
    echo "ipclab: the Gradescope half of make test-platforms builds a Debian root (debootstrap, chroot): run it as root, or SKIP_GRADESCOPE=1" >&2
    exit 2
  fi
  "$ROOT/common/deps.sh" debootstrap=debootstrap unshare=util-linux || exit 2
  gradescope
}

[ -n "${SKIP_CLASSROOM:-}" ] || classroom

echo "== make test-platforms: $(since "$START") wall =="
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
