/*
 * log: the daemon's own messages (see log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static bool	log_debug_on;
static bool	log_syslog_on;

#define LOG_LIMIT_WINDOW_MS	10000
#define LOG_LIMIT_COUNT		5

static const struct { const char *name; int value; } facilities[] = {
	{ "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }, { "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV }, { "user", LOG_USER },
};


void
log_init(bool debug, bool use_syslog, const char *facility)
{
	int	 fac = LOG_DAEMON;
	size_t	 i;

	log_debug_on = debug;
	for (i = 0; facility && i < sizeof(facilities) /
	    sizeof(facilities[0]); i++)
		if (strcmp(facility, facilities[i].name) == 0)
			fac = facilities[i].value;
	if (use_syslog && !log_syslog_on)
		openlog("egressd", LOG_PID | LOG_NDELAY, fac);
	log_syslog_on = use_syslog;
}


uint64_t
log_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


static void
log_vemit(int prio, const char *tag, const char *fmt, va_list ap,
    const char *cause)
{
	char		 msg[1024], stamp[32];
	struct timespec	 ts;
	struct tm	 tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ egressd %s: %s%s%s\n", stamp,
	    ts.tv_nsec / 1000000, tag, msg, cause ? ": " : "",
	    cause ? cause : "");
	if (log_syslog_on)
		syslog(prio, "%s%s%s", msg, cause ? ": " : "",
		    cause ? cause : "");
}


void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	 cause[128];
	int	 saved = errno;

	strerror_r(saved, cause, sizeof(cause));
	va_start(ap, fmt);
	log_vemit(LOG_WARNING, "warning", fmt, ap, cause);
	va_end(ap);
	errno = saved;
}


void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, "warning", fmt, ap, NULL);
	va_end(ap);
}


void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, "info", fmt, ap, NULL);
	va_end(ap);
}


void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, "debug", fmt, ap, NULL);
	va_end(ap);
}


void
log_limited(struct log_limit *l, const char *fmt, ...)
{
	va_list	 ap;
	uint64_t now = log_now_ms();

	if (now - l->window_start_ms >= LOG_LIMIT_WINDOW_MS) {
		if (l->suppressed > 0)
			log_warnx("log: %u similar messages suppressed",
			    l->suppressed);
		l->window_start_ms = now;
		l->count = 0;
		l->suppressed = 0;
	}
	if (l->count >= LOG_LIMIT_COUNT) {
		l->suppressed++;
		return;
	}
	l->count++;
	va_start(ap, fmt);
	log_vemit(LOG_WARNING, "warning", fmt, ap, NULL);
	va_end(ap);
}


void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	char	 cause[128];

	strerror_r(errno, cause, sizeof(cause));
	va_start(ap, fmt);
	log_vemit(LOG_CRIT, "fatal", fmt, ap, cause);
	va_end(ap);
	exit(1);
}


void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, "fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
