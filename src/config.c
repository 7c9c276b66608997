/*
 * config: libconfig files -> validated, immutable struct config.
 *
 * Scalars are read through one table (path, type, bounds, default,
 * offset), so adding a setting is one row.  Lists and groups with
 * structure (listen, allow, geo policies) have a reader each.  Every
 * setting in a file must be known: a misspelt name is an error, never a
 * silently ignored line.  Errors are collected and printed together as
 * "FILE:LINE: reason", then loading fails.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "geo.h"

/* One error, kept so that all are printed in file and line order. */
struct cfg_msg {
	size_t		 file;		/* index of the file, n: none */
	unsigned	 line;
	char		 text[320];
};

#define CFG_MSGS_MAX	64

struct loader {
	config_t	 cfg[CONFIG_MAX_FILES];
	size_t		 n;
	const char	*last_file;	/* for errors with no setting */
	int		 errors;
	bool		 geo_off;	/* no geo.database: no countries */
	const char	*paths[CONFIG_MAX_FILES];
	struct cfg_msg	 msgs[CFG_MSGS_MAX];
	size_t		 nmsgs;
};

enum opt_type { OPT_INT, OPT_FLOAT, OPT_BOOL, OPT_STRING };

struct opt {
	const char	*path;
	enum opt_type	 type;
	size_t		 offset;
	double		 min, max;
	double		 def_num;
	const char	*def_str;
};

#define O(f)	offsetof(struct config, f)

static const struct opt opts[] = {
	{ "auth.users_file", OPT_STRING, O(users_file), 0, 0, 0, NULL },
	{ "auth.realm", OPT_STRING, O(realm), 0, 0, 0, "egressd" },
	{ "auth.required", OPT_BOOL, O(auth_required), 0, 1, 1, NULL },
	{ "auth.cache_ttl", OPT_FLOAT, O(auth_cache_ttl_s), 0, 3600, 60,
	    NULL },
	{ "auth.workers", OPT_INT, O(auth_workers), 1, 64, 2, NULL },
	{ "auth.lockout.failures", OPT_INT, O(lockout_failures), 1, 1e6,
	    10, NULL },
	{ "auth.lockout.window", OPT_FLOAT, O(lockout_window_s), 1, 86400,
	    60, NULL },
	{ "auth.lockout.duration", OPT_FLOAT, O(lockout_duration_s), 1,
	    86400, 300, NULL },
	{ "auth.certificate_user", OPT_STRING, O(cert_user_field), 0, 0, 0,
	    "cn" },
	{ "destinations.strict", OPT_BOOL, O(dest_strict), 0, 1, 0, NULL },
	{ "resolver.hosts_file", OPT_STRING, O(hosts_file), 0, 0, 0, NULL },
	{ "resolver.timeout", OPT_FLOAT, O(dns_timeout_s), 0.1, 60, 5,
	    NULL },
	{ "limits.per_ip.rate", OPT_FLOAT, O(per_ip_rate), 0, 1e6, 10,
	    NULL },
	{ "limits.per_ip.burst", OPT_FLOAT, O(per_ip_burst), 1, 1e6, 40,
	    NULL },
	{ "limits.per_ip.tunnels", OPT_INT, O(per_ip_tunnels), 1, 1e6, 256,
	    NULL },
	{ "limits.per_ip.ipv6_prefix", OPT_INT, O(ipv6_prefix), 32, 128,
	    64, NULL },
	{ "limits.table_size", OPT_INT, O(table_size), 16, 1e7, 65536,
	    NULL },
	{ "limits.tunnels", OPT_INT, O(max_tunnels), 1, 1e6, 4096, NULL },
	{ "limits.header_timeout", OPT_FLOAT, O(header_timeout_s), 0.1, 600,
	    10, NULL },
	{ "limits.connect_timeout", OPT_FLOAT, O(connect_timeout_s), 0.1,
	    600, 10, NULL },
	{ "limits.idle_timeout", OPT_FLOAT, O(idle_timeout_s), 1, 86400 * 7,
	    900, NULL },
	{ "limits.max_lifetime", OPT_FLOAT, O(max_lifetime_s), 0,
	    86400 * 365, 0, NULL },
	{ "limits.protocol_timeout", OPT_FLOAT, O(protocol_timeout_s), 0.1,
	    600, 10, NULL },
	{ "limits.max_header_bytes", OPT_INT, O(max_header_bytes), 1024,
	    1 << 20, 16384, NULL },
	{ "limits.max_headers", OPT_INT, O(max_headers), 4, 1000, 64,
	    NULL },
	{ "limits.tunnel_buffer", OPT_INT, O(tunnel_buffer), 4096, 1 << 24,
	    65536, NULL },
	{ "limits.delay_connect", OPT_BOOL, O(delay_connect), 0, 1, 0,
	    NULL },
	{ "limits.log_aggregate_interval", OPT_FLOAT, O(log_aggregate_s), 0,
	    3600, 10, NULL },
	{ "limits.per_user.rate", OPT_FLOAT, O(per_user_rate), 0, 1e6, 0,
	    NULL },
	{ "limits.per_user.burst", OPT_FLOAT, O(per_user_burst), 1, 1e6, 20,
	    NULL },
	{ "limits.per_user.tunnels", OPT_INT, O(per_user_tunnels), 0, 1e6,
	    0, NULL },
	{ "log.access", OPT_STRING, O(access_log), 0, 0, 0, NULL },
	{ "log.syslog", OPT_BOOL, O(log_syslog), 0, 1, 0, NULL },
	{ "log.syslog_facility", OPT_STRING, O(syslog_facility), 0, 0, 0,
	    "daemon" },
	{ "geo.database", OPT_STRING, O(geo_database), 0, 0, 0, NULL },
};

/* Settings read by the structured readers below ("[]": list item). */
static const char *const structured[] = {
	"listen", "listen.[]", "listen.[].address", "listen.[].port",
	"listen.[].tls", "listen.[].tls.certificate", "listen.[].tls.key",
	"listen.[].tls.client_ca",
	"clients", "clients.allow", "clients.allow.[]",
	"auth", "auth.lockout",
	"allow", "allow.[]", "allow.[].hosts", "allow.[].hosts.[]",
	"allow.[].ports", "allow.[].ports.[]", "allow.[].addresses",
	"allow.[].addresses.[]", "allow.[].users", "allow.[].users.[]",
	"allow.[].protocol", "allow.[].countries", "allow.[].countries.[]",
	"destinations", "destinations.allow_internal",
	"destinations.allow_internal.[]",
	"resolver", "resolver.nameservers", "resolver.nameservers.[]",
	"limits", "limits.per_ip", "limits.per_user",
	"log", "log.format",
	"geo", "geo.private_clients", "geo.private_clients.[]",
	"geo.lookup_path", "geo.lookup_path.[]",
	"geo.clients", "geo.destinations",
	"geo.clients.allow", "geo.clients.allow.[]", "geo.clients.deny",
	"geo.clients.deny.[]", "geo.clients.unknown",
	"geo.destinations.allow", "geo.destinations.allow.[]",
	"geo.destinations.deny", "geo.destinations.deny.[]",
	"geo.destinations.unknown",
};


static void
cfg_err(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list		 ap;
	const char	*file = s ? config_setting_source_file(s) : NULL;
	struct cfg_msg	*m;
	size_t		 i;
	int		 n;

	ld->errors++;
	if (ld->nmsgs == CFG_MSGS_MAX)
		return;
	m = &ld->msgs[ld->nmsgs++];
	m->file = ld->n;
	m->line = file != NULL ? config_setting_source_line(s) : 0;
	for (i = 0; file != NULL && i < ld->n; i++)
		if (strcmp(ld->paths[i], file) == 0)
			m->file = i;
	if (file != NULL)
		n = snprintf(m->text, sizeof(m->text), "%s:%u: ", file,
		    m->line);
	else
		n = snprintf(m->text, sizeof(m->text), "%s: ", ld->last_file ?
		    ld->last_file : "configuration");
	if (n < 0 || (size_t)n >= sizeof(m->text))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(m->text + n, sizeof(m->text) - (size_t)n, fmt, ap);
	va_end(ap);
}


static int
cfg_msg_cmp(const void *a, const void *b)
{
	const struct cfg_msg	*x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x < y ? -1 : x > y;
}


/* Print every error, by file (in the order given) and line. */
static void
cfg_print_errors(struct loader *ld)
{
	size_t	 i;

	qsort(ld->msgs, ld->nmsgs, sizeof(ld->msgs[0]), cfg_msg_cmp);
	for (i = 0; i < ld->nmsgs; i++)
		fprintf(stderr, "%s\n", ld->msgs[i].text);
	if ((size_t)ld->errors > ld->nmsgs)
		fprintf(stderr, "... and %zu more errors\n",
		    (size_t)ld->errors - ld->nmsgs);
}


/* The setting at path, from the last file that sets its top group. */
static config_setting_t *
cfg_lookup(struct loader *ld, const char *path)
{
	char	 top[64];
	size_t	 i, len;

	len = strcspn(path, ".");
	if (len >= sizeof(top))
		return NULL;
	memcpy(top, path, len);
	top[len] = '\0';
	for (i = ld->n; i-- > 0;) {
		if (config_lookup(&ld->cfg[i], top) != NULL)
			return config_lookup(&ld->cfg[i], path);
	}
	return NULL;
}


static bool
cfg_known(const char *path)
{
	size_t	 i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(opts[i].path, path) == 0)
			return true;
	for (i = 0; i < sizeof(structured) / sizeof(structured[0]); i++)
		if (strcmp(structured[i], path) == 0)
			return true;
	return false;
}


/* Walk a tree and report every setting no reader knows. */
static void
cfg_check_names(struct loader *ld, config_setting_t *s, const char *path)
{
	char		 sub[256];
	const char	*name;
	int		 i, n;

	if (path[0] != '\0' && !cfg_known(path)) {
		cfg_err(ld, s, "unknown setting '%s'", path);
		return;
	}
	if (!config_setting_is_aggregate(s))
		return;
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		config_setting_t *c = config_setting_get_elem(s, i);

		name = config_setting_name(c);
		snprintf(sub, sizeof(sub), "%s%s%s", path,
		    path[0] ? "." : "", name ? name : "[]");
		cfg_check_names(ld, c, sub);
	}
}


static char *
xstrdup(struct loader *ld, const char *s)
{
	char	*d = strdup(s);

	if (d == NULL) {
		fprintf(stderr, "config: out of memory\n");
		ld->errors++;
	}
	return d;
}


static int
cfg_number(const config_setting_t *s, double *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*out = config_setting_get_int(s);
		return 0;
	case CONFIG_TYPE_INT64:
		*out = (double)config_setting_get_int64(s);
		return 0;
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_get_float(s);
		return 0;
	default:
		return -1;
	}
}


static void
cfg_read_opt(struct loader *ld, struct config *c, const struct opt *o)
{
	config_setting_t *s = cfg_lookup(ld, o->path);
	char		 *base = (char *)c + o->offset;
	double		  v = o->def_num;
	const char	 *str = o->def_str;

	if (s != NULL && o->type == OPT_STRING) {
		str = config_setting_get_string(s);
		if (str == NULL)
			cfg_err(ld, s, "%s: expected a string", o->path);
	} else if (s != NULL && o->type == OPT_BOOL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			cfg_err(ld, s, "%s: expected true or false", o->path);
		else
			v = config_setting_get_bool(s);
	} else if (s != NULL) {
		if (cfg_number(s, &v) == -1)
			cfg_err(ld, s, "%s: expected a number", o->path);
		else if (v < o->min || v > o->max)
			cfg_err(ld, s, "%s: %g is out of range %g..%g",
			    o->path, v, o->min, o->max);
		else if (o->type == OPT_INT && v != (double)(long)v)
			cfg_err(ld, s, "%s: expected a whole number", o->path);
	}

	switch (o->type) {
	case OPT_STRING:
		*(char **)(void *)base = str && *str ? xstrdup(ld, str) : NULL;
		break;
	case OPT_BOOL:
		*(bool *)(void *)base = v != 0;
		break;
	case OPT_INT:
		*(int *)(void *)base = (int)v;
		break;
	case OPT_FLOAT:
		*(double *)(void *)base = v;
		break;
	}
}


/* A list of strings at path (absent: empty).  Returns the count. */
static size_t
cfg_strings(struct loader *ld, config_setting_t *s, const char *what,
    char ***out)
{
	size_t	 i, n;

	*out = NULL;
	if (s == NULL)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		cfg_err(ld, s, "%s: expected a list [ ... ]", what);
		return 0;
	}
	n = (size_t)config_setting_length(s);
	if (n == 0)
		return 0;
	if ((*out = calloc(n + 1, sizeof(char *))) == NULL) {
		cfg_err(ld, s, "out of memory");
		return 0;
	}
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (int)i);
		const char	 *v = config_setting_get_string(e);

		if (v == NULL) {
			cfg_err(ld, e, "%s: expected a string", what);
			v = "";
		}
		(*out)[i] = xstrdup(ld, v);
	}
	return n;
}


static void
cfg_free_strings(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}


static void
cfg_netset(struct loader *ld, const char *path, struct netset *set)
{
	config_setting_t *s = cfg_lookup(ld, path);
	char		**v;
	size_t		  i, n;

	n = cfg_strings(ld, s, path, &v);
	for (i = 0; i < n; i++) {
		if (v[i] && netset_add(set, v[i]) == -1)
			cfg_err(ld, config_setting_get_elem(s, (int)i),
			    "%s: '%s' is not an address or CIDR range",
			    path, v[i]);
	}
	cfg_free_strings(v, n);
}


/* A port in s; parent names the place when s is absent. */
static int
cfg_port(struct loader *ld, config_setting_t *s, config_setting_t *parent,
    const char *what, uint16_t *port, bool zero_ok)
{
	double	 v;

	if (s == NULL || cfg_number(s, &v) == -1 || v != (double)(long)v ||
	    v < (zero_ok ? 0 : 1) || v > 65535) {
		cfg_err(ld, s ? s : parent, "%s: expected a port number "
		    "%d..65535", what, zero_ok ? 0 : 1);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}


static void
cfg_listen_one(struct loader *ld, config_setting_t *e, struct listen_cfg *l)
{
	config_setting_t *tls;
	const char	 *v;

	if (config_setting_lookup_string(e, "address", &v) != CONFIG_TRUE) {
		cfg_err(ld, e, "listen: each entry needs address = \"...\"");
		return;
	}
	l->address = xstrdup(ld, v);
	cfg_port(ld, config_setting_get_member(e, "port"), e, "listen.port",
	    &l->port, true);
	if ((tls = config_setting_get_member(e, "tls")) == NULL)
		return;
	l->tls = true;
	if (config_setting_lookup_string(tls, "certificate", &v) ==
	    CONFIG_TRUE)
		l->certificate = xstrdup(ld, v);
	if (config_setting_lookup_string(tls, "key", &v) == CONFIG_TRUE)
		l->key = xstrdup(ld, v);
	if (config_setting_lookup_string(tls, "client_ca", &v) == CONFIG_TRUE)
		l->client_ca = xstrdup(ld, v);
	if (l->certificate == NULL || l->key == NULL)
		cfg_err(ld, tls, "listen.tls: certificate and key are needed");
}


static void
cfg_listen(struct loader *ld, struct config *c)
{
	config_setting_t *s = cfg_lookup(ld, "listen");
	size_t		  i, n;

	if (s == NULL || !config_setting_is_list(s) ||
	    (n = (size_t)config_setting_length(s)) == 0) {
		cfg_err(ld, s, "listen: a list ( { address = ...; port = ...; }"
		    " ) with at least one entry is needed");
		return;
	}
	if ((c->listen = calloc(n, sizeof(*c->listen))) == NULL) {
		cfg_err(ld, s, "out of memory");
		return;
	}
	c->nlisten = n;
	for (i = 0; i < n; i++)
		cfg_listen_one(ld, config_setting_get_elem(s, (int)i),
		    &c->listen[i]);
}


static int
cfg_proto(struct loader *ld, config_setting_t *e, enum allow_proto *p)
{
	const char	*v = "tls";

	config_setting_lookup_string(e, "protocol", &v);
	if (strcmp(v, "tls") == 0)
		*p = ALLOW_PROTO_TLS;
	else if (strcmp(v, "ssh") == 0)
		*p = ALLOW_PROTO_SSH;
	else if (strcmp(v, "any") == 0)
		*p = ALLOW_PROTO_ANY;
	else {
		cfg_err(ld, config_setting_get_member(e, "protocol"),
		    "allow.protocol: '%s' is not tls, ssh or any", v);
		return -1;
	}
	return 0;
}


static void
cfg_rule_hosts(struct loader *ld, config_setting_t *e, struct allow_rule *r)
{
	config_setting_t *s = config_setting_get_member(e, "hosts");
	size_t		  i;

	r->nhosts = cfg_strings(ld, s, "allow.hosts", &r->hosts);
	for (i = 0; i < r->nhosts; i++) {
		char	*h = r->hosts[i];

		if (h == NULL || allow_normalise_pattern(h) == -1)
			cfg_err(ld, config_setting_get_elem(s, (int)i),
			    "allow.hosts: '%s' is not a host name or *.suffix",
			    h ? h : "");
	}
}


/*
 * A list of ISO 3166 alpha-2 codes at s (absent: empty), upper-cased;
 * anything but two ASCII letters is an error.  Returns the count.
 */
static size_t
cfg_countries(struct loader *ld, config_setting_t *s, const char *what,
    char ***out)
{
	size_t	 i, n = cfg_strings(ld, s, what, out);
	char	*v;

	for (i = 0; i < n; i++) {
		if ((v = (*out)[i]) == NULL)
			continue;
		if (strlen(v) != 2 || !isalpha((unsigned char)v[0]) ||
		    !isalpha((unsigned char)v[1])) {
			cfg_err(ld, config_setting_get_elem(s, (int)i),
			    "%s: '%s' is not a two-letter country code",
			    what, v);
			continue;
		}
		v[0] = (char)toupper((unsigned char)v[0]);
		v[1] = (char)toupper((unsigned char)v[1]);
	}
	return n;
}


static void
cfg_rule(struct loader *ld, config_setting_t *e, struct allow_rule *r)
{
	config_setting_t *s;
	char		**addrs;
	size_t		  i, n;

	r->line = (int)config_setting_source_line(e);
	cfg_rule_hosts(ld, e, r);
	s = config_setting_get_member(e, "addresses");
	n = cfg_strings(ld, s, "allow.addresses", &addrs);
	for (i = 0; i < n; i++)
		if (addrs[i] && netset_add(&r->addrs, addrs[i]) == -1)
			cfg_err(ld, config_setting_get_elem(s, (int)i),
			    "allow.addresses: '%s' is not an address or range",
			    addrs[i]);
	cfg_free_strings(addrs, n);
	if (r->nhosts == 0 && r->addrs.n == 0)
		cfg_err(ld, e, "allow: a rule needs hosts or addresses");

	s = config_setting_get_member(e, "ports");
	if (s == NULL || config_setting_length(s) == 0) {
		cfg_err(ld, e, "allow: a rule needs ports = [ ... ]");
	} else {
		r->nports = (size_t)config_setting_length(s);
		r->ports = calloc(r->nports, sizeof(*r->ports));
		for (i = 0; r->ports && i < r->nports; i++)
			cfg_port(ld, config_setting_get_elem(s, (int)i), s,
			    "allow.ports", &r->ports[i], false);
	}
	r->nusers = cfg_strings(ld, config_setting_get_member(e, "users"),
	    "allow.users", &r->users);
	cfg_proto(ld, e, &r->proto);
	s = config_setting_get_member(e, "countries");
	r->ncountries = cfg_countries(ld, s, "allow.countries",
	    &r->countries);
	if (r->ncountries > 0 && ld->geo_off)
		cfg_err(ld, s, "allow.countries: needs geo.database");
}


static void
cfg_allow(struct loader *ld, struct config *c)
{
	config_setting_t *s = cfg_lookup(ld, "allow");
	size_t		  i, n;

	if (s == NULL)
		return;		/* deny everything */
	if (!config_setting_is_list(s)) {
		cfg_err(ld, s, "allow: expected a list ( { ... }, ... )");
		return;
	}
	n = (size_t)config_setting_length(s);
	if (n == 0)
		return;
	if ((c->allow.rules = calloc(n, sizeof(*c->allow.rules))) == NULL) {
		cfg_err(ld, s, "out of memory");
		return;
	}
	c->allow.nrules = n;
	for (i = 0; i < n; i++)
		cfg_rule(ld, config_setting_get_elem(s, (int)i),
		    &c->allow.rules[i]);
}


static void
cfg_geo_policy(struct loader *ld, const char *path, struct geo_policy *p)
{
	char		  buf[64];
	const char	 *v;
	config_setting_t *s;

	snprintf(buf, sizeof(buf), "%s.allow", path);
	p->nallow = cfg_countries(ld, cfg_lookup(ld, buf), buf, &p->allow);
	snprintf(buf, sizeof(buf), "%s.deny", path);
	p->ndeny = cfg_countries(ld, cfg_lookup(ld, buf), buf, &p->deny);
	snprintf(buf, sizeof(buf), "%s.unknown", path);
	p->unknown = GEO_UNKNOWN_ALLOW;
	if ((s = cfg_lookup(ld, buf)) == NULL)
		return;
	v = config_setting_get_string(s);
	if (v != NULL && strcmp(v, "deny") == 0)
		p->unknown = GEO_UNKNOWN_DENY;
	else if (v == NULL || strcmp(v, "allow") != 0)
		cfg_err(ld, s, "%s: expected \"allow\" or \"deny\"", buf);
	if (p->nallow > 0 && p->ndeny > 0)
		cfg_err(ld, s, "%s: give allow or deny, not both", path);
}


static void
cfg_misc(struct loader *ld, struct config *c)
{
	config_setting_t *s;
	const char	 *v;

	c->nnameservers = cfg_strings(ld, cfg_lookup(ld,
	    "resolver.nameservers"), "resolver.nameservers",
	    &c->nameservers);
	c->log_json = true;
	if ((s = cfg_lookup(ld, "log.format")) != NULL) {
		v = config_setting_get_string(s);
		if (v != NULL && strcmp(v, "text") == 0)
			c->log_json = false;
		else if (v == NULL || strcmp(v, "json") != 0)
			cfg_err(ld, s, "log.format: expected \"json\" or "
			    "\"text\"");
	}
	if (c->auth_required && c->users_file == NULL) {
		bool	 any_cert = false;
		size_t	 i;

		for (i = 0; i < c->nlisten; i++)
			any_cert |= c->listen[i].client_ca != NULL;
		if (!any_cert)
			cfg_err(ld, cfg_lookup(ld, "auth"), "auth: required "
			    "is true but there is no users_file and no "
			    "listener with client_ca (set auth.required = "
			    "false to run without authentication)");
	}
	if (strcmp(c->cert_user_field, "cn") != 0 &&
	    strcmp(c->cert_user_field, "san") != 0)
		cfg_err(ld, cfg_lookup(ld, "auth.certificate_user"),
		    "auth.certificate_user: expected \"cn\" or \"san\"");
}


static int
cfg_open(struct loader *ld, char *const *files, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		config_init(&ld->cfg[i]);
		ld->n = i + 1;
		ld->last_file = ld->paths[i] = files[i];
		if (config_read_file(&ld->cfg[i], files[i]) == CONFIG_TRUE)
			continue;
		if (config_error_type(&ld->cfg[i]) == CONFIG_ERR_FILE_IO)
			fprintf(stderr, "%s: cannot read: %s\n", files[i],
			    strerror(errno));
		else
			fprintf(stderr, "%s:%d: %s\n",
			    config_error_file(&ld->cfg[i]) ?
			    config_error_file(&ld->cfg[i]) : files[i],
			    config_error_line(&ld->cfg[i]),
			    config_error_text(&ld->cfg[i]));
		return -1;
	}
	return 0;
}


struct config *
config_load(char *const *files, size_t n)
{
	struct loader	 ld;
	struct config	*c;
	size_t		 i;

	memset(&ld, 0, sizeof(ld));
	if (n == 0 || n > CONFIG_MAX_FILES || (c = calloc(1, sizeof(*c)))
	    == NULL)
		return NULL;
	c->refs = 1;
	if (cfg_open(&ld, files, n) == -1)
		goto fail;

	for (i = 0; i < ld.n; i++)
		cfg_check_names(&ld, config_root_setting(&ld.cfg[i]), "");
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		cfg_read_opt(&ld, c, &opts[i]);
	cfg_listen(&ld, c);
	cfg_netset(&ld, "clients.allow", &c->clients_allow);
	ld.geo_off = c->geo_database == NULL;
	cfg_allow(&ld, c);
	cfg_netset(&ld, "destinations.allow_internal", &c->allow_internal);
	cfg_netset(&ld, "geo.private_clients", &c->geo_private_clients);
	c->ngeo_lookup = cfg_strings(&ld, cfg_lookup(&ld, "geo.lookup_path"),
	    "geo.lookup_path", &c->geo_lookup);
	if (c->ngeo_lookup > GEO_LOOKUP_MAX)
		cfg_err(&ld, cfg_lookup(&ld, "geo.lookup_path"),
		    "geo.lookup_path: at most %d components", GEO_LOOKUP_MAX);
	cfg_geo_policy(&ld, "geo.clients", &c->geo_clients);
	cfg_geo_policy(&ld, "geo.destinations", &c->geo_destinations);
	cfg_misc(&ld, c);
	for (i = 0; i < n; i++)
		if ((c->files[i] = strdup(files[i])) != NULL)
			c->nfiles = i + 1;
	if (ld.errors > 0)
		goto fail;

	for (i = 0; i < ld.n; i++)
		config_destroy(&ld.cfg[i]);
	return c;
 fail:
	cfg_print_errors(&ld);
	for (i = 0; i < ld.n; i++)
		config_destroy(&ld.cfg[i]);
	config_unref(c);
	return NULL;
}


struct config *
config_ref(struct config *c)
{
	c->refs++;
	return c;
}


static void
config_free_policy(struct geo_policy *p)
{
	cfg_free_strings(p->allow, p->nallow);
	cfg_free_strings(p->deny, p->ndeny);
}


void
config_unref(struct config *c)
{
	size_t	 i;

	if (c == NULL || --c->refs > 0)
		return;
	for (i = 0; i < c->nlisten; i++) {
		free(c->listen[i].address);
		free(c->listen[i].certificate);
		free(c->listen[i].key);
		free(c->listen[i].client_ca);
	}
	free(c->listen);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].type == OPT_STRING)
			free(*(char **)(void *)((char *)c + opts[i].offset));
	netset_free(&c->clients_allow);
	netset_free(&c->allow_internal);
	netset_free(&c->geo_private_clients);
	allow_free(&c->allow);
	cfg_free_strings(c->nameservers, c->nnameservers);
	cfg_free_strings(c->geo_lookup, c->ngeo_lookup);
	config_free_policy(&c->geo_clients);
	config_free_policy(&c->geo_destinations);
	free(c);
}
