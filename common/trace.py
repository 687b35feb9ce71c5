# trace.py: TRACE=1: runs one test's grader under strace -f and shows the lab's IPC calls per process, and what blocked.
"""Usage: trace.py LAB OUTDIR -- GRADER ARGS...   (ipclab.sh calls it when TRACE=1)

strace -ff writes one file per process. While the grader runs, /proc is sampled (the kernel's
own view) so that, for a call that never returned, we can say which pipe it waited on and which
processes held that pipe's other end. The summary comes first (it must fit the first screen),
then the last calls of each process. The grader's own report follows, unchanged.
"""
import os
import re
import subprocess
import sys
import time
from collections import deque

# The calls that matter per lab (strace -e trace=); process calls are always added.
ALWAYS = "clone,clone3,fork,vfork,execve,exit_group,kill,wait4,waitid,chdir"
CALLS = {
    "01": "dup2,dup3,close,pipe2,write",
    "02": "openat,ftruncate,mmap,munmap,unlink,futex",
    "03": "openat,ftruncate,mmap,munmap,unlink,close",
    "04": "pipe,pipe2,read,write,close,dup2,dup3,poll,ppoll,fcntl",
    "05": "mknodat,openat,read,write,close,unlink,unlinkat,poll,fchmod,umask",
    "06": "socket,socketpair,bind,listen,accept,accept4,connect,sendto,recvfrom,sendmsg,recvmsg,read,write,close,shutdown,getsockopt,setsockopt,poll",
    "07": "mq_open,mq_unlink,mq_timedsend,mq_timedreceive,mq_getsetattr,mq_notify,close,poll",
    "08": "msgget,msgsnd,msgrcv,msgctl,shmget,shmat,shmdt,shmctl,semget,semop,semtimedop,semctl",
}
PER_PROCESS = 12   # last calls shown per process
BLOCKED = 0.5      # seconds: a call that took this long blocked
MAX_PROCESSES = 8


def sample(pids, store):
    """Records, for each live traced process, its current system call and its pipe/socket ends."""
    for pid in pids:
        d = "/proc/%d" % pid
        try:
            with open(d + "/syscall") as f:
                sc = f.read().split()
            with open(d + "/comm") as f:
                comm = f.read().strip()
            ends = {}
            for fd in os.listdir(d + "/fd"):
                try:
                    target = os.readlink("%s/fd/%s" % (d, fd))
                except OSError:
                    continue
                if target.startswith(("pipe:", "socket:")):
                    mode = "?"
                    try:
                        with open("%s/fdinfo/%s" % (d, fd)) as f:
                            flags = int(re.search(r"flags:\s*(\d+)", f.read()).group(1), 8)
                        mode = "w" if flags & 3 == 1 else "r" if flags & 3 == 0 else "rw"
                    except (OSError, AttributeError):
                        pass
                    ends[int(fd)] = (target, mode)
            with open(d + "/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone: keep its last sample
        if state in ("Z", "X"):
            continue
        store.setdefault(pid, deque(maxlen=50)).append((time.monotonic(), comm, sc, ends))


def in_run_dir(pid):
    """True for a process of the test: the runner chdirs into the run's folder, its children inherit it."""
    try:
        return "/ipclab-run." in os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        return False


def descendants(root):
    """Every live process below ROOT, with its parent, from /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        for c, pp in parent.items():
            if pp == p and c not in out:
                out[c] = p
                todo.append(c)
    return out


def kernel_view(cmd):
    """Without strace: runs the grader, samples what /proc says about the test's processes (the
    call each sleeps in, on which descriptor, and who holds the other end), then reports."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    os.set_blocking(proc.stdout.fileno(), False)
    out, samples, parents, wchan = b"", {}, {}, {}
    while proc.poll() is None:
        try:
            out += proc.stdout.read() or b""
        except (BlockingIOError, TypeError):
            pass
        tree = descendants(proc.pid)
        mine = [p for p in tree if in_run_dir(p)]
        for p in mine:
            parents[p] = tree[p]
            try:
                with open("/proc/%d/wchan" % p) as f:
                    wchan[p] = f.read().strip()
            except OSError:
                pass
        sample(mine, samples)
        time.sleep(0.1)
    out += proc.stdout.read() or b""
    # The runner entered the run's folder; the test's own processes are below it.
    shown = [p for p in samples if parents.get(p) in samples]
    holders = {}
    for p in shown:
        for fd, (target, mode) in last_ends(samples[p]).items():
            holders.setdefault(target, []).append((p, fd, mode))
    def name(p):
        comm = samples[p][-1][1]
        return "pid %d (%s)" % (p, "your test" if comm == "grader" else comm)

    print("%d processes of your code seen in %.1f s; what each was last seen waiting in:" % (len(shown), time.monotonic() - started))
    waits = {}
    for p in shown:
        _, comm, sc, ends = samples[p][-1]
        where = wchan.get(p) or "?"
        if not sc or not sc[0].isdigit():
            print("  %s: running" % name(p))
            continue
        line = "  %s: in the kernel at %s (system call %s)" % (name(p), where, sc[0])
        try:
            fd = int(sc[1], 16)
        except (IndexError, ValueError):
            fd = -1
        ends_now = last_ends(samples[p])
        if fd in ends_now and ("pipe" in where or "unix" in where or "sock" in where):
            target, mode = ends_now[fd]
            want = "r" if mode == "w" else "w"
            other = [(h, hfd) for h, hfd, m in holders.get(target, []) if m in (want, "rw")]
            line += " on fd %d, %s" % (fd, target)
            print(line)
            print("      its %s end is held by %s" % ("read" if want == "r" else "write", ", ".join(
                "%s fd %d" % (name(h), hfd) for h, hfd in other) or "no process of the test"))
            waits[p] = [h for h, _ in other]
        else:
            print(line)
    for p, others in waits.items():
        h = next((h for h in others if h != p and p in waits.get(h, [])), None)
        if h:
            print("  => deadlock: %s and %s each wait for the other to read." % (name(p), name(h)))
            print("     Feed the input and collect the output at the same time (poll both pipes).")
            break
    print()
    sys.stdout.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return proc.returncode


def last_ends(history):
    """The pipe and socket ends a process held at its end. A killed process closes them one by
    one while it exits, so a sample can be cut short: take every end seen in its last 0.5 s."""
    if not history:
        return {}
    end = history[-1][0]
    ends = {}
    for t, _, _, e in history:
        if t >= end - 0.5:
            ends.update(e)
    return ends


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[2] != "--":
        sys.stderr.write("usage: trace.py LAB OUTDIR -- GRADER ARGS...\n")
        return 2
    lab, outdir, cmd = args[0], args[1], args[3:]
    os.makedirs(outdir, exist_ok=True)
    for f in os.listdir(outdir):
        if f.startswith("s."):
            os.unlink(os.path.join(outdir, f))
    calls = ALWAYS + "," + CALLS.get(lab[:2], "read,write,close")
    prefix = os.path.join(outdir, "s")
    strace = ["strace", "-ff", "-qq", "-tt", "-T", "-y", "-s", "24", "-o", prefix, "-e", "trace=" + calls]
    # Newer strace prints the kernel's pid for children in a PID namespace next to clone's result.
    probe = subprocess.run(["strace", "--pidns-translation", "-e", "trace=none", "true"], capture_output=True)
    if probe.returncode == 0:
        strace.insert(1, "--pidns-translation")
    # Stop only at the traced calls (not at every call of the harness), where the kernel allows it.
    probe = subprocess.run(["strace", "-f", "--seccomp-bpf", "-e", "trace=none", "true"], capture_output=True)
    if probe.returncode == 0:
        strace.insert(1, "--seccomp-bpf")
    started = time.monotonic()
    errlog = open(os.path.join(outdir, "strace.err"), "w+")
    proc = subprocess.Popen(strace + ["--"] + cmd, stdout=subprocess.PIPE, stderr=errlog)
    samples = {}
    out = b""
    os.set_blocking(proc.stdout.fileno(), False)
    while True:
        try:
            out += proc.stdout.read() or b""
        except (BlockingIOError, TypeError):
            pass
        if proc.poll() is not None:
            out += proc.stdout.read() or b""
            break
        pids = [int(f[2:]) for f in os.listdir(outdir) if f.startswith("s.") and f[2:].isdigit()]
        sample(pids, samples)
        time.sleep(0.1)
    rc = proc.returncode
    if not any(f.startswith("s.") for f in os.listdir(outdir)):
        # strace could not start the grader (no ptrace here: a container without CAP_SYS_PTRACE,
        # kernel.yama.ptrace_scope=3): say so, and grade without the trace.
        errlog.seek(0)
        why = " ".join(errlog.read().split())[:300]
        print("== strace could not run the test (%s): the kernel's own view instead ==" % (why or "rc %d" % rc))
        sys.stdout.flush()
        return kernel_view(cmd)
    errlog.seek(0)
    sys.stderr.write(errlog.read())  # the grader's own messages, if any
    try:
        report(lab, outdir, samples, time.monotonic() - started, calls)
        sys.stdout.flush()
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (head, a pager) stopped: the grade stands
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return rc


LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) (.*)$")


def report(lab, outdir, samples, elapsed, calls):
    files = sorted((int(f[2:]), os.path.join(outdir, f)) for f in os.listdir(outdir) if f.startswith("s.") and f[2:].isdigit())
    procs = {}
    for pid, path in files:
        last = deque(maxlen=PER_PROCESS)
        info = {"exe": None, "children": [], "chdir_run": False, "first": None, "unfinished": None, "n": 0,
                "longest": (0.0, None, None)}
        with open(path, errors="replace") as f:
            for raw in f:
                m = LINE.match(raw.rstrip("\n"))
                if not m:
                    continue
                ts, text = m.groups()
                info["first"] = info["first"] or ts
                if text.startswith("chdir(") and "ipclab-run" in text:
                    info["chdir_run"] = True
                if text.startswith("execve(") and " = 0" in text:
                    info["exe"] = os.path.basename(text.split('"')[1])
                c = re.search(r"^(?:clone3?|fork|vfork)\(.*= \d+(?: /\* (\d+) in strace's PID NS \*/)?", text)
                if c:
                    info["children"].append(int(c.group(1) or re.search(r"= (\d+)", text).group(1)))
                if re.match(r"^\w+\(\d+</(usr|etc|lib|proc|sys)/", text) or re.match(r"^execve\(.*= -1 ENOENT", text):
                    continue  # the loader and libc reading their own files: noise here
                if text.endswith("= ?") and not text.startswith(("exit_group", "execve")):
                    info["unfinished"] = (ts, text)
                took = re.search(r"<(\d+\.\d+)>$", text)
                if took and float(took.group(1)) >= BLOCKED and not info["unfinished"] and \
                        float(took.group(1)) > info["longest"][0]:
                    info["longest"] = (float(took.group(1)), ts, text)
                info["n"] += 1
                last.append((ts, text))
        info["last"] = list(last)
        procs[pid] = info
    # The student's processes: everything below the test process (the one that entered the run's
    # folder); without that mark (another sandbox mode), every traced process.
    root = next((p for p, i in procs.items() if i["chdir_run"]), None)
    shown = []
    if root is not None:
        todo = list(procs[root]["children"])
        while todo:
            p = todo.pop(0)
            if p in procs and p not in shown:
                shown.append(p)
                todo += procs[p]["children"]
    if not shown:
        shown = list(procs)

    def name(p):
        i = procs.get(p, {})
        if i.get("exe"):
            return "pid %d (%s)" % (p, i["exe"])
        return "pid %d (your test)" % p if p == (shown[0] if shown else None) else "pid %d (your code, forked)" % p

    # Who holds each pipe or socket, and how, from the last sample of each process.
    holders = {}
    for p in shown:
        if p in samples:
            for fd, (target, mode) in last_ends(samples[p]).items():
                holders.setdefault(target, []).append((p, fd, mode))

    print("== trace of this test: strace -f, %s calls (%.1f s, %d processes of your code) ==" % (
        "lab " + lab[:2] if lab[:2] in CALLS else "I/O", elapsed, len(shown)))
    for i in procs.values():
        if not i["unfinished"] and i["longest"][1]:
            i["unfinished"] = i["longest"][1:]
    blocked = [p for p in shown if procs[p]["unfinished"]]
    if blocked:
        print("Calls that blocked (= ? : never returned; [N s]: waited that long):")
    waits = {}
    for p in blocked:
        ts, text = procs[p]["unfinished"]
        print("  %s: %s" % (name(p), short(short_fd(text), 96)))
        fdm = re.match(r"\w+\((\d+)<([^>]*)>", text)
        if fdm:
            fd, target = int(fdm.group(1)), fdm.group(2)
            verb = text.split("(")[0]
            want = "r" if verb in ("write", "writev", "send", "sendto", "sendmsg") else "w"
            other = [(h, hfd) for h, hfd, mode in holders.get(target, []) if mode in (want, "rw")]
            waits[p] = (target, other, want)
            end = "read" if want == "r" else "write"
            if other:
                print("      %s: its %s end is held by %s" % (target, end, ", ".join(
                    "%s fd %d" % (name(h), hfd) + (" (itself)" if h == p else "") for h, hfd in other)))
            elif holders:
                print("      %s: no process of the test holds its %s end" % (target, end))
    # The two patterns behind the classic misconceptions, said in words.
    for p, (target, other, want) in waits.items():
        for h, _ in other:
            if h != p and h in waits and any(o == p for o, _ in waits[h][1]):
                print("  => deadlock: %s waits for %s to %s," % (name(p), name(h), "read" if want == "r" else "write"))
                print("     and %s waits for %s in turn: neither can move." % (name(h), name(p)))
                print("     Feed the input and collect the output at the same time (poll both pipes).")
                break
        else:
            if want == "w" and any(h == p for h, _ in other):
                print("  => %s waits to read from a pipe whose write end it holds itself: no EOF can come. Close it." % name(p))
            continue
        break
    if not blocked:
        print("No call blocked for %.1f s or more, and none was cut off by the end of the test." % BLOCKED)
    print("Last calls of each process (at most %d; pipe:[N] and socket:[N] name the same object everywhere):" % PER_PROCESS)
    for p in shown[:MAX_PROCESSES]:
        i = procs[p]
        print("  %s, %d calls traced%s:" % (name(p), i["n"], "" if i["n"] <= PER_PROCESS else ", the last %d" % PER_PROCESS))
        for ts, text in i["last"]:
            print("    %s %s" % (ts[3:], short(text)))
    if len(shown) > MAX_PROCESSES:
        print("  ... and %d more processes (all traces: %s)" % (len(shown) - MAX_PROCESSES, outdir))
    print("(every traced call: %s/s.PID)" % outdir)
    print()


def short_fd(text):
    """Drops the strace-only noise (flags spelled out, pointers) from a call for the summary."""
    return re.sub(r", child_tidptr=0x[0-9a-f]+", "", text)


def short(text, width=110):
    if not text.startswith("execve("):
        text = re.sub(r'"(?:[^"\\]|\\.)*"(\.\.\.)?', lambda m: '"..."' if len(m.group(0)) > 14 else m.group(0), text)
    text = re.sub(r"<(\d+\.\d+)>$", r"[\1 s]", text)
    return text if len(text) <= width else text[:width - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
