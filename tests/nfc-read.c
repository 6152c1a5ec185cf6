/* Read a disk over NFC as the plugin's NFC transport does, for the
 * tests (test-vsphere-nfc.sh):
 *
 *   nfc-read [--ssl] [--host-address ADDR] VMREF PATH OFFSET LENGTH \
 *            server=... user=... password=... [thumbprint=...]
 *
 * writes LENGTH bytes of the disk at datastore path PATH from OFFSET to
 * standard output, reading up to four 1 MiB requests at a time.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include <nbdkit-plugin.h>

#include "nbdkit-shim.h"
#include "number.h"
#include "vsphere.h"
#include "vsphere-server.h"

#define CHUNK (1024 * 1024)
#define BATCH 4

static void
say (const char *fs, va_list args)
{
  fprintf (stderr, "nfc-read: ");
  vfprintf (stderr, fs, args);
  fputc ('\n', stderr);
}

static int
copy (struct nfc_session *nfc, uint64_t offset, uint64_t length)
{
  static char buf[BATCH][CHUNK];
  struct nfc_request reqs[BATCH];
  size_t n, i;

  while (length > 0) {
    for (n = 0; n < BATCH && length > 0; n++) {
      uint32_t len = length < CHUNK ? length : CHUNK;

      reqs[n] = (struct nfc_request) { buf[n], offset, len };
      offset += len;
      length -= len;
    }
    if (nfc_session_read (nfc, reqs, n) == -1)
      return -1;
    for (i = 0; i < n; i++)
      if (fwrite (reqs[i].buf, 1, reqs[i].length, stdout) != reqs[i].length)
        return -1;
  }
  return 0;
}

int
main (int argc, char *argv[])
{
  struct vs_server srv;
  struct vs_session *s = NULL;
  struct vs_nfc_conn *c = NULL;
  const char *host_address = NULL;
  bool ssl = false;
  uint64_t offset, length;
  int i = 1, r = 1;

  nbdkit_shim_set_messages (say, NULL);
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp (argv[i], "--ssl") == 0)
      ssl = true;
    else if (strcmp (argv[i], "--host-address") == 0 && i + 1 < argc)
      host_address = argv[++i];
  }
  if (argc - i < 4 ||
      vs_parse_uint64 (argv[i + 2], UINT64_MAX, &offset) == -1 ||
      vs_parse_uint64 (argv[i + 3], UINT64_MAX, &length) == -1) {
    fprintf (stderr, "usage: nfc-read [--ssl] [--host-address ADDR] VMREF "
             "PATH OFFSET LENGTH PARAM=VALUE...\n");
    return 2;
  }
  curl_global_init (CURL_GLOBAL_DEFAULT);
  xmlInitParser ();
  vs_server_init (&srv);
  for (int k = i + 4; k < argc; k++) {
    char *eq = strchr (argv[k], '=');

    if (!eq)
      goto out;
    *eq = '\0';
    if (vs_server_config (&srv, argv[k], eq + 1) != 1)
      goto out;
  }
  if (vs_server_config_complete (&srv) == -1 ||
      !(s = vs_session_open (&srv)) ||
      !(c = vs_nfc_connect (s, argv[i], host_address, ssl)) ||
      nfc_session_open_disk (vs_nfc_session (c), argv[i + 1]) == -1 ||
      copy (vs_nfc_session (c), offset, length) == -1)
    goto out;
  r = 0;

 out:
  vs_nfc_close (c);
  vs_session_close (s);
  vs_server_clear (&srv);
  xmlCleanupParser ();
  curl_global_cleanup ();
  return r;
}
