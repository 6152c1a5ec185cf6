/* Starting nbdkit for a tool (tool-nbdkit.h): the command line is the
 * forwarded parameters plus vm=moref= and snapshot=moref=, and the
 * password is written into a pipe whose read end nbdkit inherits as
 * password=-FD.  Stopping gives nbdkit 30 s to log out, or 2 s after a
 * stop signal, so that removing the snapshot still fits in the time a
 * stop gets.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool-messages.h"
#include "tool-nbdkit.h"
#include "tool-signals.h"

/* Seconds nbdkit gets to stop before SIGKILL: to log out, normally;
 * after a stop signal, only a moment, as it may be finishing reads for
 * no one (nbdkit 1.32 waits for those in flight), and the snapshot's
 * removal must still fit in the time a stop gets.
 */
#define STOP_TIMEOUT 30
#define STOP_GRACE 2

static int
password_pipe (const char *pw)
{
  size_t len = strlen (pw);
  int fds[2], fd;

  if (pipe2 (fds, O_CLOEXEC) == -1) {
    tool_error ("pipe: %m");
    return -1;
  }
  if (write (fds[1], pw, len) != (ssize_t) len) {
    tool_error ("writing the password pipe: %m");
    close (fds[0]);
    close (fds[1]);
    return -1;
  }
  close (fds[1]);
  /* Far from the fd that socket activation uses. */
  fd = fcntl (fds[0], F_DUPFD_CLOEXEC, 10);
  close (fds[0]);
  if (fd == -1)
    tool_error ("fcntl: %m");
  return fd;
}

int
tool_nbdkit_start (struct tool_child *child, const struct tool_params *p,
                   const struct tool_nbdkit *how, const char *dir,
                   const char *name)
{
  const char *fixed[] = {
    tool_env_or ("NBDKIT", "nbdkit"), "-f", "-r", how->verbose ? "-v" : "-f",
  };
  size_t nfixed = sizeof fixed / sizeof fixed[0], nextra = 0, n = 0, i;
  char *vm = NULL, *snap = NULL, *pw = NULL, *filter = NULL;
  const char **argv = NULL;
  int fd, r = -1;

  while (how->extra && how->extra[nextra])
    nextra++;
  fd = password_pipe (p->server.password);
  if (fd == -1)
    return -1;
  argv = calloc (nfixed + p->n_forward + nextra + 6, sizeof *argv);
  if (!argv ||
      (how->filter &&
       asprintf (&filter, "--filter=%s", how->filter) == -1) ||
      asprintf (&vm, "vm=moref=%s", how->vm_ref) == -1 ||
      asprintf (&snap, "snapshot=moref=%s", how->snapshot_ref) == -1 ||
      asprintf (&pw, "password=-%d", fd) == -1) {
    tool_error ("out of memory");
    goto out;
  }
  for (i = 0; i < nfixed; i++)
    argv[n++] = fixed[i];
  if (filter)
    argv[n++] = filter;
  argv[n++] = tool_env_or ("NBDKIT_VSPHERE_PLUGIN", "vsphere");
  for (i = 0; i < p->n_forward; i++)
    argv[n++] = p->forward[i];
  argv[n++] = vm;
  argv[n++] = snap;
  argv[n++] = pw;
  for (i = 0; i < nextra; i++)
    argv[n++] = how->extra[i];
  argv[n] = NULL;
  r = tool_child_start (child, dir, name, (char *const *) argv, fd);
  /* nbdkit 1.32 makes its own parent-death signal SIGTERM, after which
   * it finishes the reads in flight: only the guardian stops it sooner.
   */
  if (r == 0)
    vs_guardian_reader (how->guardian, child->pid);
 out:
  close (fd);
  free (argv);
  free (filter);
  free (vm);
  free (snap);
  free (pw);
  return r;
}

int
tool_nbdkit_check (const char *filter)
{
  const char *plugin = tool_env_or ("NBDKIT_VSPHERE_PLUGIN", "vsphere");
  const char *argv[5];
  char *filter_arg = NULL, said[1024];
  size_t n = 0;
  int r;

  if (filter && asprintf (&filter_arg, "--filter=%s", filter) == -1) {
    tool_error ("out of memory");
    return -1;
  }
  argv[n++] = tool_env_or ("NBDKIT", "nbdkit");
  if (filter_arg)
    argv[n++] = filter_arg;
  argv[n++] = "--dump-plugin";
  argv[n++] = plugin;
  argv[n] = NULL;
  r = tool_run_capture ((char *const *) argv, said, sizeof said);
  /* nbdkit's error, without its pointer to --help. */
  said[strcspn (said, "\n")] = '\0';
  if (r == 1)
    tool_error ("nbdkit cannot load the %s plugin%s%s%s (%s %s): install "
                "nbdkit-vsphere (\"sudo make install\", see the README), or "
                "set NBDKIT_VSPHERE_PLUGIN%s to the built module%s",
                plugin, filter ? " and the " : "", filter ? filter : "",
                filter ? " filter" : "", argv[0], said,
                filter ? " and NBDKIT_CBT_FILTER" : "", filter ? "s" : "");
  free (filter_arg);
  return r == 0 ? 0 : -1;
}

int
tool_nbdkit_stop (struct tool_child *child)
{
  char how[128];
  int status;

  if (!child->pid)
    return 0;
  status = tool_child_stop (child, tool_stopping () ? STOP_GRACE
                            : STOP_TIMEOUT);
  if (status == 0)
    return 0;
  /* Killed, or cut short as it stopped: the stop is the news. */
  if (tool_stopping ())
    return -1;
  tool_child_describe (status, how, sizeof how);
  tool_error ("nbdkit %s", how);
  return -1;
}
