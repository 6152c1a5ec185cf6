/* Servers that vsphere-sync runs (nbdkit, qemu-nbd), each on a Unix
 * socket that vsphere-sync listens on before it starts them (systemd
 * socket activation), so clients can connect at once with no race.
 * They run in a process group of their own, so that a Ctrl-C reaches
 * vsphere-sync, which stops them in order, and die if it dies.
 */
#ifndef SYNC_CHILD_H
#define SYNC_CHILD_H

#include <sys/types.h>

struct sync_child {
  char *name;                   /* for messages */
  pid_t pid;                    /* 0 when not running */
  char *socket;                 /* path to connect to */
};

/* Start ARGV[0] with ARGV, listening on a new socket in DIR named
 * NAME.sock.  KEEP_FD, if not -1, stays open in the child as the same
 * number.  Returns 0, or -1 with the error reported.
 */
int sync_child_start (struct sync_child *c, const char *dir,
                      const char *name, char *const argv[], int keep_fd);

/* Whether it has exited already (reaping it); its status in *STATUS. */
int sync_child_exited (struct sync_child *c, int *status);

/* SIGTERM, then SIGKILL after TIMEOUT seconds, and remove the socket.
 * Returns its wait status, or -1 if there was none to wait for.  Safe
 * to call again.
 */
int sync_child_stop (struct sync_child *c, unsigned timeout);

/* SIGTERM to every child still running: a stop signal ends the
 * servers, so that whatever waits on them fails at once.  Safe from
 * any thread.
 */
void sync_child_terminate_all (void);

/* Describe a wait status for a message. */
void sync_child_describe (int status, char *buf, size_t len);


/* Environment variable NAME, or DFLT where it is unset or empty: which
 * programs to run (NBDKIT, QEMU_IMG, ...), and where ($TMPDIR).
 */
const char *sync_env_or (const char *name, const char *dflt);

/* Run ARGV to completion, its standard output discarded.  Returns 0
 * if it exited with status 0, else -1 with the error reported, and what
 * it said on standard error in the message.
 */
int sync_run (char *const argv[]);

#endif /* SYNC_CHILD_H */
