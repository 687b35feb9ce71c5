/* shmlist.c: Lab 03 reference solution: offsets instead of pointers, checked bounds, a lock-free log. */
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

/* ---- The region ----------------------------------------------------------------------------- */

void *region_create(const char *name, size_t size)
{
	/* O_EXCL: a stale object with this name (left by a crash) is an error, not silently reused. */
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return NULL;
	void *base = MAP_FAILED;
	if (ftruncate(fd, (off_t)size) == 0) /* a new object has size 0: touching it would SIGBUS */
		base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int saved = errno;
	close(fd); /* the mapping keeps the object alive; the descriptor is no longer needed */
	if (base == MAP_FAILED) {
		shm_unlink(name);
		errno = saved;
		return NULL;
	}
	return base;
}

void *region_attach(const char *name, size_t *size)
{
	int fd = shm_open(name, O_RDWR, 0);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *base = MAP_FAILED;
	if (fstat(fd, &st) == 0) {
		if (st.st_size > 0)
			base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		else
			errno = EINVAL; /* nobody has sized it yet */
	}
	int saved = errno;
	close(fd);
	if (base == MAP_FAILED) {
		errno = saved;
		return NULL;
	}
	*size = (size_t)st.st_size;
	return base;
}

int region_detach(void *base, size_t size)
{
	return munmap(base, size);
}

int region_destroy(const char *name, void *base, size_t size)
{
	/* Both steps, even if the first fails: the name must not outlive its owner. */
	int a = munmap(base, size);
	int saved = errno;
	int b = shm_unlink(name);
	if (a < 0)
		errno = saved;
	return a < 0 || b < 0 ? -1 : 0;
}

/* ---- The list ------------------------------------------------------------------------------- */

static size_t round_up(size_t n, size_t align)
{
	return (n + align - 1) / align * align;
}

static const size_t list_start = (sizeof(struct shml_header) + SHML_ALIGN - 1) / SHML_ALIGN * SHML_ALIGN;

int list_init(void *base, size_t size)
{
	if (size < list_start) {
		errno = EINVAL;
		return -1;
	}
	struct shml_header *h = base;
	h->alloc = list_start;
	h->head = 0;
	h->unused = 0;
	h->magic = SHML_MAGIC;
	return 0;
}

/* Is OFF a place where a node of at least its fixed part could start, inside LIMIT bytes? */
static int node_offset_ok(uint64_t off, size_t limit)
{
	/* Written as "off <= limit - part" so that a huge OFF cannot overflow the sum. */
	size_t part = offsetof(struct shml_node, text) + 1;
	return off % SHML_ALIGN == 0 && off >= list_start && limit >= part && off <= limit - part;
}

int list_push(void *base, size_t size, const char *s)
{
	struct shml_header *h = base;
	/* alloc and head were written by someone else: check them before trusting them. */
	if (size < list_start || h->magic != SHML_MAGIC || h->alloc < list_start || h->alloc > size ||
	    h->alloc % SHML_ALIGN || (h->head != 0 && !node_offset_ok(h->head, size))) {
		errno = EINVAL;
		return -1;
	}
	size_t len = strlen(s);
	/* Header, text AND its '\0'; compare against the space left so nothing can overflow. */
	size_t need = round_up(offsetof(struct shml_node, text) + len + 1, SHML_ALIGN);
	if (len > UINT32_MAX || need < len || need > size - h->alloc) {
		errno = ENOSPC;
		return -1;
	}
	uint64_t off = h->alloc;
	struct shml_node *n = (struct shml_node *)((char *)base + off);
	n->len = (uint32_t)len;
	memcpy(n->text, s, len + 1);
	n->next = h->head; /* an offset: it means the same in every process that maps the region */
	h->alloc = off + need;
	h->head = off; /* last: the node is complete before the list points at it */
	return 0;
}

ssize_t list_walk(const void *base, size_t size, void (*cb)(const char *text, void *ctx), void *ctx)
{
	const struct shml_header *h = base;
	if (size < list_start || h->magic != SHML_MAGIC || h->alloc > size) {
		errno = EINVAL;
		return -1;
	}
	/* Every node takes at least this much, so a longer chain must revisit a node: a cycle. */
	size_t min_node = round_up(offsetof(struct shml_node, text) + 1, SHML_ALIGN);
	size_t max_nodes = (size - list_start) / min_node;
	ssize_t count = 0;
	for (uint64_t off = h->head; off != 0;) {
		if (!node_offset_ok(off, size) || (size_t)count >= max_nodes) {
			errno = EINVAL;
			return -1;
		}
		const struct shml_node *n = (const void *)((const char *)base + off);
		size_t text_at = off + offsetof(struct shml_node, text);
		/* len comes from the region too: the text and its '\0' must end inside it. */
		if (n->len >= size - text_at || n->text[n->len] != '\0') {
			errno = EINVAL;
			return -1;
		}
		if (cb)
			cb(n->text, ctx);
		count++;
		off = n->next;
	}
	return count;
}

/* ---- The log -------------------------------------------------------------------------------- */

static const size_t log_start = (sizeof(struct shlog_header) + SHLOG_ALIGN - 1) / SHLOG_ALIGN * SHLOG_ALIGN;

int log_init(void *base, size_t size)
{
	if (size < log_start || size > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* Zero everything: a record that is reserved but not yet written must read as commit == 0. */
	memset(base, 0, size);
	struct shlog_header *h = base;
	h->magic = SHLOG_MAGIC;
	atomic_store_explicit((_Atomic uint32_t *)&h->tail, (uint32_t)log_start, memory_order_release);
	return 0;
}

int log_append(void *base, size_t size, const void *data, uint32_t len)
{
	struct shlog_header *h = base;
	_Atomic uint32_t *tail = (_Atomic uint32_t *)&h->tail;
	if (size < log_start || size > UINT32_MAX || h->magic != SHLOG_MAGIC) {
		errno = EINVAL;
		return -1;
	}
	size_t need = round_up(sizeof(struct shlog_record) + (size_t)len, SHLOG_ALIGN);
	uint32_t off = atomic_load_explicit(tail, memory_order_relaxed);
	for (;;) {
		if (off < log_start || off > size || off % SHLOG_ALIGN) {
			errno = EINVAL;
			return -1;
		}
		if (need > size - off) {
			errno = ENOSPC;
			return -1;
		}
		race_window(); /* another writer may reserve right here: the CAS below notices */
		/* Publish off + need only if tail is still off; otherwise OFF is reloaded and we retry.
		   (fsatrace uses fetch-add; compare-and-swap also keeps tail from passing the end.) */
		if (atomic_compare_exchange_weak_explicit(tail, &off, (uint32_t)(off + need),
							  memory_order_relaxed, memory_order_relaxed))
			break;
	}
	/* [off, off + need) is ours alone now: fill it in, then commit. */
	struct shlog_record *r = (struct shlog_record *)((char *)base + off);
	r->len = len;
	memcpy(r->data, data, len);
	/* Release: whoever sees SHLOG_DONE (with acquire) also sees len and the payload. */
	atomic_store_explicit((_Atomic uint32_t *)&r->commit, SHLOG_DONE, memory_order_release);
	return 0;
}

ssize_t log_walk(const void *base, size_t size, void (*cb)(const void *data, uint32_t len, void *ctx), void *ctx)
{
	const struct shlog_header *h = base;
	if (size < log_start || h->magic != SHLOG_MAGIC) {
		errno = EINVAL;
		return -1;
	}
	uint32_t end = atomic_load_explicit((_Atomic uint32_t *)&h->tail, memory_order_acquire);
	if (end < log_start || end > size || end % SHLOG_ALIGN) {
		errno = EINVAL;
		return -1;
	}
	ssize_t count = 0;
	size_t off = log_start;
	while (off < end) {
		const struct shlog_record *r = (const void *)((const char *)base + off);
		if (end - off < sizeof *r) {
			errno = EINVAL;
			return -1;
		}
		uint32_t commit = atomic_load_explicit((_Atomic uint32_t *)&r->commit, memory_order_acquire);
		if (commit == 0)
			break; /* still being written: what follows is not ours to show yet */
		if (commit != SHLOG_DONE || r->len > end - off - sizeof *r) {
			errno = EINVAL;
			return -1;
		}
		if (cb)
			cb(r->data, r->len, ctx);
		count++;
		off += round_up(sizeof *r + r->len, SHLOG_ALIGN);
	}
	return count;
}
