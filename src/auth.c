/*
 * auth: the worker pool and the success cache (see auth.h).
 *
 * Threads: workers only read a task's copied password and hash, and
 * write its result; everything else (callbacks, the cache, waiters) is
 * touched on the loop thread.  Two queues guarded by one mutex carry
 * tasks across: todo (loop -> workers) and done (workers -> loop,
 * announced by activating an event).
 *
 * Single flight: a task is one hash computation; every request with the
 * same user, password and stored hash that comes while it is queued or
 * running waits on it (a struct auth_job each) instead of hashing again.
 * An IEM that opens fifty tunnels at once after a restart costs one
 * slow hash, not fifty, and so does a client that repeats one wrong
 * password.  In-flight tasks are found through a table indexed like the
 * cache (one task a slot; a collision simply hashes again).
 */
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth.h"
#include "authbasic.h"
#include "log.h"

#define AUTH_CACHE_SLOTS	1024
#define AUTH_DIGEST_LEN		32

struct auth_job;

struct auth_task {
	TAILQ_ENTRY(auth_task)	 entry;
	char			*hash;
	char			 pass[AUTH_PASS_MAX + 1];
	unsigned char		 digest[AUTH_DIGEST_LEN];
	bool			 cacheable;	/* the user exists */
	bool			 ok;
	double			 ttl_s;
	TAILQ_HEAD(, auth_job)	 waiters;
};
TAILQ_HEAD(auth_tasks, auth_task);

/* One request waiting on a task; what auth_check hands out. */
struct auth_job {
	TAILQ_ENTRY(auth_job)	 entry;
	auth_cb			 cb;	/* NULL: cancelled */
	void			*arg;
};

struct auth_slot {
	unsigned char	digest[AUTH_DIGEST_LEN];
	uint64_t	expires_ms;
};

struct auth {
	struct event_base	*base;
	struct event		*done_ev;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	struct auth_tasks	 todo, done;
	pthread_t		*threads;
	int			 nthreads;
	bool			 stopping;
	unsigned		 pending;
	unsigned char		 key[32];
	struct auth_slot	 cache[AUTH_CACHE_SLOTS];
	struct auth_task	*inflight[AUTH_CACHE_SLOTS];
	/* a valid hash of unknown users' kind, for equal-cost misses */
	char			 dummy[128];
};


static void
auth_verify(struct auth_task *j, struct crypt_data *cd)
{
	const char	*out;
	size_t		 n;

	out = crypt_rn(j->pass, j->hash, cd, sizeof(*cd));
	n = strlen(j->hash);
	j->ok = j->cacheable && out != NULL && out[0] != '*' &&
	    strlen(out) == n && CRYPTO_memcmp(out, j->hash, n) == 0;
	OPENSSL_cleanse(j->pass, sizeof(j->pass));
	OPENSSL_cleanse(cd, sizeof(*cd));
}


static void *
auth_worker(void *arg)
{
	struct auth		*a = arg;
	struct auth_task	*j;
	struct crypt_data	*cd;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return NULL;
	pthread_mutex_lock(&a->mtx);
	for (;;) {
		while (TAILQ_EMPTY(&a->todo) && !a->stopping)
			pthread_cond_wait(&a->cond, &a->mtx);
		if (a->stopping)
			break;
		j = TAILQ_FIRST(&a->todo);
		TAILQ_REMOVE(&a->todo, j, entry);
		pthread_mutex_unlock(&a->mtx);
		auth_verify(j, cd);
		pthread_mutex_lock(&a->mtx);
		TAILQ_INSERT_TAIL(&a->done, j, entry);
		event_active(a->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&a->mtx);
	free(cd);
	return NULL;
}


static uint32_t
auth_index(const unsigned char *digest)
{
	uint32_t	 i;

	memcpy(&i, digest, sizeof(i));
	return i % AUTH_CACHE_SLOTS;
}


static void
auth_task_free(struct auth_task *t)
{
	struct auth_job	*w;

	while ((w = TAILQ_FIRST(&t->waiters)) != NULL) {
		TAILQ_REMOVE(&t->waiters, w, entry);
		free(w);
	}
	OPENSSL_cleanse(t->pass, sizeof(t->pass));
	free(t->hash);
	free(t);
}


/* A finished task: fill the cache, answer every waiter, free it. */
static void
auth_task_done(struct auth *a, struct auth_task *t)
{
	struct auth_slot	*slot = &a->cache[auth_index(t->digest)];
	struct auth_job		*w;

	if (a->inflight[auth_index(t->digest)] == t)
		a->inflight[auth_index(t->digest)] = NULL;
	if (t->ok && t->ttl_s > 0) {
		memcpy(slot->digest, t->digest, AUTH_DIGEST_LEN);
		slot->expires_ms = log_now_ms() + (uint64_t)(t->ttl_s * 1000);
	}
	/* a callback may cancel other waiters: take one at a time */
	while ((w = TAILQ_FIRST(&t->waiters)) != NULL) {
		TAILQ_REMOVE(&t->waiters, w, entry);
		if (w->cb != NULL)
			w->cb(w->arg, t->ok, t->cacheable ? t->hash : NULL);
		free(w);
	}
	auth_task_free(t);
}


static void
auth_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct auth		*a = arg;
	struct auth_tasks	 done;
	struct auth_task	*t;

	(void)fd;
	(void)what;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&a->mtx);
	TAILQ_CONCAT(&done, &a->done, entry);
	pthread_mutex_unlock(&a->mtx);
	while ((t = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, t, entry);
		a->pending--;
		auth_task_done(a, t);
	}
}


struct auth *
auth_new(struct event_base *base, int n)
{
	struct auth	*a;
	int		 i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->base = base;
	pthread_mutex_init(&a->mtx, NULL);
	pthread_cond_init(&a->cond, NULL);
	TAILQ_INIT(&a->todo);
	TAILQ_INIT(&a->done);
	if (RAND_bytes(a->key, sizeof(a->key)) != 1 ||
	    (a->done_ev = event_new(base, -1, 0, auth_on_done, a)) == NULL ||
	    (a->threads = calloc((size_t)n, sizeof(pthread_t))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if (pthread_create(&a->threads[i], NULL, auth_worker, a) != 0)
			goto fail;
		a->nthreads++;
	}
	return a;
 fail:
	auth_free(a);
	return NULL;
}


void
auth_free(struct auth *a)
{
	struct auth_task	*j;
	int			 i;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mtx);
	a->stopping = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->mtx);
	for (i = 0; i < a->nthreads; i++)
		pthread_join(a->threads[i], NULL);
	while ((j = TAILQ_FIRST(&a->todo)) != NULL) {
		TAILQ_REMOVE(&a->todo, j, entry);
		auth_task_free(j);
	}
	while ((j = TAILQ_FIRST(&a->done)) != NULL) {
		TAILQ_REMOVE(&a->done, j, entry);
		auth_task_free(j);
	}
	if (a->done_ev != NULL)
		event_free(a->done_ev);
	free(a->threads);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}


static void
auth_digest(const struct auth *a, const char *user, const char *pass,
    const char *hash, unsigned char *out)
{
	unsigned char	 buf[AUTH_USER_MAX + AUTH_PASS_MAX + 256 + 3];
	size_t		 ul = strlen(user), pl = strlen(pass);
	size_t		 hl = strlen(hash), n = 0;
	unsigned int	 outlen = AUTH_DIGEST_LEN;

	if (hl > 255)
		hl = 255;
	memcpy(buf + n, user, ul);
	n += ul;
	buf[n++] = '\0';
	memcpy(buf + n, pass, pl);
	n += pl;
	buf[n++] = '\0';
	memcpy(buf + n, hash, hl);
	n += hl;
	HMAC(EVP_sha256(), a->key, sizeof(a->key), buf, n, out, &outlen);
	OPENSSL_cleanse(buf, sizeof(buf));
}


/* The dummy hash: same kind and cost as the first stored hash. */
static const char *
auth_dummy(struct auth *a, const struct users *u)
{
	if (u->n == 0)
		return "$y$j9T$egressddummysalt0000$";
	if (a->dummy[0] == '\0' || strncmp(a->dummy, u->v[0].hash, 4) != 0)
		snprintf(a->dummy, sizeof(a->dummy), "%s", u->v[0].hash);
	return a->dummy;
}


struct auth_job *
auth_check(struct auth *a, const struct users *u, const char *user,
    const char *pass, double ttl_s, auth_cb cb, void *arg)
{
	const struct user	*usr = users_find(u, user);
	const char		*hash = usr ? usr->hash : auth_dummy(a, u);
	struct auth_task	*t;
	struct auth_job		*w;
	struct auth_slot	*slot;
	unsigned char		 digest[AUTH_DIGEST_LEN];
	uint32_t		 i;

	/* A cache hit allocates nothing: it is the per-tunnel path. */
	auth_digest(a, user, pass, hash, digest);
	i = auth_index(digest);
	slot = &a->cache[i];
	if (usr != NULL && slot->expires_ms > log_now_ms() &&
	    CRYPTO_memcmp(slot->digest, digest, AUTH_DIGEST_LEN) == 0) {
		cb(arg, true, hash);
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		cb(arg, false, NULL);
		return NULL;
	}
	w->cb = cb;
	w->arg = arg;

	/* the same check already queued or running: wait on it */
	t = a->inflight[i];
	if (t != NULL &&
	    CRYPTO_memcmp(t->digest, digest, AUTH_DIGEST_LEN) == 0) {
		TAILQ_INSERT_TAIL(&t->waiters, w, entry);
		return w;
	}

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->hash = strdup(hash)) == NULL) {
		free(t);
		free(w);
		cb(arg, false, NULL);
		return NULL;
	}
	TAILQ_INIT(&t->waiters);
	TAILQ_INSERT_TAIL(&t->waiters, w, entry);
	t->cacheable = usr != NULL;
	t->ttl_s = ttl_s;
	snprintf(t->pass, sizeof(t->pass), "%s", pass);
	memcpy(t->digest, digest, AUTH_DIGEST_LEN);
	if (a->inflight[i] == NULL)
		a->inflight[i] = t;
	a->pending++;
	pthread_mutex_lock(&a->mtx);
	TAILQ_INSERT_TAIL(&a->todo, t, entry);
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->mtx);
	return w;
}


void
auth_cancel(struct auth_job *j)
{
	if (j != NULL)
		j->cb = NULL;
}


void
auth_cache_flush(struct auth *a)
{
	memset(a->cache, 0, sizeof(a->cache));
}


unsigned
auth_pending(const struct auth *a)
{
	return a->pending;
}
