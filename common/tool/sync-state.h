/* The state of a VM's vsphere-sync between cycles (also read by
 * vsphere-v2v, which converts its outputs): a versioned JSON document,
 * written atomically, that owns the outputs it names.  Paths in the
 * file are relative to its own directory, so that a copied or moved
 * directory works where it lies; in memory they are absolute.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_STATE_H
#define SYNC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sync-choice.h"

/* Version 3 adds "disk_choice".  A state that copies every disk has
 * none, and is written as version 2, which earlier tools read too;
 * they must not read one with a choice as if it copied every disk.
 */
#define SYNC_STATE_VERSION 3
#define SYNC_STATE_VERSION_NO_CHOICE 2

enum sync_format { SYNC_RAW, SYNC_QCOW2 };

/* A regular file as a cycle left it, after its last write: another
 * inode, size or modification time means that something else wrote,
 * truncated, restored or copied it since.
 */
struct sync_identity {
  bool known;                   /* false: a block device, or not recorded */
  uint64_t inode;
  int64_t bytes;
  struct timespec mtime;
};

struct sync_state_disk {
  int key;                      /* device key */
  char *label;
  char *path;                   /* datastore path at the last cycle */
  char *uuid;                   /* the disk's backing uuid, or NULL */
  int64_t size;
  /* WHOLE: the newest image holds the disk as of CHANGE_ID.  Not
   * WHOLE with a CHANGE_ID: a cycle began updating the output in place
   * from CHANGE_ID and did not finish, so that only the changes since
   * CHANGE_ID can differ.  No CHANGE_ID: copy in full.
   */
  char *change_id;
  bool whole;
  char *output;                 /* absolute path of the base image */
  bool output_absolute;         /* recorded absolute: given so by --disk */
  enum sync_format format;      /* of the base image */
  char **overlays;              /* this output's overlays, oldest first */
  size_t n_overlays;
  struct sync_identity identity;        /* of the newest image */
  /* An interrupted full copy (change_id is NULL): the output holds the
   * disk as of changeId PARTIAL_CHANGE_ID, or newer, below
   * PARTIAL_COPIED; NULL if there is none to resume.
   */
  char *partial_change_id;
  int64_t partial_copied;
  /* vsphere-v2v converted the output (change_id is then NULL). */
  bool converted;
};

struct sync_state {
  char *vm_moref;
  char *instance_uuid;          /* may be NULL */
  char *vm_name;
  unsigned cycle;               /* cycles finished */
  /* The disks the last cycle copied; the others' entries stay as an
   * earlier cycle left them.
   */
  struct sync_disk_choice choice;
  struct sync_state_disk *disk;
  size_t n, capacity;
};

/* Read PATH.  Returns 1 if it does not exist (ST is then empty), 0 if
 * read, -1 on error, or -2 if the file is damaged (not a state file
 * this program can read), each reported.
 */
int sync_state_load (const char *path, struct sync_state *st);

/* Write ST to PATH: a temporary file, fsync, rename, fsync of the
 * directory.  Returns 0, or -1 with the error reported and PATH as it
 * was.
 */
int sync_state_save (const char *path, const struct sync_state *st);

void sync_state_free (struct sync_state *st);
void sync_state_disk_free (struct sync_state_disk *d);

/* Make DST, zeroed, a deep copy of SRC.  Returns 0, or -1 (out of
 * memory, reported; DST then holds what was copied, for
 * sync_state_disk_free).
 */
int sync_state_disk_copy (struct sync_state_disk *dst,
                          const struct sync_state_disk *src);

struct sync_state_disk *sync_state_find (const struct sync_state *st, int key);

/* Make room for N more disks, so that adding them moves none of the
 * others.  Returns 0, or -1 (reported).
 */
int sync_state_reserve (struct sync_state *st, size_t n);

/* A new, empty disk entry, in room made by sync_state_reserve. */
struct sync_state_disk *sync_state_add (struct sync_state *st);

/* The image of D that holds its newest copy: its newest overlay, else
 * its output.
 */
const char *sync_state_newest_image (const struct sync_state_disk *d);

/* What PATH is now, into *ID (not known for a block device).  Returns
 * 0, or -1 with errno set.
 */
int sync_identity_read (const char *path, struct sync_identity *id);

/* Whether D's images are still those the state records: every overlay
 * there, the newest image the same file, of the same size and (when
 * D is whole) not written since.  Returns 0 with *WHY NULL when they
 * are, 0 with *WHY saying what differs when they are not, or -1 (out
 * of memory, reported).
 */
int sync_state_check_images (const struct sync_state_disk *d, char **why);

/* Whether PATH is an overlay that vsphere-sync named for OUTPUT:
 * OUTPUT.N.qcow2 beside it (TEMPORARY: OUTPUT.N.qcow2.part).  Nothing
 * else is ever removed on the state's word.
 */
bool sync_state_owns_overlay (const char *output, const char *path,
                              bool temporary);

const char *sync_format_name (enum sync_format f);

#endif /* SYNC_STATE_H */
