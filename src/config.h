/*
 * config: the libconfig file turned into one validated, immutable,
 * reference-counted struct config.
 *
 * A reload builds a new struct and swaps it in; sessions hold a
 * reference to the config they started with, so no tunnel sees its
 * settings change under it.  Several files may be given: a later file's
 * top-level settings replace the same settings of an earlier one (an
 * overlay), so a site or a test changes one group without copying the
 * shipped file.  Every error names the file, the line and the reason.
 */
#ifndef EGRESSD_CONFIG_H
#define EGRESSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "netset.h"

#define CONFIG_MAX_FILES	8

struct listen_cfg {
	char		*address;
	uint16_t	 port;
	bool		 tls;
	char		*certificate;
	char		*key;
	char		*client_ca;	/* NULL: no client certificates */
};

enum geo_unknown {
	GEO_UNKNOWN_ALLOW,
	GEO_UNKNOWN_DENY
};

struct geo_policy {
	char		**allow;	/* ISO codes; NULL: not used */
	size_t		  nallow;
	char		**deny;
	size_t		  ndeny;
	enum geo_unknown  unknown;
};

struct config {
	int			 refs;
	char			*files[CONFIG_MAX_FILES];
	size_t			 nfiles;

	struct listen_cfg	*listen;
	size_t			 nlisten;

	struct netset		 clients_allow;

	char			*users_file;	/* NULL: no users */
	char			*realm;
	bool			 auth_required;
	double			 auth_cache_ttl_s;
	int			 auth_workers;
	int			 lockout_failures;
	double			 lockout_window_s;
	double			 lockout_duration_s;
	char			*cert_user_field; /* "cn" or "san" */

	struct allowlist	 allow;

	struct netset		 allow_internal;
	bool			 dest_strict;

	char			**nameservers;
	size_t			  nnameservers;
	char			 *hosts_file;
	double			  dns_timeout_s;

	double			 per_ip_rate;
	double			 per_ip_burst;
	int			 per_ip_tunnels;
	int			 ipv6_prefix;
	int			 table_size;
	int			 max_tunnels;
	double			 header_timeout_s;
	double			 connect_timeout_s;
	double			 idle_timeout_s;
	double			 max_lifetime_s;	/* 0: none */
	double			 protocol_timeout_s;
	int			 max_header_bytes;
	int			 max_headers;
	int			 tunnel_buffer;
	bool			 delay_connect;	/* tls rules: wait for SNI */
	double			 log_aggregate_s; /* 0: every denial logged */
	int			 per_user_tunnels;	/* 0: no cap */
	double			 per_user_rate;		/* 0: no rate */
	double			 per_user_burst;

	char			*access_log;	/* NULL: none */
	bool			 log_json;
	bool			 log_syslog;
	char			*syslog_facility;

	char			*geo_database;	/* NULL: geo off */
	char			**geo_lookup;	/* geo.lookup_path */
	size_t			 ngeo_lookup;
	struct netset		 geo_private_clients;
	struct geo_policy	 geo_clients;
	struct geo_policy	 geo_destinations;
};

/*
 * Load and validate files[0..n).  Returns a config with one reference,
 * or NULL after writing "FILE:LINE: reason" lines to stderr (all the
 * errors found, not only the first).
 */
struct config	*config_load(char *const *files, size_t n);
struct config	*config_ref(struct config *);
void		 config_unref(struct config *);

#endif
