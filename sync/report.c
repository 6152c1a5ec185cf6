/* Reports (report.h): the plan lines go through tool_info, so that
 * --quiet silences them, and the JSON document alone goes to standard
 * output.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "tool-messages.h"
#include "report.h"

const char *
sync_report_bytes (uint64_t bytes, char *buf, size_t len)
{
  static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = bytes;
  size_t u = 0;

  while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
    v /= 1024;
    u++;
  }
  snprintf (buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
  return buf;
}

void
sync_report_plan (const struct sync_plan *plan)
{
  char a[32], b[32];
  size_t i;

  for (i = 0; i < plan->n; i++) {
    const struct sync_job *j = &plan->job[i];

    tool_info ("disk %zu \"%s\" (key %d) -> %s: %s%s%s, %s to copy of %s",
               j->index, j->disk->label ? j->disk->label : "", j->disk->key,
               j->out.overlay ? j->out.overlay : j->out.path,
               j->resume_change_id ? "resumed full copy ("
               : j->reason ? "full copy (" : "incremental",
               j->reason ? j->reason : "", j->reason ? ")" : "",
               sync_report_bytes (j->copy.to_copy, a, sizeof a),
               sync_report_bytes (j->copy.size, b, sizeof b));
  }
  for (i = 0; i < plan->n_skipped; i++) {
    const struct sync_skipped *s = &plan->skipped[i];

    tool_info ("disk %zu \"%s\" (key %d): not copied (%s)", s->index,
               s->disk->label ? s->disk->label : "", s->disk->key,
               plan->choice->mode == SYNC_ONLY_DISKS
               ? "not among --only-disk" : "--skip-disk");
  }
}

json_object *
sync_report_json_number (double v)
{
  char text[64];
  size_t n = snprintf (text, sizeof text, "%.3f", v);

  /* Trailing zeros say nothing, but one stays after the point. */
  while (n > 2 && text[n - 1] == '0' && text[n - 2] != '.')
    text[--n] = '\0';
  return json_object_new_double_s (strtod (text, NULL), text);
}

static json_object *
string_or_null (const char *s)
{
  return s ? json_object_new_string (s) : NULL;
}

void
sync_report_json (const struct sync_plan *plan,
                  const struct sync_cycle_summary *s)
{
  json_object *doc = json_object_new_object ();
  json_object *vm = json_object_new_object ();
  json_object *disks = json_object_new_array ();
  json_object *removed = json_object_new_array ();
  json_object *skipped = json_object_new_array ();
  uint64_t to_copy = 0, done = 0;
  size_t i;

  json_object_object_add (doc, "result",
                          json_object_new_string (s->ok ? "ok" : "failed"));
  if (!s->ok)
    json_object_object_add (doc, "error",
                            string_or_null (tool_first_error ()));
  json_object_object_add (vm, "moref", string_or_null (s->vm_ref));
  json_object_object_add (vm, "name", string_or_null (s->vm_name));
  json_object_object_add (doc, "vm", vm);
  json_object_object_add (doc, "snapshot", string_or_null (s->snapshot_ref));
  json_object_object_add (doc, "cycle", json_object_new_int64 (s->cycle));
  json_object_object_add (doc, "seconds",
                          sync_report_json_number (s->seconds));
  json_object_object_add (doc, "verified", json_object_new_boolean (s->verified));
  for (i = 0; plan && i < plan->n; i++) {
    const struct sync_job *j = &plan->job[i];
    json_object *d = json_object_new_object ();

    to_copy += j->copy.to_copy;
    done += sync_copy_copied (&j->copy);
    json_object_object_add (d, "key", json_object_new_int (j->disk->key));
    json_object_object_add (d, "label", string_or_null (j->disk->label));
    json_object_object_add (d, "output",
                            string_or_null (j->out.overlay ? j->out.overlay
                                            : j->out.path));
    json_object_object_add (d, "mode", json_object_new_string
                            (j->resume_change_id ? "resume"
                             : j->reason ? "full" : "incremental"));
    json_object_object_add (d, "reason", string_or_null (j->reason));
    json_object_object_add (d, "size", json_object_new_int64 (j->copy.size));
    json_object_object_add (d, "bytes_to_copy",
                            json_object_new_int64 (j->copy.to_copy));
    json_object_object_add (d, "bytes_copied", json_object_new_int64
                            (sync_copy_copied (&j->copy)));
    json_object_object_add (d, "bytes_verified", json_object_new_int64
                            (__atomic_load_n (&j->copy.verified,
                                              __ATOMIC_RELAXED)));
    json_object_object_add (d, "change_id",
                            string_or_null (j->disk->change_id));
    json_object_array_add (disks, d);
  }
  json_object_object_add (doc, "bytes_to_copy", json_object_new_int64 (to_copy));
  json_object_object_add (doc, "bytes_copied", json_object_new_int64 (done));
  json_object_object_add (doc, "disks", disks);
  for (i = 0; plan && i < plan->n_removed; i++) {
    const struct sync_state_disk *r = plan->removed[i];
    json_object *d = json_object_new_object ();

    json_object_object_add (d, "key", json_object_new_int (r->key));
    json_object_object_add (d, "label", json_object_new_string (r->label));
    json_object_object_add (d, "output", json_object_new_string (r->output));
    json_object_array_add (removed, d);
  }
  json_object_object_add (doc, "removed", removed);
  json_object_object_add (doc, "disk_choice", plan && plan->choice
                          ? sync_choice_to_json (plan->choice) : NULL);
  for (i = 0; plan && i < plan->n_skipped; i++) {
    const struct sync_skipped *k = &plan->skipped[i];
    json_object *d = json_object_new_object ();

    json_object_object_add (d, "key", json_object_new_int (k->disk->key));
    json_object_object_add (d, "label", string_or_null (k->disk->label));
    json_object_object_add (d, "index", json_object_new_int64 (k->index));
    json_object_array_add (skipped, d);
  }
  json_object_object_add (doc, "skipped", skipped);
  printf ("%s\n", json_object_to_json_string_ext (doc,
                                                  JSON_C_TO_STRING_PRETTY |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
  fflush (stdout);
  json_object_put (doc);
}
