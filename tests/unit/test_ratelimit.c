/*
 * Unit tests for ratelimit: token bucket arithmetic on an injected clock,
 * and the fixed-capacity table (lookup, creation, eviction of the least
 * recently used idle entry, never an active one, the capacity bound).
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ratelimit.h"
#include "unit.h"


/* A distinct IPv6 key from n. */
static struct in6_addr
tr_key(uint32_t n)
{
	struct in6_addr	a;

	memset(&a, 0, sizeof(a));
	a.s6_addr[0] = 0x20;
	a.s6_addr[1] = 0x01;
	a.s6_addr[12] = (uint8_t)(n >> 24);
	a.s6_addr[13] = (uint8_t)(n >> 16);
	a.s6_addr[14] = (uint8_t)(n >> 8);
	a.s6_addr[15] = (uint8_t)n;
	return a;
}


static void
test_ratelimit_burst_refill(void)
{
	struct bucket	b;
	uint64_t	retry = 0;
	int		i;

	bucket_init(&b, 3, 1000);
	for (i = 0; i < 3; i++)
		CU_ASSERT(bucket_take(&b, 1, 3, 1000, &retry));
	CU_ASSERT(!bucket_take(&b, 1, 3, 1000, &retry));
	CU_ASSERT_EQUAL(retry, 1000);
	CU_ASSERT(!bucket_take(&b, 1, 3, 1500, &retry));
	CU_ASSERT_EQUAL(retry, 500);
	CU_ASSERT(!bucket_take(&b, 1, 3, 1999, &retry));
	CU_ASSERT_EQUAL(retry, 1);
	CU_ASSERT(bucket_take(&b, 1, 3, 2000, &retry));
	CU_ASSERT(!bucket_take(&b, 1, 3, 2000, NULL));

	/* a long pause refills to burst, not beyond */
	CU_ASSERT(bucket_take(&b, 1, 3, 3600000, &retry));
	CU_ASSERT(bucket_take(&b, 1, 3, 3600000, &retry));
	CU_ASSERT(bucket_take(&b, 1, 3, 3600000, &retry));
	CU_ASSERT(!bucket_take(&b, 1, 3, 3600000, &retry));
}


static void
test_ratelimit_retry_rounding(void)
{
	struct bucket	b;
	uint64_t	retry = 0;

	/* rate 3/s: a token every 333.3 ms, so the wait rounds up to 334 */
	bucket_init(&b, 1, 0);
	CU_ASSERT(bucket_take(&b, 3, 1, 0, &retry));
	CU_ASSERT(!bucket_take(&b, 3, 1, 0, &retry));
	CU_ASSERT_EQUAL(retry, 334);
	CU_ASSERT(!bucket_take(&b, 3, 1, 333, &retry));
	CU_ASSERT_EQUAL(retry, 1);
	CU_ASSERT(bucket_take(&b, 3, 1, 334, &retry));

	/* rate 5/s, 200 ms: exactly one token, no rounding loss */
	bucket_init(&b, 1, 0);
	CU_ASSERT(bucket_take(&b, 5, 1, 0, &retry));
	CU_ASSERT(!bucket_take(&b, 5, 1, 100, &retry));
	CU_ASSERT_EQUAL(retry, 100);
	CU_ASSERT(bucket_take(&b, 5, 1, 200, &retry));

	/* tiny rates are capped at a day */
	bucket_init(&b, 1, 0);
	CU_ASSERT(bucket_take(&b, 1e-300, 1, 0, &retry));
	CU_ASSERT(!bucket_take(&b, 1e-300, 1, 0, &retry));
	CU_ASSERT_EQUAL(retry, 86400000);
}


static void
test_ratelimit_retry_is_exact(void)
{
	struct bucket	b, c;
	uint64_t	retry, now = 0, r;
	unsigned	seed = 7;
	double		rate;
	int		i, bad = 0;

	/* a token is due at now + retry, not a millisecond before */
	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245 + 12345;
		rate = 0.01 + (seed >> 8) % 100000 / 97.0;
		bucket_init(&b, 2, now);
		while (bucket_take(&b, rate, 2, now, &retry))
			;
		now += (seed >> 4) % 7;
		if (bucket_take(&b, rate, 2, now, &retry))
			continue;
		r = retry;
		c = b;
		if (!bucket_take(&c, rate, 2, now + r, NULL))
			bad++;
		c = b;
		if (r > 1 && bucket_take(&c, rate, 2, now + r - 1, NULL))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}


static void
test_ratelimit_unlimited_and_clock(void)
{
	struct bucket	b;
	uint64_t	retry = 0;
	int		i, ok = 0;

	bucket_init(&b, 1, 0);
	for (i = 0; i < 1000; i++)
		ok += bucket_take(&b, 0, 1, 0, &retry);
	for (i = 0; i < 1000; i++)
		ok += bucket_take(&b, -1, 1, 0, &retry);
	CU_ASSERT_EQUAL(ok, 2000);

	/* the clock going back refills nothing and breaks nothing */
	bucket_init(&b, 1, 5000);
	CU_ASSERT(bucket_take(&b, 1, 1, 5000, &retry));
	CU_ASSERT(!bucket_take(&b, 1, 1, 100, &retry));
	CU_ASSERT_EQUAL(retry, 1000);
	CU_ASSERT(!bucket_take(&b, 1, 1, 5999, &retry));
	CU_ASSERT(bucket_take(&b, 1, 1, 6000, &retry));

	/* a burst below one still lets one token through */
	bucket_init(&b, 0.5, 0);
	CU_ASSERT(!bucket_take(&b, 1, 0.5, 0, &retry));
	CU_ASSERT_EQUAL(retry, 500);
	CU_ASSERT(bucket_take(&b, 1, 0.5, 500, &retry));
}


static void
test_ratelimit_table_get_find(void)
{
	struct rl_table	*t;
	struct rl_entry	*e, *f;
	struct in6_addr	 a = tr_key(1), b = tr_key(2);

	CU_ASSERT_PTR_NULL(rl_table_new(0));
	t = rl_table_new(4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(rl_table_count(t), 0);
	CU_ASSERT_PTR_NULL(rl_table_find(t, &a));

	e = rl_table_get(t, &a, 20, 100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(memcmp(&e->key, &a, sizeof(a)) == 0);
	CU_ASSERT_DOUBLE_EQUAL(e->conn_bucket.tokens, 20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(e->fail_bucket.tokens, 20, 1e-9);
	CU_ASSERT_EQUAL(e->conn_bucket.last_ms, 100);
	CU_ASSERT_EQUAL(e->active, 0);
	CU_ASSERT_EQUAL(e->last_ms, 100);
	CU_ASSERT_EQUAL(rl_table_count(t), 1);

	e->active = 2;
	f = rl_table_get(t, &a, 20, 200);
	CU_ASSERT_PTR_EQUAL(f, e);
	CU_ASSERT_EQUAL(f->active, 2);
	CU_ASSERT_EQUAL(f->last_ms, 200);
	CU_ASSERT_PTR_EQUAL(rl_table_find(t, &a), e);
	CU_ASSERT_PTR_NULL(rl_table_find(t, &b));
	CU_ASSERT_EQUAL(rl_table_count(t), 1);
	rl_table_free(t);
	rl_table_free(NULL);
}


static void
test_ratelimit_evict_idlest(void)
{
	struct rl_table	*t;
	struct in6_addr	 k[5];
	uint32_t	 i;

	for (i = 0; i < 5; i++)
		k[i] = tr_key(i);
	t = rl_table_new(3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[0], 5, 1));
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[1], 5, 2));
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[2], 5, 3));
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[0], 5, 4)); /* touch */

	/* full: k[1] is the least recently used */
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[3], 5, 5));
	CU_ASSERT_EQUAL(rl_table_count(t), 3);
	CU_ASSERT_PTR_NULL(rl_table_find(t, &k[1]));
	CU_ASSERT_PTR_NOT_NULL(rl_table_find(t, &k[0]));
	CU_ASSERT_PTR_NOT_NULL(rl_table_find(t, &k[2]));
	CU_ASSERT_PTR_NOT_NULL(rl_table_find(t, &k[3]));

	/* find changes no recency: k[2] still goes next */
	CU_ASSERT_PTR_NOT_NULL(rl_table_find(t, &k[2]));
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[4], 5, 6));
	CU_ASSERT_PTR_NULL(rl_table_find(t, &k[2]));
	rl_table_free(t);
}


static void
test_ratelimit_never_evict_active(void)
{
	struct rl_table	*t;
	struct rl_entry	*a, *b, *c;
	struct in6_addr	 k[3];
	uint32_t	 i;

	for (i = 0; i < 3; i++)
		k[i] = tr_key(100 + i);
	t = rl_table_new(2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	a = rl_table_get(t, &k[0], 5, 1);
	b = rl_table_get(t, &k[1], 5, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	a->active = 1;
	b->active = 3;

	/* every entry active: full, nothing to reuse */
	CU_ASSERT_PTR_NULL(rl_table_get(t, &k[2], 5, 3));
	CU_ASSERT_PTR_NULL(rl_table_get(t, &k[2], 5, 4));
	CU_ASSERT_EQUAL(rl_table_count(t), 2);
	CU_ASSERT_PTR_EQUAL(rl_table_find(t, &k[0]), a);
	CU_ASSERT_EQUAL(a->active, 1);

	/* b goes idle through release: now it is the one reused */
	rl_table_release(t, b, 5);
	CU_ASSERT_EQUAL(b->active, 2);
	rl_table_release(t, b, 5);
	rl_table_release(t, b, 6);
	CU_ASSERT_EQUAL(b->active, 0);
	CU_ASSERT_EQUAL(b->last_ms, 6);
	rl_table_release(t, b, 7);
	CU_ASSERT_EQUAL(b->active, 0);
	c = rl_table_get(t, &k[2], 5, 8);
	CU_ASSERT_PTR_EQUAL(c, b);
	CU_ASSERT_EQUAL(c->active, 0);
	CU_ASSERT(memcmp(&c->key, &k[2], sizeof(k[2])) == 0);
	CU_ASSERT_PTR_NULL(rl_table_find(t, &k[1]));
	CU_ASSERT_PTR_EQUAL(rl_table_find(t, &k[0]), a);
	rl_table_free(t);
}


static void
test_ratelimit_release_order(void)
{
	struct rl_table	*t;
	struct rl_entry	*a;
	struct in6_addr	 k[3];
	uint32_t	 i;

	for (i = 0; i < 3; i++)
		k[i] = tr_key(200 + i);
	t = rl_table_new(2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	a = rl_table_get(t, &k[0], 5, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	a->active = 1;
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[1], 5, 2));
	/* k[0] went idle after k[1] was last used: k[1] goes first */
	rl_table_release(t, a, 3);
	CU_ASSERT_PTR_NOT_NULL(rl_table_get(t, &k[2], 5, 4));
	CU_ASSERT_PTR_NULL(rl_table_find(t, &k[1]));
	CU_ASSERT_PTR_EQUAL(rl_table_find(t, &k[0]), a);
	rl_table_free(t);
}


static void
test_ratelimit_capacity_bound(void)
{
	struct rl_table	*t;
	struct rl_entry	*e;
	struct in6_addr	 k;
	uint32_t	 i;
	int		 bad = 0;
	bool		 want;

	t = rl_table_new(1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 100000; i++) {
		k = tr_key(i);
		e = rl_table_get(t, &k, 5, i);
		if (e == NULL || rl_table_count(t) > 1000)
			bad++;
		/* every 97th client keeps a connection open */
		else if (i % 97 == 0 && i < 50000)
			e->active = 1;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(rl_table_count(t), 1000);
	for (i = 0; i < 100000; i++) {
		k = tr_key(i);
		e = rl_table_find(t, &k);
		/* 516 active entries stay; the 484 newest idle ones too */
		if (i < 50000)
			want = i % 97 == 0;
		else
			want = i >= 100000 - 484;
		if (want != (e != NULL))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	rl_table_free(t);
}


static void
tr_mask_is(const char *in, unsigned bits, const char *want)
{
	struct in6_addr	a, w;

	CU_ASSERT_FATAL(inet_pton(AF_INET6, in, &a) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET6, want, &w) == 1);
	rl_mask(&a, bits);
	CU_ASSERT(memcmp(&a, &w, sizeof(a)) == 0);
}


static void
test_ratelimit_mask(void)
{
	static const char	*full = "2001:db8:1:2:3:4:5:6";

	tr_mask_is(full, 64, "2001:db8:1:2::");
	tr_mask_is(full, 48, "2001:db8:1::");
	tr_mask_is(full, 128, full);
	tr_mask_is(full, 200, full);
	tr_mask_is(full, 0, "::");
	tr_mask_is("ffff:ffff:ffff:ffff::", 60, "ffff:ffff:ffff:fff0::");
	tr_mask_is("ffff::", 1, "8000::");
	tr_mask_is("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 127,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	tr_mask_is("::ffff:10.1.2.3", 120, "::ffff:10.1.2.0");
}


static void
test_ratelimit_bucket_ready(void)
{
	struct bucket	b;

	bucket_init(&b, 1, 1000);
	CU_ASSERT_TRUE(bucket_ready(&b, 2, 1, 1000));
	CU_ASSERT_TRUE(bucket_take(&b, 2, 1, 1000, NULL));
	CU_ASSERT_FALSE(bucket_ready(&b, 2, 1, 1499));
	CU_ASSERT_FALSE(bucket_ready(&b, 2, 1, 1499));	/* changes nothing */
	CU_ASSERT_TRUE(bucket_ready(&b, 2, 1, 1500));
	CU_ASSERT_DOUBLE_EQUAL(b.tokens, 0, 1e-9);
	CU_ASSERT_EQUAL(b.last_ms, 1000);
}


/* The first denial is written, the rest counted and flushed as one. */
static void
test_ratelimit_agg_counts(void)
{
	static struct rl_agg	 a;
	struct rl_agg_entry	*e;
	struct in6_addr		 k1 = tr_key(1), k2 = tr_key(2);
	int			 i;

	memset(&a, 0, sizeof(a));
	CU_ASSERT_TRUE(rl_agg_note(&a, &k1, 7, 429, 1, NULL, 0, 10000, 0));
	for (i = 0; i < 99; i++)
		CU_ASSERT_FALSE(rl_agg_note(&a, &k1, 7, 429, 2, NULL, 5,
		    10000, 100 + (uint64_t)i));
	/* another source, another reason, another status: own records */
	CU_ASSERT_TRUE(rl_agg_note(&a, &k2, 7, 429, 1, NULL, 0, 10000, 0));
	CU_ASSERT_TRUE(rl_agg_note(&a, &k1, 8, 429, 1, NULL, 0, 10000, 0));
	CU_ASSERT_TRUE(rl_agg_note(&a, &k1, 7, 0, 1, NULL, 0, 10000, 0));
	CU_ASSERT_PTR_NULL(rl_agg_due(&a, 10000, 9999, false));
	e = rl_agg_due(&a, 10000, 10000, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->count, 99);
	CU_ASSERT_EQUAL(e->first_unix_ms, 5);
	CU_ASSERT_EQUAL(e->port, 2);
	rl_agg_written(e, 10000);
	/* the others had no count: freed; k1 stays hot for one interval */
	CU_ASSERT_PTR_NULL(rl_agg_due(&a, 10000, 10000, false));
	CU_ASSERT_TRUE(rl_agg_busy(&a));
	CU_ASSERT_FALSE(rl_agg_note(&a, &k1, 7, 429, 3, NULL, 0, 10000,
	    15000));
	CU_ASSERT_PTR_NOT_NULL(rl_agg_due(&a, 10000, 15000, true));
	rl_agg_written(rl_agg_due(&a, 10000, 15000, true), 15000);
	CU_ASSERT_PTR_NULL(rl_agg_due(&a, 10000, 25000, false));
	CU_ASSERT_FALSE(rl_agg_busy(&a));
	/* interval 0: never aggregated */
	CU_ASSERT_TRUE(rl_agg_note(&a, &k1, 7, 429, 1, NULL, 0, 0, 0));
	CU_ASSERT_TRUE(rl_agg_note(&a, &k1, 7, 429, 1, NULL, 0, 0, 0));
}


/* A full table never drops a denial and never grows. */
static void
test_ratelimit_agg_full(void)
{
	static struct rl_agg	 a;
	struct in6_addr		 k;
	uint32_t		 i;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < RL_AGG_SLOTS; i++) {
		k = tr_key(i);
		CU_ASSERT_TRUE(rl_agg_note(&a, &k, 1, 429, 0, NULL, 0, 1000,
		    0));
		CU_ASSERT_FALSE(rl_agg_note(&a, &k, 1, 429, 0, NULL, 0, 1000,
		    0));
	}
	/* every slot holds a count: a new key writes its own record */
	for (i = 0; i < 3; i++) {
		k = tr_key(1000);
		CU_ASSERT_TRUE(rl_agg_note(&a, &k, 1, 429, 0, NULL, 0, 1000,
		    1));
	}
	/* once one is written, its slot (count 0) can be reused */
	rl_agg_written(rl_agg_due(&a, 1000, 1000, false), 1000);
	k = tr_key(1000);
	CU_ASSERT_TRUE(rl_agg_note(&a, &k, 1, 429, 0, NULL, 0, 1000, 1001));
	CU_ASSERT_FALSE(rl_agg_note(&a, &k, 1, 429, 0, NULL, 0, 1000, 1002));
}


int
test_ratelimit_add(void)
{
	CU_pSuite	s;

	if ((s = CU_add_suite("ratelimit", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "bucket burst and refill",
	    test_ratelimit_burst_refill) == NULL ||
	    CU_add_test(s, "bucket retry rounds up",
	    test_ratelimit_retry_rounding) == NULL ||
	    CU_add_test(s, "bucket token due exactly at retry",
	    test_ratelimit_retry_is_exact) == NULL ||
	    CU_add_test(s, "bucket unlimited, clock back, small burst",
	    test_ratelimit_unlimited_and_clock) == NULL ||
	    CU_add_test(s, "table get and find",
	    test_ratelimit_table_get_find) == NULL ||
	    CU_add_test(s, "table evicts least recently used idle",
	    test_ratelimit_evict_idlest) == NULL ||
	    CU_add_test(s, "table never evicts active",
	    test_ratelimit_never_evict_active) == NULL ||
	    CU_add_test(s, "table release orders idle entries",
	    test_ratelimit_release_order) == NULL ||
	    CU_add_test(s, "B18.3 capacity bound over 100k clients",
	    test_ratelimit_capacity_bound) == NULL ||
	    CU_add_test(s, "bucket ready peeks", test_ratelimit_bucket_ready)
	    == NULL ||
	    CU_add_test(s, "denials aggregated per key and interval",
	    test_ratelimit_agg_counts) == NULL ||
	    CU_add_test(s, "aggregation table full: bounded, nothing lost",
	    test_ratelimit_agg_full) == NULL ||
	    CU_add_test(s, "mask", test_ratelimit_mask) == NULL)
		return -1;
	return 0;
}
