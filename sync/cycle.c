/* One cycle of vsphere-sync (cycle.h): the steps are chained in run,
 * each reporting its own error.  The state file is rewritten, from the
 * main thread only, at set points, so that a run killed at any moment
 * leaves it true: before the first byte is written, at checkpoints of a
 * full copy (from the copy's tick), and at the end.  Success or not,
 * the snapshot is removed.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "tool-child.h"
#include "copy.h"
#include "cycle.h"
#include "disk-names.h"
#include "sync-lock.h"
#include "seconds.h"
#include "tool-messages.h"
#include "tool-nbdkit.h"
#include "tool-params.h"
#include "plan.h"
#include "preflight.h"
#include "progress.h"
#include "report.h"
#include "tool-signals.h"
#include "tool-snapshot.h"
#include "sync-state.h"
#include "vsphere-cbt.h"
#include "vsphere-cbt-enable.h"
#include "notice.h"
#include "vsphere-power.h"
#include "vsphere-snapshot.h"
#include "vsphere-soap.h"
#include "vsphere-target.h"
#include "vsphere-temp-snapshot.h"

/* Seconds --final waits for the guest to shut down, without
 * --power-off-after.
 */
#define SHUTDOWN_WAIT 600

struct cycle {
  const struct sync_options *o;
  struct tool_params params;
  struct vs_session *session;
  struct vs_target target;
  char *state_path;
  int vm_lock, state_lock;
  struct sync_state state;
  struct sync_disk_choice choice;       /* the disks this cycle copies */
  struct tool_snapshot snapshot;        /* ours, unless --snapshot */
  struct sync_plan plan;
  char tmpdir[64];
  char *changeids;
  struct tool_child nbdkit;
  struct timespec start;
  bool verified;
  double next_checkpoint;       /* seconds into the copy */
};

static bool
stopped (void)
{
  return tool_report_stop ();
}

/* ---- the VM and the state ---- */

static int
check_cbt (struct cycle *c)
{
  if (c->target.cbt_enabled)
    return 0;
  if (!c->o->enable_cbt) {
    tool_error ("VM %s does not have Changed Block Tracking on "
                "(config.changeTrackingEnabled is false): run vsphere-sync "
                "with --enable-cbt to turn it on, or turn it on yourself "
                "(%s: Edit Settings > VM Options > Advanced > "
                "Configuration Parameters, ctkEnabled = TRUE), then take "
                "and remove a snapshot so that it takes effect",
                c->target.vm_name,
                vs_session_service (c->session)->esxi
                ? "ESXi Host Client" : "vCenter");
    return -1;
  }
  tool_info ("turning on Changed Block Tracking on VM %s",
             c->target.vm_name);
  return vs_vm_enable_cbt (c->session, &c->params.server, c->target.vm_ref,
                           c->target.vm_name);
}

/* --final: the guest shuts down before the snapshot, and stays off. */
static int
shut_down (struct cycle *c)
{
  unsigned wait = c->o->power_off_after ? c->o->power_off_after + 300
    : SHUTDOWN_WAIT;

  if (!c->o->final)
    return 0;
  tool_info ("shutting down the guest of VM %s%s", c->target.vm_name,
             c->o->power_off_after ? "" : " (no power-off: see "
             "--power-off-after)");
  if (vs_vm_shut_down (c->session, c->target.vm_ref, c->target.vm_name,
                       c->o->power_off_after, wait) == -1)
    return -1;
  c->target.powered_on = false;
  return 0;
}

static int
lock_vm (struct cycle *c)
{
  c->vm_lock = sync_lock_vm (c->params.server.server, c->target.vm_ref,
                             c->target.instance_uuid, c->target.vm_name);
  return c->vm_lock == -1 ? -1 : 0;
}

static int
load_state (struct cycle *c)
{
  const struct sync_state *st = &c->state;
  int r;

  c->state_path = c->o->state_file ? strdup (c->o->state_file)
    : sync_plan_state_path (c->o, c->target.vm_name);
  if (!c->state_path) {
    if (!c->o->output_dir)
      tool_error ("give --state FILE (or -o DIR)");
    return -1;
  }
  c->state_lock = sync_lock_state (c->state_path);
  if (c->state_lock == -1)
    return -1;
  r = sync_state_load (c->state_path, &c->state);
  if (r == -2 && c->o->full)
    tool_info ("starting over from a damaged state file, as --full asks");
  else if (r < 0)
    return -1;
  if (r < 0 || r == 1)
    return 0;
  if (sync_plan_check_output_dir (c->o, c->state_path, st) == -1)
    return -1;
  if ((strcmp (st->vm_moref, c->target.vm_ref) != 0 ||
                 (st->instance_uuid && c->target.instance_uuid &&
                  strcmp (st->instance_uuid, c->target.instance_uuid) != 0))) {
    tool_error ("state file %s belongs to VM %s (%s, instance UUID %s), not "
                "to VM %s (%s): give this VM its own --state or -o",
                c->state_path, st->vm_name, st->vm_moref,
                st->instance_uuid ? st->instance_uuid : "unknown",
                c->target.vm_name, c->target.vm_ref);
    return -1;
  }
  return 0;
}

/* The VM's disks as they are now, and which of them the cycle copies:
 * a name that matches none fails here, before the snapshot.
 */
static int
choose_disks (struct cycle *c)
{
  if (vs_target_find_disk (c->session, &c->params.target, &c->target,
                           NULL) == -1 ||
      sync_check_disk_outputs (c->o, c->target.vm_name,
                               &c->target.disks) == -1)
    return -1;
  return sync_choose_disks (c->o, c->target.vm_name, &c->target.disks,
                            &c->state.choice, &c->choice) == -1 ||
    sync_check_outputs_known (c->o, &c->target.disks, &c->choice,
                              &c->state) == -1 ? -1 : 0;
}

/* ---- the snapshot ---- */

static int
take_snapshot (struct cycle *c)
{
  return tool_snapshot_take (&c->snapshot, c->session, &c->params,
                             &c->target, c->o->snapshot);
}

/* The snapshot's own disks, with their changeIds. */
static int
read_snapshot_disks (struct cycle *c)
{
  if (tool_snapshot_read_disks (&c->snapshot, c->session, &c->params,
                                &c->target) == -1)
    return -1;
  /* Checkpoints add entries for new disks: the plan's pointers into the
   * state must not move.
   */
  return sync_state_reserve (&c->state, c->target.disks.len);
}

/* ---- before the copy: changeIds that vCenter refuses ---- */

/* Ask for the first page of J's changes; a refused changeId means a
 * full copy.  Returns 0 (maybe with J now a full copy), or -1.
 */
static int
probe_change_id (struct cycle *c, struct sync_job *j)
{
  struct vs_cbt_query q = {
    .vm_ref = c->target.vm_ref, .snapshot_ref = c->snapshot.ref,
    .device_key = j->disk->key, .capacity = j->disk->capacity,
    .change_id = j->resume_change_id ? j->resume_change_id
                 : j->old->change_id,
    .disk_name = j->disk->file,
  };
  struct vs_cbt_page page;
  struct vs_changes areas = { 0 };
  char *reason = NULL;
  int r;

  memset (&page, 0, sizeof page);
  r = vs_cbt_query_page (c->session, &q, 0, 1, &areas, &page);
  vs_changes_free (&areas);
  if (r == 0)
    return 0;
  if (vs_cbt_fault_refuses_change_id (&page.fault)) {
    if (asprintf (&reason, "%s refuses its recorded changeId %s (%s: %s)",
                  vs_session_product (c->session),
                  q.change_id, page.fault.type,
                  page.fault.message ? page.fault.message : "") == -1)
      reason = NULL;
    else
      sync_plan_full_copy (j, reason);
  }
  else if (page.fault.type)
    tool_error ("%s: QueryChangedDiskAreas failed: %s: %s", j->disk->file,
                page.fault.type, page.fault.message ? page.fault.message : "");
  else if (page.untrusted)
    tool_error ("%s: QueryChangedDiskAreas %s; refusing to trust it",
                j->disk->file, page.untrusted);
  vs_fault_free (&page.fault);
  return reason ? 0 : -1;
}

static int
probe_change_ids (struct cycle *c)
{
  size_t i;

  for (i = 0; i < c->plan.n; i++) {
    struct sync_job *j = &c->plan.job[i];

    if ((!j->reason || j->resume_change_id) &&
        probe_change_id (c, j) == -1)
      return -1;
  }
  return 0;
}

/* ---- before the copy: what a full copy overwrites is no longer whole ---- */

/* ST is the state of the VM the cycle copies. */
static int
set_vm (const struct cycle *c, struct sync_state *st)
{
  if (st->vm_moref)
    return 0;
  if (!(st->vm_moref = strdup (c->target.vm_ref)) ||
      !(st->vm_name = strdup (c->target.vm_name)) ||
      (c->target.instance_uuid &&
       !(st->instance_uuid = strdup (c->target.instance_uuid)))) {
    tool_error ("out of memory");
    return -1;
  }
  return 0;
}

/* Make state entry D say that J's full copy has begun and not finished:
 * no changeId, no progress yet, and J's disk and output, whatever the
 * entry said of an earlier one.
 */
static int
set_unfinished (const struct sync_job *j, struct sync_state_disk *d)
{
  char *label = strdup (j->disk->label ? j->disk->label : "");
  char *path = strdup (j->disk->file), *output = strdup (j->out.path);
  char *uuid = j->disk->uuid ? strdup (j->disk->uuid) : NULL;

  if (!label || !path || !output || (j->disk->uuid && !uuid)) {
    tool_error ("out of memory");
    free (label);
    free (path);
    free (output);
    free (uuid);
    return -1;
  }
  free (d->label);
  free (d->path);
  free (d->output);
  free (d->uuid);
  free (d->change_id);
  free (d->partial_change_id);
  d->label = label;
  d->path = path;
  d->output = output;
  d->uuid = uuid;
  d->change_id = d->partial_change_id = NULL;
  d->partial_copied = 0;
  d->converted = false;
  d->whole = false;
  d->output_absolute = j->out.absolute;
  memset (&d->identity, 0, sizeof d->identity);
  d->key = j->disk->key;
  d->size = j->disk->capacity;
  d->format = j->out.format;
  return 0;
}

/* The entry of J's disk, made for a disk new to the state. */
static struct sync_state_disk *
entry_of (struct cycle *c, const struct sync_job *j)
{
  struct sync_state_disk *d = sync_state_find (&c->state, j->disk->key);

  if (!d && set_vm (c, &c->state) == 0)
    d = sync_state_add (&c->state);
  return d;
}

/* Remove PATH, an overlay of OUTPUT, if its name is one that
 * vsphere-sync gives: the state file's word alone removes nothing.
 */
static int
remove_overlay (const char *output, const char *path, bool part)
{
  if (!sync_state_owns_overlay (output, path, part)) {
    vs_notice ("warning: not removing %s: the state lists it as an "
               "overlay of %s, but vsphere-sync names its overlays "
               "%s.N.qcow2", path, output, output);
    return 0;
  }
  if (unlink (path) == -1 && errno != ENOENT) {
    tool_error ("removing the old overlay %s: %m", path);
    return -1;
  }
  return 0;
}

/* Before the first byte is written, and before a new output is
 * created (a file of a name the state does not know would make the
 * next run pick another): record durably every disk's output and
 * format, a full copy as begun (not whole, no changeId), an update in
 * place as not whole; then remove what a full copy replaces and what an
 * interrupted cycle left half-written.
 */
static int
record_intent (struct cycle *c)
{
  bool changed = false;
  size_t i, k;

  for (i = 0; i < c->plan.n; i++) {
    const struct sync_job *j = &c->plan.job[i];
    struct sync_state_disk *d;

    if (j->resume_change_id)
      continue;                 /* recorded as a partial copy already */
    if (j->reason) {
      d = entry_of (c, j);
      if (!d || set_unfinished (j, d) == -1)
        return -1;
      changed = true;
    }
    else if (!j->out.overlay && j->old->whole) {
      sync_state_find (&c->state, j->disk->key)->whole = false;
      c->plan.job[i].marked_updating = true;
      changed = true;
    }
  }
  if (changed && sync_state_save (c->state_path, &c->state) == -1)
    return -1;
  /* The old overlays stay listed until the cycle ends, so that a run
   * that dies here still knows which files are this output's.
   */
  for (i = 0; i < c->plan.n; i++) {
    const struct sync_job *j = &c->plan.job[i];
    char *part;

    if (!j->old)
      continue;
    for (k = 0; j->reason && k < j->old->n_overlays; k++)
      if (remove_overlay (j->old->output, j->old->overlays[k], false) == -1)
        return -1;
    part = sync_plan_overlay_name (j->old, true);
    if (!part || (access (part, F_OK) == 0 &&
                  remove_overlay (j->old->output, part, true) == -1)) {
      free (part);
      return -1;
    }
    free (part);
  }
  return 0;
}

/* After a failure: an output that this run marked as being updated
 * and did not write to is as whole as it was.
 */
static void
unmark_untouched (struct cycle *c)
{
  bool changed = false;
  size_t i;

  for (i = 0; i < c->plan.n; i++) {
    const struct sync_job *j = &c->plan.job[i];
    struct sync_state_disk *d = sync_state_find (&c->state, j->disk->key);

    if (j->marked_updating && !j->out.written && d) {
      d->whole = true;
      changed = true;
    }
  }
  if (changed)
    sync_state_save (c->state_path, &c->state);
}

/* ---- nbdkit ---- */

static int
write_changeids (struct cycle *c)
{
  FILE *f;
  size_t i;

  if (asprintf (&c->changeids, "%s/changeids", c->tmpdir) == -1) {
    c->changeids = NULL;
    tool_error ("asprintf: %m");
    return -1;
  }
  f = fopen (c->changeids, "we");
  if (!f) {
    tool_error ("%s: %m", c->changeids);
    return -1;
  }
  for (i = 0; i < c->plan.n; i++) {
    const struct sync_job *j = &c->plan.job[i];

    if (j->resume_change_id)
      fprintf (f, "%d %s %" PRIu64 "\n", j->disk->key, j->resume_change_id,
               j->resume_from);
    else
      fprintf (f, "%d %s\n", j->disk->key,
               j->reason ? "*" : j->old->change_id);
  }
  if (fclose (f) == EOF) {
    tool_error ("%s: %m", c->changeids);
    return -1;
  }
  return 0;
}

/* nbdkit serving every disk of the snapshot, through the cbt filter
 * (what to copy) or not (everything, for --verify=all).
 */
static int
start_nbdkit (struct cycle *c, struct tool_child *child, bool filtered)
{
  char *ids;
  const char *extra[] = { NULL, NULL };
  struct tool_nbdkit how = {
    .vm_ref = c->target.vm_ref, .snapshot_ref = c->snapshot.ref,
    .verbose = c->o->verbose, .extra = extra,
    .guardian = c->snapshot.temp.guardian,
  };
  int r;

  if (asprintf (&ids, "cbt-changeids=%s", c->changeids) == -1) {
    tool_error ("out of memory");
    return -1;
  }
  if (filtered) {
    how.filter = tool_env_or ("NBDKIT_CBT_FILTER", "cbt");
    extra[0] = ids;
  }
  r = tool_nbdkit_start (child, &c->params, &how, c->tmpdir,
                         filtered ? "nbdkit" : "nbdkit-all");
  free (ids);
  return r;
}

/* ---- the copy ---- */

/* Lock every output, and refuse two disks writing one file through two
 * names: our own locks never conflict with each other.
 */
static int
lock_outputs (struct cycle *c)
{
  size_t i, k;

  for (i = 0; i < c->plan.n; i++) {
    const struct sync_job *j = &c->plan.job[i];

    if (sync_output_lock (&c->plan.job[i].out) == -1)
      return -1;
    for (k = 0; k < i; k++)
      if (sync_output_same (&c->plan.job[k].out, &j->out)) {
        tool_error ("disks %zu and %zu would both be written to one file: "
                    "%s and %s are the same; give each disk its own output",
                    c->plan.job[k].index, j->index, c->plan.job[k].out.path,
                    j->out.path);
        return -1;
      }
  }
  return 0;
}

static int
count_changes (struct cycle *c)
{
  size_t i;

  for (i = 0; i < c->plan.n; i++) {
    struct sync_job *j = &c->plan.job[i];

    if (stopped () || sync_copy_count (c->nbdkit.socket, &j->copy) == -1)
      return -1;
    /* An overlay of nothing would only lengthen the chain; --verify=all
     * reads each disk through its new overlay, so it keeps them.
     */
    if (j->out.backing && j->copy.to_copy == 0 &&
        c->o->verify != SYNC_VERIFY_WHOLE)
      sync_plan_no_overlay (j);
  }
  sync_report_plan (&c->plan);
  return 0;
}

/* What the copy's hooks see. */
struct copy_context {
  struct cycle *c;
  enum sync_copy_action action;
  struct sync_progress progress;        /* of a copy, not of verifying */
};

/* The state entry that records J's full copy so far. */
static int
record_progress (struct cycle *c, struct sync_job *j, uint64_t copied)
{
  struct sync_state_disk *d = entry_of (c, j);
  char *id = strdup (j->resume_change_id ? j->resume_change_id
                     : j->disk->change_id);

  if (!id || !d || set_unfinished (j, d) == -1) {
    if (!id)
      tool_error ("strdup: %m");
    free (id);
    return -1;
  }
  d->partial_change_id = id;
  d->partial_copied = copied;
  /* Its inode, so that a resume goes on in this very file. */
  if (sync_identity_read (j->out.path, &d->identity) == -1)
    memset (&d->identity, 0, sizeof d->identity);
  return 0;
}

/* Record how far each full copy got, once its output is flushed up to
 * there, so that an interrupted copy resumes instead of starting over.
 */
static void
checkpoint (struct cycle *c)
{
  bool changed = false;
  size_t i;

  for (i = 0; i < c->plan.n; i++) {
    struct sync_job *j = &c->plan.job[i];
    uint64_t w;

    if (!j->out.full)
      continue;
    w = sync_copy_watermark (&j->copy);
    if (w <= j->checkpointed || sync_output_flush (&j->out) == -1 ||
        record_progress (c, j, w) == -1)
      continue;
    j->checkpointed = w;
    changed = true;
  }
  if (changed && sync_state_save (c->state_path, &c->state) == 0)
    tool_debug ("checkpoint recorded");
}

static void
tick (void *opaque, double seconds)
{
  struct copy_context *x = opaque;
  struct cycle *c = x->c;

  if (x->action != SYNC_COPY)
    return;
  sync_progress_update (&x->progress, &c->plan, seconds);
  if (!tool_stopping () && seconds >= c->next_checkpoint) {
    checkpoint (c);
    c->next_checkpoint = seconds + c->o->checkpoint;
  }
}

static int
copy_disks (struct cycle *c, const struct tool_child *source,
            enum sync_copy_action action)
{
  struct copy_context x = { .c = c, .action = action };
  struct sync_copy_hooks hooks = { tick, &x };
  struct sync_copy_disk **disks = calloc (c->plan.n + 1, sizeof *disks);
  struct timespec start;
  size_t i, n = 0;
  int r;

  if (!disks) {
    tool_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < c->plan.n; i++)
    if (!c->plan.job[i].untouched)
      disks[n++] = &c->plan.job[i].copy;
  c->next_checkpoint = c->o->checkpoint;
  clock_gettime (CLOCK_MONOTONIC, &start);
  if (action == SYNC_COPY)
    sync_progress_start (&x.progress, c->o, &c->plan);
  r = sync_copy_run (source->socket, disks, n, c->o->connections, action,
                     &hooks);
  if (action == SYNC_COPY)
    sync_progress_end (&x.progress, &c->plan, vs_seconds_since (&start),
                       r == 0);
  free (disks);
  if (r == -1)
    stopped ();
  return r;
}

/* An output that differs from the snapshot is not what the state says
 * either: its disk is copied in full next time.
 */
static void
forget_differing (struct cycle *c)
{
  bool changed = false;
  size_t i;

  for (i = 0; i < c->plan.n; i++) {
    struct sync_job *j = &c->plan.job[i];
    struct sync_state_disk *d;

    if (!j->copy.differs)
      continue;
    d = entry_of (c, j);
    if (!d || set_unfinished (j, d) == -1)
      return;
    j->marked_updating = false;         /* not whole, untouched or not */
    tool_info ("disk %zu (key %d): the next cycle copies it in full",
               j->index, j->disk->key);
    changed = true;
  }
  if (changed)
    sync_state_save (c->state_path, &c->state);
}

/* --verify: compare the outputs with the snapshot before they count.
 * The whole disk is read past the cbt filter, which hides what did not
 * change.
 */
static int
verify_disks (struct cycle *c)
{
  bool whole = c->o->verify == SYNC_VERIFY_WHOLE;
  struct tool_child all = { 0 };
  int r;

  if (c->o->verify == SYNC_VERIFY_NONE)
    return 0;
  tool_info ("verifying %s", whole ? "every disk in full" : "what was copied");
  if (whole && start_nbdkit (c, &all, false) == -1)
    return -1;
  r = copy_disks (c, whole ? &all : &c->nbdkit,
                  whole ? SYNC_VERIFY_ALL : SYNC_VERIFY);
  if (tool_nbdkit_stop (&all) == -1)
    r = -1;
  if (r == -1)
    forget_differing (c);
  c->verified = r == 0;
  return r;
}

static int
prepare_outputs (struct cycle *c)
{
  size_t i;

  for (i = 0; i < c->plan.n; i++) {
    struct sync_job *j = &c->plan.job[i];

    if (j->untouched)
      continue;
    if (stopped () ||
        sync_output_prepare (&j->out, c->tmpdir, c->o->connections) == -1)
      return -1;
    j->copy.out = &j->out;
  }
  return 0;
}

static int
finish_outputs (struct cycle *c)
{
  size_t i;

  for (i = 0; i < c->plan.n; i++)
    if (!c->plan.job[i].untouched &&
        sync_output_finish (&c->plan.job[i].out) == -1)
      return -1;
  return 0;
}

/* ---- after the copy ---- */

static int
copy_strings (char ***dst, size_t *n, char *const *src, size_t m,
              const char *extra)
{
  size_t i;

  *dst = calloc (m + 1, sizeof **dst);
  if (!*dst)
    return -1;
  for (i = 0; i < m; i++)
    if (!((*dst)[(*n)++] = strdup (src[i])))
      return -1;
  if (extra && !((*dst)[(*n)++] = strdup (extra)))
    return -1;
  return 0;
}

static int
commit_state (struct cycle *c)
{
  struct sync_state next = { .cycle = c->state.cycle + 1 };
  size_t i;
  int r = -1;

  next.disk = calloc (c->plan.n + c->plan.n_skipped + 1, sizeof *next.disk);
  if (!next.disk || set_vm (c, &next) == -1 ||
      sync_choice_copy (&next.choice, &c->choice) == -1)
    goto out;
  for (i = 0; i < c->plan.n; i++) {
    const struct sync_job *j = &c->plan.job[i];
    struct sync_state_disk *d = &next.disk[next.n++];

    /* Its disk and output as a full copy records them, then done. */
    if (set_unfinished (j, d) == -1 ||
        !(d->change_id = strdup (j->disk->change_id)) ||
        (j->reason
         ? !(d->overlays = calloc (1, sizeof *d->overlays))
         : copy_strings (&d->overlays, &d->n_overlays, j->old->overlays,
                         j->old->n_overlays, j->out.overlay) == -1))
      goto out;
    d->whole = true;
    if (sync_identity_read (sync_state_newest_image (d), &d->identity) == -1) {
      tool_error ("%s: %m", sync_state_newest_image (d));
      goto out;
    }
  }
  /* The disks left out keep what an earlier cycle recorded. */
  for (i = 0; i < c->plan.n_skipped; i++) {
    const struct sync_state_disk *old =
      sync_state_find (&c->state, c->plan.skipped[i].disk->key);

    if (old && sync_state_disk_copy (&next.disk[next.n++], old) == -1)
      goto out;
  }
  r = sync_state_save (c->state_path, &next);
 out:
  if (r == -1 && errno == ENOMEM)
    tool_error ("out of memory");
  sync_state_free (&next);
  return r;
}

/* ---- the whole ---- */

static int
run (struct cycle *c)
{
  if (sync_preflight_local (c->o, c->o->state_file) == -1)
    return -1;
  c->session = vs_session_open (&c->params.server);
  if (!c->session ||
      vs_target_find_vm (c->session, &c->params.target, &c->target) == -1 ||
      lock_vm (c) == -1 || load_state (c) == -1 || choose_disks (c) == -1 ||
      check_cbt (c) == -1 || stopped () ||
      shut_down (c) == -1 || stopped () ||
      take_snapshot (c) == -1 || stopped () ||
      read_snapshot_disks (c) == -1 ||
      sync_plan_make (c->o, c->target.vm_name, &c->target.disks,
                      &c->choice, &c->state, &c->plan) == -1 ||
      lock_outputs (c) == -1 || probe_change_ids (c) == -1 || stopped () ||
      record_intent (c) == -1 ||
      write_changeids (c) == -1 || start_nbdkit (c, &c->nbdkit, true) == -1 ||
      count_changes (c) == -1 || sync_preflight_space (c->o, &c->plan) == -1 ||
      prepare_outputs (c) == -1 ||
      copy_disks (c, &c->nbdkit, SYNC_COPY) == -1 || verify_disks (c) == -1 ||
      finish_outputs (c) == -1 || tool_nbdkit_stop (&c->nbdkit) == -1)
    return -1;
  if (commit_state (c) == -1)
    return -1;
  return 0;
}

static void
abort_outputs (struct cycle *c)
{
  size_t i;

  for (i = 0; i < c->plan.n; i++)
    sync_output_abort (&c->plan.job[i].out);
}

static void
remove_tmpdir (struct cycle *c)
{
  if (!c->tmpdir[0])
    return;
  if (c->changeids)
    unlink (c->changeids);
  free (c->changeids);
  if (rmdir (c->tmpdir) == -1)
    tool_debug ("rmdir %s: %m", c->tmpdir);
}

int
sync_cycle (const struct sync_options *o)
{
  struct cycle c = { .o = o, .vm_lock = -1, .state_lock = -1 };
  struct sync_cycle_summary s;
  bool ok, usage;

  clock_gettime (CLOCK_MONOTONIC, &c.start);
  if (tool_make_tmpdir (c.tmpdir, sizeof c.tmpdir) == -1)
    return 1;
  curl_global_init (CURL_GLOBAL_DEFAULT);
  xmlInitParser ();
  usage = tool_params_parse (o->params, o->n_params, o->snapshot,
                            "--only-disk or --skip-disk (KEY, INDEX or "
                            "LABEL)", &c.params) == -1;
  ok = !usage && tool_signals_watch (tool_child_terminate_all) == 0 &&
    run (&c) == 0;
  if (!ok)
    stopped ();
  tool_signals_cleanup_phase ();
  tool_signals_unwatch ();
  if (!ok) {
    unmark_untouched (&c);
    abort_outputs (&c);
    tool_nbdkit_stop (&c.nbdkit);
  }
  if (c.session &&
      tool_snapshot_remove (&c.snapshot, c.session, &c.target) == -1)
    ok = false;
  if (ok)
    tool_info ("cycle %u of VM %s done in %.1f s", c.state.cycle + 1,
               c.target.vm_name, vs_seconds_since (&c.start));
  s.vm_ref = c.target.vm_ref;
  s.vm_name = c.target.vm_name;
  s.snapshot_ref = c.snapshot.ref;
  s.cycle = c.state.cycle + ok;
  s.seconds = vs_seconds_since (&c.start);
  s.ok = ok;
  s.verified = c.verified;
  if (o->json)
    sync_report_json (&c.plan, &s);
  sync_plan_free (&c.plan);
  remove_tmpdir (&c);
  sync_state_free (&c.state);
  sync_choice_free (&c.choice);
  free (c.state_path);
  free (c.snapshot.ref);
  if (c.state_lock >= 0)
    close (c.state_lock);
  if (c.vm_lock >= 0)
    close (c.vm_lock);
  vs_target_free (&c.target);
  vs_session_close (c.session);
  tool_params_free (&c.params);
  xmlCleanupParser ();
  curl_global_cleanup ();
  return ok ? 0 : usage ? 2 : 1;
}
