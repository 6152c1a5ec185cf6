/* What the user sees of a cycle: the plan, and the JSON summary of
 * --json (its progress is progress.h's); and the forms of numbers that
 * both use.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_REPORT_H
#define SYNC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * much there is to copy; or that the choice of disks leaves it out.
 */
void sync_report_plan (const struct sync_plan *plan);

/* BYTES in the largest binary unit that keeps it at least 1
 * ("2.5 GiB"), in BUF of LEN.  Returns BUF.
 */
const char *sync_report_bytes (uint64_t bytes, char *buf, size_t len);

/* V as a JSON number rounded to 3 decimals: a duration or a percentage
 * needs no more, and a reader no binary noise ("4.5823159550000003").
 */
json_object *sync_report_json_number (double v);

/* The --json document, on standard output. */
void sync_report_json (const struct sync_plan *plan,
                       const struct sync_cycle_summary *s);

#endif /* SYNC_REPORT_H */
