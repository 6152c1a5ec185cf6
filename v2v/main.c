/* vsphere-v2v: convert a vSphere VM with virt-v2v, straight from one
 * snapshot (cold) or from vsphere-sync's copies (warm).  See
 * vsphere-v2v(1).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "options.h"
#include "sync-lock.h"
#include "tool-child.h"
#include "tool-messages.h"
#include "tool-nbdkit.h"
#include "tool-options.h"
#include "tool-params.h"
#include "tool-signals.h"
#include "v2v.h"
#include "debug-flags.h"
#include "pause.h"
#include "nbdkit-shim.h"
#include "number.h"

#define DEFAULT_NBD_PORT 10809

static void
usage (FILE *f)
{
  fprintf (f,
"usage: vsphere-v2v [OPTIONS] -- server=HOST user=USER password=+FILE vm=VM\n"
"                   [PARAMETER=VALUE ...] -- VIRT-V2V-OPTIONS ...\n"
"       vsphere-v2v [OPTIONS] --in-place --state FILE -- server=... vm=VM\n"
"                   [-- VIRT-V2V-IN-PLACE-OPTIONS ...]\n"
"\n"
"Convert a vSphere VM with virt-v2v: every disk read from one snapshot\n"
"(cold), or vsphere-sync's copies converted in place (--in-place).\n"
"  --in-place           convert the outputs of --state in place\n"
"  --state FILE         vsphere-sync's state file\n"
"  --snapshot NAME      read this existing snapshot, not one of our own\n"
"  --print-xml          print the libvirt XML and stop: with --state, of\n"
"                       the copies; else of NBD servers on localhost\n"
"  --nbd-port PORT      with --print-xml: the first disk's port (default\n"
"                       %d, one more for each next disk)\n"
"  -h, --help           print this and exit\n"
"  -q, --quiet          print only errors (and what virt-v2v prints)\n"
"  -v, --verbose        debug messages\n"
"  -V, --version\n"
"See vsphere-v2v(1).\n", DEFAULT_NBD_PORT);
}

enum {
  OPT_IN_PLACE = 256, OPT_STATE, OPT_SNAPSHOT, OPT_PRINT_XML, OPT_NBD_PORT,
};

static const struct option long_options[] = {
  { "in-place", no_argument, NULL, OPT_IN_PLACE },
  { "state", required_argument, NULL, OPT_STATE },
  { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
  { "print-xml", no_argument, NULL, OPT_PRINT_XML },
  { "nbd-port", required_argument, NULL, OPT_NBD_PORT },
  TOOL_COMMON_LONG_OPTIONS
};

/* Returns 0, or 2 for a usage error (reported). */
static int
parse_options (int argc, char *argv[], struct v2v_options *o)
{
  bool seen[TOOL_OPTION_MAX] = { false };
  int64_t port;
  int c, end;

  o->nbd_port = DEFAULT_NBD_PORT;
  while ((c = getopt_long (argc, argv, "+" TOOL_COMMON_SHORT_OPTIONS, long_options, NULL)) != -1) {
    if (tool_option_again (c, long_options, seen))
      return 2;
    if (tool_common_option (c, &o->quiet, &o->verbose, usage))
      continue;
    switch (c) {
    case OPT_IN_PLACE: o->in_place = true; break;
    case OPT_STATE: o->state_file = optarg; break;
    case OPT_SNAPSHOT: o->snapshot = optarg; break;
    case OPT_PRINT_XML: o->print_xml = true; break;
    case OPT_NBD_PORT:
      if (vs_parse_int64 (optarg, 1, 65535, &port) == -1) {
        tool_error ("--nbd-port %s: expected a port from 1 to 65535",
                    optarg);
        return 2;
      }
      o->nbd_port = port;
      break;
    default: return tool_usage_error ();
    }
  }
  /* After the plugin parameters, a second "--" and what goes to
   * virt-v2v.
   */
  end = tool_params_args (argc, argv, optind, &o->params, &o->n_params);
  if (end == -1)
    return 2;
  if (end < argc) {
    o->v2v_args = &argv[end + 1];
    o->n_v2v_args = argc - end - 1;
  }
  if (o->in_place && !o->state_file) {
    tool_error ("--in-place converts vsphere-sync's copies: give --state "
                "FILE");
    return 2;
  }
  if (o->state_file && !o->in_place && !o->print_xml) {
    tool_error ("--state goes with --in-place or --print-xml");
    return 2;
  }
  if (o->snapshot && o->state_file) {
    tool_error ("--snapshot applies only to a cold conversion (without "
                "--state)");
    return 2;
  }
  if (o->print_xml && o->n_v2v_args) {
    tool_error ("--print-xml runs no virt-v2v: drop what follows the "
                "second --");
    return 2;
  }
  if (!o->print_xml && !o->in_place && o->n_v2v_args == 0) {
    tool_error ("give virt-v2v's output options after a second --, for "
                "example: -- -o local -os /var/tmp");
    return 2;
  }
  return 0;
}

static int
run (struct v2v *v)
{
  const struct v2v_options *o = v->o;

  /* What must work before anything is asked of vSphere. */
  if (!o->print_xml &&
      ((!o->in_place && tool_nbdkit_check (NULL) == -1) ||
       v2v_check_converter (v) == -1))
    return -1;
  v->session = vs_session_open (&v->params.server);
  if (!v->session ||
      vs_target_find_vm (v->session, &v->params.target, &v->target) == -1)
    return -1;
  if (o->print_xml)
    return o->state_file ? v2v_in_place (v) : v2v_print_nbd (v);
  /* Never beside a vsphere-sync cycle of the same VM: its snapshot, or
   * its writes to the copies being converted.
   */
  v->vm_lock = sync_lock_vm (v->params.server.server, v->target.vm_ref,
                             v->target.instance_uuid, v->target.vm_name);
  if (v->vm_lock == -1)
    return -1;
  return o->in_place ? v2v_in_place (v) : v2v_cold (v);
}

/* The XML and the log stay behind when the conversion failed. */
static void
remove_tmpdir (struct v2v *v, bool ok)
{
  if (!v->tmpdir[0])
    return;
  if (ok)
    unlink (v->xml);
  if (rmdir (v->tmpdir) == 0)
    return;
  if (!ok && (errno == ENOTEMPTY || errno == EEXIST))
    tool_info ("the domain XML and virt-v2v's log are kept in %s",
               v->tmpdir);
  else
    tool_debug ("rmdir %s: %m", v->tmpdir);
}

int
main (int argc, char *argv[])
{
  struct v2v_options o = { 0 };
  struct v2v v = { .o = &o, .vm_lock = -1 };
  bool ok, usage_error;
  int r;

  nbdkit_shim_set_messages (tool_verror, tool_vdebug);
  r = parse_options (argc, argv, &o);
  tool_messages_init (o.quiet, o.verbose);
  if (r != 0)
    return r;
  vs_debug_soap = o.verbose;
  if (tool_signals_install () == -1)
    return 1;
  vs_pause_stop_when (tool_waits_stop);
  if (tool_make_tmpdir (v.tmpdir, sizeof v.tmpdir) == -1)
    return 1;
  snprintf (v.xml, sizeof v.xml, "%s/domain.xml", v.tmpdir);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  xmlInitParser ();
  usage_error = tool_params_parse (o.params, o.n_params, o.snapshot, NULL,
                                   &v.params) == -1;
  ok = !usage_error && tool_signals_watch (tool_child_terminate_all) == 0 &&
    run (&v) == 0;
  tool_signals_unwatch ();
  if (!ok)
    tool_report_stop ();
  remove_tmpdir (&v, ok);
  if (v.vm_lock >= 0)
    close (v.vm_lock);
  vs_hardware_free (&v.hw);
  vs_target_free (&v.target);
  vs_session_close (v.session);
  tool_params_free (&v.params);
  xmlCleanupParser ();
  curl_global_cleanup ();
  return ok ? 0 : usage_error ? 2 : 1;
}
