/* vsphere-sync: copy every disk of a vSphere VM, incrementally, from
 * one snapshot per cycle.  See vsphere-sync(1).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "copy.h"
#include "cycle.h"
#include "progress.h"
#include "tool-messages.h"
#include "tool-options.h"
#include "tool-params.h"
#include "options.h"
#include "tool-signals.h"
#include "debug-flags.h"
#include "pause.h"
#include "nbdkit-shim.h"
#include "number.h"

#define DEFAULT_CONNECTIONS 4
#define DEFAULT_CHECKPOINT 30

static void
usage (FILE *f)
{
  fprintf (f,
"usage: vsphere-sync [OPTIONS] -o DIR -- server=HOST user=USER password=+FILE\n"
"                    [thumbprint=SHA256] vm=VM [PARAMETER=VALUE ...]\n"
"       vsphere-sync [OPTIONS] --disk KEY|INDEX=PATH ... --state FILE -- ...\n"
"\n"
"One cycle of an incremental copy of every disk of a VM, from one\n"
"snapshot.  Options:\n"
"  -o, --output-dir DIR     one image per disk in DIR\n"
"      --disk KEY|INDEX=PATH  one disk's output (a file or block device)\n"
"      --only-disk DISK     copy only this disk (repeatable): its device\n"
"                           key, index (0 for the first) or label; the\n"
"                           state remembers the choice for later cycles\n"
"      --skip-disk DISK     copy every disk but this one (repeatable)\n"
"      --all-disks          copy every disk again, forgetting the choice\n"
"  -f, --format raw|qcow2   output format (default: the\n"
"                           recorded one, or raw)\n"
"      --overlay            each incremental cycle writes a new qcow2 overlay\n"
"      --state FILE         the state file (default DIR/VM.vsphere-sync.json)\n"
"      --snapshot NAME      copy from this existing snapshot\n"
"      --full               copy every disk in full\n"
"      --verify[=all]       compare what was copied (or everything) with\n"
"                           the snapshot before recording the cycle\n"
"      --enable-cbt         turn Changed Block Tracking on if it is off\n"
"      --final              shut the guest down first (the last cycle)\n"
"      --power-off-after S  with --final: power off after S seconds\n"
"      --connections N      NBD connections in all (default %d)\n"
"      --checkpoint S       record a full copy's progress every S seconds\n"
"                           (default %d), so that it can resume\n"
"      --no-space-check     do not check the outputs' free space first\n"
"      --json               print a JSON summary on standard output\n"
"      --progress[=SECONDS] show progress: a bar on a terminal (the\n"
"                           default there), else a line every SECONDS\n"
"                           (default %d)\n"
"      --progress-fd FD     write progress as JSON lines to FD\n"
"  -h, --help               print this and exit\n"
"  -q, --quiet              print only errors\n"
"  -v, --verbose            debug messages\n"
"  -V, --version\n"
"See vsphere-sync(1).\n", DEFAULT_CONNECTIONS, DEFAULT_CHECKPOINT,
           SYNC_PROGRESS_INTERVAL);
}

static int
parse_unsigned (const char *opt, const char *s, unsigned max, unsigned *out)
{
  int64_t v;

  if (vs_parse_int64 (s, 1, max, &v) == -1) {
    tool_error ("%s %s: expected a number from 1 to %u", opt, s, max);
    return -1;
  }
  *out = v;
  return 0;
}

/* --disk KEY=PATH or INDEX=PATH */
static int
add_disk_output (struct sync_options *o, const char *arg)
{
  const char *eq = strchr (arg, '=');
  char *id_text = eq ? strndup (arg, eq - arg) : NULL;
  int64_t id;
  int r = id_text ? vs_parse_int64 (id_text, 0, INT32_MAX, &id) : -1;
  size_t i;

  free (id_text);
  if (r == -1 || !eq[1]) {
    tool_error ("--disk %s: expected KEY=PATH (a device key such as 2001) "
                "or INDEX=PATH (0 for the first disk)", arg);
    return -1;
  }
  for (i = 0; i < o->disk_outputs.len; i++)
    if (o->disk_outputs.ptr[i].id == id) {
      tool_error ("--disk %s: --disk %" PRId64 "=%s was given already; "
                  "give each disk one output", arg, id,
                  o->disk_outputs.ptr[i].path);
      return -1;
    }
  if (sync_disk_outputs_append (&o->disk_outputs,
                                (struct sync_disk_output) {
                                  .id = id, .path = eq + 1 }) == -1) {
    tool_error ("realloc: %m");
    return -1;
  }
  return 0;
}

/* --only-disk or --skip-disk (MODE) NAME: one of the two, each name
 * once.
 */
static int
add_disk_name (struct sync_options *o, enum sync_choice_mode mode,
               const char *arg)
{
  struct sync_disk_name name = { .text = arg, .id = -1 };
  int64_t id;
  size_t i;

  if (o->choose != SYNC_ALL_DISKS && o->choose != mode) {
    tool_error ("give --only-disk or --skip-disk, not both");
    return -1;
  }
  if (!*arg) {
    tool_error ("%s needs a disk: its device key (such as 2001), index (0 "
                "for the first disk) or label (such as \"Hard disk 2\")",
                sync_choice_option (mode));
    return -1;
  }
  if (vs_parse_int64 (arg, 0, INT32_MAX, &id) == 0)
    name.id = id;
  for (i = 0; i < o->disk_names.len; i++) {
    const struct sync_disk_name *n = &o->disk_names.ptr[i];

    if (name.id == -1 ? n->id == -1 && strcasecmp (n->text, arg) == 0
        : n->id == name.id) {
      tool_error ("%s %s%s%s: the disk is named twice",
                  sync_choice_option (mode), sync_disk_name_quote (&name),
                  arg, sync_disk_name_quote (&name));
      return -1;
    }
  }
  o->choose = mode;
  if (sync_disk_names_append (&o->disk_names, name) == -1) {
    tool_error ("realloc: %m");
    return -1;
  }
  return 0;
}

/* --progress-fd FD: FD is open for writing, and no child inherits it:
 * the reader of a pipe sees its end when vsphere-sync exits.
 */
static int
set_progress_fd (struct sync_options *o, const char *arg)
{
  int64_t fd;
  int flags = -1;

  if (vs_parse_int64 (arg, 0, INT_MAX, &fd) == 0)
    flags = fcntl (fd, F_GETFL);
  if (flags == -1 || (flags & O_ACCMODE) == O_RDONLY) {
    tool_error ("--progress-fd %s: expected a file descriptor open for "
                "writing, as the shell opens one: --progress-fd 3 3>FILE",
                arg);
    return -1;
  }
  /* Standard output and error stay the children's. */
  if (fd > STDERR_FILENO && fcntl (fd, F_SETFD, FD_CLOEXEC) == -1) {
    tool_error ("--progress-fd %s: %m", arg);
    return -1;
  }
  o->progress_fd = fd;
  return 0;
}

enum {
  OPT_DISK = 256, OPT_OVERLAY, OPT_STATE, OPT_SNAPSHOT, OPT_FULL,
  OPT_CONNECTIONS, OPT_JSON, OPT_PROGRESS, OPT_PROGRESS_FD, OPT_ENABLE_CBT,
  OPT_FINAL, OPT_POWER_OFF_AFTER, OPT_VERIFY, OPT_CHECKPOINT,
  OPT_NO_SPACE_CHECK, OPT_ONLY_DISK, OPT_SKIP_DISK, OPT_ALL_DISKS,
};

static const struct option long_options[] = {
  { "output-dir", required_argument, NULL, 'o' },
  { "disk", required_argument, NULL, OPT_DISK },
  { "only-disk", required_argument, NULL, OPT_ONLY_DISK },
  { "skip-disk", required_argument, NULL, OPT_SKIP_DISK },
  { "all-disks", no_argument, NULL, OPT_ALL_DISKS },
  { "format", required_argument, NULL, 'f' },
  { "overlay", no_argument, NULL, OPT_OVERLAY },
  { "state", required_argument, NULL, OPT_STATE },
  { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
  { "full", no_argument, NULL, OPT_FULL },
  { "enable-cbt", no_argument, NULL, OPT_ENABLE_CBT },
  { "final", no_argument, NULL, OPT_FINAL },
  { "verify", optional_argument, NULL, OPT_VERIFY },
  { "power-off-after", required_argument, NULL, OPT_POWER_OFF_AFTER },
  { "connections", required_argument, NULL, OPT_CONNECTIONS },
  { "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
  { "no-space-check", no_argument, NULL, OPT_NO_SPACE_CHECK },
  { "json", no_argument, NULL, OPT_JSON },
  { "progress", optional_argument, NULL, OPT_PROGRESS },
  { "progress-fd", required_argument, NULL, OPT_PROGRESS_FD },
  TOOL_COMMON_LONG_OPTIONS
};

/* Returns 0, or 2 for a usage error (reported). */
static int
parse_options (int argc, char *argv[], struct sync_options *o)
{
  bool seen[TOOL_OPTION_MAX] = { false };
  int c, end;
  int64_t seconds;

  o->connections = DEFAULT_CONNECTIONS;
  o->checkpoint = DEFAULT_CHECKPOINT;
  o->progress = isatty (STDERR_FILENO);
  o->progress_fd = -1;
  while ((c = getopt_long (argc, argv, "+o:f:" TOOL_COMMON_SHORT_OPTIONS, long_options,
                           NULL)) != -1) {
    if (c != OPT_DISK && c != OPT_ONLY_DISK && c != OPT_SKIP_DISK &&
        tool_option_again (c, long_options, seen))
      return 2;
    if (tool_common_option (c, &o->quiet, &o->verbose, usage))
      continue;
    switch (c) {
    case 'o': o->output_dir = optarg; break;
    case OPT_DISK: if (add_disk_output (o, optarg) == -1) return 2; break;
    case OPT_ONLY_DISK: case OPT_SKIP_DISK:
      if (add_disk_name (o, c == OPT_ONLY_DISK ? SYNC_ONLY_DISKS
                         : SYNC_SKIP_DISKS, optarg) == -1)
        return 2;
      break;
    case OPT_ALL_DISKS: o->all_disks = true; break;
    case 'f':
      o->format_given = true;
      if (strcmp (optarg, "raw") == 0)
        o->format = SYNC_RAW;
      else if (strcmp (optarg, "qcow2") == 0)
        o->format = SYNC_QCOW2;
      else {
        tool_error ("-f %s: the formats are raw and qcow2", optarg);
        return 2;
      }
      break;
    case OPT_OVERLAY: o->overlay = true; break;
    case OPT_STATE: o->state_file = optarg; break;
    case OPT_SNAPSHOT: o->snapshot = optarg; break;
    case OPT_FULL: o->full = true; break;
    case OPT_ENABLE_CBT: o->enable_cbt = true; break;
    case OPT_FINAL: o->final = true; break;
    case OPT_VERIFY:
      if (!optarg)
        o->verify = SYNC_VERIFY_CHANGED;
      else if (strcmp (optarg, "all") == 0)
        o->verify = SYNC_VERIFY_WHOLE;
      else {
        tool_error ("--verify=%s: give --verify or --verify=all", optarg);
        return 2;
      }
      break;
    case OPT_POWER_OFF_AFTER:
      if (parse_unsigned ("--power-off-after", optarg, 86400,
                          &o->power_off_after) == -1)
        return 2;
      break;
    case OPT_CONNECTIONS:
      if (parse_unsigned ("--connections", optarg, SYNC_MAX_CONNECTIONS,
                          &o->connections) == -1)
        return 2;
      break;
    case OPT_CHECKPOINT:
      if (parse_unsigned ("--checkpoint", optarg, 86400,
                          &o->checkpoint) == -1)
        return 2;
      break;
    case OPT_NO_SPACE_CHECK: o->no_space_check = true; break;
    case OPT_JSON: o->json = true; break;
    case OPT_PROGRESS:
      o->progress = true;
      if (optarg && vs_parse_int64 (optarg, 1, 86400, &seconds) == -1) {
        tool_error ("--progress=%s: expected a number of seconds from 1 "
                    "to 86400", optarg);
        return 2;
      }
      o->progress_interval = optarg ? seconds : 0;
      break;
    case OPT_PROGRESS_FD:
      if (set_progress_fd (o, optarg) == -1)
        return 2;
      break;
    default: return tool_usage_error ();
    }
  }
  end = tool_params_args (argc, argv, optind, &o->params, &o->n_params);
  if (end == -1)
    return 2;
  if (end < argc) {
    tool_error ("unexpected -- after the plugin parameters");
    return 2;
  }
  if (!o->output_dir && o->disk_outputs.len == 0) {
    tool_error ("no outputs: give -o DIR, or --disk KEY|INDEX=PATH for "
                "each disk");
    return 2;
  }
  if (o->all_disks && o->choose != SYNC_ALL_DISKS) {
    tool_error ("--all-disks copies every disk: drop %s, or --all-disks",
                sync_choice_option (o->choose));
    return 2;
  }
  if (o->power_off_after && !o->final) {
    tool_error ("--power-off-after applies only with --final");
    return 2;
  }
  if (o->json && o->progress_fd == STDOUT_FILENO) {
    tool_error ("--progress-fd 1 with --json: standard output holds the "
                "JSON summary alone; give the events another descriptor, "
                "as in --progress-fd 3 3>FILE");
    return 2;
  }
  if (!o->output_dir && !o->state_file) {
    tool_error ("without -o DIR, give --state FILE");
    return 2;
  }
  return 0;
}

int
main (int argc, char *argv[])
{
  struct sync_options o = { 0 };
  int r;

  nbdkit_shim_set_messages (tool_verror, tool_vdebug);
  r = parse_options (argc, argv, &o);
  tool_messages_init (o.quiet, o.verbose);
  if (r == 0) {
    vs_debug_soap = o.verbose;
    r = tool_signals_install () == -1 ? 1 : 0;
  }
  if (r == 0) {
    vs_pause_stop_when (tool_waits_stop);
    r = sync_cycle (&o);
  }
  sync_disk_outputs_reset (&o.disk_outputs);
  sync_disk_names_reset (&o.disk_names);
  return r;
}
