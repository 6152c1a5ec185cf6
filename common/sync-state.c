#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tool-durable.h"
#include "tool-messages.h"
#include "sync-state.h"

const char *
sync_format_name (enum sync_format f)
{
  return f == SYNC_QCOW2 ? "qcow2" : "raw";
}

void
sync_state_disk_free (struct sync_state_disk *d)
{
  size_t i;

  free (d->label);
  free (d->path);
  free (d->uuid);
  free (d->change_id);
  free (d->output);
  free (d->partial_change_id);
  for (i = 0; i < d->n_overlays; i++)
    free (d->overlays[i]);
  free (d->overlays);
  memset (d, 0, sizeof *d);
}

void
sync_state_free (struct sync_state *st)
{
  size_t i;

  free (st->vm_moref);
  free (st->instance_uuid);
  free (st->vm_name);
  for (i = 0; i < st->n; i++)
    sync_state_disk_free (&st->disk[i]);
  free (st->disk);
  memset (st, 0, sizeof *st);
}

struct sync_state_disk *
sync_state_find (const struct sync_state *st, int key)
{
  size_t i;

  for (i = 0; i < st->n; i++)
    if (st->disk[i].key == key)
      return &st->disk[i];
  return NULL;
}

int
sync_state_reserve (struct sync_state *st, size_t n)
{
  struct sync_state_disk *d;

  if (st->n + n <= st->capacity)
    return 0;
  d = realloc (st->disk, (st->n + n) * sizeof *d);
  if (!d) {
    tool_error ("realloc: %m");
    return -1;
  }
  memset (d + st->n, 0, n * sizeof *d);
  st->disk = d;
  st->capacity = st->n + n;
  return 0;
}

struct sync_state_disk *
sync_state_add (struct sync_state *st)
{
  if (st->n == st->capacity)
    abort ();                   /* sync_state_reserve was not called */
  return &st->disk[st->n++];
}

/* ---- reading ---- */

struct reader {
  const char *path;
  int bad;
};

static json_object *
member (struct reader *r, json_object *o, const char *name, json_type type,
        bool nullable)
{
  json_object *v;

  if (!json_object_object_get_ex (o, name, &v) ||
      (v == NULL && !nullable) ||
      (v != NULL && !json_object_is_type (v, type))) {
    if (!r->bad)
      tool_error ("state file %s: \"%s\" is missing or not a %s; the file "
                  "was not written by this vsphere-sync: move it away to "
                  "start over with full copies", r->path, name,
                  json_type_to_name (type));
    r->bad = 1;
    return NULL;
  }
  return v;
}

static char *
string_member (struct reader *r, json_object *o, const char *name,
               bool nullable)
{
  json_object *v = member (r, o, name, json_type_string, nullable);
  char *s;

  if (!v)
    return NULL;
  if (!(s = strdup (json_object_get_string (v))))
    r->bad = 1;
  return s;
}

static int64_t
int_member (struct reader *r, json_object *o, const char *name)
{
  json_object *v = member (r, o, name, json_type_int, false);

  return v ? json_object_get_int64 (v) : 0;
}

static void
read_disk (struct reader *r, json_object *o, struct sync_state_disk *d)
{
  json_object *ov, *partial, *converted;
  char *format;
  size_t i;

  d->key = int_member (r, o, "key");
  d->label = string_member (r, o, "label", false);
  d->path = string_member (r, o, "path", false);
  d->uuid = string_member (r, o, "uuid", true);
  d->size = int_member (r, o, "size");
  d->change_id = string_member (r, o, "change_id", true);
  d->output = string_member (r, o, "output", false);
  format = string_member (r, o, "format", false);
  if (format && strcmp (format, "qcow2") == 0)
    d->format = SYNC_QCOW2;
  else if (format && strcmp (format, "raw") != 0) {
    tool_error ("state file %s: unknown format \"%s\"", r->path, format);
    r->bad = 1;
  }
  free (format);
  d->converted = json_object_object_get_ex (o, "converted", &converted) &&
    json_object_get_boolean (converted);
  if (json_object_object_get_ex (o, "partial", &partial) && partial) {
    d->partial_change_id = string_member (r, partial, "change_id", false);
    d->partial_copied = int_member (r, partial, "copied");
  }
  ov = member (r, o, "overlays", json_type_array, false);
  if (!ov)
    return;
  d->n_overlays = json_object_array_length (ov);
  d->overlays = calloc (d->n_overlays, sizeof *d->overlays);
  for (i = 0; d->overlays && i < d->n_overlays; i++) {
    json_object *e = json_object_array_get_idx (ov, i);

    if (!json_object_is_type (e, json_type_string) ||
        !(d->overlays[i] = strdup (json_object_get_string (e))))
      r->bad = 1;
  }
  if (!d->overlays)
    r->bad = 1;
}

int
sync_state_load (const char *path, struct sync_state *st)
{
  struct reader r = { .path = path };
  json_object *doc, *vm, *disks;
  size_t i;

  memset (st, 0, sizeof *st);
  if (access (path, F_OK) == -1 && errno == ENOENT)
    return 1;
  doc = json_object_from_file (path);
  if (!doc) {
    tool_error ("state file %s: %s", path, json_util_get_last_err ());
    return -1;
  }
  if (int_member (&r, doc, "version") != SYNC_STATE_VERSION && !r.bad) {
    tool_error ("state file %s has version %" PRId64 ", this vsphere-sync "
                "reads version %d", path, int_member (&r, doc, "version"),
                SYNC_STATE_VERSION);
    r.bad = 1;
  }
  vm = member (&r, doc, "vm", json_type_object, false);
  if (vm) {
    st->vm_moref = string_member (&r, vm, "moref", false);
    st->instance_uuid = string_member (&r, vm, "instance_uuid", true);
    st->vm_name = string_member (&r, vm, "name", false);
  }
  st->cycle = int_member (&r, doc, "cycle");
  disks = member (&r, doc, "disks", json_type_array, false);
  if (disks && !r.bad) {
    st->n = st->capacity = json_object_array_length (disks);
    st->disk = calloc (st->n ? st->n : 1, sizeof *st->disk);
    if (!st->disk)
      r.bad = 1;
    for (i = 0; !r.bad && i < st->n; i++) {
      json_object *d = json_object_array_get_idx (disks, i);

      if (!json_object_is_type (d, json_type_object)) {
        tool_error ("state file %s: disk %zu is not an object", path, i);
        r.bad = 1;
      }
      else
        read_disk (&r, d, &st->disk[i]);
    }
  }
  json_object_put (doc);
  if (r.bad) {
    sync_state_free (st);
    return -1;
  }
  return 0;
}

/* ---- writing ---- */

static json_object *
string_or_null (const char *s)
{
  return s ? json_object_new_string (s) : NULL;
}

static json_object *
disk_to_json (const struct sync_state_disk *d)
{
  json_object *o = json_object_new_object (), *ov = json_object_new_array ();
  size_t i;

  json_object_object_add (o, "key", json_object_new_int (d->key));
  json_object_object_add (o, "label", json_object_new_string (d->label));
  json_object_object_add (o, "path", json_object_new_string (d->path));
  json_object_object_add (o, "uuid", string_or_null (d->uuid));
  json_object_object_add (o, "size", json_object_new_int64 (d->size));
  json_object_object_add (o, "change_id", string_or_null (d->change_id));
  json_object_object_add (o, "output", json_object_new_string (d->output));
  json_object_object_add (o, "format",
                          json_object_new_string (sync_format_name (d->format)));
  for (i = 0; i < d->n_overlays; i++)
    json_object_array_add (ov, json_object_new_string (d->overlays[i]));
  json_object_object_add (o, "overlays", ov);
  if (d->converted)
    json_object_object_add (o, "converted", json_object_new_boolean (1));
  if (d->partial_change_id) {
    json_object *p = json_object_new_object ();

    json_object_object_add (p, "change_id",
                            json_object_new_string (d->partial_change_id));
    json_object_object_add (p, "copied",
                            json_object_new_int64 (d->partial_copied));
    json_object_object_add (o, "partial", p);
  }
  return o;
}

static json_object *
state_to_json (const struct sync_state *st)
{
  json_object *doc = json_object_new_object ();
  json_object *vm = json_object_new_object ();
  json_object *disks = json_object_new_array ();
  size_t i;

  json_object_object_add (doc, "version",
                          json_object_new_int (SYNC_STATE_VERSION));
  json_object_object_add (vm, "moref", json_object_new_string (st->vm_moref));
  json_object_object_add (vm, "instance_uuid",
                          string_or_null (st->instance_uuid));
  json_object_object_add (vm, "name", json_object_new_string (st->vm_name));
  json_object_object_add (doc, "vm", vm);
  json_object_object_add (doc, "cycle", json_object_new_int64 (st->cycle));
  for (i = 0; i < st->n; i++)
    json_object_array_add (disks, disk_to_json (&st->disk[i]));
  json_object_object_add (doc, "disks", disks);
  return doc;
}

int
sync_state_save (const char *path, const struct sync_state *st)
{
  json_object *doc = state_to_json (st);
  const char *text = json_object_to_json_string_ext (doc,
                                                     JSON_C_TO_STRING_PRETTY |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
  char *tmp = NULL;
  size_t len = strlen (text);
  int fd = -1, r = -1;

  if (asprintf (&tmp, "%s.tmp", path) == -1) {
    tmp = NULL;
    tool_error ("asprintf: %m");
    goto out;
  }
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1 ||
      write (fd, text, len) != (ssize_t) len || write (fd, "\n", 1) != 1 ||
      fsync (fd) == -1) {
    tool_error ("writing the state file %s: %m", tmp);
    goto out;
  }
  if (close (fd) == -1) {
    fd = -1;
    tool_error ("writing the state file %s: %m", tmp);
    goto out;
  }
  fd = -1;
  if (rename (tmp, path) == -1) {
    tool_error ("renaming %s to %s: %m", tmp, path);
    goto out;
  }
  r = tool_fsync_dir_of (path);
 out:
  if (fd >= 0)
    close (fd);
  if (r == -1 && tmp)
    unlink (tmp);
  free (tmp);
  json_object_put (doc);
  return r;
}
