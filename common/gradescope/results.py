# results.py: builds Gradescope's results.json from the grader's JSON reports (one per lab); never from console output.
"""Usage: results.py --frag DIR --labs "04-x 05-y" --start EPOCH --out FILE [--visibility V]

DIR holds LAB.report.json (a graded lab: ./ipclab check's REPORT) or LAB.json (a fragment
written by labtool ungraded: not submitted, rejected, grader error). A lab with neither
still gets a zero entry, so the file is always complete and valid.
"""
import argparse
import json
import os
import re
import sys
import time

STATUS_WORDS = {"fail": "failed", "error": "crashed or stopped early", "timeout": "timed out"}


def fence(text):
    """Student-influenced text as a Markdown code block that it cannot close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text.rstrip()}\n{ticks}"


def load_lab(frag, lab):
    for name in (f"{lab}.report.json", f"{lab}.json"):
        path = os.path.join(frag, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            data = json.load(f)
        if "labs" in data:  # a whole report: ours has exactly this lab
            found = [x for x in data["labs"] if x.get("lab") == lab]
            if found:
                return found[0]
        elif data.get("lab") == lab:
            return data
    return None


def test_entry(lab, num, t, visibility):
    short = lab.split("-", 1)[0]
    out = []
    if t["status"] != "pass":
        out.append(f"**{STATUS_WORDS.get(t['status'], t['status'])}**")
        if t.get("message"):
            out.append("What the grader observed:\n\n" + fence(t["message"]))
        if t.get("hint"):
            out.append("Hint: " + t["hint"])
        out.append(f"Re-run just this test in your clone: `make check LAB={short} TEST={t['name']}`")
    return {
        "name": f"{short} {t['name']}: {t.get('title', '')}".strip(),
        "number": num,
        "score": t.get("points", 0),
        "max_score": t.get("max", 0),
        "status": "passed" if t["status"] == "pass" else "failed",
        "output": "\n\n".join(out),
        "output_format": "md",
        "visibility": visibility,
    }


def lab_entries(lab_index, lab, data, visibility):
    tests = []
    short = lab.split("-", 1)[0]
    status = data.get("status", "graded")
    if status != "graded":
        # One score-less entry that says why the whole lab scored 0, above its tests.
        what = {
            "not-submitted": "was not submitted",
            "compile-error": "does not compile",
            "rejected": "was refused by the autograder",
            "grader-error": "could not be graded",
        }.get(status, status)
        tests.append({
            "name": f"{short} {data.get('title', lab)}: the lab {what} (0 points)",
            "number": f"{lab_index}.0",
            "status": "failed",
            "output": fence(data.get("detail", "") or what),
            "output_format": "md",
            "visibility": visibility,
        })
    for i, t in enumerate(data.get("tests", []), 1):
        e = test_entry(lab, f"{lab_index}.{i}", t, visibility)
        if status != "graded":
            e["output"] = ""
        tests.append(e)
    return tests


def build(args):
    labs = args.labs.split()
    tests, lines, total = [], [], 0
    for n, lab in enumerate(labs, 1):
        data = load_lab(args.frag, lab)
        if data is None:
            data = {"lab": lab, "title": lab, "status": "grader-error", "tests": [],
                    "detail": "the grader left no report for this lab"}
        tests += lab_entries(n, lab, data, args.visibility)
        score = sum(t.get("points", 0) for t in data.get("tests", []))
        mx = sum(t.get("max", 0) for t in data.get("tests", []))
        total += score
        lines.append(f"| {lab} | {score}/{mx} | {data.get('status', 'graded')} |")
    output = ("| lab | points | status |\n|---|---|---|\n" + "\n".join(lines) +
              "\n\nEach failing test says what the grader observed, a hint, and the command "
              "that re-runs it in your own clone of the lab.")
    return {
        "score": total,
        "execution_time": max(0, int(time.time() - float(args.start))),
        "output": output,
        "output_format": "md",
        "visibility": args.visibility,
        "tests": tests,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--frag", required=True)
    p.add_argument("--labs", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--visibility", default="visible")
    args = p.parse_args()
    if args.visibility not in ("hidden", "after_due_date", "after_published", "visible"):
        print(f"results.py: bad visibility {args.visibility!r}", file=sys.stderr)
        return 2
    res = build(args)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
