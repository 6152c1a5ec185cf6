/* Planning a cycle (plan.h), which only looks at files: each disk of
 * the snapshot that the choice of disks copies gets its output (from
 * --disk, from the state, or a default name under -o that collides
 * with nothing), then the first reason found for a full copy, checked
 * in a fixed order.  An interrupted full copy is resumed only if the
 * disk, its CBT epoch, the output and its format are all unchanged.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk-names.h"
#include "tool-messages.h"
#include "tool-paths.h"
#include "plan.h"
#include "vsphere-cbt.h"

/* A VM name as part of a file name: no slashes, no control characters,
 * and no leading dot.
 */
static char *
file_name_part (const char *vm_name)
{
  char *s = strdup (vm_name), *p;

  if (!s) {
    tool_error ("strdup: %m");
    return NULL;
  }
  for (p = s; *p; p++)
    if (*p == '/' || (unsigned char) *p < 0x20)
      *p = '_';
  if (s[0] == '.')
    s[0] = '_';
  return s;
}

/* DIR, made absolute. */
static char *
absolute_dir (const char *dir)
{
  char *r = realpath (dir, NULL);

  if (!r)
    tool_error ("-o %s: %m", dir);
  return r;
}

char *
sync_plan_state_path (const struct sync_options *o, const char *vm_name)
{
  char *dir, *name, *path = NULL;

  if (!o->output_dir)
    return NULL;
  dir = absolute_dir (o->output_dir);
  name = file_name_part (vm_name);
  if (dir && name && asprintf (&path, "%s/%s.vsphere-sync.json", dir,
                               name) == -1) {
    tool_error ("asprintf: %m");
    path = NULL;
  }
  free (dir);
  free (name);
  return path;
}

int
sync_plan_check_output_dir (const struct sync_options *o,
                            const char *state_path,
                            const struct sync_state *st)
{
  char *dir, *recorded;
  size_t i, len;
  int r = 0;

  if (!o->output_dir || !o->state_file)
    return 0;
  dir = absolute_dir (o->output_dir);
  if (!dir)
    return -1;
  len = strlen (dir);
  for (i = 0; r == 0 && i < st->n; i++) {
    const struct sync_state_disk *d = &st->disk[i];
    size_t k;
    bool given = false;

    for (k = 0; k < o->disk_outputs.len; k++)
      given |= o->disk_outputs.ptr[k].id == d->key;
    if (given || (strncmp (d->output, dir, len) == 0 &&
                  d->output[len] == '/' && !strchr (d->output + len + 1, '/')))
      continue;
    recorded = tool_dir_of (d->output);
    tool_error ("-o %s: the state file %s records the output of disk \"%s\" "
                "(key %d) as %s, not in this directory, and -o does not move "
                "it: give -o %s, or leave -o out", o->output_dir, state_path,
                d->label, d->key, d->output,
                recorded ? recorded : "its directory");
    free (recorded);
    r = -1;
  }
  free (dir);
  return r;
}

/* An absolute form of PATH whose directory exists. */
static char *
absolute_output (const char *path)
{
  char *copy = strdup (path), *slash, *dir, *r = NULL;
  const char *base;

  if (!copy) {
    tool_error ("strdup: %m");
    return NULL;
  }
  slash = strrchr (copy, '/');
  if (slash == copy) {
    dir = strdup ("/");
    base = copy + 1;
  }
  else if (slash) {
    *slash = '\0';
    dir = realpath (copy, NULL);
    base = slash + 1;
  }
  else {
    dir = realpath (".", NULL);
    base = copy;
  }
  if (!dir)
    tool_error ("output %s: its directory: %m", path);
  else if (!*base)
    tool_error ("output %s names a directory, not a file", path);
  else if (asprintf (&r, "%s%s%s", dir, strcmp (dir, "/") ? "/" : "",
                     base) == -1) {
    tool_error ("asprintf: %m");
    r = NULL;
  }
  free (dir);
  free (copy);
  return r;
}

static bool output_present (const char *path);

/* Whether PATH is the output of a disk other than KEY: of the state's
 * disks (those removed from the VM included: their outputs are left
 * alone) or of the disks planned so far.
 */
static bool
taken (const char *path, int key, const struct sync_state *st,
       const struct sync_plan *plan)
{
  size_t i;

  for (i = 0; i < st->n; i++)
    if (st->disk[i].key != key && strcmp (st->disk[i].output, path) == 0)
      return true;
  for (i = 0; i < plan->n; i++)
    if (plan->job[i].out.path && strcmp (plan->job[i].out.path, path) == 0)
      return true;
  return false;
}

/* The default output of a disk new to the state: DIR/VM-diskINDEX.FMT,
 * unless another disk has that name, or, once the state has disks, a
 * file has it (the output of a disk removed since, say): then the
 * device key and a number make it unique.
 */
static char *
default_output (const struct sync_options *o, const char *vm_name,
                const struct vs_disk *d, size_t index, enum sync_format f,
                const struct sync_state *st, const struct sync_plan *plan)
{
  const char *ext = sync_format_name (f);
  char *dir = absolute_dir (o->output_dir), *name = file_name_part (vm_name);
  char *path = NULL;
  unsigned n;

  for (n = 0; dir && name && n < 100; n++) {
    int r = n == 0 ? asprintf (&path, "%s/%s-disk%zu.%s", dir, name, index, ext)
      : n == 1 ? asprintf (&path, "%s/%s-disk%zu-%d.%s", dir, name, index,
                           d->key, ext)
      : asprintf (&path, "%s/%s-disk%zu-%d-%u.%s", dir, name, index, d->key,
                  n, ext);

    if (r == -1) {
      tool_error ("asprintf: %m");
      path = NULL;
      break;
    }
    if (!taken (path, d->key, st, plan) && (st->n == 0 || !output_present (path)))
      break;
    free (path);
    path = NULL;
  }
  if (dir && name && !path)
    tool_error ("disk %zu (key %d): no free output name in %s: give "
                "--disk %d=PATH", index, d->key, dir, d->key);
  free (dir);
  free (name);
  return path;
}

/* Whether PATH's extension names the other format than F. */
static bool
extension_contradicts (const char *path, enum sync_format f)
{
  const char *dot = strrchr (path, '.');

  if (!dot || strchr (dot, '/'))
    return false;
  return f == SYNC_QCOW2 ? strcmp (dot, ".raw") == 0
    : strcmp (dot, ".qcow2") == 0;
}

/* OLD's output under a new format F: its name with the extension of F
 * where the name ends in the old format's, else NULL (reported).
 */
static char *
renamed_output (const struct sync_state_disk *old, enum sync_format f,
                size_t index)
{
  const char *was = sync_format_name (old->format);
  size_t len = strlen (old->output), ext = strlen (was);
  char *path;

  if (len <= ext + 1 || old->output[len - ext - 1] != '.' ||
      strcmp (old->output + len - ext, was) != 0) {
    tool_error ("disk %zu (key %d): its output %s holds a %s image, and "
                "-f %s would change its content but not its name: give "
                "-f %s to go on with it, or --disk %d=NEW.%s for a new "
                "output", index, old->key, old->output, was,
                sync_format_name (f), was, old->key, sync_format_name (f));
    return NULL;
  }
  if (asprintf (&path, "%.*s%s", (int) (len - ext), old->output,
                sync_format_name (f)) == -1) {
    tool_error ("asprintf: %m");
    return NULL;
  }
  return path;
}

/* The output of disk D: given by --disk, recorded in the state (under
 * a new name when -f changes the format), or a default one.
 * *ABSOLUTE: to be recorded as an absolute path.
 */
static char *
choose_output (const struct sync_options *o, const char *vm_name,
               const struct vs_disk *d, size_t index,
               const struct sync_state *st, const struct sync_plan *plan,
               const struct sync_state_disk *old, enum sync_format f,
               bool *absolute)
{
  const char *given = sync_given_output (o, d, index);
  char *path;

  *absolute = false;
  if (given) {
    *absolute = given[0] == '/';
    path = absolute_output (given);
  }
  else if (old && old->format != f) {
    *absolute = old->output_absolute;
    path = renamed_output (old, f, index);
  }
  else if (old) {
    *absolute = old->output_absolute;
    path = strdup (old->output);
  }
  else if (!o->output_dir) {
    sync_report_no_output (d, index);
    return NULL;
  }
  else
    path = default_output (o, vm_name, d, index, f, st, plan);
  if (path && extension_contradicts (path, f)) {
    tool_error ("disk %zu (key %d): its output %s is named for another "
                "format than %s: name it .%s, or give -f %s", index, d->key,
                path, sync_format_name (f), sync_format_name (f),
                sync_format_name (f == SYNC_RAW ? SYNC_QCOW2 : SYNC_RAW));
    free (path);
    return NULL;
  }
  return path;
}

static bool
output_present (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0;
}

/* Why J's disk D must be copied in full into OUTPUT of format F: into
 * *REASON, left NULL for an incremental copy.  Returns 0, or -1 (out of
 * memory, reported).
 */
static int
full_copy_reason (const struct sync_options *o, const struct vs_disk *d,
                  const struct sync_state_disk *old, const char *output,
                  enum sync_format f, char **reason)
{
  size_t uuid_len;
  int n;

  *reason = NULL;
  if (!old)
    n = asprintf (reason, "it has no state yet");
  else if (o->full)
    n = asprintf (reason, "--full was given");
  else if (!old->change_id && old->converted)
    n = asprintf (reason, "vsphere-v2v converted its copy");
  else if (!old->change_id)
    n = asprintf (reason, "its last copy did not finish, or --verify "
                  "found it different");
  else if (old->format != f)
    n = asprintf (reason, "its format changed from %s to %s (the %s copy "
                  "%s is left alone)", sync_format_name (old->format),
                  sync_format_name (f), sync_format_name (old->format),
                  old->output);
  else if (strcmp (old->output, output) != 0)
    n = asprintf (reason, "its output changed from %s", old->output);
  else if (old->n_overlays > 0 && !o->overlay)
    n = asprintf (reason, "--overlay was dropped");
  else if (!old->whole && o->overlay)
    n = asprintf (reason, "its last update did not finish, and an overlay "
                  "needs a whole image below it");
  else if (old->uuid && d->uuid && strcmp (old->uuid, d->uuid) != 0)
    n = asprintf (reason, "another disk now has its device key (its uuid "
                  "is %s, was %s): the disk was replaced", d->uuid,
                  old->uuid);
  else if (old->size != d->capacity)
    n = asprintf (reason, "it was resized from %" PRId64 " to %" PRId64
                  " bytes", old->size, d->capacity);
  else if ((uuid_len = vs_change_id_uuid_len (d->change_id)) == 0 ||
           strncmp (d->change_id, old->change_id, uuid_len + 1) != 0)
    n = asprintf (reason, "its changeId %s is of another CBT epoch than the "
                  "recorded %s (CBT was reset, or the disk replaced)",
                  d->change_id, old->change_id);
  else
    return sync_state_check_images (old, reason);
  if (n == -1) {
    *reason = NULL;
    tool_error ("asprintf: %m");
    return -1;
  }
  return 0;
}

/* Whether OUTPUT is still the file the interrupted full copy wrote:
 * the same inode when the checkpoint recorded one, and a raw file of
 * the disk's size (a truncated one would read as zeros below the
 * watermark).
 */
static bool
partial_output_intact (const struct sync_state_disk *old, const char *output)
{
  struct sync_identity now;

  if (sync_identity_read (output, &now) == -1)
    return false;
  if (!now.known)
    return true;
  return (!old->identity.known || now.inode == old->identity.inode) &&
    (old->format != SYNC_RAW || now.bytes == old->size);
}

/* Whether the interrupted full copy recorded in OLD can go on into
 * OUTPUT: the same disk and CBT epoch, the same output and format.
 */
static bool
resumable (const struct sync_options *o, const struct vs_disk *d,
           const struct sync_state_disk *old, const char *output,
           enum sync_format f)
{
  size_t uuid_len = vs_change_id_uuid_len (d->change_id);

  return old && old->partial_change_id && !old->change_id && !o->full &&
    strcmp (old->output, output) == 0 && old->format == f &&
    partial_output_intact (old, output) && old->size == d->capacity &&
    old->partial_copied > 0 && old->partial_copied <= d->capacity &&
    (!old->uuid || !d->uuid || strcmp (old->uuid, d->uuid) == 0) &&
    uuid_len > 0 &&
    strncmp (d->change_id, old->partial_change_id, uuid_len + 1) == 0;
}

static int
resume (struct sync_job *j)
{
  free (j->reason);
  j->reason = NULL;
  j->resume_from = j->old->partial_copied;
  /* Our own copy: checkpoints rewrite the state entry. */
  j->resume_change_id = strdup (j->old->partial_change_id);
  if (!j->resume_change_id) {
    tool_error ("strdup: %m");
    return -1;
  }
  j->checkpointed = j->resume_from;
  j->out.resume = true;
  if (asprintf (&j->reason, "resuming its interrupted full copy after "
                "%" PRIu64 " of %" PRId64 " bytes", j->resume_from,
                j->disk->capacity) == -1) {
    j->reason = NULL;
    tool_error ("asprintf: %m");
    return -1;
  }
  return 0;
}

char *
sync_plan_overlay_name (const struct sync_state_disk *old, bool part)
{
  char *path;

  if (asprintf (&path, "%s.%zu.qcow2%s", old->output, old->n_overlays + 1,
                part ? ".part" : "") == -1) {
    tool_error ("asprintf: %m");
    return NULL;
  }
  return path;
}

static int
overlay_path (struct sync_job *j, const struct sync_state_disk *old)
{
  j->out.backing = old->n_overlays ? old->overlays[old->n_overlays - 1]
    : old->output;
  j->out.backing_format = old->n_overlays ? SYNC_QCOW2 : old->format;
  j->out.overlay = sync_plan_overlay_name (old, false);
  j->out.overlay_part = sync_plan_overlay_name (old, true);
  return j->out.overlay && j->out.overlay_part ? 0 : -1;
}

static int
plan_disk (const struct sync_options *o, const char *vm_name,
           const struct vs_disk *d, size_t index,
           const struct sync_state *st, const struct sync_plan *plan,
           struct sync_job *j)
{
  memset (j, 0, sizeof *j);
  j->out.fd = -1;
  j->disk = d;
  j->index = index;
  j->old = sync_state_find (st, d->key);
  if (!d->change_id) {
    tool_error ("disk %zu \"%s\" (key %d) has no changeId in the snapshot: "
                "CBT is on for the VM but not yet in effect for this disk; "
                "it takes effect after the VM is powered off and on, or a "
                "snapshot is taken and removed: run vsphere-sync again",
                index, d->label ? d->label : "", d->key);
    return -1;
  }
  /* Without -f, a disk keeps the format the state records. */
  j->out.format = o->format_given || !j->old ? o->format : j->old->format;
  j->out.path = choose_output (o, vm_name, d, index, st, plan, j->old,
                               j->out.format, &j->out.absolute);
  if (!j->out.path)
    return -1;
  j->out.size = d->capacity;
  if (full_copy_reason (o, d, j->old, j->out.path, j->out.format,
                        &j->reason) == -1)
    return -1;
  j->out.full = j->reason != NULL;
  if (j->out.full &&
      resumable (o, d, j->old, j->out.path, j->out.format) &&
      resume (j) == -1)
    return -1;
  if (!j->out.full && o->overlay && overlay_path (j, j->old) == -1)
    return -1;
  j->copy.export_name = d->file;
  j->copy.size = d->capacity;
  j->copy.unchanged_below = j->out.full ? j->resume_from
    : (uint64_t) d->capacity;
  return 0;
}

void
sync_plan_no_overlay (struct sync_job *j)
{
  free (j->out.overlay);
  free (j->out.overlay_part);
  j->out.overlay = j->out.overlay_part = NULL;
  j->out.backing = NULL;
  j->untouched = true;
}

void
sync_plan_full_copy (struct sync_job *j, char *reason)
{
  free (j->reason);
  free (j->resume_change_id);
  j->reason = reason;
  j->resume_from = j->checkpointed = 0;
  j->resume_change_id = NULL;
  j->out.full = true;
  j->out.resume = false;
  j->out.backing = NULL;
  free (j->out.overlay);
  free (j->out.overlay_part);
  j->out.overlay = j->out.overlay_part = NULL;
  j->copy.unchanged_below = 0;
}

/* Two disks must not share an output. */
static int
check_distinct (const struct sync_plan *plan)
{
  size_t i, k;

  for (i = 0; i < plan->n; i++)
    for (k = i + 1; k < plan->n; k++)
      if (strcmp (plan->job[i].out.path, plan->job[k].out.path) == 0) {
        tool_error ("disks %zu and %zu would both be written to %s: give "
                    "each its own --disk", plan->job[i].index,
                    plan->job[k].index, plan->job[i].out.path);
        return -1;
      }
  return 0;
}

int
sync_plan_make (const struct sync_options *o, const char *vm_name,
                const struct vs_disks *disks,
                const struct sync_disk_choice *choice,
                const struct sync_state *st, struct sync_plan *plan)
{
  size_t i, k;

  plan->n = plan->n_skipped = 0;
  plan->choice = choice;
  if (sync_check_disk_outputs (o, vm_name, disks) == -1 ||
      sync_check_chosen (choice, vm_name, disks) == -1)
    return -1;
  plan->job = calloc (disks->len ? disks->len : 1, sizeof *plan->job);
  plan->skipped = calloc (disks->len ? disks->len : 1,
                          sizeof *plan->skipped);
  if (!plan->job || !plan->skipped) {
    tool_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < disks->len; i++) {
    const struct vs_disk *d = &disks->ptr[i];

    if (!sync_choice_copies (choice, d->key)) {
      plan->skipped[plan->n_skipped++] = (struct sync_skipped) { d, i };
      continue;
    }
    plan->n++;
    if (plan_disk (o, vm_name, d, i, st, plan,
                   &plan->job[plan->n - 1]) == -1)
      return -1;
  }
  plan->removed = calloc (st->n ? st->n : 1, sizeof *plan->removed);
  if (!plan->removed) {
    tool_error ("calloc: %m");
    return -1;
  }
  for (k = 0; k < st->n; k++) {
    if (vs_disks_by_key (disks, st->disk[k].key))
      continue;
    tool_info ("disk \"%s\" (key %d) was removed from the VM: it is "
               "dropped from the state, and its output %s is left alone",
               st->disk[k].label, st->disk[k].key, st->disk[k].output);
    plan->removed[plan->n_removed++] = &st->disk[k];
  }
  return check_distinct (plan);
}

void
sync_plan_free (struct sync_plan *plan)
{
  size_t i;

  for (i = 0; i < plan->n; i++) {
    sync_output_close (&plan->job[i].out);
    free (plan->job[i].reason);
    free (plan->job[i].resume_change_id);
    free (plan->job[i].out.path);
    free (plan->job[i].out.overlay);
    free (plan->job[i].out.overlay_part);
  }
  free (plan->job);
  free (plan->skipped);
  free (plan->removed);
  plan->job = NULL;
  plan->skipped = NULL;
  plan->removed = NULL;
  plan->n = plan->n_skipped = plan->n_removed = 0;
}
