/*
 * users: the users file (pure parsing and checking).
 *
 * A loaded struct users owns every string, group list and netset in it;
 * users_free releases them all.  Loading is all or nothing: the first bad
 * line ends the load with "PATH:LINE: reason", so egressd never runs on
 * half a users file.  Only hashes of a salted, iterated crypt(3) method
 * are accepted, and each is checked for the shape its method produces, so
 * a truncated or hand-edited hash is caught at load, not at the first
 * login.  User names are not secret: lookups are plain string compares;
 * hiding which users exist is the caller's job (always run the password
 * check, with a dummy hash for unknown names).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authbasic.h"
#include "netset.h"
#include "users.h"

#define USERS_LINE_MAX	4096
#define USERS_CIDR_MAX	64		/* longest from= item, with NUL */
#define USERS_B64	"./0123456789" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* Methods refused by prefix, strongest reason first. */
static const struct {
	const char	*prefix;
	const char	*reason;
} users_weak[] = {
	{ "$1$",	"MD5-crypt ($1$) hash refused: use bcrypt or "
			"yescrypt" },
	{ "$apr1$",	"Apache MD5 ($apr1$) hash refused: use bcrypt or "
			"yescrypt" },
	{ "$2a$",	"bcrypt $2a$ hash refused (buggy variant): rehash "
			"as $2b$" },
	{ "$2x$",	"bcrypt $2x$ hash refused (buggy variant): rehash "
			"as $2b$" },
	{ "$3$",	"NT hash ($3$) refused: unsalted" },
	{ "{",		"LDAP-style hash ({SHA}, {SSHA}, {PLAIN}) refused: "
			"unsalted or plain text" },
	{ "_",		"BSDi DES hash refused: use bcrypt or yescrypt" },
	{ "!",		"locked account hash refused: delete the user "
			"instead" },
	{ "*",		"disabled account hash refused: delete the user "
			"instead" },
};


/* Is every byte of s[0..n) in the crypt(3) base64 alphabet? */
static bool
users_is_b64(const char *s, size_t n)
{
	return n > 0 && strspn(s, USERS_B64) >= n;
}


/*
 * Split s at '$' into at most max fields.  Returns the number of fields,
 * or max + 1 when there are more.
 */
static size_t
users_fields(const char *s, const char **f, size_t *flen, size_t max)
{
	size_t	 n = 0;

	for (;;) {
		if (n == max)
			return max + 1;
		f[n] = s;
		flen[n] = strcspn(s, "$");
		s += flen[n++];
		if (*s == '\0')
			return n;
		s++;
	}
}


/* "$2b$NN$" + 22 bytes of salt + 31 bytes of hash. */
static const char *
users_check_bcrypt(const char *h)
{
	int	 cost;

	if (strlen(h) != 60 || h[4] < '0' || h[4] > '9' ||
	    h[5] < '0' || h[5] > '9' || h[6] != '$' ||
	    !users_is_b64(h + 7, 53))
		return "malformed bcrypt hash";
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return "bcrypt cost out of range 04..31";
	return NULL;
}


/* "$5$[rounds=N$]salt$hash" and "$6$...": salted SHA-2 crypt. */
static const char *
users_check_sha2(const char *h, size_t hashlen)
{
	const char	*f[3];
	size_t		 fl[3], n, i = 0;

	n = users_fields(h + 3, f, fl, 3);
	if (n == 3) {
		if (fl[0] <= 7 || strncmp(f[0], "rounds=", 7) != 0 ||
		    strspn(f[0] + 7, "0123456789") != fl[0] - 7)
			return "malformed SHA-crypt rounds= field";
		i = 1;
	} else if (n != 2)
		return "malformed SHA-crypt hash";
	if (fl[i] > 16 || !users_is_b64(f[i], fl[i]))
		return "SHA-crypt hash without a valid salt";
	if (fl[i + 1] != hashlen || !users_is_b64(f[i + 1], fl[i + 1]))
		return "malformed SHA-crypt hash";
	return NULL;
}


/* "$y$params$salt$hash" (yescrypt) or "$7$params+salt$hash" (scrypt). */
static const char *
users_check_fields(const char *h, size_t nfields, size_t minfirst)
{
	const char	*f[3];
	size_t		 fl[3], i;

	if (users_fields(h + 3, f, fl, 3) != nfields)
		return "malformed yescrypt or scrypt hash";
	for (i = 0; i < nfields; i++) {
		if (!users_is_b64(f[i], fl[i]))
			return "malformed yescrypt or scrypt hash";
	}
	if (fl[0] < minfirst || fl[nfields - 1] != 43)
		return "malformed yescrypt or scrypt hash";
	return NULL;
}


const char *
users_hash_refused(const char *hash)
{
	size_t	 i, len;

	if (hash == NULL || (len = strlen(hash)) == 0)
		return "empty password hash";
	for (i = 0; i < sizeof(users_weak) / sizeof(users_weak[0]); i++) {
		if (strncmp(hash, users_weak[i].prefix,
		    strlen(users_weak[i].prefix)) == 0)
			return users_weak[i].reason;
	}
	if (strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0)
		return users_check_bcrypt(hash);
	if (strncmp(hash, "$y$", 3) == 0)
		return users_check_fields(hash, 3, 1);
	if (strncmp(hash, "$7$", 3) == 0)
		return users_check_fields(hash, 2, 11);
	if (strncmp(hash, "$6$", 3) == 0)
		return users_check_sha2(hash, 86);
	if (strncmp(hash, "$5$", 3) == 0)
		return users_check_sha2(hash, 43);
	if (hash[0] == '$')
		return "unsupported crypt(3) method: use bcrypt or yescrypt";
	if (len == 13 && users_is_b64(hash, len))
		return "DES crypt hash refused: use bcrypt or yescrypt";
	return "not a crypt(3) hash (plain text?): use egressd-passwd";
}


/* Is name[0..len) a name: no ':', ',', white space or control bytes? */
static const char *
users_token_refused(const char *name, size_t len, const char *what)
{
	size_t		 i;
	unsigned char	 c;

	if (len == 0)
		return what[0] == 'u' ? "empty user name" : "empty group name";
	if (len > AUTH_USER_MAX)
		return what[0] == 'u' ? "user name longer than 255 bytes" :
		    "group name longer than 255 bytes";
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (c <= 0x20 || c == 0x7f || c == ':' || c == ',')
			return what[0] == 'u' ?
			    "user name holds ':', ',', a space or a control "
			    "byte" :
			    "group name holds ':', ',', a space or a control "
			    "byte";
	}
	return NULL;
}


const char *
users_name_refused(const char *name, size_t len)
{
	return users_token_refused(name, len, "user");
}


/* Release what usr owns and zero it. */
static void
users_clear(struct user *usr)
{
	size_t	 i;

	free(usr->name);
	free(usr->hash);
	netset_free(&usr->from);
	for (i = 0; i < usr->ngroups; i++)
		free(usr->groups[i]);
	free(usr->groups);
	memset(usr, 0, sizeof(*usr));
}


/* Add the from= list s[0..len) to usr.  0, or -1 with reason. */
static int
users_parse_from(const char *s, size_t len, struct user *usr,
    const char **reason)
{
	char	 buf[USERS_CIDR_MAX];
	size_t	 n;

	for (;;) {
		n = strcspn(s, ",");
		if (n > len)
			n = len;
		if (n == 0 || n >= sizeof(buf))
			break;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (netset_add(&usr->from, buf) == -1)
			break;
		if (n == len)
			return 0;
		s += n + 1;
		len -= n + 1;
	}
	*reason = "bad address range in from=";
	return -1;
}


/* Add the groups= list s[0..len) to usr.  0, or -1 with reason. */
static int
users_parse_groups(const char *s, size_t len, struct user *usr,
    const char **reason)
{
	char	**g;
	size_t	 n;

	for (;;) {
		n = strcspn(s, ",");
		if (n > len)
			n = len;
		if ((*reason = users_token_refused(s, n, "group")) != NULL)
			return -1;
		g = reallocarray(usr->groups, usr->ngroups + 1, sizeof(*g));
		if (g == NULL || (g[usr->ngroups] = strndup(s, n)) == NULL) {
			if (g != NULL)
				usr->groups = g;
			*reason = "out of memory";
			return -1;
		}
		usr->groups = g;
		usr->ngroups++;
		if (n == len)
			return 0;
		s += n + 1;
		len -= n + 1;
	}
}


/* Parse one option opt[0..len).  0, or -1 with reason. */
static int
users_parse_option(const char *opt, size_t len, struct user *usr,
    const char **reason)
{
	if (len > 5 && strncmp(opt, "from=", 5) == 0) {
		if (usr->from.n > 0) {
			*reason = "from= given twice";
			return -1;
		}
		return users_parse_from(opt + 5, len - 5, usr, reason);
	}
	if (len > 7 && strncmp(opt, "groups=", 7) == 0) {
		if (usr->ngroups > 0) {
			*reason = "groups= given twice";
			return -1;
		}
		return users_parse_groups(opt + 7, len - 7, usr, reason);
	}
	*reason = "unknown or empty option (want from=CIDR,... or "
	    "groups=NAME,...)";
	return -1;
}


/* Parse the fields of a user line into out.  0, or -1 with reason. */
static int
users_parse_fields(const char *line, struct user *out, const char **reason)
{
	const char	*colon, *p;
	size_t		 n;

	if ((colon = strchr(line, ':')) == NULL) {
		*reason = "missing ':' between user name and hash";
		return -1;
	}
	if ((*reason = users_name_refused(line, (size_t)(colon - line))) !=
	    NULL)
		return -1;
	p = colon + 1;
	n = strcspn(p, " \t");
	if ((out->name = strndup(line, (size_t)(colon - line))) == NULL ||
	    (out->hash = strndup(p, n)) == NULL) {
		*reason = "out of memory";
		return -1;
	}
	if ((*reason = users_hash_refused(out->hash)) != NULL)
		return -1;

	for (p += n; *p != '\0'; p += n) {
		p += strspn(p, " \t");
		if ((n = strcspn(p, " \t")) == 0)
			break;
		if (users_parse_option(p, n, out, reason) == -1)
			return -1;
	}
	return 0;
}


int
users_parse_line(const char *line, struct user *out, const char **reason)
{
	const char	*p;

	memset(out, 0, sizeof(*out));
	*reason = NULL;
	p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return 1;
	if (users_parse_fields(line, out, reason) == -1) {
		users_clear(out);
		return -1;
	}
	*reason = NULL;
	return 0;
}


/* Append usr to u, growing to cap.  0 or -1. */
static int
users_append(struct users *u, size_t *cap, struct user *usr)
{
	struct user	*v;
	size_t		 ncap;

	if (u->n == *cap) {
		ncap = *cap == 0 ? 16 : *cap * 2;
		if ((v = reallocarray(u->v, ncap, sizeof(*v))) == NULL)
			return -1;
		u->v = v;
		*cap = ncap;
	}
	u->v[u->n++] = *usr;
	memset(usr, 0, sizeof(*usr));
	return 0;
}


/* Read the lines of fp into u.  0, or -1 with err filled. */
static int
users_read(FILE *fp, const char *path, struct users *u, char *err,
    size_t errsize)
{
	struct user	 usr;
	const char	*reason = NULL;
	char		*line = NULL;
	size_t		 linesize = 0, lineno = 0, cap = 0;
	ssize_t		 len;
	int		 r = 0;

	while ((len = getline(&line, &linesize, fp)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len > USERS_LINE_MAX)
			reason = "line too long";
		else if (strlen(line) != (size_t)len)
			reason = "NUL byte in line";
		else if ((r = users_parse_line(line, &usr, &reason)) == 1)
			continue;
		else if (r == 0 && users_find(u, usr.name) != NULL) {
			reason = "user defined twice";
			users_clear(&usr);
		} else if (r == 0 && users_append(u, &cap, &usr) == -1) {
			reason = "out of memory";
			users_clear(&usr);
		}
		if (reason != NULL)
			break;
	}
	free(line);
	if (reason == NULL && ferror(fp))
		snprintf(err, errsize, "%s: read error", path);
	else if (reason != NULL)
		snprintf(err, errsize, "%s:%zu: %s", path, lineno, reason);
	else
		return 0;
	return -1;
}


int
users_load(const char *path, struct users *u, char *err, size_t errsize)
{
	struct stat	 st;
	FILE		*fp = NULL;
	int		 fd, rc = -1;

	memset(u, 0, sizeof(*u));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errsize, "%s: file is world-writable", path);
		goto out;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	rc = users_read(fp, path, u, err, errsize);

out:
	if (fp != NULL)
		fclose(fp);
	if (fd != -1)
		close(fd);
	if (rc != 0)
		users_free(u);
	return rc;
}


const struct user *
users_find(const struct users *u, const char *name)
{
	size_t	 i;

	for (i = 0; i < u->n; i++) {
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	}
	return NULL;
}


bool
users_in_group(const struct user *usr, const char *group)
{
	size_t	 i;

	for (i = 0; i < usr->ngroups; i++) {
		if (strcmp(usr->groups[i], group) == 0)
			return true;
	}
	return false;
}


void
users_free(struct users *u)
{
	size_t	 i;

	for (i = 0; i < u->n; i++)
		users_clear(&u->v[i]);
	free(u->v);
	u->v = NULL;
	u->n = 0;
}
