/*
 * server: the daemon's shared state, owned by main.c and used on the
 * event loop thread only.
 *
 * The config, resolver and geo database in here are the current ones;
 * a session takes references at accept and keeps what it started with.
 */
#ifndef EGRESSD_SERVER_H
#define EGRESSD_SERVER_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "netset.h"
#include "ratelimit.h"
#include "users.h"

struct session;
struct listener;

struct server {
	struct event_base	*base;
	struct config		*cfg;
	struct users		*users;		/* current users file */
	struct resolver		*resolver;
	struct auth		*auth;
	struct geo_db		*geo;
	struct rl_table		*clients;	/* per client address */
	struct rl_table		*user_fails;	/* per user name digest */
	struct listener		**listeners;
	size_t			 nlisteners;
	struct netset		 local_addrs;	/* this host's addresses */
	TAILQ_HEAD(, session)	 sessions;
	unsigned		 nsessions;
	uint64_t		 next_id;
	uint64_t		 id_key;
	bool			 draining;
	struct log_limit	 limit_accept;
	struct log_limit	 limit_lockout;
};

extern struct server	server;

/* Milliseconds since the Unix epoch (wall clock). */
int64_t	server_unix_ms(void);

#endif
