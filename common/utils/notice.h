/* Warnings and notices that are not errors (nbdkit 1.32 has no
 * nbdkit_warning), prefixed as the running program's own messages:
 * "nbdkit: vsphere: " inside nbdkit, "vsphere-sync: " in the tool.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VS_NOTICE_H
#define VS_NOTICE_H

void vs_notice (const char *fs, ...) __attribute__ ((format (printf, 1, 2)));

/* The running program's name, for messages such as "nbdkit exited". */
const char *vs_program_name (void);

#endif /* VS_NOTICE_H */
