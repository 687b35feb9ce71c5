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

int labconf_load(const char *path, lab_conf *conf, char *err, size_t errlen)
{
	memset(conf, 0, sizeof *conf);
	conf->timeout = 3;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[2048], key[64] = "";
	int lineno = 0, rc = 0;
	lab_test *t = NULL;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		int continuing = line[0] == ' ' || line[0] == '\t';
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *value = s;
		if (!continuing) {
			char *colon = strchr(s, ':');
			if (!colon) {
				snprintf(err, errlen, "%s:%d: expected 'key: value'", path, lineno);
				rc = -1;
				break;
			}
			*colon = '\0';
			snprintf(key, sizeof key, "%s", trim(s));
			value = trim(colon + 1);
		} else if (!*key) {
			snprintf(err, errlen, "%s:%d: continuation line before any key", path, lineno);
			rc = -1;
			break;
		}
		int bad = 0;
		if (!strcmp(key, "test")) {
			if (continuing || conf->ntests == LABCONF_MAX_TESTS || !*value ||
			    strlen(value) >= sizeof t->name || labconf_find(conf, value)) {
				snprintf(err, errlen, "%s:%d: bad or duplicate test name '%s'", path, lineno, value);
				rc = -1;
				break;
			}
			t = &conf->tests[conf->ntests++];
			snprintf(t->name, sizeof t->name, "%s", value);
		} else if (!t) { /* lab-level keys come before the first test */
			if (!strcmp(key, "title"))
				bad = store(conf->title, sizeof conf->title, value, continuing);
			else if (!strcmp(key, "files"))
				bad = store(conf->files, sizeof conf->files, value, continuing);
			else if (!strcmp(key, "ldlibs"))
				bad = store(conf->ldlibs, sizeof conf->ldlibs, value, continuing);
			else if (!strcmp(key, "timeout"))
				bad = parse_seconds(value, &conf->timeout);
			else if (!strcmp(key, "equivalent")) /* "<mutant-id> <reason>" */
				bad = *value ? 0 : -1;        /* read by common/mutants.py */
			else
				bad = -2;
		} else {
			if (!strcmp(key, "title"))
				bad = store(t->title, sizeof t->title, value, continuing);
			else if (hint_level(key) > 0) {
				int lv = hint_level(key) - 1;
				bad = store(t->hints[lv], sizeof t->hints[lv], value, continuing);
				if (lv + 1 > t->nhints)
					t->nhints = lv + 1;
			} else if (!strcmp(key, "points")) {
				char *end;
				long p = strtol(value, &end, 10);
				bad = (*end || p < 1 || p > 100) ? -1 : 0;
				t->points = (int)p;
			} else if (!strcmp(key, "timeout"))
				bad = parse_seconds(value, &t->timeout);
			else if (!strcmp(key, "skip-under"))
				bad = strchr(value, ' ') ? store(t->skip_under, sizeof t->skip_under, value, continuing) : -1;
			else
				bad = -2;
		}
		if (bad) {
			snprintf(err, errlen, "%s:%d: %s '%s'", path, lineno,
				 bad == -2 ? "unknown key" : "bad value for", key);
			rc = -1;
			break;
		}
	}
	fclose(f);
	if (rc == 0 && (!*conf->title || !*conf->files || conf->ntests == 0)) {
		snprintf(err, errlen, "%s: needs a title, files and at least one test", path);
		rc = -1;
	}
	for (int i = 0; rc == 0 && i < conf->ntests; i++) {
		t = &conf->tests[i];
		if (!t->points || !*t->title || !*t->hints[0]) {
			snprintf(err, errlen, "%s: test '%s' needs points, a title and a hint", path, t->name);
			rc = -1;
		}
		if (t->timeout == 0)
			t->timeout = conf->timeout;
	}
	return rc;
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
