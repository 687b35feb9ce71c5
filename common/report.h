/* report.h: how one lab's results are shown to a person and saved for machines (JSON, TAP, JUnit). */
#ifndef IPCLAB_REPORT_H
#define IPCLAB_REPORT_H

#include <stdio.h>

#include "labconf.h"

typedef struct {
	const lab_test *meta;
	const char *status;  /* "pass", "fail", "error" or "timeout" */
	int points;
	const char *message; /* what went wrong, in terms the student can act on */
	const char *output;  /* what the student's code printed during the test, or NULL */
	double seconds;
} test_result;

typedef struct {
	const char *lab;     /* "01-fork-clone" */
	const lab_conf *conf;
	const char *dir;     /* the folder that was graded, for display */
	const char *status;  /* "graded", "compile-error" or "not-submitted" */
	const char *detail;  /* compiler output, or which files are missing */
	const char *sandbox; /* how the tests were isolated */
	const char *rerun;   /* command that re-runs this lab, e.g. "make check LAB=01" */
	double elapsed;
	int ntests;
	test_result *tests; /* NULL unless graded */
} lab_result;

int report_score(const lab_result *r);

/* The number of hint levels of TEST the student has asked for (see report.c). */
int report_hint_level(const char *lab, const lab_test *test);

/* The human-readable section for one lab. */
void report_print(FILE *out, const lab_result *r);

/* Writes OUTDIR/LAB.{json,tap,xml,sum}; the driver merges them into one report. */
int report_save(const char *outdir, const lab_result *r);

#endif
