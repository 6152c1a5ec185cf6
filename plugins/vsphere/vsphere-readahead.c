/* Readahead (vsphere.h): the threads take the first queued block of
 * each stream in turn, so that one busy stream cannot starve the
 * others.  ra->lock guards every stream and block, and is let go only
 * while a block is read; a block its stream drops meanwhile is marked
 * orphan, for its reader to free.  ra->work wakes the threads, ra->done
 * the clients waiting for a block.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"

/* A run of sequential reads is read ahead this many times its length,
 * once it is this long: a client reading a few blocks here and there
 * (as virt-v2v's inspection does) must not make the server send
 * several times what it reads.
 */
#define RAMP 16
#define RUN_MIN (256 * 1024)
/* The smallest block read ahead: each GET costs a round trip. */
#define BLOCK_MIN (1024 * 1024)
/* How often a reader waiting for a block checks its client is there. */
#define WAIT_POLL_MS 100

enum state { QUEUED, READING, DONE, FAILED };

struct block {
  struct block *next;           /* in its stream by offset, or spare */
  uint64_t offset;
  uint32_t len;
  uint32_t used;                /* bytes already given to the client */
  enum state state;
  bool orphan;                  /* dropped while a thread reads it */
  char data[];
};

struct vs_stream {
  struct vs_readahead *ra;
  struct vs_stream *next;       /* in ra->streams */
  vs_read_fn *read;
  void *src;
  uint64_t size;
  vs_plan_fn *plan;
  void *plan_opaque;
  uint64_t expect;              /* where the next read should start */
  uint64_t run;                 /* bytes read as expected in a row */
  uint64_t queued;              /* bytes read ahead, not yet given out */
  struct block *head, *tail;    /* read ahead, from expect on */
};

struct vs_readahead {
  pthread_mutex_t lock;
  pthread_cond_t work;          /* a block was queued, or stop */
  pthread_cond_t done;          /* a readahead thread finished a block */
  struct vs_stream *streams;    /* served in turn */
  struct block *spare;          /* blocks free for reuse */
  unsigned blocks, max_blocks;  /* allocated, at most */
  uint32_t block_size;
  unsigned threads, started;
  pthread_t *tids;
  bool stop;
};

struct vs_readahead *
vs_readahead_new (unsigned threads, unsigned blocks, uint32_t block_size)
{
  struct vs_readahead *ra = calloc (1, sizeof *ra);
  pthread_condattr_t attr;

  if (!ra || !(ra->tids = calloc (threads, sizeof *ra->tids))) {
    nbdkit_error ("calloc: out of memory");
    free (ra);
    return NULL;
  }
  ra->threads = threads;
  ra->max_blocks = blocks;
  ra->block_size = block_size;
  pthread_mutex_init (&ra->lock, NULL);
  pthread_cond_init (&ra->work, NULL);
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&ra->done, &attr);
  pthread_condattr_destroy (&attr);
  return ra;
}

/* A block to fill, or NULL if all are in use. */
static struct block *
new_block (struct vs_readahead *ra)
{
  struct block *b = ra->spare;

  if (b)
    ra->spare = b->next;
  else if (ra->blocks < ra->max_blocks &&
           (b = malloc (sizeof *b + ra->block_size)) != NULL)
    ra->blocks++;
  return b;
}

static void
free_block (struct vs_readahead *ra, struct block *b)
{
  b->next = ra->spare;
  ra->spare = b;
}

/* The first queued block of the first stream that has one; that stream
 * then waits behind the others.
 */
static struct block *
take_queued (struct vs_readahead *ra, struct vs_stream **stream)
{
  struct vs_stream **sp, **end, *s;
  struct block *b;

  for (sp = &ra->streams; (s = *sp) != NULL; sp = &s->next) {
    for (b = s->head; b && b->state != QUEUED; b = b->next)
      ;
    if (!b)
      continue;
    if (s->next) {
      *sp = s->next;
      for (end = sp; *end; end = &(*end)->next)
        ;
      *end = s;
      s->next = NULL;
    }
    *stream = s;
    return b;
  }
  return NULL;
}

static void *
readahead_thread (void *opaque)
{
  struct vs_readahead *ra = opaque;
  struct vs_stream *s;
  struct block *b;
  vs_read_fn *read_fn;
  void *src;
  int r;

  pthread_mutex_lock (&ra->lock);
  while (!ra->stop) {
    if (!(b = take_queued (ra, &s))) {
      pthread_cond_wait (&ra->work, &ra->lock);
      continue;
    }
    /* The stream may be freed meanwhile, not its source. */
    read_fn = s->read;
    src = s->src;
    b->state = READING;
    pthread_mutex_unlock (&ra->lock);
    r = read_fn (src, b->data, b->len, b->offset);
    pthread_mutex_lock (&ra->lock);
    if (b->orphan)
      free_block (ra, b);
    else
      b->state = r == 0 ? DONE : FAILED;
    pthread_cond_broadcast (&ra->done);
  }
  pthread_mutex_unlock (&ra->lock);
  return NULL;
}

int
vs_readahead_start (struct vs_readahead *ra)
{
  sigset_t all, old;
  int err = 0;

  /* Signals stay with nbdkit's own threads. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  for (; ra->started < ra->threads; ra->started++) {
    err = pthread_create (&ra->tids[ra->started], NULL, readahead_thread, ra);
    if (err)
      break;
  }
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (err) {
    errno = err;
    nbdkit_error ("cannot start the readahead threads: %m");
    return -1;
  }
  return 0;
}

void
vs_readahead_free (struct vs_readahead *ra)
{
  struct block *b;
  unsigned i;

  if (!ra)
    return;
  pthread_mutex_lock (&ra->lock);
  ra->stop = true;
  pthread_cond_broadcast (&ra->work);
  pthread_mutex_unlock (&ra->lock);
  for (i = 0; i < ra->started; i++)
    pthread_join (ra->tids[i], NULL);
  while ((b = ra->spare) != NULL) {
    ra->spare = b->next;
    free (b);
  }
  pthread_cond_destroy (&ra->done);
  pthread_cond_destroy (&ra->work);
  pthread_mutex_destroy (&ra->lock);
  free (ra->tids);
  free (ra);
}

struct vs_stream *
vs_stream_new (struct vs_readahead *ra, vs_read_fn *read, void *src,
               uint64_t size, vs_plan_fn *plan, void *plan_opaque)
{
  struct vs_stream *s = calloc (1, sizeof *s);

  if (!s) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  s->ra = ra;
  s->read = read;
  s->src = src;
  s->size = size;
  s->plan = plan;
  s->plan_opaque = plan_opaque;
  pthread_mutex_lock (&ra->lock);
  s->next = ra->streams;
  ra->streams = s;
  pthread_mutex_unlock (&ra->lock);
  return s;
}

/* Forget what was read ahead; a block being read is freed by its
 * thread when done.
 */
static void
drop (struct vs_stream *s)
{
  struct block *b, *next;

  for (b = s->head; b; b = next) {
    next = b->next;
    if (b->state == READING)
      b->orphan = true;
    else
      free_block (s->ra, b);
  }
  s->head = s->tail = NULL;
  s->queued = 0;
}

void
vs_stream_free (struct vs_stream *s)
{
  struct vs_readahead *ra;
  struct vs_stream **sp;

  if (!s)
    return;
  ra = s->ra;
  pthread_mutex_lock (&ra->lock);
  drop (s);
  for (sp = &ra->streams; *sp != s; sp = &(*sp)->next)
    ;
  *sp = s->next;
  pthread_mutex_unlock (&ra->lock);
  free (s);
}

/* The next range the client should read, from OFFSET on. */
static bool
next_range (const struct vs_stream *s, uint64_t offset, uint64_t *start,
            uint64_t *end)
{
  if (s->plan)
    return s->plan (s->plan_opaque, offset, start, end);
  *start = offset;
  *end = s->size;
  return offset < s->size;
}

/* Queue blocks where the client will read next: RAMP times as many
 * bytes as it has read as expected (so that a short run wastes little),
 * up to a whole block per thread and the one the client takes next, as
 * long as blocks are free.  While the window is small it is read in
 * four blocks or so, at least BLOCK_MIN each, in parallel; blocks are
 * whole once the run is long enough, whatever the client asks for: one
 * large request costs the server less than several small ones.  Blocks
 * end on multiples of their size, so that those of one size line up.
 */
static void
read_ahead (struct vs_stream *s)
{
  struct vs_readahead *ra = s->ra;
  uint64_t window = (ra->threads + 1) * (uint64_t) ra->block_size;
  uint64_t block;
  uint64_t pos = s->tail ? s->tail->offset + s->tail->len : s->expect;
  uint64_t start, end;
  struct block *b;
  uint32_t len;
  bool queued = false;

  if (s->run < RUN_MIN)
    return;
  if (window > RAMP * s->run)
    window = RAMP * s->run;
  for (block = ra->block_size;
       block / 2 >= BLOCK_MIN && block > window / 4;
       block /= 2)
    ;
  while (s->queued < window && next_range (s, pos, &start, &end)) {
    len = block - start % block;
    if (len > end - start)
      len = end - start;
    if (!(b = new_block (ra)))
      break;
    s->queued += len;
    b->next = NULL;
    b->offset = start;
    b->len = len;
    b->used = 0;
    b->state = QUEUED;
    b->orphan = false;
    if (s->tail)
      s->tail->next = b;
    else
      s->head = b;
    s->tail = b;
    pos = start + len;
    queued = true;
  }
  if (queued)
    pthread_cond_broadcast (&ra->work);
}

/* Wait while a readahead thread reads B; -1 if meanwhile the client
 * went away or nbdkit is shutting down.
 */
static int
wait_read (struct vs_readahead *ra, const struct block *b)
{
  struct timespec t;

  while (b->state == READING) {
    clock_gettime (CLOCK_MONOTONIC, &t);
    t.tv_nsec += WAIT_POLL_MS * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000L;
    }
    if (pthread_cond_timedwait (&ra->done, &ra->lock, &t) == ETIMEDOUT &&
        nbdkit_nanosleep (0, 0) == -1)
      return -1;
  }
  return 0;
}

/* N more bytes of the head block B are given out. */
static void
advance (struct vs_stream *s, struct block *b, uint32_t n)
{
  b->used += n;
  s->queued -= n;
  if (b->used == b->len) {
    s->head = b->next;
    if (!s->head)
      s->tail = NULL;
    free_block (s->ra, b);
  }
}

int
vs_stream_pread (struct vs_stream *s, void *buf, uint32_t count,
                 uint64_t offset)
{
  struct vs_readahead *ra = s->ra;
  uint32_t n;
  uint64_t end = offset + count, next_end;
  char *p = buf;
  struct block *b;
  int r;

  pthread_mutex_lock (&ra->lock);
  if (offset == s->expect)
    s->run += count;
  else {
    drop (s);
    s->run = 0;
  }
  if (!next_range (s, end, &s->expect, &next_end))
    s->expect = end;
  /* Give out the blocks read ahead while they follow on. */
  while (count > 0 && (b = s->head) != NULL &&
         b->offset + b->used == offset) {
    if (b->state == QUEUED) {
      /* Every thread is busy: read it here rather than wait. */
      b->state = READING;
      pthread_mutex_unlock (&ra->lock);
      r = s->read (s->src, b->data, b->len, b->offset);
      pthread_mutex_lock (&ra->lock);
      b->state = r == 0 ? DONE : FAILED;
    }
    if (wait_read (ra, b) == -1) {
      pthread_mutex_unlock (&ra->lock);
      nbdkit_error ("reading %" PRIu32 " bytes at offset %" PRIu64
                    " abandoned: nbdkit is shutting down or the client "
                    "disconnected", count, offset);
      nbdkit_set_error (EIO);
      return -1;
    }
    n = count < b->len - b->used ? count : b->len - b->used;
    if (b->state == FAILED) {
      /* It was retried as a read here would be: fail at once, as do
       * the next reads of it, and read no further ahead for now.
       */
      advance (s, b, n);
      s->run = 0;
      pthread_mutex_unlock (&ra->lock);
      nbdkit_error ("reading %" PRIu32 " bytes at offset %" PRIu64
                    " failed: reading them ahead failed (see above)",
                    count, offset);
      nbdkit_set_error (EIO);
      return -1;
    }
    memcpy (p, b->data + b->used, n);
    advance (s, b, n);
    p += n;
    offset += n;
    count -= n;
  }
  if (count > 0 && s->head) {
    /* Read ahead elsewhere than asked: start over. */
    drop (s);
    s->run = 0;
  }
  read_ahead (s);
  pthread_mutex_unlock (&ra->lock);
  return count > 0 ? s->read (s->src, p, count, offset) : 0;
}
