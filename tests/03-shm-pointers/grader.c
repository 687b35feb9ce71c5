/* grader.c: Lab 03 tests: offsets that survive a second mapping, bounds that hold, a log that loses nothing. */
#define _GNU_SOURCE
#include "grader.h"
#include "shmlist.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PAGE = 4096, REGION = 4096 };

/* The report cuts lines at 200 characters: fold a message into lines of at most 100. */
static const char *fold(char *msg)
{
	size_t line = 0, last_space = 0;
	for (size_t i = 0; msg[i]; i++, line++) {
		if (msg[i] == '\n')
			line = 0;
		if (msg[i] == ' ')
			last_space = i;
		if (line >= 100 && last_space > i - line) {
			msg[last_space] = '\n';
			line = i - last_space;
		}
	}
	return msg;
}
#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			char fold_buf_[2048];                                              \
			snprintf(fold_buf_, sizeof fold_buf_, __VA_ARGS__);                \
			ck_abort_msg("%s", fold(fold_buf_));                               \
		}                                                                          \
	} while (0)
#define ABORT(...) CHECK(0, __VA_ARGS__)

/* ---- Running student code in a child that reports back ------------------------------------ */

/* A shared page where a child leaves its verdict: the parent reads it after the child ends. */
struct verdict {
	char msg[1536];
	char enosys[64]; /* the function that was still a stub */
	long progress;   /* e.g. the fuzz seed being run, to name it if the child crashes */
	char doing[256]; /* what the child was doing, to name it if it crashes or hangs */
};
static struct verdict *V;

__attribute__((format(printf, 1, 2), noreturn)) static void child_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(V->msg, sizeof V->msg, fmt, ap);
	va_end(ap);
	_exit(1);
}

/* In a child: says what comes next, so that a crash or a hang there can be named. */
static void child_doing(const char *what)
{
	snprintf(V->doing, sizeof V->doing, "%s", what);
}

/* In a child: a call returned -1; stop if that is only a stub. */
static void child_stub(int failed, const char *fname)
{
	if (failed && errno == ENOSYS) {
		snprintf(V->enosys, sizeof V->enosys, "%s", fname);
		_exit(2);
	}
}

/*
 * Runs FN(ARG) in a child with a deadline, then fails the test with what happened: the child's
 * own message, or CRASH (a sentence; " It was <signal>." is added), or HANG.
 */
static void (*bounded_fn)(void *);
static rlim_t bounded_cpu;

/* Every child here only computes on memory, so "loops forever" is measured in CPU seconds
 * (RLIMIT_CPU, then SIGXCPU), which a busy machine does not stretch, and not in wall time. */
static void cpu_bounded(void *arg)
{
	struct rlimit r = {bounded_cpu, bounded_cpu + 1};
	setrlimit(RLIMIT_CPU, &r);
	bounded_fn(arg);
}

static void run_child(void (*fn)(void *), void *arg, double timeout, const char *crash, const char *hang)
{
	V = mmap(NULL, sizeof *V, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(V != MAP_FAILED);
	memset(V, 0, sizeof *V);
	V->progress = -1;
	bounded_fn = fn;
	bounded_cpu = (rlim_t)timeout + ((double)(rlim_t)timeout < timeout);
	/* The wall-clock deadline is only the backstop for a child that never gets the CPU. */
	child_end e = probe_in_child(cpu_bounded, arg, 4 * timeout);
	if (e.sig == SIGXCPU)
		e.timed_out = true, e.sig = 0;
	struct verdict v = *V;
	munmap(V, sizeof *V);
	V = NULL;
	if (v.enosys[0]) {
		errno = ENOSYS;
		require_implemented(1, v.enosys);
	}
	char how[160], seed[64] = "", doing[300] = "";
	if (v.progress >= 0)
		snprintf(seed, sizeof seed, " (at step %ld)", v.progress);
	if (v.doing[0])
		snprintf(doing, sizeof doing, " It happened while %s.", v.doing);
	CHECK(!e.timed_out, "%s%s%s", hang, seed, doing);
	CHECK(e.sig == 0, "%s The process %s%s.%s", crash, describe_end(e, how, sizeof how), seed, doing);
	CHECK(e.exited && e.code == 0, "%s", v.msg[0] ? v.msg : "The child stopped early.");
}

/* REGION bytes of private memory with a PROT_NONE page on each side: any stray access crashes. */
static char *guarded(void)
{
	char *r = probe_stack(REGION);
	if (!r)
		child_fail("grader: no memory");
	return r;
}

/* SIZE bytes (8-aligned when SIZE is a multiple of 8) whose last byte touches a PROT_NONE page:
   reading even one byte past the end crashes. Only for children: never freed. */
static char *at_guard(size_t size)
{
	size_t r = size ? (size + 7) / 8 * 8 : 8;
	char *p = probe_stack(r);
	if (!p)
		child_fail("grader: no memory");
	return p + (r - size);
}

/* A copy of the string S whose '\0' is the last readable byte before a guard page. */
static const char *guarded_str(const char *s)
{
	char *p = at_guard(strlen(s) + 1);
	memcpy(p, s, strlen(s) + 1);
	return p;
}

/* ---- What list_walk hands to its callback ------------------------------------------------- */

struct seen {
	const char *base;
	size_t size;
	int n;
	char text[600][72];
	long calls;
	long max_calls;
	int check_len; /* also compare strlen(text) with the node's len (a layout the grader trusts) */
};

static void collect(const char *text, void *ctx)
{
	struct seen *s = ctx;
	if (++s->calls > s->max_calls)
		child_fail("list_walk() called the callback more than %ld times on a list that cannot hold "
			   "that many nodes: it follows a loop in the list forever. Offsets read from the "
			   "region can point back to a node already visited; a list in SIZE bytes holds at "
			   "most SIZE / (smallest node) nodes, so stop with EINVAL after that many.",
			   s->max_calls);
	if (text < s->base || text >= s->base + s->size)
		child_fail("list_walk() passed the callback a text at %p, outside the region %p..%p. Either an "
			   "offset read from the region was followed without checking that it stays inside, or "
			   "the walker did not add the base of its OWN mapping.",
			   (const void *)text, (const void *)s->base, (const void *)(s->base + s->size));
	if (!memchr(text, '\0', (size_t)(s->base + s->size - text)))
		child_fail("list_walk() passed the callback a text with no '\\0' before the end of the "
			   "region: reading it runs past the end. Check that text[len] is '\\0'.");
	if (s->check_len) {
		const struct shml_node *n = (const void *)(text - offsetof(struct shml_node, text));
		if ((const char *)n >= s->base && strlen(text) != n->len)
			child_fail("list_walk() passed the callback a text of %zu characters from a node "
				   "whose len says %u: its '\\0' is not at text[len]. A peer may have "
				   "overwritten it; check text[len] == '\\0' before handing the text out.",
				   strlen(text), n->len);
	}
	if (s->n < 600)
		snprintf(s->text[s->n++], sizeof s->text[0], "%s", text);
}

static struct seen *new_seen(const void *base, size_t size)
{
	static struct seen s;
	memset(&s, 0, sizeof s);
	s.base = base;
	s.size = size;
	s.max_calls = 100000;
	return &s;
}

/* ---- list_roundtrip ----------------------------------------------------------------------- */

static void roundtrip_child(void *arg)
{
	(void)arg;
	char *r = guarded();
	child_stub(list_init(r, REGION) < 0, "list_init");
	char buf[32] = "alpha";
	const char *want[] = {"", "gamma", "beta", "alpha"};
	int rc = list_push(r, REGION, buf);
	child_stub(rc < 0, "list_push");
	strcpy(buf, "XXXXX"); /* the caller reuses its buffer: the node must hold its own copy */
	rc |= list_push(r, REGION, "beta") | list_push(r, REGION, "gamma") | list_push(r, REGION, "");
	if (rc < 0)
		child_fail("list_push() failed (%s) with plenty of room left.", strerror(errno));
	struct seen *s = new_seen(r, REGION);
	ssize_t n = list_walk(r, REGION, collect, s);
	child_stub(n < 0, "list_walk");
	if (n != 4 || s->n != 4)
		child_fail("After 4 pushes list_walk() returned %zd and called the callback %d times; "
			   "expected 4.", n, s->n);
	for (int i = 0; i < 4; i++)
		if (strcmp(s->text[i], want[i]))
			child_fail("The walk's node %d is \"%s\", expected \"%s\" (the most recent push "
				   "comes first, and each node holds a COPY of the string).",
				   i + 1, s->text[i], want[i]);
	const struct shml_header *h = (const void *)r;
	if (h->head >= REGION || h->alloc > REGION)
		child_fail("The header's head is 0x%llx and alloc 0x%llx, but the region is only %d bytes: "
			   "they look like addresses. The region must hold OFFSETS from its base "
			   "(target - base), which mean the same in every process.",
			   (unsigned long long)h->head, (unsigned long long)h->alloc, REGION);
	if (list_walk(r, REGION, NULL, NULL) != 4)
		child_fail("A second walk (with cb NULL) did not find the same 4 nodes: the walk must only "
			   "read the region.");
}

GRADER_TEST(list_roundtrip)
{
	run_child(roundtrip_child, NULL, 2.0,
		  "Pushing 4 strings into a fresh 4 KiB region and walking them crashed.",
		  "Pushing 4 strings and walking them did not finish within 2 s.");
}

/* ---- list_other_address ------------------------------------------------------------------- */

struct two_maps {
	char *a, *b;
	size_t size;
};

static void other_address_child(void *arg)
{
	struct two_maps *m = arg;
	struct seen *s = new_seen(m->b, m->size);
	ssize_t n = list_walk(m->b, m->size, collect, s);
	child_stub(n < 0, "list_walk");
	const char *want[] = {"three", "two", "one"};
	if (n != 3)
		child_fail("Through the second mapping list_walk() returned %zd (%s), expected 3 nodes. "
			   "The same bytes must make the same list wherever they are mapped.",
			   n, n < 0 ? strerror(errno) : "no error");
	for (int i = 0; i < 3; i++)
		if (strcmp(s->text[i], want[i]))
			child_fail("Through the second mapping node %d is \"%s\", expected \"%s\".", i + 1,
				   s->text[i], want[i]);
	/* The other direction: push through this mapping, in this process. */
	if (list_push(m->b, m->size, "four") < 0 || list_walk(m->b, m->size, NULL, NULL) != 4)
		child_fail("Pushing through the second mapping, onto a list built through the first, "
			   "failed or was not seen by the walk.");
}

GRADER_TEST(list_other_address)
{
	char name[64];
	sb_name("list", name, sizeof name);
	ledger_watch_shm(name);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0, "grader: shm_open: %s", strerror(errno));
	shm_unlink(name);
	size_t size = 2 * PAGE;
	ck_assert(ftruncate(fd, (off_t)size) == 0);
	struct two_maps m = {.size = size};
	void *a, *b;
	ck_assert(probe_map_twice(fd, size, &a, &b) == 0);
	close(fd);
	m.a = a, m.b = b;
	int rc = list_init(a, size);
	if (rc == 0)
		rc = list_push(a, size, "one") | list_push(a, size, "two") | list_push(a, size, "three");
	int err = errno;
	/* The first mapping is gone: in its place a page that crashes whoever touches it. */
	probe_guard(a, size);
	char msg[400];
	snprintf(msg, sizeof msg,
		 "The list was built through one mapping of a shm object (at %p), then that mapping was "
		 "replaced by a guard page and the list was walked through a second mapping of the SAME "
		 "object (at %p): the walk crashed.",
		 a, b);
	if (rc < 0) {
		munmap(a, size), munmap(b, size);
		errno = err;
		require_implemented(1, "list_init or list_push");
		ABORT("Building a 3-node list failed: %s", strerror(err));
	}
	V = NULL;
	char full[800];
	snprintf(full, sizeof full,
		 "%s A pointer stored in shared memory is only valid in the mapping that wrote it: "
		 "another process (or another mapping) sees the region at a different address. Store "
		 "OFFSETS (target - base) in the region and turn them back into addresses with the "
		 "reader's own base.",
		 msg);
	run_child(other_address_child, &m, 2.0, full, "Walking through the second mapping did not end within 2 s.");
	munmap(a, size);
	munmap(b, size);
}

/* ---- list_full ---------------------------------------------------------------------------- */

static void full_child(void *arg)
{
	(void)arg;
	char *r = guarded(); /* REGION is a page: the guard page starts at r + REGION */
	child_stub(list_init(r, REGION) < 0, "list_init");
	static char want[600][72];
	int pushed = 0;
	char s[72];
	/* Mixed lengths until the first refusal, then ever shorter ones to fill the last bytes. */
	for (int i = 0;; i++) {
		int len = (i * 7) % 53;
		memset(s, 'a' + i % 26, (size_t)len);
		s[len] = '\0';
		V->progress = pushed;
		int rc = list_push(r, REGION, s);
		child_stub(rc < 0, "list_push");
		if (rc < 0)
			break;
		if (pushed >= 600)
			child_fail("list_push() accepted more than 600 nodes into %d bytes: it never says the "
				   "region is full.", REGION);
		strcpy(want[pushed++], s);
	}
	if (errno != ENOSPC)
		child_fail("list_push() into a full region failed with %s; it should be ENOSPC.",
			   strerrorname_np(errno) ? strerrorname_np(errno) : "an unknown errno");
	for (int len = 52; len >= 0; len--) {
		memset(s, 'A' + len % 26, (size_t)len);
		s[len] = '\0';
		while (list_push(r, REGION, s) == 0) {
			if (pushed >= 600)
				child_fail("list_push() accepted more than 600 nodes into %d bytes.", REGION);
			strcpy(want[pushed++], s);
		}
		if (errno != ENOSPC)
			child_fail("list_push() of a %d-character string into an almost full region failed "
				   "with %s; it should be ENOSPC.", len, strerrorname_np(errno));
	}
	static char big[10000];
	memset(big, 'z', sizeof big - 1);
	if (list_push(r, REGION, big) == 0 || errno != ENOSPC)
		child_fail("list_push() of a 9999-character string into a %d-byte region should fail "
			   "with ENOSPC.", REGION);
	const struct shml_header *h = (const void *)r;
	if (h->alloc <= REGION && REGION - h->alloc >= 16)
		child_fail("list_push() refused every string, even \"\", with %llu bytes still free: a node "
			   "for \"\" needs only 16. Compare what the node needs with size - alloc.",
			   (unsigned long long)(REGION - h->alloc));
	struct seen *sn = new_seen(r, REGION);
	ssize_t n = list_walk(r, REGION, collect, sn);
	if (n != pushed)
		child_fail("%d pushes succeeded until the region was full, but list_walk() then returned "
			   "%zd. A refused push must leave the list unchanged.", pushed, n);
	for (int i = 0; i < pushed; i++)
		if (strcmp(sn->text[i], want[pushed - 1 - i]))
			child_fail("After filling the region, node %d reads \"%s\" instead of \"%s\": a later "
				   "node overwrote part of it. Does each node reserve room for the text's "
				   "'\\0' and round up to SHML_ALIGN?", i + 1, sn->text[i], want[pushed - 1 - i]);
}

GRADER_TEST(list_full)
{
	run_child(full_child, NULL, 2.0,
		  "Filling a 4 KiB region with list_push() crashed: the page right after the region is a "
		  "guard page, so a node was written (at least partly) past the end. Before writing, check "
		  "that the whole node (fixed part, text AND its '\\0', rounded up) fits in size - alloc; "
		  "if not, fail with ENOSPC.",
		  "Filling a 4 KiB region with list_push() did not end within 2 s.");
}

/* ---- list_corrupt ------------------------------------------------------------------------- */

struct corruption {
	const char *what;
	int kind;
};

enum {
	C_MAGIC,
	C_ALLOC,
	C_HEAD_PAST,
	C_HEAD_IN_HEADER,
	C_NEXT_PAST,
	C_NEXT_EDGE,
	C_NEXT_MISALIGNED,
	C_NODE_MISALIGNED,
	C_NEXT_WRAPS,
	C_NEXT_WRAPS8,
	C_SELF_CYCLE,
	C_CYCLE,
	C_LEN_PAST,
	C_LEN_WRAPS,
	C_NO_NUL,
};

static const struct corruption corruptions[] = {
    {"the header's magic is wrong", C_MAGIC},
    {"the header's alloc is past the end of the region", C_ALLOC},
    {"head is past the end of the region", C_HEAD_PAST},
    {"head points into the header itself (offset 8)", C_HEAD_IN_HEADER},
    {"a node's next is far past the end of the region", C_NEXT_PAST},
    {"a node's next is size - 8: the node would start inside but end outside the region",
     C_NEXT_EDGE},
    {"a node's next is not a multiple of SHML_ALIGN", C_NEXT_MISALIGNED},
    {"a well-formed node sits at an offset that is not a multiple of SHML_ALIGN",
     C_NODE_MISALIGNED},
    {"a node's next is 0xfffffffffffffff0 (offset + node size overflows 64 bits)", C_NEXT_WRAPS},
    {"a node's next is 0xfffffffffffffff8 (offset + node size overflows 64 bits)", C_NEXT_WRAPS8},
    {"a node's next is its own offset (a loop of one)", C_SELF_CYCLE},
    {"the last node's next points back to the first (a loop)", C_CYCLE},
    {"a node's len is larger than the region", C_LEN_PAST},
    {"a node's len is 0xffffffff (offset + len overflows 32 bits)", C_LEN_WRAPS},
    {"a node's text has no '\\0' at text[len]", C_NO_NUL},
};

static void corrupt_child(void *arg)
{
	const struct corruption *c = arg;
	char *r = guarded();
	child_stub(list_init(r, REGION) < 0, "list_init");
	const char *words[] = {"first", "second", "third", "fourth", "fifth"};
	for (int i = 0; i < 5; i++)
		child_stub(list_push(r, REGION, words[i]) < 0, "list_push");
	struct shml_header *h = (void *)r;
	/* Nodes from the head: newest (fifth) first. */
	struct shml_node *n[5];
	uint64_t off = h->head;
	for (int i = 0; i < 5; i++) {
		if (off >= REGION || off % SHML_ALIGN)
			child_fail("The list's offsets are not offsets from the base (found 0x%llx), so "
				   "the grader cannot corrupt them: store target - base.",
				   (unsigned long long)off);
		n[i] = (void *)(r + off);
		off = n[i]->next;
	}
	switch (c->kind) {
	case C_MAGIC: h->magic ^= 0x01010101u; break;
	case C_ALLOC: h->alloc = 8 * REGION; break;
	case C_HEAD_PAST: h->head = REGION + 64; break;
	case C_HEAD_IN_HEADER: h->head = 8; break;
	case C_NEXT_PAST: n[2]->next = 1u << 20; break;
	case C_NEXT_EDGE: n[2]->next = REGION - 8; break;
	case C_NEXT_MISALIGNED: n[2]->next += 3; break;
	case C_NODE_MISALIGNED: /* a copy of the third node, in free space, 4 bytes off alignment */
		ck_assert(h->alloc + 4 + 64 <= REGION);
		memcpy(r + h->alloc + 4, n[2], 32);
		n[1]->next = h->alloc + 4;
		break;
	case C_NEXT_WRAPS: n[2]->next = UINT64_MAX - 15; break;
	case C_NEXT_WRAPS8: n[2]->next = UINT64_MAX - 7; break;
	case C_SELF_CYCLE: n[2]->next = (uint64_t)((char *)n[2] - r); break;
	case C_CYCLE: n[4]->next = h->head; break;
	case C_LEN_PAST: n[2]->len = 3 * REGION; break;
	case C_LEN_WRAPS: n[2]->len = UINT32_MAX; break;
	case C_NO_NUL: n[2]->text[n[2]->len] = 'X'; break;
	}
	struct seen *s = new_seen(r, REGION);
	s->max_calls = 1000;
	s->check_len = c->kind != C_LEN_PAST && c->kind != C_LEN_WRAPS;
	errno = 0;
	ssize_t got = list_walk(r, REGION, collect, s);
	if (got >= 0)
		child_fail("A peer corrupted the list (%s), and list_walk() returned %zd as if the list "
			   "were fine. Everything read from shared memory must be checked before use: "
			   "return -1 with EINVAL.", c->what, got);
	if (errno != EINVAL)
		child_fail("On a corrupted list (%s) list_walk() returned -1 with %s; the contract says "
			   "EINVAL.", c->what, strerrorname_np(errno) ? strerrorname_np(errno) : "errno 0");
	if (c->kind == C_ALLOC || c->kind == C_MAGIC || c->kind == C_HEAD_PAST) {
		/* The writer must not trust the header either: with a bad alloc it would write anywhere. */
		errno = 0;
		if (list_push(r, REGION, "more") == 0 || errno != EINVAL)
			child_fail("list_push() onto a list whose header is corrupt (%s) should fail with "
				   "EINVAL, not write a node wherever the header says.", c->what);
	}
}

GRADER_TEST(list_corrupt)
{
	for (size_t i = 0; i < sizeof corruptions / sizeof corruptions[0]; i++) {
		char crash[300], hang[300];
		snprintf(crash, sizeof crash,
			 "list_walk() crashed on a list where %s. It followed an offset or a length that "
			 "a peer wrote, without checking that it stays inside [base, base + size) (the "
			 "pages around the region are guard pages).",
			 corruptions[i].what);
		snprintf(hang, sizeof hang,
			 "list_walk() kept the CPU busy for 1 s on a 5-node list where %s: it loops forever. Count the "
			 "nodes and give up with EINVAL after more than could fit in the region.",
			 corruptions[i].what);
		run_child(corrupt_child, (void *)&corruptions[i], 1.0, crash, hang);
	}
}

/* ---- walk_fuzz ------------------------------------------------------------------------------ */

static uint64_t rng;
static uint64_t next_rand(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64: the same on every run */
	return rng;
}

static void log_cb_check(const void *data, uint32_t len, void *ctx)
{
	struct seen *s = ctx;
	if (++s->calls > s->max_calls)
		child_fail("log_walk() called the callback more than %ld times: it does not stop.", s->max_calls);
	const char *d = data;
	if (d < s->base || len > s->size || d + len > s->base + s->size)
		child_fail("log_walk() passed the callback a record of %u bytes at %p, not inside the "
			   "region %p..%p: a length read from shared memory was trusted.",
			   len, data, (const void *)s->base, (const void *)(s->base + s->size));
}

/* 500 lists of 3 to 14 strings in R, each with 1 to 6 random words or bytes overwritten, walked. */
static void list_walk_survives_random_damage(char *r)
{
	for (long seed = 1; seed <= 500; seed++) {
		V->progress = seed;
		rng = 0x9e3779b97f4a7c15ull * (uint64_t)seed;
		child_stub(list_init(r, REGION) < 0, "list_init");
		for (int i = 0, k = 3 + (int)(next_rand() % 12); i < k; i++) {
			char s[80];
			int len = (int)(next_rand() % 70);
			memset(s, 'a' + i, (size_t)len);
			s[len] = '\0';
			list_push(r, REGION, s);
		}
		for (int i = 0, k = 1 + (int)(next_rand() % 6); i < k; i++) {
			uint64_t v = next_rand(), at = next_rand() % REGION;
			switch (v % 4) {
			case 0: r[at] = (char)(v >> 8); break;                                   /* a byte */
			case 1: memcpy(r + (at & ~7ull) , &(uint64_t){(v >> 8) % (2 * REGION)}, 8); break;
			case 2: memcpy(r + (at & ~7ull), &v, 8); break;                          /* a word */
			case 3: memcpy(r + (at & ~7ull) + 8 * (next_rand() % 2), &(uint32_t){(uint32_t)(v >> 20)}, 4); break;
			}
		}
		if (next_rand() % 16)
			((struct shml_header *)r)->magic = SHML_MAGIC; /* mostly: keep the walk going */
		struct seen *s = new_seen(r, REGION);
		s->max_calls = REGION;
		errno = 0;
		ssize_t n = list_walk(r, REGION, collect, s);
		child_stub(n < 0 && seed == 1, "list_walk");
		if (n < 0 && errno != EINVAL)
			child_fail("Seed %ld: on random damage list_walk() failed with %s, not EINVAL.", seed,
				   strerrorname_np(errno) ? strerrorname_np(errno) : "errno 0");
	}
}

/* 500 logs (steps 1001..) of 3 to 14 records in R, each with 1 to 6 random words overwritten. */
static void log_walk_survives_random_damage(char *r)
{
	for (long seed = 1; seed <= 500; seed++) {
		V->progress = 1000 + seed;
		rng = 0x9e3779b97f4a7c15ull * (uint64_t)(seed + 7777);
		child_stub(log_init(r, REGION) < 0, "log_init");
		for (int i = 0, k = 3 + (int)(next_rand() % 12); i < k; i++) {
			char d[80];
			memset(d, i, sizeof d);
			child_stub(log_append(r, REGION, d, (uint32_t)(next_rand() % 80)) < 0 && seed == 1, "log_append");
		}
		for (int i = 0, k = 1 + (int)(next_rand() % 6); i < k; i++) {
			uint64_t v = next_rand(), at = next_rand() % 512;
			if (v % 2)
				memcpy(r + (at & ~3ull), &(uint32_t){(uint32_t)(v >> 8) % (2 * REGION)}, 4);
			else
				memcpy(r + (at & ~3ull), &(uint32_t){(uint32_t)(v >> 32)}, 4);
		}
		if (next_rand() % 16)
			((struct shlog_header *)r)->magic = SHLOG_MAGIC;
		struct seen *s = new_seen(r, REGION);
		s->max_calls = REGION;
		errno = 0;
		ssize_t n = log_walk(r, REGION, log_cb_check, s);
		child_stub(n < 0 && seed == 1, "log_walk");
		if (n < 0 && errno != EINVAL)
			child_fail("Seed %ld: on random damage log_walk() failed with %s, not EINVAL.", seed,
				   strerrorname_np(errno) ? strerrorname_np(errno) : "errno 0");
	}
}

static void fuzz_child(void *arg)
{
	(void)arg;
	char *r = guarded();
	list_walk_survives_random_damage(r);
	log_walk_survives_random_damage(r);
}

GRADER_TEST(walk_fuzz)
{
	run_child(fuzz_child, NULL, 4.0,
		  "A walk crashed on a region with random damage (500 seeds for the list, then 500 for the "
		  "log, numbered 1001.., with guard pages around the region). Some offset or length read "
		  "from the region was used without checking it. Re-check every field you read: offsets "
		  "(alignment, inside the region, no overflow in offset + size), lengths, loops.",
		  "A walk did not finish within 4 s on a region with random damage (500 seeds each for the "
		  "list and then the log, numbered 1001..): a loop in the data made it run forever.");
}


/* ---- list_limits ---------------------------------------------------------------------------- */

enum { LHDR = sizeof(struct shml_header), LNODE0 = (offsetof(struct shml_node, text) + 1 + 7) / 8 * 8 };

static ssize_t walk_into(const char *r, size_t size, struct seen *s)
{
	errno = 0;
	return list_walk(r, size, collect, s);
}

/* The header alone: a list with no room for a node. The guard page starts at r + LHDR. */
static void list_of_exactly_the_header_is_empty_and_full(void)
{
	char *r = at_guard(LHDR);
	memset(r, 0xa5, LHDR);
	child_doing("list_init(), list_walk() and list_push() ran on a region of exactly the header's "
		    "size");
	errno = 0;
	int rc = list_init(r, LHDR - 1);
	child_stub(rc < 0, "list_init");
	if (rc == 0 || errno != EINVAL)
		child_fail("list_init(base, %d) returned %d (%s): %d bytes cannot hold the %d-byte "
			   "header, "
			   "so it must fail with EINVAL.",
			   (int)LHDR - 1, rc, rc ? errno_name(errno) : "success", (int)LHDR - 1,
			   (int)LHDR);
	memset(r, 0xa5, LHDR);
	if (list_init(r, LHDR) < 0)
		child_fail(
		    "list_init(base, %d) failed with %s. A region of exactly sizeof(struct "
		    "shml_header) bytes holds the header: it is an empty list with no room for a "
		    "node, not an error (compare with <, not <=).",
		    (int)LHDR, errno_name(errno));
	struct seen *s = new_seen(r, LHDR);
	ssize_t n = walk_into(r, LHDR, s);
	child_stub(n < 0, "list_walk");
	if (n != 0 || s->calls)
		child_fail("On an empty list of exactly %d bytes list_walk() returned %zd (%s) and "
			   "called the "
			   "callback %ld times; expected 0 and no call.",
			   (int)LHDR, n, n < 0 ? errno_name(errno) : "no error", s->calls);
	errno = 0;
	rc = list_push(r, LHDR, "");
	child_stub(rc < 0, "list_push");
	if (rc == 0 || errno != ENOSPC)
		child_fail("list_push(\"\") onto a list with no free byte (alloc == size) returned "
			   "%d (%s); it "
			   "should fail with ENOSPC. alloc == size is a FULL list, not a corrupt "
			   "one: only "
			   "alloc > size is EINVAL.",
			   rc, rc ? errno_name(errno) : "success");
}

/* Room for exactly one empty string, over old garbage. */
static void one_empty_string_fills_a_list_exactly(void)
{
	size_t size = LHDR + LNODE0;
	char *r = at_guard(size);
	child_doing("list_push(\"\") filled a region exactly (its node ends at the region's last byte), "
		    "then the list was walked");
	memset(r, 0xa5, size);
	list_init(r, size);
	if (list_push(r, size, guarded_str("")) < 0)
		child_fail("list_push(\"\") failed with %s, though its node (%d bytes) fills the "
			   "free space "
			   "exactly. A node that fits exactly must be accepted: compare need > "
			   "size - alloc.",
			   errno_name(errno), (int)LNODE0);
	if (list_push(r, size, "") == 0 || errno != ENOSPC)
		child_fail("A second list_push(\"\") into a full %zu-byte region should fail with ENOSPC "
			   "(it %s).", size, errno == EINVAL ? "failed with EINVAL: a full list is not corrupt"
							     : "did not");
	struct seen *s = new_seen(r, size);
	ssize_t n = walk_into(r, size, s);
	if (n != 1 || s->n != 1 || s->text[0][0])
		child_fail("A list filled exactly by one empty string (alloc == size) walks as %zd "
			   "node(s) "
			   "(%s), expected 1 empty string.",
			   n, n < 0 ? errno_name(errno) : "no error");
}

/* A text whose '\0' is the very last byte of the region, then one byte too long. */
static void a_text_ending_at_the_last_byte_fits_one_more_does_not(void)
{
	const char *word = "abcdefghij"; /* 12 + 10 + 1 = 23 bytes: a 24-byte node */
	size_t size = LHDR + 24;
	char *r = at_guard(size);
	child_doing("list_push(\"abcdefghij\") filled a region exactly (its '\\0' is the region's last "
		    "byte, and the string's '\\0' the last readable byte of the caller's buffer), then "
		    "the list was walked");
	memset(r, 0xa5, size);
	list_init(r, size);
	if (list_push(r, size, guarded_str(word)) < 0)
		child_fail("list_push(\"%s\") failed with %s, though its node (24 bytes) fills the "
			   "free space "
			   "exactly.",
			   word, errno_name(errno));
	struct seen *s = new_seen(r, size);
	ssize_t n = walk_into(r, size, s);
	if (n != 1 || strcmp(s->text[0], word))
		child_fail(
		    "A list whose only node ends exactly at the end of the region walks as %zd "
		    "node(s) (%s), expected \"%s\".",
		    n, n < 0 ? errno_name(errno) : "no error", word);
	struct shml_node *node = (void *)(r + LHDR);
	node->len = 24 - (uint32_t)offsetof(struct shml_node, text); /* text[len] is one past the end */
	child_doing("list_walk() met a node whose len puts text[len] one byte PAST the region (the "
		    "check must be len < size - text offset, and happen before reading text[len])");
	n = walk_into(r, size, new_seen(r, size));
	if (n >= 0 || errno != EINVAL)
		child_fail(
		    "A node's len was set so that text[len] is the first byte AFTER the region; "
		    "list_walk() returned %zd (%s) instead of -1 with EINVAL. The text and its "
		    "'\\0' "
		    "must end inside the region: len < size - (offset of the text).",
		    n, n < 0 ? errno_name(errno) : "no error");
}

/* As many smallest nodes as fit: the loop guard must not stop a real list early. */
static void as_many_smallest_nodes_as_fit_walk(void)
{
	enum { K = 12 };
	size_t size = LHDR + K * LNODE0;
	char *r = at_guard(size);
	child_doing("12 empty strings were pushed into a region made to hold exactly 12, then walked");
	list_init(r, size);
	for (int i = 0; i < K; i++)
		if (list_push(r, size, "") < 0)
			child_fail("Push %d of %d empty strings into a region made to hold exactly "
				   "%d failed "
				   "with %s.",
				   i + 1, K, K, errno_name(errno));
	ssize_t n = walk_into(r, size, new_seen(r, size));
	if (n != K)
		child_fail("A region holding exactly %d smallest nodes (%d bytes each) walks as "
			   "%zd (%s). A "
			   "list of size bytes holds at most (size - header) / %d nodes; that many "
			   "is a real "
			   "list, only MORE is a loop.",
			   K, (int)LNODE0, n, n < 0 ? errno_name(errno) : "no error", (int)LNODE0);
}

/* Regions too small for the header, with a list-like start: the walk must not read past. */
static void list_walk_refuses_a_region_smaller_than_the_header(void)
{
	for (size_t small = 0; small < LHDR; small += 8) {
		static char what[160];
		snprintf(what, sizeof what, "list_walk() ran on a region of %zu bytes, too small for the "
			 "header (check SIZE before reading any field)", small);
		child_doing(what);
		char *r = at_guard(small);
		struct shml_header h = {SHML_MAGIC, 0, small, 0};
		memcpy(r, &h, small);
		ssize_t n = walk_into(r, small, new_seen(r, small));
		if (n >= 0 || errno != EINVAL)
			child_fail(
			    "list_walk(base, %zu) on a region too small for the %d-byte header "
			    "returned "
			    "%zd (%s); it should fail with EINVAL before reading the header.",
			    small, (int)LHDR, n, n < 0 ? errno_name(errno) : "no error");
	}
}

/* alloc pointing into the header itself: a push there would overwrite the header. */
static void list_push_refuses_alloc_inside_the_header(void)
{
	char *r = guarded();
	list_init(r, REGION);
	list_push(r, REGION, "kept");
	struct shml_header *hdr = (void *)r;
	for (uint64_t bad = 0; bad < LHDR; bad += 8) {
		child_doing("list_push() ran on a list whose alloc points inside the header");
		uint64_t saved = hdr->alloc;
		hdr->alloc = bad;
		errno = 0;
		int rc = list_push(r, REGION, "more");
		int err = errno;
		int kept = hdr->magic == SHML_MAGIC && hdr->alloc == bad;
		hdr->alloc = saved;
		if (rc == 0 || err != EINVAL || !kept)
			child_fail("list_push() onto a list whose header says alloc = %llu (inside "
				   "the %d-byte "
				   "header itself) %s%s. A node written there overwrites the "
				   "header: alloc must "
				   "be at least the header's size (and at most SIZE), else fail "
				   "with EINVAL.",
				   (unsigned long long)bad, (int)LHDR,
				   rc == 0 ? "succeeded" : "failed with ",
				   rc == 0 ? "" : errno_name(err));
	}
}

/* list_init over a region full of an old list: the new list is empty. */
static void list_init_empties_an_old_list(void)
{
	child_doing("list_init() ran over a region that held an old list");
	char *r = guarded();
	list_init(r, REGION);
	for (int i = 0; i < 5; i++)
		list_push(r, REGION, "old");
	list_init(r, REGION);
	ssize_t n = walk_into(r, REGION, new_seen(r, REGION));
	if (n != 0)
		child_fail("list_init() over a region that held a 5-node list left a list that "
			   "walks as %zd "
			   "(%s): list_init must set head to 0 (and alloc to the header's end) "
			   "whatever the "
			   "region held.",
			   n, n < 0 ? errno_name(errno) : "no error");
}

static void list_limits_child(void *arg)
{
	(void)arg;
	list_of_exactly_the_header_is_empty_and_full();
	one_empty_string_fills_a_list_exactly();
	a_text_ending_at_the_last_byte_fits_one_more_does_not();
	as_many_smallest_nodes_as_fit_walk();
	list_walk_refuses_a_region_smaller_than_the_header();
	list_push_refuses_alloc_inside_the_header();
	list_init_empties_an_old_list();
}

GRADER_TEST(list_limits)
{
	run_child(list_limits_child, NULL, 2.0,
		  "A list operation crashed at an exact limit (a region of exactly the header, a node that "
		  "fills the region to its last byte, a region too small for the header). The byte right "
		  "after each region is a guard page: something read or wrote one byte too far.",
		  "A list operation at an exact limit did not finish within 2 s.");
}

/* ---- log_limits ----------------------------------------------------------------------------- */

enum { GHDR = sizeof(struct shlog_header) };

struct log_count {
	int n;
	uint32_t len[8];
	char data[8][16];
};
static void log_count_cb(const void *data, uint32_t len, void *ctx)
{
	struct log_count *c = ctx;
	if (c->n < 8) {
		c->len[c->n] = len;
		memcpy(c->data[c->n], data, len < 16 ? len : 16);
	}
	c->n++;
}

/* log_init refuses a SIZE below the header, and one its 32-bit tail cannot reach. */
static void log_init_refuses_sizes_it_cannot_hold(char *r)
{
	child_doing("log_init() was given a SIZE too small for the header");
	errno = 0;
	int rc = log_init(r, GHDR - 1);
	child_stub(rc < 0, "log_init");
	if (rc == 0 || errno != EINVAL)
		child_fail("log_init(base, %d) returned %d (%s): %d bytes cannot hold the %d-byte "
			   "header, so "
			   "it must fail with EINVAL.",
			   GHDR - 1, rc, rc ? errno_name(errno) : "success", GHDR - 1, GHDR);
	child_doing("log_init(base, UINT32_MAX + 1) ran on an 8-byte region: it must refuse that SIZE "
		    "before zeroing anything");
	rc = log_init(r, (size_t)UINT32_MAX + 1);
	if (rc == 0 || errno != EINVAL)
		child_fail("log_init(base, UINT32_MAX + 1) returned %d (%s); it should fail with "
			   "EINVAL (tail "
			   "is 32 bits), and before writing anything.",
			   rc, rc ? errno_name(errno) : "success");
}

/* The header alone (in R): an empty log with no room for a record. */
static void log_of_exactly_the_header_is_empty_and_full(char *r, struct log_count *c)
{
	memset(r, 0xa5, GHDR);
	child_doing("log_init(), log_walk() and log_append() ran on a region of exactly the header's size");
	if (log_init(r, GHDR) < 0)
		child_fail("log_init(base, %d) failed with %s. A region of exactly the header's "
			   "size is an "
			   "empty log with no room for a record, not an error.",
			   GHDR, errno_name(errno));
	errno = 0;
	ssize_t n = log_walk(r, GHDR, log_count_cb, c);
	child_stub(n < 0, "log_walk");
	if (n != 0 || c->n)
		child_fail(
		    "An empty log of exactly %d bytes walks as %zd (%s), callback called %d times; "
		    "expected 0 and no call.",
		    GHDR, n, n < 0 ? errno_name(errno) : "no error", c->n);
	errno = 0;
	int rc = log_append(r, GHDR, "", 0);
	child_stub(rc < 0 && errno == ENOSYS, "log_append");
	if (rc == 0 || errno != ENOSPC)
		child_fail("log_append() of a 0-byte record (8 bytes with its header) into a log "
			   "with no free "
			   "byte returned %d (%s); it should fail with ENOSPC. tail == size is a "
			   "FULL log, not "
			   "a corrupt one.",
			   rc, rc ? errno_name(errno) : "success");
}

/* An empty log over old garbage. */
static void log_init_over_garbage_is_empty(struct log_count *c)
{
	child_doing("log_init() and log_walk() ran on a region full of garbage");
	char *r = guarded();
	memset(r, 0xa5, REGION);
	log_init(r, REGION);
	memset(c, 0, sizeof *c);
	ssize_t n = log_walk(r, REGION, log_count_cb, c);
	if (n != 0 || c->n)
		child_fail("A freshly initialised log (the region held garbage before) walks as "
			   "%zd (%s) with "
			   "%d callback(s); an empty log has no record.",
			   n, n < 0 ? errno_name(errno) : "no error", c->n);
}

/* Filled exactly: 8 bytes of payload (EIGHT), then a record ending at the last byte: of 0 bytes
   (VARIANT 0) or of 8 (VARIANT 1). */
static void log_filled_exactly(const char *eight, int variant, struct log_count *c)
{
	size_t size = GHDR + 16 + (variant ? 16 : 8);
	uint32_t second = variant ? 8 : 0;
	child_doing(variant ? "two 8-byte records filled a log exactly (the last one ends at the "
			      "region's last byte; each payload ends at the last readable byte of "
			      "its buffer), then the log was walked"
			    : "an 8-byte record and a 0-byte record filled a log exactly (the last "
			      "one ends at the region's last byte), then the log was walked");
	char *r = at_guard(size);
	memset(r, 0xa5, size);
	log_init(r, size);
	if (log_append(r, size, eight, 8) < 0)
		child_fail("log_append() of 8 bytes into an empty %zu-byte log failed with %s.",
			   size, errno_name(errno));
	if (log_append(r, size, eight, second) < 0)
		child_fail(
		    "log_append() of a %u-byte record that fills the log exactly (%u bytes with "
		    "its header, %u left) failed with %s. A record that fits exactly must be "
		    "accepted: compare need > size - tail.",
		    second, 8 + second, 8 + second, errno_name(errno));
	uint32_t tail = ((const struct shlog_header *)r)->tail;
	if (tail != size)
		child_fail("After filling a %zu-byte log exactly, tail is %u.", size, tail);
	memset(c, 0, sizeof *c);
	errno = 0;
	ssize_t n = log_walk(r, size, log_count_cb, c);
	if (n != 2 || c->n != 2 || c->len[0] != 8 || memcmp(c->data[0], "ABCDEFGH", 8) ||
	    c->len[1] != second || (second && memcmp(c->data[1], "ABCDEFGH", 8)))
		child_fail(
		    "A log filled exactly (its last record, of %u bytes, ends at the last byte of "
		    "the region) walks as %zd (%s) with %d callback(s), expected 2 records: 8 "
		    "bytes "
		    "\"ABCDEFGH\", then %u bytes. A record whose len reaches exactly tail is "
		    "complete (len <= tail - off - 8), and the walk ends at tail.",
		    second, n, n < 0 ? errno_name(errno) : "no error", c->n, second);
	errno = 0;
	if (log_append(r, size, "", 0) == 0 || errno != ENOSPC)
		child_fail("log_append() into a log filled exactly should fail with ENOSPC (%s).",
			   errno == EINVAL
			       ? "it said EINVAL: tail == size is a full log, not a corrupt "
				 "one"
			       : "it did not");
}

/* Record sizes: 8 bytes of header plus the payload, rounded UP to a multiple of 8. */
static void record_sizes_round_up_to_8(struct log_count *c)
{
	char *r = guarded();
	log_init(r, REGION);
	const uint32_t lens[] = {1, 9, 7, 8, 0, 15, 16, 17};
	uint32_t at = GHDR;
	for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
		child_doing("records of 1, 9, 7, 8, 0, 15, 16 and 17 bytes were appended and walked");
		if (log_append(r, REGION, "0123456789abcdefghij", lens[i]) < 0)
			child_fail("log_append() of %u bytes failed with %s.", lens[i],
				   errno_name(errno));
		uint32_t tail = ((const struct shlog_header *)r)->tail;
		at += (8 + lens[i] + 7) / 8 * 8;
		if (tail != at)
			child_fail("After appending a record of %u bytes, tail moved to %u instead of %u: a "
				   "record takes sizeof(struct shlog_record) + len = %u bytes, rounded UP to a "
				   "multiple of 8 (%u).", lens[i], tail, at, 8 + lens[i], (8 + lens[i] + 7) / 8 * 8);
	}
	memset(c, 0, sizeof *c);
	ssize_t n = log_walk(r, REGION, log_count_cb, c);
	for (size_t i = 0; n == 8 && i < 8; i++)
		if (c->len[i] != lens[i] ||
		    memcmp(c->data[i], "0123456789abcdefghij", lens[i] < 16 ? lens[i] : 16))
			n = -2;
	if (n != 8)
		child_fail("Records of 1, 9, 7, 8, 0, 15, 16 and 17 bytes do not walk back as they were "
			   "appended (log_walk() returned %zd).", n);
}

/* Regions too small for the header: the walk must not read past them. */
static void log_walk_refuses_a_region_smaller_than_the_header(struct log_count *c)
{
	for (size_t small = 0; small < GHDR; small += 4) {
		static char what[160];
		snprintf(what, sizeof what, "log_walk() ran on a region of %zu bytes, too small for the "
			 "header (check SIZE before reading any field)", small);
		child_doing(what);
		char *r = at_guard(small);
		memset(r, 0, small);
		ssize_t n = log_walk(r, small, log_count_cb, c);
		if (n >= 0 || errno != EINVAL)
			child_fail(
			    "log_walk(base, %zu) on a region too small for the %d-byte header "
			    "returned "
			    "%zd (%s); it should fail with EINVAL before reading the header.",
			    small, GHDR, n, n < 0 ? errno_name(errno) : "no error");
	}
}

static void log_limits_child(void *arg)
{
	(void)arg;
	char *r = at_guard(GHDR);
	log_init_refuses_sizes_it_cannot_hold(r);
	struct log_count c = {0};
	log_of_exactly_the_header_is_empty_and_full(r, &c);
	log_init_over_garbage_is_empty(&c);
	const char *eight = guarded_str("ABCDEFGH"); /* its '\0' is the last readable byte */
	for (int variant = 0; variant < 2; variant++)
		log_filled_exactly(eight, variant, &c);
	record_sizes_round_up_to_8(&c);
	log_walk_refuses_a_region_smaller_than_the_header(&c);
}

GRADER_TEST(log_limits)
{
	run_child(log_limits_child, NULL, 2.0,
		  "A log operation crashed at an exact limit (a region of exactly the header, a log filled "
		  "to its last byte, a region too small for the header, a SIZE log_init must refuse). The "
		  "byte right after each region, and after each payload, is a guard page: something read "
		  "or wrote one byte too far, or zeroed a region it should have refused.",
		  "A log operation at an exact limit did not finish within 2 s.");
}

/* ---- The log ------------------------------------------------------------------------------- */

struct rec {
	uint32_t writer, seq;
	uint64_t sum;
};
static uint64_t rec_sum(uint32_t w, uint32_t q)
{
	return ((uint64_t)w * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)q * 0xc2b2ae3d27d4eb4full) ^ 0xabcdefull;
}

struct log_seen {
	int n;
	uint32_t len[64];
	unsigned char data[64][128];
};
static void log_collect(const void *data, uint32_t len, void *ctx)
{
	struct log_seen *s = ctx;
	if (s->n < 64) {
		s->len[s->n] = len;
		memcpy(s->data[s->n], data, len < 128 ? len : 128);
	}
	s->n++;
}

static void log_roundtrip_child(void *arg)
{
	(void)arg;
	char *r = guarded();
	child_stub(log_init(r, REGION) < 0, "log_init");
	const char *want[] = {"one", "", "three", "a longer record of forty-one characters!"};
	for (int i = 0; i < 4; i++) {
		int rc = log_append(r, REGION, want[i], (uint32_t)strlen(want[i]));
		child_stub(rc < 0, "log_append");
		if (rc < 0)
			child_fail("log_append() of %zu bytes into an empty log failed: %s", strlen(want[i]),
				   strerror(errno));
	}
	static struct log_seen s;
	ssize_t n = log_walk(r, REGION, log_collect, &s);
	child_stub(n < 0, "log_walk");
	if (n != 4 || s.n != 4)
		child_fail("After 4 appends log_walk() returned %zd (callback called %d times), expected 4.", n, s.n);
	for (int i = 0; i < 4; i++)
		if (s.len[i] != strlen(want[i]) || memcmp(s.data[i], want[i], s.len[i]))
			child_fail("Record %d reads %u bytes \"%.*s\", expected \"%s\".", i + 1, s.len[i],
				   (int)s.len[i], (char *)s.data[i], want[i]);
	/* Now fill it. */
	int ok = 4;
	char d[20];
	for (;;) {
		memset(d, ok, sizeof d);
		V->progress = ok;
		if (log_append(r, REGION, d, sizeof d) < 0)
			break;
		if (++ok > 1000)
			child_fail("log_append() accepted 1000 records into %d bytes: it never reports ENOSPC.", REGION);
	}
	if (errno != ENOSPC)
		child_fail("log_append() into a full log failed with %s; it should be ENOSPC.",
			   strerrorname_np(errno) ? strerrorname_np(errno) : "errno 0");
	uint32_t tail = ((const struct shlog_header *)r)->tail;
	if (tail > REGION)
		child_fail("After filling the log, tail is %u, past the end of the %d-byte region: a "
			   "refused append must not advance it (compare before you publish).", tail, REGION);
	if (REGION - tail >= 32)
		child_fail("log_append() said ENOSPC with %u bytes still free, and a 20-byte record takes 32.",
			   REGION - tail);
	if (log_append(r, REGION, r, 2 * REGION) == 0 || errno != ENOSPC)
		child_fail("A record larger than the region must be refused with ENOSPC.");
	memset(&s, 0, sizeof s);
	n = log_walk(r, REGION, log_collect, &s);
	if (n != ok)
		child_fail("%d appends succeeded, but log_walk() then found %zd records.", ok, n);
}

GRADER_TEST(log_roundtrip)
{
	run_child(log_roundtrip_child, NULL, 2.0,
		  "Appending to a 4 KiB log until it was full crashed: the page after the region is a guard "
		  "page, so a record was written past the end. Check that the whole record (header and "
		  "payload, rounded up) fits in size - tail before you reserve it; if not, fail with ENOSPC.",
		  "Appending to a 4 KiB log until it was full did not end within 2 s.");
}

/* The first YIELDED appends of each writer pause between reading tail and publishing it: that
   is where a lost record shows (a sleep, so writers on two CPUs interleave too). A pause costs
   time on a loaded machine, so the rest run without it. */
enum { WRITERS = 4, PER_WRITER = 2000, YIELDED = 100 };

struct shared_state {
	volatile int writers_done;
	volatile long torn, reader_walks;
	volatile int append_errno[WRITERS];
};

static void reader_loop(char *r, size_t size, struct shared_state *st);

/* log_init and log_append are there (a zero-length record first), then a fresh log. */
static void log_is_implemented(char *r, size_t size)
{
	int rc = log_init(r, size);
	require_implemented(rc < 0, "log_init");
	struct rec probe = {0, 0, 0};
	rc = log_append(r, size, &probe, 0); /* a zero-length record first: is append there at all? */
	require_implemented(rc < 0, "log_append");
	log_init(r, size);
}

/* Writer W: appends PER_WRITER records, the first YIELDED with a pause inside each append. */
__attribute__((noreturn)) static void writer_child(int w, char *r, size_t size,
						   struct shared_state *st)
{
	for (uint32_t q = 0; q < PER_WRITER; q++) {
		if (q == YIELDED)
			race_set(RACE_OFF);
		struct rec x = {(uint32_t)w, q, rec_sum((uint32_t)w, q)};
		if (log_append(r, size, &x, sizeof x) < 0) {
			st->append_errno[w] = errno;
			_exit(1);
		}
	}
	_exit(0);
}

/* Waits for the WRITERS writers and the reader (PIDS), under one deadline; fails the test (after
   unmapping R and ST) if one failed or did not finish. */
static void all_writers_finish(pid_t *pids, char *r, size_t size, struct shared_state *st)
{
	char how[WRITERS + 1][160];
	int bad = -1;
	/* One deadline for all of them, well inside the test's timeout: a loaded machine may need a
	   few seconds, a lost wake-up or an endless retry loop never finishes. */
	double deadline = probe_now() + 8.0;
	for (int w = 0; w <= WRITERS; w++) {
		if (w == WRITERS)
			st->writers_done = 1;
		int status = 0;
		double left = deadline - probe_now();
		if (probe_wait(pids[w], &status, left > 0.05 ? left : 0.05) < 0) {
			for (int k = w; k <= WRITERS; k++) /* the rest too: no second wait */
				kill(pids[k], SIGKILL);
			waitpid(pids[w], &status, 0);
			snprintf(how[w], sizeof how[w], "did not finish within 8 s");
			if (bad < 0)
				bad = w;
		} else if (bad < 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
			describe_status(status, how[w], sizeof how[w]);
			bad = w;
		}
	}
	if (bad >= 0) {
		int err = bad < WRITERS ? st->append_errno[bad] : 0;
		munmap(r, size), munmap(st, PAGE);
		ABORT("%s %d of %d %s%s%s.", bad < WRITERS ? "Writer" : "The concurrent reader (process",
			     bad, WRITERS, how[bad], err ? ": log_append failed with " : "",
			     err ? strerrorname_np(err) : "");
	}
}

/* What the log holds: intact, duplicated, garbled and never committed records, and tail. */
struct log_tally {
	long present, dup, garbled, open;
	uint32_t tail;
};

static struct log_tally tally_records(char *r, size_t size)
{
	static unsigned char seen[WRITERS][PER_WRITER];
	long present = 0, dup = 0, garbled = 0, open = 0;
	uint32_t tail = ((struct shlog_header *)r)->tail;
	for (size_t off = 8; off + sizeof(struct shlog_record) <= tail && off + 8 <= size;) {
		struct shlog_record *rec = (void *)(r + off);
		if (rec->commit != SHLOG_DONE) {
			open++;
			off += 8 + sizeof(struct rec);
			continue;
		}
		struct rec x;
		memcpy(&x, rec->data, sizeof x);
		if (rec->len != sizeof x || x.writer >= WRITERS || x.seq >= PER_WRITER || x.sum != rec_sum(x.writer, x.seq))
			garbled++;
		else if (seen[x.writer][x.seq]++)
			dup++;
		else
			present++;
		off += (sizeof *rec + (rec->len < 64 ? rec->len : 16) + 7) / 8 * 8;
	}
	return (struct log_tally){present, dup, garbled, open, tail};
}

static void no_record_is_lost(struct log_tally t)
{
	long present = t.present, dup = t.dup, garbled = t.garbled, open = t.open;
	uint32_t tail = t.tail;
	long want = WRITERS * PER_WRITER;
	CHECK(present == want && dup == 0 && garbled == 0 && open == 0,
		      "%ld of %ld records were LOST. %d processes appended %d records each (%ld in all), at the same time, with "
		      "race_set(RACE_YIELD) widening the gap between reading tail and publishing it (in the "
		      "first %d appends of each). The "
		      "log holds %ld intact records, %ld duplicates, %ld garbled, %ld never committed (tail "
		      "%u). Two writers read the same tail and wrote into the same "
		      "bytes. Reserve space atomically: compare-and-swap tail from the value you read to "
		      "value + record size, and retry if someone else moved it first (or fetch-add).",
		      want - present, want, WRITERS, PER_WRITER, want, (int)YIELDED, present, dup, garbled, open, tail);
}

static void no_reader_sees_a_torn_record(long torn, long walks)
{
	CHECK(torn == 0,
		      "A reader walking the log while %d writers appended saw %ld records that were "
		      "complete according to their commit word but whose payload was not (in %ld walks). "
		      "Write the commit word LAST, with release ordering (atomic_store_explicit(..., "
		      "memory_order_release)), and read it with acquire.", WRITERS, torn, walks);
}

GRADER_TEST(log_concurrent)
{
	size_t size = 256 * 1024;
	char *r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct shared_state *st =
	    mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(r != MAP_FAILED && st != MAP_FAILED);
	log_is_implemented(r, size);

	race_set(RACE_SLEEP); /* a pause between reading tail and publishing it */
	pid_t pids[WRITERS + 1];
	for (int w = 0; w <= WRITERS; w++) {
		pids[w] = fork();
		ck_assert(pids[w] >= 0);
		if (pids[w] == 0 && w == WRITERS) {
			reader_loop(r, size, st);
			_exit(0);
		}
		if (pids[w] == 0)
			writer_child(w, r, size, st);
	}
	race_set(RACE_OFF);
	all_writers_finish(pids, r, size, st);

	/* Check the bytes ourselves, following the layout in shmlist.h. */
	struct log_tally t = tally_records(r, size);
	long walked = log_walk(r, size, NULL, NULL);
	long torn = st->torn, walks = st->reader_walks;
	munmap(r, size), munmap(st, PAGE);
	long want = WRITERS * PER_WRITER;
	no_record_is_lost(t);
	no_reader_sees_a_torn_record(torn, walks);
	CHECK(walked == want, "All %ld records are in the log, but log_walk() counted %ld.", want, walked);
}

static void reader_cb(const void *data, uint32_t len, void *ctx)
{
	struct shared_state *st = ctx;
	struct rec x;
	if (len != sizeof x) {
		st->torn++;
		return;
	}
	memcpy(&x, data, sizeof x);
	if (x.writer >= WRITERS || x.seq >= PER_WRITER || x.sum != rec_sum(x.writer, x.seq))
		st->torn++;
}

static void reader_loop(char *r, size_t size, struct shared_state *st)
{
	while (!st->writers_done && st->reader_walks < 300) {
		log_walk(r, size, reader_cb, st);
		st->reader_walks++;
		sched_yield();
	}
}

/* ---- log_crash_midway --------------------------------------------------------------------- */

struct crash_arg {
	char *log;
	size_t size;
	char *data; /* its page ends in a guard page */
};

static void crash_child(void *arg)
{
	struct crash_arg *c = arg;
	child_stub(log_append(c->log, c->size, "good-1", 6) < 0, "log_append");
	log_append(c->log, c->size, "good-2", 6);
	/* 100 readable bytes, then a guard page: the copy dies halfway through this record. */
	log_append(c->log, c->size, c->data + REGION - 100, 400);
	child_fail("log_append() copied 400 bytes from a buffer whose last 300 are unreadable and "
		   "did not crash: the grader cannot test this.");
}

GRADER_TEST(log_crash_midway)
{
	size_t size = 2 * PAGE;
	struct crash_arg c = {.size = size};
	c.log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	c.data = probe_stack(REGION);
	ck_assert(c.log != MAP_FAILED && c.data);
	memset(c.data, 'D', REGION);
	/* The region held an old log before: commit words SHLOG_DONE everywhere. log_init must
	   clear them, or a reserved record whose writer dies reads as complete. */
	for (size_t off = 0; off + 4 <= size; off += 4)
		memcpy(c.log + off, &(uint32_t){SHLOG_DONE}, 4);
	int rc = log_init(c.log, size);
	require_implemented(rc < 0, "log_init");
	V = mmap(NULL, sizeof *V, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(V, 0, sizeof *V);
	child_end e = probe_in_child(crash_child, &c, 2.0);
	char enosys[64], msg[sizeof V->msg];
	memcpy(enosys, V->enosys, sizeof enosys);
	memcpy(msg, V->msg, sizeof msg);
	munmap(V, sizeof *V);
	V = NULL;
	errno = ENOSYS;
	require_implemented(enosys[0] != 0, "log_append");
	static struct log_seen s;
	errno = 0;
	ssize_t n = log_walk(c.log, size, log_collect, &s);
	int err = errno;
	int committed = 0;
	uint32_t tail = ((struct shlog_header *)c.log)->tail;
	for (size_t off = 8; off + 8 <= tail && off + 8 <= size;) {
		struct shlog_record *r = (void *)(c.log + off);
		if (r->commit == SHLOG_DONE)
			committed++;
		off += (8 + (r->len <= size ? r->len : 0) + 7) / 8 * 8;
	}
	munmap(c.log, size);
	probe_stack_free(c.data, REGION);
	char how[160];
	/* Under a sanitizer the SIGSEGV is caught by its runtime, which reports it and exits non-zero. */
	const char *san = getenv("IPCLAB_SANITIZE");
	bool died = e.sig == SIGSEGV || (san && *san && e.exited && e.code != 0 && !msg[0]);
	CHECK(died, "%s", msg[0] ? msg : describe_end(e, how, sizeof how));
	CHECK(committed <= 2,
		      "A writer died (SIGSEGV) while copying the payload of its third record, and that "
		      "record is now marked complete (commit == SHLOG_DONE) with a half-written payload: "
		      "readers will take garbage for data. Write the commit word LAST, after the payload, "
		      "with release ordering. (The region held an older log before log_init(): log_init "
		      "must zero ALL of it, so a reserved record reads as not complete until its writer "
		      "commits it.)");
	CHECK(n == 2, "After 2 complete records and one whose writer died halfway, log_walk() "
			      "returned %zd (%s), expected 2: an unfinished record (commit == 0) ends the walk.",
		      n, n < 0 ? strerrorname_np(err) : "no error");
	CHECK(s.len[0] == 6 && !memcmp(s.data[0], "good-1", 6) && s.len[1] == 6 &&
			      !memcmp(s.data[1], "good-2", 6),
		      "The two complete records do not read back as \"good-1\" and \"good-2\".");
}

/* ---- log_corrupt --------------------------------------------------------------------------- */

static const char *log_corruptions[] = {
	"the magic is wrong",
	"tail is past the end of the region",
	"a record's commit word is neither 0 nor SHLOG_DONE",
	"a record's len runs past tail",
	"a record's len is 0xffffffff (offset + len overflows 32 bits)",
	"tail is 4: inside the header",
	"tail is 0: inside the header",
	"the last record's len runs exactly one byte past tail",
};

static void log_corrupt_child(void *arg)
{
	int kind = (int)(intptr_t)arg;
	char *r = guarded();
	child_stub(log_init(r, REGION) < 0, "log_init");
	for (int i = 0; i < 4; i++)
		child_stub(log_append(r, REGION, "record", 6) < 0, "log_append");
	struct shlog_header *h = (void *)r;
	struct shlog_record *second = (void *)(r + 8 + 16);
	switch (kind) {
	case 0: h->magic ^= 0x01010101u; break;
	case 1: h->tail = 64 * REGION; break;
	case 2: second->commit = 0x12345678u; break;
	case 3: second->len = REGION / 2; break;
	case 4: second->len = UINT32_MAX; break;
	case 5: h->tail = 4; break;
	case 6: h->tail = 0; break;
	case 7: ((struct shlog_record *)(r + h->tail - 16))->len = 9; break; /* 8 fit before tail */
	}
	struct seen *s = new_seen(r, REGION);
	s->max_calls = 100;
	errno = 0;
	ssize_t n = log_walk(r, REGION, log_cb_check, s);
	child_stub(n < 0 && errno == ENOSYS, "log_walk");
	if (n >= 0 || errno != EINVAL)
		child_fail("On a log where %s, log_walk() returned %zd (%s); it should return -1 with "
			   "EINVAL: nothing read from shared memory can be trusted unchecked.",
			   log_corruptions[kind], n, n >= 0 ? "no error" : strerrorname_np(errno) ? strerrorname_np(errno) : "errno 0");
	errno = 0;
	if ((kind <= 1 || kind == 5 || kind == 6) && (log_append(r, REGION, "x", 1) == 0 || errno != EINVAL))
		child_fail("log_append() onto a log where %s should fail with EINVAL, not write where the "
			   "header says%s.", log_corruptions[kind],
			   kind >= 5 ? " (a record there overwrites the header itself: tail and magic)" : "");
}

GRADER_TEST(log_corrupt)
{
	for (int k = 0; k < (int)(sizeof log_corruptions / sizeof *log_corruptions); k++) {
		char crash[300];
		snprintf(crash, sizeof crash,
			 "A log operation crashed on a log where %s: a field read from shared memory was "
			 "used without checking it against the region (guard pages surround it).",
			 log_corruptions[k]);
		run_child(log_corrupt_child, (void *)(intptr_t)k, 1.0, crash,
			  "log_walk() did not finish within 1 s on a damaged 4-record log.");
	}
}

/* ---- region_cleanup ------------------------------------------------------------------------ */

static int mapped(void *p, size_t size)
{
	return msync(p, size, MS_ASYNC) == 0; /* fails with ENOMEM where nothing is mapped */
}

/* In region_cleanup's child: attaches NAME (SIZE bytes of 0x5a), writes through it, detaches;
   returns a letter for what went wrong ('k': nothing). */
static char attach_write_detach(const char *name, size_t size)
{
	char verdict = 'k';
	size_t got = 0;
	int fds = probe_fd_count();
	char *other = region_attach(name, &got);
	if (!other)
		verdict = errno == ENOSYS ? 'n' : 'a';
	else if (got != size)
		verdict = 's';
	else if (probe_fd_count() != fds)
		verdict = 'f';
	else if (other[0] != 0x5a || other[size - 1] != 0x5a)
		verdict = 'd';
	else {
		other[1] = 0x33; /* the creator must see this: one object, shared */
		other[size - 2] = 0x44;
		if (region_detach(other, got) != 0 || mapped(other, got))
			verdict = 'u';
	}
	return verdict;
}

/* What became of the attaching child: its verdict letter ('?': none), how it ended. */
struct attach_result {
	char verdict;
	int status;
};

static struct attach_result attach_in_another_process(const char *name, size_t size)
{
	int p[2];
	ck_assert(pipe(p) == 0);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char verdict = attach_write_detach(name, size);
		ssize_t ignored = write(p[1], &verdict, 1);
		(void)ignored;
		_exit(0);
	}
	close(p[1]);
	struct attach_result a = {'?', 0};
	probe_read_all(p[0], &a.verdict, 1, 2.0);
	close(p[0]);
	probe_finish(pid, &a.status, 2.0);
	return a;
}

/* What region_destroy() left: its result, and whether the mapping or the name survived. */
struct destroy_result {
	int rc, err, still_mapped, name_left;
};

/* Destroys the region, then cleans up whatever the code under test left. */
static struct destroy_result destroy_and_clean_up(const char *name, char *base, size_t size)
{
	struct destroy_result d;
	d.rc = region_destroy(name, base, size);
	d.err = errno;
	d.still_mapped = mapped(base, size);
	int fd = shm_open(name, O_RDONLY, 0);
	d.name_left = fd >= 0;
	if (fd >= 0)
		close(fd);
	/* Clean up whatever the code under test left, then say what it was. */
	shm_unlink(name);
	if (d.still_mapped)
		munmap(base, size);
	if (d.rc < 0 && d.err == ENOSYS) {
		errno = ENOSYS;
		require_implemented(1, "region_destroy");
	}
	return d;
}

static void create_closes_its_descriptor_and_refuses_an_existing_name(int before, int after,
								      char *again, int again_err)
{
	CHECK(after == before,
		      "region_create() left %d more descriptor(s) open. Once mmap() has mapped the "
		      "object the descriptor is no longer needed: close it, or every region costs one "
		      "descriptor until the process ends.", after - before);
	CHECK(again == NULL && again_err == EEXIST,
		      "region_create() on a name that already exists %s; it should fail with EEXIST "
		      "(O_CREAT | O_EXCL), or a stale object left by a crash is silently reused.",
		      again ? "succeeded" : "failed, but not with EEXIST");
}

static void attach_maps_the_same_object_shared(struct attach_result a, int sees)
{
	switch (a.verdict) {
	case 'k': break;
	case 'n': ABORT("region_attach() is not implemented yet (ENOSYS)."); break;
	case 'a': ABORT("region_attach() in another process failed for an existing object."); break;
	case 's': ABORT("region_attach() reported the wrong size (use fstat on the object)."); break;
	case 'f': ABORT("region_attach() left a descriptor open: close it once the object is mapped."); break;
	case 'd': ABORT("region_attach() in another process did not see the creator's bytes: is "
			       "the mapping MAP_SHARED, of the same object?"); break;
	case 'u': ABORT("After region_detach() the region was still mapped: munmap() it."); break;
	default:
		ABORT("The child that called region_attach() %s without answering.",
		      describe_status(a.status, (char[160]){0}, 160));
	}
	CHECK(sees,
	      "Another process wrote through the mapping region_attach() gave it, but the creator does "
	      "not see those bytes: the attacher's stores went into a private copy. Map the object "
	      "MAP_SHARED in region_attach() too (MAP_PRIVATE is copy-on-write: it reads the object "
	      "but never writes back).");
}

static void destroy_unmaps_and_unlinks(struct destroy_result d, const char *name)
{
	CHECK(d.rc == 0, "region_destroy() failed: %s", strerror(d.err));
	CHECK(!d.still_mapped, "After region_destroy() the region was still mapped: munmap() it.");
	CHECK(!d.name_left,
	      "After region_destroy() the name %s still exists in /dev/shm: the object (and its "
	      "memory) outlives every process. The owner must shm_unlink() the name.",
	      name);
	char leaks[512];
	CHECK(ledger_check(leaks, sizeof leaks) == 0, "After region_destroy(): %s", leaks);
}

GRADER_TEST(region_cleanup)
{
	char name[64];
	sb_name("region", name, sizeof name);
	ledger_watch_shm(name);
	size_t size = 3 * PAGE;
	int before = probe_fd_count();
	char *base = region_create(name, size);
	require_implemented(base == NULL, "region_create");
	CHECK(base != NULL, "region_create(\"%s\", %zu) failed: %s", name, size, strerror(errno));
	int after = probe_fd_count();
	memset(base, 0x5a, size);
	/* A second creator must not silently share (or clobber) an existing object. */
	char *again = region_create(name, size);
	int again_err = errno;
	if (again)
		region_detach(again, size);

	struct attach_result a = attach_in_another_process(name, size);
	int sees = base[1] == 0x33 && base[size - 2] == 0x44;
	struct destroy_result d = destroy_and_clean_up(name, base, size);

	create_closes_its_descriptor_and_refuses_an_existing_name(before, after, again, again_err);
	attach_maps_the_same_object_shared(a, sees);
	destroy_unmaps_and_unlinks(d, name);
}

/* ---- region_errors ------------------------------------------------------------------------- */

static void attach_of_a_missing_name_is_enoent(const char *name)
{
	size_t got = 0;
	errno = 0;
	void *p = region_attach(name, &got);
	int err = errno;
	if (p)
		munmap(p, got);
	errno = err;
	require_implemented(!p, "region_attach");
	CHECK(!p && err == ENOENT,
	      "region_attach() of a name that does not exist %s%s; it should fail "
	      "with ENOENT.",
	      p ? "succeeded" : "failed with ", p ? "" : errno_name(err));
}

/* An object nobody has sized yet (0 bytes) cannot be mapped: NULL, not MAP_FAILED. */
static void attach_of_an_unsized_object_is_null(const char *name)
{
	int zfd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(zfd >= 0, "grader: shm_open: %s", strerror(errno));
	close(zfd);
	size_t got = 0;
	int zfds = probe_fd_count();
	errno = 0;
	void *p = region_attach(name, &got);
	int zleaked = probe_fd_count() - zfds;
	if (p && p != MAP_FAILED)
		munmap(p, got);
	shm_unlink(name);
	CHECK(p == NULL && zleaked == 0,
	      "region_attach() of an object of 0 bytes (created, never sized) returned %p%s. Such an "
	      "object cannot be mapped: return NULL with errno set (mmap() reports failure as "
	      "MAP_FAILED, not NULL), and close the descriptor.", p,
	      zleaked ? " and left a descriptor open" : "");
}

/* What a region_create(NAME, SIZE) that should fail did: its result, errno, descriptors it
   leaked, and whether it left the object behind (which is then removed). */
struct failed_create {
	void *p;
	int err, leaked, left;
};

static struct failed_create create_expecting_failure(const char *name, size_t size)
{
	int fds = probe_fd_count();
	/* Past the test's file size limit, ftruncate fails with EFBIG instead of raising SIGXFSZ.
	 */
	void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
	errno = 0;
	struct failed_create r = {region_create(name, size), errno, 0, 0};
	signal(SIGXFSZ, old);
	r.leaked = probe_fd_count() - fds;
	int fd = shm_open(name, O_RDONLY, 0);
	r.left = fd >= 0;
	if (fd >= 0)
		close(fd);
	shm_unlink(name);
	if (r.p)
		munmap(r.p, size ? size : 4096);
	return r;
}

/* A region of 0 bytes cannot be mapped: the failure must not leave the object behind. */
static void create_of_0_bytes_leaves_nothing(const char *name)
{
	struct failed_create r = create_expecting_failure(name, 0);
	errno = r.err;
	require_implemented(!r.p, "region_create");
	CHECK(
	    !r.p,
	    "region_create(\"%s\", 0) returned %p: a mapping of 0 bytes does not exist, and mmap() "
	    "says so with MAP_FAILED, which is not NULL. Compare mmap()'s result with MAP_FAILED.",
	    name, r.p);
	CHECK(!r.left,
	      "region_create(\"%s\", 0) failed (%s), but left the object \"%s\" behind in "
	      "/dev/shm: the "
	      "next region_create() of that name now fails with EEXIST, and the memory stays until "
	      "reboot. When a step after shm_open() fails, shm_unlink() the name before returning "
	      "NULL.",
	      name, errno_name(r.err), name);
	CHECK(r.leaked == 0, "region_create(\"%s\", 0) failed and left %d descriptor(s) open.",
	      name, r.leaked);
}

/* A region far larger than the address space: shm_open succeeds, then a later step (ftruncate or
   mmap) fails, and the object made on the way must go again. */
static void create_too_big_leaves_nothing(const char *name)
{
	struct failed_create r = create_expecting_failure(name, (size_t)1 << 62);
	CHECK(!r.p,
	      "region_create(\"%s\", 1 << 62) returned a region of 4 EiB, which cannot exist.",
	      name);
	CHECK(!r.left,
	      "region_create(\"%s\", 1 << 62) failed (%s), but left the object \"%s\" behind in "
	      "/dev/shm. shm_open() had created it; a step after it failed, and the next "
	      "region_create() of that name now fails with EEXIST. On every failure after "
	      "shm_open(), shm_unlink() the name before returning NULL.",
	      name, errno_name(r.err), name);
	CHECK(r.leaked == 0,
	      "region_create(\"%s\", 1 << 62) failed and left %d descriptor(s) open.", name,
	      r.leaked);
}

/* A process whose standard input is closed gets descriptor 0 from shm_open(): a valid
   descriptor. Returns the region created there (SIZE bytes). */
static char *create_and_attach_with_stdin_closed(const char *name, size_t size)
{
	int saved_in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	close(STDIN_FILENO);
	errno = 0;
	char *base = region_create(name, size);
	int err = errno;
	size_t got0 = 0;
	char *again0 = base ? region_attach(name, &got0) : NULL;
	int err0 = errno;
	if (again0)
		munmap(again0, got0);
	dup2(saved_in, STDIN_FILENO);
	close(saved_in);
	CHECK(base != NULL,
	      "region_create(\"%s\", %zu) failed with %s in a process whose standard input "
	      "is closed. shm_open() then returns descriptor 0, which is valid: only a "
	      "negative result is an error (fd < 0, not fd <= 0).",
	      name, size, errno_name(err));
	CHECK(again0 != NULL,
	      "region_attach(\"%s\") failed with %s in a process whose standard input is "
	      "closed. shm_open() then returns descriptor 0, which is valid: only a negative "
	      "result is an error (fd < 0, not fd <= 0).",
	      name, errno_name(err0));
	return base;
}

/* What a second region_create() of a name in use did: did it succeed, is the object intact? */
struct second_create {
	int created, intact;
};

/* A second creator must leave the existing object (BASE, SIZE bytes) exactly as it was. */
static struct second_create create_again_over(const char *name, char *base, size_t size)
{
	memset(base, 0x77, size);
	errno = 0;
	void *p = region_create(name, PAGE);
	if (p)
		munmap(p, PAGE);
	struct stat st = {0};
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd >= 0) {
		fstat(fd, &st);
		close(fd);
	}
	int intact = st.st_size == (off_t)size && base[0] == 0x77 && base[size - 1] == 0x77;
	return (struct second_create){p != NULL, intact};
}

/* The name is already gone (NAME unlinked): destroy still unmaps, and reports the failed
   unlink. */
static struct destroy_result destroy_without_its_name(const char *name, char *base, size_t size)
{
	struct destroy_result d = {0};
	errno = 0;
	d.rc = region_destroy(name, base, size);
	d.err = errno;
	d.still_mapped = mapped(base, size);
	if (d.still_mapped)
		munmap(base, size);
	return d;
}

static void a_second_create_left_the_object_intact(struct second_create sc)
{
	CHECK(
	    !sc.created && sc.intact,
	    "region_create() of a name that already exists %s, and the existing object is %s. With "
	    "O_CREAT | O_EXCL, shm_open() fails with EEXIST before anything is touched.",
	    sc.created ? "succeeded" : "failed",
	    sc.intact ? "intact" : "no longer as it was (ftruncate?)");
}

static void destroy_without_its_name_unmaps_and_says_enoent(struct destroy_result d)
{
	require_implemented(d.rc < 0 && d.err == ENOSYS, "region_destroy");
	CHECK(!d.still_mapped,
	      "region_destroy() of a region whose name was already removed left it mapped: "
	      "unmap it whatever happens to the name.");
	CHECK(
	    d.rc == -1 && d.err == ENOENT,
	    "region_destroy() of a region whose name someone had already removed returned %d (%s); "
	    "it should report the failed shm_unlink() with -1 and ENOENT.",
	    d.rc, d.rc < 0 ? errno_name(d.err) : "no error");
}

GRADER_TEST(region_errors)
{
	char name[64];
	sb_name("err", name, sizeof name);
	ledger_watch_shm(name);
	attach_of_a_missing_name_is_enoent(name);
	attach_of_an_unsized_object_is_null(name);
	create_of_0_bytes_leaves_nothing(name);
	create_too_big_leaves_nothing(name);
	size_t size = 2 * PAGE;
	char *base = create_and_attach_with_stdin_closed(name, size);
	struct second_create sc = create_again_over(name, base, size);
	shm_unlink(name);
	struct destroy_result d = destroy_without_its_name(name, base, size);
	a_second_create_left_the_object_intact(sc);
	destroy_without_its_name_unmaps_and_says_enoent(d);
}
