/*
 * reason: the one table of session outcomes.
 *
 * Every session ends with exactly one reason from this table.  The table
 * gives, for each reason, the word written to the access log, the HTTP
 * status sent to the client (0: nothing is sent, either because the
 * tunnel was already established or because the connection is dropped
 * without an answer) and the RFC 9209 Proxy-Status error type (NULL:
 * no Proxy-Status header).  The enum, the log words, the metrics and the
 * client answer all come from here, so no reason can exist in one place
 * and not the others.
 */
#ifndef EGRESSD_REASON_H
#define EGRESSD_REASON_H

/*     name                 log word                status  proxy-status */
#define REASON_TABLE(X)							\
	X(NONE,			"none",			0, NULL)	\
	/* tunnels that were established: 200 already sent */	\
	X(CLIENT_CLOSED,	"client_closed",	0, NULL)	\
	X(UPSTREAM_CLOSED,	"upstream_closed",	0, NULL)	\
	X(CLIENT_ERROR,		"client_error",		0, NULL)	\
	X(UPSTREAM_ERROR,	"upstream_error",	0, NULL)	\
	X(IDLE_TIMEOUT,		"idle_timeout",		0, NULL)	\
	X(MAX_LIFETIME,		"max_lifetime",		0, NULL)	\
	X(SHUTDOWN,		"shutdown",		0, NULL)	\
	X(USER_REVOKED,		"user_revoked",		0, NULL)	\
	X(SNI_MISMATCH,		"sni_mismatch",		0, NULL)	\
	X(SNI_MISSING,		"sni_missing",		0, NULL)	\
	X(NOT_TLS,		"not_tls",		0, NULL)	\
	X(NOT_SSH,		"not_ssh",		0, NULL)	\
	X(PROTOCOL_TIMEOUT,	"protocol_check_timeout", 0, NULL)	\
	/* answered before a tunnel: malformed requests */		\
	X(BAD_REQUEST_LINE,	"malformed_request_line", 400,		\
	    "http_request_error")					\
	X(BAD_VERSION,		"unsupported_version",	400,		\
	    "http_request_error")					\
	X(BAD_HEADER,		"malformed_header",	400,		\
	    "http_request_error")					\
	X(DUPLICATE_HOST,	"duplicate_host",	400,		\
	    "http_request_error")					\
	X(BODY_FRAMING,		"body_framing_on_connect", 400,	\
	    "http_request_error")					\
	X(BAD_TARGET,		"malformed_target",	400,		\
	    "http_request_error")					\
	X(USERINFO,		"userinfo_not_allowed",	400,		\
	    "http_request_error")					\
	X(BAD_PORT,		"malformed_port",	400,		\
	    "http_request_error")					\
	X(BAD_HOST,		"malformed_host",	400,		\
	    "http_request_error")					\
	X(HOST_TOO_LONG,	"host_too_long",	400,		\
	    "http_request_error")					\
	X(BAD_METHOD,		"method_not_allowed",	405,		\
	    "http_request_error")					\
	X(HEADER_TOO_LARGE,	"header_too_large",	431,		\
	    "http_request_error")					\
	X(TOO_MANY_HEADERS,	"too_many_headers",	431,		\
	    "http_request_error")					\
	X(HEADER_TIMEOUT,	"header_timeout",	408,		\
	    "http_request_error")					\
	X(CLIENT_EOF_IN_HEAD,	"client_closed_in_head", 0, NULL)	\
	X(TLS_HANDSHAKE,	"tls_handshake_failed",	0, NULL)	\
	/* ended by the daemon before a 200 (SHUTDOWN, USER_REVOKED) */ \
	X(SHUTDOWN_EARLY,	"shutdown_before_tunnel", 503,		\
	    "proxy_internal_response")					\
	X(USER_REVOKED_EARLY,	"user_revoked_before_tunnel", 407,	\
	    "http_request_denied")					\
	/* authentication */						\
	X(AUTH_REQUIRED,	"auth_required",	407,		\
	    "http_request_denied")					\
	X(AUTH_BAD_SYNTAX,	"auth_bad_syntax",	407,		\
	    "http_request_denied")					\
	X(AUTH_FAILED,		"auth_failed",		407,		\
	    "http_request_denied")					\
	X(AUTH_SOURCE,		"auth_source_not_allowed", 407,	\
	    "http_request_denied")					\
	X(AUTH_LOCKED,		"auth_locked_out",	429,		\
	    "http_request_denied")					\
	/* limits */							\
	X(RATE_LIMITED,		"rate_limited",		429,		\
	    "connection_limit_reached")					\
	X(CLIENT_CONN_LIMIT,	"client_connection_limit", 429,	\
	    "connection_limit_reached")					\
	X(USER_CONN_LIMIT,	"user_connection_limit", 429,		\
	    "connection_limit_reached")					\
	X(USER_RATE_LIMITED,	"user_rate_limited",	429,		\
	    "connection_limit_reached")					\
	X(OVERLOADED,		"proxy_overloaded",	503,		\
	    "connection_limit_reached")					\
	/* policy */							\
	X(CLIENT_DENIED,	"client_not_allowed",	403,		\
	    "http_request_denied")					\
	X(CLIENT_GEO_DENIED,	"client_country_denied", 403,		\
	    "http_request_denied")					\
	X(HOST_NOT_ALLOWED,	"host_not_allowed",	403,		\
	    "http_request_denied")					\
	X(PORT_NOT_ALLOWED,	"port_not_allowed",	403,		\
	    "http_request_denied")					\
	X(IP_NOT_ALLOWED,	"ip_literal_not_allowed", 403,		\
	    "destination_ip_prohibited")				\
	X(NUMERIC_HOST,		"numeric_host_not_allowed", 403,	\
	    "destination_ip_prohibited")				\
	/* resolution and destination */				\
	X(DNS_ERROR,		"dns_error",		502, "dns_error") \
	X(DNS_TIMEOUT,		"dns_timeout",		504,		\
	    "dns_timeout")						\
	X(DEST_PROHIBITED,	"destination_ip_prohibited", 403,	\
	    "destination_ip_prohibited")				\
	X(DEST_GEO_DENIED,	"destination_country_denied", 403,	\
	    "destination_ip_prohibited")				\
	X(CONNECT_REFUSED,	"connection_refused",	502,		\
	    "connection_refused")					\
	X(CONNECT_TIMEOUT,	"connection_timeout",	504,		\
	    "connection_timeout")					\
	X(CONNECT_ERROR,	"destination_unavailable", 502,	\
	    "destination_unavailable")					\
	X(INTERNAL_ERROR,	"internal_error",	500,		\
	    "proxy_internal_error")

enum reason {
#define REASON_ENUM(name, word, status, ps) REASON_##name,
	REASON_TABLE(REASON_ENUM)
#undef REASON_ENUM
	REASON_COUNT
};

/* The log word of a reason; never NULL. */
const char	*reason_word(enum reason);
/* The HTTP status sent for a reason; 0 when nothing is sent. */
int		 reason_status(enum reason);
/* The RFC 9209 error type for a reason, or NULL. */
const char	*reason_proxy_status(enum reason);
/* The status line text for an HTTP status code ("Forbidden"). */
const char	*reason_status_text(int status);

#endif
