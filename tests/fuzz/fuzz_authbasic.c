/*
 * libFuzzer harness for authbasic: the Proxy-Authorization parser and
 * the strict base64 decoder, over arbitrary bytes.  The input is copied
 * into a buffer of exactly its size, so ASan reports any read past
 * value + len.  Invariants checked on every input: a parse that
 * succeeds yields a non-empty user and NUL-terminated fields within
 * bounds; a parse that fails leaves both fields zeroed.
 *
 * Build: clang -g -fsanitize=fuzzer,address,undefined -Isrc \
 *     tests/fuzz/fuzz_authbasic.c src/authbasic.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authbasic.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* Are all n bytes of p zero? */
static int
fuzz_all_zero(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\0')
			return 0;
	}
	return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 user[AUTH_USER_MAX + 1], pass[AUTH_PASS_MAX + 1];
	unsigned char	 out[AUTH_USER_MAX + AUTH_PASS_MAX + 1];
	char		*copy;
	long		 n;

	if ((copy = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);

	if (authbasic_parse(copy, size, user, pass) == 0) {
		if (user[0] == '\0' || memchr(user, '\0', sizeof(user)) ==
		    NULL || memchr(pass, '\0', sizeof(pass)) == NULL ||
		    strchr(user, ':') != NULL)
			abort();
	} else if (!fuzz_all_zero(user, sizeof(user)) ||
	    !fuzz_all_zero(pass, sizeof(pass)))
		abort();

	n = authbasic_b64decode(copy, size, out, sizeof(out));
	if (n < -1 || n > (long)sizeof(out))
		abort();
	free(copy);
	return 0;
}
