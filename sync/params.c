#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "messages.h"
#include "params.h"

/* vsphere-sync chooses these itself. */
static const char *const refused[] = { "disk", "file", "snapshot", "export" };

/* The plugin's own parameters, handed on to it untouched. */
static const char *const plugin_only[] = { "connections", "allocated-extents" };

/* Used here, not handed on: nbdkit gets the VM and snapshot by moref. */
static const char *const kept[] = {
  "vm", "password", "quiesce", "remove-stale-snapshots"
};

static bool
among (const char *key, const char *const *list, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp (key, list[i]) == 0)
      return true;
  return false;
}

static int
parse_one (char *param, struct sync_params *p)
{
  char *eq = strchr (param, '=');
  const char *key = param, *value;
  int r;

  if (!eq || eq == param) {
    sync_error ("\"%s\" after -- is not a KEY=VALUE parameter of "
                "nbdkit-vsphere-plugin(1)", param);
    return -1;
  }
  *eq = '\0';
  value = eq + 1;
  if (among (key, refused, sizeof refused / sizeof refused[0])) {
    sync_error ("%s= cannot be given to vsphere-sync, which copies every "
                "disk from a snapshot of its own: use --disk for outputs "
                "and --snapshot for an existing snapshot", key);
    r = -1;
  }
  else if (strcmp (key, "remove-stale-snapshots") == 0)
    r = vs_stale_parse (value, &p->stale);
  else if ((r = vs_server_config (&p->server, key, value)) == 0 &&
           (r = vs_target_config (&p->target, key, value)) == 0 &&
           !among (key, plugin_only,
                   sizeof plugin_only / sizeof plugin_only[0])) {
    sync_error ("%s= is not a parameter of nbdkit-vsphere-plugin(1)", key);
    r = -1;
  }
  if (r != -1 && !among (key, kept, sizeof kept / sizeof kept[0])) {
    *eq = '=';
    p->forward[p->n_forward++] = param;
  }
  return r == -1 ? -1 : 0;
}

int
sync_params_parse (char **params, size_t n, const char *snapshot,
                   struct sync_params *p)
{
  size_t i;

  memset (p, 0, sizeof *p);
  vs_server_init (&p->server);
  p->stale = VS_STALE_REPORT;
  p->forward = calloc (n + 1, sizeof *p->forward);
  if (!p->forward) {
    sync_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < n; i++)
    if (parse_one (params[i], p) == -1)
      return -1;
  p->target.snapshot = snapshot ? snapshot : "create";
  if (vs_server_config_complete (&p->server) == -1 ||
      vs_target_config_complete (&p->target) == -1)
    return -1;
  return 0;
}

void
sync_params_free (struct sync_params *p)
{
  vs_server_clear (&p->server);
  free (p->forward);
  p->forward = NULL;
}
