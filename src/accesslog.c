/*
 * accesslog: session records (see accesslog.h).
 *
 * Invariants: only the writer thread touches the file descriptor; the
 * queue is a byte buffer guarded by one mutex, never larger than
 * ACCESSLOG_QUEUE_MAX; the loop thread only appends and signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "escape.h"
#include "log.h"

#define ACCESSLOG_QUEUE_MAX	(8u << 20)
#define ACCESSLOG_RETRY_MS	1000
/*
 * Room for the longest record: every string field is cut at 2 KiB once
 * escaped (url.original at 1 KiB before), so a record stays well below
 * this and is never cut mid-JSON.
 */
#define ACCESSLOG_LINE_MAX	16384

struct accesslog {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	pthread_t	 thread;
	bool		 running;
	bool		 stopping;
	bool		 reopen;
	char		*path;
	bool		 json;
	bool		 use_syslog;
	int		 fd;
	char		*queue;
	size_t		 queued;
	uint64_t	 dropped;
	/* writer thread only: */
	uint64_t	 retry_ms;	/* next open attempt while fd is -1 */
	bool		 down;		/* the last open failed */
	struct log_limit limit_lost;
};

static struct accesslog al = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.fd = -1,
};


/* Appends to a line buffer; silently stops at the end. */
struct line {
	char	*p;
	size_t	 len, size;
};


static void
line_raw(struct line *l, const char *s)
{
	size_t	 n = strlen(s);

	if (l->len + n >= l->size)
		n = l->size - l->len - 1;
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}


static void
line_fmt(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
line_fmt(struct line *l, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(l->p + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < l->size - l->len ? (size_t)n :
		    l->size - l->len - 1;
}


/*
 * The key a field is written under: the last component of its dotted
 * ECS path in JSON (the nesting comes from line_js), the whole path in
 * the text form, so that source.ip and destination.ip stay apart.
 */
static const char *
line_key(bool json, const char *path)
{
	const char	*dot = strrchr(path, '.');

	return json && dot != NULL ? dot + 1 : path;
}


/*
 * A string field, escaped.  Absent (NULL or empty) is JSON null, so a
 * SIEM that maps source.ip or destination.ip as an address never meets
 * a placeholder it cannot index; the text form writes "-" bare.
 */
static void
line_str(struct line *l, bool json, const char *path, const char *v,
    size_t len)
{
	char		 esc[2048];
	const char	*key = line_key(json, path);

	if (v == NULL || len == 0) {
		if (json)
			line_fmt(l, "\"%s\":null", key);
		else
			line_fmt(l, " %s=-", key);
		return;
	}
	escape_json(esc, sizeof(esc), v, len);
	if (json)
		line_fmt(l, "\"%s\":\"%s\"", key, esc);
	else
		line_fmt(l, " %s=\"%s\"", key, esc);
}


/* A NUL-terminated string field, absent when NULL. */
static void
line_cstr(struct line *l, bool json, const char *path, const char *v)
{
	line_str(l, json, path, v, v != NULL ? strlen(v) : 0);
}


static void
line_num(struct line *l, bool json, const char *path, uint64_t v)
{
	const char	*key = line_key(json, path);

	if (json)
		line_fmt(l, "\"%s\":%" PRIu64, key, v);
	else
		line_fmt(l, " %s=%" PRIu64, key, v);
}


/* A number that does not apply when 0 (no status sent, no port). */
static void
line_num0(struct line *l, bool json, const char *path, uint64_t v)
{
	if (v != 0)
		line_num(l, json, path, v);
	else if (json)
		line_fmt(l, "\"%s\":null", line_key(json, path));
	else
		line_fmt(l, " %s=-", path);
}


/* JSON punctuation; text form ignores it. */
static void
line_js(struct line *l, bool json, const char *s)
{
	if (json)
		line_raw(l, s);
}


static void
accesslog_stamp(int64_t unix_ms, char *buf, size_t size)
{
	time_t		 t = (time_t)(unix_ms / 1000);
	struct tm	 tm;
	char		 base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03dZ", base, (int)(unix_ms % 1000));
}


/* event, source, user: who came and how it ended. */
static void
accesslog_format_who(struct line *l, bool j, const struct access_record *r)
{
	char		 stamp[40], id[20];

	accesslog_stamp(r->start_unix_ms, stamp, sizeof(stamp));
	snprintf(id, sizeof(id), "%016" PRIx64, r->session_id);
	line_js(l, j, "{");
	line_cstr(l, j, "@timestamp", stamp);
	line_js(l, j, ",\"event\":{");
	line_cstr(l, j, "event.id", id);
	line_js(l, j, ",");
	line_cstr(l, j, "event.kind", "event");
	line_js(l, j, ",");
	line_cstr(l, j, "event.action", "connect");
	line_js(l, j, ",");
	line_cstr(l, j, "event.outcome", r->tunnel ? "success" : "failure");
	line_js(l, j, ",");
	line_cstr(l, j, "event.reason", reason_word(r->reason));
	line_js(l, j, ",");
	line_num(l, j, "event.duration", r->duration_us * 1000);
	line_js(l, j, ",");
	line_num(l, j, "event.count", r->repeat ? r->repeat : 1);
	line_js(l, j, "},\"source\":{");
	line_cstr(l, j, "source.ip", r->source_ip);
	line_js(l, j, ",");
	line_num(l, j, "source.port", r->source_port);
	line_js(l, j, ",");
	line_num(l, j, "source.bytes", r->bytes_out);
	line_js(l, j, ",\"geo\":{");
	line_cstr(l, j, "source.geo.country_iso_code", r->source_country);
	line_js(l, j, "}},\"user\":{");
	line_cstr(l, j, "user.name", r->user);
	line_js(l, j, "},");
}


/* http, url, destination, network: what was asked and where it went. */
static void
accesslog_format_what(struct line *l, bool j,
    const struct access_record *r)
{
	line_js(l, j, "\"http\":{\"request\":{");
	line_str(l, j, "http.request.method", r->method, r->method_len);
	line_js(l, j, "},\"response\":{");
	line_num0(l, j, "http.response.status_code", (uint64_t)r->status);
	line_js(l, j, "}},\"url\":{");
	line_str(l, j, "url.original", r->target, r->target_len);
	line_js(l, j, "},\"destination\":{");
	line_cstr(l, j, "destination.domain", r->host);
	line_js(l, j, ",");
	line_num0(l, j, "destination.port", r->port);
	line_js(l, j, ",");
	line_cstr(l, j, "destination.ip", r->dest_ip);
	line_js(l, j, ",");
	line_num(l, j, "destination.bytes", r->bytes_in);
	line_js(l, j, ",\"geo\":{");
	line_cstr(l, j, "destination.geo.country_iso_code", r->dest_country);
	line_js(l, j, "}},\"network\":{");
	line_cstr(l, j, "network.transport", "tcp");
	line_js(l, j, ",");
	line_num(l, j, "network.bytes", r->bytes_out + r->bytes_in);
	line_js(l, j, "},\"tls\":{\"client\":{");
	line_cstr(l, j, "tls.client.server_name", r->sni);
	line_js(l, j, "}},");
}


/* egressd: the proxy's own fields (not in ECS). */
static void
accesslog_format_own(struct line *l, bool j, const struct access_record *r)
{
	line_js(l, j, "\"egressd\":{");
	line_cstr(l, j, "egressd.listener", r->listener);
	line_js(l, j, ",");
	line_cstr(l, j, "egressd.auth", r->auth);
	line_js(l, j, ",");
	line_cstr(l, j, "egressd.protocol_check", r->protocol_check);
	line_js(l, j, ",");
	line_num(l, j, "egressd.connect_ms", r->connect_ms);
	line_js(l, j, ",\"dns\":{");
	line_num(l, j, "egressd.dns.answers", r->dns_answers);
	line_js(l, j, ",");
	line_num(l, j, "egressd.dns.discarded", r->dns_discarded);
	line_js(l, j, ",");
	line_cstr(l, j, "egressd.dns.discarded_reasons",
	    r->dns_discarded_why);
	line_js(l, j, ",");
	line_num(l, j, "egressd.dns.duration_ms", r->dns_ms);
	line_js(l, j, ",");
	line_cstr(l, j, "egressd.dns.error", r->dns_error);
	line_js(l, j, "}}}");
}


size_t
accesslog_format(const struct access_record *r, bool j, char *buf,
    size_t size)
{
	struct line	 l = { buf, 0, size };

	buf[0] = '\0';
	accesslog_format_who(&l, j, r);
	accesslog_format_what(&l, j, r);
	accesslog_format_own(&l, j, r);
	if (!j && l.len > 0 && buf[0] == ' ')
		memmove(buf, buf + 1, l.len--);
	return l.len;
}


/* Writer thread, under the mutex: (re)open al.path. */
static void
accesslog_open_file(void)
{
	if (al.fd != -1)
		close(al.fd);
	al.fd = -1;
	if (al.path == NULL)
		return;
	al.fd = open(al.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (al.fd == -1) {
		/* once per outage, not once per retry */
		if (!al.down)
			log_warn("accesslog: %s: cannot open: records are "
			    "held (up to %u MiB) and the file tried again "
			    "every %d s", al.path, ACCESSLOG_QUEUE_MAX >> 20,
			    ACCESSLOG_RETRY_MS / 1000);
		al.down = true;
		al.retry_ms = log_now_ms() + ACCESSLOG_RETRY_MS;
	} else if (al.down) {
		log_info("accesslog: %s: open again", al.path);
		al.down = false;
	}
}


/*
 * Writer thread, under the mutex: wait for records to write, reopening
 * the file when asked.  While the file cannot be opened the records
 * stay queued (and the loop counts what no longer fits as dropped), so
 * an access log directory that comes back within seconds loses nothing.
 */
static void
accesslog_wait(void)
{
	struct timespec	 ts;
	bool		 down;

	for (;;) {
		if (al.reopen || (al.fd == -1 && al.path != NULL &&
		    log_now_ms() >= al.retry_ms)) {
			al.reopen = false;
			accesslog_open_file();
		}
		down = al.fd == -1 && al.path != NULL;
		if (al.stopping || (al.queued > 0 && !down))
			return;
		if (!down) {
			pthread_cond_wait(&al.cond, &al.mtx);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += ACCESSLOG_RETRY_MS / 1000;
		pthread_cond_timedwait(&al.cond, &al.mtx, &ts);
	}
}


/* Records in buf[0..len), a line each; a cut last line counts. */
static uint64_t
accesslog_lines(const char *buf, size_t len)
{
	uint64_t	 n = 0;
	const char	*nl;

	while (len > 0) {
		n++;
		if ((nl = memchr(buf, '\n', len)) == NULL)
			break;
		len -= (size_t)(nl - buf) + 1;
		buf = nl + 1;
	}
	return n;
}


/*
 * Writer thread: write a batch to the file and to syslog.  Records the
 * file cannot take (not open, or a write error such as a full disk) are
 * counted as lost in the error log, never dropped silently; the writer
 * tries to open the file again every ACCESSLOG_RETRY_MS.
 */
static void
accesslog_flush(const char *path, const char *buf, size_t len,
    bool use_syslog)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (al.fd != -1 && off < len) {
		n = write(al.fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("accesslog: %s: write failed", path);
			break;
		}
		off += (size_t)n;
	}
	if (path[0] != '\0' && off < len)
		log_limited(&al.limit_lost, "accesslog: %s: %" PRIu64
		    " records lost", path, accesslog_lines(buf + off,
		    len - off));
	while (use_syslog && len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t	    ll = nl ? (size_t)(nl - buf) : len;

		syslog(LOG_INFO, "%.*s", (int)ll, buf);
		if (nl == NULL)
			break;
		len -= ll + 1;
		buf = nl + 1;
	}
}


static void *
accesslog_main(void *arg)
{
	char		*batch = NULL, *full;
	char		 path[4096];
	size_t		 len;
	bool		 stop, use_syslog;
	uint64_t	 dropped;

	(void)arg;
	/* Two buffers swap between the loop and this thread. */
	for (;;) {
		pthread_mutex_lock(&al.mtx);
		accesslog_wait();
		snprintf(path, sizeof(path), "%s", al.path ? al.path : "");
		full = al.queue;
		len = al.queued;
		al.queue = batch;
		al.queued = 0;
		batch = full;
		stop = al.stopping;
		use_syslog = al.use_syslog;
		dropped = al.dropped;
		al.dropped = 0;
		pthread_mutex_unlock(&al.mtx);

		if (dropped > 0)
			log_warnx("accesslog: queue full: %" PRIu64
			    " records dropped", dropped);
		if (len > 0)
			accesslog_flush(path, batch, len, use_syslog);
		if (stop && len == 0)
			break;
	}
	free(batch);
	return NULL;
}


int
accesslog_open(const char *path, bool json, bool use_syslog)
{
	int	 fd = -1;

	if (path != NULL) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0640);
		if (fd == -1)
			return -1;
	}
	al.path = path ? strdup(path) : NULL;
	al.fd = fd;
	al.json = json;
	al.use_syslog = use_syslog;
	if (pthread_create(&al.thread, NULL, accesslog_main, NULL) != 0) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	al.running = true;
	return 0;
}


int
accesslog_configure(const char *path, bool json, bool use_syslog)
{
	char	*p = path ? strdup(path) : NULL;

	if (path != NULL && p == NULL)
		return -1;
	pthread_mutex_lock(&al.mtx);
	al.json = json;
	al.use_syslog = use_syslog;
	if ((p == NULL) != (al.path == NULL) ||
	    (p != NULL && strcmp(p, al.path) != 0))
		al.reopen = true;
	free(al.path);
	al.path = p;
	pthread_cond_signal(&al.cond);
	pthread_mutex_unlock(&al.mtx);
	return 0;
}


void
accesslog_write(const struct access_record *r)
{
	char	 buf[ACCESSLOG_LINE_MAX];
	size_t	 len;
	char	*q;
	bool	 json;

	/* format outside the lock: the writer thread is not held up */
	pthread_mutex_lock(&al.mtx);
	json = al.json;
	pthread_mutex_unlock(&al.mtx);
	len = accesslog_format(r, json, buf, sizeof(buf) - 1);
	buf[len++] = '\n';
	pthread_mutex_lock(&al.mtx);
	if (!al.running || al.queued + len > ACCESSLOG_QUEUE_MAX) {
		al.dropped++;
		goto out;
	}
	if (al.queue == NULL && (al.queue = malloc(ACCESSLOG_QUEUE_MAX))
	    == NULL) {
		al.dropped++;
		goto out;
	}
	q = al.queue;
	memcpy(q + al.queued, buf, len);
	/* the writer sleeps only on an empty queue: wake it once per batch */
	if (al.queued == 0)
		pthread_cond_signal(&al.cond);
	al.queued += len;
 out:
	pthread_mutex_unlock(&al.mtx);
}


void
accesslog_reopen(void)
{
	pthread_mutex_lock(&al.mtx);
	al.reopen = true;
	pthread_cond_signal(&al.cond);
	pthread_mutex_unlock(&al.mtx);
}


void
accesslog_close(void)
{
	if (!al.running)
		return;
	pthread_mutex_lock(&al.mtx);
	al.stopping = true;
	pthread_cond_signal(&al.cond);
	pthread_mutex_unlock(&al.mtx);
	pthread_join(al.thread, NULL);
	al.running = false;
	free(al.queue);
	al.queue = NULL;
	if (al.fd != -1)
		close(al.fd);
	al.fd = -1;
	free(al.path);
	al.path = NULL;
}
