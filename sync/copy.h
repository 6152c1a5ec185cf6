/* Copying the disks: what the source's block status calls data is
 * read and written, the rest is skipped or zeroed, in order, by a
 * fixed number of threads, each on one disk at a time with its own NBD
 * connection.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_COPY_H
#define SYNC_COPY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "output.h"

#define SYNC_MAX_CONNECTIONS 64

struct sync_copy_disk {
  const char *export_name;      /* on the source */
  uint64_t size;
  /* Holes in the source below this offset are unchanged since the
   * last cycle (the disk's size for an incremental copy, 0 for a full
   * one, where it resumes one); holes above it read as zeros.
   */
  uint64_t unchanged_below;
  struct sync_output *out;
  uint64_t to_copy;             /* data bytes, from sync_copy_count */
  uint64_t copied;              /* of those, written (sync_copy_copied) */
  uint64_t verified;            /* bytes compared (atomic) */
  bool differs;                 /* verifying found a difference */

  /* Private to the copy. */
  pthread_mutex_t lock;
  uint64_t cursor;              /* next offset to hand out */
  uint32_t *extents;            /* block status: (length, flags) pairs */
  size_t n_extents, i_extent;
  uint64_t extent_offset;       /* where extents[i_extent] starts */
  unsigned workers;
  bool done;
  uint64_t busy[SYNC_MAX_CONNECTIONS];  /* chunks being written */
  bool busy_used[SYNC_MAX_CONNECTIONS];
};

/* Every byte of D below the returned offset has been written (or
 * needed nothing): where a checkpoint of an interrupted copy may
 * resume.  Callable while the copy runs.
 */
uint64_t sync_copy_watermark (struct sync_copy_disk *d);

/* D->copied, also while the copy runs. */
uint64_t sync_copy_copied (const struct sync_copy_disk *d);

/* Sum the data areas of D's export on SOCKET into D->to_copy. */
int sync_copy_count (const char *socket, struct sync_copy_disk *d);

/* Called by the waiting thread a few times a second, with the seconds
 * since the copy began.
 */
struct sync_copy_hooks {
  void (*tick) (void *opaque, double seconds);
  void *opaque;
};

enum sync_copy_action {
  SYNC_COPY,                    /* write what the block status asks for */
  SYNC_VERIFY,                  /* compare the output with it instead */
  SYNC_VERIFY_ALL,              /* compare the whole disk */
};

/* Copy (or verify) every disk with up to CONNECTIONS threads (one per
 * disk at a time); stops early on
 * the first error, difference or stop signal.  Returns 0 when every
 * disk was done, -1 otherwise (reported).
 */
int sync_copy_run (const char *socket, struct sync_copy_disk **disks,
                   size_t n, unsigned connections,
                   enum sync_copy_action action,
                   const struct sync_copy_hooks *hooks);

#endif /* SYNC_COPY_H */
