/* Secrets: password=+FILE and password=-FD read up to VS_PASSWORD_MAX
 * bytes (nbdkit_read_password reads them with getline, which grows
 * without end on a file that holds no newline), the one reader of the
 * plugin, the cbt filter and the tools; and their wiping.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "vsphere-secret.h"
#include "number.h"

/* The first line of FD, without its newline, into *PASSWORD.  Reads
 * VS_PASSWORD_MAX + 1 bytes at most; stops at the newline, as getline
 * does, so that a writer that keeps its end open does not hold us up.
 * WHAT says what FD is, for messages.  *PASSWORD is NULL on entry.
 */
static int
read_line (int fd, const char *what, char **password)
{
  char buf[VS_PASSWORD_MAX + 1], *nl = NULL;
  size_t len = 0;
  ssize_t r;

  while (!nl && len < sizeof buf) {
    r = read (fd, buf + len, sizeof buf - len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      nbdkit_error ("reading the password from %s: %m", what);
      goto out;
    }
    if (r == 0)
      break;
    nl = memchr (buf + len, '\n', r);
    len += r;
  }
  if (nl)
    len = nl - buf;
  if (len > VS_PASSWORD_MAX)
    nbdkit_error ("%s holds more than %d bytes before its first newline: "
                  "it should hold only the password, on one line",
                  what, VS_PASSWORD_MAX);
  else if ((*password = strndup (buf, len)) == NULL)
    nbdkit_error ("strndup: %m");

 out:
  /* What followed the first line may be secret too. */
  explicit_bzero (buf, sizeof buf);
  return *password ? 0 : -1;
}

int
vs_read_password (const char *value, char **password)
{
  char what[64 + PATH_MAX];
  int64_t n;
  int fd, r;

  *password = NULL;
  if (value[0] == '+') {
    snprintf (what, sizeof what, "password file %s", value + 1);
    fd = open (value + 1, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
      nbdkit_error ("%s: %m", what);
      return -1;
    }
  }
  else if (value[0] == '-' && value[1] != '\0') {
    /* Not 0, 1 or 2: closing them after would break nbdkit. */
    if (vs_parse_int64 (value + 1, STDERR_FILENO + 1, INT_MAX, &n) == -1) {
      nbdkit_error ("password=%s: expected -FD, a file descriptor number "
                    "above 2", value);
      return -1;
    }
    fd = n;
    snprintf (what, sizeof what, "password file descriptor %d", fd);
  }
  else
    /* The password itself, or "-" to prompt for it. */
    return nbdkit_read_password (value, password);

  r = read_line (fd, what, password);
  close (fd);
  return r;
}

void
vs_free_secret (char *s)
{
  if (s)
    explicit_bzero (s, strlen (s));
  free (s);
}
