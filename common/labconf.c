/* labconf.c: parser for lab.conf, a "key: value" file with one block per test. */
#include "labconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Copies VALUE into DST, or appends it after a space when CONTINUING a value. */
static int store(char *dst, size_t cap, const char *value, int continuing)
{
	size_t used = continuing ? strlen(dst) : 0;
	int n = snprintf(dst + used, cap - used, "%s%s", continuing && used ? " " : "", value);
	return (n < 0 || (size_t)n >= cap - used) ? -1 : 0;
}

static int parse_seconds(const char *v, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || *end || d <= 0 || d > 600)
		return -1;
	*out = d;
	return 0;
}

/* "hint" is level 1, "hint2" and "hint3" the next ones; 0 for any other key. */
static int hint_level(const char *key)
{
	if (!strcmp(key, "hint"))
		return 1;
	if (!strncmp(key, "hint", 4) && key[4] >= '2' && key[4] < '1' + LABCONF_HINT_LEVELS &&
	    !key[5])
		return key[4] - '0';
	return 0;
}

/* A lab-level key (they come before the first test): 0, -1 for a bad value, -2 if unknown. */
static int lab_key(lab_conf *conf, const char *key, const char *value, int continuing)
{
	if (!strcmp(key, "title"))
		return store(conf->title, sizeof conf->title, value, continuing);
	if (!strcmp(key, "files"))
		return store(conf->files, sizeof conf->files, value, continuing);
	if (!strcmp(key, "ldlibs"))
		return store(conf->ldlibs, sizeof conf->ldlibs, value, continuing);
	if (!strcmp(key, "timeout"))
		return parse_seconds(value, &conf->timeout);
	if (!strcmp(key, "equivalent")) /* "<mutant-id> <reason>", read by common/mutants.py */
		return *value ? 0 : -1;
	return -2;
}

/* A key of test T: 0, -1 for a bad value, -2 if unknown. */
static int test_key(lab_test *t, const char *key, const char *value, int continuing)
{
	if (!strcmp(key, "title"))
		return store(t->title, sizeof t->title, value, continuing);
	if (hint_level(key) > 0) {
		int lv = hint_level(key) - 1;
		if (lv + 1 > t->nhints)
			t->nhints = lv + 1;
		return store(t->hints[lv], sizeof t->hints[lv], value, continuing);
	}
	if (!strcmp(key, "points")) {
		char *end;
		long p = strtol(value, &end, 10);
		t->points = (int)p;
		return (*end || p < 1 || p > 100) ? -1 : 0;
	}
	if (!strcmp(key, "timeout"))
		return parse_seconds(value, &t->timeout);
	if (!strcmp(key, "skip-under"))
		return strchr(value, ' ')
			   ? store(t->skip_under, sizeof t->skip_under, value, continuing)
			   : -1;
	return -2;
}

/* One line of lab.conf. KEY carries the last key over to continuation lines; *T is the test
   being read. 0, or -1 with the reason in ERR. */
static int parse_line(lab_conf *conf, char *line, char *key, size_t keylen, lab_test **t,
		      const char *where, char *err, size_t errlen)
{
	int continuing = line[0] == ' ' || line[0] == '\t';
	char *s = trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	char *value = s;
	if (!continuing) {
		char *colon = strchr(s, ':');
		if (!colon) {
			snprintf(err, errlen, "%s: expected 'key: value'", where);
			return -1;
		}
		*colon = '\0';
		snprintf(key, keylen, "%s", trim(s));
		value = trim(colon + 1);
	} else if (!*key) {
		snprintf(err, errlen, "%s: continuation line before any key", where);
		return -1;
	}
	if (!strcmp(key, "test")) {
		if (continuing || conf->ntests == LABCONF_MAX_TESTS || !*value ||
		    strlen(value) >= sizeof(*t)->name || labconf_find(conf, value)) {
			snprintf(err, errlen, "%s: bad or duplicate test name '%s'", where, value);
			return -1;
		}
		*t = &conf->tests[conf->ntests++];
		snprintf((*t)->name, sizeof(*t)->name, "%s", value);
		return 0;
	}
	int bad = *t ? test_key(*t, key, value, continuing) : lab_key(conf, key, value, continuing);
	if (bad)
		snprintf(err, errlen, "%s: %s '%s'", where,
			 bad == -2 ? "unknown key" : "bad value for", key);
	return bad ? -1 : 0;
}

/* What every lab and test must have; a test without its own timeout takes the lab's. */
static int check_complete(lab_conf *conf, const char *path, char *err, size_t errlen)
{
	if (!*conf->title || !*conf->files || conf->ntests == 0) {
		snprintf(err, errlen, "%s: needs a title, files and at least one test", path);
		return -1;
	}
	for (int i = 0; i < conf->ntests; i++) {
		lab_test *t = &conf->tests[i];
		if (!t->points || !*t->title || !*t->hints[0]) {
			snprintf(err, errlen, "%s: test '%s' needs points, a title and a hint",
				 path, t->name);
			return -1;
		}
		if (t->timeout == 0)
			t->timeout = conf->timeout;
	}
	return 0;
}

int labconf_load(const char *path, lab_conf *conf, char *err, size_t errlen)
{
	memset(conf, 0, sizeof *conf);
	conf->timeout = 3;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[2048], key[64] = "", where[4200];
	int lineno = 0, rc = 0;
	lab_test *t = NULL;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		snprintf(where, sizeof where, "%s:%d", path, ++lineno);
		rc = parse_line(conf, line, key, sizeof key, &t, where, err, errlen);
	}
	fclose(f);
	return rc == 0 ? check_complete(conf, path, err, errlen) : rc;
}

int labconf_lint(const lab_conf *conf, const char *path, char *err, size_t errlen)
{
	for (int i = 0; i < conf->ntests; i++) {
		const lab_test *t = &conf->tests[i];
		int given = 0;
		for (int lv = 0; lv < t->nhints; lv++)
			given += *t->hints[lv] != '\0';
		if (given != t->nhints) {
			snprintf(err, errlen,
				 "%s: test '%s' skips a hint level (hint2: needs hint:, hint3: "
				 "needs hint2:)",
				 path, t->name);
			return -1;
		}
		if (t->nhints < LABCONF_MIN_HINT_LEVELS) {
			snprintf(err, errlen,
				 "%s: test '%s' has %d hint level(s); give at least %d (hint:, "
				 "hint2:, ...: a nudge, the man page section, the near-answer)",
				 path, t->name, t->nhints, LABCONF_MIN_HINT_LEVELS);
			return -1;
		}
	}
	return 0;
}

const lab_test *labconf_find(const lab_conf *conf, const char *name)
{
	for (int i = 0; i < conf->ntests; i++)
		if (!strcmp(conf->tests[i].name, name))
			return &conf->tests[i];
	return NULL;
}

int labconf_max(const lab_conf *conf)
{
	int sum = 0;
	for (int i = 0; i < conf->ntests; i++)
		sum += conf->tests[i].points;
	return sum;
}
