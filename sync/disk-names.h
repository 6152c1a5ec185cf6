/* The disks that vsphere-sync's command line names (--disk KEY|INDEX=
 * PATH, --only-disk, --skip-disk), checked against a VM's disks, and
 * the choice of disks a cycle copies.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_DISK_NAMES_H
#define SYNC_DISK_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"
#include "sync-choice.h"
#include "sync-state.h"
#include "vsphere-disks.h"

/* Whether ID, a device key (from 1000 up) or else an index, names disk
 * D, at INDEX among its VM's disks.
 */
bool sync_id_names (long id, const struct vs_disk *d, size_t index);

/* Every --disk must name one of DISKS of VM_NAME: a typo must not
 * leave a disk to a default output.  Returns 0, or -1 (reported).
 */
int sync_check_disk_outputs (const struct sync_options *o,
                             const char *vm_name,
                             const struct vs_disks *disks);

/* The output a --disk gives disk D (at INDEX), or NULL. */
const char *sync_given_output (const struct sync_options *o,
                               const struct vs_disk *d, size_t index);

/* Report that disk D, at INDEX, has nowhere to go. */
void sync_report_no_output (const struct vs_disk *d, size_t index);

/* Without -o, each of DISKS that CHOICE copies needs an output: a
 * --disk, or the one the state ST records.  Returns 0, or -1
 * (reported).
 */
int sync_check_outputs_known (const struct sync_options *o,
                              const struct vs_disks *disks,
                              const struct sync_disk_choice *choice,
                              const struct sync_state *st);

/* Which of DISKS, the disks of VM_NAME now, the cycle copies, into
 * *CHOICE: those --only-disk or --skip-disk name, or every disk
 * (--all-disks), or else RECORDED, the state's choice, less the disks
 * the VM no longer has.  A name that matches no disk, two names of one
 * disk, a choice that copies no disk, or a --disk of a disk left out is
 * an error.  Returns 0, or -1 (reported).
 */
int sync_choose_disks (const struct sync_options *o, const char *vm_name,
                       const struct vs_disks *disks,
                       const struct sync_disk_choice *recorded,
                       struct sync_disk_choice *choice);

/* The snapshot's DISKS of VM_NAME must have every disk that CHOICE
 * copies by name (--only-disk): chosen from the VM's disks before it
 * was taken, or long after (--snapshot).  Returns 0, or -1 (reported).
 */
int sync_check_chosen (const struct sync_disk_choice *choice,
                       const char *vm_name, const struct vs_disks *disks);

#endif /* SYNC_DISK_NAMES_H */
