/* The tools' messages (tool-messages.h), all on standard error.  A
 * message is formatted first, then printed under one mutex, which also
 * guards the first error kept for the summary: lines from several
 * threads never interleave, and the first error stays the first.  The
 * quiet and verbose flags are set once, before any thread starts.
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

static bool quiet, verbose;
static char *first_error;
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
  fprintf (stderr, "%s: %s%s\n", program_invocation_short_name, kind,
           msg ? msg : fs);
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

const char *
tool_first_error (void)
{
  return first_error;
}
