/* Disks named on the command line (disk-names.h), checked against the
 * VM's disks as they are before the snapshot, so that a typo costs no
 * snapshot.  The choice is kept as device keys: the state records it
 * so, and a disk added later is copied under --skip-disk and not under
 * --only-disk.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "disk-names.h"
#include "tool-messages.h"

bool
sync_id_names (long id, const struct vs_disk *d, size_t index)
{
  return id >= SYNC_MIN_DEVICE_KEY ? id == d->key : (size_t) id == index;
}

/* What kind of name ID is, in messages. */
static const char *
id_kind (long id)
{
  return id >= SYNC_MIN_DEVICE_KEY ? "device key" : id >= 0 ? "index"
    : "label";
}

/* The index among DISKS of the disk NAME names, or -1. */
static ssize_t
find_named (const struct sync_disk_name *name, const struct vs_disks *disks)
{
  size_t i;

  for (i = 0; i < disks->len; i++) {
    const struct vs_disk *d = &disks->ptr[i];

    if (name->id >= 0 ? sync_id_names (name->id, d, i)
        : d->label && strcasecmp (d->label, name->text) == 0)
      return i;
  }
  return -1;
}

/* The error for NAME (of OPTION, in QUOTEs), which matches none of
 * DISKS of VM_NAME as a name of its kind (ID).
 */
static void
no_such_disk (const char *option, const char *quote, const char *name,
              long id, const char *vm_name, const struct vs_disks *disks)
{
  char *list = sync_choice_list_disks (NULL, disks, true);

  tool_error ("%s %s%s%s: VM %s has no disk with this %s; its disks are %s",
              option, quote, name, quote, vm_name, id_kind (id),
              list ? list : "(out of memory)");
  free (list);
}

const char *
sync_given_output (const struct sync_options *o, const struct vs_disk *d,
                   size_t index)
{
  size_t i;

  for (i = 0; i < o->disk_outputs.len; i++)
    if (sync_id_names (o->disk_outputs.ptr[i].id, d, index))
      return o->disk_outputs.ptr[i].path;
  return NULL;
}

void
sync_report_no_output (const struct vs_disk *d, size_t index)
{
  tool_error ("disk %zu \"%s\" (key %d) has no output: give -o DIR or "
              "--disk %zu=PATH", index, d->label ? d->label : "", d->key,
              index);
}

int
sync_check_outputs_known (const struct sync_options *o,
                          const struct vs_disks *disks,
                          const struct sync_disk_choice *choice,
                          const struct sync_state *st)
{
  size_t i;

  if (o->output_dir)
    return 0;
  for (i = 0; i < disks->len; i++) {
    const struct vs_disk *d = &disks->ptr[i];

    if (!sync_given_output (o, d, i) && sync_choice_copies (choice, d->key) &&
        !sync_state_find (st, d->key)) {
      sync_report_no_output (d, i);
      return -1;
    }
  }
  return 0;
}

int
sync_check_disk_outputs (const struct sync_options *o, const char *vm_name,
                         const struct vs_disks *disks)
{
  size_t i, k;

  for (i = 0; i < o->disk_outputs.len; i++) {
    const struct sync_disk_output *out = &o->disk_outputs.ptr[i];
    bool found = false;
    char *name;

    for (k = 0; k < disks->len; k++)
      found |= sync_id_names (out->id, &disks->ptr[k], k);
    if (found)
      continue;
    if (asprintf (&name, "%ld=%s", out->id, out->path) == -1) {
      tool_error ("asprintf: %m");
      return -1;
    }
    no_such_disk ("--disk", "", name, out->id, vm_name, disks);
    free (name);
    return -1;
  }
  return 0;
}

/* The keys of the disks that --only-disk or --skip-disk name. */
static int
from_names (const struct sync_options *o, const char *vm_name,
            const struct vs_disks *disks, struct sync_disk_choice *choice)
{
  const char *option = sync_choice_option (o->choose);
  size_t i, k;

  choice->mode = o->choose;
  choice->keys = calloc (o->disk_names.len, sizeof *choice->keys);
  if (!choice->keys) {
    tool_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < o->disk_names.len; i++) {
    const struct sync_disk_name *name = &o->disk_names.ptr[i];
    ssize_t found = find_named (name, disks);
    const struct vs_disk *d;

    if (found == -1) {
      no_such_disk (option, sync_disk_name_quote (name), name->text,
                    name->id, vm_name, disks);
      return -1;
    }
    d = &disks->ptr[found];
    /* One key per name so far: the Kth is the Kth name's. */
    for (k = 0; k < choice->n; k++) {
      const struct sync_disk_name *was = &o->disk_names.ptr[k];

      if (choice->keys[k] == d->key) {
        tool_error ("%s %s%s%s and %s %s%s%s name the same disk, %zd "
                    "\"%s\" (key %d): give each disk once", option,
                    sync_disk_name_quote (was), was->text,
                    sync_disk_name_quote (was), option,
                    sync_disk_name_quote (name), name->text,
                    sync_disk_name_quote (name), found,
                    d->label ? d->label : "", d->key);
        return -1;
      }
    }
    choice->keys[choice->n++] = d->key;
  }
  return 0;
}

/* RECORDED, less the disks that the VM no longer has (the plan reports
 * them as removed).
 */
static int
from_state (const char *vm_name, const struct vs_disks *disks,
            const struct sync_disk_choice *recorded,
            struct sync_disk_choice *choice)
{
  char *was, *list;
  size_t i, k;

  if (sync_choice_copy (choice, recorded) == -1)
    return -1;
  for (i = k = 0; i < choice->n; i++)
    if (vs_disks_by_key (disks, choice->keys[i]))
      choice->keys[k++] = choice->keys[i];
  choice->n = k;
  if (choice->n > 0)
    return 0;
  if (choice->mode == SYNC_SKIP_DISKS)
    choice->mode = SYNC_ALL_DISKS;
  if (choice->mode == SYNC_ALL_DISKS)
    return 0;
  was = sync_choice_describe (recorded);
  list = sync_choice_list_disks (NULL, disks, true);
  tool_error ("VM %s no longer has any of the disks that its state says "
              "to copy (%s): choose again with --only-disk or --skip-disk, "
              "or give --all-disks; its disks are %s", vm_name,
              was ? was : "", list ? list : "(out of memory)");
  free (was);
  free (list);
  return -1;
}

int
sync_check_chosen (const struct sync_disk_choice *choice,
                   const char *vm_name, const struct vs_disks *disks)
{
  size_t i;

  for (i = 0; choice->mode == SYNC_ONLY_DISKS && i < choice->n; i++)
    if (!vs_disks_by_key (disks, choice->keys[i])) {
      tool_error ("the snapshot of VM %s has no disk of key %d, which "
                  "--only-disk chose", vm_name, choice->keys[i]);
      return -1;
    }
  return 0;
}

/* Whether A and B copy the same disks. */
static bool
same_choice (const struct sync_disk_choice *a,
             const struct sync_disk_choice *b)
{
  size_t i, k;

  if (a->mode != b->mode || a->n != b->n)
    return false;
  for (i = 0; i < a->n; i++) {
    for (k = 0; k < b->n && b->keys[k] != a->keys[i]; k++)
      ;
    if (k == b->n)
      return false;
  }
  return true;
}

/* Say where the choice comes from when the state had another, or
 * when it is the state's.
 */
static void
report_choice (const struct sync_options *o,
               const struct sync_disk_choice *recorded,
               const struct sync_disk_choice *choice)
{
  bool from_state = o->choose == SYNC_ALL_DISKS && !o->all_disks;
  char *now = sync_choice_describe (choice);
  char *was = sync_choice_describe (recorded);

  if (now && was && from_state && choice->mode != SYNC_ALL_DISKS)
    tool_info ("as the state records, %s (--all-disks copies every disk "
               "again)", now);
  else if (now && was && !from_state && recorded->mode != SYNC_ALL_DISKS &&
           !same_choice (recorded, choice))
    tool_info ("%s replaces the choice of disks that the state records "
               "(%s)", now, was);
  free (now);
  free (was);
}

/* A --disk of a disk that CHOICE leaves out is a mistake either way. */
static int
check_outputs_chosen (const struct sync_options *o,
                      const struct vs_disks *disks,
                      const struct sync_disk_choice *choice)
{
  size_t i, k;

  for (i = 0; i < o->disk_outputs.len; i++) {
    const struct sync_disk_output *out = &o->disk_outputs.ptr[i];

    for (k = 0; k < disks->len; k++) {
      const struct vs_disk *d = &disks->ptr[k];

      if (sync_id_names (out->id, d, k) &&
          !sync_choice_copies (choice, d->key)) {
        tool_error ("--disk %ld=%s: disk %zu \"%s\" (key %d) is not copied "
                    "(%s%s): drop this --disk, or choose the disk",
                    out->id, out->path, k, d->label ? d->label : "", d->key,
                    sync_choice_option (choice->mode),
                    o->choose == SYNC_ALL_DISKS ? ", as the state records"
                    : "");
        return -1;
      }
    }
  }
  return 0;
}

int
sync_choose_disks (const struct sync_options *o, const char *vm_name,
                   const struct vs_disks *disks,
                   const struct sync_disk_choice *recorded,
                   struct sync_disk_choice *choice)
{
  size_t i, n = 0;
  int r = 0;

  memset (choice, 0, sizeof *choice);
  if (o->choose != SYNC_ALL_DISKS)
    r = from_names (o, vm_name, disks, choice);
  else if (!o->all_disks)
    r = from_state (vm_name, disks, recorded, choice);
  if (r == -1)
    return -1;
  for (i = 0; i < disks->len; i++)
    n += sync_choice_copies (choice, disks->ptr[i].key);
  if (n == 0) {
    tool_error ("%s leaves no disk of VM %s to copy",
                sync_choice_option (choice->mode), vm_name);
    return -1;
  }
  report_choice (o, recorded, choice);
  return check_outputs_chosen (o, disks, choice);
}
