/* NFC connections to the host that runs a VM (vsphere.h): a ticket from
 * vCenter, TCP to the ticket's host (or host-address=), authd's banner,
 * TLS pinned to the host certificate's thumbprint from the ticket, the
 * SESSION/BANNER/THUMBPRINT_SHA2/PROXY lines, then the NFC session raw
 * on the socket (nfc) or inside a second TLS session (nfcssl).  Every
 * read and write waits at most timeout= for progress, so a host that
 * stalls fails the request instead of hanging it, and once nbdkit
 * serves, a wait is abandoned within a second of its shutting down.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"
#include "vsphere-nfc-ticket.h"
#include "vsphere-server.h"

/* authd's lines are short; a longer one is refused, not waited for. */
#define AUTHD_LINE_MAX 1024

struct vs_nfc_conn {
  int fd;
  SSL_CTX *ctx;
  SSL *authd;                   /* TLS to authd */
  SSL *nfc;                     /* NFC's own TLS (nfcssl), or NULL */
  int timeout_ms;
  char host[256];
  struct vs_tls tls;
  struct vs_tls_peer peer;
  struct nfc_session *session;
};

/* Set once nbdkit serves: nbdkit_nanosleep may be called then. */
static bool serving;

void
vs_nfc_serving (void)
{
  serving = true;
}

static int
fail (const struct vs_nfc_conn *c, const char *what, const char *detail)
{
  nbdkit_error ("NFC host %s: %s%s%s", c->host, what, detail ? ": " : "",
                detail ? detail : "");
  return -1;
}

/* Wait until the socket is ready for EVENTS, within the timeout, in
 * slices of a second so that a shutdown is noticed.  Returns 0, or -1
 * with errno ETIMEDOUT, ECANCELED (nbdkit gives up) or poll's.
 */
static int
poll_fd (struct vs_nfc_conn *c, short events)
{
  struct pollfd p = { .fd = c->fd, .events = events };
  int left = c->timeout_ms, r;

  for (;;) {
    r = poll (&p, 1, left < 1000 ? left : 1000);
    if (r > 0)
      return 0;
    if (r == -1 && errno != EINTR)
      return -1;
    if (r == 0) {
      left -= left < 1000 ? left : 1000;
      if (left == 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      /* Asked for no sleep, it says at once whether to give up. */
      if (serving && nbdkit_nanosleep (0, 0) == -1) {
        errno = ECANCELED;
        return -1;
      }
    }
  }
}

/* poll_fd, reporting what stopped the wait. */
static int
wait_fd (struct vs_nfc_conn *c, short events)
{
  if (poll_fd (c, events) == 0)
    return 0;
  if (errno == ETIMEDOUT)
    return fail (c, "no progress within timeout=", NULL);
  if (errno == ECANCELED)
    return fail (c, "abandoned: nbdkit is shutting down or the client "
                 "disconnected", NULL);
  return fail (c, "poll", strerror (errno));
}

/* One SSL_read or SSL_write of N bytes on SSL, or of the raw socket
 * when SSL is NULL, all of them, waiting for the socket as needed.
 */
static int
transfer (struct vs_nfc_conn *c, SSL *ssl, void *buf, size_t n, bool writing)
{
  char *p = buf;

  while (n > 0) {
    ssize_t r;
    int e = 0;

    if (ssl) {
      ERR_clear_error ();
      r = writing ? SSL_write (ssl, p, n) : SSL_read (ssl, p, n);
      if (r <= 0)
        e = SSL_get_error (ssl, r);
    }
    else {
      r = writing ? send (c->fd, p, n, MSG_NOSIGNAL) : recv (c->fd, p, n, 0);
      if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        e = writing ? SSL_ERROR_WANT_WRITE : SSL_ERROR_WANT_READ;
    }
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      if (wait_fd (c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT) == -1)
        return -1;
      continue;
    }
    if (r <= 0)
      return fail (c, r == 0 ? "the connection was closed" :
                   "the connection failed", r < 0 && !ssl ?
                   strerror (errno) : NULL);
    p += r;
    n -= r;
  }
  return 0;
}

static int
stream_read (void *opaque, void *buf, size_t n)
{
  struct vs_nfc_conn *c = opaque;

  return transfer (c, c->nfc, buf, n, false);
}

static int
stream_write (void *opaque, const void *buf, size_t n)
{
  struct vs_nfc_conn *c = opaque;

  return transfer (c, c->nfc, (void *) buf, n, true);
}

/* A TLS client session on the socket, verified by the policy. */
static SSL *
tls_start (struct vs_nfc_conn *c)
{
  SSL *ssl = SSL_new (c->ctx);
  int r, e;

  if (!ssl || SSL_set_fd (ssl, c->fd) != 1 ||
      (c->tls.pin_len == 0 && SSL_set1_host (ssl, c->host) != 1)) {
    fail (c, "cannot start TLS", NULL);
    SSL_free (ssl);
    return NULL;
  }
  for (;;) {
    ERR_clear_error ();
    r = SSL_connect (ssl);
    if (r == 1)
      return ssl;
    e = SSL_get_error (ssl, r);
    if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
        wait_fd (c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT) == -1)
      break;
  }
  if (c->tls.pin_len > 0)
    nbdkit_error ("NFC host %s: its certificate (SHA-256 fingerprint %s) is "
                  "not the one vCenter's ticket names", c->host,
                  c->peer.sha256[0] ? c->peer.sha256 : "unknown");
  else
    nbdkit_error ("NFC host %s: TLS verification failed (SHA-256 "
                  "fingerprint %s): pass cainfo= or sslverify=false",
                  c->host, c->peer.sha256[0] ? c->peer.sha256 : "unknown");
  SSL_free (ssl);
  return NULL;
}

/* One line of authd's, without its CR LF. */
static int
authd_line (struct vs_nfc_conn *c, SSL *ssl, char *line, size_t cap)
{
  size_t n = 0;
  char ch;

  for (;;) {
    if (transfer (c, ssl, &ch, 1, false) == -1)
      return -1;
    if (ch == '\n')
      break;
    if (n + 1 >= cap || n + 1 >= AUTHD_LINE_MAX)
      return fail (c, "authd sent a line that never ends", NULL);
    line[n++] = ch;
  }
  if (n > 0 && line[n - 1] == '\r')
    n--;
  line[n] = '\0';
  return 0;
}

/* Send COMMAND; unless REPLY is NULL, its answer must start with 2. */
static int
authd_command (struct vs_nfc_conn *c, const char *command, char *reply,
               size_t cap)
{
  char buf[AUTHD_LINE_MAX + 3];
  int n = snprintf (buf, sizeof buf, "%s\r\n", command);

  if (transfer (c, c->authd, buf, n, true) == -1 ||
      (reply && authd_line (c, c->authd, reply, cap) == -1))
    return -1;
  if (reply && reply[0] != '2') {
    nbdkit_error ("NFC host %s: authd refused %.*s: %s", c->host,
                  (int) strcspn (command, " "), command, reply);
    return -1;
  }
  return 0;
}

/* Connect C's socket, non-blocking from here on, to A within the
 * timeout; errno is set on failure.
 */
static int
connect_one (struct vs_nfc_conn *c, const struct addrinfo *a)
{
  socklen_t len = sizeof errno;

  c->fd = socket (a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  a->ai_protocol);
  if (c->fd == -1)
    return -1;
  if (connect (c->fd, a->ai_addr, a->ai_addrlen) == 0)
    return 0;
  if (errno != EINPROGRESS || poll_fd (c, POLLOUT) == -1)
    return -1;
  if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &errno, &len) == 0 &&
      errno == 0)
    return 0;
  return -1;
}

/* The host part of HOST, HOST:PORT, [ADDRESS] or [ADDRESS]:PORT (a bare
 * IPv6 address is taken whole): server= and host-address= name an
 * HTTPS port, while NFC's is the ticket's.
 */
static void
address_host (const char *address, char *host, size_t cap)
{
  const char *h;
  size_t len;

  vs_address_split (address, &h, &len);
  snprintf (host, cap, "%.*s", (int) len, h);
}

static int
tcp_connect (struct vs_nfc_conn *c, const char *address, int port)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
  char service[16], host[256];
  int r, err = 0;

  address_host (address, host, sizeof host);
  snprintf (service, sizeof service, "%d", port);
  r = getaddrinfo (host, service, &hints, &ai);
  if (r != 0)
    return fail (c, address, gai_strerror (r));
  for (a = ai; a; a = a->ai_next) {
    if (connect_one (c, a) == 0)
      break;
    err = errno;
    if (c->fd >= 0)
      close (c->fd);
    c->fd = -1;
  }
  freeaddrinfo (ai);
  if (c->fd == -1) {
    char what[64];

    snprintf (what, sizeof what, "cannot connect to its NFC port, %d", port);
    return fail (c, what, strerror (err));
  }
  return 0;
}

/* authd, up to where NFC starts. */
static int
authd (struct vs_nfc_conn *c, const struct vs_nfc_ticket *t, bool ssl)
{
  char line[AUTHD_LINE_MAX], cmd[AUTHD_LINE_MAX], proxy[AUTHD_LINE_MAX];

  if (authd_line (c, NULL, line, sizeof line) == -1)
    return -1;
  if (strncmp (line, "220 ", 4) != 0)
    return fail (c, "this is not authd; it said", line);
  c->authd = tls_start (c);
  if (!c->authd)
    return -1;
  snprintf (cmd, sizeof cmd, "SESSION %s", t->session_id);
  snprintf (proxy, sizeof proxy, "PROXY %s%s", t->service, ssl ? "ssl" : "");
  if (authd_command (c, cmd, NULL, 0) == -1 ||
      authd_command (c, "BANNER ", line, sizeof line) == -1 ||
      authd_command (c, "THUMBPRINT_SHA2 PlainText", line,
                     sizeof line) == -1 ||
      authd_command (c, proxy, line, sizeof line) == -1)
    return -1;
  if (strcasecmp (line, ssl ? "200 Connect ha-nfcssl"
                  : "200 Connect ha-nfc") != 0)
    return fail (c, "authd connected to something else", line);
  /* ha-nfc goes on raw; the TLS session to authd is left as it is. */
  if (ssl && !(c->nfc = tls_start (c)))
    return -1;
  return 0;
}

struct vs_nfc_conn *
vs_nfc_connect (struct vs_session *s, const char *vm_ref,
                const char *host_address, bool ssl)
{
  const struct vs_server *srv = vs_session_server (s);
  struct vs_nfc_conn *c = calloc (1, sizeof *c);
  struct vs_nfc_ticket t;
  struct nfc_stream stream = { .read = stream_read, .write = stream_write };

  if (!c) {
    nbdkit_error ("out of memory");
    return NULL;
  }
  c->fd = -1;
  c->timeout_ms = srv->timeout * 1000;
  if (vs_nfc_ticket_get (s, vm_ref, &t) == -1) {
    free (c);
    return NULL;
  }
  /* A standalone host's ticket may name no host: it is that host. */
  address_host (t.host ? t.host : srv->server, c->host, sizeof c->host);
  /* The host is known by the thumbprint vCenter gives with the ticket. */
  c->peer.tls = &c->tls;
  c->ctx = SSL_CTX_new (TLS_client_method ());
  stream.opaque = c;
  if (!c->ctx ||
      vs_tls_for_host (&srv->tls, c->host, t.ssl_thumbprint, &c->tls) == -1 ||
      vs_tls_openssl_setup (c->ctx, &c->peer) == -1 ||
      tcp_connect (c, host_address ? host_address : c->host, t.port) == -1 ||
      authd (c, &t, ssl) == -1 ||
      !(c->session = nfc_session_start (&stream, c->host))) {
    vs_nfc_ticket_free (&t);
    vs_nfc_close (c);
    return NULL;
  }
  vs_nfc_ticket_free (&t);
  return c;
}

struct nfc_session *
vs_nfc_session (struct vs_nfc_conn *c)
{
  return c->session;
}

void
vs_nfc_close (struct vs_nfc_conn *c)
{
  if (!c)
    return;
  nfc_session_end (c->session);
  SSL_free (c->nfc);
  SSL_free (c->authd);
  SSL_CTX_free (c->ctx);
  if (c->fd >= 0)
    close (c->fd);
  free (c);
}
