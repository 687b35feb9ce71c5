/* shmlist.c: Lab 03, your code: a region, a list of offsets, and a lock-free log. Read README.md first. */
#define _GNU_SOURCE
#include "shmlist.h"
#include "race.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *region_create(const char *name, size_t size)
{
	/* TODO 1: shm_open the name so that it fails if the object already exists (which flag?),
	 *         give it SIZE bytes (a new object is empty: touching it would raise SIGBUS),
	 *         and mmap it shared, readable and writable.
	 * TODO 2: the mapping keeps the object alive. What about the descriptor? And if a step
	 *         fails after shm_open, what is left behind under NAME? */
	(void)name, (void)size;
	errno = ENOSYS;
	return NULL;
}

void *region_attach(const char *name, size_t *size)
{
	/* TODO 3: open the existing object, learn its size (man 2 fstat), map it, and leave no
	 *         descriptor behind. */
	(void)name, (void)size;
	errno = ENOSYS;
	return NULL;
}

int region_detach(void *base, size_t size)
{
	/* TODO 4: undo the mapping. */
	(void)base, (void)size;
	errno = ENOSYS;
	return -1;
}

int region_destroy(const char *name, void *base, size_t size)
{
	/* TODO 5: undo the mapping AND remove the name. Which of the two frees the memory, and
	 *         when? (man 3 shm_unlink) */
	(void)name, (void)base, (void)size;
	errno = ENOSYS;
	return -1;
}

int list_init(void *base, size_t size)
{
	/* TODO 6: write the header at offset 0: magic, an empty list, and alloc = the first offset
	 *         after the header (a multiple of SHML_ALIGN). Refuse a SIZE too small for it. */
	(void)base, (void)size;
	errno = ENOSYS;
	return -1;
}

int list_push(void *base, size_t size, const char *s)
{
	/* TODO 7: the header was written by another process: check magic, alloc and head before
	 *         believing them.
	 * TODO 8: how many bytes does the node need (do not forget the '\0', and round up)? Does
	 *         it fit in what is left? Write the test so that no sum can overflow.
	 * TODO 9: fill in the node at alloc, link it in front of the old head, advance alloc.
	 *         What goes into next and head: an address, or something that means the same in
	 *         every process? */
	(void)base, (void)size, (void)s;
	errno = ENOSYS;
	return -1;
}

ssize_t list_walk(const void *base, size_t size, void (*cb)(const char *text, void *ctx), void *ctx)
{
	/* TODO 10: check the header, then follow the offsets from head. Before touching a node,
	 *          convince yourself its offset is one a correct list could contain (see the list
	 *          in shmlist.h). A peer can also make the list loop back on itself: how many
	 *          nodes can SIZE bytes hold at most? */
	(void)base, (void)size, (void)cb, (void)ctx;
	errno = ENOSYS;
	return -1;
}

int log_init(void *base, size_t size)
{
	/* TODO 11: why zero the whole region before the first record is reserved? */
	(void)base, (void)size;
	errno = ENOSYS;
	return -1;
}

int log_append(void *base, size_t size, const void *data, uint32_t len)
{
	/* TODO 12: read tail; if the record does not fit, ENOSPC. Call race_window(), then
	 *          publish the new tail so that two writers can never get the same bytes, even if
	 *          another writer moved tail in between (man 3 atomic_compare_exchange_weak, or
	 *          see <stdatomic.h>).
	 * TODO 13: fill in the reserved record. In which order must len, the payload and the
	 *          commit word be written, and with which memory order for the last one? */
	(void)base, (void)size, (void)data, (void)len;
	errno = ENOSYS;
	return -1;
}

ssize_t log_walk(const void *base, size_t size, void (*cb)(const void *data, uint32_t len, void *ctx), void *ctx)
{
	/* TODO 14: read tail (acquire), check it, then go through the records up to it. Stop at
	 *          the first one not committed yet; reject anything a correct log cannot hold. */
	(void)base, (void)size, (void)cb, (void)ctx;
	errno = ENOSYS;
	return -1;
}
