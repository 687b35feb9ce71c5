/* report.h: how one lab's results are shown to a person and saved for machines (JSON, TAP, JUnit). */
#ifndef IPCLAB_REPORT_H
#define IPCLAB_REPORT_H

#include <stdio.h>

#include "labconf.h"

/* How a test ended, and how a lab went; every report spells them as the *_status_name()s do. */
typedef enum { TEST_PASS, TEST_FAIL, TEST_ERROR, TEST_TIMEOUT, TEST_SKIPPED } test_status;
/* A lab is graded, or says why not: it did not compile, was not handed in, was refused by
   Gradescope's pre-check, or its own grader failed (the instructor's side). */
typedef enum {
	LAB_GRADED,
	LAB_COMPILE_ERROR,
	LAB_NOT_SUBMITTED,
	LAB_REJECTED,
	LAB_GRADER_ERROR
} lab_status;

const char *test_status_name(test_status s); /* "pass", "fail", "error", "timeout", "skipped" */
const char *lab_status_name(lab_status s);   /* "graded", "compile-error", "not-submitted", ... */
int lab_status_parse(const char *name);	     /* the lab_status, or -1 */

typedef struct {
	const lab_test *meta;
	test_status status;
	int points;
	const char *message; /* what went wrong, in terms the student can act on */
	const char *output;  /* what the student's code printed during the test, or NULL */
	double seconds;
} test_result;

typedef struct {
	const char *lab;     /* "01-fork-clone" */
	const lab_conf *conf;
	const char *dir;     /* the folder that was graded, for display */
	lab_status status;
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

/* Writes OUTDIR/LAB.{json,tap,xml,sum}: one lab's part of each report. */
int report_save(const char *outdir, const lab_result *r);

/* Joins the parts of LABS in OUTDIR into JSON_PATH and the .tap, .xml and .sum beside it, and
   prints the summary table. 0, or -1 when a part is missing or a file cannot be written. */
int report_merge(const char *outdir, int nlabs, char *const labs[], const char *json_path);

#endif
