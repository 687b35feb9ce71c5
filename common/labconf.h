/* labconf.h: one lab's metadata (tests/NN-slug/lab.conf), the single source of titles, files, points and hints. */
#ifndef IPCLAB_LABCONF_H
#define IPCLAB_LABCONF_H

#include <stddef.h>

enum { LABCONF_MAX_TESTS = 64, LABCONF_HINT_LEVELS = 3, LABCONF_MIN_HINT_LEVELS = 2 };

typedef struct {
	char name[64];
	char title[200];
	/* Hints by level, from a nudge to the man page section to the near-answer: hints[0] is
	   `hint:` (a lab.conf with only that key still loads), hints[1] `hint2:`, hints[2]
	   `hint3:`. */
	char hints[LABCONF_HINT_LEVELS][1200];
	int nhints; /* how many levels are set */
	int points;
	double timeout; /* seconds; 0 means the lab's default */
	/* "thread,address <reason>": sanitizers under which this test means nothing (it is then
	   not graded, and its points leave the maximum), and why. */
	char skip_under[300];
} lab_test;

typedef struct {
	char title[200];
	char files[400];  /* the student's .c files, space separated */
	char ldlibs[200]; /* extra link flags the lab needs */
	double timeout;   /* default per-test timeout in seconds */
	int ntests;
	lab_test tests[LABCONF_MAX_TESTS];
} lab_conf;

/* Parses PATH. On error returns -1 and writes a one-line reason into ERR. */
int labconf_load(const char *path, lab_conf *conf, char *err, size_t errlen);

/* Stricter than labconf_load, for the self-test and authors: every test has at least
   LABCONF_MIN_HINT_LEVELS hint levels, with no gap. Returns -1 with the first problem in ERR. */
int labconf_lint(const lab_conf *conf, const char *path, char *err, size_t errlen);

/* The test called NAME, or NULL. */
const lab_test *labconf_find(const lab_conf *conf, const char *name);

/* The lab's maximum score. */
int labconf_max(const lab_conf *conf);

#endif
