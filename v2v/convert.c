/* Running virt-v2v or virt-v2v-in-place (v2v.h): first whether it
 * runs and reads libvirt XML, as its --machine-readable list of
 * features says; then the conversion, whose output goes both to the
 * user and to a log in the temporary directory, which is kept when the
 * conversion fails, so that what virt-v2v said can be read after the
 * fact.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool-child.h"
#include "tool-messages.h"
#include "v2v.h"

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t r = write (fd, buf, len);

    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    buf += r;
    len -= r;
  }
  return 0;
}

/* Run ARGV, its output copied to our standard output and to LOG.
 * Returns 0 if it succeeded, else -1 with the error reported, naming
 * LOG.
 */
static int
run_logged (char *const argv[], const char *log)
{
  struct tool_child child;
  char buf[8192], how[128];
  bool log_ok = true;
  int fds[2], log_fd, status;
  ssize_t n;

  log_fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd == -1) {
    tool_error ("%s: %m", log);
    return -1;
  }
  if (pipe2 (fds, O_CLOEXEC) == -1) {
    tool_error ("pipe: %m");
    close (log_fd);
    return -1;
  }
  if (tool_child_spawn (&child, argv[0], argv, fds[1]) == -1) {
    close (fds[0]);
    close (fds[1]);
    close (log_fd);
    return -1;
  }
  close (fds[1]);
  while ((n = read (fds[0], buf, sizeof buf)) != 0) {
    if (n == -1) {
      if (errno == EINTR)
        continue;
      tool_error ("reading what %s prints: %m", argv[0]);
      break;
    }
    /* A closed standard output must not stop the conversion. */
    (void) write_all (STDOUT_FILENO, buf, n);
    if (log_ok && write_all (log_fd, buf, n) == -1) {
      tool_error ("writing %s: %m", log);
      log_ok = false;
    }
  }
  close (fds[0]);
  status = tool_child_wait (&child);
  if (close (log_fd) == -1 && log_ok) {
    tool_error ("writing %s: %m", log);
    log_ok = false;
  }
  if (status == 0)
    return 0;
  tool_child_describe (status, how, sizeof how);
  if (log_ok)
    tool_error ("%s %s; what it printed is kept in %s", argv[0], how, log);
  else
    tool_error ("%s %s", argv[0], how);
  return -1;
}

/* The converter the route runs. */
static const char *
converter (const struct v2v *v)
{
  return v->o->in_place
    ? tool_env_or ("VIRT_V2V_IN_PLACE", "virt-v2v-in-place")
    : tool_env_or ("VIRT_V2V", "virt-v2v");
}

/* Whether LIST, one feature a line, has FEATURE. */
static bool
has_feature (const char *list, const char *feature)
{
  size_t len = strlen (feature);
  const char *p;

  for (p = list; p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, feature, len) == 0 && (p[len] == '\n' || !p[len]))
      return true;
  return false;
}

int
v2v_check_converter (const struct v2v *v)
{
  const char *program = converter (v);
  const char *argv[] = { program, "--machine-readable", NULL };
  const char *var = v->o->in_place ? "VIRT_V2V_IN_PLACE" : "VIRT_V2V";
  char said[4096];
  int r = tool_run_capture ((char *const *) argv, said, sizeof said);

  if (r == -1)
    return -1;
  if (r == 1) {
    said[strcspn (said, "\n")] = '\0';
    tool_error ("cannot run %s --machine-readable (%s): install virt-v2v "
                "(\"apt install virt-v2v\"), or set %s to it", program,
                said, var);
    return -1;
  }
  if (!has_feature (said, "input:libvirtxml")) {
    tool_error ("%s cannot read libvirt XML (its --machine-readable lists "
                "no input:libvirtxml): install virt-v2v 2.0 or later, or "
                "set %s to it", program, var);
    return -1;
  }
  return 0;
}

int
v2v_run_converter (struct v2v *v, const char *xml)
{
  const char *program = converter (v);
  const char *base = strrchr (program, '/');
  /* PROGRAM -i libvirtxml XML, the user's options, NULL. */
  const char **argv = calloc (4 + v->o->n_v2v_args + 1, sizeof *argv);
  char *log = NULL;
  size_t n = 0, i;
  int r = -1;

  base = base ? base + 1 : program;
  if (!argv || asprintf (&log, "%s/%s.log", v->tmpdir, base) == -1) {
    log = NULL;
    tool_error ("out of memory");
    goto out;
  }
  argv[n++] = program;
  argv[n++] = "-i";
  argv[n++] = "libvirtxml";
  argv[n++] = xml;
  for (i = 0; i < v->o->n_v2v_args; i++)
    argv[n++] = v->o->v2v_args[i];
  tool_info ("running %s on VM %s", program, v->target.vm_name);
  r = run_logged ((char *const *) argv, log);
  if (r == 0)
    unlink (log);
 out:
  free (argv);
  free (log);
  return r;
}
