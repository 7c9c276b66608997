/*
 * auth: password verification off the event loop, with a cache of
 * recent successes.
 *
 * crypt_rn runs in a small pool of worker threads; the loop hands a job
 * over and is called back through an event when the job is done.  A
 * success is remembered under HMAC-SHA256(per-process key, user, password,
 * stored hash) for the configured TTL, so the plaintext is never kept
 * and a changed hash in the users file invalidates the entry.  An
 * unknown user is verified against a dummy hash of the same kind, so
 * wrong user and wrong password take the same path and time.
 */
#ifndef EGRESSD_AUTH_H
#define EGRESSD_AUTH_H

#include <stdbool.h>

#include <event2/event.h>

#include "users.h"

struct auth;
struct auth_job;

/*
 * ok: the password matched hash, the stored hash it was checked against
 * (NULL when the user was unknown).  A reload may have replaced the
 * users file while the check ran: the caller compares hash with the
 * entry now in force before it lets the client in.
 */
typedef void	(*auth_cb)(void *arg, bool ok, const char *hash);

/* A pool of n workers on base; NULL on failure (errno set). */
struct auth	*auth_new(struct event_base *base, int n);
void		 auth_free(struct auth *);
/*
 * Verify user/pass against u.  A cache hit (within ttl_s) calls cb
 * before returning and returns NULL; so does an allocation failure
 * (cb with ok false).  Otherwise the job is returned for auth_cancel
 * and cb runs later on the loop thread, once the hash is computed: by
 * a task of its own, or by one already queued or running for the same
 * user, password and stored hash.  pass is copied and wiped after use.
 */
struct auth_job	*auth_check(struct auth *, const struct users *u,
		    const char *user, const char *pass, double ttl_s,
		    auth_cb cb, void *arg);
/* The callback of job will not run. */
void		 auth_cancel(struct auth_job *);
/* Forget every cached success (reload, revocation). */
void		 auth_cache_flush(struct auth *);
/* Hash computations queued or running, for tests and metrics. */
unsigned	 auth_pending(const struct auth *);

#endif
