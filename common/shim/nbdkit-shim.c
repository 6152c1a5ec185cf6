/* nbdkit's server functions for programs that are not nbdkit
 * (nbdkit-shim.h): messages go where the program says, booleans and
 * passwords are read as nbdkit reads them.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "nbdkit-shim.h"

static nbdkit_shim_message_fn *error_fn, *debug_fn;
static __thread char last_error[4096];

void
nbdkit_shim_set_messages (nbdkit_shim_message_fn *error,
                          nbdkit_shim_message_fn *debug)
{
  error_fn = error;
  debug_fn = debug;
}

const char *
nbdkit_shim_last_error (void)
{
  return last_error;
}

void
nbdkit_shim_clear_error (void)
{
  last_error[0] = '\0';
}

void
nbdkit_error (const char *fs, ...)
{
  int saved_errno = errno;
  va_list args;

  va_start (args, fs);
  vsnprintf (last_error, sizeof last_error, fs, args);
  va_end (args);
  if (error_fn) {
    /* %m in FS means the caller's errno, as in nbdkit. */
    errno = saved_errno;
    va_start (args, fs);
    error_fn (fs, args);
    va_end (args);
  }
  errno = saved_errno;
}

void
nbdkit_debug (const char *fs, ...)
{
  va_list args;

  if (!debug_fn)
    return;
  va_start (args, fs);
  debug_fn (fs, args);
  va_end (args);
}

void
nbdkit_set_error (int err)
{
  errno = err;
}

/* The words nbdkit takes, in any case. */
int
nbdkit_parse_bool (const char *str)
{
  static const char *const yes[] = { "1", "true", "t", "yes", "y", "on" };
  static const char *const no[] = { "0", "false", "f", "no", "n", "off" };
  size_t i;

  for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp (str, yes[i]) == 0)
      return 1;
    if (strcasecmp (str, no[i]) == 0)
      return 0;
  }
  nbdkit_error ("could not decipher boolean (%s)", str);
  return -1;
}

/* A program that is not nbdkit is never shutting down nbdkit. */
int
nbdkit_nanosleep (unsigned sec, unsigned nsec)
{
  struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };

  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
  return 0;
}

static int
prompt_password (char **out)
{
  struct termios old, quiet;
  char *line = NULL;
  size_t cap = 0;
  ssize_t r;

  if (!isatty (STDIN_FILENO)) {
    nbdkit_error ("password=-: standard input is not a terminal; use "
                  "password=+FILE or password=-FD");
    return -1;
  }
  fprintf (stderr, "password: ");
  tcgetattr (STDIN_FILENO, &old);
  quiet = old;
  quiet.c_lflag &= ~ECHO;
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
  r = getline (&line, &cap, stdin);
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
  fprintf (stderr, "\n");
  if (r == -1) {
    free (line);
    nbdkit_error ("password=-: no password was typed");
    return -1;
  }
  if (r > 0 && line[r - 1] == '\n')
    line[r - 1] = '\0';
  *out = line;
  return 0;
}

/* vs_read_password reads +FILE and -FD itself (to a bound), so only
 * "-" and the password itself come here.
 */
int
nbdkit_read_password (const char *value, char **password)
{
  *password = NULL;
  if (strcmp (value, "-") == 0)
    return prompt_password (password);
  *password = strdup (value);
  if (!*password) {
    nbdkit_error ("strdup: %m");
    return -1;
  }
  return 0;
}
