/* shmlist.h: Lab 03 API: a linked list and a lock-free log that live inside shared memory. */
#ifndef LAB03_SHMLIST_H
#define LAB03_SHMLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Every process may map a shared region at a DIFFERENT address, so nothing stored inside a
 * region is a pointer. A place in the region is named by its OFFSET from the region's first
 * byte: stored = target - base, and used as base + stored. Offset 0 (where the header sits)
 * never names a node or a record, so 0 means "none".
 *
 * Another process can write anything into the region (a bug, a crash halfway through, or
 * malice), so every offset and length READ from the region is checked before it is used.
 */

/* ---- The region: a named POSIX shared memory object, mapped -------------------------------- */

/*
 * Creates the shared memory object NAME ("/something"), which must not exist yet, gives it SIZE
 * bytes (all zero) and maps it readable and writable, shared. The descriptor is not needed once
 * the mapping exists: no descriptor is left open. Returns the mapping's address, or NULL with
 * errno set (EEXIST if NAME already exists; that object is left as it was). A failure leaves
 * nothing behind: no descriptor, no mapping, and no object called NAME that was not there
 * before.
 */
void *region_create(const char *name, size_t size);

/*
 * Maps the existing object NAME, readable, writable and SHARED (stores reach the object, and
 * every other mapping of it sees them); its size is stored in *SIZE. No descriptor is left open.
 * Returns the mapping's address, or NULL with errno set (ENOENT if there is no such object).
 */
void *region_attach(const char *name, size_t *size);

/* Unmaps a region returned by region_create or region_attach. The object itself stays. */
int region_detach(void *base, size_t size);

/*
 * The owner's cleanup: unmaps the region AND removes the name NAME, so that the object is freed
 * once every process has unmapped it. Returns 0, or -1 with errno set if a step failed (ENOENT:
 * NAME was already gone; the region is unmapped all the same).
 */
int region_destroy(const char *name, void *base, size_t size);

/* ---- A singly linked list of strings inside a region -------------------------------------- */

/* The layout, fixed so that every process (and the grader) agrees on it. */
#define SHML_MAGIC 0x4c4d4853u /* "SHML" */
#define SHML_ALIGN 8           /* nodes start at multiples of 8 */

struct shml_header {      /* at offset 0 of the region */
	uint32_t magic;   /* SHML_MAGIC once list_init has run */
	uint32_t unused;
	uint64_t alloc;   /* offset of the first free byte: the next node goes there */
	uint64_t head;    /* offset of the first node, or 0 for an empty list */
};

struct shml_node {        /* at an offset that is a multiple of SHML_ALIGN */
	uint64_t next;    /* offset of the next node, or 0 at the end of the list */
	uint32_t len;     /* strlen(text) */
	char text[];      /* LEN bytes, then a '\0' */
};
/* A node takes offsetof(struct shml_node, text) + len + 1 bytes, rounded up to SHML_ALIGN. */

/*
 * Formats the region [BASE, BASE+SIZE) as an empty list: a header at offset 0, free space
 * after it, whatever the region held before. BASE is aligned to SHML_ALIGN. Returns 0, or -1
 * with EINVAL if SIZE cannot even hold the header. (A SIZE of exactly the header's size is a
 * valid list with no room for any node.)
 */
int list_init(void *base, size_t size);

/*
 * Copies the string S into a new node in the region and makes it the FIRST node of the list
 * (so a walk sees the most recent push first). Nothing is ever written outside
 * [BASE, BASE+SIZE). Returns 0, or -1 with errno set:
 *   ENOSPC  the node does not fit in the free space (the list is left unchanged; a node that
 *           fills the free space exactly does fit);
 *   EINVAL  the header is not a list's (bad magic, alloc inside the header or beyond SIZE, or
 *           head outside the region): a node written there would overwrite the header.
 * Not safe against concurrent pushes: one writer at a time.
 */
int list_push(void *base, size_t size, const char *s);

/*
 * Calls CB(text, CTX) for every node, first to last, with TEXT pointing at the node's text
 * inside the region (valid as long as the region is mapped). CB may be NULL: then the walk only
 * counts. Only reads the region.
 * Returns the number of nodes visited, or -1 with EINVAL as soon as it meets anything a
 * correct list cannot contain, without ever reading outside [BASE, BASE+SIZE) and without
 * running forever:
 *   - SIZE too small for the header, bad magic, or alloc beyond SIZE;
 *   - an offset (head or next) that is not a multiple of SHML_ALIGN, below the header's end,
 *     or whose node would not end inside the region (watch out for overflow in the sum);
 *   - a text that does not end with '\0' at text[len] inside the region;
 *   - more nodes than could fit in the region: the list loops back on itself.
 * CB may already have been called for the nodes before the bad one.
 */
ssize_t list_walk(const void *base, size_t size, void (*cb)(const char *text, void *ctx), void *ctx);

/* ---- An append-only log that many processes extend at once, without a lock ----------------- */

#define SHLOG_MAGIC 0x474f4c53u /* "SLOG" */
#define SHLOG_ALIGN 8           /* records start at multiples of 8 */
#define SHLOG_DONE 0x454e4f44u  /* "DONE": the commit word of a complete record */

struct shlog_header {      /* at offset 0 of the region */
	uint32_t tail;     /* offset of the first byte not yet reserved; advanced ATOMICALLY */
	uint32_t magic;    /* SHLOG_MAGIC */
};

struct shlog_record {      /* at an offset that is a multiple of SHLOG_ALIGN */
	uint32_t commit;   /* 0 while the record is being written; SHLOG_DONE once complete */
	uint32_t len;      /* payload bytes */
	unsigned char data[]; /* LEN bytes of payload */
};
/* A record takes sizeof(struct shlog_record) + len bytes, rounded up to SHLOG_ALIGN. */

/*
 * Formats [BASE, BASE+SIZE) as an empty log: zeroes the whole region, whatever it held before
 * (so a reserved record reads as "not complete yet"), and sets tail just after the header.
 * Returns 0, or -1 with EINVAL if SIZE is too small for the header or larger than UINT32_MAX;
 * then nothing is written. (A SIZE of exactly the header's size is an empty log with no room
 * for any record.)
 */
int log_init(void *base, size_t size);

/*
 * Appends one record holding LEN bytes copied from DATA. Any number of processes (and
 * threads) may call it at the same time on the same region, without a lock: it reserves the
 * record's bytes by atomically advancing tail, fills them in, and writes the commit word LAST
 * (with release ordering), so no reader ever sees a record half written. No record is lost,
 * none overlaps another. Calls race_window() (race.h) between reading tail and publishing the
 * new tail. Returns 0, or -1 with errno set:
 *   ENOSPC  the record does not fit in the space left (later appends may fail too; a record
 *           that fills the space left exactly does fit);
 *   EINVAL  the header is not a log's (bad magic, tail inside the header or past SIZE).
 */
int log_append(void *base, size_t size, const void *data, uint32_t len);

/*
 * Calls CB(data, len, CTX) (unless CB is NULL) for each complete record, oldest first, and
 * stops at the end of the reserved space or at the first record that is not complete yet (a
 * writer is still filling it in). Only reads the region. Returns the number of records visited, or -1 with
 * EINVAL for anything a correct log cannot contain (SIZE too small for the header, bad magic,
 * tail inside the header or beyond SIZE, a commit word that is neither 0 nor SHLOG_DONE, a
 * record running past tail), never reading outside [BASE, BASE+SIZE).
 */
ssize_t log_walk(const void *base, size_t size,
		 void (*cb)(const void *data, uint32_t len, void *ctx), void *ctx);

#endif
