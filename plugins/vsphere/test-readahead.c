/* CUnit tests of plugins/vsphere/vsphere-readahead.c against a synthetic
 * source that records every read: the bytes, what is read ahead and
 * when, the budget, failures, and streams freed while being read.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "nbdkit-shim.h"
#include "unit-test.h"
#include "vsphere.h"

#define KiB 1024
#define MiB (1024 * 1024)

struct source {
  pthread_mutex_t lock;
  uint64_t size;
  pthread_t client;             /* the thread calling vs_stream_pread */
  uint64_t client_end;          /* end of the request being served */
  uint64_t bytes;               /* read from the source */
  unsigned reads, by_threads;   /* reads; those by readahead threads */
  uint64_t most_ahead;          /* past client_end, at most */
  bool past_end;                /* a read beyond SIZE */
  unsigned active;              /* reads under way */
  uint64_t fail_at;             /* reads of this byte fail ... */
  unsigned fail_times;          /* ... this many times */
  long delay_ns;
};

static uint8_t
byte_at (uint64_t o)
{
  return (o * 7 + o / 4093) & 0xff;
}

static int
source_read (void *opaque, void *buf, uint32_t count, uint64_t offset)
{
  struct source *src = opaque;
  struct timespec ts = { 0, src->delay_ns };
  bool fail;
  uint8_t *p = buf;
  uint32_t i;

  pthread_mutex_lock (&src->lock);
  src->reads++;
  src->active++;
  src->bytes += count;
  if (!pthread_equal (pthread_self (), src->client))
    src->by_threads++;
  if (offset + count > src->client_end &&
      offset + count - src->client_end > src->most_ahead)
    src->most_ahead = offset + count - src->client_end;
  src->past_end |= offset + count > src->size;
  fail = offset <= src->fail_at && src->fail_at < offset + count &&
    src->fail_times > 0;
  if (fail)
    src->fail_times--;
  pthread_mutex_unlock (&src->lock);
  if (src->delay_ns)
    nanosleep (&ts, NULL);
  for (i = 0; i < count; i++)
    p[i] = byte_at (offset + i);
  pthread_mutex_lock (&src->lock);
  src->active--;
  pthread_mutex_unlock (&src->lock);
  return fail ? -1 : 0;
}

static void
source_init (struct source *src, uint64_t size)
{
  memset (src, 0, sizeof *src);
  pthread_mutex_init (&src->lock, NULL);
  src->size = size;
  src->client = pthread_self ();
  src->fail_at = UINT64_MAX;
}

/* Read COUNT bytes at OFFSET through S and check them. */
static int
check_read (struct vs_stream *s, struct source *src, uint32_t count,
            uint64_t offset)
{
  uint8_t *buf = malloc (count);
  uint32_t i;
  int r;

  CU_ASSERT_PTR_NOT_NULL_FATAL (buf);
  pthread_mutex_lock (&src->lock);
  src->client_end = offset + count;
  pthread_mutex_unlock (&src->lock);
  r = vs_stream_pread (s, buf, count, offset);
  if (r == 0)
    for (i = 0; i < count; i++)
      if (buf[i] != byte_at (offset + i)) {
        CU_FAIL ("wrong byte");
        break;
      }
  free (buf);
  return r;
}

static void
test_sequential (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (4, 4, 256 * KiB);
  struct vs_stream *s;
  uint64_t o;

  source_init (&src, 8 * MiB);
  src.delay_ns = 1000 * 1000;
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  for (o = 0; o < src.size; o += 256 * KiB)
    CU_ASSERT_EQUAL (check_read (s, &src, 256 * KiB, o), 0);
  vs_stream_free (s);
  vs_readahead_free (ra);
  /* Every byte read once, mostly ahead, never more than the blocks hold. */
  CU_ASSERT_EQUAL (src.bytes, src.size);
  CU_ASSERT (src.by_threads > src.reads / 2);
  CU_ASSERT (src.most_ahead <= 1 * MiB);
  CU_ASSERT (src.most_ahead >= 512 * KiB);
  CU_ASSERT (!src.past_end);
}

static void
test_random (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (4, 4, 256 * KiB);
  struct vs_stream *s;
  uint64_t o = 5 * MiB;
  unsigned i;

  source_init (&src, 16 * MiB);
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  /* No request starts where the one before ended. */
  for (i = 0; i < 50; i++) {
    o = (o * 1103515245 + 12345) % (src.size - 64 * KiB);
    CU_ASSERT_EQUAL (check_read (s, &src, 4096 + i * 512, o), 0);
  }
  vs_stream_free (s);
  vs_readahead_free (ra);
  CU_ASSERT_EQUAL (src.reads, 50);
  CU_ASSERT_EQUAL (src.by_threads, 0);
}

/* A short sequential run, once 256 KiB long, reads ahead as far as
 * the window goes (a block per thread and one more), which is less
 * here than sixteen times what it read.
 */
static void
test_short_run (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (8, 64, 256 * KiB);
  struct vs_stream *s;
  struct timespec pause = { 0, 50 * 1000 * 1000 };
  uint64_t ahead;

  source_init (&src, 64 * MiB);
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  CU_ASSERT_EQUAL (check_read (s, &src, 256 * KiB, 8 * MiB), 0);
  CU_ASSERT_EQUAL (check_read (s, &src, 256 * KiB, 8 * MiB + 256 * KiB), 0);
  /* Time for the threads to read everything queued. */
  nanosleep (&pause, NULL);
  ahead = src.bytes - 2 * 256 * KiB;
  CU_ASSERT (ahead >= 8 * 256 * KiB && ahead <= 9 * 256 * KiB);
  CU_ASSERT_EQUAL (check_read (s, &src, 64 * KiB, 32 * MiB), 0);
  nanosleep (&pause, NULL);
  vs_stream_free (s);
  vs_readahead_free (ra);
  CU_ASSERT_EQUAL (src.bytes, 2 * 256 * KiB + ahead + 64 * KiB);
}

/* Scattered runs shorter than 256 KiB, as an inspection reads: nothing
 * is read ahead, so the source sends exactly what the client reads.
 */
static void
test_scattered_runs (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (8, 64, 256 * KiB);
  struct vs_stream *s;
  struct timespec pause = { 0, 50 * 1000 * 1000 };
  uint64_t o;
  unsigned i;

  source_init (&src, 64 * MiB);
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  for (i = 0; i < 50; i++) {
    o = (i * 37 % 61) * MiB;
    CU_ASSERT_EQUAL (check_read (s, &src, 64 * KiB, o), 0);
    CU_ASSERT_EQUAL (check_read (s, &src, 64 * KiB, o + 64 * KiB), 0);
    CU_ASSERT_EQUAL (check_read (s, &src, 64 * KiB, o + 128 * KiB), 0);
  }
  nanosleep (&pause, NULL);
  vs_stream_free (s);
  vs_readahead_free (ra);
  CU_ASSERT_EQUAL (src.bytes, 50 * 3 * 64 * KiB);
}

/* Areas a client copies, as the cbt filter plans them. */
static const uint64_t areas[][2] = {
  { 64 * KiB, 64 * KiB }, { 192 * KiB, 320 * KiB }, { 1 * MiB, 64 * KiB },
  { 2 * MiB, 1 * MiB }, { 5 * MiB, 128 * KiB }, { 7 * MiB, 64 * KiB },
};
#define N_AREAS (sizeof areas / sizeof areas[0])

static bool
next_area (void *opaque, uint64_t offset, uint64_t *start, uint64_t *end)
{
  size_t i;

  for (i = 0; i < N_AREAS; i++)
    if (areas[i][0] + areas[i][1] > offset) {
      *start = offset > areas[i][0] ? offset : areas[i][0];
      *end = areas[i][0] + areas[i][1];
      return true;
    }
  return false;
}

/* With a plan, exactly the planned areas are read, mostly ahead. */
static void
test_plan (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (4, 4, 256 * KiB);
  struct vs_stream *s;
  uint64_t o, total = 0;
  size_t i;

  source_init (&src, 8 * MiB);
  src.delay_ns = 1000 * 1000;
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, next_area, NULL);
  for (i = 0; i < N_AREAS; i++) {
    for (o = areas[i][0]; o < areas[i][0] + areas[i][1]; o += 64 * KiB)
      CU_ASSERT_EQUAL (check_read (s, &src, 64 * KiB, o), 0);
    total += areas[i][1];
  }
  vs_stream_free (s);
  vs_readahead_free (ra);
  CU_ASSERT_EQUAL (src.bytes, total);
  CU_ASSERT (src.by_threads > src.reads / 2);
}

/* Small requests are read one by one until the run is 256 KiB long
 * (64 of them), then ahead in whole blocks; nothing is read past the
 * end.
 */
static void
test_small_requests (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (2, 16, 64 * KiB);
  struct vs_stream *s;
  uint64_t o;

  source_init (&src, 1 * MiB + 4096);
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  for (o = 0; o < src.size; o += 4096)
    CU_ASSERT_EQUAL (check_read (s, &src, 4096, o), 0);
  vs_stream_free (s);
  vs_readahead_free (ra);
  CU_ASSERT_EQUAL (src.bytes, src.size);
  CU_ASSERT (src.reads < 64 + 16);
  CU_ASSERT (!src.past_end);
}

/* A block whose readahead failed fails the client's reads of it at
 * once (the source retried it already): 16 KiB requests are read ahead
 * in 64 KiB blocks, so four of them fail, the others go on.
 */
static void
test_failures (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (4, 16, 64 * KiB);
  struct vs_stream *s;
  uint64_t o, failed_from = 0;
  unsigned failed = 0, reads = 0;
  char want[128];

  source_init (&src, 1 * MiB);
  src.fail_at = 512 * KiB + 1;
  src.fail_times = 1;
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  for (o = 0; o < src.size; o += 16 * KiB) {
    if (check_read (s, &src, 16 * KiB, o) == 0)
      continue;
    if (failed++ == 0) {
      failed_from = o;
      reads = src.reads;
    }
    snprintf (want, sizeof want, "reading 16384 bytes at offset %" PRIu64
              " failed: reading them ahead failed (see above)", o);
    CU_ASSERT_STRING_EQUAL (nbdkit_shim_last_error (), want);
  }
  vs_stream_free (s);
  vs_readahead_free (ra);
  /* The failed block was not read again, the blocks after it were. */
  CU_ASSERT_EQUAL (failed, 4);
  CU_ASSERT_EQUAL (src.fail_times, 0);
  CU_ASSERT (failed_from <= src.fail_at &&
             src.fail_at < failed_from + 64 * KiB);
  CU_ASSERT_EQUAL (src.bytes, src.size);
  CU_ASSERT (src.reads > reads);
}

/* Streams freed while their blocks are read: the reads finish before
 * the threads are joined, and nothing leaks (the sanitizer build
 * checks that).
 */
static void
test_free_while_reading (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (4, 8, 1 * MiB);
  struct vs_stream *s, *t;
  uint64_t o;

  source_init (&src, 32 * MiB);
  src.delay_ns = 20 * 1000 * 1000;
  CU_ASSERT_EQUAL_FATAL (vs_readahead_start (ra), 0);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  t = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  for (o = 0; o < 4 * MiB; o += 1 * MiB) {
    CU_ASSERT_EQUAL (check_read (s, &src, 1 * MiB, o), 0);
    CU_ASSERT_EQUAL (check_read (t, &src, 1 * MiB, 16 * MiB + o), 0);
  }
  vs_stream_free (s);
  /* A jump drops what T read ahead. */
  CU_ASSERT_EQUAL (check_read (t, &src, 1 * MiB, 0), 0);
  vs_stream_free (t);
  vs_readahead_free (ra);
  CU_ASSERT_EQUAL (src.active, 0);
}

/* Without threads, a stream reads its blocks itself. */
static void
test_no_threads (void)
{
  struct source src;
  struct vs_readahead *ra = vs_readahead_new (4, 4, 256 * KiB);
  struct vs_stream *s;
  uint64_t o;

  source_init (&src, 3 * MiB);
  s = vs_stream_new (ra, source_read, &src, src.size, NULL, NULL);
  for (o = 0; o < src.size; o += 128 * KiB)
    CU_ASSERT_EQUAL (check_read (s, &src, 128 * KiB, o), 0);
  vs_stream_free (s);
  vs_readahead_free (ra);
  CU_ASSERT_EQUAL (src.by_threads, 0);
  CU_ASSERT_EQUAL (src.bytes, src.size);
}

static const struct unit_test tests[] = {
  { "sequential reads", test_sequential },
  { "random reads", test_random },
  { "short run", test_short_run },
  { "small requests", test_small_requests },
  { "scattered runs", test_scattered_runs },
  { "plan", test_plan },
  { "failures", test_failures },
  { "free while reading", test_free_while_reading },
  { "no threads", test_no_threads },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("readahead", tests);
}
