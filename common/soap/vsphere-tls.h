/* TLS policy for every connection to vCenter or an ESXi host: CA
 * verification by default, optional pinning by certificate
 * fingerprint, and reporting of the server's fingerprint when
 * verification fails.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_TLS_H
#define VSPHERE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

#define VS_FINGERPRINT_MAX 32
/* "AA:BB:..." for a SHA-256 digest, with the terminating NUL. */
#define VS_FINGERPRINT_STRLEN (VS_FINGERPRINT_MAX * 3)

struct vs_tls {
  bool verify;                  /* sslverify=, default true */
  const char *cainfo;           /* cainfo=, or NULL for system CAs */
  unsigned char pin[VS_FINGERPRINT_MAX]; /* thumbprint=, if pin_len > 0 */
  size_t pin_len;               /* 20 (SHA-1) or 32 (SHA-256) */
  /* An ESXi host read past vCenter (transport=host): the pin, if any,
   * is vCenter's record of the host's certificate, not thumbprint=.
   */
  bool past_vcenter;
};

/* What one connection saw of the server's certificate. */
struct vs_tls_peer {
  const struct vs_tls *tls;
  char sha256[VS_FINGERPRINT_STRLEN];   /* empty until a handshake */
};

/* Parse a SHA-256 or SHA-1 fingerprint in hex, with or without colons,
 * into TLS's pin.  false if S is not one.
 */
bool vs_tls_parse_fingerprint (const char *s, struct vs_tls *tls);

/* The same for thumbprint=S.  Returns -1 with an error. */
int vs_tls_parse_thumbprint (const char *s, struct vs_tls *tls);

/* OUT: the policy for ESXi host HOST, reached past vCenter (whose
 * policy is VCENTER), which records THUMBPRINT (may be NULL or empty)
 * for the host's certificate.  vCenter's thumbprint= pins vCenter, not
 * the host: vCenter, trusted already, vouches for the host's
 * certificate instead; when it records none, the host is verified by
 * the CAs, as vCenter is.  Returns 0, or -1 (reported) if THUMBPRINT is
 * not a fingerprint.
 */
int vs_tls_for_host (const struct vs_tls *vcenter, const char *host,
                     const char *thumbprint, struct vs_tls *out);

/* Apply the policy to an OpenSSL context of the caller's own (NFC's
 * authd), for a server whose name the caller checks when no pin is set
 * (SSL_set1_host).  PEER must outlive CTX.  Returns 0, or -1 (reported).
 */
struct ssl_ctx_st;
int vs_tls_openssl_setup (struct ssl_ctx_st *ctx, struct vs_tls_peer *peer);

/* Apply the policy to a curl handle.  PEER must outlive the handle. */
int vs_tls_setup (CURL *h, struct vs_tls_peer *peer);

/* Report a failed transfer with nbdkit_error, explaining TLS failures
 * with the server's fingerprint and what to pass to trust it.
 */
void vs_tls_report (CURLcode r, const char *errbuf,
                    const struct vs_tls_peer *peer,
                    const char *what, const char *server);

#endif /* VSPHERE_TLS_H */
