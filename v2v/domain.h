/* The VM as libvirt domain XML, the input of virt-v2v -i libvirtxml
 * and virt-v2v-in-place -i libvirtxml.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef V2V_DOMAIN_H
#define V2V_DOMAIN_H

#include "vsphere-hardware.h"
#include "vsphere-target.h"

/* Where virt-v2v reads a disk from. */
struct v2v_source {
  enum { V2V_NBD, V2V_FILE, V2V_BLOCK } kind;
  int port;                     /* V2V_NBD: on localhost */
  const char *path;             /* V2V_FILE, V2V_BLOCK */
  const char *format;           /* "raw" or "qcow2" */
};

struct v2v_domain {
  const char *server;           /* for the metadata */
  const struct vs_target *target;       /* name, moref, disks */
  const struct vs_hardware *hw;
  const struct v2v_source *source;      /* one per disk of TARGET */
};

/* Write D to PATH ("-": standard output).  Returns 0, or -1 with the
 * error reported.
 */
int v2v_domain_write (const struct v2v_domain *d, const char *path);

#endif /* V2V_DOMAIN_H */
