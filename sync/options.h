/* vsphere-sync's command line.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_OPTIONS_H
#define SYNC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "sync-state.h"
#include "vector.h"

/* --disk KEY|INDEX=PATH */
struct sync_disk_output {
  long id;                      /* device key, or index when < 1000 */
  const char *path;
};
DEFINE_VECTOR (sync_disk_outputs, struct sync_disk_output)

/* --only-disk or --skip-disk KEY|INDEX|LABEL */
struct sync_disk_name {
  const char *text;             /* as given */
  long id;                      /* device key, or index when < 1000; -1:
                                 * a label */
};
DEFINE_VECTOR (sync_disk_names, struct sync_disk_name)

/* The quotes around NAME in messages: a label has them. */
static inline const char *
sync_disk_name_quote (const struct sync_disk_name *name)
{
  return name->id == -1 ? "\"" : "";
}

struct sync_options {
  const char *output_dir;       /* -o */
  struct sync_disk_outputs disk_outputs;
  /* --only-disk or --skip-disk and the disks they name (SYNC_ALL_DISKS:
   * neither), or --all-disks; else the state's choice.
   */
  enum sync_choice_mode choose;
  struct sync_disk_names disk_names;
  bool all_disks;
  enum sync_format format;
  bool format_given;            /* -f: else as the state records */
  bool overlay;
  const char *state_file;
  const char *snapshot;         /* --snapshot: existing one, not ours */
  bool full;
  enum { SYNC_VERIFY_NONE, SYNC_VERIFY_CHANGED, SYNC_VERIFY_WHOLE } verify;
  bool enable_cbt;
  bool final;                   /* shut the guest down first */
  unsigned power_off_after;     /* seconds; 0: never power off */
  unsigned connections;
  unsigned checkpoint;          /* seconds between records of a full copy */
  bool no_space_check;
  bool json;
  bool progress;                /* shown on standard error */
  unsigned progress_interval;   /* --progress=SECONDS; 0: the default */
  int progress_fd;              /* --progress-fd: JSON events; -1: none */
  bool quiet;
  bool verbose;
  /* The plugin parameters after "--", as KEY=VALUE. */
  char **params;
  size_t n_params;
};

/* Device keys of virtual disks start at 2000; anything below is an
 * index.
 */
#define SYNC_MIN_DEVICE_KEY 1000

#endif /* SYNC_OPTIONS_H */
