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

/* Call once nbdkit serves (from .after_fork): from then on reads are
 * abandoned when nbdkit shuts down or their client goes away.  Before,
 * nbdkit cannot say so (nbdkit_nanosleep is not usable until then).
 */
void vs_http_pool_serving (struct vs_http_pool *p);

/* Read from the ESXi host HOST rather than through vCenter: each GET
 * presents a fresh service ticket (single-use, for its URL) instead of
 * the session cookie.  The host's certificate must have THUMBPRINT,
 * vCenter's record of it; with none (NULL), it is verified against the
 * CAs as vCenter's would be.  CONNECT_TO, if not NULL, is the
 * ADDRESS[:PORT] to connect to for HOST instead of what its name
 * resolves to.  Call before the pool's first read: its connections
 * keep the trust they were opened with.  Returns -1 with an error
 * reported.
 */
int vs_http_pool_direct (struct vs_http_pool *p, const char *host,
                         const char *thumbprint, const char *connect_to);

/* The /folder URL of PATH on datastore DS_NAME in datacenter DC_PATH
 * (NULL on an ESXi host addressed directly, which has one datacenter).
 */
char *vs_folder_url (const char *server, const char *dc_path,
                     const char *ds_name, const char *path);

/* One file on the datastore, read in ranges.  Opening it asks for its
 * first byte and keeps what the answer says the file is: its size, and
 * the ETag and Last-Modified the server sent, if any.  Every later
 * answer must say the same (and is asked for with If-Match or
 * If-Unmodified-Since), so that bytes of two versions of the file are
 * never mixed.  NAME names the file in messages.
 */
struct vs_http_file;

struct vs_http_file *vs_http_file_open (struct vs_http_pool *p,
                                        const char *url, const char *name);
void vs_http_file_close (struct vs_http_file *f);

uint64_t vs_http_file_size (const struct vs_http_file *f);

/* Read exactly COUNT bytes at OFFSET into BUF.  Transient failures are
 * retried with backoff; on failure (the file changed, the server
 * refused, nbdkit is shutting down) the error says why and errno is EIO.
 */
int vs_http_file_pread (struct vs_http_file *f, void *buf, size_t count,
                        uint64_t offset);

#endif /* VSPHERE_HTTP_H */
