/* nbdkit-vsphere-plugin: serve a vSphere VM's virtual disk read-only,
 * found through the vSphere API and read over the datastore /folder
 * HTTP interface.  No VDDK.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "vsphere.h"
#include "vddk-spellings.h"
#include "vsphere-cbt.h"
#include "vsphere-datastores.h"
#include "debug-flags.h"
#include "number.h"
#include "vsphere-server.h"
#include "vsphere-snapshot.h"
#include "vsphere-soap.h"
#include "vsphere-stale.h"
#include "vsphere-target.h"
#include "vsphere-temp-snapshot.h"
#include "vmdk-chain.h"

/* -D vsphere.soap=1: log each SOAP call.  -D vsphere.http=1: log each
 * datastore request.  Neither logs bodies, passwords or cookies.
 */
NBDKIT_DLL_PUBLIC int vsphere_debug_soap = 0;
NBDKIT_DLL_PUBLIC int vsphere_debug_http = 0;

#define DEFAULT_CONNECTIONS 8
#define MAX_CONNECTIONS 64
/* Read ahead in blocks of up to 4.25 MiB: each GET costs the server a
 * round trip and work of its own (ESXi limits them by count), and a
 * sequential copy then takes fewer than 256 GETs a GiB, the few that
 * open a disk included.  All the blocks together stay within the
 * budget, whatever connections= says.
 */
#define READAHEAD_BLOCK_MAX (4352 * 1024)
#define READAHEAD_BUDGET (9 * READAHEAD_BLOCK_MAX)

static struct vs_server server;
static struct vs_target_config target_config;
static unsigned connections = DEFAULT_CONNECTIONS;
/* transport=vcenter: read the VMDK files by /folder through vCenter;
 * host: by /folder from the ESXi host running the VM; nfc or nfcssl: by
 * NFC, the host opening the disk itself; auto: each disk by /folder
 * through vCenter if its files serve it, else by NFC over TLS.
 */
enum transport {
  TRANSPORT_AUTO, TRANSPORT_VCENTER, TRANSPORT_HOST, TRANSPORT_NFC,
  TRANSPORT_NFCSSL,
};
static const char *const transport_names[] = {
  "auto", "vcenter", "host", "nfc", "nfcssl",
};
static enum transport transport = TRANSPORT_AUTO;
static const char *host_address;
static struct vs_vm_host direct_host; /* that host */

static enum vs_stale_policy stale_policy = VS_STALE_REPORT;
static const char *export_pattern;      /* export=, or NULL */
static bool allocated_extents = true;   /* allocated-extents= */

static struct vs_session *session;
static struct vs_target target;
static struct vs_http_pool *pool;
static struct vs_readahead *readahead;
/* Where clients will read each disk, by disk index, if a filter knows. */
static struct {
  vs_plan_fn *fn;
  void *opaque;
} *plans;
static struct vs_exports *exports;
static struct vs_alloc **allocs;        /* by disk index, or NULL */
static struct vs_temp_snapshot created;  /* snapshot=create: ours */

/* A connection's export: one disk of the VM, and its reads. */
struct handle {
  const struct vs_disk *disk;
  struct vmdk_reader *reader;   /* NULL over NFC */
  struct vs_alloc *alloc;       /* NULL: flat extents are all data */
  struct vs_stream *stream;
};

static void
vsphere_load (void)
{
  vs_debug_soap = vsphere_debug_soap;
  vs_debug_http = vsphere_debug_http;
  vs_server_init (&server);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  xmlInitParser ();
}

/* Undo get_ready; safe to call twice since nbdkit may or may not call
 * unload after a failed get_ready.
 */
static void
release_all (void)
{
  size_t i;

  for (i = 0; allocs && i < target.disks.len; i++)
    vs_alloc_free (allocs[i]);
  free (allocs);
  allocs = NULL;
  vs_readahead_free (readahead);
  readahead = NULL;
  free (plans);
  plans = NULL;
  vs_exports_free (exports);
  exports = NULL;
  vs_http_pool_free (pool);
  pool = NULL;
  vs_vm_host_clear (&direct_host);
  vs_temp_snapshot_remove (&created, session, target.vm_ref,
                           target.vm_name ? target.vm_name : target_config.vm);
  vs_target_free (&target);
  vs_session_close (session);
  session = NULL;
}

static void
vsphere_unload (void)
{
  release_all ();
  vs_server_clear (&server);
  xmlCleanupParser ();
  curl_global_cleanup ();
}

/* The parameters given so far, by the key they mean here: nbdkit
 * would otherwise let the last of two win without a word.
 */
#define MAX_PARAMETERS 64
static struct given_parameter {
  const char *key, *as;
} given[MAX_PARAMETERS];
static size_t n_given;

/* KEY, given AS (its own name, or VDDK's), must come once. */
static int
given_once (const char *key, const char *as)
{
  size_t i;

  for (i = 0; i < n_given; i++) {
    if (strcmp (given[i].key, key) != 0)
      continue;
    if (strcmp (given[i].as, as) == 0)
      nbdkit_error ("%s= given twice: give it once", as);
    else
      nbdkit_error ("%s= and %s= both given, which mean the same here: "
                    "give one", given[i].as, as);
    return -1;
  }
  if (n_given < MAX_PARAMETERS)
    given[n_given++] = (struct given_parameter) { key, as };
  return 0;
}

static int
vsphere_config (const char *key, const char *value)
{
  const char *as = key;
  int r;
  int64_t n;

  if ((r = vddk_spelling (&key, &value)) == -1)
    return -1;
  /* A bare datastore path reaches us as vm=, which was not written. */
  if (strcmp (as, "vm") == 0)
    as = key;
  if (given_once (key, as) == -1)
    return -1;
  if (r == 1)
    return 0;
  if ((r = vs_server_config (&server, key, value)) != 0 ||
      (r = vs_target_config (&target_config, key, value)) != 0)
    return r == 1 ? 0 : -1;
  if (strcmp (key, "connections") == 0) {
    if (vs_parse_int64 (value, 1, MAX_CONNECTIONS, &n) == -1) {
      nbdkit_error ("connections=%s: expected a number from 1 to %d",
                    value, MAX_CONNECTIONS);
      return -1;
    }
    connections = n;
    return 0;
  }
  if (strcmp (key, "transport") == 0) {
    size_t i;

    for (i = 0; i < sizeof transport_names / sizeof *transport_names; i++)
      if (strcmp (value, transport_names[i]) == 0) {
        transport = i;
        return 0;
      }
    nbdkit_error ("transport=%s: expected auto, vcenter, host, nfc or "
                  "nfcssl", value);
    return -1;
  }
  if (strcmp (key, "host-address") == 0) {
    host_address = value;
    return 0;
  }
  if (strcmp (key, "remove-stale-snapshots") == 0)
    return vs_stale_parse (value, &stale_policy);
  if (strcmp (key, "export") == 0) {
    export_pattern = value;
    return 0;
  }
  if (strcmp (key, "allocated-extents") == 0) {
    if ((r = nbdkit_parse_bool (value)) == -1)
      return -1;
    allocated_extents = r;
    return 0;
  }
  if (strncmp (key, "cbt-", 4) == 0)
    nbdkit_error ("%s= is a parameter of the cbt filter: add --filter=cbt "
                  "(see nbdkit-cbt-filter(1))", key);
  else
    nbdkit_error ("unknown parameter '%s' (see nbdkit-vsphere-plugin(1))",
                  key);
  return -1;
}

static int
vsphere_config_complete (void)
{
  if (vddk_spellings_complete (&server) == -1 ||
      vs_server_config_complete (&server) == -1 ||
      vs_target_config_complete (&target_config) == -1)
    return -1;
  if (host_address && transport == TRANSPORT_VCENTER) {
    nbdkit_error ("host-address= is not used with transport=vcenter: it "
                  "says where to reach the ESXi host");
    return -1;
  }
  return 0;
}

#define vsphere_config_help \
  VS_SERVER_CONFIG_HELP "\n" \
  VS_TARGET_CONFIG_HELP "\n" \
  "connections=<N>         HTTPS connections to the datastore (default 8);\n" \
  "                        over NFC, connections per disk.\n" \
  "export=<WILDCARD>       Only the disks whose datastore path matches\n" \
  "                        may be opened as exports.\n" \
  "allocated-extents=false Block status of thin disks without asking\n" \
  "                        vSphere for their allocated areas.\n" \
  "transport=auto|vcenter|host|nfc|nfcssl\n" \
  "                        Read the disks through vCenter's /folder, from\n" \
  "                        the ESXi host running the VM, or over NFC (port\n" \
  "                        902), the host opening them.  auto (default):\n" \
  "                        /folder where the files serve the disk, else\n" \
  "                        nfcssl.\n" \
  "host-address=<ADDR>[:<PORT>]\n" \
  "                        Connect there for the ESXi host (NFC: the\n" \
  "                        ticket gives the port).\n" \
  "remove-stale-snapshots=true|all\n" \
  "                        With snapshot=create, remove temporary snapshots\n" \
  "                        that dead runs left on the VM.\n" \
  "nbdkit-vddk-plugin's port=, transports=, snapshot=MOREF and bare\n" \
  "\"[DS] PATH.vmdk\" are taken; its VDDK settings (libdir=, ...) ignored."

/* The snapshot to read from, taking one if asked.  NULL with *OK true:
 * read the live disk.
 */
static char *
choose_snapshot (bool *ok)
{
  char *ref;

  *ok = true;
  if (!target_config.snapshot)
    return NULL;
  if (vs_target_creates_snapshot (&target_config))
    ref = vs_temp_snapshot_take (&created, session, &server, target.vm_ref,
                                 target.vm_name, target_config.quiesce,
                                 stale_policy) == 0
      ? strdup (created.ref) : NULL;
  else
    ref = vs_snapshot_find (session, target.vm_ref, target.vm_name,
                            target_config.snapshot);
  *ok = ref != NULL;
  return ref;
}

/* Why disk D cannot be served at all, or NULL. */
static const char *
disk_refusal (const struct vs_disk *d)
{
  if (!d->file || d->file[0] != '[')
    return nbdkit_printf_intern ("disk \"%s\" of VM %s has no datastore "
                                 "file (%s): vSAN, vVol and raw LUN disks "
                                 "cannot be read through the datastore "
                                 "HTTP interface",
                                 d->label ? d->label : "", target.vm_name,
                                 d->file ? d->file : "none");
  if (target.snapshot_ref && target.powered_on && vs_disk_independent (d))
    return nbdkit_printf_intern ("disk %s of VM %s is independent (diskMode "
                                 "%s): a snapshot does not freeze it, so the "
                                 "running VM would change it while it is "
                                 "read; power the VM off to copy it, or "
                                 "make the disk dependent",
                                 d->file, target.vm_name, d->mode);
  /* Over NFC the host decrypts. */
  if (d->encrypted &&
      (transport == TRANSPORT_VCENTER || transport == TRANSPORT_HOST))
    return nbdkit_printf_intern ("disk %s of VM %s is encrypted (VM "
                                 "Encryption): its datastore files hold "
                                 "ciphertext, which transport=%s cannot "
                                 "decrypt, so it is not served: read it "
                                 "with transport=nfcssl or nfc (or leave "
                                 "transport= out), where the host decrypts "
                                 "it, or decrypt the VM first",
                                 d->file, target.vm_name,
                                 transport_names[transport]);
  if (d->backing && strstr (d->backing, "RawDiskMapping"))
    return nbdkit_printf_intern ("disk %s of VM %s is a raw device "
                                 "mapping: its data is on a LUN, not on the "
                                 "datastore", d->file, target.vm_name);
  return NULL;
}

static int
check_disk_kind (const struct vs_disk *d)
{
  const char *why = disk_refusal (d);

  if (why)
    nbdkit_error ("%s", why);
  return why ? -1 : 0;
}

/* How disk D is read, for its description and -v: "NFC over TLS
 * (transport=auto: WHY)", or NULL if out of memory.
 */
static const char *
read_over (const struct vs_disk *d)
{
  const struct vs_source *s = vs_exports_opened (exports, d);
  bool nfc = s ? s->via == VS_VIA_NFC
    : transport == TRANSPORT_NFC || transport == TRANSPORT_NFCSSL;
  const char *over = nfc ? (transport == TRANSPORT_NFC ? "NFC"
                            : "NFC over TLS")
    : transport == TRANSPORT_HOST ? "/folder from the ESXi host" : "/folder";

  if (!s || !s->why)
    return over;
  return nbdkit_printf_intern ("%s (transport=auto: %s)", over, s->why);
}

/* The export description of disk D (at most 4096 bytes, as NBD allows). */
static const char *
describe (const struct vs_disk *d)
{
  const char *snap = !target.snapshot_ref ? "live disk" :
    created.ref ? "temporary snapshot" : "snapshot";
  const char *name = created.ref ? created.name
    : target_config.snapshot;
  const char *over = read_over (d);
  const char *r;

  if (!over)
    return NULL;
  r = nbdkit_printf_intern ("VM %s (%s), disk %zu \"%s\" (key %d) %s, "
                            "%" PRIi64 " bytes, %s%s%s%s%s, "
                            "read over %s%s%s",
                            target.vm_name, target.vm_ref,
                            (size_t) (d - target.disks.ptr),
                            d->label ? d->label : "", d->key, d->file,
                            d->capacity, snap,
                            target.snapshot_ref ? " " : "",
                            target.snapshot_ref ? name : "",
                            target.snapshot_ref ? " " : "",
                            target.snapshot_ref ? target.snapshot_ref : "",
                            over,
                            d->change_id ? ", changeId " : "",
                            d->change_id ? d->change_id : "");
  if (r && strlen (r) > 4096)
    r = nbdkit_strndup_intern (r, 4096);
  return r;
}

static char *
datastore_for_volume (void *opaque, const char *volume)
{
  return vs_datastore_for_volume (session, target.vm_ref, volume);
}

/* Each disk's allocated areas, asked for only when block status is. */
static int
open_allocs (void)
{
  size_t i;

  allocs = calloc (target.disks.len, sizeof *allocs);
  if (!allocs) {
    nbdkit_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < target.disks.len; i++)
    allocs[i] = vs_alloc_new (session, target.vm_ref, target.snapshot_ref,
                              &target.disks.ptr[i]);
  return 0;
}

/* Open the default disk now, so that what stops it shows at start;
 * transport=auto opens every disk to choose how each is read.
 */
static int
open_disks (void)
{
  size_t i;

  if (!vs_exports_source (exports, target.disk))
    return -1;
  for (i = 0; i < target.disks.len; i++) {
    const struct vs_disk *d = &target.disks.ptr[i];

    if (transport == TRANSPORT_AUTO && vs_exports_allowed (exports, d) &&
        !disk_refusal (d) && !vs_exports_source (exports, d))
      return -1;
    if (vs_exports_opened (exports, d))
      nbdkit_debug ("%s: read over %s", d->file, read_over (d));
  }
  return 0;
}

static enum vs_via
via (void)
{
  switch (transport) {
  case TRANSPORT_AUTO: return VS_VIA_AUTO;
  case TRANSPORT_NFC: case TRANSPORT_NFCSSL: return VS_VIA_NFC;
  default: return VS_VIA_FOLDER;
  }
}

/* The block size: the largest whole number of 64 KiB within the budget
 * for one block per connection and one more.
 */
static uint32_t
readahead_block (void)
{
  uint32_t block = READAHEAD_BUDGET / (connections + 1) / 65536 * 65536;

  return block < READAHEAD_BLOCK_MAX ? block : READAHEAD_BLOCK_MAX;
}

/* transport=host: reads go to the VM's host, addressed by its name. */
static int
setup_direct (struct vmdk_location *loc)
{
  if (vs_session_service (session)->esxi) {
    nbdkit_error ("transport=host: %s is an ESXi host already; reads go "
                  "to it without vCenter", server.server);
    return -1;
  }
  if (vs_vm_host (session, target.vm_ref, &direct_host) == -1 ||
      vs_http_pool_direct (pool, direct_host.name, direct_host.thumbprint,
                           host_address) == -1)
    return -1;
  nbdkit_debug ("reading from host %s%s%s with service tickets",
                direct_host.name, host_address ? " at " : "",
                host_address ? host_address : "");
  loc->server = direct_host.name;
  loc->dc_path = NULL;
  return 0;
}

static int
vsphere_get_ready (void)
{
  struct vs_exports_nfc nfc;
  struct vmdk_location loc;
  char *snap;
  bool ok;

  session = vs_session_open (&server);
  if (!session || vs_target_find_vm (session, &target_config, &target) == -1)
    goto fail;
  snap = choose_snapshot (&ok);
  if (!ok)
    goto fail;
  if (vs_target_find_disk (session, &target_config, &target, snap) == -1 ||
      check_disk_kind (target.disk) == -1)
    goto fail;
  pool = vs_http_pool_new (session, connections);
  /* One block per datastore connection, and one being handed out. */
  readahead = vs_readahead_new (connections, connections + 1,
                                readahead_block ());
  plans = calloc (target.disks.len, sizeof *plans);
  if (!pool || !readahead || !plans)
    goto fail;
  loc.server = server.server;
  loc.dc_path = target.dc_path;
  if (transport == TRANSPORT_HOST && setup_direct (&loc) == -1)
    goto fail;
  loc.file = NULL;
  loc.datastore_for_volume = datastore_for_volume;
  loc.opaque = NULL;
  nfc = (struct vs_exports_nfc) {
    .session = session, .vm_ref = target.vm_ref, .host_address = host_address,
    .ssl = transport != TRANSPORT_NFC, .connections = connections,
  };
  exports = vs_exports_new (&target.disks, target.disk, export_pattern, pool,
                            &loc, via (), &nfc, target.vm_name);
  if (!exports || open_disks () == -1 ||
      (allocated_extents && open_allocs () == -1))
    goto fail;
  if (!target.snapshot_ref && target.powered_on)
    fprintf (stderr, "nbdkit: vsphere: warning: VM %s is powered on and "
             "its live disk is being read: the image will not be "
             "consistent.  Use snapshot=create or snapshot=NAME.\n",
             target.vm_name);
  nbdkit_debug ("serving VM %s (%s): %zu disks, default %s",
                target.vm_name, target.vm_ref, target.disks.len,
                target.disk->file);
  return 0;

 fail:
  release_all ();
  return -1;
}

static int
vsphere_after_fork (void)
{
  vs_http_pool_serving (pool);
  vs_nfc_serving ();
  return vs_readahead_start (readahead);
}

static int
vsphere_list_exports (int readonly, int is_tls, struct nbdkit_exports *list)
{
  size_t i;

  for (i = 0; i < target.disks.len; i++) {
    const struct vs_disk *d = &target.disks.ptr[i];

    if (d->file && vs_exports_allowed (exports, d) &&
        nbdkit_add_export (list, d->file, describe (d)) == -1)
      return -1;
  }
  return 0;
}

static int
read_disk (void *reader, void *buf, uint32_t count, uint64_t offset)
{
  return vmdk_reader_pread (reader, buf, count, offset);
}

static void *
vsphere_open (int readonly)
{
  const char *name = nbdkit_export_name ();
  const struct vs_disk *d = vs_exports_find (exports, name ? name : "");
  const struct vs_source *src;
  struct handle *h;
  size_t i;

  if (!d || check_disk_kind (d) == -1 ||
      !(src = vs_exports_source (exports, d)))
    return NULL;
  h = malloc (sizeof *h);
  if (!h) {
    nbdkit_error ("malloc: %m");
    return NULL;
  }
  h->disk = d;
  h->alloc = allocs ? allocs[d - target.disks.ptr] : NULL;
  h->reader = src->reader;
  i = d - target.disks.ptr;
  if (src->via == VS_VIA_NFC)
    h->stream = vs_stream_new (readahead, vs_nfc_disk_pread, src->nfc,
                               d->capacity, plans[i].fn, plans[i].opaque);
  else
    h->stream = vs_stream_new (readahead, read_disk, h->reader,
                               vmdk_reader_size (h->reader),
                               plans[i].fn, plans[i].opaque);
  if (!h->stream) {
    free (h);
    return NULL;
  }
  return h;
}

static void
vsphere_close (void *handle)
{
  struct handle *h = handle;

  vs_stream_free (h->stream);
  free (h);
}

static int64_t
vsphere_get_size (void *handle)
{
  struct handle *h = handle;

  return h->reader ? vmdk_reader_size (h->reader) : h->disk->capacity;
}

static int
vsphere_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
               uint32_t flags)
{
  struct handle *h = handle;

  return vs_stream_pread (h->stream, buf, count, offset);
}

static int
vsphere_can_extents (void *h)
{
  return 1;
}

static int
vsphere_extents (void *handle, uint32_t count, uint64_t offset,
                 uint32_t flags, struct nbdkit_extents *extents)
{
  struct handle *h = handle;

  /* Over NFC there is no chain to ask: the allocated areas alone. */
  if (!h->reader)
    return h->alloc ? vs_alloc_extents (h->alloc, offset, count, extents)
      : nbdkit_add_extent (extents, offset, count, 0);
  return vmdk_reader_extents (h->reader, count, offset, extents,
                              h->alloc ? vs_alloc_extents : NULL, h->alloc);
}

/* One connection per disk is as fast: readahead keeps every datastore
 * connection busy for it.  More (nbdcopy opens up to four with
 * multi-conn) would each hold a request buffer and their own readahead,
 * wasted each time nbdcopy moves a connection to another part of the
 * disk.
 */
static int
vsphere_can_multi_conn (void *h)
{
  return 0;
}

static int
vsphere_can_cache (void *h)
{
  return NBDKIT_CACHE_NONE;
}

static const char *
vsphere_export_description (void *handle)
{
  struct handle *h = handle;

  return describe (h->disk);
}

NBDKIT_DLL_PUBLIC const struct vs_target *
vsphere_plugin_target (void)
{
  return session ? &target : NULL;
}

NBDKIT_DLL_PUBLIC int
vsphere_plugin_changed_areas (const struct vs_disk *d, const char *since,
                              struct vs_changes *out)
{
  struct vs_cbt_query q = {
    .vm_ref = target.vm_ref, .snapshot_ref = target.snapshot_ref,
    .device_key = d->key, .capacity = d->capacity, .change_id = since,
    .disk_name = d->file,
  };

  return vs_cbt_query (session, &q, out);
}

NBDKIT_DLL_PUBLIC int
vsphere_plugin_export_key (const char *name)
{
  const struct vs_disk *d = exports ? vs_exports_find (exports, name) : NULL;

  return d ? d->key : -1;
}

NBDKIT_DLL_PUBLIC void
vsphere_plugin_read_plan (int key, vs_plan_fn *fn, void *opaque)
{
  size_t i;

  for (i = 0; i < target.disks.len; i++)
    if (target.disks.ptr[i].key == key) {
      plans[i].fn = fn;
      plans[i].opaque = opaque;
    }
}

NBDKIT_DLL_PUBLIC void
vsphere_plugin_release (void)
{
  release_all ();
}

static void
vsphere_dump_plugin (void)
{
  curl_version_info_data *v = curl_version_info (CURLVERSION_NOW);

  printf ("vsphere_curl_version=%s\n", v->version);
  printf ("vsphere_ssl_version=%s\n", v->ssl_version ? v->ssl_version : "");
  printf ("vsphere_default_connections=%d\n", DEFAULT_CONNECTIONS);
  printf ("vsphere_extent_types=FLAT VMFS ZERO SPARSE VMFSSPARSE SESPARSE\n");
  printf ("vsphere_max_chain_depth=%d\n", VMDK_CHAIN_MAX);
  printf ("vsphere_vm_lookup=path moref uuid instance-uuid name\n");
  printf ("vsphere_snapshot=name moref create\n");
  printf ("vsphere_snapshot_guardian=yes\n");
  printf ("vsphere_exports=all-disks\n");
  printf ("vsphere_export_names=path index label\n");
  printf ("vsphere_allocated_extents=yes\n");
  printf ("vsphere_thumbprint=sha256 sha1\n");
  printf ("vsphere_transports=auto vcenter host nfc nfcssl\n");
  printf ("vsphere_default_transport=auto\n");
}

/* One request at a time per NBD connection: nbdkit 1.32 then keeps
 * one request buffer per connection, where in parallel mode each of
 * its --threads workers per connection keeps one (16 disks copied by
 * nbdcopy at once held 64 MiB that way).  Reads still run in parallel:
 * readahead keeps the datastore connections busy (vsphere-readahead.h).
 */
#define THREAD_MODEL NBDKIT_THREAD_MODEL_SERIALIZE_REQUESTS

static struct nbdkit_plugin plugin = {
  .name               = "vsphere",
  .longname           = "nbdkit VMware vSphere plugin (no VDDK)",
  .version            = PACKAGE_VERSION,
  .magic_config_key   = "vm",
  .load               = vsphere_load,
  .unload             = vsphere_unload,
  .config             = vsphere_config,
  .config_complete    = vsphere_config_complete,
  .config_help        = vsphere_config_help,
  .get_ready          = vsphere_get_ready,
  .after_fork         = vsphere_after_fork,
  .list_exports       = vsphere_list_exports,
  .open               = vsphere_open,
  .close              = vsphere_close,
  .get_size           = vsphere_get_size,
  .pread              = vsphere_pread,
  .can_extents        = vsphere_can_extents,
  .extents            = vsphere_extents,
  .can_multi_conn     = vsphere_can_multi_conn,
  .can_cache          = vsphere_can_cache,
  .export_description = vsphere_export_description,
  .dump_plugin        = vsphere_dump_plugin,
  .errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN (plugin)
