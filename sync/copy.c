/* The copy (copy.h): detached worker threads, each on one disk at a
 * time through its own libnbd handle, polled together with the stop
 * pipe so that a signal abandons a request in flight.  run->lock guards
 * which disk each thread is on, the running count and the failed flag;
 * each disk's lock guards its cursor, its block status and the chunks
 * being written, from which the watermark comes.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnbd.h>

#include "copy.h"
#include "seconds.h"
#include "tool-messages.h"
#include "tool-signals.h"

/* Each read is one ranged GET in the plugin: large enough to keep
 * request overhead small, small enough to bound memory per thread.
 */
#define DATA_CHUNK (2 * 1024 * 1024)
#define ZERO_CHUNK (1024 * 1024 * 1024)
#define STATUS_SPAN (1024 * 1024 * 1024)

/* Seconds between ticks: a progress bar redrawn this often moves
 * smoothly without flicker.
 */
#define TICK 0.25

/* An error of the copy, unless a stop signal cut it short: the cycle
 * says that.
 */
static void __attribute__ ((format (printf, 1, 2)))
copy_error (const char *fs, ...)
{
  va_list args;

  if (tool_stopping ())
    return;
  va_start (args, fs);
  tool_verror (fs, args);
  va_end (args);
}

/* Run H until DONE (H, COOKIE) returns 1 (then 0) or -1 (then -1).  As
 * nbd_poll, but a stop signal also ends the wait (then -1): whatever
 * is in flight is abandoned, as the server may take minutes to answer.
 */
static int
run_until (struct nbd_handle *h, int (*done) (struct nbd_handle *, int64_t),
           int64_t cookie)
{
  struct pollfd fds[2] = { { .fd = -1 },
                           { .fd = tool_stop_fd (), .events = POLLIN } };
  unsigned dir;
  int r;

  while ((r = done (h, cookie)) == 0) {
    fds[0].fd = nbd_aio_get_fd (h);
    if (fds[0].fd == -1)
      return -1;
    dir = nbd_aio_get_direction (h);
    fds[0].events = (dir & LIBNBD_AIO_DIRECTION_READ ? POLLIN : 0) |
      (dir & LIBNBD_AIO_DIRECTION_WRITE ? POLLOUT : 0);
    if (poll (fds, 2, -1) == -1) {
      if (errno == EINTR)
        continue;
      copy_error ("poll: %m");
      return -1;
    }
    if (fds[1].revents)
      return -1;
    /* One notification at a time, reads first, as nbd_poll does. */
    if (fds[0].revents & (POLLIN | POLLHUP))
      r = nbd_aio_notify_read (h);
    else if (fds[0].revents & POLLOUT)
      r = nbd_aio_notify_write (h);
    else if (fds[0].revents & (POLLERR | POLLNVAL)) {
      copy_error ("the NBD server closed the connection");
      return -1;
    }
    if (r == -1)
      return -1;
  }
  return r == 1 ? 0 : -1;
}

static int
connected (struct nbd_handle *h, int64_t unused)
{
  if (nbd_aio_is_connecting (h))
    return 0;
  return nbd_aio_is_ready (h) ? 1 : -1;
}

static int
completed (struct nbd_handle *h, int64_t cookie)
{
  return cookie == -1 ? -1 : nbd_aio_command_completed (h, cookie);
}

static struct nbd_handle *
connect_source (const char *socket, const char *export_name)
{
  struct nbd_handle *h = nbd_create ();

  if (!h ||
      nbd_set_export_name (h, export_name) == -1 ||
      nbd_add_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1 ||
      nbd_aio_connect_unix (h, socket) == -1 ||
      run_until (h, connected, 0) == -1) {
    copy_error ("opening export \"%s\": %s", export_name, nbd_get_error ());
    if (h)
      nbd_close (h);
    return NULL;
  }
  return h;
}

static void
disconnect (struct nbd_handle *h)
{
  if (h) {
    /* After a stop, a request may be in flight, which the polite
     * disconnect would wait for.
     */
    if (!tool_stopping ())
      nbd_shutdown (h, 0);
    nbd_close (h);
  }
}

struct status_answer {
  uint32_t *entries;
  size_t n;
};

static int
keep_status (void *opaque, const char *context, uint64_t offset,
             uint32_t *entries, size_t n, int *error)
{
  struct status_answer *a = opaque;

  if (strcmp (context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0 || a->entries)
    return 0;
  a->entries = malloc (n * sizeof *entries);
  if (!a->entries) {
    *error = errno;
    return -1;
  }
  memcpy (a->entries, entries, n * sizeof *entries);
  a->n = n;
  return 0;
}

/* The block status of D from OFFSET on into D's extent list. */
static int
fetch_status (struct nbd_handle *h, struct sync_copy_disk *d,
              uint64_t offset)
{
  struct status_answer a = { NULL, 0 };
  uint64_t count = d->size - offset;

  if (count > STATUS_SPAN)
    count = STATUS_SPAN;
  if (run_until (h, completed,
                 nbd_aio_block_status (h, count, offset,
                                       (nbd_extent_callback) {
                                         .callback = keep_status,
                                         .user_data = &a },
                                       NBD_NULL_COMPLETION, 0)) == -1) {
    copy_error ("block status of export \"%s\" at %" PRIu64 ": %s",
                d->export_name, offset, nbd_get_error ());
    free (a.entries);
    return -1;
  }
  if (a.n < 2 || a.entries[0] == 0) {
    tool_error ("export \"%s\" answered no block status at %" PRIu64,
                d->export_name, offset);
    free (a.entries);
    return -1;
  }
  free (d->extents);
  d->extents = a.entries;
  d->n_extents = a.n / 2;
  d->i_extent = 0;
  d->extent_offset = offset;
  return 0;
}

struct chunk {
  uint64_t offset, length;
  bool data;                    /* read and write; else write zeros */
  unsigned slot;                /* in the disk's busy list */
};

/* With D locked: note C as being written. */
static void
take_slot (struct sync_copy_disk *d, struct chunk *c)
{
  unsigned i = 0;

  while (d->busy_used[i])
    i++;
  d->busy_used[i] = true;
  d->busy[i] = c->offset;
  c->slot = i;
}

static void
release_slot (struct sync_copy_disk *d, const struct chunk *c)
{
  pthread_mutex_lock (&d->lock);
  d->busy_used[c->slot] = false;
  pthread_mutex_unlock (&d->lock);
}

uint64_t
sync_copy_watermark (struct sync_copy_disk *d)
{
  uint64_t w;
  unsigned i;

  pthread_mutex_lock (&d->lock);
  w = d->cursor < d->size ? d->cursor : d->size;
  for (i = 0; i < SYNC_MAX_CONNECTIONS; i++)
    if (d->busy_used[i] && d->busy[i] < w)
      w = d->busy[i];
  pthread_mutex_unlock (&d->lock);
  return w;
}

/* The next piece of work on D, read from its extents.  Holes are
 * skipped when they are unchanged or the output reads as zeros
 * already.  Returns 1 with *C set, 0 when D has no work left, -1 on
 * error.
 */
static int
next_chunk (struct sync_copy_disk *d, enum sync_copy_action action,
            struct nbd_handle *h, struct chunk *c)
{
  int r = 0;

  if (action == SYNC_VERIFY_ALL) {
    pthread_mutex_lock (&d->lock);
    c->offset = d->cursor;
    c->length = d->size - d->cursor < DATA_CHUNK ? d->size - d->cursor
      : DATA_CHUNK;
    c->data = true;
    d->cursor += c->length;
    __atomic_store_n (&d->done, d->cursor >= d->size, __ATOMIC_RELAXED);
    r = c->length > 0;
    if (r)
      take_slot (d, c);
    pthread_mutex_unlock (&d->lock);
    return r;
  }

  pthread_mutex_lock (&d->lock);
  while (d->cursor < d->size) {
    uint64_t end;
    bool zero;

    if (d->i_extent == d->n_extents) {
      if (fetch_status (h, d, d->cursor) == -1) {
        r = -1;
        break;
      }
    }
    end = d->extent_offset + d->extents[2 * d->i_extent];
    zero = d->extents[2 * d->i_extent + 1] & LIBNBD_STATE_ZERO;
    if (end > d->size)
      end = d->size;
    if (d->cursor >= end) {
      d->extent_offset = end;
      d->i_extent++;
      continue;
    }
    if (zero && (d->cursor < d->unchanged_below || d->out->fresh)) {
      if (end > d->unchanged_below && d->cursor < d->unchanged_below &&
          !d->out->fresh)
        end = d->unchanged_below;
      d->cursor = end;
      continue;
    }
    c->offset = d->cursor;
    c->length = end - d->cursor;
    c->data = !zero;
    if (c->length > (zero ? ZERO_CHUNK : DATA_CHUNK))
      c->length = zero ? ZERO_CHUNK : DATA_CHUNK;
    d->cursor += c->length;
    take_slot (d, c);
    r = 1;
    break;
  }
  if (d->cursor >= d->size)
    __atomic_store_n (&d->done, true, __ATOMIC_RELAXED);
  pthread_mutex_unlock (&d->lock);
  return r;
}

static bool
all_zero (const char *buf, size_t len)
{
  return len == 0 || (buf[0] == 0 && memcmp (buf, buf + 1, len - 1) == 0);
}

struct run {
  enum sync_copy_action action;
  const char *socket;
  struct sync_copy_disk **disks;
  size_t n;
  pthread_mutex_t lock;
  pthread_cond_t finished;      /* signalled as each thread ends */
  unsigned running;
  bool failed;
};

static bool
run_failed (struct run *run)
{
  bool f;

  pthread_mutex_lock (&run->lock);
  f = run->failed;
  pthread_mutex_unlock (&run->lock);
  return f || tool_stopping ();
}

static void
fail_run (struct run *run)
{
  pthread_mutex_lock (&run->lock);
  run->failed = true;
  pthread_mutex_unlock (&run->lock);
}

/* A disk with work left that no thread is on.  One connection per
 * disk: the plugin reads ahead for a client that reads in order, on
 * all its HTTPS connections, and two connections on one disk would
 * each waste the other's readahead.
 */
static struct sync_copy_disk *
join_disk (struct run *run)
{
  struct sync_copy_disk *d = NULL;
  size_t i;

  pthread_mutex_lock (&run->lock);
  for (i = 0; i < run->n && !d; i++)
    if (!__atomic_load_n (&run->disks[i]->done, __ATOMIC_RELAXED) &&
        run->disks[i]->workers == 0)
      d = run->disks[i];
  if (d)
    d->workers++;
  pthread_mutex_unlock (&run->lock);
  return d;
}

static void
leave_disk (struct run *run, struct sync_copy_disk *d)
{
  pthread_mutex_lock (&run->lock);
  d->workers--;
  pthread_mutex_unlock (&run->lock);
}

static int
pread_source (struct nbd_handle *h, void *buf, size_t count, uint64_t offset)
{
  return run_until (h, completed,
                    nbd_aio_pread (h, buf, count, offset,
                                   NBD_NULL_COMPLETION, 0));
}

/* Compare the output with the source (or with zeros) over C. */
static int
verify_chunk (struct sync_copy_disk *d, struct nbd_handle *src,
              struct sync_writer *w, char *buf, const struct chunk *c)
{
  char *out = buf + DATA_CHUNK;
  uint64_t off, len;

  for (off = c->offset; off < c->offset + c->length; off += len) {
    len = c->offset + c->length - off;
    if (len > DATA_CHUNK)
      len = DATA_CHUNK;
    if (c->data && pread_source (src, buf, len, off) == -1) {
      copy_error ("reading export \"%s\" at %" PRIu64 ": %s",
                  d->export_name, off, nbd_get_error ());
      return -1;
    }
    if (!c->data)
      memset (buf, 0, len);
    if (sync_writer_pread (w, out, len, off) == -1)
      return -1;
    if (memcmp (buf, out, len) != 0) {
      __atomic_store_n (&d->differs, true, __ATOMIC_RELAXED);
      tool_error ("verify: the output of export \"%s\" differs from the "
                  "snapshot in the %" PRIu64 " bytes at offset %" PRIu64,
                  d->export_name, len, off);
      return -1;
    }
  }
  return 0;
}

static int
copy_chunk (struct sync_copy_disk *d, struct nbd_handle *src,
            struct sync_writer *w, char *buf, const struct chunk *c)
{
  if (!c->data)
    return sync_writer_zero (w, c->length, c->offset);
  if (pread_source (src, buf, c->length, c->offset) == -1) {
    copy_error ("reading export \"%s\" at %" PRIu64 ": %s", d->export_name,
                c->offset, nbd_get_error ());
    return -1;
  }
  if (!all_zero (buf, c->length))
    return sync_writer_pwrite (w, buf, c->length, c->offset);
  return d->out->fresh ? 0 : sync_writer_zero (w, c->length, c->offset);
}

/* Copy from D until it has no work left. */
static int
work_on (struct run *run, struct sync_copy_disk *d, char *buf)
{
  struct nbd_handle *src = connect_source (run->socket, d->export_name);
  struct sync_writer *w = src ? sync_writer_new (d->out) : NULL;
  struct chunk c;
  int r = w ? 0 : -1;

  while (r == 0 && !run_failed (run)) {
    r = next_chunk (d, run->action, src, &c);
    if (r <= 0)
      break;
    if (run->action == SYNC_COPY) {
      r = copy_chunk (d, src, w, buf, &c);
      if (r == 0 && c.data)
        __atomic_add_fetch (&d->copied, c.length, __ATOMIC_RELAXED);
    }
    else {
      r = verify_chunk (d, src, w, buf, &c);
      if (r == 0)
        __atomic_add_fetch (&d->verified, c.length, __ATOMIC_RELAXED);
    }
    /* A chunk that failed stays busy: the watermark never passes it. */
    if (r == 0)
      release_slot (d, &c);
  }
  sync_writer_free (w);
  disconnect (src);
  return r;
}

static void *
worker (void *opaque)
{
  struct run *run = opaque;
  struct sync_copy_disk *d;
  /* Verifying compares two buffers. */
  char *buf = malloc (2 * DATA_CHUNK);

  if (!buf) {
    tool_error ("malloc: %m");
    fail_run (run);
  }
  while (buf && !run_failed (run) && (d = join_disk (run)) != NULL) {
    if (work_on (run, d, buf) == -1)
      fail_run (run);
    leave_disk (run, d);
  }
  free (buf);
  pthread_mutex_lock (&run->lock);
  run->running--;
  pthread_cond_signal (&run->finished);
  pthread_mutex_unlock (&run->lock);
  return NULL;
}

int
sync_copy_count (const char *socket, struct sync_copy_disk *d)
{
  struct nbd_handle *h = connect_source (socket, d->export_name);
  uint64_t offset = 0;
  size_t i;

  if (!h)
    return -1;
  d->to_copy = 0;
  while (offset < d->size) {
    if (fetch_status (h, d, offset) == -1) {
      disconnect (h);
      return -1;
    }
    for (i = 0; i < d->n_extents && offset < d->size; i++) {
      uint64_t len = d->extents[2 * i];

      if (len > d->size - offset)
        len = d->size - offset;
      if (!(d->extents[2 * i + 1] & LIBNBD_STATE_ZERO))
        d->to_copy += len;
      offset += len;
    }
  }
  free (d->extents);
  d->extents = NULL;
  d->n_extents = d->i_extent = 0;
  disconnect (h);
  return 0;
}

uint64_t
sync_copy_copied (const struct sync_copy_disk *d)
{
  return __atomic_load_n (&d->copied, __ATOMIC_RELAXED);
}

/* Until every thread has ended: tick. */
static void
wait_for_threads (struct run *run, const struct sync_copy_hooks *hooks)
{
  struct timespec t0, deadline;
  double next_tick = TICK;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  pthread_mutex_lock (&run->lock);
  while (run->running > 0) {
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += 100 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait (&run->finished, &run->lock, &deadline);
    pthread_mutex_unlock (&run->lock);
    if (vs_seconds_since (&t0) >= next_tick && hooks->tick) {
      hooks->tick (hooks->opaque, vs_seconds_since (&t0));
      /* Not a burst of ticks after a slow one (a checkpoint's flush). */
      next_tick = vs_seconds_since (&t0) + TICK;
    }
    pthread_mutex_lock (&run->lock);
  }
  pthread_mutex_unlock (&run->lock);
}

int
sync_copy_run (const char *socket, struct sync_copy_disk **disks, size_t n,
               unsigned connections, enum sync_copy_action action,
               const struct sync_copy_hooks *hooks)
{
  struct run run = {
    .action = action, .socket = socket, .disks = disks, .n = n
  };
  pthread_condattr_t attr;
  pthread_t thread;
  unsigned i;
  int err;

  pthread_mutex_init (&run.lock, NULL);
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&run.finished, &attr);
  pthread_condattr_destroy (&attr);
  for (i = 0; i < n; i++) {
    pthread_mutex_init (&disks[i]->lock, NULL);
    memset (disks[i]->busy_used, 0, sizeof disks[i]->busy_used);
    disks[i]->cursor = 0;
    disks[i]->done = disks[i]->size == 0;
  }
  for (i = 0; i < connections; i++) {
    pthread_mutex_lock (&run.lock);
    run.running++;
    pthread_mutex_unlock (&run.lock);
    if ((err = pthread_create (&thread, NULL, worker, &run)) != 0) {
      errno = err;
      tool_error ("pthread_create: %m");
      pthread_mutex_lock (&run.lock);
      run.running--;
      run.failed = true;
      pthread_mutex_unlock (&run.lock);
      break;
    }
    pthread_detach (thread);
  }
  wait_for_threads (&run, hooks);
  for (i = 0; i < n; i++) {
    pthread_mutex_destroy (&disks[i]->lock);
    free (disks[i]->extents);
    disks[i]->extents = NULL;
    disks[i]->n_extents = disks[i]->i_extent = 0;
  }
  pthread_cond_destroy (&run.finished);
  pthread_mutex_destroy (&run.lock);
  if (run.failed || tool_stopping ())
    return -1;
  for (i = 0; i < n; i++)
    if (!disks[i]->done)
      return -1;
  return 0;
}
