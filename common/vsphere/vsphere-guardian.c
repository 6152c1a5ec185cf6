/* The guardian (vsphere-guardian.h).  Orders go over a socket pair as
 * text lines ("name", "task", "ref", "done"), the readers' pidfds with
 * them as SCM_RIGHTS.  The forked guardian detaches (setsid, stop
 * signals ignored, every other fd closed) and reads until the last
 * holder of the other end is gone; unless told "done", it kills the
 * readers, logs in on its own session and removes the snapshot.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <libxml/tree.h>
#include <nbdkit-plugin.h>

#include "vsphere-guardian.h"
#include "vsphere-snapshot.h"
#include "vsphere-soap.h"
#include "vsphere-task.h"
#include "notice.h"
#include "pause.h"

#define VALUE_MAX 256
/* As many as a program runs children at once. */
#define MAX_READERS 64

struct vs_guardian {
  pid_t pid;
  int fd;                       /* our end of the socket pair */
};

/* What the guardian was told. */
struct orders {
  char name[VALUE_MAX], task[VALUE_MAX], ref[VALUE_MAX];
  bool done;
  int readers[MAX_READERS];     /* pidfds of the snapshot's readers */
  size_t n_readers;
};

static void
take_line (struct orders *o, const char *line)
{
  const char *v = strchr (line, ' ');
  char *dst = NULL;

  if (strcmp (line, "done") == 0) {
    o->done = true;
    return;
  }
  if (!v)
    return;
  if (strncmp (line, "name ", 5) == 0)
    dst = o->name;
  else if (strncmp (line, "task ", 5) == 0)
    dst = o->task;
  else if (strncmp (line, "ref ", 4) == 0)
    dst = o->ref;
  if (dst)
    snprintf (dst, VALUE_MAX, "%s", v + 1);
}

/* Keep the pidfds that came with MSG (see vs_guardian_reader). */
static void
take_readers (struct orders *o, struct msghdr *msg)
{
  struct cmsghdr *c;
  size_t i, n;
  int fd;

  for (c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    n = (c->cmsg_len - CMSG_LEN (0)) / sizeof fd;
    for (i = 0; i < n; i++) {
      memcpy (&fd, CMSG_DATA (c) + i * sizeof fd, sizeof fd);
      if (o->n_readers < MAX_READERS)
        o->readers[o->n_readers++] = fd;
      else
        close (fd);
    }
  }
}

/* Read orders until every nbdkit process holding the other end is gone. */
static void
read_orders (int fd, struct orders *o)
{
  char buf[4 * VALUE_MAX], *line, *nl;
  union {
    char buf[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov;
  struct msghdr msg;
  size_t len = 0;
  ssize_t n;

  for (;;) {
    iov = (struct iovec) { buf + len, sizeof buf - 1 - len };
    msg = (struct msghdr) { .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof control.buf };
    n = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    take_readers (o, &msg);
    len += n;
    buf[len] = '\0';
    for (line = buf; (nl = strchr (line, '\n')) != NULL; line = nl + 1) {
      *nl = '\0';
      take_line (o, line);
    }
    len -= line - buf;
    memmove (buf, line, len);
    if (len == sizeof buf - 1)  /* a line too long to be ours */
      len = 0;
  }
}

/* The program died: what still reads the snapshot for it stops now,
 * rather than finish its reads for no one while the snapshot goes.
 */
static void
kill_readers (const struct orders *o)
{
  size_t i;

  for (i = 0; i < o->n_readers; i++)
    pidfd_send_signal (o->readers[i], SIGKILL, NULL, 0);
}

struct by_name {
  const char *name;
  char ref[VALUE_MAX];
};

static void
match_name (void *opaque, const char *name, const char *ref,
            const char *description, const char *created)
{
  struct by_name *b = opaque;

  if (strcmp (name, b->name) == 0)
    snprintf (b->ref, sizeof b->ref, "%s", ref);
}

/* The snapshot's moref: as told, or from the task that took it, or by
 * its unique name.  Empty if it was never taken.
 */
static void
resolve (struct vs_session *s, const char *vm_ref, struct orders *o,
         time_t deadline)
{
  struct by_name b = { o->name, "" };
  char *result = NULL;

  if (o->ref[0])
    return;
  if (o->task[0] &&
      vs_task_wait (s, o->task, "taking the temporary snapshot", deadline,
                    &result) == 0 && result) {
    snprintf (o->ref, sizeof o->ref, "%s", result);
    xmlFree (result);
    return;
  }
  xmlFree (result);
  if (o->name[0] &&
      vs_snapshot_list_temporary (s, vm_ref, match_name, &b) == 0)
    snprintf (o->ref, sizeof o->ref, "%s", b.ref);
}

static struct vs_session *
open_session (const struct vs_server *srv, time_t deadline)
{
  struct vs_session *s;
  unsigned n = 0;

  while ((s = vs_session_open (srv)) == NULL)
    if (!vs_task_backoff (n++, deadline))
      break;
  return s;
}

/* nbdkit exited without saying the snapshot is gone: remove it. */
static int
clean_up (const struct vs_server *srv, const char *vm_ref, struct orders *o)
{
  time_t deadline = time (NULL) + vs_server_task_timeout (srv);
  struct vs_session *s = open_session (srv, deadline);
  int present, r = -1;

  if (!s) {
    nbdkit_error ("guardian: cannot reach the server %s to remove the "
                  "temporary snapshot %s of VM %s: check in vCenter (or "
                  "on the ESXi host) and delete it if it is there",
                  srv->server, o->name, vm_ref);
    return -1;
  }
  resolve (s, vm_ref, o, deadline);
  if (!o->ref[0]) {
    nbdkit_debug ("guardian: snapshot %s was never taken", o->name);
    r = 0;
  }
  else if (vs_snapshot_remove (s, o->ref) == 0) {
    vs_notice ("%s exited without removing the temporary snapshot %s (%s) "
               "of VM %s; the guardian removed it", vs_program_name (),
               o->name, o->ref, vm_ref);
    r = 0;
  }
  else if ((present = vs_snapshot_present (s, vm_ref, o->ref)) == 0)
    r = 0;
  else if (present == 1)
    nbdkit_error ("guardian: the temporary snapshot %s (%s) of VM %s was "
                  "NOT removed: delete it in %s (Snapshots > Manage) "
                  "to avoid filling the datastore", o->name, o->ref, vm_ref,
                  vs_session_product (s));
  else
    nbdkit_error ("guardian: could not remove the temporary snapshot %s "
                  "(%s) of VM %s, nor tell whether it is still there: "
                  "check in %s", o->name, o->ref, vm_ref,
                  vs_session_product (s));
  vs_session_close (s);
  return r;
}

static void __attribute__ ((noreturn))
guardian_main (int fd, const struct vs_server *srv, const char *vm_ref)
{
  struct orders o;
  int null;

  /* Outlive Ctrl-C and systemctl stop, which signal the whole group,
   * and keep nothing of nbdkit's open: no socket, no pipe that a
   * caller waits on.
   */
  setsid ();
  signal (SIGINT, SIG_IGN);
  signal (SIGTERM, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);
  /* The program's stop (a signal it got before the fork) is not ours:
   * the guardian's waits and calls run their course.
   */
  vs_pause_stop_when (NULL);
  prctl (PR_SET_NAME, "vsphere-guard");
  null = open ("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2 (null, STDIN_FILENO);
    dup2 (null, STDOUT_FILENO);
  }
  if (fd != 3 && dup2 (fd, 3) == -1)
    _exit (EXIT_FAILURE);
  close_range (4, ~0U, 0);
  if (null > 3)
    close (null);

  memset (&o, 0, sizeof o);
  read_orders (3, &o);
  if (!o.done)
    kill_readers (&o);
  if (o.done || (!o.name[0] && !o.task[0] && !o.ref[0]))
    _exit (EXIT_SUCCESS);
  _exit (clean_up (srv, vm_ref, &o) == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

struct vs_guardian *
vs_guardian_start (const struct vs_server *srv, const char *vm_ref)
{
  struct vs_guardian *g = calloc (1, sizeof *g);
  int sv[2];

  if (!g) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  /* A socket, not a pipe: sending with MSG_NOSIGNAL cannot kill nbdkit
   * with SIGPIPE if the guardian is gone.
   */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
    nbdkit_error ("socketpair: %m");
    free (g);
    return NULL;
  }
  g->pid = fork ();
  if (g->pid == -1) {
    nbdkit_error ("fork: %m");
    close (sv[0]);
    close (sv[1]);
    free (g);
    return NULL;
  }
  if (g->pid == 0) {
    close (sv[0]);
    guardian_main (sv[1], srv, vm_ref);
  }
  close (sv[1]);
  g->fd = sv[0];
  nbdkit_debug ("guardian of the temporary snapshot: pid %d", (int) g->pid);
  return g;
}

static void
tell (struct vs_guardian *g, const char *key, const char *value)
{
  char line[VALUE_MAX + 16];
  int n;

  if (!g || g->fd == -1)
    return;
  n = snprintf (line, sizeof line, "%s%s%s\n", key, value ? " " : "",
                value ? value : "");
  if (n <= 0 || (size_t) n >= sizeof line || strchr (value ? value : "", '\n'))
    return;
  if (send (g->fd, line, n, MSG_NOSIGNAL) != n)
    nbdkit_debug ("guardian: cannot send \"%s\": %m", key);
}

void
vs_guardian_name (struct vs_guardian *g, const char *name)
{
  tell (g, "name", name);
}

void
vs_guardian_task (struct vs_guardian *g, const char *task)
{
  tell (g, "task", task);
}

void
vs_guardian_ref (struct vs_guardian *g, const char *ref)
{
  tell (g, "ref", ref);
}

void
vs_guardian_reader (struct vs_guardian *g, pid_t pid)
{
  static const char line[] = "reader\n";
  union {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { (void *) line, sizeof line - 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  int fd;

  if (!g || g->fd == -1)
    return;
  /* A pidfd, not a PID, which another process may have once this one
   * is reaped.
   */
  fd = pidfd_open (pid, 0);
  if (fd == -1) {
    nbdkit_debug ("guardian: pidfd_open %d: %m", (int) pid);
    return;
  }
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof fd);
  memcpy (CMSG_DATA (c), &fd, sizeof fd);
  if (sendmsg (g->fd, &msg, MSG_NOSIGNAL) != (ssize_t) iov.iov_len)
    nbdkit_debug ("guardian: cannot send a reader: %m");
  close (fd);
}

void
vs_guardian_stop (struct vs_guardian *g, bool removed)
{
  if (!g)
    return;
  if (removed)
    tell (g, "done", NULL);
  close (g->fd);
  /* Reap it if it is our child and ends at once, as it does when told
   * "done" and no other nbdkit process holds the socket.
   */
  if (removed) {
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    int i;

    for (i = 0; i < 100; i++) {
      pid_t r = waitpid (g->pid, NULL, WNOHANG);

      if (r != 0)
        break;
      nanosleep (&ts, NULL);
    }
  }
  free (g);
}

pid_t
vs_guardian_pid (const struct vs_guardian *g)
{
  return g ? g->pid : -1;
}
