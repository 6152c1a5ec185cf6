/* What the vsphere plugin exports for the cbt filter.  Both run in one
 * nbdkit process, which loads them RTLD_GLOBAL, so the filter finds
 * these by name with dlsym.
 */
#ifndef VSPHERE_LINK_H
#define VSPHERE_LINK_H

#include "vsphere-readahead.h"

/* The moref of the snapshot the plugin serves, or NULL (live disk). */
#define VS_LINK_SNAPSHOT_REF "vsphere_plugin_snapshot_ref"
typedef const char *vs_link_snapshot_ref (void);
vs_link_snapshot_ref vsphere_plugin_snapshot_ref;

/* The device key of the disk that NBD export NAME opens ("" for the
 * default), or -1 (reported).
 */
#define VS_LINK_EXPORT_KEY "vsphere_plugin_export_key"
typedef int vs_link_export_key (const char *name);
vs_link_export_key vsphere_plugin_export_key;

/* Undo the plugin's get_ready: remove its temporary snapshot and log
 * out.  For a filter whose own get_ready fails, since nbdkit 1.32 then
 * exits without unloading the plugin.
 */
#define VS_LINK_RELEASE "vsphere_plugin_release"
typedef void vs_link_release (void);
vs_link_release vsphere_plugin_release;

/* Where the clients of the disk with device KEY will read (PLAN, with
 * PLAN_OPAQUE: see vs_plan_fn), so that the plugin reads ahead there
 * only.  For a filter, from its get_ready.
 */
#define VS_LINK_READ_PLAN "vsphere_plugin_read_plan"
typedef void vs_link_read_plan (int key, vs_plan_fn *plan, void *plan_opaque);
vs_link_read_plan vsphere_plugin_read_plan;

#endif /* VSPHERE_LINK_H */
