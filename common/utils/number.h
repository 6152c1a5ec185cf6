/* Strict whole numbers, for parameters, options, files and the
 * server's answers: decimal digits, with a leading '-' where the range
 * allows negatives, and nothing else (no blanks, '+', "0x", or text
 * after).  Header-only, so that common/vmdk uses it without linking
 * anything.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VS_NUMBER_H
#define VS_NUMBER_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* S as a number from MIN to MAX.  Returns 0, or -1 with errno EINVAL
 * (not such a number) or ERANGE (outside the range) and *RET
 * unchanged.  Nothing is reported: only the caller knows what S was.
 */
static inline int
vs_parse_int64 (const char *s, int64_t min, int64_t max, int64_t *ret)
{
  const char *digits = s[0] == '-' ? s + 1 : s;
  char *end;
  long long v;

  /* strtoll alone would take blanks, a '+' and "0x". */
  if (*digits < '0' || *digits > '9') {
    errno = EINVAL;
    return -1;
  }
  errno = 0;
  v = strtoll (s, &end, 10);
  if (*end) {
    errno = EINVAL;
    return -1;
  }
  if (errno || v < min || v > max) {
    errno = ERANGE;
    return -1;
  }
  *ret = v;
  return 0;
}

/* The same for numbers from 0 to MAX, up to UINT64_MAX. */
static inline int
vs_parse_uint64 (const char *s, uint64_t max, uint64_t *ret)
{
  char *end;
  unsigned long long v;

  if (*s < '0' || *s > '9') {
    errno = EINVAL;
    return -1;
  }
  errno = 0;
  v = strtoull (s, &end, 10);
  if (*end) {
    errno = EINVAL;
    return -1;
  }
  if (errno || v > max) {
    errno = ERANGE;
    return -1;
  }
  *ret = v;
  return 0;
}

#endif /* VS_NUMBER_H */
