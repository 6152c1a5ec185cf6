/* The owner of a temporary snapshot (vsphere-owner.h): host name,
 * machine-id, boot_id and PID namespace place the process, and its
 * start time from /proc/PID/stat tells it from a later process given
 * the same PID.  The answer is "dead" only when that is certain (the
 * same machine rebooted since, or the same namespace without that
 * process); otherwise "unknown".
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "number.h"
#include "vsphere-owner.h"

/* Read the first line of PATH into BUF, without its newline. */
static void
read_line (const char *path, char *buf, size_t len)
{
  FILE *fp = fopen (path, "r");

  buf[0] = '\0';
  if (fp) {
    if (!fgets (buf, len, fp))
      buf[0] = '\0';
    fclose (fp);
  }
  buf[strcspn (buf, "\n")] = '\0';
}

/* Field 22 of /proc/PID/stat, the start time; 0 if there is no such
 * process.  The command name (field 2) may hold spaces and ')', so
 * count from the last ')'.
 */
static unsigned long long
start_time (long pid)
{
  char path[64], line[1024], *p;
  unsigned long long t = 0;
  int field;

  snprintf (path, sizeof path, "/proc/%ld/stat", pid);
  read_line (path, line, sizeof line);
  p = strrchr (line, ')');
  if (!p)
    return 0;
  for (field = 2; p && field < 22; field++)
    p = strchr (p + 1, ' ');
  if (p)
    t = strtoull (p + 1, NULL, 10);
  return t;
}

void
vs_owner_self (struct vs_owner *o)
{
  ssize_t n;

  memset (o, 0, sizeof *o);
  if (gethostname (o->host, sizeof o->host - 1) == -1)
    o->host[0] = '\0';
  /* Spaces would split the recorded words. */
  for (char *p = o->host; *p; p++)
    if (*p == ' ' || *p == '=')
      *p = '_';
  read_line ("/etc/machine-id", o->machine, sizeof o->machine);
  read_line ("/proc/sys/kernel/random/boot_id", o->boot, sizeof o->boot);
  n = readlink ("/proc/self/ns/pid", o->pidns, sizeof o->pidns - 1);
  o->pidns[n > 0 ? n : 0] = '\0';
  o->pid = getpid ();
  o->start = start_time (o->pid);
}

void
vs_owner_format (const struct vs_owner *o, char *buf, size_t len)
{
  snprintf (buf, len, "host=%s machine=%s boot=%s pidns=%s pid=%ld "
            "start=%llu", o->host, o->machine, o->boot, o->pidns, o->pid,
            o->start);
}

/* Copy the word after " KEY=" (or KEY= at the start) into BUF. */
static int
word (const char *text, const char *key, char *buf, size_t len)
{
  size_t klen = strlen (key), n;
  const char *p;

  for (p = text; (p = strstr (p, key)) != NULL; p += klen)
    if ((p == text || p[-1] == ' ') && p[klen] == '=')
      break;
  if (!p)
    return -1;
  p += klen + 1;
  n = strcspn (p, " \t\r\n");
  if (n == 0 || n >= len)
    return -1;
  memcpy (buf, p, n);
  buf[n] = '\0';
  return 0;
}

int
vs_owner_parse (const char *text, struct vs_owner *o)
{
  char num[32];
  int64_t pid;
  uint64_t start;

  memset (o, 0, sizeof *o);
  if (word (text, "host", o->host, sizeof o->host) == -1 ||
      word (text, "machine", o->machine, sizeof o->machine) == -1 ||
      word (text, "boot", o->boot, sizeof o->boot) == -1 ||
      word (text, "pidns", o->pidns, sizeof o->pidns) == -1 ||
      word (text, "pid", num, sizeof num) == -1)
    return -1;
  if (vs_parse_int64 (num, 1, INT32_MAX, &pid) == -1 ||
      word (text, "start", num, sizeof num) == -1 ||
      vs_parse_uint64 (num, UINT64_MAX, &start) == -1)
    return -1;
  o->pid = pid;
  o->start = start;
  return 0;
}

enum vs_owner_state
vs_owner_state (const struct vs_owner *o)
{
  struct vs_owner self;

  vs_owner_self (&self);
  /* Host names repeat across machines; with the machine-id they rarely
   * do.
   */
  if (!self.host[0] || !self.machine[0] || !self.boot[0] ||
      strcmp (o->host, self.host) != 0 ||
      strcmp (o->machine, self.machine) != 0)
    return VS_OWNER_UNKNOWN;
  /* Same host, rebooted since: every process of that boot is gone. */
  if (strcmp (o->boot, self.boot) != 0)
    return VS_OWNER_DEAD;
  /* Another container on this kernel numbers its processes apart. */
  if (!self.pidns[0] || strcmp (o->pidns, self.pidns) != 0)
    return VS_OWNER_UNKNOWN;
  return start_time (o->pid) == o->start ? VS_OWNER_ALIVE : VS_OWNER_DEAD;
}
