/* Reading VirtualDisk devices out of config.hardware.device
 * (vsphere-disks.h), and choosing one by index, label or datastore
 * path.  Numbers from the server are parsed strictly: a disk whose key
 * or size cannot be trusted is refused, never guessed.  A failed choice
 * lists every disk of the VM, so that the user can pick again.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nbdkit-plugin.h>

#include "vsphere-disks.h"
#include "number.h"
#include "vsphere-xml.h"
#include "notice.h"

/* The disk in messages: its label, else its place among the disks. */
static void
disk_name (const struct vs_disk *d, size_t index, char *buf, size_t len)
{
  if (d->label)
    snprintf (buf, len, "\"%s\"", d->label);
  else
    snprintf (buf, len, "disk=%zu", index);
}

/* Child NAME of DEV as a number from MIN to MAX.  Returns 1 if present
 * and good, 0 if absent, -1 (error reported) if present and bad.
 */
static int
disk_number (xmlNodePtr dev, const char *name, int64_t min, int64_t max,
             const char *vm, const char *disk, int64_t *ret)
{
  char *s = vs_xml_child_text (dev, name);
  int r = 1;

  if (!s)
    return 0;
  if (vs_parse_int64 (s, min, max, ret) == -1) {
    nbdkit_error ("VM %s, disk %s: %s=\"%.64s\" from the server is not a "
                  "whole number from %" PRIi64 " to %" PRIi64 "; refusing "
                  "the disk", vm, disk, name, s, min, max);
    r = -1;
  }
  xmlFree (s);
  return r;
}

/* capacityInBytes, else capacityInKB (vSphere before 5.5 sends only
 * that); each must be positive and fit in 63 bits.
 */
static int
disk_capacity (xmlNodePtr dev, const char *vm, const char *disk,
               int64_t *ret)
{
  int64_t bytes, kb;
  int rb, rk;

  rb = disk_number (dev, "capacityInBytes", 1, INT64_MAX, vm, disk, &bytes);
  if (rb == -1)
    return -1;
  rk = disk_number (dev, "capacityInKB", 1, INT64_MAX / 1024, vm, disk, &kb);
  if (rk == -1)
    return -1;
  if (rb == 0 && rk == 0) {
    nbdkit_error ("VM %s, disk %s: the server gave neither capacityInBytes "
                  "nor capacityInKB; refusing a disk of unknown size",
                  vm, disk);
    return -1;
  }
  if (rb == 0) {
    *ret = kb * 1024;
    return 0;
  }
  /* capacityInKB may round a size that is not whole KiB either way. */
  if (rk == 1 && bytes / 1024 != kb && (bytes + 1023) / 1024 != kb)
    vs_notice ("warning: VM %s, disk %s: capacityInBytes=%" PRIi64
               " and capacityInKB=%" PRIi64 " disagree; using "
               "capacityInBytes", vm, disk, bytes, kb);
  *ret = bytes;
  return 0;
}

static int
parse_disk (xmlNodePtr dev, const char *vm, size_t index, struct vs_disk *d)
{
  xmlNodePtr backing = vs_xml_child (dev, "backing");
  char name[256];
  int64_t key;
  int r;

  memset (d, 0, sizeof *d);
  d->label = vs_xml_take (vs_xml_child_text (vs_xml_child (dev,
                                                          "deviceInfo"),
                                            "label"));
  disk_name (d, index, name, sizeof name);
  r = disk_number (dev, "key", INT_MIN, INT_MAX, vm, name, &key);
  if (r == 0)
    nbdkit_error ("VM %s, disk %s: the server gave no device key", vm, name);
  if (r != 1)
    return -1;
  d->key = key;
  if (disk_capacity (dev, vm, name, &d->capacity) == -1)
    return -1;
  r = disk_number (dev, "controllerKey", 0, INT_MAX, vm, name, &key);
  if (r == -1)
    return -1;
  d->controller_key = r == 1 ? key : -1;
  r = disk_number (dev, "unitNumber", 0, INT_MAX, vm, name, &key);
  if (r == -1)
    return -1;
  d->unit = r == 1 ? key : -1;
  d->file = vs_xml_take (vs_xml_child_text (backing, "fileName"));
  d->backing = vs_xml_take (vs_xml_type (backing));
  d->change_id = vs_xml_take (vs_xml_child_text (backing, "changeId"));
  d->uuid = vs_xml_take (vs_xml_child_text (backing, "uuid"));
  d->mode = vs_xml_take (vs_xml_child_text (backing, "diskMode"));
  d->encrypted = vs_xml_child (backing, "keyId") != NULL;
  return 0;
}

bool
vs_disk_independent (const struct vs_disk *d)
{
  return d->mode && strncmp (d->mode, "independent", 11) == 0;
}

static void
free_disk (struct vs_disk *d)
{
  free (d->label);
  free (d->file);
  free (d->backing);
  free (d->change_id);
  free (d->uuid);
  free (d->mode);
}

int
vs_disks_parse (xmlNodePtr devices, const char *vm, struct vs_disks *out)
{
  xmlNodePtr dev;

  memset (out, 0, sizeof *out);
  for (dev = devices ? devices->children : NULL; dev; dev = dev->next) {
    struct vs_disk disk;
    char *type;
    int is_disk;

    if (dev->type != XML_ELEMENT_NODE)
      continue;
    type = vs_xml_type (dev);
    is_disk = type && strcmp (type, "VirtualDisk") == 0;
    xmlFree (type);
    if (!is_disk)
      continue;
    if (parse_disk (dev, vm, out->len, &disk) == -1) {
      free_disk (&disk);
      vs_disks_free (out);
      return -1;
    }
    if (vs_disks_append (out, disk) == -1) {
      nbdkit_error ("realloc: out of memory");
      free_disk (&disk);
      vs_disks_free (out);
      return -1;
    }
  }
  return 0;
}

void
vs_disks_free (struct vs_disks *d)
{
  size_t i;

  for (i = 0; i < d->len; i++)
    free_disk (&d->ptr[i]);
  vs_disks_reset (d);
}

/* "disk=0: Hard disk 1, [ds] a/b.vmdk, 1024 bytes; disk=1: ..." */
static char *
describe_disks (const struct vs_disks *d)
{
  char *list = NULL;
  size_t len = 0, i;
  FILE *fp = open_memstream (&list, &len);

  if (!fp)
    return NULL;
  if (d->len == 0)
    fprintf (fp, "it has no virtual disks");
  else
    fprintf (fp, "its disks are");
  for (i = 0; i < d->len; i++)
    fprintf (fp, "%s disk=%zu: \"%s\" %s (%" PRIi64 " bytes)",
             i ? ";" : "", i,
             d->ptr[i].label ? d->ptr[i].label : "",
             d->ptr[i].file ? d->ptr[i].file : "(no file)",
             d->ptr[i].capacity);
  fclose (fp);
  return list;
}

/* The disk with datastore path FILE, or else index or label DISK (in
 * any case: vSphere's own are "Hard disk 1", people type them either
 * way).
 */
static const struct vs_disk *
find_disk (const struct vs_disks *d, const char *disk, const char *file)
{
  size_t i;
  int64_t idx;

  for (i = 0; i < d->len; i++) {
    if ((file && d->ptr[i].file && strcmp (d->ptr[i].file, file) == 0) ||
        (!file && disk && d->ptr[i].label &&
         strcasecmp (d->ptr[i].label, disk) == 0))
      return &d->ptr[i];
  }
  if (!file && vs_parse_int64 (disk, 0, INT64_MAX, &idx) == 0 &&
      (uint64_t) idx < d->len)
    return &d->ptr[idx];
  return NULL;
}

const struct vs_disk *
vs_disks_select (const struct vs_disks *d, const char *disk, const char *file,
                 const char *vm)
{
  const struct vs_disk *found = find_disk (d, disk, file);
  char *list;

  if (found)
    return found;
  list = describe_disks (d);
  if (file)
    nbdkit_error ("file=%s: VM %s has no disk with this datastore path; %s",
                  file, vm, list ? list : "");
  else
    nbdkit_error ("disk=%s: VM %s has no disk with this index or label; %s",
                  disk, vm, list ? list : "");
  free (list);
  return NULL;
}

const struct vs_disk *
vs_disks_by_export (const struct vs_disks *d, const char *name,
                    const char *vm)
{
  const struct vs_disk *found =
    name[0] == '[' ? find_disk (d, NULL, name) : find_disk (d, name, NULL);
  char *list;

  if (found)
    return found;
  list = describe_disks (d);
  nbdkit_error ("export \"%s\": VM %s has no disk with this datastore path, "
                "index or label; %s", name, vm, list ? list : "");
  free (list);
  return NULL;
}

const struct vs_disk *
vs_disks_by_key (const struct vs_disks *d, int key)
{
  size_t i;

  for (i = 0; i < d->len; i++)
    if (d->ptr[i].key == key)
      return &d->ptr[i];
  return NULL;
}

char *
vs_datastore_path_split (const char *file, const char **path)
{
  const char *close;

  if (!file || file[0] != '[' || (close = strchr (file, ']')) == NULL) {
    nbdkit_error ("%s: not a datastore path of the form "
                  "\"[datastore] dir/name.vmdk\"", file ? file : "(none)");
    return NULL;
  }
  *path = close + 1;
  while (**path == ' ')
    (*path)++;
  return strndup (file + 1, close - file - 1);
}
