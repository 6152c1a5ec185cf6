/* The plugin parameters after "--": those vsphere-sync needs itself
 * (the server, the VM, the snapshot options), and those it hands on to
 * nbdkit.
 */
#ifndef SYNC_PARAMS_H
#define SYNC_PARAMS_H

#include <stddef.h>

#include "vsphere-server.h"
#include "vsphere-stale.h"
#include "vsphere-target.h"

struct sync_params {
  struct vs_server server;
  struct vs_target_config target;
  enum vs_stale_policy stale;
  const char **forward;         /* KEY=VALUE for nbdkit, less the password */
  size_t n_forward;
};

/* SNAPSHOT is --snapshot, or NULL for a snapshot of our own.  Returns
 * 0, or -1 with the error reported (a usage error).
 */
int sync_params_parse (char **params, size_t n, const char *snapshot,
                       struct sync_params *p);

void sync_params_free (struct sync_params *p);

#endif /* SYNC_PARAMS_H */
