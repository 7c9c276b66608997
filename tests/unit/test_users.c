/*
 * Tests for users: the hash policy, user line syntax and loading a users
 * file (temporary files under $TMPDIR or /tmp).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "users.h"
#include "unit.h"

/* crypt("s3cret", ...) from libxcrypt, one of each accepted method. */
#define H_BCRYPT	"$2b$04$abcdefghijklmnopqrstuu" \
			"LZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG"
#define H_BCRYPT_Y	"$2y$05$abcdefghijklmnopqrstuu" \
			"LK7U1u6pVRmL7L1BBM2aS35PSZnDXlK"
#define H_YESCRYPT	"$y$j9T$abcdefghijklmnop$" \
			"tySFNIfWVy.ymkBDHEMW6bAQ07dlkLVGalgni.VV4l8"
#define H_SCRYPT	"$7$CU..../....abcdefghijklmnop$" \
			"LOKp4L8gCeANeXmnvZLonPGl/A9bb2MlAQGq0idpJm4"
#define H_SHA512	"$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZz" \
			"ynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1"
#define H_SHA512_R	"$6$rounds=10000$saltsalt$" \
			"Q4kufqTXaXKcbMgdZCt0HnZDwvXf1Q6xdnQuY0SHzf1nsSL1v" \
			"txI.7DfbE3qXFx2ikwoqsXfVxuzBnsAI9qtX."
#define H_SHA256	"$5$saltsalt$" \
			"i1q2ZQzc.tl/BQ6CHiENAcVDvEY6nJ1OWlWXKh94b1."

static char	 tmppath[256];


static void
test_users_hash_accepted(void)
{
	static const char *const ok[] = {
		H_BCRYPT, H_BCRYPT_Y, H_YESCRYPT, H_SCRYPT, H_SHA512,
		H_SHA512_R, H_SHA256,
	};
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CU_ASSERT_PTR_NULL(users_hash_refused(ok[i]));
}


static void
test_users_hash_refused(void)
{
	static const char *const bad[] = {
		"", "s3cret", "abhWCwoTZY2c6",			/* DES */
		"$1$saltsalt$RwMqRjSWhXMKbW72DwzGd1",
		"$apr1$saltsalt$8WzD1g2dkyd2GMrNgk6fA1",
		"$2a$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK",
		"{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
		"{SSHA}aGVsbG8gd29ybGQgc2FsdHk=", "{PLAIN}s3cret",
		"$3$$8846f7eaee8fb117ad06bdd830b7586c",
		"$gy$j9T$abcdefghijklmnop$ltcxOUqefkevBOeShdu7CRbvQ0pIilvG/0pG"
		    "IrmTPe3",
		"_J9..CCCCXBrJUJV154M",
		"!" H_BCRYPT, "*", "!",
		/* truncated, wrong cost, bad alphabet, trailing junk */
		"$2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5D",
		"$2b$03$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG",
		"$2b$4$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DGx",
		"$2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5D:",
		H_BCRYPT "x",
		/* SHA-crypt without salt, short digest, bad rounds */
		"$6$$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRe"
		    "grrKexvhIa/Iny8S8uF3fVWTMuC1",
		"$6$saltsalt$As4wrv0kZlfch1du9WeH7qhsky",
		"$6$rounds=x$saltsalt$Q4kufqTXaXKcbMgdZCt0HnZDwvXf1Q6xdnQuY0SHz"
		    "f1nsSL1vtxI.7DfbE3qXFx2ikwoqsXfVxuzBnsAI9qtX.",
		"$5$i1q2ZQzc.tl/BQ6CHiENAcVDvEY6nJ1OWlWXKh94b1.",
		"$y$j9T$tySFNIfWVy.ymkBDHEMW6bAQ07dlkLVGalgni.VV4l8",
		"$y$j9T$abcdefghijklmnop$short",
		"$7$$LOKp4L8gCeANeXmnvZLonPGl/A9bb2MlAQGq0idpJm4",
		"$6", "$", "$$$",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (users_hash_refused(bad[i]) == NULL)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CU_ASSERT_PTR_NOT_NULL(users_hash_refused(bad[i]));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(users_hash_refused("$2a$05$x"),
	    "$2a$"));
}


static void
test_users_name(void)
{
	char	 name[257];

	CU_ASSERT_PTR_NULL(users_name_refused("alice", 5));
	CU_ASSERT_PTR_NULL(users_name_refused("iem-line1.eu@site", 17));
	CU_ASSERT_PTR_NULL(users_name_refused("d\xc3\xa4ve", 5));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused("", 0));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused("a:b", 3));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused("a b", 3));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused("a\tb", 3));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused("a\x01", 2));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused("a\x7f", 2));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused("a\0b", 3));
	memset(name, 'n', sizeof(name));
	CU_ASSERT_PTR_NULL(users_name_refused(name, 255));
	CU_ASSERT_PTR_NOT_NULL(users_name_refused(name, 256));
}


static void
test_users_line_skip(void)
{
	struct user	 u;
	const char	*reason;

	CU_ASSERT_EQUAL(users_parse_line("", &u, &reason), 1);
	CU_ASSERT_EQUAL(users_parse_line(" \t ", &u, &reason), 1);
	CU_ASSERT_EQUAL(users_parse_line("# alice:x", &u, &reason), 1);
	CU_ASSERT_EQUAL(users_parse_line("  # note", &u, &reason), 1);
}


static void
test_users_line_ok(void)
{
	struct user	 u;
	const char	*reason;

	CU_ASSERT_EQUAL_FATAL(users_parse_line("alice:" H_BCRYPT, &u,
	    &reason), 0);
	CU_ASSERT_STRING_EQUAL(u.name, "alice");
	CU_ASSERT_STRING_EQUAL(u.hash, H_BCRYPT);
	CU_ASSERT_EQUAL(u.from.n, 0);
	CU_ASSERT_EQUAL(u.ngroups, 0);
	CU_ASSERT_FALSE(users_in_group(&u, "iem"));
	free(u.name);
	free(u.hash);

	CU_ASSERT_EQUAL_FATAL(users_parse_line("iem-line1:" H_YESCRYPT
	    " from=10.0.0.5/32,2001:db8::/64\tgroups=iem,ops ", &u,
	    &reason), 0);
	CU_ASSERT_STRING_EQUAL(u.name, "iem-line1");
	CU_ASSERT_STRING_EQUAL(u.hash, H_YESCRYPT);
	CU_ASSERT_EQUAL(u.from.n, 2);
	CU_ASSERT_EQUAL(u.ngroups, 2);
	CU_ASSERT_TRUE(users_in_group(&u, "iem"));
	CU_ASSERT_TRUE(users_in_group(&u, "ops"));
	CU_ASSERT_FALSE(users_in_group(&u, "op"));
	CU_ASSERT_FALSE(users_in_group(&u, "IEM"));
	free(u.name);
	free(u.hash);
	netset_free(&u.from);
	free(u.groups[0]);
	free(u.groups[1]);
	free(u.groups);
}


/* Each line must fail with a reason and leave out zeroed. */
static void
test_users_line_bad(void)
{
	static const char *const bad[] = {
		"alice",
		"alice:",
		":" H_BCRYPT,
		"alice :" H_BCRYPT,
		" alice:" H_BCRYPT,
		"alice: " H_BCRYPT,
		"al\x01ice:" H_BCRYPT,
		"alice:s3cret",
		"alice:$1$saltsalt$RwMqRjSWhXMKbW72DwzGd1",
		"alice:" H_BCRYPT " from=",
		"alice:" H_BCRYPT " from=10.0.0.0/8,",
		"alice:" H_BCRYPT " from=10.0.0.0/33",
		"alice:" H_BCRYPT " from=example.com",
		"alice:" H_BCRYPT " from=10.0.0.1 from=10.0.0.2",
		"alice:" H_BCRYPT " groups=",
		"alice:" H_BCRYPT " groups=a,,b",
		"alice:" H_BCRYPT " groups=a groups=b",
		"alice:" H_BCRYPT " group=a",
		"alice:" H_BCRYPT " junk",
		"alice:" H_BCRYPT " =x",
		"alice:" H_BCRYPT ":extra",
	};
	struct user	 u;
	const char	*reason;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reason = NULL;
		if (users_parse_line(bad[i], &u, &reason) != -1)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CU_ASSERT_EQUAL(users_parse_line(bad[i], &u, &reason), -1);
		CU_ASSERT_PTR_NOT_NULL(reason);
		CU_ASSERT_PTR_NULL(u.name);
		CU_ASSERT_PTR_NULL(u.hash);
		CU_ASSERT_PTR_NULL(u.groups);
		CU_ASSERT_PTR_NULL(u.from.v);
	}
}


/* Write text to a fresh temporary file with mode; path in tmppath. */
static int
write_tmp(const char *text, size_t len, mode_t mode)
{
	const char	*dir;
	int		 fd;

	if ((dir = getenv("TMPDIR")) == NULL)
		dir = "/tmp";
	snprintf(tmppath, sizeof(tmppath), "%s/test_users.XXXXXX", dir);
	if ((fd = mkstemp(tmppath)) == -1)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) == -1) {
		close(fd);
		unlink(tmppath);
		return -1;
	}
	close(fd);
	return 0;
}


static void
test_users_load_ok(void)
{
	static const char	 text[] =
	    "# egressd users\n"
	    "\n"
	    "alice:" H_BCRYPT " groups=iem\n"
	    "bob:" H_SHA512 "\r\n"
	    "carol:" H_YESCRYPT " from=10.20.0.0/16";
	struct users		 u;
	const struct user	*a;
	char			 err[512];

	CU_ASSERT_FATAL(write_tmp(text, sizeof(text) - 1, 0640) == 0);
	if (users_load(tmppath, &u, err, sizeof(err)) != 0)
		fprintf(stderr, "%s\n", err);
	unlink(tmppath);
	CU_ASSERT_EQUAL_FATAL(u.n, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a = users_find(&u, "alice"));
	CU_ASSERT_STRING_EQUAL(a->hash, H_BCRYPT);
	CU_ASSERT_TRUE(users_in_group(a, "iem"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a = users_find(&u, "bob"));
	CU_ASSERT_STRING_EQUAL(a->hash, H_SHA512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a = users_find(&u, "carol"));
	CU_ASSERT_EQUAL(a->from.n, 1);
	/* B22.3, B22.4: unknown and wrong-case names are not found. */
	CU_ASSERT_PTR_NULL(users_find(&u, "Xlice"));
	CU_ASSERT_PTR_NULL(users_find(&u, "ALICE"));
	CU_ASSERT_PTR_NULL(users_find(&u, "alic"));
	users_free(&u);
	CU_ASSERT_EQUAL(u.n, 0);
	CU_ASSERT_PTR_NULL(u.v);
}


/* Load text and expect an error whose text after "PATH" is want. */
static void
check_load_err(const char *text, size_t len, mode_t mode, const char *want)
{
	struct users	 u;
	char		 err[512];
	size_t		 plen;

	CU_ASSERT_FATAL(write_tmp(text, len, mode) == 0);
	CU_ASSERT_EQUAL(users_load(tmppath, &u, err, sizeof(err)), -1);
	unlink(tmppath);
	CU_ASSERT_EQUAL(u.n, 0);
	CU_ASSERT_PTR_NULL(u.v);
	plen = strlen(tmppath);
	CU_ASSERT_EQUAL(strncmp(err, tmppath, plen), 0);
	if (strncmp(err + plen, want, strlen(want)) != 0)
		fprintf(stderr, "error was: %s\n", err);
	CU_ASSERT_EQUAL(strncmp(err + plen, want, strlen(want)), 0);
}


static void
test_users_load_errors(void)
{
	static const char	 dup[] = "alice:" H_BCRYPT "\n"
	    "bob:" H_BCRYPT "\n" "alice:" H_SHA512 "\n";
	static const char	 weak[] = "# c\nalice:" H_BCRYPT "\n"
	    "bob:$1$saltsalt$RwMqRjSWhXMKbW72DwzGd1\n";
	static const char	 nul[] = "alice:" H_BCRYPT "\nbo\0b:x\n";
	static const char	 ok[] = "alice:" H_BCRYPT "\n";
	struct users		 u;
	char			 err[512];

	check_load_err(dup, sizeof(dup) - 1, 0600, ":3: user defined twice");
	check_load_err(weak, sizeof(weak) - 1, 0600, ":3: MD5-crypt");
	check_load_err(nul, sizeof(nul) - 1, 0600, ":2: NUL byte");
	check_load_err(ok, sizeof(ok) - 1, 0666, ": file is world-writable");
	check_load_err(ok, sizeof(ok) - 1, 0602, ": file is world-writable");

	CU_ASSERT_EQUAL(users_load("/nonexistent/users", &u, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/users: "));
	CU_ASSERT_EQUAL(users_load("/", &u, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(u.n, 0);
}


static void
test_users_load_empty(void)
{
	struct users	 u;
	char		 err[512];

	CU_ASSERT_FATAL(write_tmp("", 0, 0640) == 0);
	CU_ASSERT_EQUAL(users_load(tmppath, &u, err, sizeof(err)), 0);
	unlink(tmppath);
	CU_ASSERT_EQUAL(u.n, 0);
	CU_ASSERT_PTR_NULL(users_find(&u, "alice"));
	users_free(&u);
}


int
test_users_add(void)
{
	CU_pSuite	 s;

	if ((s = CU_add_suite("users", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "hash_accepted", test_users_hash_accepted) == NULL ||
	    CU_add_test(s, "hash_refused", test_users_hash_refused) == NULL ||
	    CU_add_test(s, "name", test_users_name) == NULL ||
	    CU_add_test(s, "line_skip", test_users_line_skip) == NULL ||
	    CU_add_test(s, "line_ok", test_users_line_ok) == NULL ||
	    CU_add_test(s, "line_bad", test_users_line_bad) == NULL ||
	    CU_add_test(s, "load_ok", test_users_load_ok) == NULL ||
	    CU_add_test(s, "load_errors", test_users_load_errors) == NULL ||
	    CU_add_test(s, "load_empty", test_users_load_empty) == NULL)
		return -1;
	return 0;
}
