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
#include <fcntl.h>

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

/* Everything FD holds up to end of file, less one final newline. */
static int
read_secret (int fd, const char *what, char **out)
{
  size_t len = 0, cap = 256;
  char *buf = malloc (cap), *p;
  ssize_t r;

  if (!buf) {
    nbdkit_error ("malloc: %m");
    return -1;
  }
  for (;;) {
    if (len + 1 == cap) {
      if (!(p = realloc (buf, cap *= 2))) {
        nbdkit_error ("realloc: %m");
        goto fail;
      }
      buf = p;
    }
    r = read (fd, buf + len, cap - 1 - len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      nbdkit_error ("reading the password from %s: %m", what);
      goto fail;
    }
    if (r == 0)
      break;
    len += r;
  }
  if (len > 0 && buf[len - 1] == '\n')
    len--;
  buf[len] = '\0';
  *out = buf;
  return 0;
 fail:
  explicit_bzero (buf, cap);
  free (buf);
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

int
nbdkit_read_password (const char *value, char **password)
{
  int fd, r;
  char *end;
  long n;

  *password = NULL;
  if (strcmp (value, "-") == 0)
    return prompt_password (password);
  if (value[0] == '-') {
    errno = 0;
    n = strtol (value + 1, &end, 10);
    if (errno || *end || end == value + 1 || n <= STDERR_FILENO ||
        n > 65535) {
      nbdkit_error ("password=%s: expected -FD, a file descriptor above 2",
                    value);
      return -1;
    }
    r = read_secret (n, value, password);
    close (n);
    return r;
  }
  if (value[0] == '+') {
    fd = open (value + 1, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
      nbdkit_error ("password=%s: %m", value);
      return -1;
    }
    r = read_secret (fd, value + 1, password);
    close (fd);
    return r;
  }
  *password = strdup (value);
  if (!*password) {
    nbdkit_error ("strdup: %m");
    return -1;
  }
  return 0;
}
