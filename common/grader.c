/* grader.c: the runner linked into every lab's grader: runs each test in Check's fork mode, in a sandbox, and scores it. */
#define _GNU_SOURCE
#include "grader.h"
#include "internal.h"
#include "labconf.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_REGISTERED = 64, OUTPUT_CAP = 16 << 20 };

typedef struct {
	const char *name;
	grader_fn fn;
	const char *file;
	int line;
} registered_test;

static registered_test tests[MAX_REGISTERED];
static int ntests;
static struct {
	const char *name;
	grader_probe_fn fn;
} probes[32];
static int nprobes;
static char self_exe[4096];

/* Shared with the forked test process: how far it got, and what it noted. */
typedef struct {
	int completed;  /* set only after the body AND the leak checks returned */
	int test_pid;
	char sandbox_note[256];
} shared_state;
static shared_state *shared;
static const registered_test *current;
static char current_dir[2048], current_mqdir[2048];
static int capture_fd = -1;

void grader_register(const char *name, grader_fn fn, const char *file, int line)
{
	if (ntests == MAX_REGISTERED) {
		fprintf(stderr, "ipclab: too many tests (max %d)\n", MAX_REGISTERED);
		exit(3);
	}
	tests[ntests++] = (registered_test){name, fn, file, line};
}

void grader_register_probe(const char *name, grader_probe_fn fn)
{
	if (nprobes < 32)
		probes[nprobes++].name = name, probes[nprobes - 1].fn = fn;
}

const char *grader_exe(void)
{
	return self_exe;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The Check test function: runs inside the forked test process. */
static void run_current(int iteration)
{
	(void)iteration;
	shared->test_pid = getpid();
	sandbox_enter(current_dir, current_mqdir, shared->sandbox_note, sizeof shared->sandbox_note);
	/* The student's output goes to a capture file, shown under the test if it fails. Only its
	 * first lines are shown, so a flood is cut at OUTPUT_CAP (SIGXFSZ) before it fills the disk. */
	struct rlimit cap = {OUTPUT_CAP, OUTPUT_CAP};
	setrlimit(RLIMIT_FSIZE, &cap);
	dup2(capture_fd, STDOUT_FILENO);
	dup2(capture_fd, STDERR_FILENO);
	close(capture_fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ledger_begin();
	current->fn();
	const char *leaks = ledger_end();
	if (leaks)
		ck_abort_msg("%s", leaks);
	shared->completed = 1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static char *slurp(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	long start = size > (long)max ? size - (long)max : 0; /* keep the end: it explains the crash */
	fseek(f, start, SEEK_SET);
	char *buf = calloc(1, max + 1);
	size_t n = fread(buf, 1, max, f);
	buf[n] = '\0';
	fclose(f);
	for (size_t i = 0; i < n; i++) /* binary garbage would wreck the report */
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t')
			buf[i] = '?';
	return buf;
}

/* Turns Check's wording into the student's terms. */
static void classify(int rtype, const char *msg, const lab_test *meta, test_result *r)
{
	static char text[4096];
	int sig;
	int code;
	if (rtype == CK_PASS && shared->completed) {
		r->status = TEST_PASS;
		r->points = meta->points;
		r->message = NULL;
		return;
	}
	r->points = 0;
	if (rtype == CK_PASS) {
		r->status = TEST_ERROR;
		r->message = "The test process ended before the grader finished checking: your code "
			     "called exit() (or _exit) in the process that called it. A library function "
			     "must return to its caller; only a child you forked may exit.";
		return;
	}
	if (rtype == CK_FAILURE) {
		r->status = TEST_FAIL;
		r->message = strdup(msg ? msg : "");
		return;
	}
	if (msg && strstr(msg, "timeout")) {
		r->status = TEST_TIMEOUT;
		snprintf(text, sizeof text,
			 "Timed out after %g s: your code blocked forever or looped without end "
			 "(every process of the test was killed).",
			 probe_bound(meta->timeout));
	} else if (msg && sscanf(msg, "Received signal %d", &sig) == 1) {
		char what[200];
		r->status = TEST_ERROR;
		describe_status(sig & 0x7f, what, sizeof what); /* a raw signal number is a wait status */
		if ((sig & 0x7f) == SIGXFSZ)
			snprintf(text, sizeof text,
				 "The test process was stopped: it %s after writing %d MiB, more than any "
				 "test needs (look for a print or write loop that never ends).",
				 what, OUTPUT_CAP >> 20);
		else
			snprintf(text, sizeof text, "The test process crashed: it %s.", what);
	} else if (msg && sscanf(msg, "Early exit with return value %d", &code) == 1) {
		r->status = TEST_ERROR;
		snprintf(text, sizeof text,
			 "The test process exited with status %d in the middle of the test: your code "
			 "called exit() where it should have returned an error to its caller.%s",
			 code, code == 66 ? " (66 is ThreadSanitizer's exit status: read its report below.)" : "");
	} else {
		r->status = TEST_ERROR;
		snprintf(text, sizeof text, "%s", msg ? msg : "the test did not complete");
	}
	r->message = strdup(text);
}

/* Makes the test's own directory and its capture file (the student's output) under RUNDIR. */
static void prepare_test(const registered_test *t, const char *rundir, char *capture, size_t cap)
{
	memset(shared, 0, sizeof *shared);
	current = t;
	snprintf(current_dir, sizeof current_dir, "%s/%s", rundir, t->name);
	snprintf(current_mqdir, sizeof current_mqdir, "%s/.mq-%s", rundir, t->name);
	mkdir(current_dir, 0777);
	chmod(current_dir, 0777 & ~(mode_t)022);
	snprintf(capture, cap, "%s/.out-%s", rundir, t->name);
	capture_fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
}

/* A one-test suite in Check's fork mode, with the conf's timeout; run_current is its body. */
static SRunner *check_runner(const registered_test *t, const lab_test *meta, TTest *tt)
{
	Suite *s = suite_create("lab");
	TCase *tc = tcase_create(t->name);
	*tt = (TTest){t->name, run_current, t->file, t->line};
	tcase_add_test(tc, tt); /* Check's public macro; TTest is its documented test record */
	tcase_set_timeout(tc, probe_bound(meta->timeout));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	return sr;
}

/* A test that passed but left processes running (NSTRAYS, named in STRAYS) fails after all. */
static void fail_on_strays(int nstrays, const char *strays, test_result *r)
{
	if (!nstrays || r->status != TEST_PASS)
		return;
	char text[1200];
	snprintf(text, sizeof text,
		 "When the test ended, %d process(es) that your code started were still running: "
		 "%s. A function must not leave processes behind: every child is waited for "
		 "(waitpid), and a process that detaches (setsid, double fork) outlives its caller "
		 "and is never cleaned up. The grader killed them.",
		 nstrays, strays);
	r->status = TEST_FAIL;
	r->points = 0;
	r->message = strdup(text);
}

/* The test was stopped the moment it reached the run's process limit (see wait_runner in
 * contain.c). */
static void fail_fork_bomb(test_result *r)
{
	char text[600];
	snprintf(
	    text, sizeof text,
	    "Your code started processes without end: the test reached the limit of %d "
	    "processes, and the grader stopped it and every process it had started. Look for a "
	    "fork() in a loop, or a child that does not exit after its work and goes back into "
	    "the caller's code to fork again.",
	    CONTAIN_FORK_LIMIT);
	r->status = TEST_ERROR;
	r->points = 0;
	r->message = strdup(text);
}

static void run_one(const registered_test *t, const lab_test *meta, const char *rundir,
		    test_result *r)
{
	char capture[2100];
	prepare_test(t, rundir, capture, sizeof capture);
	TTest tt;
	SRunner *sr = check_runner(t, meta, &tt);
	fflush(NULL); /* or the forked test inherits, and later prints, our buffered output */
	unsigned limit_hits = contain_limit_hits();
	double t0 = now();
	srunner_run_all(sr, CK_SILENT);
	r->seconds = now() - t0;
	close(capture_fd);
	capture_fd = -1;

	/* The test process has ended: whatever still runs was started by the lab's code and
	   outlived the call that started it (a setsid() daemon, an unreaped grandchild). */
	char strays[600];
	int nstrays = contain_strays(strays, sizeof strays);
	contain_sweep();
	if (!sb_namespaced() && shared->test_pid)
		sandbox_cleanup_host(shared->test_pid);

	r->meta = meta;
	if (srunner_ntests_run(sr) != 1) {
		r->status = TEST_ERROR;
		r->points = 0;
		r->message = "internal error: Check ran no test";
	} else {
		TestResult *tr = srunner_results(sr)[0];
		classify(tr_rtype(tr), tr_msg(tr), meta, r);
	}
	fail_on_strays(nstrays, strays, r);
	if (contain_limit_hits() != limit_hits)
		fail_fork_bomb(r);
	srunner_free(sr);
	r->output = slurp(capture, 4000);
	nftw(current_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(current_mqdir);
	remove(capture);
}

/* Whether META's skip-under names the sanitizer this grader was built with. */
static bool skipped_under_sanitizer(const lab_test *meta)
{
	const char *san = getenv("IPCLAB_SANITIZE");
	if (!san || !*san || !*meta->skip_under)
		return false;
	char list[300];
	snprintf(list, sizeof list, "%s", meta->skip_under);
	list[strcspn(list, " ")] = '\0';
	for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (strstr(san, w))
			return true;
	return false;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: grader --lab NN-slug --conf lab.conf --out DIR [--only TEST] [--dir SHOWN]\n"
		"              [--rerun CMD] [--warnings FILE]\n"
		"       grader --list --conf lab.conf\n"
		"       grader --probe NAME [ARGS...]\n");
	exit(2);
}

/* The command line of a grading run (see usage). */
typedef struct {
	const char *lab, *conf_path, *out, *only, *dir, *rerun, *warnings;
	int list;
} options;

static options parse_options(int argc, char **argv)
{
	options o = {0};
	static const struct option opts[] = {
	    {"lab", 1, 0, 'l'},	 {"conf", 1, 0, 'c'},	  {"out", 1, 0, 'o'},
	    {"only", 1, 0, 't'}, {"dir", 1, 0, 'd'},	  {"rerun", 1, 0, 'r'},
	    {"list", 0, 0, 'L'}, {"warnings", 1, 0, 'w'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': o.lab = optarg; break;
		case 'c': o.conf_path = optarg; break;
		case 'o': o.out = optarg; break;
		case 't': o.only = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'r': o.rerun = optarg; break;
		case 'w': o.warnings = optarg; break;
		case 'L': o.list = 1; break;
		default: usage();
		}
	}
	if (!o.conf_path || (!o.list && (!o.lab || !o.out)))
		usage();
	return o;
}

/* `grader --probe NAME ARGS...`: runs a probe program built into this binary. */
static int run_probe(int argc, char **argv)
{
	for (int i = 0; i < nprobes; i++)
		if (!strcmp(probes[i].name, argv[2]))
			return probes[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "grader: no probe called %s\n", argv[2]);
	return 127;
}

/* lab.conf and the compiled tests must agree, or points and titles would be wrong. */
static bool conf_matches_tests(const lab_conf *conf, const char *conf_path)
{
	bool match = true;
	for (int i = 0; i < ntests; i++)
		if (!labconf_find(conf, tests[i].name))
			fprintf(stderr, "ipclab: test %s (%s:%d) has no entry in %s\n",
				tests[i].name, tests[i].file, tests[i].line, conf_path),
			    match = false;
	for (int i = 0; i < conf->ntests; i++) {
		int found = 0;
		for (int j = 0; j < ntests; j++)
			found |= !strcmp(tests[j].name, conf->tests[i].name);
		if (!found)
			fprintf(stderr,
				"ipclab: %s lists test %s, which the grader does not define\n",
				conf_path, conf->tests[i].name),
			    match = false;
	}
	return match;
}

/* A --only that names no test is bad input (2): list the lab's tests instead. */
static bool only_is_known(const lab_conf *conf, const options *o)
{
	if (!o->only || labconf_find(conf, o->only))
		return true;
	fprintf(stderr, "ipclab: lab %s has no test called '%s'. Its tests are:\n", o->lab,
		o->only);
	for (int i = 0; i < conf->ntests; i++)
		fprintf(stderr, "    %-26s %s\n", conf->tests[i].name, conf->tests[i].title);
	return false;
}

/* Check's own selection variables would silently skip tests: we select ourselves. */
static void scrub_check_environment(void)
{
	unsetenv("CK_RUN_CASE");
	unsetenv("CK_RUN_SUITE");
	unsetenv("CK_INCLUDE_TAGS");
	unsetenv("CK_EXCLUDE_TAGS");
	unsetenv("CK_FORK");
}

/* Runs every selected test of CONF in lab.conf order. NOTE gets the first sandbox fallback a
   test reported, UNSANITIZED the tests left out under this sanitizer, and why. */
static void run_all(const lab_conf *conf, const char *only, const char *rundir,
		    test_result *results, char *note, size_t note_cap, char *unsanitized,
		    size_t unsanitized_cap)
{
	for (int i = 0; i < conf->ntests; i++) {
		const lab_test *meta = &conf->tests[i];
		test_result *r = &results[i];
		if (only && strcmp(only, meta->name)) {
			*r = (test_result){meta, TEST_SKIPPED, 0, NULL, NULL, 0};
			continue;
		}
		if (skipped_under_sanitizer(meta)) {
			*r = (test_result){meta, TEST_SKIPPED, 0, NULL, NULL, 0};
			size_t used = strlen(unsanitized);
			snprintf(unsanitized + used, unsanitized_cap - used, "%s%s (%s)",
				 used ? "; " : "", meta->name, strchr(meta->skip_under, ' ') + 1);
			continue;
		}
		for (int j = 0; j < ntests; j++)
			if (!strcmp(tests[j].name, meta->name))
				run_one(&tests[j], meta, rundir, r);
		if (shared->sandbox_note[0] && !note[0])
			snprintf(note, note_cap, "; fallback: %s", shared->sandbox_note);
	}
}

/* Prints and saves the lab's report; returns the exit status (0 full marks, 1 below, 3). */
static int report_run(const options *o, const lab_conf *conf, const test_result *results,
		      const char *sandbox_text, double elapsed)
{
	/* The report holds only the tests that ran (--only, a sanitizer), so scores stay honest. */
	static lab_conf shown;
	static test_result shown_results[LABCONF_MAX_TESTS];
	shown = *conf;
	shown.ntests = 0;
	for (int i = 0; i < conf->ntests; i++)
		if (results[i].status != TEST_SKIPPED) {
			shown.tests[shown.ntests] = conf->tests[i];
			shown_results[shown.ntests] = results[i];
			shown_results[shown.ntests].meta = &shown.tests[shown.ntests];
			shown.ntests++;
		}
	char *warn_text = o->warnings ? slurp(o->warnings, 3000) : NULL;
	lab_result lr = {o->lab,       &shown,	     o->dir ? o->dir : o->lab,		 LAB_GRADED,
			 warn_text,    sandbox_text, o->rerun ? o->rerun : "make check", elapsed,
			 shown.ntests, shown_results};
	report_print(stdout, &lr);
	fflush(stdout);
	if (report_save(o->out, &lr) < 0)
		return 3;
	return report_score(&lr) == labconf_max(&shown) ? 0 : 1;
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	self_exe[n < 0 ? 0 : n] = '\0';
	if (argc >= 3 && !strcmp(argv[1], "--probe"))
		return run_probe(argc, argv);
	options o = parse_options(argc, argv);

	static lab_conf conf;
	char err[512];
	if (labconf_load(o.conf_path, &conf, err, sizeof err) < 0) {
		fprintf(stderr, "ipclab: %s\n", err);
		return 3;
	}
	if (!conf_matches_tests(&conf, o.conf_path))
		return 3;
	if (o.list) {
		for (int i = 0; i < conf.ntests; i++)
			printf("%s\n", conf.tests[i].name);
		return 0;
	}
	if (!only_is_known(&conf, &o))
		return 2;
	scrub_check_environment();

	double t0 = now();
	const char *sandbox = contain_start(); /* from here on we may be PID 1 of a namespace */
	shared =
	    mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const char *rundir = contain_rundir(); /* removed by contain's outer process at the end */
	if (shared == MAP_FAILED) {
		perror("ipclab: setting up the run");
		return 3;
	}

	static test_result results[LABCONF_MAX_TESTS];
	char note[300] = "", unsanitized[600] = "";
	run_all(&conf, o.only, rundir, results, note, sizeof note, unsanitized, sizeof unsanitized);
	/* The messages name the time limits of a run alone; say when this run's were longer. */
	char scaled[120] = "";
	if (probe_bound(1.0) > 1.0)
		snprintf(scaled, sizeof scaled,
			 "; time limits up to x%g for code still running (IPCLAB_TIMEOUT_SCALE: "
			 "runs sharing a core)",
			 probe_bound(1.0));
	char sandbox_text[2048];
	snprintf(sandbox_text, sizeof sandbox_text, "%s%s%s%s%s", sandbox, note, scaled,
		 *unsanitized ? "; not graded under this sanitizer: " : "", unsanitized);
	return report_run(&o, &conf, results, sandbox_text, now() - t0);
}
