/*
 * ratelimit: token buckets and the bounded per-client table (see
 * ratelimit.h).
 *
 * The table allocates everything once, in rl_table_new(): capacity
 * entries, a power-of-two array of hash chain heads (at least twice the
 * capacity, so chains stay short), and a doubly linked recency list over
 * the entries in use.  Keys are hashed with SipHash-2-4 under a random
 * per-table key from getrandom(2), so a client cannot choose addresses
 * that collide.
 *
 * Recency: rl_table_get() and rl_table_release() move an entry to the
 * recent end.  When the table is full, eviction walks from the least
 * recent end: an entry with active == 0 is taken; an active entry is moved
 * to the recent end (it is in use now) and the walk goes on, for at most
 * one pass over the table.  The walk costs one step per active entry
 * passed: O(1) amortised while some entries are idle (each active entry is
 * passed once per cycle of the list), O(capacity) when every entry is
 * active, which the caller bounds by keeping its global connection cap
 * below the capacity.  Lookups are O(1) expected.
 *
 * Entries never move in memory, so a pointer stays valid until the entry
 * is evicted, and an entry with active > 0 is never evicted.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ratelimit.h"

#define RL_NIL		UINT32_MAX	/* no entry */
#define RL_CAP_MAX	(1U << 24)	/* largest capacity accepted */
#define RL_RETRY_MAX	86400000.0	/* retry_ms is capped at a day */
#define RL_EPSILON	1e-6		/* tokens: slack for float noise */

struct rl_table {
	struct rl_entry	*entries;
	uint32_t	*heads;		/* hash chain heads */
	uint32_t	*prev;		/* recency list, parallel to entries */
	uint32_t	*next;
	uint32_t	 capacity;
	uint32_t	 count;		/* entries in use: 0..count-1 */
	uint32_t	 mask;		/* number of heads - 1 */
	uint32_t	 oldest;	/* least recently used */
	uint32_t	 newest;
	uint64_t	 k0, k1;	/* SipHash key */
};


/* A full bucket at now_ms. */
void
bucket_init(struct bucket *b, double burst, uint64_t now_ms)
{
	b->tokens = burst;
	b->last_ms = now_ms;
}


/*
 * Refill b at rate tokens a second for the time since b->last_ms, up to
 * burst (a burst below 1 counts as 1), then take one token.  Returns true
 * if taken.  Otherwise false, and *retry_ms (if not NULL) is the wait in
 * whole milliseconds, rounded up, until a token is due (at least 1, at
 * most a day).  A rate that is not above 0 means unlimited: always true.
 * A clock that went backwards refills nothing.
 */
bool
bucket_take(struct bucket *b, double rate, double burst, uint64_t now_ms,
    uint64_t *retry_ms)
{
	double		wait_ms;
	uint64_t	whole;

	if (!(rate > 0))
		return true;
	if (!(burst >= 1))
		burst = 1;
	if (now_ms > b->last_ms)
		b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;

	if (b->tokens >= 1 - RL_EPSILON) {
		b->tokens -= 1;
		if (b->tokens < 0)
			b->tokens = 0;
		return true;
	}
	if (retry_ms != NULL) {
		/* short of the same slack that take allows */
		wait_ms = (1 - RL_EPSILON - b->tokens) * 1000.0 / rate;
		if (!(wait_ms <= RL_RETRY_MAX))
			wait_ms = RL_RETRY_MAX;
		whole = (uint64_t)wait_ms;	/* round up, no libm */
		if ((double)whole < wait_ms || whole == 0)
			whole++;
		*retry_ms = whole;
	}
	return false;
}


/*
 * Would bucket_take(b, rate, burst, now_ms) take a token?  The same
 * refill arithmetic, on a copy.
 */
bool
bucket_ready(const struct bucket *b, double rate, double burst,
    uint64_t now_ms)
{
	struct bucket	copy = *b;

	return bucket_take(&copy, rate, burst, now_ms, NULL);
}


#define RL_ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipHash round over v[0..3]. */
static void
rl_sipround(uint64_t *v)
{
	v[0] += v[1];
	v[1] = RL_ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = RL_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = RL_ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = RL_ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = RL_ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = RL_ROTL(v[2], 32);
}


/* The little-endian 64-bit value at p. */
static uint64_t
rl_le64(const uint8_t *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}


/* SipHash-2-4 of the 16 bytes of key under the table's key. */
static uint64_t
rl_hash(const struct rl_table *t, const struct in6_addr *key)
{
	uint64_t	v[4], m[3];
	int		i, r;

	v[0] = t->k0 ^ 0x736f6d6570736575ULL;
	v[1] = t->k1 ^ 0x646f72616e646f6dULL;
	v[2] = t->k0 ^ 0x6c7967656e657261ULL;
	v[3] = t->k1 ^ 0x7465646279746573ULL;
	m[0] = rl_le64(key->s6_addr);
	m[1] = rl_le64(key->s6_addr + 8);
	m[2] = (uint64_t)16 << 56;	/* final block: length only */
	for (i = 0; i < 3; i++) {
		v[3] ^= m[i];
		for (r = 0; r < 2; r++)
			rl_sipround(v);
		v[0] ^= m[i];
	}
	v[2] ^= 0xff;
	for (r = 0; r < 4; r++)
		rl_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}


/* 16 random bytes into k0 and k1.  Returns 0 or -1. */
static int
rl_seed(struct rl_table *t)
{
	uint8_t	buf[16];
	ssize_t	n;
	size_t	got = 0;

	while (got < sizeof(buf)) {
		n = getrandom(buf + got, sizeof(buf) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	t->k0 = rl_le64(buf);
	t->k1 = rl_le64(buf + 8);
	return 0;
}


/*
 * A table for at most capacity entries (1 to 2^24), all memory allocated
 * here.  NULL on a capacity out of range, allocation failure, or no
 * random seed.  Free with rl_table_free().
 */
struct rl_table *
rl_table_new(size_t capacity)
{
	struct rl_table	*t;
	uint32_t	 nheads = 1, i;

	if (capacity == 0 || capacity > RL_CAP_MAX)
		return NULL;
	while (nheads < 2 * capacity)
		nheads <<= 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->entries = calloc(capacity, sizeof(*t->entries));
	t->heads = calloc(nheads, sizeof(*t->heads));
	t->prev = calloc(capacity, sizeof(*t->prev));
	t->next = calloc(capacity, sizeof(*t->next));
	if (t->entries == NULL || t->heads == NULL || t->prev == NULL ||
	    t->next == NULL || rl_seed(t) != 0)
		goto fail;
	for (i = 0; i < nheads; i++)
		t->heads[i] = RL_NIL;
	t->capacity = (uint32_t)capacity;
	t->mask = nheads - 1;
	t->oldest = t->newest = RL_NIL;
	return t;

fail:
	rl_table_free(t);
	return NULL;
}


/* Free t and every entry; pointers into it become invalid.  NULL is ok. */
void
rl_table_free(struct rl_table *t)
{
	if (t == NULL)
		return;
	free(t->next);
	free(t->prev);
	free(t->heads);
	free(t->entries);
	free(t);
}


/* Take entry i out of the recency list. */
static void
rl_lru_unlink(struct rl_table *t, uint32_t i)
{
	if (t->prev[i] != RL_NIL)
		t->next[t->prev[i]] = t->next[i];
	else
		t->oldest = t->next[i];
	if (t->next[i] != RL_NIL)
		t->prev[t->next[i]] = t->prev[i];
	else
		t->newest = t->prev[i];
}


/* Put entry i (not in the list) at the recent end. */
static void
rl_lru_append(struct rl_table *t, uint32_t i)
{
	t->prev[i] = t->newest;
	t->next[i] = RL_NIL;
	if (t->newest != RL_NIL)
		t->next[t->newest] = i;
	else
		t->oldest = i;
	t->newest = i;
}


/* Move entry i to the recent end. */
static void
rl_lru_touch(struct rl_table *t, uint32_t i)
{
	if (t->newest == i)
		return;
	rl_lru_unlink(t, i);
	rl_lru_append(t, i);
}


/* The index of key's entry, or RL_NIL. */
static uint32_t
rl_lookup(const struct rl_table *t, const struct in6_addr *key)
{
	uint32_t	i;

	i = t->heads[rl_hash(t, key) & t->mask];
	while (i != RL_NIL) {
		if (memcmp(&t->entries[i].key, key, sizeof(*key)) == 0)
			return i;
		i = t->entries[i].next;
	}
	return RL_NIL;
}


/* Take entry i out of its hash chain. */
static void
rl_chain_unlink(struct rl_table *t, uint32_t i)
{
	uint32_t	*link;

	link = &t->heads[rl_hash(t, &t->entries[i].key) & t->mask];
	while (*link != i)
		link = &t->entries[*link].next;
	*link = t->entries[i].next;
}


/*
 * An idle entry to reuse, taken out of its chain and the recency list, or
 * RL_NIL when every entry is active.  See the file comment for the cost.
 */
static uint32_t
rl_evict(struct rl_table *t)
{
	uint32_t	i, steps;

	for (steps = 0; steps < t->count; steps++) {
		i = t->oldest;
		if (t->entries[i].active == 0) {
			rl_lru_unlink(t, i);
			rl_chain_unlink(t, i);
			return i;
		}
		rl_lru_touch(t, i);
	}
	return RL_NIL;
}


/*
 * The entry for key, created if absent with both buckets full at burst,
 * last_ms set to now_ms and every counter zero; reusing the least
 * recently used idle entry when the table is full.  Found or created,
 * the entry becomes the most recently used and its last_ms is now_ms.
 * NULL when the table is full and every entry is active.  The pointer
 * stays valid while the entry's active count is above zero.
 */
struct rl_entry *
rl_table_get(struct rl_table *t, const struct in6_addr *key, double burst,
    uint64_t now_ms)
{
	struct rl_entry	*e;
	uint32_t	 i, h;

	if ((i = rl_lookup(t, key)) != RL_NIL) {
		rl_lru_touch(t, i);
		t->entries[i].last_ms = now_ms;
		return &t->entries[i];
	}
	if (t->count < t->capacity)
		i = t->count++;
	else if ((i = rl_evict(t)) == RL_NIL)
		return NULL;

	e = &t->entries[i];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	bucket_init(&e->conn_bucket, burst, now_ms);
	bucket_init(&e->fail_bucket, burst, now_ms);
	e->last_ms = now_ms;
	e->used = 1;
	h = (uint32_t)(rl_hash(t, key) & t->mask);
	e->next = t->heads[h];
	t->heads[h] = i;
	rl_lru_append(t, i);
	return e;
}


/* The entry for key, or NULL; never creates and changes no recency. */
struct rl_entry *
rl_table_find(struct rl_table *t, const struct in6_addr *key)
{
	uint32_t	i;

	i = rl_lookup(t, key);
	return i == RL_NIL ? NULL : &t->entries[i];
}


/*
 * One connection of e closed at now_ms: active is decremented (not below
 * zero), last_ms set and e made the most recently used, so idle entries
 * are evicted in the order they went idle.  e must come from t.
 */
void
rl_table_release(struct rl_table *t, struct rl_entry *e, uint64_t now_ms)
{
	if (e->active > 0)
		e->active--;
	e->last_ms = now_ms;
	rl_lru_touch(t, (uint32_t)(e - t->entries));
}


/* The number of entries in use (at most the capacity). */
size_t
rl_table_count(const struct rl_table *t)
{
	return t->count;
}


/*
 * Clear every bit of a after the first bits bits; bits >= 128 leaves a
 * unchanged, 0 clears it all.
 */
void
rl_mask(struct in6_addr *a, unsigned bits)
{
	unsigned	i;

	for (i = 0; i < 16; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		a->s6_addr[i] &= (uint8_t)(0xff00 >> bits);
		bits = 0;
	}
}


/* The slot of key (addr, reason, status), or NULL. */
static struct rl_agg_entry *
rl_agg_find(struct rl_agg *a, const struct in6_addr *addr, int reason,
    int status)
{
	size_t	 i;

	for (i = 0; i < RL_AGG_SLOTS; i++) {
		struct rl_agg_entry *e = &a->slot[i];

		if (e->used && e->reason == reason && e->status == status &&
		    memcmp(&e->addr, addr, sizeof(*addr)) == 0)
			return e;
	}
	return NULL;
}


/* A free slot, or one with nothing counted (oldest interval); or NULL. */
static struct rl_agg_entry *
rl_agg_free_slot(struct rl_agg *a)
{
	struct rl_agg_entry	*best = NULL;
	size_t			 i;

	for (i = 0; i < RL_AGG_SLOTS; i++) {
		struct rl_agg_entry *e = &a->slot[i];

		if (!e->used)
			return e;
		if (e->count == 0 && (best == NULL ||
		    e->window_start_ms < best->window_start_ms))
			best = e;
	}
	return best;
}


/*
 * One denial (see ratelimit.h).  An entry whose interval has ended but
 * was not yet flushed still counts the denial: rl_agg_due() writes it.
 * The table is scanned linearly: RL_AGG_SLOTS is small and the scan
 * runs only on a denial.
 */
bool
rl_agg_note(struct rl_agg *a, const struct in6_addr *addr, int reason,
    int status, uint16_t port, const void *tag, int64_t unix_ms,
    uint64_t interval_ms, uint64_t now_ms)
{
	struct rl_agg_entry	*e;

	if (interval_ms == 0)
		return true;
	if ((e = rl_agg_find(a, addr, reason, status)) != NULL) {
		if (e->count++ == 0)
			e->first_unix_ms = unix_ms;
		e->port = port;
		e->tag = tag;
		return false;
	}
	if ((e = rl_agg_free_slot(a)) == NULL)
		return true;
	memset(e, 0, sizeof(*e));
	e->addr = *addr;
	e->reason = reason;
	e->status = status;
	e->window_start_ms = now_ms;
	e->used = 1;
	return true;
}


/* See ratelimit.h. */
struct rl_agg_entry *
rl_agg_due(struct rl_agg *a, uint64_t interval_ms, uint64_t now_ms, bool all)
{
	size_t	 i;

	for (i = 0; i < RL_AGG_SLOTS; i++) {
		struct rl_agg_entry *e = &a->slot[i];
		bool ended = now_ms >= e->window_start_ms + interval_ms;

		if (!e->used || !(ended || all))
			continue;
		if (e->count > 0)
			return e;
		if (ended)
			e->used = 0;
	}
	return NULL;
}


/* e's count was written at now_ms: a new interval starts, empty. */
void
rl_agg_written(struct rl_agg_entry *e, uint64_t now_ms)
{
	e->count = 0;
	e->window_start_ms = now_ms;
}


/* Is any slot in use? */
bool
rl_agg_busy(const struct rl_agg *a)
{
	size_t	 i;

	for (i = 0; i < RL_AGG_SLOTS; i++)
		if (a->slot[i].used)
			return true;
	return false;
}
