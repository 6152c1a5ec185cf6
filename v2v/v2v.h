/* vsphere-v2v's internal interfaces: one run (struct v2v), and a
 * section per file.  main.c parses the options and runs a route;
 * the routes (cold.c, in-place.c) build on vm.c, convert.c and
 * domain.c, and nothing calls back into main.c.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef V2V_V2V_H
#define V2V_V2V_H

#include "domain.h"
#include "options.h"
#include "tool-params.h"
#include "vsphere-hardware.h"
#include "vsphere-soap.h"
#include "vsphere-target.h"

struct v2v {
  const struct v2v_options *o;
  struct tool_params params;
  struct vs_session *session;
  struct vs_target target;      /* the VM, and its disks once read */
  struct vs_hardware hw;
  char tmpdir[64];              /* the XML and virt-v2v's log */
  char xml[80];                 /* TMPDIR/domain.xml */
  int vm_lock;                  /* shared with vsphere-sync */
};

/* cold.c */

/* Route A: serve every disk from one snapshot over NBD, and run
 * virt-v2v -i libvirtxml with the user's own output options.
 */
int v2v_cold (struct v2v *v);

/* --print-xml without --state: the VM's disks as NBD exports on
 * localhost, one port each from --nbd-port up.
 */
int v2v_print_nbd (struct v2v *v);

/* in-place.c */

/* Route B: convert vsphere-sync's outputs in place with
 * virt-v2v-in-place -i libvirtxml, or, with --print-xml, describe them.
 */
int v2v_in_place (struct v2v *v);

/* vm.c */

/* The VM's disks and hardware as they are now, not of a snapshot.
 * Returns 0, or -1 (reported).
 */
int v2v_read_live_vm (struct v2v *v);

/* The VM's domain XML, its disks read from SOURCES, into PATH ("-":
 * standard output).  Returns 0, or -1 (reported).
 */
int v2v_write_domain (const struct v2v *v, const struct v2v_source *sources,
                      const char *path);

/* convert.c */

/* Before any work: that the route's converter ($VIRT_V2V or
 * $VIRT_V2V_IN_PLACE) runs and reads libvirt XML.  Returns 0, or -1
 * (reported, saying what to install).
 */
int v2v_check_converter (const struct v2v *v);

/* Run the route's converter -i libvirtxml XML ARGS..., keeping its log
 * in the temporary directory.  Returns 0, or -1 (reported).
 */
int v2v_run_converter (struct v2v *v, const char *xml);

#endif /* V2V_V2V_H */
