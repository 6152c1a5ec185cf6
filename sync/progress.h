/* The progress of a cycle's copy, as --progress and --progress-fd ask:
 * on a terminal, one line redrawn in place; elsewhere, a line every so
 * many seconds; on the caller's file descriptor, JSON events.  Each
 * ends with a final line or event.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_PROGRESS_H
#define SYNC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "plan.h"

/* Seconds between lines off a terminal, without --progress=SECONDS. */
#define SYNC_PROGRESS_INTERVAL 10

/* Samples of the bytes copied that the rate is measured over: more
 * than its window holds at the copy's tick.
 */
#define SYNC_PROGRESS_SAMPLES 32

/* Filled by sync_progress_start: the caller only holds it. */
struct sync_progress {
  bool bar;                     /* redrawn in place on standard error */
  unsigned line_interval;       /* else a line every that many s; 0: none */
  int fd;                       /* JSON events; -1: none */
  double next_line, next_event; /* seconds into the copy */
  struct {
    double seconds;
    uint64_t bytes;
  } sample[SYNC_PROGRESS_SAMPLES];
  size_t n_samples;             /* taken; the last ones are kept */
};

/* The copy of PLAN begins: what O asks for is shown from now on. */
void sync_progress_start (struct sync_progress *p,
                          const struct sync_options *o,
                          const struct sync_plan *plan);

/* SECONDS into the copy: redraw, print or send what is due. */
void sync_progress_update (struct sync_progress *p,
                           const struct sync_plan *plan, double seconds);

/* The copy ended after SECONDS, done (OK) or not: the final line and
 * event.
 */
void sync_progress_end (struct sync_progress *p,
                        const struct sync_plan *plan, double seconds,
                        bool ok);

#endif /* SYNC_PROGRESS_H */
