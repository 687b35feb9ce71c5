# classroom.py: turns the grader's JSON report into the runner result that GitHub Classroom's autograding-grading-reporter reads.
"""Usage: classroom.py REPORT.json OUT.json   (then base64 OUT.json into the step output `result`)

Version 1 runner result: {version, status, max_score, tests: [{name, status, score, message,
test_code, filename, line_no, duration}]}. The reporter adds up each test's `score` and the
runners' `max_score`, so every Check test keeps its own points: partial credit reaches Classroom.
A lab that was not graded (missing, compile error) has each of its tests at 0, status "error".
"""
import json
import sys


def runner_result(report):
    tests = []
    for lab in report.get("labs", []):
        short = lab["lab"].split("-", 1)[0]
        graded = lab.get("status") == "graded"
        for t in lab.get("tests", []):
            msg = t.get("message", "")
            if not graded:
                msg = f"lab {lab['lab']}: {lab.get('status')}: {lab.get('detail', '')}".strip()
            if t.get("status") != "pass" and t.get("hint"):
                msg += "\nHint: " + t["hint"]
            tests.append({
                "name": f"{short} {t['name']}: {t.get('title', '')}".strip(),
                "status": {"pass": "pass", "fail": "fail"}.get(t.get("status"), "error"),
                "score": t.get("points", 0),
                "message": msg if t.get("status") != "pass" else "",
                "test_code": f"make check LAB={short} TEST={t['name']}",
                "filename": "",
                "line_no": 0,
                "duration": 0,
            })
    max_score = sum(t.get("max", 0) for lab in report.get("labs", []) for t in lab.get("tests", []))
    if not tests:
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    elif any(t["status"] == "fail" for t in tests):
        status = "fail"
    else:
        status = "error"
    return {"version": 1, "status": status, "max_score": max_score, "tests": tests}


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8", errors="replace") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        # No report: the run could not grade. An explicit error with no points, never a pass.
        report = {"labs": []}
        print(f"classroom.py: no usable report ({e})", file=sys.stderr)
    res = runner_result(report)
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(res, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
