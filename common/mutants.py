#!/usr/bin/env python3
"""mutants.py: `make mutants`: mutation testing of every lab's grader against its own reference solution.

Each mutant is one small, realistic IPC mistake planted in a copy of solutions/NN-slug/ (a call
deleted, the check of a result deleted, a flag dropped or swapped, a bound off by one, EINTR or
EAGAIN handling removed, byte order dropped, the wrong clock, a loop run once, ...). The copy is
graded by the ordinary driver (common/ipclab.sh check). A mutant is
  killed      some test did not pass (the grader noticed),
  survived    full marks (the grader did not notice: a missing test, or an equivalent mutant),
  stillborn   it does not compile (not counted).
Equivalent mutants (nothing the header promises can observe them) are listed in the lab's
lab.conf, before the first test:   equivalent: <mutant-id> <one-line reason>

Usage: common/mutants.py [--root DIR] [--lab 04,fork-clone] [--jobs N] [--sample N]
                         [--only ID[,ID]] [--strict] [--list] [--show ID [--write DIR]] [--self-test]
Environment (what `make mutants` passes): LAB, JOBS, MUTANTS_SAMPLE, MUTANTS_ROOT, MUTANTS_ONLY.
Reports: <root>/build/mutants/NN-slug.txt and .json (.only/.sample for partial runs). Exit status: 0 when every mutant is killed,
stillborn or listed as equivalent; 1 when a survivor is not listed; 2 bad input; 3 internal error.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# --- reading C: which characters are code --------------------------------------------------


def blank_non_code(text):
    """TEXT with comments, string and character literals and preprocessor lines replaced by
    spaces (newlines kept), so that offsets match and no pattern ever matches inside them."""
    out = list(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in ' \t':
            i += 1
            continue
        if line_start and c == '#':  # a preprocessor line, with its backslash continuations
            while i < n and text[i] != '\n':
                if text[i] == '\\' and i + 1 < n and text[i + 1] == '\n':
                    out[i] = ' '
                    i += 2
                    continue
                out[i] = ' '
                i += 1
            continue
        line_start = False
        if c == '\n':
            line_start = True
            i += 1
        elif text.startswith('//', i):
            while i < n and text[i] != '\n':
                out[i] = ' '
                i += 1
        elif text.startswith('/*', i):
            end = text.find('*/', i + 2)
            end = n if end < 0 else end + 2
            for j in range(i, end):
                if text[j] != '\n':
                    out[j] = ' '
            i = end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            for k in range(i, min(j + 1, n)):
                out[k] = ' '
            i = j + 1
        else:
            i += 1
    return ''.join(out)


KEYWORDS = {'if', 'while', 'for', 'switch', 'return', 'sizeof', 'do', 'else', 'case', 'goto',
            'break', 'continue', 'default', 'typedef', 'struct', 'union', 'enum', 'static',
            '_Alignof', 'alignof', '__typeof__', 'typeof', '_Static_assert', 'static_assert'}


def match_paren(code, i):
    """Index just past the bracket that closes the one at CODE[i]."""
    pairs = {'(': ')', '[': ']', '{': '}'}
    depth, j = 0, i
    while j < len(code):
        ch = code[j]
        if ch in pairs:
            depth += 1
        elif ch in ')]}':
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def functions(code):
    """[(start, end, name)] of every function body (from its '{' to just past its '}')."""
    out = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '{':
            end = match_paren(code, i)
            if end < 0:
                break
            # A function: "name(...)" then (maybe attributes, whitespace) this brace.
            j = i - 1
            while j >= 0 and code[j].isspace():
                j -= 1
            name = None
            if j >= 0 and code[j] == ')':
                depth = 0
                k = j
                while k >= 0:
                    if code[k] == ')':
                        depth += 1
                    elif code[k] == '(':
                        depth -= 1
                        if depth == 0:
                            break
                    k -= 1
                m = re.search(r'([A-Za-z_]\w*)\s*$', code[:k])
                if m and m.group(1) not in KEYWORDS:
                    name = m.group(1)
            if name:
                out.append((i, end, name))
            i = end
        else:
            i += 1
    return out


def prev_char(code, i):
    j = i - 1
    while j >= 0 and code[j].isspace():
        j -= 1
    return code[j] if j >= 0 else ''


def next_char_index(code, i):
    while i < len(code) and code[i].isspace():
        i += 1
    return i


def split_args(code, open_i, close_i):
    """[(start, end)] of the top-level arguments between CODE[open_i] == '(' and its ')'."""
    args, depth, start = [], 0, open_i + 1
    for j in range(open_i + 1, close_i):
        ch = code[j]
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        elif ch == ',' and depth == 0:
            args.append((start, j))
            start = j + 1
    args.append((start, close_i))
    out = []
    for s, e in args:
        while s < e and code[s].isspace():
            s += 1
        while e > s and code[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def enclosing_call(code, i):
    """The name of the call whose argument list holds CODE[i], or None."""
    depth, j = 0, i - 1
    while j >= 0 and code[j] not in ';{}':
        if code[j] == ')':
            depth += 1
        elif code[j] == '(':
            if depth == 0:
                m = re.search(r'([A-Za-z_]\w*)\s*$', code[:j])
                return m.group(1) if m else None
            depth -= 1
        j -= 1
    return None


ERRNO_TEST_RE = re.compile(r'\w+\s*==\s*(EINTR|EAGAIN|EWOULDBLOCK)(\s*\|\|\s*\w+\s*==\s*(EAGAIN|EWOULDBLOCK))?')


def top_level_split(code_piece, op):
    """CODE_PIECE split at the top-level (not parenthesised) occurrences of OP."""
    parts, depth, start, j = [], 0, 0, 0
    while j < len(code_piece):
        ch = code_piece[j]
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        elif depth == 0 and code_piece.startswith(op, j):
            parts.append(code_piece[start:j])
            start = j + len(op)
            j += len(op)
            continue
        j += 1
    parts.append(code_piece[start:])
    return parts


def has_call(code_piece):
    for m in re.finditer(r'([A-Za-z_]\w*)\s*\(', code_piece):
        if m.group(1) not in KEYWORDS:
            return True
    return False


# --- the operators ---------------------------------------------------------------------------
# Each operator yields (start, end, replacement) edits of the file text. Its name is part of the
# mutant ID, so names never change.

OPERATORS = [
    ('del-call', 'a call statement deleted (close, munmap, shm_unlink, waitpid, fflush, sigaction, ...)'),
    ('del-errno', 'an errno save/restore deleted (errno = saved;)'),
    ('eintr', 'EINTR handling removed (errno == EINTR -> 0)'),
    ('eagain', 'EAGAIN handling removed (errno == EAGAIN -> 0)'),
    ('check-false', 'the check of a result deleted: if (COND) made false (COND still evaluated)'),
    ('drop-or', 'one alternative of an || condition dropped'),
    ('flag-drop', 'a flag dropped from a | combination, or a lone flag argument made 0'),
    ('flag-swap', 'a flag swapped (MAP_SHARED<->MAP_PRIVATE, O_RDWR->O_RDONLY/O_WRONLY, ...)'),
    ('cloexec', 'close-on-exec dropped (F_DUPFD_CLOEXEC -> F_DUPFD)'),
    ('rel-bound', 'a bound off by one: < <-> <=, > <-> >='),
    ('rel-negate', 'a comparison negated: == <-> !='),
    ('len-minus', 'a size argument one short (n -> n - 1)'),
    ('len-plus', 'a size argument one long (n -> n + 1)'),
    ('sizeof-1', 'sizeof x -> sizeof x - 1'),
    ('byteorder', 'byte order dropped (htonl(x) -> x, ntohs, ...)'),
    ('clock', 'the wrong clock (CLOCK_MONOTONIC <-> CLOCK_REALTIME)'),
    ('loop-once', 'a loop run at most once (while -> if; do ... while (C) -> while (0))'),
    ('return-swap', 'return value swapped (return 0; <-> return -1;)'),
    ('const', 'a constant tweaked (0 <-> 1)'),
]
OP_ORDER = {name: k for k, (name, _) in enumerate(OPERATORS)}

FLAG_RE = re.compile(r'\b(?:O|MAP|SOCK|IPC|SEM|CLONE|MSG|SA|PROT|FD|MFD|EFD|SFD|SHM|POLL|S|SHUT)_[A-Z0-9_]+\b'
                     r'|\bSIG[A-Z0-9]+\b|\bWNOHANG\b|\b__WALL\b')
# Flags that also make sense as a lone argument or initializer (dropping them means "0").
LONE_FLAGS = {'MSG_NOSIGNAL', 'MSG_DONTWAIT', 'MSG_NOERROR', 'MSG_CMSG_CLOEXEC', 'MSG_WAITALL',
              'SA_RESTART', 'SA_NOCLDSTOP', 'SA_NOCLDWAIT', 'SA_SIGINFO', 'IPC_NOWAIT', 'SEM_UNDO',
              'O_CLOEXEC', 'O_NONBLOCK', 'O_EXCL', 'O_CREAT', 'O_TRUNC', 'O_APPEND',
              'SOCK_CLOEXEC', 'SOCK_NONBLOCK', 'FD_CLOEXEC', 'MFD_CLOEXEC', 'EFD_CLOEXEC',
              'IPC_CREAT', 'IPC_EXCL', 'WNOHANG', '__WALL', 'CLONE_VM', 'CLONE_FILES'}
FLAG_SWAPS = {'MAP_SHARED': ['MAP_PRIVATE'], 'MAP_PRIVATE': ['MAP_SHARED'],
              'O_RDWR': ['O_RDONLY', 'O_WRONLY'], 'O_WRONLY': ['O_RDONLY'], 'O_RDONLY': ['O_WRONLY'],
              'SOCK_STREAM': ['SOCK_DGRAM'], 'SOCK_DGRAM': ['SOCK_STREAM'],
              'SOCK_SEQPACKET': ['SOCK_STREAM'], 'PROT_WRITE': ['PROT_READ'],
              'SHUT_WR': ['SHUT_RD'], 'SHUT_RDWR': ['SHUT_RD']}
# Not a student's mistake: the graders' own hook that widens race windows.
SKIP_CALLS = {'race_window'}
# Page-granular calls: a size one byte off is rounded to the same pages (equivalent, not a test gap).
PAGE_CALLS = {'mmap', 'munmap', 'msync', 'mprotect', 'madvise'}
# Calls whose size argument (0-based index) is mutated by len-minus / len-plus.
SIZE_ARGS = {'read': 2, 'write': 2, 'pread': 2, 'pwrite': 2, 'send': 2, 'recv': 2, 'sendto': 2,
             'recvfrom': 2, 'memcpy': 2, 'memmove': 2, 'memset': 2, 'memcmp': 2, 'strncpy': 2,
             'strncmp': 2, 'snprintf': 1, 'vsnprintf': 1, 'fgets': 1,
             'ftruncate': 1, 'mq_send': 2, 'mq_receive': 2, 'mq_timedsend': 2,
             'mq_timedreceive': 2, 'msgsnd': 2, 'msgrcv': 2, 'shmget': 1, 'read_full': 2,
             'write_all': 2, 'strnlen': 1, 'setsockopt': 4, 'bind': 2, 'connect': 2,
             'poll': 1, 'semop': 2}


def op_del_call(text, code, lo, hi):
    for m in re.finditer(r'(\(void\)\s*)?\b([A-Za-z_]\w*)\s*\(', code[lo:hi]):
        s = lo + m.start()
        name = m.group(2)
        if name in KEYWORDS or name in SKIP_CALLS:
            continue
        if prev_char(code, s) not in (';', '{', '}', ')', ':') and not re.search(r'\belse\s*$', code[:s]):
            continue
        if prev_char(code, s) == ')':  # only after if (...) / while (...) / for (...) headers
            j = s - 1
            while code[j].isspace():
                j -= 1
            depth, k = 0, j
            while k >= 0:
                if code[k] == ')':
                    depth += 1
                elif code[k] == '(':
                    depth -= 1
                    if depth == 0:
                        break
                k -= 1
            if not re.search(r'\b(if|while|for)\s*$', code[:k]):
                continue
        if prev_char(code, s) == ':' and re.search(r'\?[^;]*:\s*$', code[lo:s]):
            continue  # the ':' of a ?: expression
        open_i = lo + m.end() - 1
        close = match_paren(code, open_i)
        if close < 0:
            continue
        semi = next_char_index(code, close)
        if semi < len(code) and code[semi] == ';':
            yield 'del-call', s, semi + 1, '{}'


def op_del_errno(text, code, lo, hi):
    for m in re.finditer(r'\berrno\s*=\s*[^=;][^;]*;', code[lo:hi]):
        s = lo + m.start()
        if prev_char(code, s) in (';', '{', '}', ')', ':'):
            yield 'del-errno', s, lo + m.end(), '{}'


def op_conditions(text, code, lo, hi):
    for m in re.finditer(r'\b(if|while)\s*\(', code[lo:hi]):
        kw = m.group(1)
        open_i = lo + m.end() - 1
        close = match_paren(code, open_i)
        if close < 0:
            continue
        cond = text[open_i + 1:close - 1]
        ccode = code[open_i + 1:close - 1]
        after = next_char_index(code, close)
        do_tail = kw == 'while' and after < len(code) and code[after] == ';'
        # "if (r < 0 && errno == EINTR)" made false is the same program as the eintr mutant.
        same_as_errno_op = not has_call(ccode) and any(
            ERRNO_TEST_RE.fullmatch(c.strip().strip('()').strip()) for c in top_level_split(ccode, '&&')) \
            and len(top_level_split(ccode, '||')) == 1
        if kw == 'if' and not same_as_errno_op:
            repl = '(%s) && 0' % cond if has_call(ccode) else '0'
            yield 'check-false', open_i + 1, close - 1, repl
        elif do_tail and not same_as_errno_op:
            repl = '(%s) && 0' % cond if has_call(ccode) else '0'
            yield 'loop-once', open_i + 1, close - 1, repl
        elif do_tail or kw == 'if':
            pass
        else:
            s = lo + m.start()
            yield 'loop-once', s, s + 5, 'if'
        # drop one alternative of a top-level ||
        parts, depth, start = [], 0, open_i + 1
        for j in range(open_i + 1, close - 1):
            ch = code[j]
            if ch in '([{':
                depth += 1
            elif ch in ')]}':
                depth -= 1
            elif depth == 0 and code.startswith('||', j):
                parts.append((start, j))
                start = j + 2
        parts.append((start, close - 1))
        if len(parts) > 1:
            for k in range(len(parts)):
                keep = [text[s:e].strip() for idx, (s, e) in enumerate(parts) if idx != k]
                yield 'drop-or', open_i + 1, close - 1, ' || '.join(keep)


def op_flags(text, code, lo, hi):
    for m in FLAG_RE.finditer(code, lo, hi):
        tok = m.group(0)
        s, e = m.start(), m.end()
        before = prev_char(code, s)
        ai = next_char_index(code, e)
        after = code[ai] if ai < len(code) else ''
        in_chain = (before == '|' and code[s - 2:s].strip() != '||' and not code[:s].rstrip().endswith('||')) or \
                   (after == '|' and not code.startswith('||', ai))
        if in_chain and tok == 'PROT_READ':
            pass  # PROT_WRITE implies read access on x86 and arm64: dropping PROT_READ is invisible
        elif in_chain:
            # remove the flag together with one neighbouring '|'
            if after == '|':
                ds, de = s, next_char_index(code, ai + 1)
            else:
                j = s - 1
                while code[j].isspace():
                    j -= 1
                ds = j  # the '|'
                while ds > 0 and code[ds - 1].isspace():
                    ds -= 1
                de = e
            yield 'flag-drop', ds, de, ''
        elif tok in LONE_FLAGS and before in ('(', ',', '=') and after in (')', ',', ';', '}') \
                and code[s - 2:s].strip() not in ('==', '!=', '<=', '>='):
            yield 'flag-drop', s, e, '0'
        for other in FLAG_SWAPS.get(tok, []):
            yield 'flag-swap', s, e, other
    for m in re.finditer(r'\bF_DUPFD_CLOEXEC\b', code[lo:hi]):
        yield 'cloexec', lo + m.start(), lo + m.end(), 'F_DUPFD'
    for m in re.finditer(r'\bCLOCK_(MONOTONIC|REALTIME)\b', code[lo:hi]):
        other = 'CLOCK_REALTIME' if m.group(1) == 'MONOTONIC' else 'CLOCK_MONOTONIC'
        yield 'clock', lo + m.start(), lo + m.end(), other


def op_relational(text, code, lo, hi):
    for m in re.finditer(r'<=|>=|==|!=|<<=|>>=|<<|>>|->|<|>', code[lo:hi]):
        tok = m.group(0)
        s, e = lo + m.start(), lo + m.end()
        swap = {'<': '<=', '<=': '<', '>': '>=', '>=': '>'}.get(tok)
        if swap:
            yield 'rel-bound', s, e, swap
        elif tok in ('==', '!='):
            yield 'rel-negate', s, e, '!=' if tok == '==' else '=='


def op_errors(text, code, lo, hi):
    seen = set()
    pat = r'\b(\w+)\s*==\s*EAGAIN\s*\|\|\s*\1\s*==\s*EWOULDBLOCK\b'
    for m in re.finditer(pat, code[lo:hi]):
        seen.update(range(lo + m.start(), lo + m.end()))
        yield 'eagain', lo + m.start(), lo + m.end(), '0'
    for m in re.finditer(r'\b\w+\s*(==|!=)\s*(EINTR|EAGAIN|EWOULDBLOCK)\b', code[lo:hi]):
        s, e = lo + m.start(), lo + m.end()
        if s in seen:
            continue
        op = 'eintr' if m.group(2) == 'EINTR' else 'eagain'
        yield op, s, e, '0' if m.group(1) == '==' else '1'


def op_byteorder(text, code, lo, hi):
    for m in re.finditer(r'\b(htonl|htons|ntohl|ntohs)\s*\(', code[lo:hi]):
        open_i = lo + m.end() - 1
        close = match_paren(code, open_i)
        if close > 0:
            yield 'byteorder', lo + m.start(), close, '(' + text[open_i + 1:close - 1] + ')'


def op_returns(text, code, lo, hi):
    for m in re.finditer(r'\breturn\s+(-1|0)\s*;', code[lo:hi]):
        s, e = lo + m.start(1), lo + m.end(1)
        yield 'return-swap', s, e, '0' if m.group(1) == '-1' else '-1'


def op_sizes(text, code, lo, hi):
    # sizeof X -> (sizeof X - 1)
    for m in re.finditer(r'\bsizeof\b\s*', code[lo:hi]):
        s = lo + m.start()
        j = lo + m.end()
        if j < len(code) and code[j] == '(':
            e = match_paren(code, j)
        else:
            mm = re.compile(r'\**[A-Za-z_]\w*(?:\s*(?:\.|->)\s*[A-Za-z_]\w*|\s*\[[^\]]*\])*').match(code, j)
            e = mm.end() if mm else -1
        if e > 0 and enclosing_call(code, s) not in PAGE_CALLS:
            yield 'sizeof-1', s, e, '(%s - 1)' % text[s:e]
    # size arguments of known calls
    for m in re.finditer(r'\b([A-Za-z_]\w*)\s*\(', code[lo:hi]):
        idx = SIZE_ARGS.get(m.group(1))
        if idx is None:
            continue
        open_i = lo + m.end() - 1
        close = match_paren(code, open_i)
        if close < 0:
            continue
        args = split_args(code, open_i, close - 1)
        if idx >= len(args):
            continue
        s, e = args[idx]
        arg = text[s:e]
        if re.match(r'sizeof\b', code[s:e]) or arg.strip() in ('0', 'NULL'):
            continue  # sizeof-1 covers sizeof; 0 - 1 is not a realistic slip
        simple = re.fullmatch(r'[\w.\->\[\]]+', arg) is not None
        a = arg if simple else '(%s)' % arg
        yield 'len-minus', s, e, a + ' - 1'
        yield 'len-plus', s, e, a + ' + 1'


def op_const(text, code, lo, hi):
    for m in re.finditer(r'(?<![\w.])([01])(?![\w.])', code[lo:hi]):
        s, e = lo + m.start(), lo + m.end()
        if code[s - 1] == '-':
            continue  # -1: return-swap and friends cover it
        if re.search(r'\breturn\s*$', code[lo:s]):
            continue  # return-swap covers it
        if re.search(r'(<|>|<=|>=|==|!=)\s*$', code[lo:s]):
            continue  # x < 0 -> x < 1 is rel-bound again; == 0 -> != 0 is rel-negate
        yield 'const', s, e, '1' if m.group(1) == '0' else '0'


GENERATORS = [op_del_call, op_del_errno, op_conditions, op_flags, op_relational, op_errors,
              op_byteorder, op_returns, op_sizes, op_const]


def strip_comments(s):
    s = re.sub(r'/\*.*?(\*/|$)', ' ', s, flags=re.S)
    return re.sub(r'//[^"\n]*$', ' ', s, flags=re.M)


def norm(s):
    return re.sub(r'\s+', ' ', s).strip()


def mutants_of_file(fname, text):
    """Every mutant of one source file, in a stable order, with stable IDs."""
    code = blank_non_code(text)
    line_starts = [0] + [m.end() for m in re.finditer('\n', text)]

    def line_of(off):
        lo_, hi_ = 0, len(line_starts) - 1
        while lo_ < hi_:
            mid = (lo_ + hi_ + 1) // 2
            if line_starts[mid] <= off:
                lo_ = mid
            else:
                hi_ = mid - 1
        return lo_ + 1

    raw = []
    for fs, fe, fname_ in functions(code):
        for gen in GENERATORS:
            for op, s, e, repl in gen(text, code, fs + 1, fe - 1):
                if text[s:e] == repl:
                    continue
                raw.append((s, OP_ORDER[op], e, repl, op, fname_))
    raw.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    out, seen_text, counts = [], set(), {}
    for s, _, e, repl, op, func in raw:
        new = text[:s] + repl + text[e:]
        digest = hashlib.sha1(new.encode()).hexdigest()
        if digest in seen_text:
            continue  # two operators made the same program: keep the first
        seen_text.add(digest)
        l1, l2 = line_of(s), line_of(max(s, e - 1))
        ls, le = line_starts[l1 - 1], (line_starts[l2] - 1 if l2 < len(line_starts) else len(text))
        # Comments are left out, so rewording one never changes an ID.
        before = strip_comments(text[ls:le])
        after = strip_comments(text[ls:s] + repl + text[e:le])
        h = hashlib.sha1(('%s\n%s' % (norm(before), norm(after))).encode()).hexdigest()[:6]
        key = (func, op, h)
        counts[key] = counts.get(key, 0) + 1
        mid = '%s/%s/%s' % key + ('/%d' % counts[key] if counts[key] > 1 else '')
        out.append({'id': mid, 'file': fname, 'line': l1, 'func': func, 'op': op,
                    'start': s, 'end': e, 'repl': repl,
                    'before': norm(before), 'after': norm(after)})
    return out


def short(s, n=90):
    return s if len(s) <= n else s[:n - 3] + '...'


def describe(m):
    return '%s:%d: %s -> %s' % (m['file'], m['line'], short(m['before']), short(m['after']))


# --- the labs ----------------------------------------------------------------------------------


def read_conf(path):
    """(files, equivalents {id: reason}) from a lab.conf."""
    files, equiv = [], {}
    with open(path) as f:
        key = ''
        for line in f:
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            if line[0] in ' \t':
                if key == 'files':
                    files += line.split()
                continue
            k, _, v = line.partition(':')
            key = k.strip()
            if key == 'test':
                break
            if key == 'files':
                files += v.split()
            elif key == 'equivalent':
                parts = v.strip().split(None, 1)
                if parts:
                    equiv[parts[0]] = parts[1] if len(parts) > 1 else ''
    return files, equiv


def all_labs(root):
    d = os.path.join(root, 'tests')
    return sorted(x for x in os.listdir(d)
                  if re.match(r'\d\d-', x) and os.path.isfile(os.path.join(d, x, 'lab.conf')))


def select_labs(root, spec):
    labs = all_labs(root)
    if not spec:
        return labs
    out = []
    for w in re.split(r'[,\s]+', spec.strip()):
        if not w:
            continue
        found = [l for l in labs if w == l or w == l.split('-', 1)[1] or
                 (w.isdigit() and int(w) == int(l[:2]))]
        if not found:
            print('mutants: there is no lab %r (the labs: %s)' % (w, ' '.join(labs)), file=sys.stderr)
            sys.exit(2)
        out += [l for l in found if l not in out]
    return out


def lab_mutants(root, lab):
    files, equiv = read_conf(os.path.join(root, 'tests', lab, 'lab.conf'))
    muts = []
    for f in files:
        with open(os.path.join(root, 'solutions', lab, f)) as fh:
            muts += mutants_of_file(f, fh.read())
    return files, equiv, muts


def sample(muts, n):
    if not n or n >= len(muts):
        return muts
    return [muts[(k * len(muts)) // n] for k in range(n)]


# --- grading -----------------------------------------------------------------------------------


class Grader:
    def __init__(self, root, work, timeout):
        self.root, self.work, self.timeout = root, work, timeout
        self.build = os.path.join(work, 'build')
        self.procs = set()
        self.lock = threading.Lock()
        self.stopping = False
        self.strict = False

    def grade(self, lab, tree, tag):
        """-> (status, score, max, [failed tests], seconds); status graded/compile-error/...."""
        report = os.path.join(tree, 'r.json')
        env = dict(os.environ, IPCLAB_BUILD=self.build, LABS_DIR=tree, LAB=lab, REPORT=report)
        for k in ('SOLUTIONS', 'TEST', 'SANITIZE', 'STRICT', 'SUBMISSIONS'):
            env.pop(k, None)
        if self.strict:
            env['STRICT'] = '1'
        t0 = time.time()
        log = open(os.path.join(tree, 'log'), 'w')
        p = subprocess.Popen([os.path.join(self.root, 'common', 'ipclab.sh'), 'check'], env=env,
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        with self.lock:
            self.procs.add(p)
        try:
            rc = p.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.kill(p)
            rc = None
        finally:
            with self.lock:
                self.procs.discard(p)
            log.close()
        secs = time.time() - t0
        if rc is None:
            return 'driver-timeout', 0, 0, [], secs
        sum_path = report[:-len('.json')] + '.sum'
        status, score, mx, failed = 'no-result(rc=%s)' % rc, 0, 0, []
        if os.path.exists(sum_path):
            with open(sum_path) as f:
                for line in f:
                    w = line.split()
                    if w[:1] == ['lab'] and len(w) >= 5:
                        score, mx, status = int(w[2]), int(w[3]), w[4]
                    elif w[:1] == ['test'] and len(w) >= 3 and w[2] != 'pass':
                        failed.append('%s(%s)' % (w[1], w[2]))
        return status, score, mx, failed, secs

    def kill(self, p):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()

    def stop_all(self):
        self.stopping = True
        with self.lock:
            for p in list(self.procs):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def make_tree(work, tag, root, lab, files, mutant=None):
    tree = os.path.normpath(os.path.join(work, tag))
    shutil.rmtree(os.path.join(tree, lab), ignore_errors=True)
    shutil.copytree(os.path.join(root, 'solutions', lab), os.path.join(tree, lab))
    if mutant:
        path = os.path.join(tree, lab, mutant['file'])
        with open(path) as f:
            text = f.read()
        with open(path, 'w') as f:
            f.write(text[:mutant['start']] + mutant['repl'] + text[mutant['end']:])
    return tree


def cleanup_tree(grader, tree):
    # the driver's build folder for this tree (build/grade/tree-<cksum>) and the tree itself
    ck = subprocess.run(['cksum'], input=tree.encode(), capture_output=True).stdout.split()[0].decode()
    shutil.rmtree(os.path.join(grader.build, 'grade', 'tree-' + ck), ignore_errors=True)
    shutil.rmtree(tree, ignore_errors=True)


def run_lab(root, lab, grader, jobs, sample_n, only, out_dir, verbose):
    t0 = time.time()
    files, equiv, muts = lab_mutants(root, lab)
    total_generated = len(muts)
    all_muts = muts
    if only:
        muts = [m for m in muts if m['id'] in only]
    sampled = sample(muts, sample_n)
    print('== %s: %d mutants of %s%s (jobs %d) ==' % (
        lab, len(sampled), ' '.join(files),
        ', a deterministic sample of %d out of %d' % (len(sampled), len(muts)) if len(sampled) < len(muts) else '',
        jobs), flush=True)

    # The reference itself must score full marks, or nothing below means anything.
    tree = make_tree(grader.work, 'ref-' + lab, root, lab, files)
    st, score, mx, failed, secs = grader.grade(lab, tree, 'ref')
    if st != 'graded' or score != mx:
        print('  the reference solution itself scores %d/%d (%s) %s: see %s/log' % (
            score, mx, st, ' '.join(failed), tree))
        return {'lab': lab, 'error': 'reference not full marks'}, False
    cleanup_tree(grader, tree)
    ref_secs = secs

    results = [None] * len(sampled)
    done = [0]
    plock = threading.Lock()

    def one(k):
        if grader.stopping:
            return
        m = sampled[k]
        tree = make_tree(grader.work, '%s-m%04d' % (lab[:2], k), root, lab, files, m)
        st, score, mx, failed, secs = grader.grade(lab, tree, m['id'])
        if grader.stopping:
            return
        if st == 'compile-error':
            verdict = 'stillborn'
        elif st == 'graded' and score == mx and not failed:
            verdict = 'equivalent' if m['id'] in equiv else 'survived'
        elif st in ('graded',) or st == 'driver-timeout':
            verdict = 'killed'
        else:
            verdict = 'error'
        keep = verdict == 'error'
        if not keep:
            cleanup_tree(grader, tree)
        results[k] = dict(m, verdict=verdict, status=st, score=score, max=mx, failed=failed,
                          seconds=round(secs, 2), log=os.path.join(tree, 'log') if keep else None)
        with plock:
            done[0] += 1
            if verbose or verdict in ('survived', 'error'):
                print('  [%d/%d] %-9s %s  %s' % (done[0], len(sampled), verdict.upper(), m['id'],
                                                 describe(m)), flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        list(ex.map(one, range(len(sampled))))
    if grader.stopping:
        return None, False
    wall = time.time() - t0

    count = {v: sum(1 for r in results if r['verdict'] == v)
             for v in ('killed', 'survived', 'equivalent', 'stillborn', 'error')}
    counted = count['killed'] + count['survived']
    rate = 100.0 * count['killed'] / counted if counted else 100.0
    ids = {m['id'] for m in all_muts}
    stale = sorted(i for i in equiv if i not in ids)
    by_op = {}
    for r in results:
        if r['verdict'] in ('killed', 'survived'):
            k_, t_ = by_op.get(r['op'], (0, 0))
            by_op[r['op']] = (k_ + (r['verdict'] == 'killed'), t_ + 1)

    lines = []
    lines.append('%s: killed %d/%d (%.1f%%)  [%d stillborn, %d equivalent, %d survived%s]  %.0f s wall, jobs %d' % (
        lab, count['killed'], counted, rate, count['stillborn'], count['equivalent'], count['survived'],
        (', %d errors' % count['error']) if count['error'] else '', wall, jobs))
    if len(sampled) < len(muts):
        lines.append('  SAMPLED: %d of %d mutants (MUTANTS_SAMPLE=%d); the rate is an estimate' % (
            len(sampled), len(muts), sample_n))
    if only:
        lines.append('  ONLY the %d mutant(s) asked for (of %d)' % (len(muts), total_generated))
    lines.append('  reference: full marks in %.1f s; built %s; per operator (killed/counted): %s' % (
        ref_secs, 'with -Werror (--strict)' if grader.strict else 'as students are graded (no -Werror)', ', '.join('%s %d/%d' % (op, kt[0], kt[1]) for op, kt in
                            sorted(by_op.items(), key=lambda x: OP_ORDER[x[0]]))))
    for r in results:
        if r['verdict'] == 'survived':
            lines.append('  SURVIVED %s  [%s]  %s' % (r['id'], r['func'], describe(r)))
    for r in results:
        if r['verdict'] == 'error':
            lines.append('  ERROR    %s  %s: %s (see %s)' % (r['id'], describe(r), r['status'], r['log']))
    for r in results:
        if r['verdict'] == 'equivalent':
            lines.append('  equivalent %s  %s  -- %s' % (r['id'], describe(r), equiv[r['id']]))
    for r in results:
        if r['verdict'] == 'killed' and r['id'] in equiv:
            lines.append('  WARNING: %s is listed as equivalent but was killed (%s): wrong reason, or a flaky test?' % (
                r['id'], ' '.join(r['failed']) or r['status']))
    for i in stale:
        lines.append('  WARNING: lab.conf lists equivalent %s, which matches no mutant any more (stale)' % i)
    text = '\n'.join(lines)
    print(text, flush=True)

    os.makedirs(out_dir, exist_ok=True)
    # A partial run (--only, --sample) never overwrites the report of a full one.
    stem = os.path.join(out_dir, lab + ('.only' if only else '.sample' if len(sampled) < len(muts) else ''))
    with open(stem + '.txt', 'w') as f:
        f.write(text + '\n\nall mutants (verdict id location: failed tests):\n')
        for r in results:
            f.write('%-10s %s  %s%s\n' % (r['verdict'], r['id'], describe(r),
                                          ('  :: ' + ' '.join(r['failed'])) if r['failed'] else ''))
    summary = {'lab': lab, 'killed': count['killed'], 'counted': counted, 'rate': round(rate, 1),
               'survived': count['survived'], 'stillborn': count['stillborn'],
               'equivalent': count['equivalent'], 'errors': count['error'],
               'generated': len(muts), 'graded': len(sampled), 'sampled': len(sampled) < len(muts),
               'wall_seconds': round(wall, 1), 'jobs': jobs, 'stale_equivalents': stale,
               'mutants': [{k: r[k] for k in ('id', 'verdict', 'file', 'line', 'func', 'op', 'before',
                                              'after', 'failed', 'status', 'seconds')} for r in results]}
    with open(stem + '.json', 'w') as f:
        json.dump(summary, f, indent=1)
    ok = count['survived'] == 0 and count['error'] == 0
    return summary, ok


# --- self-check ----------------------------------------------------------------------------------

SELF_CASES = [
    # (operator, C body, expected mutated text of the line)
    ('del-call', 'close(fd);', '{}'),
    ('del-call', 'if (x)\n\t\tmunmap(p, n);', 'if (x)\n\t\t{}'),
    ('check-false', 'if (pipe2(p, O_CLOEXEC) < 0)\n\t\treturn -1;', 'if ((pipe2(p, O_CLOEXEC) < 0) && 0)\n\t\treturn -1;'),
    ('check-false', 'if (n > cap)\n\t\treturn -1;', 'if (0)\n\t\treturn -1;'),
    ('flag-drop', 'fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);', 'fd = open(path, O_RDWR | O_CREAT, 0600);'),
    ('flag-drop', 'send(fd, b, n, MSG_NOSIGNAL);', 'send(fd, b, n, 0);'),
    ('flag-swap', 'p = mmap(0, n, PROT_READ, MAP_SHARED, fd, 0);', 'p = mmap(0, n, PROT_READ, MAP_PRIVATE, fd, 0);'),
    ('rel-bound', 'while (done < n)\n\t\tdone++;', 'while (done <= n)\n\t\tdone++;'),
    ('len-minus', 'write(fd, buf, n);', 'write(fd, buf, n - 1);'),
    ('sizeof-1', 'read(fd, &h, sizeof h);', 'read(fd, &h, (sizeof h - 1));'),
    ('eintr', 'if (r < 0 && errno == EINTR)\n\t\tcontinue;', 'if (r < 0 && 0)\n\t\tcontinue;'),
    ('eagain', 'if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))\n\t\tbreak;', 'if (r < 0 && (0))\n\t\tbreak;'),
    ('byteorder', 'x = htonl(len);', 'x = (len);'),
    ('clock', 'clock_gettime(CLOCK_MONOTONIC, &t);', 'clock_gettime(CLOCK_REALTIME, &t);'),
    ('loop-once', 'do\n\t\tr = waitpid(p, 0, 0);\n\twhile (r < 0 && w != 0);', 'do\n\t\tr = waitpid(p, 0, 0);\n\twhile (0);'),
    ('eintr', 'do\n\t\tr = waitpid(p, 0, 0);\n\twhile (r < 0 && errno == EINTR);', 'do\n\t\tr = waitpid(p, 0, 0);\n\twhile (r < 0 && 0);'),
    ('loop-once', 'while (n > 0)\n\t\tn--;', 'if (n > 0)\n\t\tn--;'),
    ('return-swap', 'return 0;', 'return -1;'),
    ('cloexec', 'fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);', 'fd = fcntl(fd, F_DUPFD, 3);'),
]


def self_test():
    bad = 0
    for op, body, want in SELF_CASES:
        text = 'int f(int fd)\n{\n\t%s\n\t/* close(fd); */ puts("close(fd);");\n}\n' % body
        got = [m for m in mutants_of_file('t.c', text) if m['op'] == op]
        results = [text[:m['start']] + m['repl'] + text[m['end']:] for m in got]
        expect = text.replace(body, want, 1)
        if expect not in results:
            bad += 1
            print('FAIL %s on %r: expected %r, got %r' % (op, body, want,
                                                          [r.split('\n', 3)[2:3] for r in results]))
        c0 = text.index('/* close')
        c1 = text.index('"close') + len('"close(fd);"')
        for m in got:
            if c0 <= m['start'] < c1 and not text.startswith('puts', m['start']):
                bad += 1
                print('FAIL: a comment or string was mutated: %s' % describe(m))
    # IDs are stable when unrelated lines move.
    a = 'int f(void)\n{\n\tclose(3); /* done */\n\treturn 0;\n}\n'
    b = 'int g(void)\n{\n\treturn 1;\n}\n\n' + a.replace('\tclose(3); /* done */', '\tint x = 2;\n\tclose(3); // fd 3')
    ida = {m['id'] for m in mutants_of_file('t.c', a)}
    idb = {m['id'] for m in mutants_of_file('t.c', b)}
    if not ida <= idb:
        bad += 1
        print('FAIL: IDs changed after an unrelated edit: %s' % sorted(ida - idb))
    # No duplicate: "if (r < 0 && errno == EINTR)" made false is the eintr mutant, not a second one.
    dup = 'int f(int r)\n{\n\tif (r < 0 && errno == EINTR)\n\t\treturn 1;\n\treturn 0;\n}\n'
    ops = [m['op'] for m in mutants_of_file('t.c', dup)]
    if 'eintr' not in ops or 'check-false' in ops:
        bad += 1
        print('FAIL: expected one eintr mutant and no check-false duplicate, got %s' % ops)
    print('self-test: %d cases, %d failed' % (len(SELF_CASES) + 2, bad))
    return 1 if bad else 0


# --- main --------------------------------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description='Mutation testing of the graders against their reference solutions.')
    ap.add_argument('--root', default=os.environ.get('MUTANTS_ROOT') or here,
                    help='the checkout to test (default: this one); its solutions/, tests/ and common/ are used')
    ap.add_argument('--lab', default=os.environ.get('LAB', ''), help='01, 1, fork-clone; comma lists (default: all)')
    ap.add_argument('--jobs', type=int, default=int(os.environ.get('JOBS') or 0) or (os.cpu_count() or 1) + 1,
                    help='gradings in parallel (default nproc + 1: grading mostly waits)')
    ap.add_argument('--sample', type=int, default=int(os.environ.get('MUTANTS_SAMPLE') or 0),
                    help='grade only N evenly spread mutants per lab (deterministic)')
    ap.add_argument('--only', default=os.environ.get('MUTANTS_ONLY', ''), help='comma-separated mutant IDs')
    ap.add_argument('--list', action='store_true', help='list the mutants, grade nothing')
    ap.add_argument('--show', metavar='ID', help='print the diff of one mutant')
    ap.add_argument('--strict', action='store_true', default=bool(os.environ.get('MUTANTS_STRICT')),
                    help='build with -Werror (STRICT=1): mutants that warn count as stillborn. '
                         'Default: the flags students are graded with')
    ap.add_argument('--write', metavar='DIR', help='with --show: write the mutated solution to DIR/NN-slug/')
    ap.add_argument('--timeout', type=float, default=300, help='seconds for one grading run')
    ap.add_argument('--out', help='report folder (default ROOT/build/mutants)')
    ap.add_argument('--operators', action='store_true', help='list the operators')
    ap.add_argument('--self-test', action='store_true', help='check the operators on sample lines')
    ap.add_argument('-v', '--verbose', action='store_true', help='print every verdict')
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if a.operators:
        for name, what in OPERATORS:
            print('  %-12s %s' % (name, what))
        return 0
    root = os.path.abspath(a.root)
    if not os.path.isfile(os.path.join(root, 'common', 'ipclab.sh')):
        print('mutants: %s is not a checkout of the lab (no common/ipclab.sh)' % root, file=sys.stderr)
        return 2
    labs = select_labs(root, a.lab)
    if a.list or a.show:
        for lab in labs:
            _, equiv, muts = lab_mutants(root, lab)
            for m in muts:
                if a.show and m['id'] != a.show:
                    continue
                if a.show:
                    print('%s %s %s\n  - %s\n  + %s' % (lab, m['id'], '%s:%d' % (m['file'], m['line']),
                                                         m['before'], m['after']))
                    if a.write:
                        tree = make_tree(os.path.abspath(a.write), '.', root, lab, None, m)
                        print('written: %s/%s/ (grade it: make check LAB=%s LABS_DIR=%s)' % (
                            tree, lab, lab[:2], tree))
                else:
                    print('%s %-40s %s%s' % (lab[:2], m['id'], describe(m),
                                             '  [equivalent]' if m['id'] in equiv else ''))
        return 0
    if self_test() != 0:
        print('mutants: the operators fail their own self-test (above); fix common/mutants.py first', file=sys.stderr)
        return 3
    dep = subprocess.run([os.path.join(root, 'common', 'deps.sh'), 'cc=gcc', 'make=make',
                          'pkg-config=pkg-config', 'pc:check=check', 'cksum=coreutils'])
    if dep.returncode:
        return 2
    only = {x for x in re.split(r'[,\s]+', a.only) if x}
    out_dir = a.out or os.path.join(root, 'build', 'mutants')
    # Graders are built outside ROOT/build, so a self-test running there never sees our processes.
    work = tempfile.mkdtemp(prefix='ipclab-mutants.')
    grader = Grader(root, work, a.timeout)
    grader.strict = a.strict

    def on_signal(sig, frame):
        grader.stop_all()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    t0 = time.time()
    all_ok, summaries = True, []
    try:
        for lab in labs:
            s, ok = run_lab(root, lab, grader, max(1, a.jobs), a.sample, only, out_dir, a.verbose)
            if s is None:
                return 3
            summaries.append(s)
            all_ok &= ok
    except KeyboardInterrupt:
        grader.stop_all()
        print('mutants: interrupted', file=sys.stderr)
        return 3
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('\n== Mutation summary (%.0f s wall) ==' % (time.time() - t0))
    for s in summaries:
        if 'error' in s:
            print('  %-24s %s' % (s['lab'], s['error']))
        else:
            print('  %-24s killed %3d/%-3d %5.1f%%  survived %d, equivalent %d, stillborn %d%s  %4.0f s' % (
                s['lab'], s['killed'], s['counted'], s['rate'], s['survived'], s['equivalent'],
                s['stillborn'], ', SAMPLED %d/%d' % (s['graded'], s['generated']) if s['sampled'] else '',
                s['wall_seconds']))
    print('  reports: %s/NN-slug%s.txt (and .json)' % (out_dir, '.only' if only else '.sample' if a.sample else ''))
    return 0 if all_ok else 1


if __name__ == '__main__':
    sys.exit(main())
