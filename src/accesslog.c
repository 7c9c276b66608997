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
#define ACCESSLOG_LINE_MAX	8192

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


/* A string field: escaped, "-" when absent. */
static void
line_str(struct line *l, bool json, const char *key, const char *v,
    size_t len)
{
	char	 esc[2048];

	if (v == NULL || len == 0) {
		v = "-";
		len = 1;
	}
	escape_json(esc, sizeof(esc), v, len);
	if (json)
		line_fmt(l, "\"%s\":\"%s\"", key, esc);
	else
		line_fmt(l, " %s=\"%s\"", key, esc);
}


static void
line_num(struct line *l, bool json, const char *key, uint64_t v)
{
	if (json)
		line_fmt(l, "\"%s\":%" PRIu64, key, v);
	else
		line_fmt(l, " %s=%" PRIu64, key, v);
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


static const char *
opt(const char *s)
{
	return s ? s : "-";
}


size_t
accesslog_format(const struct access_record *r, bool j, char *buf,
    size_t size)
{
	struct line	 l = { buf, 0, size };
	char		 stamp[40], id[20];

	buf[0] = '\0';
	accesslog_stamp(r->start_unix_ms, stamp, sizeof(stamp));
	snprintf(id, sizeof(id), "%016" PRIx64, r->session_id);
	line_js(&l, j, "{");
	line_str(&l, j, "@timestamp", stamp, strlen(stamp));
	line_js(&l, j, ",\"event\":{\"action\":\"connect\",");
	line_str(&l, j, "outcome", r->tunnel ? "success" : "failure", 7);
	line_js(&l, j, ",");
	line_str(&l, j, "reason", reason_word(r->reason),
	    strlen(reason_word(r->reason)));
	line_js(&l, j, ",");
	line_num(&l, j, "duration", r->duration_us * 1000);
	line_js(&l, j, ",");
	line_num(&l, j, "count", r->repeat ? r->repeat : 1);
	line_js(&l, j, "},");
	line_str(&l, j, "session", id, strlen(id));
	line_js(&l, j, ",\"source\":{");
	line_str(&l, j, "ip", opt(r->source_ip), strlen(opt(r->source_ip)));
	line_js(&l, j, ",");
	line_num(&l, j, "port", r->source_port);
	line_js(&l, j, ",\"geo\":{");
	line_str(&l, j, "country_iso_code", opt(r->source_country),
	    strlen(opt(r->source_country)));
	line_js(&l, j, "}},\"user\":{");
	line_str(&l, j, "name", r->user, r->user ? strlen(r->user) : 0);
	line_js(&l, j, "},\"http\":{\"request\":{");
	line_str(&l, j, "method", r->method, r->method_len);
	line_js(&l, j, "},\"response\":{");
	line_num(&l, j, "status_code", (uint64_t)r->status);
	line_js(&l, j, "}},\"url\":{");
	line_str(&l, j, "original", r->target, r->target_len);
	line_js(&l, j, "},\"destination\":{");
	line_str(&l, j, "domain", r->host, r->host ? strlen(r->host) : 0);
	line_js(&l, j, ",");
	line_num(&l, j, "port", r->port);
	line_js(&l, j, ",");
	line_str(&l, j, "ip", opt(r->dest_ip), strlen(opt(r->dest_ip)));
	line_js(&l, j, ",\"geo\":{");
	line_str(&l, j, "country_iso_code", opt(r->dest_country),
	    strlen(opt(r->dest_country)));
	line_js(&l, j, "}},\"dns\":{");
	line_num(&l, j, "answers", r->dns_answers);
	line_js(&l, j, ",");
	line_num(&l, j, "discarded", r->dns_discarded);
	line_js(&l, j, ",");
	line_str(&l, j, "discarded_reasons", opt(r->dns_discarded_why),
	    strlen(opt(r->dns_discarded_why)));
	line_js(&l, j, ",");
	line_num(&l, j, "duration_ms", r->dns_ms);
	line_js(&l, j, "},\"tls\":{\"client\":{");
	line_str(&l, j, "server_name", r->sni, r->sni ? strlen(r->sni) : 0);
	line_js(&l, j, "}},\"egressd\":{");
	line_str(&l, j, "listener", opt(r->listener), strlen(opt(r->listener)));
	line_js(&l, j, ",");
	line_str(&l, j, "protocol_check", opt(r->protocol_check),
	    strlen(opt(r->protocol_check)));
	line_js(&l, j, ",");
	line_num(&l, j, "connect_ms", r->connect_ms);
	line_js(&l, j, ",");
	line_str(&l, j, "auth", opt(r->auth), strlen(opt(r->auth)));
	line_js(&l, j, "},\"network\":{");
	line_num(&l, j, "bytes_out", r->bytes_out);
	line_js(&l, j, ",");
	line_num(&l, j, "bytes_in", r->bytes_in);
	line_js(&l, j, "}}");
	if (!j && l.len > 0 && buf[0] == ' ')
		memmove(buf, buf + 1, l.len--);
	return l.len;
}


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
	if (al.fd == -1)
		log_warn("accesslog: %s: cannot open", al.path);
}


static void
accesslog_flush(const char *buf, size_t len, bool use_syslog)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (al.fd != -1 && off < len) {
		n = write(al.fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("accesslog: %s: write failed", al.path);
			break;
		}
		off += (size_t)n;
	}
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
	size_t		 len;
	bool		 stop, use_syslog;
	uint64_t	 dropped;

	(void)arg;
	/* Two buffers swap between the loop and this thread. */
	for (;;) {
		pthread_mutex_lock(&al.mtx);
		while (al.queued == 0 && !al.stopping && !al.reopen)
			pthread_cond_wait(&al.cond, &al.mtx);
		if (al.reopen) {
			al.reopen = false;
			accesslog_open_file();
		}
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
			accesslog_flush(batch, len, use_syslog);
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
