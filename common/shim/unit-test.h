/* The runner of the CUnit tests beside each library: one suite of the
 * tests a program lists, run verbosely; the exit status is what make
 * check reads.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef UNIT_TEST_H
#define UNIT_TEST_H

#include <CUnit/Basic.h>

struct unit_test {
  const char *name;
  void (*run) (void);
};

/* Run TESTS (ended by a NULL name) as suite SUITE.  Returns 0 if all
 * passed, 1 if not.
 */
static inline int
unit_test_run (const char *suite, const struct unit_test *tests)
{
  CU_pSuite s;
  unsigned failed;

  if (CU_initialize_registry () != CUE_SUCCESS)
    return 1;
  s = CU_add_suite (suite, NULL, NULL);
  for (; tests->name; tests++)
    CU_add_test (s, tests->name, tests->run);
  CU_basic_set_mode (CU_BRM_VERBOSE);
  CU_basic_run_tests ();
  failed = CU_get_number_of_failures () + CU_get_number_of_tests_failed ();
  CU_cleanup_registry ();
  return failed ? 1 : 0;
}

#endif /* UNIT_TEST_H */
