/* Starting and stopping the tools' children (tool-child.h).  A child
 * leads its own process group, gets SIGTERM if the tool dies
 * (PR_SET_PDEATHSIG), and does only async-signal-safe work between fork
 * and exec.  running_lock guards the table of running PIDs; a child is
 * reaped and dropped from it under the lock in one step, so that
 * tool_child_terminate_all never signals a reused PID.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool-child.h"
#include "tool-messages.h"
#include "tool-signals.h"

/* The first fd that socket activation passes. */
#define LISTEN_FDS_START 3

/* The children running, for tool_child_terminate_all. */
#define MAX_CHILDREN 64
static pid_t running[MAX_CHILDREN];
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;

static int
set_running (pid_t old, pid_t new)
{
  size_t i;
  int r = -1;

  pthread_mutex_lock (&running_lock);
  for (i = 0; i < MAX_CHILDREN; i++)
    if (running[i] == old) {
      running[i] = new;
      r = 0;
      break;
    }
  pthread_mutex_unlock (&running_lock);
  return r;
}

/* Reap PID if it has ended, clearing its slot in the
 * same breath, so that tool_child_terminate_all never signals a PID
 * the system may have given to another process.
 */
static pid_t
reap (pid_t pid, int *status)
{
  size_t i;
  pid_t r;

  pthread_mutex_lock (&running_lock);
  r = waitpid (pid, status, WNOHANG);
  if (r == pid)
    for (i = 0; i < MAX_CHILDREN; i++)
      if (running[i] == pid)
        running[i] = 0;
  pthread_mutex_unlock (&running_lock);
  return r;
}

/* SIG to the child's process group, which it leads (see exec_child):
 * what it started goes too, and with it every copy of its standard
 * output.  Until the child has made its group, to the child alone.
 */
static void
signal_child (pid_t pid, int sig)
{
  if (kill (-pid, sig) == -1)
    kill (pid, sig);
}

void
tool_child_terminate_all (void)
{
  size_t i;

  pthread_mutex_lock (&running_lock);
  for (i = 0; i < MAX_CHILDREN; i++)
    if (running[i] > 0)
      signal_child (running[i], SIGTERM);
  pthread_mutex_unlock (&running_lock);
}

static int
listen_on (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path) {
    tool_error ("socket path %s is too long", path);
    return -1;
  }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1 ||
      bind (fd, (struct sockaddr *) &addr, sizeof addr) == -1 ||
      listen (fd, SOMAXCONN) == -1) {
    tool_error ("listening on %s: %m", path);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  return fd;
}

/* TCP on 127.0.0.1, for clients that take no Unix socket (virt-v2v
 * 2.2 takes an NBD server as localhost and a port).  The port is one
 * the system picks, so two runs never collide.
 */
static int
listen_on_loopback (int *port)
{
  struct sockaddr_in addr = {
    .sin_family = AF_INET,
    .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
  };
  socklen_t len = sizeof addr;
  int fd;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1 ||
      bind (fd, (struct sockaddr *) &addr, sizeof addr) == -1 ||
      listen (fd, SOMAXCONN) == -1 ||
      getsockname (fd, (struct sockaddr *) &addr, &len) == -1) {
    tool_error ("listening on 127.0.0.1: %m");
    if (fd >= 0)
      close (fd);
    return -1;
  }
  *port = ntohs (addr.sin_port);
  return fd;
}

extern char **environ;

/* The environment of a socket-activated child: ours without LISTEN_*,
 * then LISTEN_FDS=1 and a LISTEN_PID= whose digits the child writes.
 */
struct activation_env {
  char **envp;
  char listen_pid[32];
};

static int
activation_env_new (struct activation_env *e)
{
  size_t n = 0, i, j = 0;

  while (environ[n])
    n++;
  e->envp = calloc (n + 3, sizeof *e->envp);
  if (!e->envp) {
    tool_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < n; i++)
    if (strncmp (environ[i], "LISTEN_", 7) != 0)
      e->envp[j++] = environ[i];
  e->envp[j++] = (char *) "LISTEN_FDS=1";
  strcpy (e->listen_pid, "LISTEN_PID=");
  e->envp[j++] = e->listen_pid;
  return 0;
}

/* Async-signal-safe: DST gets the decimal digits of N. */
static void
put_decimal (char *dst, long n)
{
  char tmp[24];
  size_t i = 0;

  do
    tmp[i++] = '0' + n % 10;
  while ((n /= 10) > 0);
  while (i > 0)
    *dst++ = tmp[--i];
  *dst = '\0';
}

/* In the child: only async-signal-safe work until exec.  SOCK is the
 * socket to activate it on, or -1 for none; OUT_FD, if not -1, becomes
 * its standard output and error.
 */
static void
exec_child (int sock, int keep_fd, int out_fd, char *const argv[],
            pid_t parent, struct activation_env *e)
{
  static const char cannot[] = ": error: cannot run ";
  sigset_t none;

  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    _exit (126);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  signal (SIGPIPE, SIG_DFL);
  if (out_fd >= 0 && (dup2 (out_fd, STDOUT_FILENO) == -1 ||
                      dup2 (out_fd, STDERR_FILENO) == -1))
    _exit (126);
  if (sock == -1)
    execvp (argv[0], argv);
  else {
    if (sock == LISTEN_FDS_START) {
      if (fcntl (sock, F_SETFD, 0) == -1)
        _exit (126);
    }
    else if (dup2 (sock, LISTEN_FDS_START) == -1)
      _exit (126);
    if (keep_fd >= 0 && fcntl (keep_fd, F_SETFD, 0) == -1)
      _exit (126);
    put_decimal (e->listen_pid + strlen ("LISTEN_PID="), getpid ());
    execvpe (argv[0], argv, e->envp);
  }
  if (write (STDERR_FILENO, program_invocation_short_name,
             strlen (program_invocation_short_name)) > 0 &&
      write (STDERR_FILENO, cannot, sizeof cannot - 1) > 0 &&
      write (STDERR_FILENO, argv[0], strlen (argv[0])) > 0 &&
      write (STDERR_FILENO, "\n", 1) > 0)
    _exit (127);
  _exit (127);
}

/* Fork and exec the child C (see exec_child), and register it for
 * tool_child_terminate_all.  Returns 0, or -1 with the error reported
 * and C stopped.
 */
static int
launch (struct tool_child *c, int sock, int keep_fd, int out_fd,
        char *const argv[], struct activation_env *env)
{
  pid_t parent = getpid ();

  c->pid = fork ();
  if (c->pid == 0)
    exec_child (sock, keep_fd, out_fd, argv, parent, env);
  if (c->pid == -1) {
    c->pid = 0;
    tool_error ("fork: %m");
    tool_child_stop (c, 0);
    return -1;
  }
  if (set_running (0, c->pid) == -1) {
    tool_error ("more than %d children at once", MAX_CHILDREN);
    tool_child_stop (c, 0);
    return -1;
  }
  return 0;
}

int
tool_child_start (struct tool_child *c, const char *dir, const char *name,
                  char *const argv[], int keep_fd)
{
  struct activation_env env;
  int sock, r;

  memset (c, 0, sizeof *c);
  if (!(c->name = strdup (name)) ||
      (dir && asprintf (&c->socket, "%s/%s.sock", dir, name) == -1)) {
    c->socket = NULL;
    tool_error ("out of memory");
    tool_child_stop (c, 0);
    return -1;
  }
  sock = dir ? listen_on (c->socket) : listen_on_loopback (&c->port);
  if (sock == -1) {
    tool_child_stop (c, 0);
    return -1;
  }
  /* KEEP_FD and the socket must not land on each other's number. */
  if (keep_fd == LISTEN_FDS_START) {
    tool_error ("internal error: fd %d is reserved", keep_fd);
    close (sock);
    tool_child_stop (c, 0);
    return -1;
  }
  if (activation_env_new (&env) == -1) {
    close (sock);
    tool_child_stop (c, 0);
    return -1;
  }
  r = launch (c, sock, keep_fd, -1, argv, &env);
  free (env.envp);
  close (sock);
  if (r == -1)
    return -1;
  if (c->socket)
    tool_debug ("started %s (pid %d) on %s", name, (int) c->pid, c->socket);
  else
    tool_debug ("started %s (pid %d) on 127.0.0.1 port %d",
                name, (int) c->pid, c->port);
  return 0;
}

int
tool_child_spawn (struct tool_child *c, const char *name, char *const argv[],
                  int out_fd)
{
  memset (c, 0, sizeof *c);
  if (!(c->name = strdup (name))) {
    tool_error ("out of memory");
    return -1;
  }
  if (launch (c, -1, -1, out_fd, argv, NULL) == -1)
    return -1;
  tool_debug ("started %s (pid %d)", name, (int) c->pid);
  return 0;
}

int
tool_child_wait (struct tool_child *c)
{
  struct timespec tick = { 0, 50 * 1000 * 1000 };
  int status;

  while (!tool_child_exited (c, &status))
    nanosleep (&tick, NULL);
  free (c->name);
  c->name = NULL;
  return status;
}

int
tool_child_exited (struct tool_child *c, int *status)
{
  if (c->pid == 0)
    return 1;
  if (reap (c->pid, status) == c->pid) {
    c->pid = 0;
    return 1;
  }
  return 0;
}

int
tool_child_stop (struct tool_child *c, unsigned timeout)
{
  struct timespec tick = { 0, 20 * 1000 * 1000 };
  unsigned long waited = 0;
  bool killed = false;
  int status = -1;
  pid_t r;

  if (c->pid > 0) {
    signal_child (c->pid, SIGTERM);
    while ((r = reap (c->pid, &status)) != c->pid) {
      if (r == -1 && errno != EINTR) {
        status = -1;
        set_running (c->pid, 0);
        break;
      }
      if (++waited >= timeout * 50UL && !killed) {
        if (timeout && !tool_stopping ())
          tool_error ("%s (pid %d) did not stop within %u seconds; "
                      "killing it", c->name, (int) c->pid, timeout);
        signal_child (c->pid, SIGKILL);
        killed = true;
      }
      nanosleep (&tick, NULL);
    }
    c->pid = 0;
  }
  if (c->socket) {
    unlink (c->socket);
    free (c->socket);
    c->socket = NULL;
  }
  free (c->name);
  c->name = NULL;
  return status;
}

void
tool_child_describe (int status, char *buf, size_t len)
{
  if (WIFEXITED (status))
    snprintf (buf, len, "exited with status %d", WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    snprintf (buf, len, "was killed by signal %d (%s)", WTERMSIG (status),
              strsignal (WTERMSIG (status)));
  else
    snprintf (buf, len, "ended with wait status %d", status);
}

/* The last of what FD gives until its end, at most LEN - 1 bytes. */
static void
read_tail (int fd, char *buf, size_t len)
{
  size_t used = 0, half = (len - 1) / 2;
  ssize_t r;

  for (;;) {
    if (used == len - 1) {
      memmove (buf, buf + half, used - half);
      used -= half;
    }
    r = read (fd, buf + used, len - 1 - used);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    used += r;
  }
  while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == '\r'))
    used--;
  buf[used] = '\0';
}

const char *
tool_env_or (const char *name, const char *dflt)
{
  const char *v = getenv (name);

  return v && *v ? v : dflt;
}

int
tool_make_tmpdir (char *dir, size_t len)
{
  int n = snprintf (dir, len, "%s/%s.XXXXXX", tool_env_or ("TMPDIR", "/tmp"),
                    program_invocation_short_name);

  if (n < 0 || (size_t) n >= len || !mkdtemp (dir)) {
    tool_error ("cannot make a temporary directory under $TMPDIR: %m");
    dir[0] = '\0';
    return -1;
  }
  return 0;
}

/* Run ARGV to completion, what it writes to standard error (and to
 * standard output too, if KEEP_OUTPUT) in SAID.  Returns its wait
 * status, or -1 (reported).
 */
static int
run_to_end (char *const argv[], bool keep_output, char *said, size_t len)
{
  int status, null, err[2];
  pid_t pid;

  if (pipe2 (err, O_CLOEXEC) == -1) {
    tool_error ("pipe: %m");
    return -1;
  }
  pid = fork ();
  if (pid == -1) {
    tool_error ("fork: %m");
    close (err[0]);
    close (err[1]);
    return -1;
  }
  if (pid == 0) {
    null = open ("/dev/null", O_WRONLY);
    if (keep_output)
      dup2 (err[1], STDOUT_FILENO);
    else if (null >= 0)
      dup2 (null, STDOUT_FILENO);
    dup2 (err[1], STDERR_FILENO);
    execvp (argv[0], argv);
    fprintf (stderr, "cannot run %s: %s", argv[0], strerror (errno));
    _exit (127);
  }
  close (err[1]);
  read_tail (err[0], said, len);
  close (err[0]);
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR) {
      tool_error ("waitpid: %m");
      return -1;
    }
  return status;
}

int
tool_run (char *const argv[])
{
  char how[128], said[1024];
  int status = run_to_end (argv, false, said, sizeof said);

  if (status == 0)
    return 0;
  if (status == -1)
    return -1;
  tool_child_describe (status, how, sizeof how);
  if (said[0])
    tool_error ("%s %s: %s", argv[0], how, said);
  else
    tool_error ("%s %s", argv[0], how);
  return -1;
}

int
tool_run_capture (char *const argv[], char *said, size_t len)
{
  char out[4096], how[128];
  int status = run_to_end (argv, true, out, sizeof out);

  if (status == 0) {
    snprintf (said, len, "%s", out);
    return 0;
  }
  if (status == -1)
    return -1;
  tool_child_describe (status, how, sizeof how);
  snprintf (said, len, "%s%s%s", how, out[0] ? ": " : "", out);
  return 1;
}
