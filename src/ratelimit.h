/*
 * ratelimit: token buckets and the bounded per-client table (pure).
 *
 * Time comes in as an argument (milliseconds, monotonic), so tests run
 * on an injected clock.  The table has a fixed capacity chosen at
 * creation; it never grows.  When full, the entry idle longest that has
 * no open connection is reused; if every entry is active the lookup
 * fails and the caller refuses the connection.
 */
#ifndef EGRESSD_RATELIMIT_H
#define EGRESSD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

struct bucket {
	double		tokens;
	uint64_t	last_ms;
};

/* A full bucket at now_ms. */
void		 bucket_init(struct bucket *b, double burst, uint64_t now_ms);
/*
 * Refill at rate tokens per second up to burst, then take one token.
 * Returns true if taken; otherwise false and *retry_ms (if not NULL) is
 * the wait until a token is available.  rate <= 0 means unlimited.
 */
bool		 bucket_take(struct bucket *b, double rate, double burst,
		    uint64_t now_ms, uint64_t *retry_ms);
/* Would bucket_take() succeed at now_ms?  Changes nothing. */
bool		 bucket_ready(const struct bucket *b, double rate,
		    double burst, uint64_t now_ms);

struct rl_entry {
	struct in6_addr	key;		/* client address, masked */
	struct bucket	conn_bucket;	/* new connections */
	struct bucket	fail_bucket;	/* reserved for auth failures */
	uint32_t	active;		/* open connections */
	uint32_t	failures;	/* auth failures in the window */
	uint64_t	window_start_ms;
	uint64_t	locked_until_ms;
	uint64_t	last_ms;	/* last use */
	uint32_t	refused;	/* refusals since the last admission */
	uint32_t	next;		/* internal: hash chain */
	uint8_t		used;
};

struct rl_table;

/* A table for at most capacity entries; NULL on allocation failure. */
struct rl_table	*rl_table_new(size_t capacity);
void		 rl_table_free(struct rl_table *t);
/*
 * The entry for key, created (buckets full at burst) if absent.  NULL
 * when the table is full and no entry is idle.  The pointer stays valid
 * while the entry's active count is above zero.
 */
struct rl_entry	*rl_table_get(struct rl_table *t, const struct in6_addr *key,
		    double burst, uint64_t now_ms);
/* The entry for key, or NULL; never creates. */
struct rl_entry	*rl_table_find(struct rl_table *t,
		    const struct in6_addr *key);
size_t		 rl_table_count(const struct rl_table *t);
/*
 * One connection of e ended at now_ms: active decremented (not below 0),
 * last_ms = now_ms, and e becomes the most recently used, so idle entries
 * are reused in the order they went idle.  Optional: an entry whose
 * active count is lowered by hand is still never evicted while active.
 */
void		 rl_table_release(struct rl_table *t, struct rl_entry *e,
		    uint64_t now_ms);

/*
 * Denial aggregation: a small fixed table keyed by (source address,
 * reason, status).  The first denial of a key gets its own record; later
 * ones within the interval are counted, and the count is written as one
 * record when the interval ends (rl_agg_due).  A key whose interval ends
 * with nothing counted is forgotten.  When every slot holds a count, a
 * new key is not aggregated (its caller writes its own record), so the
 * memory is fixed and no denial goes unrecorded.
 */
#define RL_AGG_SLOTS	64

struct rl_agg_entry {
	struct in6_addr	addr;		/* source, unmasked */
	int		reason;
	int		status;
	uint64_t	window_start_ms;
	int64_t		first_unix_ms;	/* caller's stamp, first counted */
	uint32_t	count;		/* counted, not yet written */
	uint16_t	port;		/* last source port counted */
	const void	*tag;		/* caller's (listener), last counted */
	uint8_t		used;
};

struct rl_agg {
	struct rl_agg_entry	slot[RL_AGG_SLOTS];
};

/*
 * One denial at now_ms.  Returns true if the caller writes its own
 * record (first of its key in the interval, interval_ms 0, or no free
 * slot); false if it was counted in the table.
 */
bool		 rl_agg_note(struct rl_agg *a, const struct in6_addr *addr,
		    int reason, int status, uint16_t port, const void *tag,
		    int64_t unix_ms, uint64_t interval_ms, uint64_t now_ms);
/*
 * An entry with a count to write: one whose interval ended by now_ms,
 * or any with a count when all is true; NULL when none.  The caller
 * writes the record and calls rl_agg_written(), which starts the next
 * interval.  Keys whose interval ended with no count are freed here.
 */
struct rl_agg_entry *rl_agg_due(struct rl_agg *a, uint64_t interval_ms,
		    uint64_t now_ms, bool all);
void		 rl_agg_written(struct rl_agg_entry *e, uint64_t now_ms);
/* Is any slot in use (a flush may be needed later)? */
bool		 rl_agg_busy(const struct rl_agg *a);

/* Mask a to the first bits bits (IPv6 clients grouped by prefix). */
void		 rl_mask(struct in6_addr *a, unsigned bits);

#endif
