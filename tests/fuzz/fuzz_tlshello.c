/*
 * libFuzzer harness for tlshello: the input is everything a client sent
 * first.  Besides the sanitizers it checks the parser's promises: a
 * known answer, a NUL-terminated name on OK, MORE only below
 * TLSHELLO_MAX_INPUT, and the same answer for a smaller name buffer
 * unless the name no longer fits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlshello.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		sni[256], small[16];
	enum tlshello	r, r2;

	r = tlshello_parse(data, size, sni, sizeof(sni));
	if (r > TLSHELLO_MALFORMED)
		abort();
	if (r == TLSHELLO_MORE && size >= TLSHELLO_MAX_INPUT)
		abort();
	if (r == TLSHELLO_OK && memchr(sni, '\0', sizeof(sni)) == NULL)
		abort();

	r2 = tlshello_parse(data, size, small, sizeof(small));
	if (r == TLSHELLO_OK && strlen(sni) < sizeof(small)) {
		if (r2 != TLSHELLO_OK || strcmp(sni, small) != 0)
			abort();
	} else if (r == TLSHELLO_OK) {
		if (r2 != TLSHELLO_MALFORMED)
			abort();
	} else if (r2 != r)
		abort();
	return 0;
}
