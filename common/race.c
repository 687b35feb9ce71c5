/* race.c: the race_window() hook; see race.h for why it exists. */
#include "race.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile race_mode mode = RACE_OFF;

void race_set(race_mode m)
{
	mode = m;
}

void race_from_env(void)
{
	const char *v = getenv("IPCLAB_RACE");
	if (!v)
		return;
	race_set(!strcmp(v, "yield") ? RACE_YIELD : !strcmp(v, "sleep") ? RACE_SLEEP : RACE_OFF);
}

void race_window(void)
{
	switch (mode) {
	case RACE_OFF:
		break;
	case RACE_YIELD:
		sched_yield();
		break;
	case RACE_SLEEP: {
		struct timespec ts = {0, 50 * 1000};
		nanosleep(&ts, NULL);
		break;
	}
	}
}
