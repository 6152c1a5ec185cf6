/* Stop signals (tool-signals.h): the handler only records the first
 * signal, counts them and writes a byte to a self-pipe, all
 * async-signal-safe.  The count is what tells the cleanup phase's grace
 * of a few seconds from a second signal that ends it.
 * tool_signals_watch runs one thread that polls the pipe; nothing here
 * takes a lock.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool-messages.h"
#include "tool-signals.h"

/* After a stop signal, cleaning up (stopping nbdkit, removing the
 * snapshot) may wait on vCenter this long: with the second or so that
 * the cycle takes to notice the signal, the whole stop stays within
 * 10 s, as service managers expect; what is left is the guardian's.
 */
#define STOP_CLEANUP_S 7

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t signals_seen;
static sig_atomic_t seen_before_cleanup = -1;   /* -1: not cleaning up */
static struct timespec cleanup_deadline;        /* if stopped before it */
static int stop_pipe[2] = { -1, -1 };

static void
on_signal (int sig)
{
  int saved = errno;
  char c = 0;

  if (!stop_signal)
    stop_signal = sig;
  signals_seen++;
  if (write (stop_pipe[1], &c, 1) == -1) {
    /* Full pipe: it is readable already. */
  }
  errno = saved;
}

int
tool_signals_install (void)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  struct sigaction sa;
  size_t i;

  if (pipe2 (stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
    tool_error ("pipe: %m");
    return -1;
  }
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction (sigs[i], &sa, NULL) == -1) {
      tool_error ("sigaction: %m");
      return -1;
    }
  /* A closed output pipe is an error to report, not a way to die. */
  signal (SIGPIPE, SIG_IGN);
  return 0;
}

bool
tool_stopping (void)
{
  return stop_signal != 0;
}

bool
tool_report_stop (void)
{
  static bool reported;

  if (!stop_signal)
    return false;
  if (!reported)
    tool_error ("stopped by signal %d (%s)", stop_signal,
                strsignal (stop_signal));
  reported = true;
  return true;
}

int
tool_stop_fd (void)
{
  return stop_pipe[0];
}

void
tool_signals_cleanup_phase (void)
{
  seen_before_cleanup = signals_seen;
  clock_gettime (CLOCK_MONOTONIC, &cleanup_deadline);
  cleanup_deadline.tv_sec += STOP_CLEANUP_S;
}

bool
tool_waits_stop (void)
{
  struct timespec now;

  if (seen_before_cleanup < 0)
    return signals_seen > 0;
  if (signals_seen > seen_before_cleanup)
    return true;
  if (seen_before_cleanup == 0)
    return false;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return now.tv_sec > cleanup_deadline.tv_sec ||
    (now.tv_sec == cleanup_deadline.tv_sec &&
     now.tv_nsec >= cleanup_deadline.tv_nsec);
}

static pthread_t watcher;
static int unwatch_pipe[2] = { -1, -1 };
static void (*watch_callback) (void);

static void *
watch (void *opaque)
{
  struct pollfd fds[2] = {
    { .fd = stop_pipe[0], .events = POLLIN },
    { .fd = unwatch_pipe[0], .events = POLLIN },
  };

  while (poll (fds, 2, -1) == -1 && errno == EINTR)
    ;
  if (fds[0].revents && !fds[1].revents)
    watch_callback ();
  return NULL;
}

int
tool_signals_watch (void (*on_stop) (void))
{
  int err;

  if (pipe2 (unwatch_pipe, O_CLOEXEC) == -1) {
    tool_error ("pipe: %m");
    return -1;
  }
  watch_callback = on_stop;
  err = pthread_create (&watcher, NULL, watch, NULL);
  if (err) {
    errno = err;
    tool_error ("pthread_create: %m");
    close (unwatch_pipe[0]);
    close (unwatch_pipe[1]);
    unwatch_pipe[0] = unwatch_pipe[1] = -1;
    return -1;
  }
  return 0;
}

void
tool_signals_unwatch (void)
{
  if (unwatch_pipe[1] == -1)
    return;
  close (unwatch_pipe[1]);
  pthread_join (watcher, NULL);
  close (unwatch_pipe[0]);
  unwatch_pipe[0] = unwatch_pipe[1] = -1;
}
