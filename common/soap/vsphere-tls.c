/* The TLS policy (vsphere-tls.h) applied through OpenSSL, which libcurl
 * must be built with: a verify callback records the leaf certificate's
 * SHA-256 fingerprint for messages and, when a fingerprint is pinned,
 * decides alone, in place of the CA chain and host name.  The callback
 * finds its vs_tls_peer through an SSL_CTX index allocated once
 * (pthread_once); nothing else is shared.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <pthread.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/evp.h>

#include <nbdkit-plugin.h>

#include "vsphere-tls.h"

bool
vs_tls_parse_fingerprint (const char *s, struct vs_tls *tls)
{
  size_t n = 0;
  const char *p = s;

  while (*p) {
    if (*p == ':') {
      p++;
      continue;
    }
    if (!isxdigit ((unsigned char) p[0]) || !isxdigit ((unsigned char) p[1]) ||
        n == VS_FINGERPRINT_MAX)
      return false;
    sscanf (p, "%2hhx", &tls->pin[n++]);
    p += 2;
  }
  if (n != 20 && n != 32)
    return false;
  tls->pin_len = n;
  return true;
}

int
vs_tls_parse_thumbprint (const char *s, struct vs_tls *tls)
{
  if (vs_tls_parse_fingerprint (s, tls))
    return 0;
  nbdkit_error ("thumbprint=%s: expected a SHA-256 (32 bytes) or SHA-1 "
                "(20 bytes) fingerprint in hex, with or without colons", s);
  return -1;
}

/* "AB:CD:...", NUL-terminated, in 3 * LEN bytes.  Written digit by
 * digit rather than by sprintf: GCC's -fsanitize=nonnull-attribute
 * (part of -fsanitize=undefined) checks sprintf's destination for NULL
 * and, in its default recovering mode, then calls sprintf anyway, and
 * at -O1 -Wformat-overflow sees that invented path and fails -Werror
 * with "null destination pointer".
 */
int
vs_tls_for_host (const struct vs_tls *vcenter, const char *host,
                 const char *thumbprint, struct vs_tls *out)
{
  *out = *vcenter;
  out->pin_len = 0;
  out->past_vcenter = true;
  if (thumbprint && *thumbprint && out->verify &&
      !vs_tls_parse_fingerprint (thumbprint, out)) {
    nbdkit_error ("vCenter's thumbprint of host %s's certificate is not a "
                  "SHA-1 or SHA-256 fingerprint: %s", host, thumbprint);
    return -1;
  }
  return 0;
}

static void
format_fingerprint (const unsigned char *md, size_t len, char *out)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;

  for (i = 0; i < len; i++) {
    *out++ = hex[md[i] >> 4];
    *out++ = hex[md[i] & 0xf];
    *out++ = i + 1 < len ? ':' : '\0';
  }
}

static int peer_index = -1;
static pthread_once_t peer_index_once = PTHREAD_ONCE_INIT;

static void
alloc_peer_index (void)
{
  peer_index = SSL_CTX_get_ex_new_index (0, NULL, NULL, NULL, NULL);
}

/* Records the leaf certificate's fingerprint; when pinning, the pin
 * alone decides, otherwise OpenSSL's chain verification does.
 */
static int
verify_cb (int preverify_ok, X509_STORE_CTX *store)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store,
                                         SSL_get_ex_data_X509_STORE_CTX_idx ());
  struct vs_tls_peer *peer = SSL_CTX_get_ex_data (SSL_get_SSL_CTX (ssl),
                                                  peer_index);
  X509 *cert = X509_STORE_CTX_get0_cert (store);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len;
  bool leaf = X509_STORE_CTX_get_error_depth (store) == 0;

  if (!peer)
    return preverify_ok;
  if (cert && X509_digest (cert, EVP_sha256 (), md, &len))
    format_fingerprint (md, len, peer->sha256);

  if (peer->tls->pin_len == 0)
    return preverify_ok;
  if (!leaf)
    return 1;
  if (!cert ||
      !X509_digest (cert, peer->tls->pin_len == 32 ? EVP_sha256 () : EVP_sha1 (),
                    md, &len) ||
      len != peer->tls->pin_len ||
      memcmp (md, peer->tls->pin, len) != 0)
    return 0;
  X509_STORE_CTX_set_error (store, X509_V_OK);
  return 1;
}

/* Check peers on CTX by PEER's policy, recording what they show. */
static void
verify_peers (SSL_CTX *ctx, struct vs_tls_peer *peer)
{
  SSL_CTX_set_ex_data (ctx, peer_index, peer);
  if (peer->tls->pin_len > 0 || peer->tls->verify)
    SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, verify_cb);
}

static CURLcode
ssl_ctx_cb (CURL *h, void *ssl_ctx, void *userdata)
{
  verify_peers (ssl_ctx, userdata);
  return CURLE_OK;
}

static int
peer_index_ready (void)
{
  pthread_once (&peer_index_once, alloc_peer_index);
  if (peer_index < 0) {
    nbdkit_error ("OpenSSL: cannot allocate an SSL_CTX index");
    return -1;
  }
  return 0;
}

int
vs_tls_openssl_setup (SSL_CTX *ctx, struct vs_tls_peer *peer)
{
  const struct vs_tls *tls = peer->tls;

  if (peer_index_ready () == -1)
    return -1;
  peer->sha256[0] = '\0';
  if (tls->verify && tls->pin_len == 0 &&
      (tls->cainfo ? SSL_CTX_load_verify_locations (ctx, tls->cainfo, NULL)
       : SSL_CTX_set_default_verify_paths (ctx)) != 1) {
    nbdkit_error ("cainfo=%s: cannot load CA certificates",
                  tls->cainfo ? tls->cainfo : "(the system's)");
    return -1;
  }
  verify_peers (ctx, peer);
  return 0;
}

int
vs_tls_setup (CURL *h, struct vs_tls_peer *peer)
{
  const struct vs_tls *tls = peer->tls;
  /* A pinned certificate is the server's identity: the CA chain and
   * host name are then not what decides.
   */
  long verify = tls->verify && tls->pin_len == 0;

  if (peer_index_ready () == -1)
    return -1;
  peer->sha256[0] = '\0';
  if (curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, verify) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L)
      != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb) != CURLE_OK ||
      curl_easy_setopt (h, CURLOPT_SSL_CTX_DATA, peer) != CURLE_OK ||
      (tls->cainfo &&
       curl_easy_setopt (h, CURLOPT_CAINFO, tls->cainfo) != CURLE_OK)) {
    nbdkit_error ("libcurl does not support the TLS options needed "
                  "(it must be built with OpenSSL)");
    return -1;
  }
  return 0;
}

void
vs_tls_report (CURLcode r, const char *errbuf,
               const struct vs_tls_peer *peer,
               const char *what, const char *server)
{
  const char *detail = errbuf && *errbuf ? errbuf : curl_easy_strerror (r);
  bool tls_failure =
    r == CURLE_PEER_FAILED_VERIFICATION ||
    r == CURLE_SSL_CONNECT_ERROR ||
    r == CURLE_SSL_CACERT_BADFILE;

  if (!tls_failure) {
    nbdkit_error ("%s: %s: %s", server, what, detail);
    return;
  }
  if (peer->tls->past_vcenter && peer->sha256[0] && peer->tls->pin_len > 0)
    nbdkit_error ("transport=host: host %s's certificate (SHA-256 "
                  "fingerprint %s) is not the one vCenter knows for it "
                  "(summary.config.sslThumbprint): its certificate changed "
                  "since vCenter last connected to it, or host-address= "
                  "leads elsewhere; reconnect the host in vCenter, or read "
                  "through vCenter (transport=vcenter)", server, peer->sha256);
  else if (peer->tls->past_vcenter && peer->sha256[0])
    nbdkit_error ("transport=host: host %s's certificate could not be "
                  "verified (%s; SHA-256 fingerprint %s) and vCenter knows "
                  "no thumbprint for it: pass cainfo= with the CA that "
                  "signed it (VMCA's root certificate), or read through "
                  "vCenter (transport=vcenter)", server, detail, peer->sha256);
  else if (peer->tls->pin_len > 0 && peer->sha256[0])
    nbdkit_error ("%s: %s: the server's certificate does not match "
                  "thumbprint=; its SHA-256 fingerprint is %s. If you trust "
                  "this server, pass thumbprint=%s",
                  server, what, peer->sha256, peer->sha256);
  else if (peer->sha256[0])
    nbdkit_error ("%s: %s: TLS verification failed (%s). The server's "
                  "SHA-256 fingerprint is %s. If you trust this server, "
                  "pass thumbprint=%s, or cainfo=FILE with its CA "
                  "certificate",
                  server, what, detail, peer->sha256, peer->sha256);
  else
    nbdkit_error ("%s: %s: TLS handshake failed: %s", server, what, detail);
}
