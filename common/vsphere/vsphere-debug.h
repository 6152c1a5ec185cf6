/* Debug switches of the shared code.  Each module copies its own
 * -D NAME.soap / -D NAME.http flags here when it loads.
 */
#ifndef VSPHERE_DEBUG_H
#define VSPHERE_DEBUG_H

extern int vs_debug_soap;       /* one line per SOAP call */
extern int vs_debug_http;       /* one line per datastore request */

#endif /* VSPHERE_DEBUG_H */
