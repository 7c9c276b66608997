/*
 * geo: country lookups in a MaxMind DB file (libmaxminddb, mmap'ed).
 *
 * Both schemas in use are read: GeoIP2/GeoLite2 Country and City
 * (country.iso_code, else registered_country.iso_code) and the free
 * databases with a top-level country_code (DB-IP Lite, ip-location-db).
 * IPv4 addresses are looked up in IPv6 databases and in IPv4-only ones.
 * A geo_db is immutable once open; a reload opens a new one and swaps
 * it in, so lookups in flight keep the old one (reference counted).
 */
#ifndef EGRESSD_GEO_H
#define EGRESSD_GEO_H

#include <stddef.h>

#include <netinet/in.h>

struct geo_db;

#define GEO_LOOKUP_MAX	8

/*
 * Open path.  lookup (n components, n <= GEO_LOOKUP_MAX, copied) is the
 * path in each entry to the country code, for databases of another
 * layout; with n == 0 the known layouts are tried (see geo.c).  Returns
 * a db with one reference, or NULL with a message naming the path and
 * the cause in err.
 */
struct geo_db	*geo_open(const char *path, char *const *lookup, size_t n,
		    char *err, size_t errsize);
struct geo_db	*geo_ref(struct geo_db *);
void		 geo_unref(struct geo_db *);

/*
 * The ISO 3166 alpha-2 code of a (16 bytes, IPv4 as ::ffff:a.b.c.d),
 * upper case, into cc.  Returns 1 when found, 0 when the address is not
 * in the database or has no country, -1 on a lookup error.
 */
int		 geo_country(struct geo_db *db, const struct in6_addr *a,
		    char cc[3]);

/*
 * As geo_country, but tells "no entry for a" (GEO_ABSENT) apart from
 * "an entry without a country" (0): policy treats a non-public address
 * the database does not contain as having no country at all.
 */
#define GEO_ABSENT	(-2)
int		 geo_find(struct geo_db *db, const struct in6_addr *a,
		    char cc[3]);

/* "YYYY-MM-DD" build date and the database type, for the startup log. */
void		 geo_describe(struct geo_db *db, char *buf, size_t size);

#endif
