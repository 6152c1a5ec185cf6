/* Datastore reads over HTTPS (vsphere.h).  The pool opens curl handles
 * lazily, up to its limit; p->lock guards the free list, the count and
 * the abandoning flag, and p->freed wakes a thread waiting for a
 * handle.  A read is retried with backoff, a stall only once, a
 * rejected cookie with one login, and abandoned when nbdkit shuts down
 * or its client leaves.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"
#include "debug-flags.h"

#define COOKIE_MAX 1024
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
/* A transfer that got less than STALL_BYTES in STALL_MS is stalled;
 * a stalled one checks this often whether it is still wanted.
 */
#define STALL_BYTES 1024
#define STALL_MS 1000
#define SHUTDOWN_POLL_MS 100

struct conn {
  CURL *curl;
  struct vs_tls_peer peer;
  char errbuf[CURL_ERROR_SIZE];
  struct conn *next;            /* in the free list */
};

struct vs_http_pool {
  struct vs_session *session;
  const struct vs_server *srv;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  struct conn *free_list;
  unsigned created, max;
  bool serving;                 /* nbdkit_nanosleep may be called */
  bool abandoning;              /* a stalled read was abandoned */
  bool direct;                  /* from the host, with service tickets */
  const char *host;             /* the host's name, if direct */
  struct vs_tls host_tls;       /* how the host is trusted, if direct */
  struct curl_slist *connect_to; /* where the host is, if given */
};

struct vs_http_pool *
vs_http_pool_new (struct vs_session *s, unsigned connections)
{
  struct vs_http_pool *p = calloc (1, sizeof *p);

  if (!p) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  p->session = s;
  p->srv = vs_session_server (s);
  p->max = connections;
  pthread_mutex_init (&p->lock, NULL);
  pthread_cond_init (&p->freed, NULL);
  return p;
}

void
vs_http_pool_free (struct vs_http_pool *p)
{
  struct conn *c, *next;

  if (!p)
    return;
  for (c = p->free_list; c; c = next) {
    next = c->next;
    curl_easy_cleanup (c->curl);
    free (c);
  }
  curl_slist_free_all (p->connect_to);
  pthread_cond_destroy (&p->freed);
  pthread_mutex_destroy (&p->lock);
  free (p);
}

int
vs_http_pool_direct (struct vs_http_pool *p, const char *host,
                     const char *thumbprint, const char *connect_to)
{
  char *entry = NULL;
  const char *colon = connect_to ? strrchr (connect_to, ':') : NULL;

  if (vs_tls_for_host (&p->srv->tls, host, thumbprint, &p->host_tls) == -1)
    return -1;
  p->direct = true;
  p->host = host;
  nbdkit_debug ("host %s: its certificate is %s", host,
                p->host_tls.pin_len > 0 ? "pinned to vCenter's thumbprint"
                : p->host_tls.verify ? "verified by the CAs" : "not verified");
  if (!connect_to)
    return 0;
  /* curl's HOST:PORT:ADDRESS:PORT, the URL keeping the host's name. */
  if (asprintf (&entry, "%s:443:%.*s:%s", host,
                (int) (colon ? (size_t) (colon - connect_to) : strlen (connect_to)),
                connect_to, colon ? colon + 1 : "443") == -1 ||
      !(p->connect_to = curl_slist_append (NULL, entry))) {
    nbdkit_error ("out of memory");
    free (entry);
    return -1;
  }
  free (entry);
  return 0;
}

void
vs_http_pool_serving (struct vs_http_pool *p)
{
  p->serving = true;
}

/* Whether nbdkit is shutting down or this request's client went away:
 * nbdkit_nanosleep reports either at once when asked for no sleep.
 */
static bool
abandoned (const struct vs_http_pool *p)
{
  return p->serving && nbdkit_nanosleep (0, 0) == -1;
}

/* Take a connection, opening one if the pool is not full, else waiting
 * for one to be returned.  NULL if none could be opened, or (*GONE set)
 * if the request was abandoned meanwhile.
 */
static struct conn *
acquire (struct vs_http_pool *p, bool *gone)
{
  struct conn *c = NULL;
  bool create = false;

  pthread_mutex_lock (&p->lock);
  for (;;) {
    /* An abandoned read wakes every waiter: those abandoned too fail
     * now, together, rather than one by one as connections come back
     * (nbdkit 1.32 may crash replying while its client hangs up), and
     * none starts a request that would have to stall to notice.
     */
    if (p->abandoning && (*gone = abandoned (p))) {
      /* A wakeup may have been meant for a connection: pass it on. */
      pthread_cond_signal (&p->freed);
      pthread_mutex_unlock (&p->lock);
      return NULL;
    }
    if (p->free_list || p->created < p->max)
      break;
    pthread_cond_wait (&p->freed, &p->lock);
  }
  if (p->free_list) {
    c = p->free_list;
    p->free_list = c->next;
  }
  else {
    p->created++;
    create = true;
  }
  pthread_mutex_unlock (&p->lock);

  if (create) {
    c = calloc (1, sizeof *c);
    if (c && (c->curl = vs_curl_new (p->srv, p->direct ? &p->host_tls : NULL,
                                     &c->peer, c->errbuf)) == NULL) {
      free (c);
      c = NULL;
    }
    if (!c) {
      nbdkit_error ("cannot open a connection to %s", p->srv->server);
      pthread_mutex_lock (&p->lock);
      p->created--;
      pthread_cond_signal (&p->freed);
      pthread_mutex_unlock (&p->lock);
    }
  }
  return c;
}

/* Return C to the pool; WAKE_ALL after an abandoned read. */
static void
release (struct vs_http_pool *p, struct conn *c, bool wake_all)
{
  pthread_mutex_lock (&p->lock);
  c->next = p->free_list;
  p->free_list = c;
  if (wake_all)
    pthread_cond_broadcast (&p->freed);
  else
    pthread_cond_signal (&p->freed);
  pthread_mutex_unlock (&p->lock);
}

/* Percent-encode S, keeping unreserved characters and those in KEEP.
 * TWICE encodes the result again, which only turns each '%' into "%25".
 */
static void
encode (FILE *fp, const char *s, const char *keep, bool twice)
{
  for (; *s; s++) {
    unsigned char c = *s;

    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || strchr ("-._~", c) ||
        (keep && strchr (keep, c)))
      fputc (c, fp);
    else
      fprintf (fp, twice ? "%%25%02X" : "%%%02X", c);
  }
}

/* vCenter decodes the query once more than HTTP asks, the second time
 * as a form ('+' is a space, '&' and '=' split), so a name holding one
 * of those or '%' must be encoded twice.  Other names are left as every
 * server reads them.
 */
static void
encode_query_value (FILE *fp, const char *s)
{
  encode (fp, s, NULL, strpbrk (s, "+%&=") != NULL);
}

char *
vs_folder_url (const char *server, const char *dc_path, const char *ds_name,
               const char *path)
{
  char *url = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&url, &len);

  if (!fp) {
    nbdkit_error ("out of memory");
    return NULL;
  }
  fprintf (fp, "https://%s/folder/", server);
  encode (fp, path, "/", false);
  if (dc_path) {
    fprintf (fp, "?dcPath=");
    encode_query_value (fp, dc_path);
  }
  fprintf (fp, dc_path ? "&dsName=" : "?dsName=");
  encode_query_value (fp, ds_name);
  if (fclose (fp) == EOF) {
    nbdkit_error ("out of memory");
    return NULL;
  }
  return url;
}

struct vs_http_file {
  struct vs_http_pool *pool;
  char *url, *name;
  struct vs_version v;          /* of the first answer; never changes */
  struct curl_slist *condition; /* If-Match or If-Unmodified-Since */
};

/* One ranged GET of [OFFSET, OFFSET+WANT) into BUF. */
struct transfer {
  CURL *curl;
  char *buf;
  size_t want, got;
  bool overflow;
  struct vs_version v;
  const struct vs_http_pool *pool;
  struct timespec progress_at;  /* when STALL_BYTES last arrived */
  curl_off_t progress_bytes;
  struct timespec polled;       /* last check for shutdown */
  bool shutdown;
  long status;                  /* the last answer's HTTP status, or 0 */
  /* If not NULL, where a failure the server answered with a status is
   * said instead of being reported.
   */
  char *refusal;
  size_t refusal_len;
};

static size_t
body_cb (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct transfer *t = opaque;
  size_t n = size * nmemb;
  long status = 0;

  /* Only a 206 body may land in the caller's buffer. */
  curl_easy_getinfo (t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 206)
    return n;
  if (n > t->want - t->got) {
    t->overflow = true;
    return 0;
  }
  memcpy (t->buf + t->got, ptr, n);
  t->got += n;
  return n;
}

static size_t
header_cb (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct transfer *t = opaque;

  vs_version_header (&t->v, ptr, size * nmemb);
  return size * nmemb;
}

static int64_t
ms_since (const struct timespec *then, const struct timespec *now)
{
  return (now->tv_sec - then->tv_sec) * 1000 +
    (now->tv_nsec - then->tv_nsec) / 1000000;
}

/* nbdkit 1.32 waits for the requests in flight before it exits, so a
 * stalled server would hold a SIGTERM for the whole timeout: abandon a
 * stalled transfer when nbdkit shuts down or the client goes away.  A
 * transfer that moves is left to finish, as nbdkit expects: failing
 * many requests at once makes clients hang up while nbdkit 1.32 still
 * replies, which can crash it (raw_send_socket assertion).
 */
static int
progress_cb (void *opaque, curl_off_t dltotal, curl_off_t dlnow,
             curl_off_t ultotal, curl_off_t ulnow)
{
  struct transfer *t = opaque;
  struct timespec now;

  if (!t->pool->serving)
    return 0;
  clock_gettime (CLOCK_MONOTONIC, &now);
  if (dlnow >= t->progress_bytes + STALL_BYTES) {
    t->progress_bytes = dlnow;
    t->progress_at = now;
  }
  if (ms_since (&t->progress_at, &now) < STALL_MS ||
      ms_since (&t->polled, &now) < SHUTDOWN_POLL_MS)
    return 0;
  t->polled = now;
  t->shutdown = abandoned (t->pool);
  return t->shutdown;
}

/* STALL: no progress for the timeout, retried once. */
enum outcome { DONE, RETRY, STALL, RENEW, FAIL };

static bool
transient (CURLcode r)
{
  switch (r) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_PARTIAL_FILE:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return true;
  default:
    return false;
  }
}

/* Judge an answer with STATUS that is not 206.  F is NULL while the
 * file is being opened.
 */
static enum outcome
judge_status (struct vs_http_pool *p, const struct vs_http_file *f,
              long status, uint64_t offset, char *msg, size_t msglen)
{
  switch (status) {
  case 200:
    snprintf (msg, msglen, "the server answered 200 to a range request "
              "(it ignored the Range header); refusing to use the bytes");
    return FAIL;
  case 401:
    if (p->direct) {
      snprintf (msg, msglen, "HTTP 401: the ESXi host refused the service "
                "ticket vCenter issued for this read");
      return FAIL;
    }
    snprintf (msg, msglen, "HTTP 401: the session was not accepted");
    return RENEW;
  case 403:
    snprintf (msg, msglen, "HTTP 403: user %s may not read datastore files "
              "(needs the Datastore.Browse privilege)", p->srv->user);
    return FAIL;
  case 404:
    if (f)
      snprintf (msg, msglen, "the file was removed from the datastore while "
                "it was being read (HTTP 404): " VS_CHANGED_HINT);
    else
      snprintf (msg, msglen, "HTTP 404: the file does not exist on the "
                "datastore, or it is not readable over /folder "
                "(vSAN and vVol disks are not)");
    return FAIL;
  case 412:
    if (f)
      vs_version_refused (&f->v, msg, msglen);
    else
      snprintf (msg, msglen, "HTTP 412 to an unconditional request");
    return FAIL;
  case 416:
    snprintf (msg, msglen, "HTTP 416: the file ends before offset %" PRIu64
              "%s", offset, f ? ": " VS_CHANGED_HINT : "");
    return FAIL;
  case 500:
    snprintf (msg, msglen, "HTTP 500 from the server%s", f ? "" :
              " (ESXi answers so for a file it cannot open, such as the "
              "base extent under a running VM's snapshot: transport=auto "
              "or nfcssl reads the disk over NFC instead)");
    return RETRY;
  default:
    snprintf (msg, msglen, "HTTP %ld from the server", status);
    return status >= 500 ? RETRY : FAIL;
  }
}

/* Perform one attempt of reading T->want bytes at OFFSET of the file at
 * URL and judge it.  F is the file, or NULL while it is being opened
 * (then a shorter file is fine).  MSG receives what went wrong.
 */
static enum outcome
attempt (struct vs_http_pool *p, struct conn *c, const struct vs_http_file *f,
         const char *url, struct transfer *t, uint64_t offset,
         unsigned *gen, char *msg, size_t msglen)
{
  char cookie[COOKIE_MAX], range[64];
  long status = 0;
  CURLcode r;

  if (p->direct) {
    /* A ticket opens its URL once: one per GET, retries included. */
    if (vs_service_ticket (p->session, url, cookie, sizeof cookie,
                           msg, msglen) == -1)
      return FAIL;
  }
  else if (vs_session_cookie (p->session, cookie, sizeof cookie, gen) == -1) {
    snprintf (msg, msglen, "not logged in");
    return FAIL;
  }
  snprintf (range, sizeof range, "%" PRIu64 "-%" PRIu64,
            offset, offset + t->want - 1);
  t->curl = c->curl;
  t->pool = p;
  clock_gettime (CLOCK_MONOTONIC, &t->progress_at);
  t->progress_bytes = 0;
  t->got = 0;
  t->overflow = t->shutdown = false;
  memset (&t->v, 0, sizeof t->v);
  curl_easy_setopt (c->curl, CURLOPT_URL, url);
  curl_easy_setopt (c->curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (c->curl, CURLOPT_RANGE, range);
  curl_easy_setopt (c->curl, CURLOPT_HTTPHEADER, f ? f->condition : NULL);
  curl_easy_setopt (c->curl, CURLOPT_COOKIE, cookie);
  curl_easy_setopt (c->curl, CURLOPT_CONNECT_TO, p->connect_to);
  curl_easy_setopt (c->curl, CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt (c->curl, CURLOPT_WRITEDATA, t);
  curl_easy_setopt (c->curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (c->curl, CURLOPT_HEADERDATA, t);
  curl_easy_setopt (c->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt (c->curl, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt (c->curl, CURLOPT_NOPROGRESS, 0L);
  c->errbuf[0] = '\0';
  r = curl_easy_perform (c->curl);
  /* The cookie must not stay behind in the handle. */
  curl_easy_setopt (c->curl, CURLOPT_COOKIE, NULL);
  explicit_bzero (cookie, sizeof cookie);
  curl_easy_getinfo (c->curl, CURLINFO_RESPONSE_CODE, &status);
  t->status = r == CURLE_OK ? status : 0;
  if (vs_debug_http)
    nbdkit_debug ("http: GET %s bytes=%s: curl %d, HTTP %ld, %zu bytes",
                  url, range, (int) r, status, t->got);

  if (r == CURLE_WRITE_ERROR && t->overflow) {
    snprintf (msg, msglen, "the server sent more bytes than the range "
              "asked for");
    return FAIL;
  }
  if (r == CURLE_ABORTED_BY_CALLBACK && t->shutdown)
    return FAIL;
  if (r != CURLE_OK) {
    if (r == CURLE_PEER_FAILED_VERIFICATION || r == CURLE_SSL_CONNECT_ERROR ||
        r == CURLE_SSL_CACERT_BADFILE) {
      vs_tls_report (r, c->errbuf, &c->peer, "datastore read",
                     p->direct ? p->host : p->srv->server);
      snprintf (msg, msglen, "TLS failure");
      return FAIL;
    }
    snprintf (msg, msglen, "%s", c->errbuf[0] ? c->errbuf
              : curl_easy_strerror (r));
    return r == CURLE_OPERATION_TIMEDOUT ? STALL
      : transient (r) ? RETRY : FAIL;
  }
  if (status != 206)
    return judge_status (p, f, status, offset, msg, msglen);
  if (t->v.too_long) {
    snprintf (msg, msglen, "the server's ETag or Last-Modified is longer "
              "than %d bytes", VS_VALIDATOR_MAX - 1);
    return FAIL;
  }
  if (!t->v.has_range || t->v.first != offset ||
      t->v.last != offset + t->got - 1 || t->v.last >= t->v.total) {
    snprintf (msg, msglen, "the reply's Content-Range does not match the "
              "request %s (or the body was short)", range);
    return t->v.has_range ? FAIL : RETRY;
  }
  if (f && !vs_version_same (&f->v, &t->v, msg, msglen))
    return FAIL;
  if (f && t->got != t->want) {
    snprintf (msg, msglen, "short reply: %zu of %zu bytes", t->got, t->want);
    return RETRY;
  }
  return DONE;
}

/* Sleep before retry ATTEMPT_NO; false if nbdkit is shutting down. */
static bool
backoff (const struct vs_http_pool *p, unsigned attempt_no)
{
  unsigned ms = BACKOFF_FIRST_MS << (attempt_no < 10 ? attempt_no : 10);
  struct timespec ts;

  if (ms > BACKOFF_MAX_MS)
    ms = BACKOFF_MAX_MS;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  if (p->serving)
    return nbdkit_nanosleep (ts.tv_sec, ts.tv_nsec) == 0;
  nanosleep (&ts, NULL);
  return true;
}

/* Read T->want bytes at OFFSET of the file at URL (F, or NULL while
 * opening it), retrying what may pass.
 */
static int
fetch (struct vs_http_pool *p, const struct vs_http_file *f, const char *url,
       const char *name, struct transfer *t, uint64_t offset)
{
  static const char gone_msg[] = "abandoned: nbdkit is shutting down or "
    "the client disconnected";
  bool gone = false;
  struct conn *c = acquire (p, &gone);
  char msg[1024] = "";
  unsigned n, gen = 0;
  bool renewed = false, stalled = false;
  enum outcome o = FAIL;

  if (!c) {
    if (gone)
      nbdkit_error ("%s: reading %zu bytes at offset %" PRIu64 " %s",
                    name, t->want, offset, gone_msg);
    nbdkit_set_error (EIO);
    errno = EIO;
    return -1;
  }
  for (n = 0;;) {
    o = attempt (p, c, f, url, t, offset, &gen, msg, sizeof msg);
    if (o == DONE || o == FAIL)
      break;
    if (o == RENEW) {
      /* One new login per read: a second 401 is a real refusal. */
      if (renewed || vs_session_renew (p->session, gen) == -1)
        break;
      renewed = true;
      continue;
    }
    /* A stall may be a dropped connection, worth one more try on a new
     * one; a second means the server is stuck, and waiting out the
     * timeout again and again would hold the read for many times it.
     */
    if (o == STALL && stalled)
      break;
    stalled |= o == STALL;
    if (n == p->srv->retries)
      break;
    if (!backoff (p, n++)) {
      t->shutdown = true;
      o = FAIL;
      break;
    }
    nbdkit_debug ("%s: retrying read at offset %" PRIu64 " (%s)",
                  name, offset, msg);
  }
  if (t->shutdown) {
    pthread_mutex_lock (&p->lock);
    p->abandoning = true;
    pthread_mutex_unlock (&p->lock);
  }
  release (p, c, t->shutdown);
  if (o == DONE)
    return 0;
  /* 401 is about our session, not the file. */
  if (t->refusal && t->status && t->status != 206 && t->status != 401 &&
      !t->shutdown)
    snprintf (t->refusal, t->refusal_len, "%s", msg);
  else
    nbdkit_error ("%s: reading %zu bytes at offset %" PRIu64 " failed%s: %s",
                  name, t->want, offset,
                  o == RETRY ? " after all retries" : "",
                  t->shutdown ? gone_msg : msg);
  nbdkit_set_error (EIO);
  errno = EIO;
  return -1;
}

struct vs_http_file *
vs_http_file_open (struct vs_http_pool *p, const char *url, const char *name,
                   char *refusal, size_t refusal_len)
{
  struct vs_http_file *f = calloc (1, sizeof *f);
  char byte;
  struct transfer t = {
    .buf = &byte, .want = 1, .refusal = refusal, .refusal_len = refusal_len,
  };

  if (!f || !(f->url = strdup (url)) || !(f->name = strdup (name))) {
    nbdkit_error ("out of memory");
    vs_http_file_close (f);
    return NULL;
  }
  f->pool = p;
  if (fetch (p, NULL, url, name, &t, 0) == -1) {
    vs_http_file_close (f);
    return NULL;
  }
  f->v = t.v;
  if (vs_version_condition (&f->v, &f->condition) == -1) {
    vs_http_file_close (f);
    return NULL;
  }
  if (!f->condition)
    nbdkit_debug ("%s: the server sent neither ETag nor Last-Modified: "
                  "only a change of size can be noticed", name);
  return f;
}

void
vs_http_file_close (struct vs_http_file *f)
{
  if (!f)
    return;
  curl_slist_free_all (f->condition);
  free (f->url);
  free (f->name);
  free (f);
}

uint64_t
vs_http_file_size (const struct vs_http_file *f)
{
  return f->v.total;
}

int
vs_http_file_pread (struct vs_http_file *f, void *buf, size_t count,
                    uint64_t offset)
{
  struct transfer t = { .buf = buf, .want = count };

  return fetch (f->pool, f, f->url, f->name, &t, offset);
}
