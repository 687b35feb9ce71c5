#!/usr/bin/env python3
"""gradebook.py: a class's gradebook (grades.csv, grades.json), per-student feedback pages and the class report (index.html).

Reads what common/class.sh left in OUT: roster (student names, NUL-separated), labs.tsv (lab, max,
title) and, per student, students/<name>/report.json (the grader's own JSON report), status,
notes.txt and found.txt. Writes only into OUT. Every page is self-contained: no script, no
request leaves the file.
"""
import argparse
import collections
import csv
import html
import json
import os
import statistics
import sys
import time
from urllib.parse import quote

NOT_IMPLEMENTED = "is not implemented yet"


def read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def load_class(out):
    labs = []
    for line in read(os.path.join(out, "labs.tsv")).splitlines():
        lab, mx, title = line.split("\t", 2)
        labs.append({"lab": lab, "max": int(mx), "title": title})
    roster = [n for n in read(os.path.join(out, "roster")).split("\0") if n]
    students = [load_student(out, name, labs) for name in roster]
    return labs, students


def load_student(out, name, labs):
    d = os.path.join(out, "students", name)
    st = {"name": name, "score": 0, "max": sum(l["max"] for l in labs), "labs": [],
          "notes": [n for n in read(os.path.join(d, "notes.txt")).splitlines() if n]}
    status = read(os.path.join(d, "status")).strip()
    report = None
    if os.path.exists(os.path.join(d, "report.json")):
        try:
            report = json.loads(read(os.path.join(d, "report.json")))
        except ValueError:
            report = None
    if report is not None:
        by_lab = {l["lab"]: l for l in report["labs"]}
        for meta in labs:
            r = by_lab.get(meta["lab"])
            if r is None:
                st["labs"].append({"lab": meta["lab"], "score": 0, "max": meta["max"], "status": "not-graded", "tests": []})
                continue
            st["labs"].append({"lab": r["lab"], "score": r["score"], "max": r["max"], "status": r["status"],
                               "detail": r.get("detail", ""),
                               "tests": [{k: t.get(k) for k in ("name", "title", "points", "max", "status", "message", "hint")}
                                         for t in r.get("tests", [])]})
        st["score"] = sum(l["score"] for l in st["labs"])
        st["max"] = sum(l["max"] for l in st["labs"])
        st["status"] = "graded"
    else:
        found = read(os.path.join(d, "found.txt")).split("\n")
        if os.path.exists(os.path.join(d, "found.txt")):
            st["status"] = "no-lab-files"
            st["found"] = [f for f in found if f]
        elif status == "":
            st["status"] = "not-graded-yet"
        else:
            st["status"] = "error"
            st["log"] = read(os.path.join(d, "log.txt"))[-3000:]
        for meta in labs:
            st["labs"].append({"lab": meta["lab"], "score": 0, "max": meta["max"], "status": st["status"], "tests": []})
    return st


def status_text(st):
    """The gradebook's status column: empty when every lab was graded."""
    if st["status"] == "no-lab-files":
        return "no lab files found"
    if st["status"] == "not-graded-yet":
        return "not graded yet (the run was interrupted)"
    if st["status"] == "error":
        return "could not be graded: see log.txt"
    parts = ["%s %s" % (l["lab"][:2], l["status"].replace("-", " ")) for l in st["labs"] if l["status"] != "graded"]
    return "; ".join(parts)


def write_csv(out, labs, students):
    tmp = os.path.join(out, "grades.csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student"] + [l["lab"] for l in labs] + ["total", "max", "status"])
        for st in students:
            w.writerow([st["name"]] + [l["score"] for l in st["labs"]] + [st["score"], st["max"], status_text(st)])
    os.replace(tmp, os.path.join(out, "grades.csv"))


def write_json(out, labs, students):
    tmp = os.path.join(out, "grades.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "labs": labs,
                   "students": students}, f, ensure_ascii=False, indent=1)
    os.replace(tmp, os.path.join(out, "grades.json"))


CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse}td,th{padding:.25em .6em;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}.full{color:#186a18}.below{color:#a33}
.miss{margin:.8em 0;padding:.5em .8em;border-left:4px solid #c66;background:#fbf4f4}
.miss .share{font-weight:bold}.small{color:#666;font-size:.9em}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}
.hists{display:flex;flex-wrap:wrap;gap:1.2em}.hist{width:16em}.hist svg{display:block}
"""


def page(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            "<title>%s</title><style>%s</style></head><body>\n%s\n</body></html>\n" % (html.escape(title), CSS, body))


def e(s):
    return html.escape(str(s))


def first_line(text, limit=240):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def feedback(out, st, labs):
    rows, sections = [], []
    for l in st["labs"]:
        cls = "full" if l["score"] == l["max"] and l["status"] == "graded" else "below"
        rows.append("<tr><td>%s</td><td class=\"%s\">%d/%d</td><td>%s</td></tr>" % (
            e(l["lab"]), cls, l["score"], l["max"], e(l["status"].replace("-", " "))))
        failing = [t for t in l["tests"] if t["status"] not in ("pass", "skip")]
        if l["status"] != "graded" and l.get("detail"):
            sections.append("<h2>%s: %s</h2><pre>%s</pre>" % (e(l["lab"]), e(l["status"].replace("-", " ")), e(l["detail"][-4000:])))
        if failing:
            items = []
            for t in failing:
                items.append("<div class=\"miss\"><div><b>%s</b> (%d of %d point(s) lost, %s)</div><pre>%s</pre>"
                             "<div class=\"small\">hint: %s</div><div class=\"small\">re-run just this test: "
                             "<code>make check LAB=%s TEST=%s</code></div></div>" % (
                                 e(t["title"]), t["max"] - t["points"], t["max"], e(t["status"]), e(t["message"]),
                                 e(t["hint"]), e(l["lab"][:2]), e(t["name"])))
            sections.append("<h2>%s: what to fix</h2>%s" % (e(l["lab"]), "".join(items)))
    notes = ""
    if st.get("notes"):
        notes = "<p class=\"small\">Files taken from other places than their lab folder: %s</p>" % e("; ".join(st["notes"]))
    if st["status"] == "no-lab-files":
        notes += "<p>No lab file was found in this submission. Found instead: <code>%s</code>. Each lab's files " \
                 "go in its own folder, for example <code>04-pipe-backpressure/pipes_lab.c</code>.</p>" % e(", ".join(st.get("found", [])) or "nothing")
    if st["status"] == "not-graded-yet":
        notes += "<p>Not graded yet: the class run was interrupted before this submission.</p>"
    if st["status"] == "error":
        notes += "<p>This submission could not be graded; the log ends with:</p><pre>%s</pre>" % e(st.get("log", ""))
    body = ("<h1>Feedback for %s</h1><p>Total: <b>%d/%d</b></p><table><tr><th>lab</th><th>score</th><th>status</th></tr>%s</table>%s%s"
            % (e(st["name"]), st["score"], st["max"], "".join(rows), notes, "".join(sections)))
    path = os.path.join(out, "students", st["name"], "feedback.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page("Feedback: " + st["name"], body))


def histogram(lab, students):
    """An SVG bar chart of the graded students' scores in ten bins of 10% each."""
    bins = [0] * 10
    for st in students:
        l = next(x for x in st["labs"] if x["lab"] == lab["lab"])
        if l["status"] == "graded":
            bins[min(9, l["score"] * 10 // max(1, l["max"]))] += 1
    top = max(bins) or 1
    w, h = 240, 90
    bars = []
    for i, n in enumerate(bins):
        bh = round(n * (h - 14) / top)
        bars.append("<rect x=\"%d\" y=\"%d\" width=\"20\" height=\"%d\" fill=\"#5a7fbf\" data-bin=\"%d\" data-count=\"%d\">"
                    "<title>%d%%-%d%%: %d student(s)</title></rect>" % (i * 24, h - 12 - bh, bh, i, n, i * 10, i * 10 + 10, n))
        if n:
            bars.append("<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">%d</text>" % (i * 24 + 10, h - 14 - bh, n))
    axis = "<text x=\"0\" y=\"%d\" font-size=\"9\">0%%</text><text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"end\">100%%</text>" % (h, w - 4, h)
    return "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"scores of %s\">%s%s</svg>" % (w, h, e(lab["lab"]), "".join(bars), axis)


def misses(labs, students):
    """Per test: how many of the students whose lab was graded (and who attempted it) failed it."""
    found = []
    for lab in labs:
        graded = [next(x for x in st["labs"] if x["lab"] == lab["lab"]) for st in students]
        graded = [l for l in graded if l["status"] == "graded"]
        names = collections.OrderedDict()
        for l in graded:
            for t in l["tests"]:
                names.setdefault(t["name"], t)
        for name, meta in names.items():
            attempted = failed = 0
            messages = collections.Counter()
            for l in graded:
                t = next((t for t in l["tests"] if t["name"] == name), None)
                if t is None or t["status"] == "skip" or NOT_IMPLEMENTED in (t["message"] or ""):
                    continue
                attempted += 1
                if t["status"] != "pass":
                    failed += 1
                    messages[first_line(t["message"])] += 1
            if failed:
                found.append({"lab": lab["lab"], "test": name, "title": meta["title"], "hint": meta["hint"],
                              "failed": failed, "attempted": attempted, "messages": messages.most_common(2)})
    found.sort(key=lambda m: (-m["failed"] / m["attempted"], -m["failed"], m["lab"], m["test"]))
    return found


def index(out, labs, students):
    n = len(students)
    totals = [st["score"] for st in students if st["status"] == "graded"]
    summary = "%d student(s); %d graded" % (n, len(totals))
    if totals:
        summary += "; total median %g, mean %.1f of %d" % (statistics.median(totals), statistics.mean(totals), students[0]["max"])
    hists = []
    for lab in labs:
        ls = [next(x for x in st["labs"] if x["lab"] == lab["lab"]) for st in students]
        graded = [l for l in ls if l["status"] == "graded"]
        other = collections.Counter(l["status"].replace("-", " ") for l in ls if l["status"] != "graded")
        full = sum(1 for l in graded if l["score"] == l["max"])
        hists.append("<div class=\"hist\" data-lab=\"%s\" data-graded=\"%d\" data-full=\"%d\"><b>%s</b> <span class=\"small\">(%d)</span>"
                     "<br><span class=\"small\">%s</span>%s<div class=\"small\">%d graded, %d full marks%s</div></div>" % (
                         e(lab["lab"]), len(graded), full, e(lab["lab"]), lab["max"], e(lab["title"]), histogram(lab, students),
                         len(graded), full, "".join("; %d %s" % (c, e(s)) for s, c in sorted(other.items()))))
    miss_html = []
    for m in misses(labs, students)[:15]:
        share = round(100 * m["failed"] / m["attempted"])
        said = "".join("<div class=\"small\">%d\u00d7 the grader saw: %s</div>" % (c, e(msg)) for msg, c in m["messages"])
        miss_html.append("<div class=\"miss\" data-lab=\"%s\" data-test=\"%s\" data-failed=\"%d\" data-attempted=\"%d\">"
                         "<span class=\"share\">%d%% (%d of %d)</span> failed <b>%s</b> <code>%s</code>: %s%s"
                         "<div class=\"small\">what to re-teach (the hint): %s</div></div>" % (
                             e(m["lab"]), e(m["test"]), m["failed"], m["attempted"], share, m["failed"], m["attempted"],
                             e(m["lab"]), e(m["test"]), e(m["title"]), said, e(first_line(m["hint"], 400))))
    if not miss_html:
        miss_html.append("<p>No test failed among the students who attempted it.</p>")
    head = "<tr><th>student</th>%s<th>total</th><th>status</th></tr>" % "".join("<th>%s</th>" % e(l["lab"][:2]) for l in labs)
    rows = []
    for st in students:
        cells = "".join("<td class=\"%s\" data-lab=\"%s\" data-score=\"%d\">%d</td>" % (
            "full" if l["score"] == l["max"] and l["status"] == "graded" else "below", e(l["lab"]), l["score"], l["score"])
            for l in st["labs"])
        link = quote("students/%s/feedback.html" % st["name"])
        rows.append("<tr data-student=\"%s\" data-total=\"%d\"><td><a href=\"%s\">%s</a></td>%s<td>%d/%d</td><td class=\"small\">%s</td></tr>" % (
            e(st["name"]), st["score"], e(link), e(st["name"]), cells, st["score"], st["max"], e(status_text(st))))
    body = ("<h1>Class report</h1><p>%s. Generated %s. The same figures are in <a href=\"grades.csv\">grades.csv</a> "
            "and <a href=\"grades.json\">grades.json</a>.</p>"
            "<h2>Scores per lab</h2><div class=\"hists\">%s</div>"
            "<h2>What the class got wrong most often</h2><p class=\"small\">Share of the students who attempted a test "
            "(a function left unimplemented does not count) and failed it, with what the grader saw most often.</p>%s"
            "<h2>Students</h2><table id=\"students\">%s%s</table>"
            % (e(summary), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "".join(hists), "".join(miss_html), head, "".join(rows)))
    with open(os.path.join(out, "index.html.tmp"), "w", encoding="utf-8") as f:
        f.write(page("Class report", body))
    os.replace(os.path.join(out, "index.html.tmp"), os.path.join(out, "index.html"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    labs, students = load_class(args.out)
    if not labs:
        sys.exit("gradebook: no labs.tsv in %s" % args.out)
    write_csv(args.out, labs, students)
    write_json(args.out, labs, students)
    for st in students:
        os.makedirs(os.path.join(args.out, "students", st["name"]), exist_ok=True)
        feedback(args.out, st, labs)
    index(args.out, labs, students)


if __name__ == "__main__":
    main()
