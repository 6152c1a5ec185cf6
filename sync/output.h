/* One disk's output: the image (raw or qcow2, a file or a block
 * device) or the overlay that this cycle writes, prepared, locked,
 * written through per-thread writers, and flushed.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_OUTPUT_H
#define SYNC_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "tool-child.h"
#include "options.h"

struct sync_output {
  /* Set before sync_output_open. */
  char *path;                   /* the base image */
  bool absolute;                /* recorded as an absolute path */
  enum sync_format format;      /* of the base image */
  bool full;                    /* a full copy: the base is written anew */
  bool resume;                  /* ... going on with what an earlier did */
  uint64_t size;
  const char *backing;          /* set: write a new overlay on this */
  enum sync_format backing_format;
  char *overlay;                /* the new overlay's path */
  char *overlay_part;           /* its name until it is whole */

  /* Set by sync_output_lock and sync_output_prepare. */
  bool is_block;
  bool fresh;                   /* reads as zeros before the copy */
  bool overlay_created;         /* by this run: remove it after a failure */
  bool overlay_named;           /* ... renamed whole, but in no state yet */
  bool written;                 /* by this run */
  int fd;                       /* holds the lock; raw writes go here */
  struct tool_child qemu_nbd;   /* for qcow2 */
};

/* Whether PATH is a block device (following symbolic links). */
bool sync_output_is_block (const char *path);

/* Open the output if it exists, lock it, and check that it can take
 * the disk.  Returns 0, or -1 with the error reported.  O->fd must be
 * -1 before, and stays -1 for an output not there yet.
 */
int sync_output_lock (struct sync_output *o);

/* Whether two locked outputs are one file or device under two names
 * (a symbolic or hard link, /dev/vg/lv and /dev/mapper/vg-lv).
 */
bool sync_output_same (const struct sync_output *a,
                       const struct sync_output *b);

/* Make it ready for CONNECTIONS writers: create and lock a new file;
 * truncate or format what a full copy writes anew, or create the
 * overlay; start qemu-nbd for qcow2, with its socket in TMPDIR.
 * Returns 0, or -1 with the error reported.
 */
int sync_output_prepare (struct sync_output *o, const char *tmpdir,
                         unsigned connections);

/* Make everything written so far durable; writers may go on.  Returns
 * 0, or -1 with the error reported.
 */
int sync_output_flush (struct sync_output *o);

/* Make everything written durable and release the writers' server;
 * a new overlay takes its name.  Returns 0, or -1 with the error
 * reported.
 */
int sync_output_finish (struct sync_output *o);

/* After a failure: stop the server and remove the new overlay, which
 * no state names, under either name.  The lock stays until sync_output_close.
 */
void sync_output_abort (struct sync_output *o);

/* Release the lock.  Safe to call on an output never opened. */
void sync_output_close (struct sync_output *o);

/* A writer: one per copying thread and output. */
struct sync_writer;

struct sync_writer *sync_writer_new (struct sync_output *o);
int sync_writer_pwrite (struct sync_writer *w, const void *buf,
                        uint64_t len, uint64_t offset);
int sync_writer_zero (struct sync_writer *w, uint64_t len, uint64_t offset);
/* Read back what was written, for --verify. */
int sync_writer_pread (struct sync_writer *w, void *buf, uint64_t len,
                       uint64_t offset);
void sync_writer_free (struct sync_writer *w);

#endif /* SYNC_OUTPUT_H */
