/*
 * egressd-passwd: add, replace or delete one user's hash in the users
 * file.
 *
 * The password never comes from argv (it would show in ps and in shell
 * history): it is read from the terminal without echo, twice, or as one
 * line from stdin when stdin is not a terminal.  The file is rewritten
 * atomically: a temporary file in the same directory is written, synced
 * and renamed over the old one, so egressd (which reloads on SIGHUP)
 * never sees half a file.  Every other line, and the user's own from=
 * and groups= options, are kept byte for byte.  An exclusive flock on
 * the directory serialises concurrent runs.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "authbasic.h"
#include "users.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/usr/local/etc"
#endif
/* next to egressd.conf, as in the shipped config */
#define PASSWD_DEFAULT_FILE	SYSCONFDIR "/users"
#define PASSWD_FILE_MAX		(16 * 1024 * 1024)
#define PASSWD_BCRYPT_MAX	72	/* bcrypt ignores later bytes */

static const struct passwd_method {
	const char	*name;
	const char	*prefix;
	unsigned long	 count;		/* 0: libxcrypt's default cost */
} passwd_methods[] = {
	{ "bcrypt",		"$2b$",	12 },
	{ "yescrypt",		"$y$",	0 },
	{ "sha512crypt",	"$6$",	0 },
};

static struct termios		 passwd_saved_tio;
static volatile sig_atomic_t	 passwd_tio_changed;


static void
passwd_usage(void)
{
	fprintf(stderr, "usage: egressd-passwd [-f usersfile] "
	    "[-m bcrypt|yescrypt|sha512crypt] user\n"
	    "       egressd-passwd [-f usersfile] -D user\n");
	exit(2);
}


/* Put the terminal back before dying of a signal during the prompt. */
static void
passwd_on_signal(int sig)
{
	if (passwd_tio_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &passwd_saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}


/*
 * Read one line from fd into buf (size bytes, NUL-terminated, newline
 * and a CR before it dropped).  Returns its length, -1 at end of input
 * with nothing read or on error, -2 when the line does not fit.
 */
static ssize_t
passwd_getline(int fd, char *buf, size_t size)
{
	size_t	 n = 0;
	ssize_t	 r;
	char	 c;
	bool	 too_long = false;

	while ((r = read(fd, &c, 1)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || c == '\n')
			break;
		if (n + 1 >= size)
			too_long = true;
		else
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (r == -1 || (r == 0 && n == 0))
		return -1;
	if (too_long)
		return -2;
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return (ssize_t)n;
}


/* Prompt on stderr and read a line from the terminal without echo. */
static ssize_t
passwd_read_tty(const char *prompt, char *buf, size_t size)
{
	struct termios	 tio;
	ssize_t		 n;

	if (tcgetattr(STDIN_FILENO, &passwd_saved_tio) == -1)
		return -1;
	tio = passwd_saved_tio;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tio.c_lflag |= ICANON;
	passwd_tio_changed = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == -1) {
		passwd_tio_changed = 0;
		return -1;
	}
	fputs(prompt, stderr);
	n = passwd_getline(STDIN_FILENO, buf, size);
	fputc('\n', stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &passwd_saved_tio);
	passwd_tio_changed = 0;
	return n;
}


/* Read the password into pw (size bytes).  0, or -1 with a message. */
static int
passwd_read_password(char *pw, size_t size)
{
	char	 again[AUTH_PASS_MAX + 2];
	ssize_t	 n, m;
	int	 rc = -1;

	if (!isatty(STDIN_FILENO))
		n = passwd_getline(STDIN_FILENO, pw, size);
	else {
		n = passwd_read_tty("Password: ", pw, size);
		m = n < 0 ? n : passwd_read_tty("Retype password: ", again,
		    sizeof(again));
		if (n >= 0 && (m != n ||
		    !authbasic_ct_equal(pw, again, (size_t)n))) {
			fprintf(stderr, "egressd-passwd: passwords do not "
			    "match\n");
			goto out;
		}
	}
	if (n == -2)
		fprintf(stderr, "egressd-passwd: password longer than %d "
		    "bytes\n", AUTH_PASS_MAX);
	else if (n == -1)
		fprintf(stderr, "egressd-passwd: no password read\n");
	else if (n == 0)
		fprintf(stderr, "egressd-passwd: empty password\n");
	else if (memchr(pw, '\0', (size_t)n) != NULL)
		fprintf(stderr, "egressd-passwd: NUL byte in password\n");
	else
		rc = 0;

out:
	explicit_bzero(again, sizeof(again));
	return rc;
}


/*
 * Hash pw with method m and check the result: it must verify against
 * pw and pass egressd's hash policy.  Returns the hash (free it) or NULL
 * with a message.
 */
static char *
passwd_hash(const char *pw, const struct passwd_method *m)
{
	struct crypt_data	*cd;
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	char			*hash = NULL;
	const char		*why = "out of memory";

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		goto out;
	why = "cannot generate a salt";
	if (crypt_gensalt_rn(m->prefix, m->count, NULL, 0, salt,
	    sizeof(salt)) == NULL)
		goto out;
	why = "crypt failed";
	if (crypt_rn(pw, salt, cd, sizeof(*cd)) == NULL ||
	    cd->output[0] == '*' || (hash = strdup(cd->output)) == NULL)
		goto out;

	/* Re-crypt: the stored hash must accept this very password. */
	why = "new hash does not verify";
	if (crypt_rn(pw, hash, cd, sizeof(*cd)) == NULL ||
	    strlen(cd->output) != strlen(hash) ||
	    !authbasic_ct_equal(cd->output, hash, strlen(hash)))
		goto fail;
	if ((why = users_hash_refused(hash)) != NULL)
		goto fail;
	why = NULL;
	goto out;

fail:
	free(hash);
	hash = NULL;
out:
	if (why != NULL)
		fprintf(stderr, "egressd-passwd: %s: %s\n", m->name, why);
	if (cd != NULL)
		explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return hash;
}


/*
 * Read path into *text (NUL-terminated, *len bytes) and its status into
 * st.  A missing file reads as empty with st->st_nlink == 0.  0 or -1.
 */
static int
passwd_read_file(const char *path, char **text, size_t *len,
    struct stat *st)
{
	int	 fd;
	ssize_t	 r;

	memset(st, 0, sizeof(*st));
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return (*text = calloc(1, 1)) == NULL ? -1 : 0;
		fprintf(stderr, "egressd-passwd: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_size >= PASSWD_FILE_MAX ||
	    (*text = malloc((size_t)st->st_size + 1)) == NULL) {
		fprintf(stderr, "egressd-passwd: %s: not a regular file "
		    "of sane size\n", path);
		close(fd);
		return -1;
	}
	while (*len < (size_t)st->st_size && (r = read(fd, *text + *len,
	    (size_t)st->st_size - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	(*text)[*len] = '\0';
	return 0;
}


/* Does line (n bytes) define user? */
static bool
passwd_is_user_line(const char *line, size_t n, const char *user)
{
	size_t	 ulen = strlen(user);

	return n > ulen && line[ulen] == ':' &&
	    memcmp(line, user, ulen) == 0;
}


/*
 * Write text to fp with user's line replaced by user:hash (options
 * kept), or removed when hash is NULL; a new user is appended.  Returns
 * the number of lines for user that were found.
 */
static size_t
passwd_edit(FILE *fp, const char *text, size_t len, const char *user,
    const char *hash)
{
	const char	*line, *nl, *rest;
	size_t		 n, found = 0;

	for (line = text; line < text + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', len - (size_t)(line - text))) ==
		    NULL)
			nl = text + len;
		n = (size_t)(nl - line);
		if (!passwd_is_user_line(line, n, user)) {
			fprintf(fp, "%.*s\n", (int)n, line);
			continue;
		}
		if (found++ > 0 || hash == NULL)
			continue;	/* a later duplicate would not load */
		rest = line + strlen(user) + 1;
		rest += strcspn(rest, " \t\n");
		if (rest > nl)
			rest = nl;
		fprintf(fp, "%s:%s%.*s\n", user, hash, (int)(nl - rest),
		    rest);
	}
	if (found == 0 && hash != NULL)
		fprintf(fp, "%s:%s\n", user, hash);
	return found;
}


/* Write the new file to tmp (fd), synced.  0 or -1. */
static int
passwd_write_tmp(int fd, const struct stat *st, const char *text,
    size_t len, const char *user, const char *hash, size_t *found)
{
	FILE	*fp;
	int	 rc = -1;

	if (fchmod(fd, 0640) == -1 || (st->st_nlink > 0 &&
	    fchown(fd, st->st_uid, st->st_gid) == -1)) {
		close(fd);
		return -1;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	*found = passwd_edit(fp, text, len, user, hash);
	if (fflush(fp) == 0 && !ferror(fp) && fsync(fd) == 0)
		rc = 0;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}


/*
 * Rewrite path under the directory lock: replace or add user's hash, or
 * delete user when hash is NULL.  Returns 0, or -1 with a message.
 */
static int
passwd_update(const char *path, const char *user, const char *hash)
{
	struct stat	 st;
	char		 dir[PATH_MAX], tmp[PATH_MAX + 32];
	char		*text = NULL, *d;
	size_t		 len, found = 0;
	int		 dfd = -1, fd, rc = -1;
	bool		 made = false;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		goto err;
	d = dirname(dir);
	snprintf(tmp, sizeof(tmp), "%s/.egressd-passwd.XXXXXX", d);
	if ((dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(dfd, LOCK_EX) == -1)
		goto err;
	if (passwd_read_file(path, &text, &len, &st) == -1)
		goto out;
	if ((fd = mkstemp(tmp)) == -1)
		goto err;
	made = true;
	if (passwd_write_tmp(fd, &st, text, len, user, hash, &found) == -1)
		goto err;
	if (hash == NULL && found == 0) {
		fprintf(stderr, "egressd-passwd: %s: no user %s\n", path,
		    user);
		goto out;
	}
	if (rename(tmp, path) == -1)
		goto err;
	made = false;
	fsync(dfd);
	rc = 0;
	goto out;

err:
	fprintf(stderr, "egressd-passwd: %s: %s\n", path, strerror(errno));
out:
	if (made)
		unlink(tmp);
	if (dfd != -1)
		close(dfd);
	free(text);
	return rc;
}


/* Load the result as egressd would and warn about what it refuses. */
static void
passwd_check_file(const char *path)
{
	struct users	 u;
	char		 err[512];

	if (users_load(path, &u, err, sizeof(err)) == -1)
		fprintf(stderr, "egressd-passwd: warning: egressd will "
		    "refuse this file: %s\n", err);
	users_free(&u);
}


/* Find the method called name, or exit with usage. */
static const struct passwd_method *
passwd_method(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(passwd_methods) /
	    sizeof(passwd_methods[0]); i++) {
		if (strcmp(passwd_methods[i].name, name) == 0)
			return &passwd_methods[i];
	}
	fprintf(stderr, "egressd-passwd: unknown method %s\n", name);
	passwd_usage();
	return NULL;
}


/* Read, check and hash the password for method m.  NULL on error. */
static char *
passwd_new_hash(const struct passwd_method *m)
{
	char	 pw[AUTH_PASS_MAX + 1];
	char	*hash = NULL;

	if (passwd_read_password(pw, sizeof(pw)) == 0) {
		if (m->prefix[1] == '2' && strlen(pw) > PASSWD_BCRYPT_MAX)
			fprintf(stderr, "egressd-passwd: bcrypt uses only "
			    "the first %d bytes of a password; use -m "
			    "yescrypt\n", PASSWD_BCRYPT_MAX);
		else
			hash = passwd_hash(pw, m);
	}
	explicit_bzero(pw, sizeof(pw));
	return hash;
}


int
main(int argc, char *argv[])
{
	const struct passwd_method	*m = &passwd_methods[0];
	const char			*path = PASSWD_DEFAULT_FILE;
	const char			*user, *why;
	char				*hash = NULL;
	bool				 delete = false;
	int				 ch;

	while ((ch = getopt(argc, argv, "Df:m:")) != -1) {
		switch (ch) {
		case 'D':
			delete = true;
			break;
		case 'f':
			path = optarg;
			break;
		case 'm':
			m = passwd_method(optarg);
			break;
		default:
			passwd_usage();
		}
	}
	if (argc - optind != 1)
		passwd_usage();
	user = argv[optind];
	if ((why = users_name_refused(user, strlen(user))) != NULL) {
		fprintf(stderr, "egressd-passwd: %s\n", why);
		return 1;
	}

	signal(SIGINT, passwd_on_signal);
	signal(SIGTERM, passwd_on_signal);
	signal(SIGHUP, passwd_on_signal);
	if (!delete && (hash = passwd_new_hash(m)) == NULL)
		return 1;
	if (passwd_update(path, user, hash) == -1) {
		free(hash);
		return 1;
	}
	free(hash);
	passwd_check_file(path);
	return 0;
}
