/* Seconds since a moment on the monotonic clock, which no change of
 * the system's time moves.  Header-only, as number.h.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VS_SECONDS_H
#define VS_SECONDS_H

#include <time.h>

/* T0 as read by clock_gettime (CLOCK_MONOTONIC, T0). */
static inline double
vs_seconds_since (const struct timespec *t0)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

#endif /* VS_SECONDS_H */
