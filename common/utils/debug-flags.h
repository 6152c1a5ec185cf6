/* The -D switches of the shared code.  Each program copies its own
 * flags here when it starts: the plugin its -D vsphere.soap and
 * -D vsphere.http, the tools their --verbose.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VS_DEBUG_FLAGS_H
#define VS_DEBUG_FLAGS_H

extern int vs_debug_soap;       /* one line per SOAP call */
extern int vs_debug_http;       /* one line per datastore request */

#endif /* VS_DEBUG_FLAGS_H */
