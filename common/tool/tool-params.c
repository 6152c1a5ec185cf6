/* Sorting the plugin parameters after "--" (tool-params.h): disk=,
 * file=, snapshot= and export= are refused, since the tool picks them;
 * the server and target parameters are parsed here; and all but vm=,
 * password=, quiesce= and remove-stale-snapshots= are handed on to
 * nbdkit as given.  Any other key is a usage error, found before nbdkit
 * starts.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "tool-messages.h"
#include "tool-params.h"

/* The tools choose these themselves. */
static const char *const refused[] = { "disk", "file", "snapshot", "export" };

/* The plugin's own parameters, handed on to it untouched. */
static const char *const plugin_only[] = {
  "connections", "allocated-extents", "transport", "host-address"
};

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

int
tool_params_args (int argc, char *argv[], int optind, char ***params,
                  size_t *n)
{
  int end;

  if (optind < argc && strcmp (argv[optind - 1], "--") != 0) {
    tool_error ("unexpected argument %s: the plugin parameters go after --",
                argv[optind]);
    return -1;
  }
  for (end = optind; end < argc && strcmp (argv[end], "--") != 0; end++)
    ;
  *params = &argv[optind];
  *n = end - optind;
  if (*n == 0) {
    tool_error ("no plugin parameters: give -- server=HOST user=USER "
                "password=+FILE vm=VM (see %s(1))",
                program_invocation_short_name);
    return -1;
  }
  return end;
}

static int
parse_one (char *param, const char *choose_disks, struct tool_params *p)
{
  char *eq = strchr (param, '=');
  const char *key = param, *value;
  int r;

  if (!eq || eq == param) {
    tool_error ("\"%s\" after -- is not a KEY=VALUE parameter of "
                "nbdkit-vsphere-plugin(1)", param);
    return -1;
  }
  *eq = '\0';
  value = eq + 1;
  if (choose_disks && (strcmp (key, "disk") == 0 ||
                       strcmp (key, "file") == 0)) {
    tool_error ("%s= cannot be given to %s, which reads the disks of the "
                "VM from one snapshot: choose disks with %s", key,
                program_invocation_short_name, choose_disks);
    r = -1;
  }
  else if (among (key, refused, sizeof refused / sizeof refused[0])) {
    tool_error ("%s= cannot be given to %s, which reads every disk of "
                "the VM from one snapshot of its own: use --snapshot for "
                "an existing snapshot", key, program_invocation_short_name);
    r = -1;
  }
  else if (strcmp (key, "remove-stale-snapshots") == 0)
    r = vs_stale_parse (value, &p->stale);
  else if ((r = vs_server_config (&p->server, key, value)) == 0 &&
           (r = vs_target_config (&p->target, key, value)) == 0 &&
           !among (key, plugin_only,
                   sizeof plugin_only / sizeof plugin_only[0])) {
    tool_error ("%s= is not a parameter of nbdkit-vsphere-plugin(1)", key);
    r = -1;
  }
  if (r != -1 && !among (key, kept, sizeof kept / sizeof kept[0])) {
    *eq = '=';
    p->forward[p->n_forward++] = param;
  }
  return r == -1 ? -1 : 0;
}

/* Whether PARAMS[I]'s key came before it (reported): the plugin
 * would refuse it, and here one would silently win.  The earlier ones
 * are parsed: their '=' may be a NUL by now.
 */
static bool
given_before (char **params, size_t i)
{
  size_t len = strcspn (params[i], "="), k;

  for (k = 0; k < i; k++)
    if (strncmp (params[k], params[i], len) == 0 &&
        (params[k][len] == '=' || params[k][len] == '\0') &&
        params[i][len] == '=') {
      tool_error ("%.*s= given twice after --: give it once", (int) len,
                  params[i]);
      return true;
    }
  return false;
}

int
tool_params_parse (char **params, size_t n, const char *snapshot,
                   const char *choose_disks, struct tool_params *p)
{
  size_t i;

  memset (p, 0, sizeof *p);
  vs_server_init (&p->server);
  p->stale = VS_STALE_REPORT;
  p->forward = calloc (n + 1, sizeof *p->forward);
  if (!p->forward) {
    tool_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < n; i++)
    if (given_before (params, i) || parse_one (params[i], choose_disks,
                                               p) == -1)
      return -1;
  p->target.snapshot = snapshot ? snapshot : "create";
  if (vs_server_config_complete (&p->server) == -1 ||
      vs_target_config_complete (&p->target) == -1)
    return -1;
  return 0;
}

void
tool_params_free (struct tool_params *p)
{
  vs_server_clear (&p->server);
  free (p->forward);
  p->forward = NULL;
}
