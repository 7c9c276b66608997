/*
 * users: the users file (pure parsing and checking).
 *
 * One "name:hash" a line; blank lines and lines starting with '#' are
 * ignored.  Options may follow the hash after a space (a colon cannot
 * separate fields that hold IPv6 ranges):
 * "name:hash from=10.0.0.5/32,2001:db8::/64 groups=iem,ops".
 * Hashes must be crypt(3) strings of a strong, salted kind: bcrypt
 * ($2b$, $2y$), yescrypt ($y$), scrypt ($7$), sha512crypt ($6$) or
 * sha256crypt ($5$, salted and iterated like $6$); everything else
 * (plain text, DES, $1$, $apr1$, $2a$, {SHA}, unsalted) is refused at
 * load with the file, line and reason.  A world-writable file is
 * refused.
 */
#ifndef EGRESSD_USERS_H
#define EGRESSD_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "netset.h"

struct user {
	char		*name;
	char		*hash;
	struct netset	 from;		/* empty: any source */
	char		**groups;
	size_t		  ngroups;
};

struct users {
	struct user	*v;
	size_t		 n;
};

/*
 * Load path into u.  Returns 0, or -1 with a message "PATH:LINE: reason"
 * in err.  On error u is left empty.
 */
int		 users_load(const char *path, struct users *u, char *err,
		    size_t errsize);
/* Parse one line (no newline); 0, 1 for a blank/comment, -1 + reason. */
int		 users_parse_line(const char *line, struct user *out,
		    const char **reason);
/* Is hash a crypt(3) string egressd accepts?  NULL or the reason. */
const char	*users_hash_refused(const char *hash);
/*
 * Is name[0..len) a valid user name (1..AUTH_USER_MAX bytes, no ':',
 * no white space, no control bytes)?  NULL or the reason.
 */
const char	*users_name_refused(const char *name, size_t len);
const struct user *users_find(const struct users *u, const char *name);
bool		 users_in_group(const struct user *usr, const char *group);
void		 users_free(struct users *u);

#endif
