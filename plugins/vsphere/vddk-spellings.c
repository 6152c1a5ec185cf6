/* VDDK's parameter spellings (vddk-spellings.h): what they mean here,
 * from nbdkit-vddk-plugin(1) and VDDK's transport modes.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "notice.h"
#include "number.h"
#include "vddk-spellings.h"

/* Tuning of VDDK itself, which this plugin does not use. */
static const char *const vddk_only[] = {
  "libdir", "config", "nfchostport", "single-link", "unbuffered",
  "compression", "vimapiver", "cookie",
};

/* VDDK's transport modes, and ours for each (NULL: none, and why). */
static const struct {
  const char *mode, *transport, *why;
} modes[] = {
  { "nbd", "nfc", NULL },
  { "nbdssl", "nfcssl", NULL },
  { "file", NULL, "it opens the VMDK files on a local or NFS datastore "
    "through VDDK" },
  { "san", NULL, "it reads the disk's LUN directly, which needs VDDK on "
    "a machine with access to the SAN" },
  { "hotadd", NULL, "it attaches the disk to a proxy VM running VDDK" },
};

static const char *port;        /* port=, joined to server= at the end */

/* A datastore path, "[DS] PATH.vmdk", which VM names are not. */
static bool
is_datastore_path (const char *s)
{
  size_t len = strlen (s);

  return s[0] == '[' && strstr (s, "] ") &&
    len > 5 && strcmp (s + len - 5, ".vmdk") == 0;
}

/* transports=MODE:MODE...: the first mode this plugin has; those
 * before it are skipped with a warning, and every one must be VDDK's.
 */
static int
map_transports (const char *list, const char **transport)
{
  char *copy = strdup (list), *mode, *save = NULL;
  const char *chosen = NULL;
  size_t i, n = sizeof modes / sizeof modes[0];

  if (!copy) {
    nbdkit_error ("strdup: %m");
    return -1;
  }
  for (mode = strtok_r (copy, ":", &save); mode;
       mode = strtok_r (NULL, ":", &save)) {
    for (i = 0; i < n && strcmp (modes[i].mode, mode) != 0; i++)
      ;
    if (i == n) {
      nbdkit_error ("transports=%s: VDDK has no transport mode \"%s\" "
                    "(its modes are file, san, hotadd, nbdssl and nbd)",
                    list, mode);
      free (copy);
      return -1;
    }
    if (!chosen && modes[i].transport)
      chosen = modes[i].transport;
    else if (!chosen)
      vs_notice ("warning: transports=%s: VDDK's \"%s\" mode is skipped: "
                 "%s, and this plugin does not use VDDK", list, mode,
                 modes[i].why);
  }
  free (copy);
  if (!chosen) {
    nbdkit_error ("transports=%s: none of these VDDK modes can be used "
                  "without VDDK: give nbd or nbdssl (read over NFC, as "
                  "transport=nfc or nfcssl), or leave transports= out",
                  list);
    return -1;
  }
  *transport = chosen;
  return 0;
}

int
vddk_spelling (const char **key, const char **value)
{
  size_t i;
  int64_t n;
  int single;

  if (strcmp (*key, "vm") == 0 && is_datastore_path (*value)) {
    *key = "file";
    return 0;
  }
  if (strcmp (*key, "transports") == 0) {
    *key = "transport";
    return map_transports (*value, value);
  }
  if (strcmp (*key, "port") == 0) {
    if (vs_parse_int64 (*value, 1, 65535, &n) == -1) {
      nbdkit_error ("port=%s: expected a port from 1 to 65535", *value);
      return -1;
    }
    port = *value;
    return 1;
  }
  /* One link of the chain alone is other data than the disk: never
   * served as if it were the disk.
   */
  if (strcmp (*key, "single-link") == 0 &&
      (single = nbdkit_parse_bool (*value)) != 0) {
    if (single == -1)
      return -1;
    nbdkit_error ("single-link=%s: this plugin serves each disk as its "
                  "snapshot composes it, never one link of its chain "
                  "alone: leave single-link= out", *value);
    return -1;
  }
  for (i = 0; i < sizeof vddk_only / sizeof vddk_only[0]; i++)
    if (strcmp (*key, vddk_only[i]) == 0) {
      vs_notice ("warning: %s= is a setting of VDDK, which this plugin "
                 "does not use: ignored", *key);
      return 1;
    }
  return 0;
}

int
vddk_spellings_complete (struct vs_server *srv)
{
  static char joined[512];
  const char *given;

  if (!port || !srv->server)
    return 0;
  given = vs_address_split (srv->server, NULL, NULL);
  if (given) {
    if (strcmp (given, port) == 0)
      return 0;
    nbdkit_error ("port=%s and server=%s name two ports: give one", port,
                  srv->server);
    return -1;
  }
  /* server= was checked: an IPv6 address is in brackets already. */
  snprintf (joined, sizeof joined, "%s:%s", srv->server, port);
  srv->server = joined;
  return 0;
}
