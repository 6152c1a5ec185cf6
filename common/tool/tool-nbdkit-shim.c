/* The nbdkit server functions that the shared code (common/) calls,
 * for a program that is not nbdkit: errors and debug go to
 * the tool's messages; passwords are read as nbdkit reads them.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "tool-messages.h"

void
nbdkit_error (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  tool_verror (fs, args);
  va_end (args);
}

void
nbdkit_debug (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  tool_vdebug (fs, args);
  va_end (args);
}

void
nbdkit_set_error (int err)
{
  errno = err;
}

int
nbdkit_parse_bool (const char *str)
{
  static const char *const yes[] = { "1", "true", "yes", "on" };
  static const char *const no[] = { "0", "false", "no", "off" };
  size_t i;

  for (i = 0; i < 4; i++) {
    if (strcasecmp (str, yes[i]) == 0)
      return 1;
    if (strcasecmp (str, no[i]) == 0)
      return 0;
  }
  nbdkit_error ("could not decipher boolean (%s): write true or false", str);
  return -1;
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
