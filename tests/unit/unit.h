/* The CUnit runner's registry: one add function per suite. */
#ifndef EGRESSD_TEST_UNIT_H
#define EGRESSD_TEST_UNIT_H

#include <CUnit/CUnit.h>

int	test_allowlist_add(void);
int	test_authbasic_add(void);
int	test_escape_add(void);
int	test_http_add(void);
int	test_netset_add(void);
int	test_ratelimit_add(void);
int	test_tlshello_add(void);
int	test_users_add(void);

#endif
