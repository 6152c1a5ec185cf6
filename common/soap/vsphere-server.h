/* How to reach and log in to vCenter: the parameters shared by the
 * plugin and the filter, and the curl handles built from them.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_SERVER_H
#define VSPHERE_SERVER_H

#include <curl/curl.h>

#include "vsphere-tls.h"

struct vs_server {
  const char *server;           /* host or host:port */
  const char *user;
  char *password;
  struct vs_tls tls;
  long timeout;                 /* seconds without progress before failing */
  long task_timeout;            /* seconds a vCenter task may take; 0: default */
  unsigned retries;             /* retries of a failed read */
};

#define VS_SERVER_CONFIG_HELP \
  "server=<HOST>[:<PORT>]  (required) vCenter or ESXi host.\n" \
  "user=<USER>             (required) User name.\n" \
  "password=<PASSWORD>     (required) Password, or +FILE, - or -FD.\n" \
  "thumbprint=<SHA256>     Trust only the certificate with this fingerprint.\n" \
  "cainfo=<FILE>           CA certificates to verify the server with.\n" \
  "sslverify=false         Do not verify the server's certificate.\n" \
  "timeout=<SECONDS>       Give up on a stalled request after this long.\n" \
  "task-timeout=<SECONDS>  Give up on a vCenter task (taking or removing\n" \
  "                        the snapshot) after this long (10 x timeout).\n" \
  "retries=<N>             Retries of a failed read, with backoff."

/* ADDRESS as server= and host-address= take it: HOST, HOST:PORT,
 * [IPV6] or [IPV6]:PORT.  Returns its port (the digits after the
 * colon), or NULL; *HOST and *HOST_LEN, unless NULL, get its host,
 * without brackets.
 */
const char *vs_address_split (const char *address, const char **host,
                              size_t *host_len);

void vs_server_init (struct vs_server *srv);

/* Take KEY=VALUE if it is a server parameter: returns 1 if taken, 0 if
 * not a server parameter, -1 on a bad value (error reported).
 */
int vs_server_config (struct vs_server *srv, const char *key,
                      const char *value);

/* Wipe and free what vs_server_config read (the password). */
void vs_server_clear (struct vs_server *srv);

/* How long a vCenter task may take: task-timeout=, or ten times
 * timeout= since consolidating a snapshot can take long.
 */
long vs_server_task_timeout (const struct vs_server *srv);

/* Check that the required parameters were given. */
int vs_server_config_complete (const struct vs_server *srv);

/* A curl handle with the common options and the TLS policy TLS applied
 * (NULL: SRV's own).  TLS, PEER and ERRBUF (CURL_ERROR_SIZE) must
 * outlive the handle.
 */
CURL *vs_curl_new (const struct vs_server *srv, const struct vs_tls *tls,
                   struct vs_tls_peer *peer, char *errbuf);

#endif /* VSPHERE_SERVER_H */
