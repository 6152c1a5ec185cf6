/* The server parameters (vsphere-server.h): parsing and checking them,
 * with their defaults (timeout=120, retries=5), and the one place a
 * curl handle is set up, so that every connection, SOAP or datastore
 * read, gets the same HTTPS-only, stall and TLS options.  A password
 * given on the command line draws a single warning.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-server.h"
#include "vsphere-secret.h"
#include "number.h"
#include "vsphere-xml.h"
#include "notice.h"

/* Bytes a second below which a transfer counts as stalled. */
#define VS_MIN_SPEED 1024L

void
vs_server_init (struct vs_server *srv)
{
  memset (srv, 0, sizeof *srv);
  srv->tls.verify = true;
  srv->timeout = 120;
  srv->retries = 5;
}

void
vs_server_clear (struct vs_server *srv)
{
  vs_free_secret (srv->password);
  srv->password = NULL;
}

static int
parse_uint (const char *key, const char *value, unsigned max, unsigned *ret)
{
  int64_t v;

  if (vs_parse_int64 (value, 0, max, &v) == -1) {
    nbdkit_error ("%s=%s: expected a whole number from 0 to %u",
                  key, value, max);
    return -1;
  }
  *ret = v;
  return 0;
}

const char *
vs_address_split (const char *address, const char **host, size_t *host_len)
{
  const char *close = address[0] == '[' ? strchr (address, ']') : NULL;
  const char *colon = strchr (address, ':');
  const char *h = address, *port = NULL;
  size_t len = strlen (address);

  if (close) {
    h = address + 1;
    len = close - h;
    port = close[1] == ':' ? close + 2 : NULL;
  }
  else if (colon && !strchr (colon + 1, ':')) {
    len = colon - address;
    port = colon + 1;
  }
  if (host)
    *host = h;
  if (host_len)
    *host_len = len;
  return port;
}

/* What is wrong with a server= value, or NULL if it is HOST, HOST:PORT,
 * [IPV6] or [IPV6]:PORT.
 */
static const char *
bad_server (const char *v)
{
  const char *port;
  int64_t n;

  if (*v == '\0')
    return "it is empty";
  if (strstr (v, "://"))
    return "it holds a URL scheme";
  if (strchr (v, '@'))
    return "it holds a user name (give it in user=)";
  if (strchr (v, '/'))
    return "it holds a path (the plugin adds /sdk and /folder itself)";
  if (strchr (v, '?'))
    return "it holds a query";
  if (strchr (v, '#'))
    return "it holds a fragment";
  if (*v == '[') {
    port = strchr (v, ']');
    if (!port || port == v + 1)
      return "its IPv6 address has no closing bracket";
    port++;
    if (*port != '\0' && *port != ':')
      return "something follows the bracketed IPv6 address";
  }
  else {
    port = strchr (v, ':');
    if (port && strchr (port + 1, ':'))
      return "an IPv6 address must be in brackets";
    if (port == v)
      return "the host name is empty";
  }
  if (port && *port == ':' && vs_parse_int64 (port + 1, 1, 65535, &n) == -1)
    return "the port is not a number from 1 to 65535";
  return NULL;
}

/* A literal password=VALUE, unlike +FILE, - and -FD, is printed by
 * nbdkit -v with every other parameter.
 */
static void
warn_literal_password (const char *value)
{
  static bool warned;

  if (value[0] == '-' || value[0] == '+' || warned)
    return;
  warned = true;
  vs_notice ("warning: password= given on the command line: other users "
             "can see it, and nbdkit -v prints it with the other "
             "parameters; use password=+FILE (or - to read it from the "
             "terminal, -FD from a file descriptor)");
}

int
vs_server_config (struct vs_server *srv, const char *key, const char *value)
{
  const char *why;
  unsigned u;
  int r;

  if (strcmp (key, "server") == 0) {
    if ((why = bad_server (value)) != NULL) {
      nbdkit_error ("server=%s: %s; write server=HOST or server=HOST:PORT "
                    "(an IPv6 address in brackets: server=[ADDRESS]:PORT)",
                    value, why);
      return -1;
    }
    srv->server = value;
  }
  else if (strcmp (key, "user") == 0)
    srv->user = value;
  else if (strcmp (key, "password") == 0) {
    vs_server_clear (srv);
    if (vs_read_password (value, &srv->password) == -1)
      return -1;
    warn_literal_password (value);
  }
  else if (strcmp (key, "thumbprint") == 0) {
    if (vs_tls_parse_thumbprint (value, &srv->tls) == -1)
      return -1;
  }
  else if (strcmp (key, "cainfo") == 0)
    srv->tls.cainfo = value;
  else if (strcmp (key, "sslverify") == 0) {
    if ((r = nbdkit_parse_bool (value)) == -1)
      return -1;
    srv->tls.verify = r;
  }
  else if (strcmp (key, "timeout") == 0) {
    if (parse_uint (key, value, 86400, &u) == -1)
      return -1;
    if (u == 0) {
      nbdkit_error ("timeout=0: the timeout must be at least 1 second");
      return -1;
    }
    srv->timeout = u;
  }
  else if (strcmp (key, "task-timeout") == 0) {
    if (parse_uint (key, value, 7 * 86400, &u) == -1)
      return -1;
    if (u == 0) {
      nbdkit_error ("task-timeout=0: the timeout must be at least 1 second");
      return -1;
    }
    srv->task_timeout = u;
  }
  else if (strcmp (key, "retries") == 0) {
    if (parse_uint (key, value, 100, &u) == -1)
      return -1;
    srv->retries = u;
  }
  else
    return 0;
  return 1;
}

long
vs_server_task_timeout (const struct vs_server *srv)
{
  return srv->task_timeout ? srv->task_timeout : 10 * srv->timeout;
}

int
vs_server_config_complete (const struct vs_server *srv)
{
  const char *missing = !srv->server ? "server" :
    !srv->user ? "user" : !srv->password ? "password" : NULL;

  if (missing) {
    nbdkit_error ("the %s= parameter is required "
                  "(see nbdkit-vsphere-plugin(1))", missing);
    return -1;
  }
  return 0;
}

CURL *
vs_curl_new (const struct vs_server *srv, const struct vs_tls *tls,
             struct vs_tls_peer *peer, char *errbuf)
{
  CURL *h = curl_easy_init ();

  if (!h) {
    nbdkit_error ("curl_easy_init failed");
    return NULL;
  }
  peer->tls = tls ? tls : &srv->tls;
  errbuf[0] = '\0';
  /* A stalled transfer is one that moves less than VS_MIN_SPEED bytes a
   * second for the whole timeout: a server trickling a few bytes a
   * second is cut as surely as a silent one, while a long transfer over
   * a slow link, far above that, is never cut.
   */
  if (curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, srv->timeout) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, VS_MIN_SPEED) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, srv->timeout) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_USERAGENT,
                        PACKAGE_NAME "/" PACKAGE_VERSION) != CURLE_OK ||
      vs_tls_setup (h, peer) == -1) {
    nbdkit_error ("cannot set up a curl handle");
    curl_easy_cleanup (h);
    return NULL;
  }
  return h;
}
