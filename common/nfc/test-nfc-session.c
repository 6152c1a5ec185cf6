/* Unit tests of the NFC session against a scripted host on the other
 * end of a socketpair: the handshake and AIO session, a disk opened and
 * read in batches whose fragments come reversed and interleaved between
 * requests, and each way a host can misbehave refused with one error
 * and no byte written twice or where it does not belong.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "nbdkit-shim.h"
#include "nfc-bytes.h"
#include "nfc-session.h"
#include "nfc-wire.h"
#include "unit-test.h"

#define HANDLE UINT64_C (0x1122334455667788)

/* How the scripted host misbehaves. */
enum fault {
  NONE, OPEN_REFUSED, BAD_MAGIC, STRANGER_OP, REPEATED_FRAGMENT,
  OTHER_REQUEST, HUGE_FRAGMENT,
};

struct host {
  int fd;
  enum fault fault;
  int ios;                      /* IO requests seen */
};

static uint8_t
disk_byte (uint64_t offset)
{
  return offset * 7 + (offset >> 16);
}

/* The stream over a socket, as the plugin's would be. */
static int
fd_read (void *opaque, void *buf, size_t n)
{
  int fd = *(int *) opaque;
  char *p = buf;

  while (n > 0) {
    ssize_t r = read (fd, p, n);

    if (r <= 0) {
      nbdkit_error ("the connection was closed");
      return -1;
    }
    p += r;
    n -= r;
  }
  return 0;
}

static int
fd_write (void *opaque, const void *buf, size_t n)
{
  int fd = *(int *) opaque;

  if (write (fd, buf, n) != (ssize_t) n) {
    nbdkit_error ("write: %m");
    return -1;
  }
  return 0;
}

/* Send fragment I (of 64 KiB) of the read of TOTAL bytes at OFFSET.
 * False once the client has gone.
 */
static bool
send_fragment (struct host *h, uint32_t op, uint64_t offset, uint32_t total,
               uint32_t i)
{
  uint8_t frame[NFC_AIO_HEADER_SIZE + NFC_IO_PAYLOAD];
  uint8_t *data = malloc (NFC_FRAGMENT_MAX), *p = frame + 16;
  uint32_t at = i * NFC_FRAGMENT_MAX, len = total - at, j;
  bool ok;

  if (len > NFC_FRAGMENT_MAX)
    len = NFC_FRAGMENT_MAX;
  nfc_aio_header_encode (frame, NFC_AIO_IO, NFC_IO_PAYLOAD, op);
  if (h->fault == BAD_MAGIC)
    frame[0] ^= 0xff;
  memset (p, 0, NFC_IO_PAYLOAD);
  nfc_put64 (p + 8, 1);
  nfc_put64 (p + 16, offset);
  nfc_put32 (p + 24, total);
  nfc_put32 (p + 28, at);
  nfc_put32 (p + 32, h->fault == HUGE_FRAGMENT ? 1 << 20 : len);
  nfc_put32 (p + 36, h->fault == HUGE_FRAGMENT ? 1 << 20 : len);
  if (h->fault == OTHER_REQUEST)
    nfc_put64 (p + 16, offset + 512);
  for (j = 0; j < len; j++)
    data[j] = disk_byte (offset + at + j);
  ok = write (h->fd, frame, sizeof frame) == sizeof frame &&
    write (h->fd, data, len) == (ssize_t) len;
  free (data);
  return ok;
}

/* Reply to the pending reads: fragments in reverse order, alternating
 * between requests.
 */
static void
answer_reads (struct host *h, const uint32_t *ops, const uint64_t *offsets,
              const uint32_t *lengths, int n)
{
  int i, left[NFC_BATCH_MAX];
  bool more = true;

  for (i = 0; i < n; i++)
    left[i] = (lengths[i] + NFC_FRAGMENT_MAX - 1) / NFC_FRAGMENT_MAX;
  while (more) {
    more = false;
    for (i = 0; i < n; i++)
      if (left[i] > 0) {
        --left[i];
        if (!send_fragment (h, h->fault == STRANGER_OP ? 999 : ops[i],
                            offsets[i], lengths[i], left[i]) ||
            (h->fault == REPEATED_FRAGMENT &&
             !send_fragment (h, ops[i], offsets[i], lengths[i], left[i])))
          return;
        more = true;
      }
  }
}

static void
reply (struct host *h, uint32_t type, uint32_t op, const uint8_t *payload,
       uint32_t size)
{
  uint8_t frame[NFC_AIO_HEADER_SIZE + 64];

  nfc_aio_header_encode (frame, type, size, op);
  memcpy (frame + NFC_AIO_HEADER_SIZE, payload, size);
  /* A client that went away is no failure of the host's. */
  if (write (h->fd, frame, NFC_AIO_HEADER_SIZE + size) == -1)
    return;
}

static void *
host_thread (void *arg)
{
  struct host *h = arg;
  int fd = h->fd;
  uint8_t m[NFC_CLASSIC_SIZE], in[NFC_AIO_HEADER_SIZE], buf[4096];
  uint32_t ops[NFC_BATCH_MAX], lengths[NFC_BATCH_MAX];
  uint64_t offsets[NFC_BATCH_MAX];
  int n = 0;

  /* The classic handshake. */
  if (fd_read (&fd, m, sizeof m) == -1 || nfc_get32 (m) != NFC_CLASSIC_AUTH ||
      fd_read (&fd, m, sizeof m) == -1 || nfc_get32 (m) != NFC_CLASSIC_HELLO)
    return NULL;
  nfc_classic_encode (m, NFC_CLASSIC_HELLO_REPLY, 0);
  m[16] = 1;
  fd_write (&fd, m, sizeof m);
  if (fd_read (&fd, m, sizeof m) == -1 || nfc_get32 (m) != NFC_CLASSIC_VERSION)
    return NULL;
  nfc_classic_encode (m, NFC_CLASSIC_VERSION, 11);
  fd_write (&fd, m, sizeof m);
  if (fd_read (&fd, m, sizeof m) == -1 ||
      nfc_get32 (m) != NFC_CLASSIC_CLIENT_NAME ||
      fd_read (&fd, buf, nfc_get32 (m + 4) + nfc_get32 (m + 8)) == -1 ||
      fd_read (&fd, m, sizeof m) == -1 || nfc_get32 (m) != NFC_CLASSIC_FEATURES ||
      fd_read (&fd, m, sizeof m) == -1 || nfc_get32 (m) != NFC_CLASSIC_AIO_OPEN)
    return NULL;
  nfc_classic_encode (m, NFC_CLASSIC_AIO_OPEN, 0);
  fd_write (&fd, m, sizeof m);

  /* AIO frames until the client goes. */
  while (fd_read (&fd, in, sizeof in) == 0) {
    uint32_t type = nfc_get32 (in + 4), size = nfc_get32 (in + 8), op = nfc_get32 (in + 12);
    uint8_t out[64] = { 0 };

    if (fd_read (&fd, buf, size) == -1)
      break;
    switch (type) {
    case NFC_AIO_OPEN_SESSION: reply (h, type, op, out, 16); break;
    case NFC_AIO_SET_SOCK_OPTS: reply (h, type, op, out, 12); break;
    case NFC_AIO_SET_RES_POOL: reply (h, type, op, out, 0); break;
    case NFC_AIO_OPEN_FILE:
      if (fd_read (&fd, buf + size, nfc_get32 (buf)) == -1)
        return NULL;
      if (h->fault == OPEN_REFUSED) {
        reply (h, NFC_AIO_ERROR, op, (const uint8_t *) "\x02\0\0\0No such "
               "file", 16);
        break;
      }
      nfc_put64 (out + 8, HANDLE);
      nfc_put32 (out + 36, 512);
      reply (h, type, op, out, 60);
      break;
    case NFC_AIO_IO:
      if (nfc_get64 (buf) != HANDLE)
        abort ();
      ops[n] = op;
      offsets[n] = nfc_get64 (buf + 16);
      lengths[n] = nfc_get32 (buf + 32);
      /* Two reads in flight are answered together, interleaved. */
      if (++n == 2) {
        answer_reads (h, ops, offsets, lengths, n);
        n = 0;
      }
      h->ios++;
      break;
    case NFC_AIO_CLOSE_FILE: case NFC_AIO_CLOSE_SESSION:
      break;
    }
  }
  return NULL;
}

struct run {
  int fds[2];
  struct host host;
  pthread_t thread;
  struct nfc_session *s;
};

static void
run_start (struct run *r, enum fault fault)
{
  struct nfc_stream st = { .opaque = &r->fds[0], .read = fd_read,
                           .write = fd_write };

  CU_ASSERT_FATAL (socketpair (AF_UNIX, SOCK_STREAM, 0, r->fds) == 0);
  r->host = (struct host) { .fd = r->fds[1], .fault = fault };
  CU_ASSERT_FATAL (pthread_create (&r->thread, NULL, host_thread,
                                   &r->host) == 0);
  r->s = nfc_session_start (&st, "esx1.example.com");
  CU_ASSERT_PTR_NOT_NULL_FATAL (r->s);
}

static void
run_end (struct run *r)
{
  nfc_session_end (r->s);
  close (r->fds[0]);
  pthread_join (r->thread, NULL);
  close (r->fds[1]);
}

/* Read two requests at once (300 KiB at 1 MiB + 512, 64 KiB at 40 MiB)
 * into guarded buffers; returns what nfc_session_read did, and checks
 * that no byte beyond the requests was written.
 */
static int
read_two (struct run *r, bool *right)
{
  const uint32_t len[2] = { 300 * 1024, 65536 };
  const uint64_t off[2] = { (1 << 20) + 512, 40 << 20 };
  struct nfc_request reqs[2];
  uint8_t *buf[2];
  int i, ret;
  uint32_t j;

  for (i = 0; i < 2; i++) {
    buf[i] = malloc (len[i] + 2);
    memset (buf[i], 0xee, len[i] + 2);
    reqs[i] = (struct nfc_request) { buf[i] + 1, off[i], len[i] };
  }
  ret = nfc_session_read (r->s, reqs, 2);
  *right = true;
  for (i = 0; i < 2; i++) {
    CU_ASSERT (buf[i][0] == 0xee && buf[i][len[i] + 1] == 0xee);
    for (j = 0; j < len[i]; j++)
      if (buf[i][j + 1] != disk_byte (off[i] + j))
        *right = false;
    free (buf[i]);
  }
  return ret;
}

static void
test_read (void)
{
  struct run r;
  bool right;

  run_start (&r, NONE);
  CU_ASSERT_EQUAL (nfc_session_open_disk (r.s, "[ds1] vm/vm-000002.vmdk"), 0);
  CU_ASSERT_EQUAL (read_two (&r, &right), 0);
  CU_ASSERT_TRUE (right);
  /* The session goes on: another batch. */
  CU_ASSERT_EQUAL (read_two (&r, &right), 0);
  CU_ASSERT_TRUE (right);
  run_end (&r);
  CU_ASSERT_EQUAL (r.host.ios, 4);
}

/* FAULT makes the read fail with a message holding WANT. */
static void
refused (enum fault fault, const char *want)
{
  struct run r;
  bool right;

  run_start (&r, fault);
  CU_ASSERT_EQUAL_FATAL (nfc_session_open_disk (r.s, "[ds1] vm/vm.vmdk"), 0);
  nbdkit_shim_clear_error ();
  CU_ASSERT_EQUAL (read_two (&r, &right), -1);
  if (!strstr (nbdkit_shim_last_error (), want))
    fprintf (stderr, "got: %s\nwanted: %s\n", nbdkit_shim_last_error (),
             want);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), want));
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (),
                                  "NFC host esx1.example.com: "));
  /* Broken: nothing more is read. */
  CU_ASSERT_EQUAL (read_two (&r, &right), -1);
  run_end (&r);
}

static void
test_faults (void)
{
  struct run r;

  refused (BAD_MAGIC, "magic 0xa100da85 (not 0xa100da7a) in reply to a "
           "read");
  refused (STRANGER_OP, "a reply for opId 999, which was never asked for");
  refused (REPEATED_FRAGMENT, "some of which came before");
  refused (OTHER_REQUEST, "in reply to one of");
  refused (HUGE_FRAGMENT, "1048576 bytes");

  run_start (&r, OPEN_REFUSED);
  nbdkit_shim_clear_error ();
  CU_ASSERT_EQUAL (nfc_session_open_disk (r.s, "[ds1] vm/gone.vmdk"), -1);
  CU_ASSERT_STRING_EQUAL (nbdkit_shim_last_error (),
                          "NFC host esx1.example.com: refused OPEN_FILE of "
                          "[ds1] vm/gone.vmdk: No such file");
  run_end (&r);
}

static const struct unit_test tests[] = {
  { "reads in batches", test_read },
  { "hostile hosts", test_faults },
  { NULL }
};

int
main (void)
{
  /* The scripted host writes on after a client that gave up. */
  signal (SIGPIPE, SIG_IGN);
  return unit_test_run ("nfc session", tests);
}
