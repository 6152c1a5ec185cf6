/* The tools' messages (tool-messages.h), all on standard error.  A
 * message is formatted first, then printed under one mutex, which also
 * guards the first error kept for the summary and the status line:
 * lines from several threads never interleave, the first error stays
 * the first, and a message never lands in the middle of the status
 * line.  The quiet and verbose flags are set once, before any thread
 * starts.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool-messages.h"

/* Back to the start of the line, and clear it to its end. */
#define CLEAR_LINE "\r\033[K"

static bool quiet, verbose;
static char *first_error;
static char status[1024];       /* the status line on screen, or "" */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void
tool_messages_init (bool q, bool v)
{
  quiet = q;
  verbose = v;
}

bool
tool_verbose (void)
{
  return verbose;
}

static void
say (const char *kind, const char *fs, va_list args)
{
  char *msg;

  if (vasprintf (&msg, fs, args) == -1)
    msg = NULL;
  pthread_mutex_lock (&lock);
  fprintf (stderr, "%s%s: %s%s\n%s", *status ? CLEAR_LINE : "",
           program_invocation_short_name, kind, msg ? msg : fs, status);
  if (*kind == 'e' && !first_error && msg) {
    first_error = msg;
    msg = NULL;
  }
  pthread_mutex_unlock (&lock);
  free (msg);
}

void
tool_verror (const char *fs, va_list args)
{
  say ("error: ", fs, args);
}

void
tool_vdebug (const char *fs, va_list args)
{
  if (verbose)
    say ("debug: ", fs, args);
}

void
tool_error (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  say ("error: ", fs, args);
  va_end (args);
}

void
tool_warning (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  say ("warning: ", fs, args);
  va_end (args);
}

void
tool_info (const char *fs, ...)
{
  va_list args;

  if (quiet)
    return;
  va_start (args, fs);
  say ("", fs, args);
  va_end (args);
}

void
tool_debug (const char *fs, ...)
{
  va_list args;

  if (!verbose)
    return;
  va_start (args, fs);
  say ("debug: ", fs, args);
  va_end (args);
}

void
tool_status (const char *line)
{
  pthread_mutex_lock (&lock);
  snprintf (status, sizeof status, "%s", line);
  fprintf (stderr, CLEAR_LINE "%s", status);
  pthread_mutex_unlock (&lock);
}

void
tool_status_end (void)
{
  pthread_mutex_lock (&lock);
  if (*status)
    fputc ('\n', stderr);
  *status = '\0';
  pthread_mutex_unlock (&lock);
}

const char *
tool_first_error (void)
{
  return first_error;
}
