/* The state of a VM's vsphere-sync between cycles (also read by
 * vsphere-v2v, which converts its outputs): a versioned JSON document,
 * written atomically.
 */
#ifndef SYNC_STATE_H
#define SYNC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYNC_STATE_VERSION 1

enum sync_format { SYNC_RAW, SYNC_QCOW2 };

struct sync_state_disk {
  int key;                      /* device key */
  char *label;
  char *path;                   /* datastore path at the last cycle */
  char *uuid;                   /* the disk's backing uuid, or NULL */
  int64_t size;
  char *change_id;              /* NULL: the output is not whole; copy in full */
  char *output;                 /* absolute path of the base image */
  enum sync_format format;      /* of the base image */
  char **overlays;              /* this output's overlays, oldest first */
  size_t n_overlays;
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
  struct sync_state_disk *disk;
  size_t n, capacity;
};

/* Read PATH.  Returns 1 if it does not exist (ST is then empty), 0 if
 * read, -1 on error (reported).
 */
int sync_state_load (const char *path, struct sync_state *st);

/* Write ST to PATH: a temporary file, fsync, rename, fsync of the
 * directory.  Returns 0, or -1 with the error reported and PATH as it
 * was.
 */
int sync_state_save (const char *path, const struct sync_state *st);

void sync_state_free (struct sync_state *st);
void sync_state_disk_free (struct sync_state_disk *d);

struct sync_state_disk *sync_state_find (const struct sync_state *st, int key);

/* Make room for N more disks, so that adding them moves none of the
 * others.  Returns 0, or -1 (reported).
 */
int sync_state_reserve (struct sync_state *st, size_t n);

/* A new, empty disk entry, in room made by sync_state_reserve. */
struct sync_state_disk *sync_state_add (struct sync_state *st);

const char *sync_format_name (enum sync_format f);

#endif /* SYNC_STATE_H */
