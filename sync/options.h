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

struct sync_options {
  const char *output_dir;       /* -o */
  struct sync_disk_outputs disk_outputs;
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
