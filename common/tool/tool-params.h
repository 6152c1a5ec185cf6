/* The plugin parameters after "--": those the tool needs itself
 * (the server, the VM, the snapshot options), and those it hands on to
 * nbdkit.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_PARAMS_H
#define TOOL_PARAMS_H

#include <stddef.h>

#include "vsphere-server.h"
#include "vsphere-stale.h"
#include "vsphere-target.h"

struct tool_params {
  struct vs_server server;
  struct vs_target_config target;
  enum vs_stale_policy stale;
  const char **forward;         /* KEY=VALUE for nbdkit, less the password */
  size_t n_forward;
};

/* The plugin parameters on the command line: after getopt, from
 * OPTIND to the next "--" or the end, and given after a "--".  Sets
 * *PARAMS and *N and returns where they end (ARGC, or the index of the
 * next "--"), or -1 with the usage error reported (none given, or not
 * after "--").
 */
int tool_params_args (int argc, char *argv[], int optind, char ***params,
                      size_t *n);

/* SNAPSHOT is --snapshot, or NULL for a snapshot of our own.
 * CHOOSE_DISKS names the tool's options that choose disks, which
 * disk= and file= point to, or is NULL.  Returns 0, or -1 with the
 * error reported (a usage error).
 */
int tool_params_parse (char **params, size_t n, const char *snapshot,
                       const char *choose_disks, struct tool_params *p);

void tool_params_free (struct tool_params *p);

#endif /* TOOL_PARAMS_H */
