/* What vsphere-v2v's routes share of the VM (v2v.h): its disks and
 * hardware as they are now, and its domain XML with the disks read
 * from where each route puts them.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include "domain.h"
#include "v2v.h"

int
v2v_read_live_vm (struct v2v *v)
{
  if (vs_target_find_disk (v->session, &v->params.target, &v->target,
                           NULL) == -1)
    return -1;
  return vs_hardware_get (v->session, v->target.vm_ref, NULL,
                          v->target.vm_name, &v->hw);
}

int
v2v_write_domain (const struct v2v *v, const struct v2v_source *sources,
                  const char *path)
{
  const struct v2v_domain d = {
    .server = v->params.server.server, .target = &v->target, .hw = &v->hw,
    .source = sources,
  };

  return v2v_domain_write (&d, path);
}
