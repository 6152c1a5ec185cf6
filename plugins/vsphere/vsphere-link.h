/* The plugin's interface to the cbt filter.  Both run in one nbdkit
 * process, which loads them RTLD_GLOBAL, so the filter finds these
 * functions by name with dlsym; their absence means the plugin below
 * the filter is not this one.  nbdkit runs the plugin's get_ready
 * before the filter's, so from the filter's get_ready on the plugin
 * has its session, its VM and the snapshot it serves.  The filter
 * never logs in itself and never sees the password.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_LINK_H
#define VSPHERE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "changes.h"
#include "vsphere-target.h"

/* Where a client copying the source will read next, from OFFSET on:
 * fills [*START, *END) with START >= OFFSET, or returns false if it
 * reads nothing more.  For a copy of what changed (the cbt filter).
 */
typedef bool vs_plan_fn (void *plan, uint64_t offset, uint64_t *start,
                         uint64_t *end);

/* The VM the plugin serves, with its disks as of the snapshot it
 * serves (snapshot_ref NULL: the live disks).  From get_ready on.
 */
#define VS_LINK_TARGET "vsphere_plugin_target"
typedef const struct vs_target *vs_link_target (void);
vs_link_target vsphere_plugin_target;

/* What changed on disk D of that target between changeId SINCE ("*":
 * its allocated areas) and the snapshot served, asked on the plugin's
 * session.  Returns 0, or -1 (reported).
 */
#define VS_LINK_CHANGED_AREAS "vsphere_plugin_changed_areas"
typedef int vs_link_changed_areas (const struct vs_disk *d, const char *since,
                                   struct vs_changes *out);
vs_link_changed_areas vsphere_plugin_changed_areas;

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
