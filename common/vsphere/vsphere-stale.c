/* Stale temporary snapshots (vsphere-stale.h): the owner of each is
 * read from its description and judged by vsphere-owner.c.  A snapshot
 * whose owner is alive is never touched; the others are reported, and
 * removed as the policy allows.  Failing to list them is reported but
 * does not stop the caller, which goes on to take its own.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-stale.h"
#include "vsphere-owner.h"
#include "vsphere-snapshot.h"
#include "notice.h"

int
vs_stale_parse (const char *value, enum vs_stale_policy *p)
{
  int r;

  if (strcmp (value, "all") == 0) {
    *p = VS_STALE_REMOVE_ALL;
    return 0;
  }
  if ((r = nbdkit_parse_bool (value)) == -1)
    return -1;
  *p = r ? VS_STALE_REMOVE_DEAD : VS_STALE_REPORT;
  return 0;
}

struct check {
  struct vs_session *s;
  const char *vm_name;
  enum vs_stale_policy policy;
};

static void
check_one (void *opaque, const char *name, const char *ref,
           const char *description, const char *created)
{
  struct check *c = opaque;
  struct vs_owner o;
  enum vs_owner_state state = VS_OWNER_UNKNOWN;
  const char *product = vs_session_product (c->s);
  char who[512], hint[256];
  bool remove;

  if (vs_owner_parse (description, &o) == 0) {
    state = vs_owner_state (&o);
    snprintf (who, sizeof who, "host %s, pid %ld", o.host, o.pid);
  }
  else
    snprintf (who, sizeof who, "no owner recorded");
  if (state == VS_OWNER_ALIVE) {
    nbdkit_debug ("temporary snapshot %s (%s) belongs to a run still "
                  "alive (%s)", name, ref, who);
    return;
  }
  remove = c->policy == VS_STALE_REMOVE_ALL ||
    (c->policy == VS_STALE_REMOVE_DEAD && state == VS_OWNER_DEAD);
  if (remove)
    snprintf (hint, sizeof hint, "removing it (remove-stale-snapshots=)");
  else if (state == VS_OWNER_DEAD)
    snprintf (hint, sizeof hint, "remove it with remove-stale-snapshots=true, "
              "or delete it in %s", product);
  else
    snprintf (hint, sizeof hint, "if that run is over, remove it with "
              "remove-stale-snapshots=all, or delete it in %s", product);
  vs_notice ("warning: VM %s has a temporary snapshot %s (%s) taken %s by "
             "another run (%s), %s; %s",
           c->vm_name, name, ref, created[0] ? created : "at an unknown time",
           who, state == VS_OWNER_DEAD ? "which is no longer running"
           : "which may still be running elsewhere", hint);
  if (remove && vs_snapshot_remove (c->s, ref) == 0)
    vs_notice ("removed the stale temporary snapshot %s (%s)", name, ref);
}

void
vs_stale_check (struct vs_session *s, const char *vm_ref,
                const char *vm_name, enum vs_stale_policy p)
{
  struct check c = { s, vm_name, p };

  /* Failing to look is no reason not to copy: the error was reported. */
  vs_snapshot_list_temporary (s, vm_ref, check_one, &c);
}
