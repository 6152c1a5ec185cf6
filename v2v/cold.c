/* Route A of vsphere-v2v (v2v.h): one snapshot, an nbdkit serving
 * each of its disks on a port of localhost, each checked before
 * virt-v2v reads it, and virt-v2v run with the user's output options;
 * the servers are stopped and the snapshot removed on every path.
 * --print-xml without --state describes the disks as such exports.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libnbd.h>

#include "domain.h"
#include "tool-child.h"
#include "tool-messages.h"
#include "tool-nbdkit.h"
#include "tool-signals.h"
#include "tool-snapshot.h"
#include "v2v.h"

/* Connect once before virt-v2v does, so that a server that could not
 * open its disk is reported as itself, at once.
 */
static int
check_server (const struct tool_child *server, const struct vs_disk *disk)
{
  struct nbd_handle *nbd = nbd_create ();
  char port[16];
  int64_t size = -1;

  snprintf (port, sizeof port, "%d", server->port);
  if (nbd && nbd_connect_tcp (nbd, "127.0.0.1", port) == 0)
    size = nbd_get_size (nbd);
  if (size == -1)
    tool_error ("nbdkit serving %s: %s", disk->file, nbd_get_error ());
  else if (size != disk->capacity) {
    tool_error ("nbdkit serving %s has %" PRIi64 " bytes where vCenter says "
                "%" PRIi64, disk->file, size, disk->capacity);
    size = -1;
  }
  nbd_close (nbd);
  return size == -1 ? -1 : 0;
}

/* One nbdkit per disk, each on its own TCP port of localhost, since
 * virt-v2v 2.2 takes neither a Unix socket nor an export name.
 */
static int
serve_disks (struct v2v *v, const struct tool_snapshot *sn,
             struct tool_child *servers, struct v2v_source *sources)
{
  size_t i;

  for (i = 0; i < v->target.disks.len; i++) {
    char disk[48], name[48];
    const char *extra[] = { disk, NULL };
    struct tool_nbdkit how = {
      .vm_ref = v->target.vm_ref, .snapshot_ref = sn->ref,
      .extra = extra, .verbose = v->o->verbose,
      .guardian = sn->temp.guardian,
    };

    snprintf (disk, sizeof disk, "disk=%zu", i);
    snprintf (name, sizeof name, "nbdkit-disk-%zu", i);
    if (tool_nbdkit_start (&servers[i], &v->params, &how, NULL, name) == -1 ||
        check_server (&servers[i], &v->target.disks.ptr[i]) == -1)
      return -1;
    sources[i] = (struct v2v_source) {
      .kind = V2V_NBD, .port = servers[i].port, .format = "raw",
    };
    tool_info ("serving disk %zu \"%s\" on localhost port %d", i,
               v->target.disks.ptr[i].label
               ? v->target.disks.ptr[i].label : "", servers[i].port);
  }
  return 0;
}

static int
stop_servers (struct tool_child *servers, size_t n)
{
  size_t i;
  int r = 0;

  for (i = 0; servers && i < n; i++)
    if (tool_nbdkit_stop (&servers[i]) == -1)
      r = -1;
  return r;
}

int
v2v_cold (struct v2v *v)
{
  struct tool_snapshot sn = { .existing = false };
  struct tool_child *servers = NULL;
  struct v2v_source *sources = NULL;
  size_t n = 0;
  int r = -1;

  if (tool_snapshot_take (&sn, v->session, &v->params, &v->target,
                          v->o->snapshot) == -1 || tool_stopping () ||
      tool_snapshot_read_disks (&sn, v->session, &v->params,
                                &v->target) == -1 ||
      vs_hardware_get (v->session, v->target.vm_ref, sn.ref,
                       v->target.vm_name, &v->hw) == -1)
    goto out;
  n = v->target.disks.len;
  servers = calloc (n, sizeof *servers);
  sources = calloc (n, sizeof *sources);
  if (!servers || !sources) {
    tool_error ("out of memory");
    goto out;
  }
  if (serve_disks (v, &sn, servers, sources) == -1 || tool_stopping () ||
      v2v_write_domain (v, sources, v->xml) == -1)
    goto out;
  r = v2v_run_converter (v, v->xml);
 out:
  tool_signals_cleanup_phase ();
  if (stop_servers (servers, n) == -1)
    r = -1;
  if (tool_snapshot_remove (&sn, v->session, &v->target) == -1)
    r = -1;
  free (sn.ref);
  free (servers);
  free (sources);
  return r;
}

int
v2v_print_nbd (struct v2v *v)
{
  struct v2v_source *sources;
  size_t i;
  int r;

  if (v2v_read_live_vm (v) == -1)
    return -1;
  sources = calloc (v->target.disks.len, sizeof *sources);
  if (!sources) {
    tool_error ("out of memory");
    return -1;
  }
  for (i = 0; i < v->target.disks.len; i++)
    sources[i] = (struct v2v_source) {
      .kind = V2V_NBD, .port = v->o->nbd_port + i, .format = "raw",
    };
  r = v2v_write_domain (v, sources, "-");
  free (sources);
  return r;
}
