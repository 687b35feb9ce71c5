# watch.py: `make watch`: re-grades one lab on every save and redraws one screen (keys h n l r t q).
"""Run through common/student.sh watch, which checks the tools and exports the state paths.

Settings (environment): LAB, LABS_DIR, WATCH_POLL=1 (force polling), NO_COLOR, WATCH_DEBOUNCE
(seconds, default 0.15), IPCLAB_HINTS_DIR and IPCLAB_PROGRESS (set by student.sh).
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("IPCLAB_BUILD") or os.path.join(ROOT, "build")
LABTOOL = os.path.join(BUILD, "common", "labtool")
DEBOUNCE = float(os.environ.get("WATCH_DEBOUNCE") or 0.15)
POLL_EVERY = 0.5
# File systems where inotify sees no change made from the other side (WSL2 /mnt/c, network).
NO_INOTIFY_FS = {"9p", "drvfs", "nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "fuse", "virtiofs", "vboxsf"}


def die(msg):
    sys.stderr.write("ipclab: %s\n" % msg)
    sys.exit(2)


def labtool(*args):
    return subprocess.run([LABTOOL] + list(args), capture_output=True, text=True)


def all_labs():
    tdir = os.path.join(ROOT, "tests")
    return sorted(d for d in os.listdir(tdir) if re.match(r"^\d\d-", d) and os.path.isfile(os.path.join(tdir, d, "lab.conf")))


def pick_lab(want, labs):
    for lab in labs:
        n = lab.split("-", 1)[0]
        if want in (lab, lab.split("-", 1)[1]) or (want.isdigit() and int(want) == int(n)):
            return lab
    die("there is no lab '%s'. The labs are: %s" % (want, ", ".join(labs)))


def load_progress():
    try:
        with open(os.environ.get("IPCLAB_PROGRESS", os.path.join(BUILD, "progress.json"))) as f:
            return json.load(f).get("labs", {})
    except (OSError, ValueError):
        return {}


def lab_max(lab):
    r = labtool("get", conf_of(lab), "max")
    return int(r.stdout.strip() or 0)


def conf_of(lab):
    return os.path.join(ROOT, "tests", lab, "lab.conf")


def fs_type(path):
    """The file system type of PATH, from the longest mount point that holds it."""
    best, kind = "", ""
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, right = line.split(" - ", 1)
                mnt = left.split()[4].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, kind = mnt, right.split()[0]
    except OSError:
        pass
    return kind


class Watcher:
    """Reports saves of the lab's files: inotifywait when it can, else polling (and says why)."""

    def __init__(self, folder, files):
        self.folder, self.files, self.proc, self.buf = folder, files, None, b""
        self.snap = self.snapshot()
        why = None
        kind = fs_type(os.path.realpath(folder))
        if os.environ.get("WATCH_POLL"):
            why = "WATCH_POLL is set"
        elif kind in NO_INOTIFY_FS:
            why = "%s is on %s, where inotify misses saves" % (folder, kind)
        elif not shutil.which("inotifywait"):
            why = "inotifywait is missing (apt-get install inotify-tools)"
        if not why:
            try:
                self.proc = subprocess.Popen(
                    ["inotifywait", "-m", "-q", "-e", "close_write", "-e", "moved_to", "-e", "create", "--format", "%f", folder],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
                os.set_blocking(self.proc.stdout.fileno(), False)
                time.sleep(0.05)
                if self.proc.poll() is not None:
                    why, self.proc = "inotifywait could not watch %s" % folder, None
            except OSError as e:
                why = "inotifywait: %s" % e
        self.mode = "inotify" if self.proc else "polling every %.1f s (%s)" % (POLL_EVERY, why)
        self.next_poll = time.monotonic() + POLL_EVERY

    def snapshot(self):
        out = {}
        for f in self.files:
            try:
                st = os.stat(os.path.join(self.folder, f))
                out[f] = (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                out[f] = None
        return out

    def fds(self):
        return [self.proc.stdout] if self.proc else []

    def timeout(self):
        return None if self.proc else max(0.0, self.next_poll - time.monotonic())

    def changed(self):
        """True when one of the lab's files was saved since the last call."""
        if self.proc:
            try:
                self.buf += self.proc.stdout.read() or b""
            except (BlockingIOError, TypeError):
                pass
            *lines, self.buf = self.buf.split(b"\n")
            return any(l.decode(errors="replace") in self.files for l in lines)
        if time.monotonic() < self.next_poll:
            return False
        self.next_poll = time.monotonic() + POLL_EVERY
        snap = self.snapshot()
        hit, self.snap = snap != self.snap, snap
        return hit

    def close(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Screen:
    def __init__(self):
        self.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.drawn = None

    def size(self):
        s = shutil.get_terminal_size((80, 24))
        return max(40, s.columns), max(12, s.lines)

    def paint(self, code, text):
        return "\033[%sm%s\033[0m" % (code, text) if self.colour else text

    def draw(self, lines):
        w, h = self.size()
        self.drawn = (w, h)
        out = []
        for text, code in lines[:h - 1]:
            text = text.expandtabs(4)[:w - 1]
            out.append(self.paint(code, text) if code else text)
        sys.stdout.write("\033[H\033[2J" + "\r\n".join(out) + "\r\n")
        sys.stdout.flush()


def wrap(text, width, indent):
    """Word-wraps TEXT into lines of WIDTH, each starting with INDENT."""
    out = []
    for para in (text or "").split("\n"):
        line = ""
        for word in para.split(" "):
            if line and len(indent) + len(line) + 1 + len(word) > width - 1:
                out.append(indent + line)
                line = word
            else:
                line = word if not line else line + " " + word
        out.append(indent + line)
    return out


class App:
    def __init__(self):
        self.labs = all_labs()
        self.tree = os.path.realpath(os.environ.get("LABS_DIR") or os.path.join(ROOT, "labs"))
        if not os.path.isdir(self.tree):
            die("LABS_DIR=%s is not a folder" % self.tree)
        want = os.environ.get("LAB", "")
        if want:
            self.lab = pick_lab(want, self.labs)
        else:  # the first lab without full marks
            prog = load_progress()
            self.lab = next((l for l in self.labs if not prog.get(l, {}).get("completed")), self.labs[0])
        self.screen = Screen()
        self.tmp = os.path.join(BUILD, "tmp", "watch.%d" % os.getpid())  # made by loop()
        self.run = None  # the grading in progress
        self.watcher = None
        self.message = ""
        self.hint_text = {}  # test -> lines of the hints shown so far
        self.saved_at = None
        self.due = None
        self.last_figure = None

    # --- grading --------------------------------------------------------------------------
    def start_lab(self, lab):
        self.stop_run()
        if self.watcher:
            self.watcher.close()
        self.lab, self.report, self.hint_text, self.message = lab, None, {}, ""
        self.last_figure = self.saved_at = self.due = None
        files = labtool("get", conf_of(lab), "files").stdout.split()
        folder = os.path.join(self.tree, lab)
        self.watcher = Watcher(folder, files)
        self.files = files
        self.regrade()

    def regrade(self, test=None, trace=False):
        self.stop_run()
        env = dict(os.environ, LAB=self.lab, REPORT=os.path.join(self.tmp, "report.json"), LABS_DIR=self.tree)
        env.pop("TEST", None)
        env.pop("TRACE", None)
        env.pop("SOLUTIONS", None)
        if test:
            env["TEST"] = test
        if trace:
            env["TRACE"] = "1"
            env["REPORT"] = os.path.join(self.tmp, "trace.json")
        try:  # a run that dies before its report must not show the previous one
            os.unlink(env["REPORT"])
        except FileNotFoundError:
            pass
        log = open(os.path.join(self.tmp, "trace.log" if trace else "check.log"), "w")
        self.run = (subprocess.Popen([os.path.join(ROOT, "common", "ipclab.sh"), "check"], env=env, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True),
                    time.monotonic(), trace, log)
        self.render()

    def stop_run(self):
        if not self.run:
            return
        proc, _, _, log = self.run
        if proc.poll() is None:
            # The driver and the grader clean up on SIGTERM; the whole group, then SIGKILL if slow.
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass
        log.close()
        self.run = None

    def finished(self):
        proc, started, trace, log = self.run
        log.close()
        self.run = None
        if trace:
            self.show_trace()
            return
        try:
            with open(os.path.join(self.tmp, "report.json"), errors="replace") as f:
                rep = json.load(f)
            self.report = next(l for l in rep["labs"] if l["lab"] == self.lab)
        except (OSError, ValueError, StopIteration, KeyError):
            with open(os.path.join(self.tmp, "check.log"), errors="replace") as f:
                tail = f.read().strip().splitlines()[-6:]
            self.report = {"status": "driver-error", "detail": "\n".join(tail), "score": 0, "max": 0, "tests": []}
        self.elapsed = time.monotonic() - started
        if self.saved_at is not None:
            self.last_figure = time.monotonic() - self.saved_at
            self.saved_at = None
        self.render()

    # --- the screen -----------------------------------------------------------------------
    def header(self):
        title = labtool("get", conf_of(self.lab), "title").stdout.strip()
        shown = os.path.join(self.tree, self.lab)
        if shown.startswith(ROOT + "/"):
            shown = shown[len(ROOT) + 1:]
        return [("ipclab watch  Lab %s: %s  (%s)" % (self.lab[:2], title, shown), "1")]

    def render(self):
        w, h = self.screen.size()
        lines = self.header()
        r = getattr(self, "report", None)
        if r and r.get("tests"):
            passed = sum(t["status"] == "pass" for t in r["tests"])
            n = len(r["tests"])
            bar = int(30 * r["score"] / r["max"]) if r["max"] else 0
            lines.append(("[%s%s] %d/%d tests, %d/%d points" % ("#" * bar, "." * (30 - bar), passed, n, r["score"], r["max"]),
                          "32" if r["score"] == r["max"] else "33"))
        elif r:
            lines.append(("[%s] 0 points: %s" % ("." * 30, r["status"]), "31"))
        status = "grading..." if self.run else ("graded in %.2f s" % self.elapsed if r else "")
        if self.last_figure is not None and not self.run:
            status += "; save -> result %.2f s" % self.last_figure
        lines.append(("%s | %s" % (status, "inotify" if self.watcher.mode == "inotify" else self.watcher.mode), ""))
        lines.append(("", ""))
        body = []
        if r and r["status"] in ("compile-error", "not-submitted", "driver-error"):
            word = {"compile-error": "DOES NOT COMPILE (first error first):", "not-submitted": "NOT SUBMITTED:",
                    "driver-error": "the grader could not run:"}[r["status"]]
            body.append((word, "31"))
            detail = (r.get("detail") or "").splitlines()
            first = next((i for i, l in enumerate(detail) if "error" in l), 0)
            start = max(0, first - 1) if first > 2 else 0
            for l in detail[start:]:
                body.append(("  " + l, ""))
        elif r and r["tests"]:
            failing = [t for t in r["tests"] if t["status"] != "pass"]
            if not failing:
                nxt = self.next_lab()
                body.append(("Lab %s: full marks. Well done!" % self.lab[:2], "32;1"))
                body.append(("Press n for lab %s, l for the list of labs." % nxt[:2] if nxt else "Every lab has full marks.", ""))
            else:
                t = failing[0]
                body.append(("%s %d/%d  %s" % (t["status"].upper(), t["points"], t["max"], t["name"]), "31;1"))
                body += [(l, "") for l in wrap(t["title"], w, "  ")]
                body += [(l, "") for l in wrap(t["message"], w, "  ")]
                hints = self.hint_text.get(t["name"]) or ["hint %d/%d: %s" % (i + 1, t.get("hint_levels", 1), x)
                                                          for i, x in enumerate(t.get("hints") or [t.get("hint", "")])]
                for hl in hints:
                    body += [(l, "36") for l in wrap(hl, w, "  ")]
                if t.get("output"):
                    body.append(("  your code printed:", ""))
                    body += [("    | " + l, "") for l in t["output"].splitlines()[-6:]]
                extra = "" if self.tree == os.path.join(ROOT, "labs") else " LABS_DIR=" + self.tree
                body.append(("  re-run: make check LAB=%s TEST=%s%s" % (self.lab[:2], t["name"], extra), ""))
                others = failing[1:]
                avail = h - 2 - len(lines)  # the footer and the message line stay
                # The first failing test keeps its full text unless the others would get no row.
                keep = max(6, avail - (min(len(others), 4) + 1 if others else 0))
                if len(body) > keep:
                    body = body[:keep - 2] + [("  ...", ""), body[-1]]
                if others:
                    body.append(("also failing (%d):" % len(others), "1"))
                    room = avail - len(body)
                    for i, o in enumerate(others):
                        if i == room - 1 and len(others) > room:
                            body.append(("  ... and %d more" % (len(others) - i), ""))
                            break
                        body.append(("  %-4s %-26s %s" % (o["status"].upper()[:4], o["name"], o["title"]), "31"))
        lines += body[:max(0, h - 2 - len(lines))]
        while len(lines) < h - 2:
            lines.append(("", ""))
        if self.message:
            lines[-1] = (self.message, "33")
        lines.append(("keys: h hint  n next lab  l list  r re-run  t trace  q quit", "2"))
        self.screen.draw(lines)

    def first_failing(self):
        r = getattr(self, "report", None)
        return next((t for t in (r or {}).get("tests", []) if t["status"] != "pass"), None)

    def next_lab(self):
        """The first lab after this one without full marks (wrapping), or None."""
        prog = load_progress()
        i = self.labs.index(self.lab)
        for lab in self.labs[i + 1:] + self.labs[:i]:
            if not prog.get(lab, {}).get("completed"):
                return lab
        return None

    # --- keys -----------------------------------------------------------------------------
    def key_hint(self):
        t = self.first_failing()
        if not t:
            self.message = "no failing test, so no hint needed"
            return
        r = labtool("hint", conf_of(self.lab), self.lab, os.environ["IPCLAB_HINTS_DIR"], t["name"])
        self.hint_text[t["name"]] = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith("hint ")]
        lv = len(self.hint_text[t["name"]])
        self.message = "hint %d of %d for %s%s" % (lv, t.get("hint_levels", lv), t["name"],
                                                    "" if lv < t.get("hint_levels", lv) else " (the last)")

    def key_next(self):
        r = getattr(self, "report", None)
        if not r or self.run or r.get("score") != r.get("max") or not r.get("max"):
            self.message = "n moves on once this lab has full marks (l lists every lab)"
            return
        nxt = self.next_lab() or self.labs[(self.labs.index(self.lab) + 1) % len(self.labs)]
        self.start_lab(nxt)

    def key_list(self):
        """The list of labs: j/k or the lab's number to choose, Enter to go there, q to go back."""
        sel = self.labs.index(self.lab)
        typed = ""
        while True:
            prog = load_progress()
            lines = [("Labs: j/k or a number to choose, Enter to open, q to go back", "1"), ("", "")]
            for i, lab in enumerate(self.labs):
                p = prog.get(lab, {})
                m = lab_max(lab)
                best = p.get("best", 0) if p.get("max") == m else 0
                state = "done" if p.get("completed") and p.get("max") == m else ("started" if p.get("attempts") else "new")
                lines.append(("%s %-24s %3d/%-3d %-8s %s" % (">" if i == sel else " ", lab, best, m, state,
                                                              "attempts %d" % p.get("attempts", 0)), "7" if i == sel else ""))
            self.screen.draw(lines)
            k = self.read_key(None)
            if k in ("q", "\x1b", "l"):
                return
            if k in ("j", "B"):
                sel = min(sel + 1, len(self.labs) - 1)
            elif k in ("k", "A"):
                sel = max(sel - 1, 0)
            elif k.isdigit():
                typed = (typed + k)[-2:]
                for i, lab in enumerate(self.labs):
                    if int(lab[:2]) == int(typed):
                        sel = i
            elif k in ("\r", "\n"):
                self.start_lab(self.labs[sel])
                return

    def key_trace(self):
        t = self.first_failing()
        if not t:
            self.message = "no failing test to trace"
            return
        self.message = "tracing %s (TRACE=1) ..." % t["name"]
        self.regrade(test=t["name"], trace=True)

    def show_trace(self):
        with open(os.path.join(self.tmp, "trace.log"), errors="replace") as f:
            text = f.read().splitlines()
        start = next((i for i, l in enumerate(text) if l.startswith("== trace")), 0)
        body = text[start:]
        w, h = self.screen.size()
        pos = 0
        while True:
            lines = [("trace of the first failing test: j/k/space to scroll, any other key goes back", "1")]
            lines += [(l, "") for l in body[pos:pos + h - 2]]
            self.screen.draw(lines)
            k = self.read_key(None)
            if k in ("j", "B"):
                pos = min(pos + 1, max(0, len(body) - 1))
            elif k in ("k", "A"):
                pos = max(0, pos - 1)
            elif k == " ":
                pos = min(pos + h - 3, max(0, len(body) - 1))
            else:
                break
        self.message = ""
        self.render()  # the lab's last grading is still the one on screen

    def read_key(self, timeout):
        r, _, _ = select.select([sys.stdin], [], [], timeout)
        if not r:
            return ""
        k = os.read(sys.stdin.fileno(), 8).decode(errors="replace")
        if k.startswith("\x1b[") and len(k) >= 3:
            return k[2]  # arrow keys: A up, B down
        return k[:1]

    # --- the loop -------------------------------------------------------------------------
    def loop(self):
        os.makedirs(self.tmp, exist_ok=True)
        self.start_lab(self.lab)
        while True:
            waits = [self.watcher.timeout()]
            if self.due is not None:
                waits.append(max(0.0, self.due - time.monotonic()))
            if self.run:
                waits.append(0.05)
            waits = [x for x in waits if x is not None] + [0.5]  # also notices a resized terminal
            rd, _, _ = select.select([sys.stdin] + self.watcher.fds(), [], [], min(waits))
            if self.screen.size() != self.screen.drawn:
                self.render()
            if self.watcher.changed():
                # A save: wait for the editor to finish (debounce); a run in progress is restarted.
                now = time.monotonic()
                if self.saved_at is None:
                    self.saved_at = now
                self.due = now + DEBOUNCE
            if self.due is not None and time.monotonic() >= self.due:
                self.due = None
                # A save while a run is in progress restarts it: its result would be stale.
                self.message = "saved during a run: restarted" if self.run and not self.run[2] else ""
                self.regrade()
            if self.run and self.run[0].poll() is not None:
                self.finished()
            if sys.stdin in rd:
                k = self.read_key(0)
                self.message = ""
                if k == "q" or k == "\x03":
                    return
                elif k == "h":
                    self.key_hint()
                elif k == "n":
                    self.key_next()
                    if self.run:
                        continue
                elif k == "l":
                    self.key_list()
                elif k == "r":
                    self.regrade()
                    continue
                elif k == "t":
                    self.key_trace()
                    continue
                elif k in ("\x0c", ""):
                    pass
                self.render()

    def close(self):
        self.stop_run()
        if self.watcher:
            self.watcher.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    app = App()  # checks LAB and LABS_DIR first: a typo is said before anything else
    if not sys.stdin.isatty():
        die("make watch needs a terminal (for scripts: make check LAB=NN)")
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)

    def leave(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, leave)
    signal.signal(signal.SIGWINCH, lambda *_: None)  # wakes select; the next draw uses the new size
    sys.stdout.write("\033[?1049h\033[?25l")  # the alternate screen, no cursor: q restores both
    try:
        tty.setcbreak(fd)
        app.loop()
    finally:
        app.close()
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\033[?25h\033[?1049l")
        sys.stdout.flush()
    print("ipclab watch: stopped. Progress: make progress")


if __name__ == "__main__":
    main()
