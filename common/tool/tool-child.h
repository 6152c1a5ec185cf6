/* Servers that the tools run (nbdkit, qemu-nbd), each on a socket
 * that the tool listens on before it starts them (systemd socket
 * activation), so clients can connect at once with no race.  They run
 * in a process group of their own, so that a Ctrl-C reaches the tool,
 * which stops them in order, and die if it dies.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_CHILD_H
#define TOOL_CHILD_H

#include <sys/types.h>

struct tool_child {
  char *name;                   /* for messages */
  pid_t pid;                    /* 0 when not running */
  char *socket;                 /* path to connect to, or NULL for TCP */
  int port;                     /* on 127.0.0.1, where socket is NULL */
};

/* Start ARGV[0] with ARGV, listening on a new socket in DIR named
 * NAME.sock, or, where DIR is NULL, on a TCP port of 127.0.0.1 that
 * the system picks (C->port).  KEEP_FD, if not -1, stays open in the child as the same
 * number.  Returns 0, or -1 with the error reported.
 */
int tool_child_start (struct tool_child *c, const char *dir,
                      const char *name, char *const argv[], int keep_fd);

/* Run ARGV[0] with ARGV, with no socket, its standard output and
 * error on OUT_FD, as a child like the servers: its own process group,
 * killed by tool_child_terminate_all.  Returns 0, or -1 (reported).
 */
int tool_child_spawn (struct tool_child *c, const char *name,
                      char *const argv[], int out_fd);

/* Wait for it to exit; returns its wait status.  Call only when it has
 * stopped writing, or will without being read.
 */
int tool_child_wait (struct tool_child *c);

/* Whether it has exited already (reaping it); its status in *STATUS. */
int tool_child_exited (struct tool_child *c, int *status);

/* SIGTERM, then SIGKILL after TIMEOUT seconds (reported, unless a
 * stop signal made that expected), and remove the socket.  Returns its
 * wait status, or -1 if there was none to wait for.  Safe to call
 * again.
 */
int tool_child_stop (struct tool_child *c, unsigned timeout);

/* SIGTERM to every child still running: a stop signal ends the
 * servers, so that whatever waits on them fails at once.  Safe from
 * any thread.
 */
void tool_child_terminate_all (void);

/* Describe a wait status for a message. */
void tool_child_describe (int status, char *buf, size_t len);


/* Environment variable NAME, or DFLT where it is unset or empty: which
 * programs to run (NBDKIT, QEMU_IMG, ...), and where ($TMPDIR).
 */
const char *tool_env_or (const char *name, const char *dflt);

/* A new private directory $TMPDIR/PROGRAM.XXXXXX in DIR (LEN bytes).
 * Returns 0, or -1 with the error reported and DIR empty.
 */
int tool_make_tmpdir (char *dir, size_t len);

/* Run ARGV to completion, its standard output discarded.  Returns 0
 * if it exited with status 0, else -1 with the error reported, and what
 * it said on standard error in the message.
 */
int tool_run (char *const argv[]);

/* Run ARGV to completion, what it writes to standard output and error
 * together in SAID (the last LEN - 1 bytes).  Returns 0 if it exited
 * with status 0; 1 if not, SAID then saying how it ended and what it
 * said, for the caller's message; -1 if it could not be run (reported).
 */
int tool_run_capture (char *const argv[], char *said, size_t len);

#endif /* TOOL_CHILD_H */
