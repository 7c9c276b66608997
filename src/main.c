/*
 * main: options, start-up, signals, reload and shutdown.
 *
 * Life cycle: read and check the config (-t stops here), open the
 * access log, the users file, the geo database, the resolver and the
 * listeners, then run the loop.  SIGHUP builds a whole new config,
 * users list and geo database and swaps them in only if all of them
 * load; sessions keep what they started with.  SIGUSR1 reopens the
 * access log.  SIGTERM and SIGINT stop accepting, let tunnels finish
 * for a while, then close the rest.
 */
#include <sys/resource.h>

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "autoconf.h"
#include "accesslog.h"
#include "auth.h"
#include "config.h"
#include "geo.h"
#include "listener.h"
#include "log.h"
#include "resolver.h"
#include "server.h"
#include "session.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/usr/local/etc"
#endif
#define MAIN_DEFAULT_CONFIG	SYSCONFDIR "/egressd.conf"
#define MAIN_DRAIN_S		10

struct server	 server;

static char	 main_default[] = MAIN_DEFAULT_CONFIG;
static char	*main_files[CONFIG_MAX_FILES];
static size_t	 main_nfiles;
static struct event *main_drain_ev;


int64_t
server_unix_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
usage(void)
{
	fprintf(stderr, "usage: egressd [-dhtV] [-c file] [-c overlay ...]\n"
	    "  -c file  configuration (default %s); a later file's\n"
	    "           top-level settings replace an earlier one's\n"
	    "  -t       check the configuration and exit\n"
	    "  -d       debug messages\n"
	    "  -h       this help\n"
	    "  -V       the version\n", MAIN_DEFAULT_CONFIG);
	exit(2);
}


static struct users *
main_load_users(const struct config *c)
{
	struct users	*u;
	char		 err[512];

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	if (c->users_file != NULL &&
	    users_load(c->users_file, u, err, sizeof(err)) == -1) {
		fprintf(stderr, "auth.users_file: %s\n", err);
		free(u);
		return NULL;
	}
	return u;
}


/*
 * -t: what the daemon opens at start must be there, or the daemon that
 * the check passed would refuse to start: the access log's directory
 * (exists, writable; the file itself is not created by a check) and the
 * hosts file (readable).
 */
static int
main_check_files(const struct config *c)
{
	char	 dir[4096];
	int	 rc = 0;

	if (c->hosts_file != NULL && access(c->hosts_file, R_OK) == -1) {
		fprintf(stderr, "resolver.hosts_file: %s: %s\n", c->hosts_file,
		    strerror(errno));
		rc = -1;
	}
	if (c->access_log == NULL)
		return rc;
	snprintf(dir, sizeof(dir), "%s", c->access_log);
	if (access(dirname(dir), W_OK) == 0)
		return rc;
	fprintf(stderr, "log.access: %s: directory %s: %s\n", c->access_log,
	    dir, strerror(errno));
	return -1;
}


static void
main_free_users(struct users *u)
{
	if (u == NULL)
		return;
	users_free(u);
	free(u);
}


static struct geo_db *
main_load_geo(const struct config *c, int *rc)
{
	struct geo_db	*g;
	char		 err[512], desc[256];

	*rc = 0;
	if (c->geo_database == NULL)
		return NULL;
	if ((g = geo_open(c->geo_database, c->geo_lookup, c->ngeo_lookup,
	    err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		*rc = -1;
		return NULL;
	}
	geo_describe(g, desc, sizeof(desc));
	log_info("geo: %s: %s", c->geo_database, desc);
	return g;
}


static void
main_reload(void)
{
	struct config	*c;
	struct users	*u;
	struct geo_db	*g;
	struct resolver	*r;
	char		 err[512];
	int		 rc;

	log_info("main: reloading %s", main_files[0]);
	if ((c = config_load(main_files, main_nfiles)) == NULL) {
		log_warnx("main: reload failed: keeping the running config");
		return;
	}
	if ((u = main_load_users(c)) == NULL) {
		log_warnx("main: reload failed: users file");
		config_unref(c);
		return;
	}
	g = main_load_geo(c, &rc);
	if (rc == -1) {
		log_warnx("main: reload: geo database failed: keeping the "
		    "old one");
		g = server.geo ? geo_ref(server.geo) : NULL;
	}
	if ((r = resolver_new(server.base, c, err, sizeof(err))) == NULL) {
		log_warnx("main: reload failed: %s", err);
		main_free_users(u);
		if (g)
			geo_unref(g);
		config_unref(c);
		return;
	}
	if (listener_reload_tls(c) == -1)
		log_warnx("main: reload: TLS listener keeps its old "
		    "certificate");
	accesslog_configure(c->access_log, c->log_json, c->log_syslog);
	resolver_release(server.resolver);
	server.resolver = r;
	if (server.geo)
		geo_unref(server.geo);
	server.geo = g;
	main_free_users(server.users);
	server.users = u;
	config_unref(server.cfg);
	server.cfg = c;
	auth_cache_flush(server.auth);
	session_revoke_users();
	log_info("main: reload done: %zu users, %zu allow rules", u->n,
	    c->allow.nrules);
}


static void
main_on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	static int	 ticks;
	struct timeval	 tv = { 0, 100000 };

	(void)fd;
	(void)what;
	(void)arg;
	if (server.nsessions == 0 || ++ticks >= MAIN_DRAIN_S * 10) {
		session_close_all(REASON_SHUTDOWN);
		event_base_loopexit(server.base, NULL);
		return;
	}
	evtimer_add(main_drain_ev, &tv);
}


static void
main_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct session	*s, *next;

	(void)what;
	(void)arg;
	switch (sig) {
	case SIGHUP:
		main_reload();
		return;
	case SIGUSR1:
		accesslog_reopen();
		return;
	default:
		break;
	}
	if (server.draining)
		return;
	log_info("main: signal %d: draining %u sessions", (int)sig,
	    server.nsessions);
	server.draining = true;
	listener_close_all();
	/* sessions without a tunnel yet end now */
	for (s = TAILQ_FIRST(&server.sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->phase < PHASE_CHECK)
			session_close(s, REASON_SHUTDOWN);
	}
	main_on_drain_tick(-1, 0, NULL);
}


static void
main_options(int argc, char **argv, bool *check, bool *debug)
{
	int	 ch;

	while ((ch = getopt(argc, argv, "c:dhtV")) != -1) {
		switch (ch) {
		case 'c':
			if (main_nfiles == CONFIG_MAX_FILES)
				usage();
			main_files[main_nfiles++] = optarg;
			break;
		case 'd':
			*debug = true;
			break;
		case 't':
			*check = true;
			break;
		case 'V':
			printf("egressd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (main_nfiles == 0)
		main_files[main_nfiles++] = main_default;
}


static void
main_init(void)
{
	struct config	*c = server.cfg;
	char		 err[512];

	TAILQ_INIT(&server.sessions);
	if (RAND_bytes((unsigned char *)&server.id_key,
	    sizeof(server.id_key)) != 1)
		fatalx("main: no randomness");
	if (evthread_use_pthreads() != 0)
		fatalx("main: libevent without pthreads support");
	if ((server.base = event_base_new()) == NULL)
		fatalx("main: event_base_new failed");
	if (accesslog_open(c->access_log, c->log_json, c->log_syslog) == -1)
		fatal("accesslog: %s", c->access_log);
	server.clients = rl_table_new((size_t)c->table_size);
	server.user_fails = rl_table_new((size_t)c->table_size);
	if (server.clients == NULL || server.user_fails == NULL)
		fatalx("main: cannot allocate the client table");
	if ((server.auth = auth_new(server.base, c->auth_workers)) == NULL)
		fatal("auth: cannot start workers");
	if ((server.resolver = resolver_new(server.base, c, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (listener_open_all(c) == -1)
		fatalx("main: cannot open the listeners");
	if ((main_drain_ev = evtimer_new(server.base, main_on_drain_tick,
	    NULL)) == NULL)
		fatalx("main: cannot create the drain timer");
}


static void
main_signals(struct event **ev)
{
	const int	 sigs[] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };
	size_t		 i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 4; i++) {
		ev[i] = evsignal_new(server.base, sigs[i], main_on_signal,
		    NULL);
		if (ev[i] == NULL || evsignal_add(ev[i], NULL) == -1)
			fatalx("main: cannot handle signal %d", sigs[i]);
	}
}


int
main(int argc, char **argv)
{
	bool		 check = false, debug = false;
	struct event	*sigev[4];
	int		 rc, i;

	main_options(argc, argv, &check, &debug);
	log_init(debug, false, NULL);
	if ((server.cfg = config_load(main_files, main_nfiles)) == NULL)
		return 1;
	if ((server.users = main_load_users(server.cfg)) == NULL)
		return 1;
	server.geo = main_load_geo(server.cfg, &rc);
	if (rc == -1)
		return 1;
	if (check) {
		if (main_check_files(server.cfg) == -1)
			return 1;
		printf("egressd: ");
		for (i = 0; (size_t)i < main_nfiles; i++)
			printf("%s%s", i ? " + " : "", main_files[i]);
		printf(": configuration OK (%zu allow rules, %zu users)\n",
		    server.cfg->allow.nrules, server.users->n);
		return 0;
	}
	log_init(debug, server.cfg->log_syslog, server.cfg->syslog_facility);
	if (server.cfg->clients_allow.n == 0)
		log_warnx("main: clients.allow is empty: every client is "
		    "refused");
	main_init();
	main_signals(sigev);
	log_info("main: egressd " PACKAGE_VERSION " started: %zu allow "
	    "rules, %zu users", server.cfg->allow.nrules, server.users->n);
	event_base_dispatch(server.base);

	log_info("main: stopped");
	for (i = 0; i < 4; i++)
		event_free(sigev[i]);
	auth_free(server.auth);
	accesslog_close();
	return 0;
}
