/* Which of a VM's disks vsphere-sync copies (--only-disk, --skip-disk,
 * --all-disks), as its state records it by device key: shared by
 * vsphere-sync, its state file, and vsphere-v2v, which needs every
 * disk.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_CHOICE_H
#define SYNC_CHOICE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "vsphere-disks.h"

enum sync_choice_mode { SYNC_ALL_DISKS, SYNC_ONLY_DISKS, SYNC_SKIP_DISKS };

struct sync_disk_choice {
  enum sync_choice_mode mode;
  int *keys;                    /* device keys; none for SYNC_ALL_DISKS */
  size_t n;
};

/* Whether C copies the disk of device key KEY.  A disk the choice does
 * not name is copied under SYNC_SKIP_DISKS, not under SYNC_ONLY_DISKS.
 */
bool sync_choice_copies (const struct sync_disk_choice *c, int key);

/* "all", "only" or "skip", as the state and --json write it. */
const char *sync_choice_mode_name (enum sync_choice_mode mode);

/* "--all-disks", "--only-disk" or "--skip-disk". */
const char *sync_choice_option (enum sync_choice_mode mode);

/* C on a command line ("--skip-disk 2001 --skip-disk 2002"), or NULL
 * (out of memory, reported).
 */
char *sync_choice_describe (const struct sync_disk_choice *c);

/* Those of DISKS that C copies (COPIED) or leaves out, as
 * "0 \"Hard disk 1\" (key 2000), 1 ..." (C NULL: every disk), or NULL
 * (out of memory, reported).
 */
char *sync_choice_list_disks (const struct sync_disk_choice *c,
                              const struct vs_disks *disks, bool copied);

/* { "mode": "skip", "keys": [ 2001 ] } */
json_object *sync_choice_to_json (const struct sync_disk_choice *c);

/* Copy SRC into DST.  Returns 0, or -1 (out of memory, reported). */
int sync_choice_copy (struct sync_disk_choice *dst,
                      const struct sync_disk_choice *src);

void sync_choice_free (struct sync_disk_choice *c);

#endif /* SYNC_CHOICE_H */
