/* nbdkit-cbt-filter: on top of nbdkit-vsphere-plugin, expose only the
 * areas of the disk that changed since a CBT changeId.  Changed areas
 * are data; the rest is a hole that reads as zeros without touching
 * the plugin.  The plugin asks vSphere for the areas on its own session
 * (vsphere-link.h): the filter needs no login of its own.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <errno.h>
#include <dlfcn.h>

#include <nbdkit-filter.h>

#include "changes.h"
#include "number.h"
#include "vector.h"
#include "vsphere-link.h"

/* Changed areas are widened to whole 64 KiB blocks, so that a copy tool
 * working in 64 KiB requests never mixes changed and unchanged bytes in
 * one request.
 */
#define CBT_ALIGN 65536

static const char *change_id;           /* cbt-changeid= */
static const char *change_ids_file;     /* cbt-changeids= */
static bool snapshot_given;             /* the plugin's snapshot= */

/* One disk: what changed on it since its changeId.  The connection's
 * handle points here.
 */
struct disk_changes {
  int key;                      /* device key; -1: disk= or file= */
  char *change_id;              /* since when */
  /* Not 0: a full copy that stopped here goes on: the changes since
   * CHANGE_ID below it, the allocated areas from it on.
   */
  uint64_t resume_from;
  struct vs_changes changes;
  uint64_t size;
  char *description;            /* ends "next cbt-changeid=ID" */
};
DEFINE_VECTOR (disk_changes_vector, struct disk_changes)
static struct disk_changes_vector disks;

static void
cbt_unload (void)
{
  size_t i;

  for (i = 0; i < disks.len; i++) {
    vs_changes_free (&disks.ptr[i].changes);
    free (disks.ptr[i].change_id);
    free (disks.ptr[i].description);
  }
  disk_changes_vector_reset (&disks);
}

static int
cbt_config (nbdkit_next_config *next, nbdkit_backend *nxdata,
            const char *key, const char *value)
{
  if (strcmp (key, "cbt-changeid") == 0) {
    change_id = value;
    return 0;
  }
  if (strcmp (key, "cbt-changeids") == 0) {
    change_ids_file = value;
    return 0;
  }
  /* The plugin checks its parameters itself. */
  if (strcmp (key, "snapshot") == 0)
    snapshot_given = true;
  return next (nxdata, key, value);
}

static int
check_change_id (const char *where, const char *id)
{
  if (strcmp (id, "*") != 0 && vs_change_id_uuid_len (id) == 0) {
    nbdkit_error ("%s%s: not a changeId (they look like \"52 3c ec 11 ... "
                  "85 f2 ea 95/446\"), nor *", where, id);
    return -1;
  }
  return 0;
}

static int
add_disk (int key, const char *id, uint64_t resume_from)
{
  struct disk_changes d = { .key = key, .resume_from = resume_from };

  d.change_id = strdup (id);
  if (!d.change_id || disk_changes_vector_append (&disks, d) == -1) {
    free (d.change_id);
    nbdkit_error ("out of memory");
    return -1;
  }
  return 0;
}

/* A trailing "OFFSET" after a changeId (whose last word holds a '/'):
 * cut it off END and return it, or 0 if there is none.
 */
static int
split_resume_offset (char *end, const char *where, uint64_t *offset)
{
  char *space = strrchr (end, ' '), *tab = strrchr (end, '\t'), *last;
  int64_t v;

  *offset = 0;
  if (tab > space)
    space = tab;
  if (!space || strcmp (end, "*") == 0)
    return 0;
  last = space + 1;
  if (strchr (last, '/') || strspn (last, "0123456789") != strlen (last))
    return 0;
  if (vs_parse_int64 (last, 1, INT64_MAX, &v) == -1) {
    nbdkit_error ("%s%s: the offset to resume from must be a positive "
                  "number", where, last);
    return -1;
  }
  while (space > end && (space[-1] == ' ' || space[-1] == '\t'))
    space--;
  *space = '\0';
  *offset = v;
  return 0;
}

/* cbt-changeids=FILE: a line "DEVICE-KEY CHANGEID" per disk ("KEY *" for
 * a full copy of that disk, "KEY CHANGEID OFFSET" to go on with a full
 * copy that stopped at OFFSET); '#' starts a comment.
 */
static int
read_change_ids (const char *path)
{
  FILE *fp = fopen (path, "r");
  char *line = NULL, where[64];
  size_t len = 0, lineno = 0, i;
  int r = -1;

  if (!fp) {
    nbdkit_error ("cbt-changeids=%s: %m", path);
    return -1;
  }
  while (getline (&line, &len, fp) != -1) {
    char *p = line + strspn (line, " \t"), *end;
    uint64_t resume_from;
    int64_t key;

    lineno++;
    p[strcspn (p, "#\r\n")] = '\0';
    if (!*p)
      continue;
    end = p + strcspn (p, " \t");
    if (*end)
      *end++ = '\0';
    end += strspn (end, " \t");
    for (i = strlen (end); i > 0 && (end[i-1] == ' ' || end[i-1] == '\t');)
      end[--i] = '\0';
    snprintf (where, sizeof where, "cbt-changeids line %zu: ", lineno);
    if (vs_parse_int64 (p, 0, INT_MAX, &key) == -1 || !*end) {
      nbdkit_error ("%s: line %zu: expected \"DEVICE-KEY CHANGEID\" "
                    "(CHANGEID may be *)", path, lineno);
      goto out;
    }
    if (split_resume_offset (end, where, &resume_from) == -1 ||
        check_change_id (where, end) == -1)
      goto out;
    if (resume_from && strcmp (end, "*") == 0) {
      nbdkit_error ("%s: line %zu: a full copy (*) has no offset to resume "
                    "from", path, lineno);
      goto out;
    }
    for (i = 0; i < disks.len; i++)
      if (disks.ptr[i].key == key) {
        nbdkit_error ("%s: line %zu: device key %" PRIi64 " is given twice",
                      path, lineno, key);
        goto out;
      }
    if (add_disk (key, end, resume_from) == -1)
      goto out;
  }
  if (disks.len == 0) {
    nbdkit_error ("cbt-changeids=%s names no disk", path);
    goto out;
  }
  r = 0;

 out:
  free (line);
  fclose (fp);
  return r;
}

static int
cbt_config_complete (nbdkit_next_config_complete *next,
                     nbdkit_backend *nxdata)
{
  if (!change_id && !change_ids_file) {
    nbdkit_error ("cbt-changeid= is required: the changeId of the last "
                  "copy, or * for a first, sparse full copy (or, for "
                  "several disks, cbt-changeids=FILE)");
    return -1;
  }
  if (change_id && change_ids_file) {
    nbdkit_error ("give cbt-changeid= or cbt-changeids=, not both");
    return -1;
  }
  if (!dlsym (RTLD_DEFAULT, VS_LINK_TARGET)) {
    nbdkit_error ("the cbt filter works only on top of the vsphere plugin");
    return -1;
  }
  if (!snapshot_given) {
    nbdkit_error ("the cbt filter needs snapshot=NAME, snapshot=moref=REF "
                  "or snapshot=create: changes are counted up to a "
                  "snapshot");
    return -1;
  }
  if (change_id) {
    if (check_change_id ("cbt-changeid=", change_id) == -1 ||
        add_disk (-1, change_id, 0) == -1)
      return -1;
  }
  else if (read_change_ids (change_ids_file) == -1)
    return -1;
  return next (nxdata);
}

#define cbt_config_help \
  "cbt-changeid=<ID>|*     Expose what changed on the disk since this\n" \
  "                        changeId; * for the allocated areas.\n" \
  "cbt-changeids=<FILE>    The same for several disks, one per export:\n" \
  "                        lines of \"DEVICE-KEY CHANGEID\"."

/* The VM the plugin serves, as of its snapshot. */
static const struct vs_target *
plugin_target (void)
{
  vs_link_target *get = dlsym (RTLD_DEFAULT, VS_LINK_TARGET);
  const struct vs_target *t = get ? get () : NULL;

  if (!t || !t->snapshot_ref) {
    nbdkit_error ("the vsphere plugin serves no snapshot");
    return NULL;
  }
  return t;
}

/* nbdkit 1.32 exits without unloading the plugin when a filter's
 * get_ready fails: have it remove its snapshot and log out.
 */
static void
release_plugin (void)
{
  vs_link_release *release = dlsym (RTLD_DEFAULT, VS_LINK_RELEASE);

  if (release)
    release ();
}

static int
check_vm_cbt (const struct vs_target *t)
{
  if (!t->cbt_enabled) {
    nbdkit_error ("Changed Block Tracking is not enabled on VM %s: enable "
                  "it (VM options, or ReconfigVM with "
                  "changeTrackingEnabled=true), then take a snapshot; "
                  "until then only full copies are possible", t->vm_name);
    return -1;
  }
  return 0;
}

/* Refuse a changeId that CBT on disk D can no longer answer. */
static int
check_disk_cbt (const struct vs_disk *d, const char *id, const char *vm)
{
  size_t ulen = vs_change_id_uuid_len (id);

  if (!d->change_id) {
    nbdkit_error ("%s of VM %s has no changeId in this snapshot: CBT takes "
                  "effect on a disk after a snapshot or a power cycle; "
                  "take a full copy now and an incremental one next time",
                  d->file, vm);
    return -1;
  }
  if (ulen > 0 &&
      (vs_change_id_uuid_len (d->change_id) != ulen ||
       strncmp (d->change_id, id, ulen) != 0)) {
    if (change_ids_file)
      nbdkit_error ("%s: changeId %s belongs to another CBT history than "
                    "the disk's (%s): CBT was reset or the disk replaced; a "
                    "full copy is needed: write \"%d *\" in "
                    "cbt-changeids=%s", d->file, id, d->change_id, d->key,
                    change_ids_file);
    else
      nbdkit_error ("cbt-changeid=%s belongs to another CBT history than "
                    "the disk's (%s): CBT was reset or the disk replaced; a "
                    "full copy is needed: use cbt-changeid=*",
                    id, d->change_id);
    return -1;
  }
  return 0;
}

static const struct vs_disk *
disk_by_key (const struct vs_target *t, int key)
{
  size_t i;

  for (i = 0; i < t->disks.len; i++)
    if (t->disks.ptr[i].key == key)
      return &t->disks.ptr[i];
  nbdkit_error ("cbt-changeids=%s: VM %s has no disk with device key %d "
                "in this snapshot", change_ids_file, t->vm_name, key);
  return NULL;
}

/* A full copy of D that stopped at FROM goes on: what changed since
 * SINCE below FROM, everything allocated from FROM on.
 */
static int
changed_areas_resumed (vs_link_changed_areas *changed_areas,
                       const struct vs_disk *d, const char *since,
                       uint64_t from, struct vs_changes *out)
{
  struct vs_changes below = { 0 }, allocated = { 0 };
  int r;

  if (from > (uint64_t) d->capacity) {
    nbdkit_error ("%s: the offset to resume from, %" PRIu64 ", is past the "
                  "end of the %" PRIi64 "-byte disk", d->file, from,
                  d->capacity);
    return -1;
  }
  r = changed_areas (d, since, &below);
  if (r == 0)
    r = changed_areas (d, "*", &allocated);
  if (r == 0)
    r = vs_changes_splice (&below, &allocated, from, out);
  vs_changes_free (&below);
  vs_changes_free (&allocated);
  return r;
}

/* What changed on one disk, up to the snapshot. */
static int
query_disk (vs_link_changed_areas *changed_areas, const struct vs_target *t,
            struct disk_changes *dc)
{
  const struct vs_disk *d = dc->key == -1 ? t->disk : disk_by_key (t, dc->key);

  if (!d || check_disk_cbt (d, dc->change_id, t->vm_name) == -1)
    return -1;
  dc->key = d->key;
  dc->size = d->capacity;
  if ((dc->resume_from
       ? changed_areas_resumed (changed_areas, d, dc->change_id,
                                dc->resume_from, &dc->changes)
       : changed_areas (d, dc->change_id, &dc->changes)) == -1)
    return -1;
  vs_changes_align (&dc->changes, CBT_ALIGN, dc->size);
  if (asprintf (&dc->description, "changed since %s: %" PRIu64 " bytes in "
                "%zu areas; next cbt-changeid=%s", dc->change_id,
                dc->changes.bytes, dc->changes.areas.len, d->change_id) == -1) {
    dc->description = NULL;
    nbdkit_error ("asprintf: %m");
    return -1;
  }
  return 0;
}

/* A client copies the changed areas, in order, and nothing else. */
static bool
next_changed (void *opaque, uint64_t offset, uint64_t *start, uint64_t *end)
{
  const struct vs_changes *c = opaque;
  size_t i = vs_changes_find (c, offset);

  if (i == c->areas.len)
    return false;
  *start = offset > c->areas.ptr[i].start ? offset : c->areas.ptr[i].start;
  *end = c->areas.ptr[i].start + c->areas.ptr[i].length;
  return true;
}

static int
cbt_get_ready (int thread_model)
{
  vs_link_read_plan *plan = dlsym (RTLD_DEFAULT, VS_LINK_READ_PLAN);
  vs_link_changed_areas *changed_areas =
    dlsym (RTLD_DEFAULT, VS_LINK_CHANGED_AREAS);
  const struct vs_target *t = plugin_target ();
  size_t i;

  if (!plan || !changed_areas) {
    nbdkit_error ("the vsphere plugin below is not of this filter's build: "
                  "install both from the same nbdkit-vsphere");
    goto fail;
  }
  if (!t || check_vm_cbt (t) == -1)
    goto fail;
  for (i = 0; i < disks.len; i++) {
    if (query_disk (changed_areas, t, &disks.ptr[i]) == -1)
      goto fail;
    plan (disks.ptr[i].key, next_changed, &disks.ptr[i].changes);
  }
  return 0;

 fail:
  release_plugin ();
  return -1;
}

/* Each export is one disk; only the disks with a changeId are served. */
static void *
cbt_open (nbdkit_next_open *next, nbdkit_context *nxdata, int readonly,
          const char *exportname, int is_tls)
{
  vs_link_export_key *key_of = dlsym (RTLD_DEFAULT, VS_LINK_EXPORT_KEY);
  int key = key_of ? key_of (exportname) : -1;
  size_t i;

  if (key == -1)
    return NULL;
  for (i = 0; i < disks.len && disks.ptr[i].key != key; i++)
    ;
  if (i == disks.len) {
    if (change_ids_file)
      nbdkit_error ("export \"%s\" (device key %d) has no line in "
                    "cbt-changeids=%s: add \"%d CHANGEID\", or \"%d *\" "
                    "for a full copy", exportname, key, change_ids_file,
                    key, key);
    else
      nbdkit_error ("export \"%s\" is another disk (key %d) than the one "
                    "whose changes the cbt filter has (key %d, chosen by "
                    "disk= or file=); use cbt-changeids= for several disks",
                    exportname, key, disks.ptr[0].key);
    return NULL;
  }
  if (next (nxdata, readonly, exportname) == -1)
    return NULL;
  return &disks.ptr[i];
}

static int
cbt_can_extents (nbdkit_next *next, void *handle)
{
  return 1;
}

static int
cbt_can_cache (nbdkit_next *next, void *handle)
{
  return NBDKIT_CACHE_NONE;
}

static const char *
cbt_export_description (nbdkit_next *next, void *handle)
{
  const struct disk_changes *dc = handle;
  const char *base = next->export_description (next);

  return base ? nbdkit_printf_intern ("%s; %s", base, dc->description)
    : dc->description;
}

static int
cbt_pread (nbdkit_next *next, void *handle, void *buf, uint32_t count,
           uint64_t offset, uint32_t flags, int *err)
{
  const struct vs_changes *changes = &((struct disk_changes *) handle)->changes;
  size_t i = vs_changes_find (changes, offset);
  char *p = buf;

  while (count > 0) {
    const struct vs_area *a = i < changes->areas.len ? &changes->areas.ptr[i]
      : NULL;
    uint64_t n;

    if (a && offset >= a->start) {
      n = a->start + a->length - offset;
      if (n > count)
        n = count;
      if (next->pread (next, p, n, offset, flags, err) == -1)
        return -1;
      i++;
    }
    else {
      /* Unchanged: zeros, and no request to the datastore. */
      n = a ? a->start - offset : count;
      if (n > count)
        n = count;
      memset (p, 0, n);
    }
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

static int
cbt_extents (nbdkit_next *next, void *handle, uint32_t count, uint64_t offset,
             uint32_t flags, struct nbdkit_extents *extents, int *err)
{
  const struct disk_changes *dc = handle;

  if (vs_changes_extents (&dc->changes, offset, offset + count,
                          extents) == -1) {
    *err = errno;
    return -1;
  }
  return 0;
}

static struct nbdkit_filter filter = {
  .name               = "cbt",
  .longname           = "nbdkit vSphere Changed Block Tracking filter",
  .unload             = cbt_unload,
  .config             = cbt_config,
  .config_complete    = cbt_config_complete,
  .config_help        = cbt_config_help,
  .get_ready          = cbt_get_ready,
  .open               = cbt_open,
  .can_extents        = cbt_can_extents,
  .can_cache          = cbt_can_cache,
  .export_description = cbt_export_description,
  .pread              = cbt_pread,
  .extents            = cbt_extents,
};

NBDKIT_REGISTER_FILTER (filter)
