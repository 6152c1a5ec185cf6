/* Sequential readahead by a fixed set of threads, within one memory
 * budget shared by every reader.
 *
 * The plugin serves each NBD connection one request at a time, so that
 * nbdkit keeps one request buffer per connection instead of one per
 * worker thread per connection: memory then grows with the number of
 * connections, not with --threads.  The parallelism the datastore needs
 * comes from here instead: while a stream reads sequentially, the
 * blocks that follow are fetched ahead by the readahead threads.
 */
#ifndef VSPHERE_READAHEAD_H
#define VSPHERE_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read exactly COUNT bytes at OFFSET of SRC; 0, or -1 (reported). */
typedef int vs_read_fn (void *src, void *buf, uint32_t count,
                        uint64_t offset);

struct vs_readahead;

/* THREADS readahead threads (started by vs_readahead_start) reading
 * into at most BLOCKS blocks of BLOCK_SIZE bytes (a multiple of 64 KiB, 1 MiB
 * or more), all streams together.
 * The blocks are kept for reuse until vs_readahead_free, so that memory
 * stays at most BLOCKS * BLOCK_SIZE, however malloc would fragment.
 */
struct vs_readahead *vs_readahead_new (unsigned threads, unsigned blocks,
                                       uint32_t block_size);

/* Start the threads: after nbdkit forks.  Until then, and if this
 * fails, a stream reads its blocks itself, one at a time.
 */
int vs_readahead_start (struct vs_readahead *ra);

/* Stop and join the threads; every stream must be freed before. */
void vs_readahead_free (struct vs_readahead *ra);

/* Where a client copying the source will read next, from OFFSET on:
 * fills [*START, *END) with START >= OFFSET, or returns false if it
 * reads nothing more.  For a copy of what changed (the cbt filter).
 */
typedef bool vs_plan_fn (void *plan, uint64_t offset, uint64_t *start,
                         uint64_t *end);

/* One client's reads of SRC, SIZE bytes long.  PLAN, if not NULL, says
 * where it will read; without one, a client reading sequentially is
 * expected to go on to the end.
 */
struct vs_stream;

struct vs_stream *vs_stream_new (struct vs_readahead *ra, vs_read_fn *read,
                                 void *src, uint64_t size,
                                 vs_plan_fn *plan, void *plan_opaque);
void vs_stream_free (struct vs_stream *s);

/* Read COUNT bytes at OFFSET, from what was read ahead where possible,
 * and read ahead further if the stream is sequential.
 */
int vs_stream_pread (struct vs_stream *s, void *buf, uint32_t count,
                     uint64_t offset);

#endif /* VSPHERE_READAHEAD_H */
