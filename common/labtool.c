/* labtool.c: lab metadata for the shell driver, and the report of a lab that could not be graded. */
#include "labconf.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
	static lab_conf conf;
	char err[512];
	if (argc < 3) {
		fprintf(stderr, "usage: labtool get CONF KEY | tests CONF | check CONF\n"
				"       labtool ungraded CONF LAB STATUS DETAIL_FILE OUTDIR DIR RERUN\n");
		return 2;
	}
	if (labconf_load(argv[2], &conf, err, sizeof err) < 0) {
		fprintf(stderr, "ipclab: %s\n", err);
		return 3;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "check"))
		return 0;
	if (!strcmp(cmd, "get") && argc == 4) {
		const char *k = argv[3];
		if (!strcmp(k, "title"))
			puts(conf.title);
		else if (!strcmp(k, "files"))
			puts(conf.files);
		else if (!strcmp(k, "ldlibs"))
			puts(conf.ldlibs);
		else if (!strcmp(k, "max"))
			printf("%d\n", labconf_max(&conf));
		else if (!strcmp(k, "timeout"))
			printf("%g\n", conf.timeout);
		else
			return 2;
		return 0;
	}
	if (!strcmp(cmd, "tests")) {
		for (int i = 0; i < conf.ntests; i++)
			printf("%s\t%d\t%s\n", conf.tests[i].name, conf.tests[i].points, conf.tests[i].title);
		return 0;
	}
	if (!strcmp(cmd, "ungraded") && argc == 9) {
		lab_result r = {argv[3], &conf, argv[7], argv[4], slurp(argv[5]), NULL, argv[8], 0, 0, NULL};
		report_print(stdout, &r);
		return report_save(argv[6], &r) < 0 ? 3 : 0;
	}
	fprintf(stderr, "labtool: bad command\n");
	return 2;
}
