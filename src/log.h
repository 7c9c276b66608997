/*
 * log: the daemon's own messages (not the access log).
 *
 * Levels: log_warn (something failed; adds errno's text), log_warnx
 * (something failed; no errno), log_info (life cycle: start, reload,
 * stop), log_debug (only with -d).  Messages read "module: what
 * happened: cause", lower case.  Lines go to stderr with a UTC time
 * stamp, and to syslog when enabled.  Warnings a remote peer can
 * trigger go through log_limited, which lets a few through per
 * interval and then counts what it suppressed.
 */
#ifndef EGRESSD_LOG_H
#define EGRESSD_LOG_H

#include <stdbool.h>
#include <stdint.h>

struct log_limit {
	uint64_t	window_start_ms;
	unsigned	count;
	unsigned	suppressed;
};

void	log_init(bool debug, bool use_syslog, const char *facility);
void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* log_warnx at most 5 times per 10 s for this limiter. */
void	log_limited(struct log_limit *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
__attribute__((noreturn, format(printf, 1, 2)))
void	fatal(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2)))
void	fatalx(const char *fmt, ...);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t log_now_ms(void);

#endif
