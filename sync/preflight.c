/* Checks before the work (preflight.h).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "preflight.h"
#include "tool-messages.h"
#include "tool-nbdkit.h"
#include "tool-paths.h"

/* -o DIR: there, or made now if its parent is. */
static int
output_dir_ready (const char *dir)
{
  struct stat st;

  if (mkdir (dir, 0777) == 0) {
    tool_info ("created the output directory %s", dir);
    return 0;
  }
  if (errno == ENOENT) {
    tool_error ("-o %s: its parent directory does not exist: create it, "
                "or give another -o", dir);
    return -1;
  }
  if (errno != EEXIST || stat (dir, &st) == -1 || !S_ISDIR (st.st_mode)) {
    tool_error ("-o %s: %s", dir,
                errno == EEXIST ? "not a directory" : strerror (errno));
    return -1;
  }
  return 0;
}

/* PATH can be written: it, if it is there, else the directory it would
 * be made in.  WHAT names it for the message.
 */
static int
writable (const char *what, const char *path)
{
  char *dir = tool_dir_of (path);
  bool there = access (path, F_OK) == 0;
  int r = 0;

  if (!dir)
    return -1;
  if (there ? access (path, W_OK) == -1 : access (dir, W_OK | X_OK) == -1) {
    tool_error ("%s %s cannot be %s: %s: %m; give a place this user can "
                "write", what, path, there ? "written" : "created",
                there ? path : dir);
    r = -1;
  }
  free (dir);
  return r;
}

int
sync_preflight_local (const struct sync_options *o, const char *state_path)
{
  size_t i;

  if (tool_nbdkit_check (tool_env_or ("NBDKIT_CBT_FILTER", "cbt")) == -1)
    return -1;
  if (o->output_dir &&
      (output_dir_ready (o->output_dir) == -1 ||
       writable ("the output directory", o->output_dir) == -1))
    return -1;
  for (i = 0; i < o->disk_outputs.len; i++)
    if (writable ("the output", o->disk_outputs.ptr[i].path) == -1)
      return -1;
  if (state_path && writable ("the state file", state_path) == -1)
    return -1;
  return 0;
}

/* What one file system must hold. */
struct need {
  dev_t dev;
  char *dir;                    /* an output's directory there */
  uint64_t bytes;
};

/* What J writes: what it copies, less what a full copy frees when it
 * starts a file that is there over.
 */
static uint64_t
job_writes (const struct sync_job *j)
{
  struct stat st;
  uint64_t freed = 0;

  if (j->out.full && !j->out.resume && !j->out.overlay &&
      stat (j->out.path, &st) == 0 && S_ISREG (st.st_mode))
    freed = (uint64_t) st.st_blocks * 512;
  return j->copy.to_copy > freed ? j->copy.to_copy - freed : 0;
}

/* Add J's writes to the file system of the directory it writes in. */
static int
add_need (struct need *needs, size_t *n, const struct sync_job *j)
{
  char *dir = tool_dir_of (j->out.overlay ? j->out.overlay : j->out.path);
  struct stat st;
  size_t i;

  if (!dir)
    return -1;
  if (stat (dir, &st) == -1) {
    tool_error ("%s: %m", dir);
    free (dir);
    return -1;
  }
  for (i = 0; i < *n && needs[i].dev != st.st_dev; i++)
    ;
  if (i == *n)
    needs[(*n)++] = (struct need) { .dev = st.st_dev, .dir = dir };
  else
    free (dir);
  needs[i].bytes += job_writes (j);
  return 0;
}

int
sync_preflight_space (const struct sync_options *o,
                      const struct sync_plan *plan)
{
  struct need *needs = calloc (plan->n ? plan->n : 1, sizeof *needs);
  size_t n = 0, i;
  int r = -1;

  if (o->no_space_check) {
    free (needs);
    return 0;
  }
  if (!needs) {
    tool_error ("calloc: %m");
    return -1;
  }
  for (i = 0; i < plan->n; i++)
    if (!sync_output_is_block (plan->job[i].out.path) &&
        add_need (needs, &n, &plan->job[i]) == -1)
      goto out;
  for (i = 0; i < n; i++) {
    uint64_t want = needs[i].bytes + needs[i].bytes / 100
      * SYNC_SPACE_MARGIN_PERCENT + SYNC_SPACE_MARGIN_BYTES;
    struct statvfs fs;
    uint64_t avail;

    if (needs[i].bytes == 0)
      continue;
    if (statvfs (needs[i].dir, &fs) == -1) {
      tool_error ("statvfs %s: %m", needs[i].dir);
      goto out;
    }
    avail = (uint64_t) fs.f_bavail * fs.f_frsize;
    if (avail < want) {
      tool_error ("not enough free space in %s for this cycle: it needs "
                  "%.1f MiB (%.1f MiB to write, and a margin of %d%% and "
                  "%d MiB), and %.1f MiB are free; free some space, write "
                  "the outputs elsewhere, or give --no-space-check if "
                  "the file system will have room when it is needed", needs[i].dir,
                  want / 1048576.0, needs[i].bytes / 1048576.0,
                  SYNC_SPACE_MARGIN_PERCENT, SYNC_SPACE_MARGIN_BYTES >> 20,
                  avail / 1048576.0);
      goto out;
    }
  }
  r = 0;
 out:
  for (i = 0; i < n; i++)
    free (needs[i].dir);
  free (needs);
  return r;
}
