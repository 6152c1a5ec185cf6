/* What a cycle does with each disk of the snapshot: where it goes, and
 * whether it is copied in full (and why) or incrementally.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_PLAN_H
#define SYNC_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy.h"
#include "options.h"
#include "output.h"
#include "sync-state.h"
#include "vsphere-disks.h"

struct sync_job {
  const struct vs_disk *disk;   /* as the snapshot has it */
  size_t index;
  const struct sync_state_disk *old;    /* its state, or NULL */
  char *reason;                 /* why in full; NULL: incremental */
  /* Resuming an interrupted full copy: the output is whole below
   * RESUME_FROM as of changeId RESUME_CHANGE_ID (in the state).
   */
  uint64_t resume_from;
  char *resume_change_id;
  uint64_t checkpointed;        /* what the state records as copied */
  bool marked_updating;         /* this run recorded its output not whole */
  bool untouched;               /* nothing to copy, no new overlay: its
                                   output is left as it is */
  struct sync_output out;
  struct sync_copy_disk copy;
};

/* A disk of the snapshot that the choice of disks leaves out. */
struct sync_skipped {
  const struct vs_disk *disk;
  size_t index;
};

struct sync_plan {
  const struct sync_disk_choice *choice;        /* NULL: not planned */
  struct sync_job *job;
  size_t n;
  struct sync_skipped *skipped;
  size_t n_skipped;
  /* Disks of the state that the snapshot no longer has. */
  const struct sync_state_disk **removed;
  size_t n_removed;
};

/* Plan the cycle of those of the snapshot's DISKS of VM_NAME that
 * CHOICE copies, against the state ST.  Disks in ST that the snapshot
 * lacks are reported.  Returns 0, or -1 with the error reported.
 */
int sync_plan_make (const struct sync_options *o, const char *vm_name,
                    const struct vs_disks *disks,
                    const struct sync_disk_choice *choice,
                    const struct sync_state *st, struct sync_plan *plan);

/* The name of the overlay that the next cycle writes on OLD's output,
 * or while it writes it (PART), or NULL (reported).
 */
char *sync_plan_overlay_name (const struct sync_state_disk *old, bool part);

/* J, to write a new overlay, has nothing to copy: write none, and
 * leave its output untouched.
 */
void sync_plan_no_overlay (struct sync_job *j);

/* Copy J in full after all, for REASON (which J now owns). */
void sync_plan_full_copy (struct sync_job *j, char *reason);

void sync_plan_free (struct sync_plan *plan);

/* With both -o DIR and --state FILE, every output the state ST (read
 * from STATE_PATH) records must be in DIR, or given by --disk: -o would
 * otherwise be ignored for it without a word.  Returns 0, or -1 with
 * the error reported.
 */
int sync_plan_check_output_dir (const struct sync_options *o,
                                const char *state_path,
                                const struct sync_state *st);

/* The default state file of VM_NAME under -o DIR (NULL without -o). */
char *sync_plan_state_path (const struct sync_options *o,
                            const char *vm_name);

#endif /* SYNC_PLAN_H */
