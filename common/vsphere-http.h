/* Ranged reads of datastore files over HTTPS (the /folder endpoint),
 * through a bounded pool of keep-alive connections, with retries.
 */
#ifndef VSPHERE_HTTP_H
#define VSPHERE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "vsphere-soap.h"

struct vs_http_pool;

/* A pool of at most CONNECTIONS connections using session S's cookie. */
struct vs_http_pool *vs_http_pool_new (struct vs_session *s,
                                       unsigned connections);
void vs_http_pool_free (struct vs_http_pool *p);

/* The /folder URL of PATH on datastore DS_NAME in datacenter DC_PATH. */
char *vs_folder_url (const char *server, const char *dc_path,
                     const char *ds_name, const char *path);

/* Read exactly COUNT bytes at OFFSET of the file at URL into BUF.  NAME
 * names the file in messages.  Transient failures are retried with
 * backoff; on failure the error says what the server answered and
 * errno is EIO.
 */
int vs_http_pread (struct vs_http_pool *p, const char *url, const char *name,
                   void *buf, size_t count, uint64_t offset);

/* The size of the file at URL, from a one-byte ranged read. */
int vs_http_size (struct vs_http_pool *p, const char *url, const char *name,
                  uint64_t *size);

#endif /* VSPHERE_HTTP_H */
