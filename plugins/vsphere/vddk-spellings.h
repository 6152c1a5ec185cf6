/* nbdkit-vddk-plugin's parameters, as this plugin takes them, so that
 * a VDDK command line works with only the plugin's name changed.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VDDK_SPELLINGS_H
#define VDDK_SPELLINGS_H

#include "vsphere-server.h"

/* KEY=VALUE in VDDK's spelling: rewrites *KEY and *VALUE into ours
 * (a bare "[DS] PATH.vmdk", which nbdkit hands over as vm=, is file=;
 * transports= becomes transport=) and returns 0 for the caller to take
 * them; returns 1 if taken here (port=, or a VDDK tuning parameter,
 * ignored with a warning), or -1 on a bad value (reported).  Any other
 * KEY is left alone, and 0 returned.
 */
int vddk_spelling (const char **key, const char **value);

/* After every parameter: port= joins server=.  Returns 0, or -1
 * (reported).
 */
int vddk_spellings_complete (struct vs_server *srv);

#endif /* VDDK_SPELLINGS_H */
