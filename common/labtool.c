/* labtool.c: lab metadata for the shell driver, and the report of a lab that could not be graded. */
#include "labconf.h"
#include "report.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	char *buf = calloc(1, 8001);
	size_t n = fread(buf, 1, 8000, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* --- hint levels: STATEDIR/LAB holds "test level" lines ---------------------------------- */

/* Reveals the next hint level of TEST (or LEVEL, when given) and prints every level so far. */
static int hint_cmd(const lab_conf *conf, const char *lab, const char *statedir, const char *test,
		    const char *want)
{
	const lab_test *t = labconf_find(conf, test);
	if (!t) {
		fprintf(stderr, "ipclab: lab %s has no test called '%s'. Its tests are:\n", lab,
			test);
		for (int i = 0; i < conf->ntests; i++)
			fprintf(stderr, "    %-26s %s\n", conf->tests[i].name,
				conf->tests[i].title);
		return 2;
	}
	char path[4096], tmp[4200], name[64];
	snprintf(path, sizeof path, "%s/%s", statedir, lab);
	snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
	if (mkdir(statedir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "ipclab: cannot create %s: %s\n", statedir, strerror(errno));
		return 3;
	}
	/* Keep the other tests' lines, replace this test's. */
	FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
	if (!out) {
		fprintf(stderr, "ipclab: cannot write %s: %s\n", tmp, strerror(errno));
		if (in)
			fclose(in);
		return 3;
	}
	int level = 1, lv;
	while (in && fscanf(in, "%63s %d", name, &lv) == 2) {
		if (!strcmp(name, test))
			level = lv > level ? lv : level;
		else
			fprintf(out, "%s %d\n", name, lv);
	}
	if (in)
		fclose(in);
	int next = want ? atoi(want) : level + 1;
	if (next < 1)
		next = 1;
	if (next > t->nhints)
		next = t->nhints;
	fprintf(out, "%s %d\n", test, next);
	if (fclose(out) != 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "ipclab: cannot save %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return 3;
	}
	printf("%s, test %s: %s\n", lab, t->name, t->title);
	for (int i = 0; i < next; i++)
		printf("  hint %d/%d: %s\n", i + 1, t->nhints, t->hints[i]);
	if (next < t->nhints)
		printf("  (the same command again shows hint %d/%d)\n", next + 1, t->nhints);
	else
		printf("  (that was the last hint; the failure message of make check says what the "
		       "test saw)\n");
	return 0;
}

/* --- progress: build/progress.json, one line per lab, written whole and renamed ------------ */
typedef struct {
	char lab[64];
	int best, max, last, attempts;
	char started[32], completed[32]; /* ISO 8601 UTC, or "" */
} lab_progress;

enum { MAX_LABS = 64 };
static lab_progress prog[MAX_LABS];
static int nprog;

static lab_progress *prog_find(const char *lab, int create)
{
	for (int i = 0; i < nprog; i++)
		if (!strcmp(prog[i].lab, lab))
			return &prog[i];
	if (!create || nprog == MAX_LABS)
		return NULL;
	lab_progress *p = &prog[nprog++];
	memset(p, 0, sizeof *p);
	snprintf(p->lab, sizeof p->lab, "%s", lab);
	return p;
}

/* Reads the file this program writes (a line per lab); anything else is ignored, said once. */
static void prog_load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		lab_progress p;
		memset(&p, 0, sizeof p);
		if (sscanf(line,
			   " \"%63[^\"]\":{\"best\":%d,\"max\":%d,\"last\":%d,\"attempts\":%d,",
			   p.lab, &p.best, &p.max, &p.last, &p.attempts) != 5)
			continue;
		const char *s = strstr(line, "\"started\":\""),
			   *c = strstr(line, "\"completed\":\"");
		if (s)
			sscanf(s + 11, "%31[^\"]", p.started);
		if (c)
			sscanf(c + 13, "%31[^\"]", p.completed);
		lab_progress *q = prog_find(p.lab, 1);
		if (q)
			*q = p;
	}
	if (f)
		fclose(f);
}

static int prog_save(const char *path)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "ipclab: cannot write %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "{\"version\":1,\"labs\":{\n");
	for (int i = 0; i < nprog; i++) {
		const lab_progress *p = &prog[i];
		fprintf(f,
			"\"%s\":{\"best\":%d,\"max\":%d,\"last\":%d,\"attempts\":%d,"
			"\"started\":\"%s\",\"completed\":\"%s\"}%s\n",
			p->lab, p->best, p->max, p->last, p->attempts, p->started, p->completed,
			i + 1 < nprog ? "," : "");
	}
	fprintf(f, "}}\n");
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "ipclab: cannot save %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void iso_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Folds a run's .sum file (lines "lab NAME SCORE MAX STATUS ELAPSED") into the progress file. */
static int progress_update(const char *path, const char *sum)
{
	FILE *f = fopen(sum, "r");
	if (!f) {
		fprintf(stderr, "ipclab: %s: %s\n", sum, strerror(errno));
		return 3;
	}
	prog_load(path);
	char line[512], lab[64], status[32], now[32];
	int score, max;
	iso_now(now, sizeof now);
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "lab %63s %d %d %31s", lab, &score, &max, status) != 4)
			continue;
		lab_progress *p = prog_find(lab, 1);
		if (!p)
			continue;
		/* The lab changed (tests added): its old best no longer says much. */
		if (p->max != max)
			p->best = 0, p->completed[0] = '\0';
		p->max = max;
		p->last = score;
		p->attempts++;
		if (!p->started[0])
			snprintf(p->started, sizeof p->started, "%s", now);
		if (score > p->best)
			p->best = score;
		if (score == max && !p->completed[0])
			snprintf(p->completed, sizeof p->completed, "%s", now);
	}
	fclose(f);
	return prog_save(path) < 0 ? 3 : 0;
}

/* The table of every lab (CONFS in order); the last line names the lab to work on next. */
static int progress_print(const char *path, int nconfs, char **confs)
{
	static lab_conf c;
	char err[512], lab[256];
	int done = 0, total = 0, best = 0, max = 0;
	const char *next = NULL;
	static char next_buf[64];
	prog_load(path);
	printf("\n== Progress (%s) ==\n", path);
	printf("  %-24s %-7s %-9s %-8s %s\n", "lab", "best", "last", "attempts", "completed");
	for (int i = 0; i < nconfs; i++) {
		if (labconf_load(confs[i], &c, err, sizeof err) < 0) {
			fprintf(stderr, "ipclab: %s\n", err);
			return 3;
		}
		snprintf(lab, sizeof lab, "%s", confs[i]);
		const char *name = basename(dirname(lab));
		const lab_progress *p = prog_find(name, 0);
		int m = labconf_max(&c), b = p && p->max == m ? p->best : 0;
		char bestcol[16], lastcol[16];
		snprintf(bestcol, sizeof bestcol, "%d/%d", b, m);
		snprintf(lastcol, sizeof lastcol, p ? "%d" : "-", p ? p->last : 0);
		char when[32] = "";
		if (p && p->max == m && p->completed[0])
			snprintf(when, sizeof when, "%.10s %.5s", p->completed, p->completed + 11);
		printf("  %-24s %-7s %-9s %-8d %s\n", name, bestcol, p ? lastcol : "-",
		       p ? p->attempts : 0,
		       when[0]	? when
		       : b == m ? ""
				: "-");
		total++, best += b, max += m;
		if (b == m && p && p->completed[0])
			done++;
		else if (!next) {
			snprintf(next_buf, sizeof next_buf, "%.2s", name);
			next = next_buf;
		}
	}
	int width = 30, filled = max ? best * width / max : 0;
	printf("  [");
	for (int i = 0; i < width; i++)
		putchar(i < filled ? '#' : '.');
	printf("] %d/%d labs done, %d/%d points\n", done, total, best, max);
	if (next)
		printf("  next: make watch LAB=%s\n", next);
	return 0;
}

/* One lab-level value of `labtool get`, for the shell. */
static int get_one(const lab_conf *conf, const char *key)
{
	if (!strcmp(key, "title"))
		puts(conf->title);
	else if (!strcmp(key, "files"))
		puts(conf->files);
	else if (!strcmp(key, "ldlibs"))
		puts(conf->ldlibs);
	else if (!strcmp(key, "max"))
		printf("%d\n", labconf_max(conf));
	else if (!strcmp(key, "timeout"))
		printf("%g\n", conf->timeout);
	else
		return 2;
	return 0;
}

/* `labtool get CONF KEY...`: one line per key, so that one process answers several. */
static int get_cmd(const lab_conf *conf, int nkeys, char **keys)
{
	for (int i = 0; i < nkeys; i++)
		if (get_one(conf, keys[i]))
			return 2;
	return 0;
}

int main(int argc, char **argv)
{
	static lab_conf conf;
	char err[512];
	if (argc < 3) {
		fprintf(stderr,
			"usage: labtool get CONF KEY... | tests CONF | check CONF | lint CONF\n"
			"       labtool ungraded CONF LAB STATUS DETAIL_FILE OUTDIR DIR RERUN\n"
			"       labtool hint CONF LAB STATEDIR TEST [LEVEL]\n"
			"       labtool merge OUTDIR REPORT_JSON LAB...\n"
			"       labtool progress-update PROGRESS_JSON SUMFILE\n"
			"       labtool progress PROGRESS_JSON CONF...\n");
		return 2;
	}
	if (!strcmp(argv[1], "progress-update") && argc == 4)
		return progress_update(argv[2], argv[3]);
	if (!strcmp(argv[1], "merge") && argc >= 4)
		return report_merge(argv[2], argc - 4, argv + 4, argv[3]) < 0 ? 3 : 0;
	if (!strcmp(argv[1], "progress"))
		return progress_print(argv[2], argc - 3, argv + 3);
	if (labconf_load(argv[2], &conf, err, sizeof err) < 0) {
		fprintf(stderr, "ipclab: %s\n", err);
		return 3;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "check"))
		return 0;
	if (!strcmp(cmd, "lint")) {
		if (labconf_lint(&conf, argv[2], err, sizeof err) < 0) {
			fprintf(stderr, "ipclab: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "hint") && (argc == 6 || argc == 7))
		return hint_cmd(&conf, argv[3], argv[4], argv[5], argc == 7 ? argv[6] : NULL);
	if (!strcmp(cmd, "get") && argc >= 4)
		return get_cmd(&conf, argc - 3, argv + 3);
	if (!strcmp(cmd, "tests")) {
		for (int i = 0; i < conf.ntests; i++)
			printf("%s\t%d\t%s\n", conf.tests[i].name, conf.tests[i].points, conf.tests[i].title);
		return 0;
	}
	if (!strcmp(cmd, "ungraded") && argc == 9) {
		int status = lab_status_parse(argv[4]);
		if (status < 0 || status == LAB_GRADED) {
			fprintf(stderr, "labtool: '%s' is not a status of an ungraded lab\n",
				argv[4]);
			return 2;
		}
		lab_result r = {.lab = argv[3],
				.conf = &conf,
				.dir = argv[7],
				.status = status,
				.detail = slurp(argv[5]),
				.rerun = argv[8]};
		report_print(stdout, &r);
		return report_save(argv[6], &r) < 0 ? 3 : 0;
	}
	fprintf(stderr, "labtool: bad command\n");
	return 2;
}
