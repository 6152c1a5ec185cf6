/* Route B of vsphere-v2v (v2v.h): the copies vsphere-sync keeps,
 * converted where they are.  Only a state that is this VM's and holds
 * a whole, unchanged copy of every disk, from a cycle that copied them
 * all, is taken; once converted, the copies no longer match their
 * changeIds, which are forgotten.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain.h"
#include "sync-lock.h"
#include "sync-state.h"
#include "tool-child.h"
#include "tool-messages.h"
#include "tool-signals.h"
#include "v2v.h"
#include "notice.h"

/* vsphere-sync copies only the disks its state's choice names, and
 * those it left out are absent or as of an older cycle; virt-v2v needs
 * every disk of the guest, of one moment.
 */
static int
check_choice (const struct v2v *v, const struct sync_state *st)
{
  char *left_out, *choice;
  int r = -1;

  if (st->choice.mode == SYNC_ALL_DISKS)
    return 0;
  left_out = sync_choice_list_disks (&st->choice, &v->target.disks, false);
  choice = sync_choice_describe (&st->choice);
  if (left_out && choice && !*left_out)
    r = 0;
  else if (left_out && choice)
    tool_error ("VM %s: the copies in %s leave out disk %s, as vsphere-sync "
                "was told (%s): a conversion needs every disk of the guest, "
                "copied from one snapshot; run 'vsphere-sync --all-disks "
                "--state %s -- PARAMETERS' (with --final for the last "
                "cycle), then convert", v->target.vm_name, v->o->state_file,
                left_out, choice, v->o->state_file);
  free (choice);
  free (left_out);
  return r;
}

/* The state must be this VM's, and hold a whole copy of every disk. */
static int
check_state (const struct v2v *v, const struct sync_state *st)
{
  const struct vs_target *t = &v->target;
  size_t i;

  if (strcmp (st->vm_moref, t->vm_ref) != 0 ||
      (st->instance_uuid && t->instance_uuid &&
       strcmp (st->instance_uuid, t->instance_uuid) != 0)) {
    tool_error ("state file %s belongs to VM %s (%s), not to VM %s (%s)",
                v->o->state_file, st->vm_name, st->vm_moref, t->vm_name,
                t->vm_ref);
    return -1;
  }
  if (check_choice (v, st) == -1)
    return -1;
  for (i = 0; i < t->disks.len; i++) {
    const struct vs_disk *vd = &t->disks.ptr[i];
    const struct sync_state_disk *d = sync_state_find (st, vd->key);
    char *why = NULL;

    if (!d)
      tool_error ("disk %zu \"%s\" (%s) of VM %s has no copy in %s: it was "
                  "added since; run vsphere-sync again (with --final for "
                  "the last cycle), then convert", i,
                  vd->label ? vd->label : "", vd->file, t->vm_name,
                  v->o->state_file);
    else if (!d->whole)
      tool_error ("disk %zu \"%s\" (%s) of VM %s has no whole copy in %s: "
                  "%s; run 'vsphere-sync --state %s -- PARAMETERS' again "
                  "(with --final for the last cycle) to make it whole, "
                  "then convert", i, vd->label ? vd->label : "", vd->file,
                  t->vm_name, v->o->state_file,
                  d->converted ? "vsphere-v2v converted it already"
                  : d->change_id ? "its last cycle was cut short while it "
                  "updated the copy in place"
                  : "its copy has not finished", v->o->state_file);
    else if (d->size != vd->capacity)
      tool_error ("disk %zu \"%s\" (%s) of VM %s was resized since its copy "
                  "in %s: run vsphere-sync again (with --final for the "
                  "last cycle), then convert", i, vd->label ? vd->label : "",
                  vd->file, t->vm_name, v->o->state_file);
    else if (sync_state_check_images (d, &why) == -1)
      return -1;
    else if (!why)
      continue;
    else
      tool_error ("disk %zu \"%s\" (%s) of VM %s: %s since vsphere-sync "
                  "copied it; run vsphere-sync again to copy it anew, then "
                  "convert", i, vd->label ? vd->label : "", vd->file,
                  t->vm_name, why);
    free (why);
    return -1;
  }
  return 0;
}

/* Where a disk's copy is: its newest overlay, else its base image. */
static int
set_source (const struct sync_state_disk *d, struct v2v_source *src)
{
  struct stat sb;

  src->path = d->n_overlays ? d->overlays[d->n_overlays - 1] : d->output;
  src->format = d->n_overlays ? "qcow2" : sync_format_name (d->format);
  if (stat (src->path, &sb) == -1) {
    tool_error ("the copy of disk %s: %s: %m", d->label ? d->label : "",
                src->path);
    return -1;
  }
  src->kind = S_ISBLK (sb.st_mode) ? V2V_BLOCK : V2V_FILE;
  return 0;
}

/* Once converted, the outputs no longer match the changeIds recorded:
 * forget them first, so that even a conversion cut short leaves a
 * state that makes vsphere-sync copy in full.
 */
static int
forget_change_ids (const struct v2v *v, struct sync_state *st)
{
  size_t i;

  for (i = 0; i < st->n; i++) {
    free (st->disk[i].change_id);
    st->disk[i].change_id = NULL;
    free (st->disk[i].partial_change_id);
    st->disk[i].partial_change_id = NULL;
    st->disk[i].converted = true;
    st->disk[i].whole = false;
  }
  return sync_state_save (v->o->state_file, st);
}

static int
convert (struct v2v *v, struct sync_state *st, const char *xml)
{
  if (v->target.powered_on)
    vs_notice ("warning: VM %s is powered on: its copy is as of the last "
               "vsphere-sync cycle, and misses what the guest wrote since "
               "(run the last cycle with --final)", v->target.vm_name);
  if (forget_change_ids (v, st) == -1)
    return -1;
  tool_info ("converting the copies of the %zu disks of VM %s in place",
             v->target.disks.len, v->target.vm_name);
  return v2v_run_converter (v, xml);
}

int
v2v_in_place (struct v2v *v)
{
  struct sync_state st = { 0 };
  struct v2v_source *sources = NULL;
  int state_lock = -1, r = -1, loaded;
  size_t i;

  /* The VM's disks as they are now, which the state must all hold. */
  if (v2v_read_live_vm (v) == -1)
    goto out;
  if (!v->o->print_xml &&
      (state_lock = sync_lock_state (v->o->state_file)) == -1)
    goto out;
  loaded = sync_state_load (v->o->state_file, &st);
  if (loaded == 1)
    tool_error ("state file %s does not exist: vsphere-sync writes it",
                v->o->state_file);
  if (loaded != 0 || check_state (v, &st) == -1)
    goto out;
  sources = calloc (v->target.disks.len, sizeof *sources);
  if (!sources) {
    tool_error ("out of memory");
    goto out;
  }
  for (i = 0; i < v->target.disks.len; i++)
    if (set_source (sync_state_find (&st, v->target.disks.ptr[i].key),
                    &sources[i]) == -1)
      goto out;
  if (v->o->print_xml) {
    r = v2v_write_domain (v, sources, "-");
    goto out;
  }
  if (v2v_write_domain (v, sources, v->xml) == -1 || tool_stopping ())
    goto out;
  r = convert (v, &st, v->xml);
 out:
  free (sources);
  sync_state_free (&st);
  if (state_lock >= 0)
    close (state_lock);
  return r;
}
