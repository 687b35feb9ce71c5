/* report.c: one lab's results as text for the student and as JSON, TAP and JUnit fragments. */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How many hint levels the student has asked for on TEST of LAB (at least 1, at most what
   lab.conf gives). The state is $IPCLAB_HINTS_DIR/LAB, lines "test level", written by
   `make hint` and the watch screen's h key; without it only the first level shows. */
int report_hint_level(const char *lab, const lab_test *test)
{
	int level = 1;
	const char *dir = getenv("IPCLAB_HINTS_DIR");
	char path[4096], name[64];
	int lv;
	if (dir && *dir && snprintf(path, sizeof path, "%s/%s", dir, lab) < (int)sizeof path) {
		FILE *f = fopen(path, "r");
		while (f && fscanf(f, "%63s %d", name, &lv) == 2)
			if (!strcmp(name, test->name) && lv > level)
				level = lv;
		if (f)
			fclose(f);
	}
	return level < test->nhints ? level : test->nhints > 0 ? test->nhints : 1;
}

static int use_colour(FILE *out)
{
	return isatty(fileno(out)) && !getenv("NO_COLOR");
}

static const char *paint(FILE *out, const char *code)
{
	return use_colour(out) ? code : "";
}

static const char *const test_names[] = {"pass", "fail", "error", "timeout", "skipped"};
static const char *const lab_names[] = {"graded", "compile-error", "not-submitted", "rejected",
					"grader-error"};

const char *test_status_name(test_status s)
{
	return s < sizeof test_names / sizeof *test_names ? test_names[s] : "error";
}

const char *lab_status_name(lab_status s)
{
	return s < sizeof lab_names / sizeof *lab_names ? lab_names[s] : "graded";
}

int lab_status_parse(const char *name)
{
	for (size_t i = 0; i < sizeof lab_names / sizeof *lab_names; i++)
		if (!strcmp(name, lab_names[i]))
			return (int)i;
	return -1;
}

int report_score(const lab_result *r)
{
	int s = 0;
	for (int i = 0; r->tests && i < r->ntests; i++)
		s += r->tests[i].points;
	return s;
}

/* Prints TEXT with every line prefixed, keeping at most MAX_LINES (the last ones). */
static void print_block(FILE *out, const char *prefix, const char *text, int max_lines)
{
	int lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	if (*text && text[strlen(text) - 1] != '\n')
		lines++;
	const char *p = text;
	if (lines > max_lines) {
		fprintf(out, "%s... (%d earlier lines cut)\n", prefix, lines - max_lines);
		for (int skip = lines - max_lines; skip > 0 && *p; p++)
			skip -= *p == '\n';
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		/* Wrap long lines at a space near 100 columns: the end of a message is often the advice. */
		const char *line = p;
		int rest = len;
		while (rest > 100) {
			int cut = 100;
			while (cut > 40 && line[cut] != ' ')
				cut--;
			int skip = line[cut] == ' ';
			if (!skip)
				cut = 100;
			fprintf(out, "%s%.*s\n", prefix, cut, line);
			line += cut + skip;
			rest -= cut + skip;
		}
		fprintf(out, "%s%.*s\n", prefix, rest, line);
		p += len + (nl != NULL);
	}
}

void report_print(FILE *out, const lab_result *r)
{
	const char *bold = paint(out, "\033[1m"), *red = paint(out, "\033[31m"),
		   *green = paint(out, "\033[32m"), *yellow = paint(out, "\033[33m"),
		   *off = paint(out, "\033[0m");
	fprintf(out, "\n%s== Lab %.2s: %s ==%s  (%s)\n", bold, r->lab, r->conf->title, off, r->dir);
	if (r->status == LAB_NOT_SUBMITTED) {
		fprintf(out, "  %sNOT SUBMITTED%s  %s\n", yellow, off, r->detail ? r->detail : "");
	} else if (r->status == LAB_COMPILE_ERROR) {
		fprintf(out, "  %sDOES NOT COMPILE%s: every test scores 0. The compiler said:\n", red, off);
		print_block(out, "    | ", r->detail ? r->detail : "", 40);
		fprintf(out, "  Fix the first error first; later ones often follow from it.\n");
	} else if (r->status != LAB_GRADED) { /* refused, or the grader failed: the reason says */
		fprintf(out, "  %sNOT GRADED%s (%s)\n", red, off, lab_status_name(r->status));
		print_block(out, "    ", r->detail ? r->detail : "", 20);
	} else {
		if (r->sandbox)
			fprintf(out, "  sandbox: %s\n", r->sandbox);
		if (r->detail && *r->detail) {
			fprintf(out, "  compiler warnings (not fatal, but usually real bugs):\n");
			print_block(out, "    | ", r->detail, 15);
		}
		for (int i = 0; i < r->ntests; i++) {
			const test_result *t = &r->tests[i];
			/* The word a student sees for each test_status. */
			static const char *const words[] = {"PASS", "FAIL", "CRASH", "TIME",
							    "SKIP"};
			int pass = t->status == TEST_PASS;
			const char *word = words[t->status];
			fprintf(out, "  %s%-5s%s %2d/%-2d  %-24s %s\n", pass ? green : red, word, off,
				t->points, t->meta->points, t->meta->name, t->meta->title);
			if (pass)
				continue;
			print_block(out, "        ", t->message ? t->message : "", 12);
			int shown = report_hint_level(r->lab, t->meta);
			for (int lv = 0; lv < shown; lv++) {
				char hint[sizeof t->meta->hints[lv] + 16];
				snprintf(hint, sizeof hint, "hint %d/%d: %s", lv + 1,
					 t->meta->nhints, t->meta->hints[lv]);
				print_block(out, "        ", hint, 8);
			}
			if (shown < t->meta->nhints)
				fprintf(out, "        next hint: make hint LAB=%.2s TEST=%s\n",
					r->lab, t->meta->name);
			if (t->output && *t->output) {
				fprintf(out, "        your code printed:\n");
				print_block(out, "          | ", t->output, 30);
			}
			fprintf(out, "        re-run just this test: %s TEST=%s\n", r->rerun, t->meta->name);
		}
	}
	int score = report_score(r), max = labconf_max(r->conf);
	fprintf(out, "  %sLab %.2s: %d/%d points%s  (%.2f s)\n", score == max ? green : bold, r->lab,
		score, max, off, r->elapsed);
}

/* The length of the valid UTF-8 sequence at P, or 0. */
static int utf8_len(const unsigned char *p)
{
	int n = *p >= 0xc2 && *p <= 0xdf   ? 2
		: *p >= 0xe0 && *p <= 0xef ? 3
		: *p >= 0xf0 && *p <= 0xf4 ? 4
					   : 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF. */
	if ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0) ||
	    (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

/* A JSON string. What a student's code printed may be any bytes: those that are not UTF-8
   become U+FFFD, so that every JSON parser still reads the report. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p >= 0x80) {
			int n = utf8_len(p);
			if (n)
				fwrite(p, 1, n, f), p += n - 1;
			else
				fputs("\\ufffd", f);
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void xml_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t')
				fputc('?', f); /* not allowed in XML 1.0 */
			else
				fputc(*p, f);
		}
	}
}

/* The message a machine gets for a test: what happened, then the hint. */
static const char *test_message(const lab_result *r, const test_result *t)
{
	static const char *const why[] = {"the lab was not graded", "the lab does not compile",
					  "the lab was not submitted", "the submission was refused",
					  "the lab could not be graded"};
	if (!r->tests)
		return why[r->status];
	return t->message ? t->message : "";
}

static FILE *open_fragment(const char *outdir, const char *lab, const char *ext)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.%s", outdir, lab, ext);
	FILE *f = fopen(path, "w");
	if (!f)
		perror(path);
	return f;
}

/* The test at index I: its result (NULL when the lab was not graded) and whether it passed. */
static const test_result *test_at(const lab_result *r, int i, int *pass)
{
	const test_result *t = r->tests ? &r->tests[i] : NULL;
	*pass = t && t->status == TEST_PASS;
	return t;
}

static const char *status_of(const test_result *t)
{
	return test_status_name(t ? t->status : TEST_ERROR);
}

/* .sum: "lab NAME SCORE MAX STATUS ELAPSED", then "test NAME STATUS POINTS MAX" per test. */
static void save_sum(FILE *sum, const lab_result *r)
{
	fprintf(sum, "lab %s %d %d %s %.3f\n", r->lab, report_score(r), labconf_max(r->conf),
		lab_status_name(r->status), r->elapsed);
	for (int i = 0; i < r->conf->ntests; i++) {
		int pass;
		const test_result *t = test_at(r, i, &pass);
		fprintf(sum, "test %s %s %d %d\n", r->conf->tests[i].name, status_of(t),
			t ? t->points : 0, r->conf->tests[i].points);
	}
}

/* One test of the JSON part: "hint" is level 1 (as before levels), "hints" the levels seen. */
static void save_json_test(FILE *json, const lab_result *r, int i)
{
	const lab_test *m = &r->conf->tests[i];
	int pass;
	const test_result *t = test_at(r, i, &pass);
	fputs("{\"name\":", json);
	json_str(json, m->name);
	fputs(",\"title\":", json);
	json_str(json, m->title);
	fprintf(json, ",\"points\":%d,\"max\":%d,\"status\":\"%s\",\"message\":", t ? t->points : 0,
		m->points, status_of(t));
	json_str(json, pass ? "" : test_message(r, t));
	fputs(",\"hint\":", json);
	json_str(json, m->hints[0]);
	int seen = report_hint_level(r->lab, m);
	fprintf(json, ",\"hint_levels\":%d,\"hints\":[", m->nhints);
	for (int lv = 0; lv < seen; lv++) {
		fputs(lv ? "," : "", json);
		json_str(json, m->hints[lv]);
	}
	fputs("],\"output\":", json);
	json_str(json, t && !pass ? t->output : "");
	fputs("}", json);
}

static void save_json(FILE *json, const lab_result *r)
{
	fputs("{\"lab\":", json);
	json_str(json, r->lab);
	fputs(",\"title\":", json);
	json_str(json, r->conf->title);
	fprintf(json, ",\"score\":%d,\"max\":%d,\"status\":\"%s\",\"elapsed\":%.3f",
		report_score(r), labconf_max(r->conf), lab_status_name(r->status), r->elapsed);
	fputs(",\"sandbox\":", json);
	json_str(json, r->sandbox);
	fputs(",\"detail\":", json);
	json_str(json, r->detail);
	fputs(",\"tests\":[", json);
	for (int i = 0; i < r->conf->ntests; i++) {
		fputs(i ? "," : "", json);
		save_json_test(json, r, i);
	}
	fputs("]}", json);
}

/* TAP: the numbers are assigned when the labs are merged (report_merge). */
static void save_tap(FILE *tap, const lab_result *r)
{
	for (int i = 0; i < r->conf->ntests; i++) {
		const lab_test *m = &r->conf->tests[i];
		int pass;
		const test_result *t = test_at(r, i, &pass);
		fprintf(tap, "%s - %s: %s (%d/%d)\n", pass ? "ok" : "not ok", r->lab, m->name,
			t ? t->points : 0, m->points);
		if (pass)
			continue;
		fprintf(tap, "  ---\n  status: %s\n  message: ", status_of(t));
		json_str(tap, test_message(r, t)); /* a JSON string is valid YAML */
		fprintf(tap, "\n  rerun: \"%s TEST=%s\"\n  ...\n", r->rerun, m->name);
	}
}

/* JUnit XML: one testsuite per lab; a test that did not pass is a failure of its status. */
static void save_xml(FILE *xml, const lab_result *r)
{
	int failures = 0, pass;
	for (int i = 0; i < r->conf->ntests; i++)
		test_at(r, i, &pass), failures += !pass;
	fprintf(xml, "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" time=\"%.3f\">\n",
		r->lab, r->conf->ntests, failures, r->elapsed);
	for (int i = 0; i < r->conf->ntests; i++) {
		const test_result *t = test_at(r, i, &pass);
		fprintf(xml, "    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\">", r->lab,
			r->conf->tests[i].name, t ? t->seconds : 0.0);
		if (!pass) {
			fprintf(xml, "<failure type=\"%s\" message=\"",
				t ? status_of(t) : lab_status_name(r->status));
			xml_str(xml, test_message(r, t));
			fputs("\">", xml);
			xml_str(xml, r->conf->tests[i].hints[0]);
			fputs("</failure>", xml);
		}
		if (!pass && t && t->output && *t->output) {
			fputs("<system-out>", xml);
			xml_str(xml, t->output);
			fputs("</system-out>", xml);
		}
		fputs("</testcase>\n", xml);
	}
	fputs("  </testsuite>\n", xml);
}

int report_save(const char *outdir, const lab_result *r)
{
	static const char *const ext[] = {"json", "tap", "xml", "sum"};
	static void (*const save[])(FILE *, const lab_result *) = {save_json, save_tap, save_xml,
								   save_sum};
	int bad = 0;
	for (int i = 0; i < 4; i++) {
		FILE *f = open_fragment(outdir, r->lab, ext[i]);
		if (!f)
			return -1;
		save[i](f, r);
		bad |= ferror(f) | fclose(f);
	}
	return bad ? -1 : 0;
}

/* Copies the file at PATH to OUT; -1 when it cannot be read. */
static int append_file(FILE *out, const char *path)
{
	FILE *in = fopen(path, "r");
	if (!in)
		return -1;
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return 0;
}

/* One lab's part: OUTDIR/LAB.EXT */
static const char *part(char *buf, size_t cap, const char *outdir, const char *lab, const char *ext)
{
	snprintf(buf, cap, "%s/%s.%s", outdir, lab, ext);
	return buf;
}

/* The TAP parts hold "ok - ..." lines; here they are numbered across the labs. */
static int merge_tap(FILE *tap, const char *outdir, int nlabs, char *const labs[])
{
	char path[4096], line[8192];
	int n = 0;
	for (int i = 0; i < nlabs; i++) {
		FILE *in = fopen(part(path, sizeof path, outdir, labs[i], "tap"), "r");
		if (!in)
			return -1;
		while (fgets(line, sizeof line, in)) {
			if (!strncmp(line, "ok - ", 5))
				fprintf(tap, "ok %d%s", ++n, line + 2);
			else if (!strncmp(line, "not ok - ", 9))
				fprintf(tap, "not ok %d%s", ++n, line + 6);
			else
				fputs(line, tap);
		}
		fclose(in);
	}
	fprintf(tap, "1..%d\n", n);
	return 0;
}

/* JSON_PATH with .EXT instead of .json, opened for writing. */
static FILE *open_beside(const char *json_path, const char *ext)
{
	char path[4096];
	size_t len = strlen(json_path);
	if (len > 5 && !strcmp(json_path + len - 5, ".json"))
		len -= 5;
	snprintf(path, sizeof path, "%.*s.%s", (int)len, json_path, ext);
	FILE *f = fopen(path, "w");
	if (!f)
		perror(path);
	return f;
}

/* The summary line of one lab, from its .sum part; its score and maximum are added up. */
static int summarise(const char *path, const char *lab, int *total, int *total_max)
{
	char name[64], status[32];
	int score, max;
	double elapsed;
	FILE *in = fopen(path, "r");
	int n =
	    in ? fscanf(in, "lab %63s %d %d %31s %lf", name, &score, &max, status, &elapsed) : 0;
	if (in)
		fclose(in);
	if (n != 5) {
		fprintf(stderr, "ipclab: no result for %s\n", lab);
		return -1;
	}
	printf("  %-24s %3d/%-3d  %-14s %6.2f s\n", lab, score, max, status, elapsed);
	*total += score, *total_max += max;
	return 0;
}

int report_merge(const char *outdir, int nlabs, char *const labs[], const char *json_path)
{
	char path[4096];
	int total = 0, total_max = 0, bad = 0;
	FILE *json = fopen(json_path, "w"), *tap = open_beside(json_path, "tap"),
	     *xml = open_beside(json_path, "xml"), *sum = open_beside(json_path, "sum");
	if (!json)
		perror(json_path);
	if (!json || !tap || !xml || !sum)
		return -1;
	printf("\n== Summary ==\n");
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ipclab\">\n", xml);
	for (int i = 0; i < nlabs; i++) {
		part(path, sizeof path, outdir, labs[i], "sum");
		bad |= summarise(path, labs[i], &total, &total_max) < 0;
		bad |= append_file(sum, path) < 0;
		bad |= append_file(xml, part(path, sizeof path, outdir, labs[i], "xml")) < 0;
	}
	printf("  %-24s %3d/%-3d\n", "total", total, total_max);
	fputs("</testsuites>\n", xml);
	fprintf(json, "{\"score\":%d,\"max\":%d,\"labs\":[", total, total_max);
	for (int i = 0; i < nlabs; i++) {
		fputs(i ? "," : "", json);
		bad |= append_file(json, part(path, sizeof path, outdir, labs[i], "json")) < 0;
	}
	fputs("]}\n", json);
	bad |= merge_tap(tap, outdir, nlabs, labs) < 0;
	bad |= ferror(json) | ferror(tap) | ferror(xml) | ferror(sum);
	bad |= fclose(json) | fclose(tap) | fclose(xml) | fclose(sum);
	return bad ? -1 : 0;
}
