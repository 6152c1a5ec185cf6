/* The vsphere plugin's internal interfaces: one header for the files
 * of its read path, a section per file, in the order they build on
 * each other.  vsphere-link.h is what the cbt filter may call.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_PLUGIN_H
#define VSPHERE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "nfc-session.h"
#include "vsphere-disks.h"
#include "vsphere-link.h"
#include "vsphere-soap.h"

/* vsphere-http-version.c */

/* Which version of a datastore file an answer to a ranged GET comes
 * from: its Content-Range (the file's size) and its validators (ETag,
 * Last-Modified).  A file is read as the version its first answer
 * showed, or not at all.
 */

/* Longer ETag or Last-Modified values are refused. */
#define VS_VALIDATOR_MAX 256

/* What to do when a file changed while it was being read. */
#define VS_CHANGED_HINT \
  "the snapshot being read was removed or consolidated, or something " \
  "wrote to the file; copy again from a new snapshot (snapshot=create), " \
  "and keep others from removing it until the copy ends"

struct vs_version {
  bool has_range;
  uint64_t first, last, total;  /* from Content-Range */
  char etag[VS_VALIDATOR_MAX];  /* "" when the server sent none */
  char last_modified[VS_VALIDATOR_MAX];
  bool too_long;                /* a validator did not fit */
};

/* Take the header line LINE (N bytes, as curl passes it) into V.  A
 * status line starts the headers of another answer, and clears V.
 */
void vs_version_header (struct vs_version *v, const char *line, size_t n);

/* Whether answer NOW comes from the same version of the file as answer
 * FIRST; if not, MSG says what changed.
 */
bool vs_version_same (const struct vs_version *first,
                      const struct vs_version *now, char *msg, size_t msglen);

/* MSG for a 412: the server refused the condition built from FIRST. */
void vs_version_refused (const struct vs_version *first, char *msg,
                         size_t msglen);

/* The request header that makes the server refuse any other version
 * than FIRST (If-Match, else If-Unmodified-Since).  Sets *LIST to NULL
 * if FIRST has no validator.  -1 on allocation failure (reported).
 */
int vs_version_condition (const struct vs_version *first,
                          struct curl_slist **list);

/* vsphere-hostdirect.c */

/* Reading datastore files from the ESXi host that runs the VM rather
 * than through vCenter's /folder proxy: the host's name, and the
 * single-use service tickets that open one URL on it.
 */

/* The host running a VM (runtime.host). */
struct vs_vm_host {
  char *name;           /* its inventory name, how vCenter and clients
                         * reach it */
  char *thumbprint;     /* of its certificate, as vCenter knows it
                         * (summary.config.sslThumbprint), or NULL */
};

/* Find the host running VM_REF.  -1 with an error reported. */
int vs_vm_host (struct vs_session *s, const char *vm_ref,
                struct vs_vm_host *host);
void vs_vm_host_clear (struct vs_vm_host *host);

/* A cookie header ("vmware_cgi_ticket=...") good for one GET of URL,
 * from vCenter's AcquireGenericServiceTicket.  -1 with MSG set.
 */
int vs_service_ticket (struct vs_session *s, const char *url,
                       char *cookie, size_t len, char *msg, size_t msglen);

/* vsphere-http.c */

/* Ranged reads of datastore files over HTTPS (the /folder endpoint),
 * through a bounded pool of keep-alive connections, with retries.
 */

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
 * never mixed.  NAME names the file in messages.  If REFUSAL is not
 * NULL, a server that answers the first read with an HTTP status other
 * than 206 or 401 (the file is missing, forbidden or locked) is not an
 * error: NULL is returned with what it said in REFUSAL.
 */
struct vs_http_file;

struct vs_http_file *vs_http_file_open (struct vs_http_pool *p,
                                        const char *url, const char *name,
                                        char *refusal, size_t refusal_len);
void vs_http_file_close (struct vs_http_file *f);

uint64_t vs_http_file_size (const struct vs_http_file *f);

/* Read exactly COUNT bytes at OFFSET into BUF.  Transient failures are
 * retried with backoff; on failure (the file changed, the server
 * refused, nbdkit is shutting down) the error says why and errno is EIO.
 */
int vs_http_file_pread (struct vs_http_file *f, void *buf, size_t count,
                        uint64_t offset);

/* vsphere-readahead.c */

/* Sequential readahead by a fixed set of threads, within one memory
 * budget shared by every reader.
 *
 * The plugin serves each NBD connection one request at a time, so that
 * nbdkit keeps one request buffer per connection instead of one per
 * worker thread per connection: memory then grows with the number of
 * connections, not with --threads.  The parallelism the datastore needs
 * comes from here instead: while a stream reads sequentially, the
 * blocks that follow are fetched ahead by the readahead threads.
 */

/* Read exactly COUNT bytes at OFFSET of SRC; 0, or -1 (reported). */
typedef int vs_read_fn (void *src, void *buf, uint32_t count,
                        uint64_t offset);

struct vs_readahead;

/* THREADS readahead threads (started by vs_readahead_start) reading
 * into at most BLOCKS blocks of BLOCK_SIZE bytes (a multiple of 64 KiB, 1 MiB
 * or more), all streams together.
 * The blocks are kept for reuse until vs_readahead_free, so that memory
 * stays at most BLOCKS * BLOCK_SIZE, however malloc would fragment.
 */
struct vs_readahead *vs_readahead_new (unsigned threads, unsigned blocks,
                                       uint32_t block_size);

/* Start the threads: after nbdkit forks.  Until then, and if this
 * fails, a stream reads its blocks itself, one at a time.
 */
int vs_readahead_start (struct vs_readahead *ra);

/* Stop and join the threads; every stream must be freed before. */
void vs_readahead_free (struct vs_readahead *ra);

/* One client's reads of SRC, SIZE bytes long.  PLAN, if not NULL, says
 * where it will read; without one, a client reading sequentially is
 * expected to go on to the end.
 */
struct vs_stream;

struct vs_stream *vs_stream_new (struct vs_readahead *ra, vs_read_fn *read,
                                 void *src, uint64_t size,
                                 vs_plan_fn *plan, void *plan_opaque);
void vs_stream_free (struct vs_stream *s);

/* Read COUNT bytes at OFFSET, from what was read ahead where possible,
 * and read ahead further if the stream is sequential.
 */
int vs_stream_pread (struct vs_stream *s, void *buf, uint32_t count,
                     uint64_t offset);

/* vmdk-reader.c */

/* A VMDK disk on a datastore, read with ranged HTTP requests: the
 * chain of descriptors, extents and snapshot deltas down to the base.
 */

struct vmdk_reader;
struct nbdkit_extents;

/* Where a disk lives: the datastore file "[ds] dir/name.vmdk" in the
 * datacenter DC_PATH.  Parent hints may name a file by an absolute
 * /vmfs/volumes/VOLUME/... path: DATASTORE_FOR_VOLUME gives the name
 * of the datastore VOLUME (a name or a UUID) is, or NULL (reported).
 */
struct vmdk_location {
  const char *server;
  const char *dc_path;
  const char *file;
  char *(*datastore_for_volume) (void *opaque, const char *volume);
  void *opaque;
};

/* Open the disk and every layer below it.  CAPACITY is what vSphere
 * says the disk holds; a descriptor that disagrees is refused.  If
 * REFUSAL is not NULL and the files cannot serve the disk although the
 * host could read it as a disk (the host refuses a file, the disk is
 * encrypted, or a vSAN or vVol object), NULL is returned with *REFUSAL
 * saying why (to be freed), and no error is reported.  Other failures
 * are reported, with *REFUSAL NULL.
 */
struct vmdk_reader *vmdk_reader_open (struct vs_http_pool *pool,
                                      const struct vmdk_location *loc,
                                      int64_t capacity, char **refusal);
void vmdk_reader_close (struct vmdk_reader *r);

int64_t vmdk_reader_size (const struct vmdk_reader *r);

int vmdk_reader_pread (struct vmdk_reader *r, void *buf, uint32_t count,
                       uint64_t offset);

/* Block status of the bytes of flat extents, [OFFSET, OFFSET+LENGTH)
 * of the disk, which the VMDK layers cannot tell written from never
 * written: add their extents to EXTENTS.
 */
typedef int vmdk_flat_extents (void *opaque, uint64_t offset,
                               uint64_t length,
                               struct nbdkit_extents *extents);

/* Data where some layer has data; holes that read as zeros elsewhere.
 * FLAT, if not NULL, tells more of the bytes of flat extents, which are
 * otherwise data.
 */
int vmdk_reader_extents (struct vmdk_reader *r, uint32_t count,
                         uint64_t offset, struct nbdkit_extents *extents,
                         vmdk_flat_extents *flat, void *flat_opaque);

/* vsphere-exports.c */

/* Every disk of a VM as an NBD export of one nbdkit instance, all from
 * the same snapshot.  An export is named by the disk's datastore path
 * ("[ds] dir/name.vmdk", as nbdkit-vddk-plugin names them), its index
 * or its label; "" is the default disk.  A disk's source (its VMDK
 * reader, or over NFC its connections) is opened on first use, so many
 * disks cost little until they are read.
 */

struct vs_exports;

/* How the disks are read. */
enum vs_via {
  VS_VIA_FOLDER,                /* their VMDK files, over /folder */
  VS_VIA_NFC,                   /* over NFC, the host opening them */
  VS_VIA_AUTO,                  /* each by /folder if its files serve it,
                                   else by NFC */
};

/* How each disk's NFC connections are made (see vs_nfc_disk_new). */
struct vs_exports_nfc {
  struct vs_session *session;
  const char *vm_ref;
  const char *host_address;     /* or NULL */
  bool ssl;
  unsigned connections;
};

/* Exports for the disks of DISKS (which must outlive them), with DFLT
 * the default.  PATTERN, if not NULL, is export=: a wildcard (fnmatch,
 * '*' also matching '/') on the datastore path restricting which disks
 * may be opened.  Files are read through POOL, WHERE giving the server
 * and datacenter (its file is ignored); NFC, needed unless VIA is
 * VS_VIA_FOLDER, says how NFC connections are made.
 */
struct vs_exports *vs_exports_new (const struct vs_disks *disks,
                                   const struct vs_disk *dflt,
                                   const char *pattern,
                                   struct vs_http_pool *pool,
                                   const struct vmdk_location *where,
                                   enum vs_via via,
                                   const struct vs_exports_nfc *nfc,
                                   const char *vm_name);
void vs_exports_free (struct vs_exports *x);

/* Whether export= lets disk D be opened. */
bool vs_exports_allowed (const struct vs_exports *x, const struct vs_disk *d);

/* The disk export NAME opens, or NULL (reported, listing the exports). */
const struct vs_disk *vs_exports_find (const struct vs_exports *x,
                                       const char *name);

/* A disk's source: its VMDK reader, or its NFC connections. */
struct vs_source {
  enum vs_via via;              /* VS_VIA_FOLDER or VS_VIA_NFC */
  struct vmdk_reader *reader;   /* over /folder */
  struct vs_nfc_disk *nfc;      /* over NFC */
  char *why;                    /* transport=auto: why this transport */
};

/* Disk D's source, opened on first use (over NFC with one connection
 * made, so that what stops it shows then).  NULL on error (reported).
 */
const struct vs_source *vs_exports_source (struct vs_exports *x,
                                           const struct vs_disk *d);

/* Disk D's source if it is open, else NULL. */
const struct vs_source *vs_exports_opened (struct vs_exports *x,
                                           const struct vs_disk *d);

/* vsphere-alloc.c */

/* Block status of thin disks: vSphere's allocated areas of a disk
 * (QueryChangedDiskAreas with changeId "*", as of the snapshot read)
 * say which bytes of its flat extents were ever written; the rest reads
 * as zeros.  They are asked for a page at a time where block status is
 * asked, and kept in a small cache that the disk's connections share.
 * A disk that cannot say is all data, as without them.
 */

struct vs_alloc;
struct nbdkit_extents;

/* The allocated areas of disk D in snapshot SNAPSHOT_REF of VM VM_REF
 * (all of which must outlive them), or NULL if they cannot be had: no
 * snapshot, or no changeId on the disk (said with nbdkit_debug), or no
 * datastore file.
 */
struct vs_alloc *vs_alloc_new (struct vs_session *s, const char *vm_ref,
                               const char *snapshot_ref,
                               const struct vs_disk *d);
void vs_alloc_free (struct vs_alloc *a);

/* A vmdk_flat_extents for vs_alloc ALLOC: the allocated areas of
 * [OFFSET, OFFSET+LENGTH) are data, the rest holes that read as zeros.
 * Once vSphere fails to answer (said once, with nbdkit_debug), all of
 * it is data.
 */
int vs_alloc_extents (void *alloc, uint64_t offset, uint64_t length,
                      struct nbdkit_extents *extents);

/* vsphere-nfc.c */

/* An NFC connection to the host running VM_REF, through a ticket from
 * session S's server: to HOST_ADDRESS (host-address=) if not NULL,
 * else to the ticket's host; over nfcssl when SSL.  Returns NULL on
 * failure (reported).
 */
struct vs_nfc_conn;
struct vs_nfc_conn *vs_nfc_connect (struct vs_session *s, const char *vm_ref,
                                    const char *host_address, bool ssl);

/* The connection's NFC session (nfc-session.h). */
struct nfc_session *vs_nfc_session (struct vs_nfc_conn *c);

void vs_nfc_close (struct vs_nfc_conn *c);

/* From now on (nbdkit serves), a wait on a host is abandoned within
 * about a second when nbdkit shuts down or the client disconnects.
 */
void vs_nfc_serving (void);

/* vsphere-nfc-disk.c */

/* The disk at datastore path PATH of VM_REF, read over NFC through at
 * most CONNECTIONS connections (see vs_nfc_connect for the rest).
 * Connections open on first use; vs_nfc_disk_check opens one now, so
 * that what stops them shows at start.
 */
struct vs_nfc_disk;
struct vs_nfc_disk *vs_nfc_disk_new (struct vs_session *s, const char *vm_ref,
                                     const char *path,
                                     const char *host_address, bool ssl,
                                     unsigned connections);
int vs_nfc_disk_check (struct vs_nfc_disk *d);
/* A vs_read_fn: COUNT bytes at OFFSET of the disk, from any thread. */
int vs_nfc_disk_pread (void *disk, void *buf, uint32_t count,
                       uint64_t offset);
void vs_nfc_disk_free (struct vs_nfc_disk *d);

#endif /* VSPHERE_PLUGIN_H */
