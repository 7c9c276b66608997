/*
 * accesslog: one record per session, written off the event loop.
 *
 * The close path fills a struct access_record and calls accesslog_write,
 * which formats the line (JSON with Elastic Common Schema names, or
 * key=value text with the same fields in the same order) and appends it
 * to a bounded in-memory queue.  A writer thread drains the queue to the
 * file and/or syslog, so a slow disk never stalls the loop.  When the
 * queue is full, records are counted as dropped and the count is
 * reported in the error log; nothing blocks.  Every string field from
 * the network is escaped (escape.h); every field is always present.
 */
#ifndef EGRESSD_ACCESSLOG_H
#define EGRESSD_ACCESSLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "reason.h"

struct access_record {
	uint64_t	 session_id;
	int64_t		 start_unix_ms;		/* wall clock at accept */
	uint64_t	 duration_us;
	enum reason	 reason;
	int		 status;		/* sent, 0 if none */
	bool		 tunnel;		/* a 200 was sent */
	const char	*source_ip;
	uint16_t	 source_port;
	const char	*source_country;	/* NULL: unknown */
	const char	*listener;
	const char	*user;			/* NULL: none */
	const char	*auth;			/* none, ok, failed, ... */
	const char	*method;		/* raw, may hold anything */
	size_t		 method_len;
	const char	*target;		/* raw, may hold anything */
	size_t		 target_len;
	const char	*host;			/* canonical, NULL: none */
	uint16_t	 port;
	const char	*dest_ip;		/* dialled, NULL: none */
	const char	*dest_country;
	unsigned	 dns_answers;
	unsigned	 dns_discarded;
	const char	*dns_discarded_why;	/* "loopback,private" */
	const char	*dns_error;		/* NXDOMAIN, ..., NULL */
	uint64_t	 dns_ms;
	uint64_t	 connect_ms;
	const char	*sni;			/* raw, NULL: none */
	const char	*protocol_check;	/* none, pass, fail */
	uint64_t	 bytes_out;		/* client -> upstream */
	uint64_t	 bytes_in;		/* upstream -> client */
	unsigned	 repeat;		/* aggregated denials, 0 */
};

/*
 * Start the writer.  path NULL: no file; use_syslog: also to syslog.
 * Returns 0, or -1 (file not writable) with errno set.
 */
int	accesslog_open(const char *path, bool json, bool use_syslog);
/* Format r and queue it.  Never blocks on I/O. */
void	accesslog_write(const struct access_record *r);
/* Ask the writer to reopen the file (SIGUSR1, logrotate). */
void	accesslog_reopen(void);
/* Change format and sinks (reload); the path change reopens. */
int	accesslog_configure(const char *path, bool json, bool use_syslog);
/* Flush everything queued and stop the writer. */
void	accesslog_close(void);
/* Format r into buf (for tests); returns the length. */
size_t	accesslog_format(const struct access_record *r, bool json,
	    char *buf, size_t size);

#endif
