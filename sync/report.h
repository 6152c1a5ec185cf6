/* What the user sees of a cycle: the plan, progress with rate and ETA,
 * and the JSON summary of --json.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_REPORT_H
#define SYNC_REPORT_H

#include <stdbool.h>

#include <json-c/json.h>

#include "plan.h"

struct sync_cycle_summary {
  const char *vm_ref, *vm_name, *snapshot_ref;
  unsigned cycle;
  double seconds;
  bool ok;
  bool verified;                /* --verify found no difference */
};

/* One line per disk: where it goes, full (why) or incremental, and how
 * much there is to copy.
 */
void sync_report_plan (const struct sync_plan *plan);

/* A progress line: per disk and in total, with rate and ETA. */
void sync_report_progress (const struct sync_plan *plan, double seconds);

/* V as a JSON number rounded to 3 decimals: a duration or a percentage
 * needs no more, and a reader no binary noise ("4.5823159550000003").
 */
json_object *sync_report_json_number (double v);

/* The --json document, on standard output. */
void sync_report_json (const struct sync_plan *plan,
                       const struct sync_cycle_summary *s);

#endif /* SYNC_REPORT_H */
