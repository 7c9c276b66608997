/*
 * geo: country lookups in a MaxMind DB file (libmaxminddb, mmap'ed).
 *
 * A geo_db owns one MMDB_s opened read-only with MMDB_MODE_MMAP; nothing
 * in it changes after geo_open, so a lookup needs no lock.  The reference
 * count is a plain int: references are taken and dropped only on the
 * event loop thread (sessions hold one for their lifetime, the current
 * config holds one), and the file is unmapped when the last goes.
 *
 * The country of an entry is, in this order: country.iso_code (GeoIP2
 * and GeoLite2 Country/City), registered_country.iso_code (the same
 * databases, for networks with no located country, e.g. anycast or
 * satellite ranges), and a top-level country_code (DB-IP Lite as
 * republished by ip-location-db).  A value counts only when it is a
 * string of exactly two ASCII letters; anything else is skipped, so a
 * malformed file yields "unknown", never a bogus code.  geo.lookup_path
 * in the config replaces the three with one path of its own.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <maxminddb.h>

#include "geo.h"

struct geo_db {
	MMDB_s		 mmdb;
	int		 refs;
	char		*lookup[GEO_LOOKUP_MAX + 1];	/* NULL-ended */
};

/* Where a country code may live in an entry, in order of preference. */
static const char *const geo_paths[][3] = {
	{ "country", "iso_code", NULL },
	{ "registered_country", "iso_code", NULL },
	{ "country_code", NULL, NULL },
};

#define GEO_NPATHS	(sizeof(geo_paths) / sizeof(geo_paths[0]))


static void
geo_free_lookup(struct geo_db *db)
{
	size_t	 i;

	for (i = 0; db->lookup[i] != NULL; i++)
		free(db->lookup[i]);
}


/*
 * Open path.  Returns a db with one reference, or NULL with
 * "geo: PATH: cause" in err (errno's text added when the file could
 * not be opened or read).
 */
struct geo_db *
geo_open(const char *path, char *const *lookup, size_t n, char *err,
    size_t errsize)
{
	struct geo_db	*db;
	int		 status, saved_errno;
	uint16_t	 ipv;
	size_t		 i;

	if (n > GEO_LOOKUP_MAX || (db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errsize, "geo: %s: %s", path, n > GEO_LOOKUP_MAX ?
		    "lookup path too long" : strerror(errno));
		return NULL;
	}
	for (i = 0; i < n; i++)
		if ((db->lookup[i] = strdup(lookup[i])) == NULL) {
			snprintf(err, errsize, "geo: %s: %s", path,
			    strerror(errno));
			geo_free_lookup(db);
			free(db);
			return NULL;
		}

	/* MMDB_open releases what it took when it fails, errno kept. */
	errno = 0;
	status = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	saved_errno = errno;
	if (status != MMDB_SUCCESS) {
		if ((status == MMDB_FILE_OPEN_ERROR ||
		    status == MMDB_IO_ERROR) && saved_errno != 0)
			snprintf(err, errsize, "geo: %s: %s: %s", path,
			    MMDB_strerror(status), strerror(saved_errno));
		else
			snprintf(err, errsize, "geo: %s: %s", path,
			    MMDB_strerror(status));
		goto fail;
	}

	/* libmaxminddb checks this too; lookups below rely on it. */
	ipv = db->mmdb.metadata.ip_version;
	if (ipv != 4 && ipv != 6) {
		snprintf(err, errsize, "geo: %s: unsupported ip_version %u "
		    "in metadata", path, (unsigned)ipv);
		MMDB_close(&db->mmdb);
		goto fail;
	}

	db->refs = 1;
	return db;

fail:
	geo_free_lookup(db);
	free(db);
	return NULL;
}


/* Take one more reference to db; returns db. */
struct geo_db *
geo_ref(struct geo_db *db)
{
	if (db != NULL)
		db->refs++;
	return db;
}


/* Drop one reference; the last one closes the file.  NULL is ignored. */
void
geo_unref(struct geo_db *db)
{
	if (db == NULL)
		return;
	if (--db->refs > 0)
		return;
	MMDB_close(&db->mmdb);
	geo_free_lookup(db);
	free(db);
}


/* Whether c is an ASCII letter (locale independent). */
static int
geo_is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}


/*
 * Read the string at path under entry into cc when it is a two-letter
 * code.  Returns 1 when cc was set, 0 when the path is absent or holds
 * something else, -1 when the data section could not be read.
 */
static int
geo_read_code(MMDB_entry_s *entry, const char *const *path, char cc[3])
{
	MMDB_entry_data_s	 data;
	int			 status, i;

	status = MMDB_aget_value(entry, &data, path);
	if (status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	    status == MMDB_INVALID_LOOKUP_PATH_ERROR)
		return 0;
	if (status != MMDB_SUCCESS)
		return -1;
	if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING ||
	    data.data_size != 2)
		return 0;
	if (!geo_is_letter(data.utf8_string[0]) ||
	    !geo_is_letter(data.utf8_string[1]))
		return 0;

	for (i = 0; i < 2; i++) {
		cc[i] = data.utf8_string[i];
		if (cc[i] >= 'a' && cc[i] <= 'z')
			cc[i] = (char)(cc[i] - 'a' + 'A');
	}
	cc[2] = '\0';
	return 1;
}


/*
 * Look a up: IPv4-mapped addresses as IPv4, so that libmaxminddb finds
 * them in IPv4-only databases and under ::/96 in IPv6 ones.  Returns 1
 * with result set, 0 when the address cannot be in the database, -1 on
 * a lookup error.
 */
static int
geo_lookup(struct geo_db *db, const struct in6_addr *a,
    MMDB_lookup_result_s *result)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	int			 mmdb_error;

	if (IN6_IS_ADDR_V4MAPPED(a)) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, &a->s6_addr[12], 4);
		*result = MMDB_lookup_sockaddr(&db->mmdb,
		    (const struct sockaddr *)&sin, &mmdb_error);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = *a;
		*result = MMDB_lookup_sockaddr(&db->mmdb,
		    (const struct sockaddr *)&sin6, &mmdb_error);
	}

	/* An IPv6 address is simply not in an IPv4-only database. */
	if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return 0;
	if (mmdb_error != MMDB_SUCCESS)
		return -1;
	return 1;
}


/*
 * The upper-case ISO 3166 alpha-2 code of a into cc.  Returns 1 when
 * found, 0 when a is not in db, has no usable country or db is NULL,
 * -1 on a lookup error (a corrupt tree or data section).
 */
int
geo_country(struct geo_db *db, const struct in6_addr *a, char cc[3])
{
	int	 r = geo_find(db, a, cc);

	return r == GEO_ABSENT ? 0 : r;
}


/*
 * As geo_country, but GEO_ABSENT when db has no entry for a at all (or
 * db is NULL), and 0 only when a has an entry without a usable country.
 */
int
geo_find(struct geo_db *db, const struct in6_addr *a, char cc[3])
{
	MMDB_lookup_result_s	 result;
	size_t			 i;
	int			 r;

	if (db == NULL)
		return GEO_ABSENT;
	if ((r = geo_lookup(db, a, &result)) != 1)
		return r == 0 ? GEO_ABSENT : r;
	if (!result.found_entry)
		return GEO_ABSENT;

	if (db->lookup[0] != NULL)
		return geo_read_code(&result.entry,
		    (const char *const *)db->lookup, cc);
	for (i = 0; i < GEO_NPATHS; i++) {
		if ((r = geo_read_code(&result.entry, geo_paths[i], cc)) != 0)
			return r;
	}
	return 0;
}


/*
 * "type=T built=YYYY-MM-DD ip_version=N nodes=N" into buf, for the
 * startup log.  The type comes from the file: bytes outside 0x21..0x7e
 * are written as '_' so the line stays one set of key=value words.
 */
void
geo_describe(struct geo_db *db, char *buf, size_t size)
{
	const char	*type;
	char		 tbuf[64], date[16];
	struct tm	 tm;
	time_t		 t;
	size_t		 i;

	if (size == 0)
		return;
	if (db == NULL) {
		snprintf(buf, size, "none");
		return;
	}

	if ((type = db->mmdb.metadata.database_type) == NULL)
		type = "unknown";
	for (i = 0; i < sizeof(tbuf) - 1 && type[i] != '\0'; i++) {
		unsigned char c = (unsigned char)type[i];

		tbuf[i] = (c > 0x20 && c < 0x7f) ? (char)c : '_';
	}
	tbuf[i] = '\0';

	t = (time_t)db->mmdb.metadata.build_epoch;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		snprintf(date, sizeof(date), "unknown");

	snprintf(buf, size, "type=%s built=%s ip_version=%u nodes=%u", tbuf,
	    date, (unsigned)db->mmdb.metadata.ip_version,
	    (unsigned)db->mmdb.metadata.node_count);
}
