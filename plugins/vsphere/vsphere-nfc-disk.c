/* One disk read over NFC (vsphere.h): a pool of connections to the
 * host, each with its own ticket and the disk opened on it, shared by
 * the readahead threads.  A read takes a free connection (waiting for
 * one), asks for its bytes as a batch of 1 MiB requests in flight, and
 * gives the connection back.  A connection that fails is closed and
 * the read tried once more on a fresh one: a request is answered whole
 * or the read fails, never a byte from a broken stream.  The lock
 * guards the pool's slots and their busy flags; a connection itself is
 * used by the one thread that holds its slot.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"

#define REQUEST_SIZE (1024 * 1024)

struct slot {
  struct vs_nfc_conn *conn;     /* NULL until first used, or after failing */
  bool busy;
};

struct vs_nfc_disk {
  struct vs_session *session;
  char *vm_ref;
  char *path;                   /* "[ds] dir/name.vmdk", as the snapshot has it */
  const char *host_address;
  bool ssl;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  size_t n;
  struct slot slot[];
};

struct vs_nfc_disk *
vs_nfc_disk_new (struct vs_session *s, const char *vm_ref, const char *path,
                 const char *host_address, bool ssl, unsigned connections)
{
  struct vs_nfc_disk *d = calloc (1, sizeof *d +
                                  connections * sizeof d->slot[0]);

  if (!d) {
    nbdkit_error ("out of memory");
    return NULL;
  }
  pthread_mutex_init (&d->lock, NULL);
  pthread_cond_init (&d->freed, NULL);
  d->n = connections;
  d->session = s;
  d->host_address = host_address;
  d->ssl = ssl;
  d->vm_ref = strdup (vm_ref);
  d->path = strdup (path);
  if (!d->vm_ref || !d->path) {
    nbdkit_error ("out of memory");
    vs_nfc_disk_free (d);
    return NULL;
  }
  return d;
}

/* A connection with the disk open, or NULL (reported). */
static struct vs_nfc_conn *
connect_disk (struct vs_nfc_disk *d)
{
  struct vs_nfc_conn *c = vs_nfc_connect (d->session, d->vm_ref,
                                          d->host_address, d->ssl);

  if (c && nfc_session_open_disk (vs_nfc_session (c), d->path) == -1) {
    vs_nfc_close (c);
    c = NULL;
  }
  return c;
}

int
vs_nfc_disk_check (struct vs_nfc_disk *d)
{
  struct vs_nfc_conn *c = connect_disk (d);

  if (!c)
    return -1;
  pthread_mutex_lock (&d->lock);
  d->slot[0].conn = c;
  pthread_mutex_unlock (&d->lock);
  return 0;
}

static struct slot *
take_slot (struct vs_nfc_disk *d)
{
  struct slot *s = NULL;
  size_t i;

  pthread_mutex_lock (&d->lock);
  while (!s) {
    /* An open connection first, then a slot to open one in. */
    for (i = 0; i < d->n && !s; i++)
      if (!d->slot[i].busy && d->slot[i].conn)
        s = &d->slot[i];
    for (i = 0; i < d->n && !s; i++)
      if (!d->slot[i].busy)
        s = &d->slot[i];
    if (!s)
      pthread_cond_wait (&d->freed, &d->lock);
  }
  s->busy = true;
  pthread_mutex_unlock (&d->lock);
  return s;
}

static void
give_slot (struct vs_nfc_disk *d, struct slot *s)
{
  pthread_mutex_lock (&d->lock);
  s->busy = false;
  pthread_cond_signal (&d->freed);
  pthread_mutex_unlock (&d->lock);
}

/* COUNT bytes at OFFSET on the slot's connection, opening one if
 * needed.  On failure the connection is closed.
 */
static int
read_on (struct vs_nfc_disk *d, struct slot *s, char *buf, uint32_t count,
         uint64_t offset)
{
  struct nfc_request reqs[NFC_BATCH_MAX];
  size_t n = 0;

  if (!s->conn && !(s->conn = connect_disk (d)))
    return -1;
  while (count > 0) {
    uint32_t len = count < REQUEST_SIZE ? count : REQUEST_SIZE;

    reqs[n++] = (struct nfc_request) { buf, offset, len };
    buf += len;
    offset += len;
    count -= len;
    if (n == NFC_BATCH_MAX || count == 0) {
      if (nfc_session_read (vs_nfc_session (s->conn), reqs, n) == -1) {
        vs_nfc_close (s->conn);
        s->conn = NULL;
        return -1;
      }
      n = 0;
    }
  }
  return 0;
}

int
vs_nfc_disk_pread (void *disk, void *buf, uint32_t count, uint64_t offset)
{
  struct vs_nfc_disk *d = disk;
  struct slot *s = take_slot (d);
  int r = read_on (d, s, buf, count, offset);

  /* Once more on a fresh connection and ticket: the host may have
   * dropped an idle one.
   */
  if (r == -1) {
    nbdkit_debug ("NFC: %s: retrying the read of %" PRIu32 " bytes at %"
                  PRIu64 " on a new connection", d->path, count, offset);
    r = read_on (d, s, buf, count, offset);
  }
  give_slot (d, s);
  if (r == -1)
    nbdkit_set_error (EIO);
  return r;
}

void
vs_nfc_disk_free (struct vs_nfc_disk *d)
{
  size_t i;

  if (!d)
    return;
  for (i = 0; i < d->n; i++)
    vs_nfc_close (d->slot[i].conn);
  pthread_cond_destroy (&d->freed);
  pthread_mutex_destroy (&d->lock);
  free (d->vm_ref);
  free (d->path);
  free (d);
}
