/*
 * The one CUnit runner: every suite of tests/unit, basic interface.
 * Exits non-zero when any assertion fails.
 */
#include <stdio.h>
#include <stdlib.h>

#include <CUnit/Basic.h>

#include "unit.h"

static int (*const suites[])(void) = {
	test_allowlist_add,
	test_authbasic_add,
	test_escape_add,
	test_http_add,
	test_netset_add,
	test_ratelimit_add,
	test_tlshello_add,
	test_users_add,
};


int
main(void)
{
	unsigned	failed;
	size_t		i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (suites[i]() != 0) {
			fprintf(stderr, "unit: cannot add suite %zu\n", i);
			CU_cleanup_registry();
			return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() +
	    CU_get_number_of_tests_failed();
	printf("unit: %u passed, %u failed\n",
	    CU_get_number_of_tests_run() - CU_get_number_of_tests_failed(),
	    CU_get_number_of_tests_failed());
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
