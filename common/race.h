/* race.h: a hook that lab code calls between the load and the store of a read-modify-write. */
#ifndef IPCLAB_RACE_H
#define IPCLAB_RACE_H

/*
 * On a quiet 2-core machine an unlocked counter almost never loses an update, so a race
 * "that happens sometimes" teaches nothing. Lab code calls race_window() exactly where another
 * thread could sneak in; the grader and the demo widen that window on demand, which makes a
 * missing lock lose updates every time. In normal builds it does nothing.
 */
typedef enum {
	RACE_OFF,   /* do nothing (the default) */
	RACE_YIELD, /* sched_yield(): hand the CPU to the other side */
	RACE_SLEEP, /* sleep ~50 us: also works across CPUs */
} race_mode;

void race_window(void);
void race_set(race_mode mode);
/* Reads IPCLAB_RACE=off|yield|sleep from the environment (for demos). */
void race_from_env(void);

#endif
