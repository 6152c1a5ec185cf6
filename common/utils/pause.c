/* Pauses (pause.h): without a stop condition, one nanosleep; with one,
 * slices of 50 ms, the condition checked before each, so that a stop is
 * seen within a twentieth of a second.  The condition is set at the
 * start of a program (and cleared in the guardian's forked process)
 * before any thread waits, and is read without a lock.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include "pause.h"

/* How often a long pause looks at the stop condition. */
#define SLICE_NS (50 * 1000 * 1000L)

static bool (*stop_when) (void);

void
vs_pause_stop_when (bool (*stop) (void))
{
  stop_when = stop;
}

bool
vs_pause_stopped (void)
{
  return stop_when && stop_when ();
}

bool
vs_pause (struct timespec d)
{
  struct timespec slice;

  if (!stop_when) {
    nanosleep (&d, NULL);
    return true;
  }
  while (d.tv_sec > 0 || d.tv_nsec > 0) {
    if (stop_when ())
      return false;
    slice.tv_sec = 0;
    slice.tv_nsec = d.tv_sec > 0 || d.tv_nsec > SLICE_NS ? SLICE_NS
      : d.tv_nsec;
    nanosleep (&slice, NULL);
    d.tv_nsec -= slice.tv_nsec;
    if (d.tv_nsec < 0) {
      d.tv_sec--;
      d.tv_nsec += 1000000000L;
    }
  }
  return !stop_when ();
}
