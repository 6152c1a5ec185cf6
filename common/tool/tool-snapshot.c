/* The tools' snapshot (tool-snapshot.h), a thin layer over
 * vsphere-snapshot.c and vsphere-temp-snapshot.c: it remembers whether
 * the snapshot is ours to remove, and adds the check that refuses to
 * read independent disks of a running VM.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <string.h>

#include "tool-messages.h"
#include "tool-signals.h"
#include "tool-snapshot.h"
#include "vsphere-guardian.h"
#include "vsphere-snapshot.h"

int
tool_snapshot_take (struct tool_snapshot *sn, struct vs_session *s,
                    const struct tool_params *p, const struct vs_target *t,
                    const char *existing)
{
  if (existing) {
    sn->existing = true;
    sn->ref = vs_snapshot_find (s, t->vm_ref, t->vm_name, existing);
    return sn->ref ? 0 : -1;
  }
  tool_info ("taking a snapshot of VM %s", t->vm_name);
  if (vs_temp_snapshot_take (&sn->temp, s, &p->server, t->vm_ref,
                             t->vm_name, p->target.quiesce, p->stale) == -1)
    return -1;
  sn->ref = strdup (sn->temp.ref);
  if (!sn->ref) {
    tool_error ("strdup: %m");
    return -1;
  }
  return 0;
}

/* Independent disks are not frozen by the snapshot: only a powered-off
 * VM gives them one moment.
 */
static int
check_independent (const struct vs_target *t)
{
  size_t i;

  for (i = 0; t->powered_on && i < t->disks.len; i++) {
    const struct vs_disk *d = &t->disks.ptr[i];

    if (vs_disk_independent (d)) {
      tool_error ("disk %zu \"%s\" (%s) is independent (diskMode %s): the "
                  "snapshot does not freeze it, so reading it would mix "
                  "moments while the VM runs; power the VM off first "
                  "(vsphere-sync --final does), or make the disk "
                  "dependent", i, d->label ? d->label : "", d->file,
                  d->mode);
      return -1;
    }
  }
  return 0;
}

int
tool_snapshot_read_disks (const struct tool_snapshot *sn,
                          struct vs_session *s, const struct tool_params *p,
                          struct vs_target *t)
{
  char *ref = strdup (sn->ref);

  if (!ref) {
    tool_error ("strdup: %m");
    return -1;
  }
  if (vs_target_find_disk (s, &p->target, t, ref) == -1)
    return -1;
  return check_independent (t);
}

int
tool_snapshot_remove (struct tool_snapshot *sn, struct vs_session *s,
                      const struct vs_target *t)
{
  int r = 0;

  if (!sn->existing && sn->temp.guardian) {
    if (sn->temp.ref)
      tool_info ("removing the snapshot %s", sn->temp.ref);
    else
      tool_error ("taking the snapshot %s of VM %s did not finish: its "
                  "guardian (pid %d) removes it if it was taken",
                  sn->temp.name, t->vm_name,
                  (int) vs_guardian_pid (sn->temp.guardian));
    r = vs_temp_snapshot_remove (&sn->temp, s, t->vm_ref, t->vm_name);
    /* A signal that came while removing it stopped the program too. */
    if (r == -1)
      tool_report_stop ();
  }
  return r;
}
