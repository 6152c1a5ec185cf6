/* vsphere-sync's state file: reading it strictly, writing it
 * atomically, paths relative to its directory, and the checks of the
 * images it names.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tool-durable.h"
#include "tool-messages.h"
#include "tool-paths.h"
#include "sync-state.h"

/* Far more than any VM's state; a larger file is not ours. */
#define MAX_STATE_BYTES (16 * 1024 * 1024)

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

/* *DST, a copy of SRC (or NULL); false if out of memory. */
static bool
copy_string (char **dst, const char *src)
{
  *dst = src ? strdup (src) : NULL;
  return !src || *dst;
}

int
sync_state_disk_copy (struct sync_state_disk *dst,
                      const struct sync_state_disk *src)
{
  size_t i;

  *dst = *src;
  dst->label = dst->path = dst->uuid = dst->change_id = dst->output = NULL;
  dst->partial_change_id = NULL;
  dst->overlays = NULL;
  dst->n_overlays = 0;
  if (!copy_string (&dst->label, src->label) ||
      !copy_string (&dst->path, src->path) ||
      !copy_string (&dst->uuid, src->uuid) ||
      !copy_string (&dst->change_id, src->change_id) ||
      !copy_string (&dst->output, src->output) ||
      !copy_string (&dst->partial_change_id, src->partial_change_id) ||
      !(dst->overlays = calloc (src->n_overlays + 1, sizeof *dst->overlays)))
    goto oom;
  for (i = 0; i < src->n_overlays; i++) {
    if (!copy_string (&dst->overlays[i], src->overlays[i]))
      goto oom;
    dst->n_overlays = i + 1;
  }
  return 0;
 oom:
  tool_error ("out of memory");
  return -1;
}

void
sync_state_free (struct sync_state *st)
{
  size_t i;

  free (st->vm_moref);
  free (st->instance_uuid);
  free (st->vm_name);
  sync_choice_free (&st->choice);
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

const char *
sync_state_newest_image (const struct sync_state_disk *d)
{
  return d->n_overlays ? d->overlays[d->n_overlays - 1] : d->output;
}

/* ---- the images ---- */

int
sync_identity_read (const char *path, struct sync_identity *id)
{
  struct stat sb;

  memset (id, 0, sizeof *id);
  if (stat (path, &sb) == -1)
    return -1;
  if (!S_ISREG (sb.st_mode))
    return 0;
  id->known = true;
  id->inode = sb.st_ino;
  id->bytes = sb.st_size;
  id->mtime = sb.st_mtim;
  return 0;
}

static int
set_why (char **why, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));

static int
set_why (char **why, const char *fs, ...)
{
  va_list args;
  int r;

  va_start (args, fs);
  r = vasprintf (why, fs, args);
  va_end (args);
  if (r == -1) {
    *why = NULL;
    tool_error ("out of memory");
    return -1;
  }
  return 0;
}

int
sync_state_check_images (const struct sync_state_disk *d, char **why)
{
  const char *newest = sync_state_newest_image (d);
  const struct sync_identity *was = &d->identity;
  struct sync_identity now;
  size_t i;

  *why = NULL;
  if (sync_identity_read (d->output, &now) == -1)
    return set_why (why, "its output %s is missing (%m)", d->output);
  /* A block device is sized when locked. */
  if (now.known && d->format == SYNC_RAW && now.bytes != d->size)
    return set_why (why, "its output %s holds %" PRId64 " bytes, not the "
                    "disk's %" PRId64 " (truncated or replaced)", d->output,
                    now.bytes, d->size);
  for (i = 0; i < d->n_overlays; i++)
    if (access (d->overlays[i], F_OK) == -1)
      return set_why (why, "its overlay %s is missing", d->overlays[i]);
  if (sync_identity_read (newest, &now) == -1)
    return set_why (why, "its overlay %s is missing (%m)", newest);
  if (!now.known || !was->known)
    return 0;
  if (now.inode != was->inode)
    return set_why (why, "%s is not the file that vsphere-sync wrote (inode "
                    "%" PRIu64 ", was %" PRIu64 "): it was copied, restored "
                    "or replaced", newest, now.inode, was->inode);
  /* An update cut short changed it since: then its inode is what can
   * be checked.
   */
  if (d->whole && now.bytes != was->bytes)
    return set_why (why, "%s holds %" PRId64 " bytes, not the %" PRId64
                    " that vsphere-sync left (truncated or written since)",
                    newest, now.bytes, was->bytes);
  if (d->whole && (now.mtime.tv_sec != was->mtime.tv_sec ||
                   now.mtime.tv_nsec != was->mtime.tv_nsec))
    return set_why (why, "%s was modified after vsphere-sync wrote it",
                    newest);
  return 0;
}

/* DIR/OUTPUT.N.qcow2, or with ".part". */
bool
sync_state_owns_overlay (const char *output, const char *path,
                         bool temporary)
{
  size_t len = strlen (output);
  const char *p = path + len, *digits;

  if (strncmp (path, output, len) != 0 || *p != '.')
    return false;
  digits = ++p;
  while (*p >= '0' && *p <= '9')
    p++;
  if (p == digits || *digits == '0')
    return false;
  return strcmp (p, temporary ? ".qcow2.part" : ".qcow2") == 0;
}

/* ---- paths relative to the state's directory ---- */

/* The absolute directory of the state file PATH, or NULL (reported). */
static char *
state_dir (const char *path)
{
  char *in = tool_dir_of (path), *dir = NULL;

  if (in && !(dir = realpath (in, NULL)))
    tool_error ("state file %s: its directory: %m", path);
  free (in);
  return dir;
}

/* PATH as written in the file: relative to DIR when it lies in DIR. */
static const char *
relative_to (const char *dir, const char *path, bool absolute)
{
  size_t len = strlen (dir);

  if (absolute || strcmp (dir, "/") == 0 || strncmp (path, dir, len) != 0 ||
      path[len] != '/' || !path[len + 1])
    return path;
  return path + len + 1;
}

/* ---- reading ---- */

struct reader {
  const char *path;
  const char *dir;
  int bad;
};

/* One message for the first thing wrong; the file is not ours. */
static void
damaged (struct reader *r, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
damaged (struct reader *r, const char *fs, ...)
{
  va_list args;
  char *what;

  if (r->bad++)
    return;
  va_start (args, fs);
  if (vasprintf (&what, fs, args) == -1)
    what = NULL;
  va_end (args);
  tool_error ("state file %s is damaged: %s; restore it from a backup, or "
              "run vsphere-sync with --full to start over with full copies",
              r->path, what ? what : "out of memory");
  free (what);
}

static json_object *
member (struct reader *r, json_object *o, const char *name, json_type type,
        bool nullable)
{
  json_object *v;

  if (!json_object_object_get_ex (o, name, &v) ||
      (v == NULL && !nullable) ||
      (v != NULL && !json_object_is_type (v, type))) {
    damaged (r, "\"%s\" is missing or not a%s %s", name,
             type == json_type_int || type == json_type_object
             || type == json_type_array ? "n" : "",
             type == json_type_int ? "integer" : json_type_to_name (type));
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
    damaged (r, "out of memory");
  return s;
}

/* An integer from MIN to MAX: json-c keeps numbers past int64 at its
 * limits, and the file's "4294969296" must not read as some other key.
 */
static int64_t
int_member (struct reader *r, json_object *o, const char *name,
            int64_t min, int64_t max)
{
  json_object *v = member (r, o, name, json_type_int, false);
  int64_t n;

  if (!v)
    return 0;
  errno = 0;
  n = json_object_get_int64 (v);
  if (errno || n < min || n > max ||
      (n == INT64_MAX && json_object_get_uint64 (v) != (uint64_t) INT64_MAX)) {
    damaged (r, "\"%s\" is %s, not a number from %" PRId64 " to %" PRId64,
             name, json_object_to_json_string (v), min, max);
    return 0;
  }
  return n;
}

static bool
bool_member (struct reader *r, json_object *o, const char *name)
{
  json_object *v;

  if (!json_object_object_get_ex (o, name, &v))
    return false;
  if (!json_object_is_type (v, json_type_boolean)) {
    damaged (r, "\"%s\" is not true or false", name);
    return false;
  }
  return json_object_get_boolean (v);
}

/* An output or overlay path, made absolute. */
static char *
path_member (struct reader *r, json_object *v, const char *name,
             bool *absolute)
{
  const char *s = json_object_get_string (v);
  char *p;

  if (!*s) {
    damaged (r, "\"%s\" is empty", name);
    return NULL;
  }
  if (absolute)
    *absolute = s[0] == '/';
  if (s[0] == '/')
    p = strdup (s);
  else if (asprintf (&p, "%s%s%s", r->dir, strcmp (r->dir, "/") ? "/" : "",
                     s) == -1)
    p = NULL;
  if (!p)
    damaged (r, "out of memory");
  return p;
}

static void
read_identity (struct reader *r, json_object *o, struct sync_identity *id)
{
  json_object *v;

  if (!json_object_object_get_ex (o, "identity", &v) || !v)
    return;
  if (!json_object_is_type (v, json_type_object)) {
    damaged (r, "\"identity\" is not an object");
    return;
  }
  id->known = true;
  id->inode = int_member (r, v, "inode", 0, INT64_MAX);
  id->bytes = int_member (r, v, "bytes", 0, INT64_MAX);
  id->mtime.tv_sec = int_member (r, v, "mtime_sec", 0, INT64_MAX);
  id->mtime.tv_nsec = int_member (r, v, "mtime_nsec", 0, 999999999);
}

static void
read_overlays (struct reader *r, json_object *o, struct sync_state_disk *d)
{
  json_object *ov = member (r, o, "overlays", json_type_array, false);
  size_t i;

  if (!ov)
    return;
  d->n_overlays = json_object_array_length (ov);
  d->overlays = calloc (d->n_overlays + 1, sizeof *d->overlays);
  if (!d->overlays) {
    damaged (r, "out of memory");
    return;
  }
  for (i = 0; !r->bad && i < d->n_overlays; i++) {
    json_object *e = json_object_array_get_idx (ov, i);

    if (!json_object_is_type (e, json_type_string))
      damaged (r, "overlay %zu is not a string", i);
    else
      d->overlays[i] = path_member (r, e, "overlays", NULL);
  }
}

static void
read_disk (struct reader *r, json_object *o, struct sync_state_disk *d,
           int version)
{
  json_object *partial, *output;
  char *format;

  d->key = int_member (r, o, "key", 0, INT_MAX);
  d->label = string_member (r, o, "label", false);
  d->path = string_member (r, o, "path", false);
  d->uuid = string_member (r, o, "uuid", true);
  d->size = int_member (r, o, "size", 0, INT64_MAX);
  d->change_id = string_member (r, o, "change_id", true);
  /* Version 1 had no "whole": a changeId meant a whole copy. */
  d->whole = version == 1 ? d->change_id != NULL
    : bool_member (r, o, "whole");
  output = member (r, o, "output", json_type_string, false);
  if (output)
    d->output = path_member (r, output, "output", &d->output_absolute);
  /* Version 1 wrote every path absolute: those in the state's
   * directory become relative.
   */
  if (version == 1)
    d->output_absolute = false;
  format = string_member (r, o, "format", false);
  if (format && strcmp (format, "qcow2") == 0)
    d->format = SYNC_QCOW2;
  else if (format && strcmp (format, "raw") != 0)
    damaged (r, "unknown format \"%s\"", format);
  free (format);
  d->converted = bool_member (r, o, "converted");
  if (json_object_object_get_ex (o, "partial", &partial) && partial) {
    d->partial_change_id = string_member (r, partial, "change_id", false);
    d->partial_copied = int_member (r, partial, "copied", 0, d->size);
  }
  if (d->whole && !d->change_id)
    damaged (r, "disk %d is whole as of no changeId", d->key);
  read_identity (r, o, &d->identity);
  read_overlays (r, o, d);
}

/* "disk_choice" (version 3): absent means every disk. */
static void
read_choice (struct reader *r, json_object *doc, struct sync_disk_choice *c)
{
  json_object *o, *keys;
  char *mode;
  size_t i, k;

  if (!json_object_object_get_ex (doc, "disk_choice", &o) || !o)
    return;
  if (!json_object_is_type (o, json_type_object)) {
    damaged (r, "\"disk_choice\" is not an object");
    return;
  }
  mode = string_member (r, o, "mode", false);
  keys = member (r, o, "keys", json_type_array, false);
  if (mode && strcmp (mode, "only") == 0)
    c->mode = SYNC_ONLY_DISKS;
  else if (mode && strcmp (mode, "skip") == 0)
    c->mode = SYNC_SKIP_DISKS;
  else if (mode && strcmp (mode, "all") != 0)
    damaged (r, "unknown \"disk_choice\" mode \"%s\"", mode);
  free (mode);
  if (r->bad)
    return;
  c->n = json_object_array_length (keys);
  c->keys = calloc (c->n + 1, sizeof *c->keys);
  if (!c->keys) {
    damaged (r, "out of memory");
    return;
  }
  for (i = 0; !r->bad && i < c->n; i++) {
    json_object *e = json_object_array_get_idx (keys, i);
    int64_t key = json_object_get_int64 (e);

    if (!json_object_is_type (e, json_type_int) || key < 0 || key > INT_MAX)
      damaged (r, "\"disk_choice\" key %zu is not a device key", i);
    c->keys[i] = key;
    for (k = 0; !r->bad && k < i; k++)
      if (c->keys[k] == key)
        damaged (r, "\"disk_choice\" names key %d twice", c->keys[k]);
  }
  if (!r->bad && (c->mode == SYNC_ALL_DISKS) != (c->n == 0))
    damaged (r, "\"disk_choice\" mode \"%s\" with %zu keys",
             sync_choice_mode_name (c->mode), c->n);
}

/* PATH's JSON document, or NULL (reported). */
static json_object *
parse_file (struct reader *r)
{
  json_tokener *tok = NULL;
  json_object *doc = NULL;
  char *text = NULL;
  ssize_t n;
  size_t len = 0;
  int fd = open (r->path, O_RDONLY | O_CLOEXEC);

  if (fd == -1) {
    tool_error ("state file %s: %m", r->path);
    return NULL;
  }
  text = malloc (MAX_STATE_BYTES + 1);
  if (!text) {
    tool_error ("out of memory");
    goto out;
  }
  while (len <= MAX_STATE_BYTES &&
         (n = read (fd, text + len, MAX_STATE_BYTES + 1 - len)) != 0) {
    if (n == -1) {
      tool_error ("reading the state file %s: %m", r->path);
      goto out;
    }
    len += n;
  }
  if (len == 0) {
    damaged (r, "it is empty");
    goto out;
  }
  if (len > MAX_STATE_BYTES) {
    damaged (r, "it is larger than %d MiB", MAX_STATE_BYTES >> 20);
    goto out;
  }
  tok = json_tokener_new ();
  if (!tok) {
    tool_error ("out of memory");
    goto out;
  }
  doc = json_tokener_parse_ex (tok, text, len);
  if (!doc && json_tokener_get_error (tok) == json_tokener_continue)
    damaged (r, "it ends in the middle of its JSON (cut short after %zu "
             "bytes)", len);
  else if (!doc)
    damaged (r, "it is not valid JSON (%s, at byte %zu)",
             json_tokener_error_desc (json_tokener_get_error (tok)),
             json_tokener_get_parse_end (tok));
  else if (json_tokener_get_parse_end (tok) < len &&
           strspn (text + json_tokener_get_parse_end (tok), " \t\r\n") !=
           len - json_tokener_get_parse_end (tok)) {
    damaged (r, "something follows its JSON document, at byte %zu",
             json_tokener_get_parse_end (tok));
    json_object_put (doc);
    doc = NULL;
  }
  else if (!json_object_is_type (doc, json_type_object)) {
    damaged (r, "it is not a JSON object");
    json_object_put (doc);
    doc = NULL;
  }
 out:
  if (tok)
    json_tokener_free (tok);
  free (text);
  close (fd);
  return doc;
}

int
sync_state_load (const char *path, struct sync_state *st)
{
  struct reader r = { .path = path };
  json_object *doc, *vm, *disks;
  char *dir;
  int64_t version;
  size_t i;

  memset (st, 0, sizeof *st);
  if (access (path, F_OK) == -1 && errno == ENOENT)
    return 1;
  dir = state_dir (path);
  if (!dir)
    return -1;
  r.dir = dir;
  doc = parse_file (&r);
  if (!doc) {
    free (dir);
    return r.bad ? -2 : -1;
  }
  version = int_member (&r, doc, "version", 1, INT_MAX);
  if (!r.bad && version > SYNC_STATE_VERSION) {
    tool_error ("state file %s has version %" PRId64 ", and this "
                "vsphere-sync reads versions up to %d: use a newer "
                "vsphere-sync", path, version, SYNC_STATE_VERSION);
    json_object_put (doc);
    free (dir);
    return -1;
  }
  vm = member (&r, doc, "vm", json_type_object, false);
  if (vm) {
    st->vm_moref = string_member (&r, vm, "moref", false);
    st->instance_uuid = string_member (&r, vm, "instance_uuid", true);
    st->vm_name = string_member (&r, vm, "name", false);
  }
  st->cycle = int_member (&r, doc, "cycle", 0, UINT_MAX);
  read_choice (&r, doc, &st->choice);
  disks = member (&r, doc, "disks", json_type_array, false);
  if (disks && !r.bad) {
    st->n = st->capacity = json_object_array_length (disks);
    st->disk = calloc (st->n ? st->n : 1, sizeof *st->disk);
    if (!st->disk)
      damaged (&r, "out of memory");
    for (i = 0; !r.bad && i < st->n; i++) {
      json_object *d = json_object_array_get_idx (disks, i);

      if (!json_object_is_type (d, json_type_object))
        damaged (&r, "disk %zu is not an object", i);
      else
        read_disk (&r, d, &st->disk[i], version);
    }
    for (i = 0; !r.bad && i < st->n; i++)
      if (sync_state_find (st, st->disk[i].key) != &st->disk[i])
        damaged (&r, "disk key %d appears twice", st->disk[i].key);
  }
  json_object_put (doc);
  free (dir);
  if (r.bad) {
    sync_state_free (st);
    return -2;
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
identity_to_json (const struct sync_identity *id)
{
  json_object *o;

  if (!id->known)
    return NULL;
  o = json_object_new_object ();
  json_object_object_add (o, "inode", json_object_new_int64 (id->inode));
  json_object_object_add (o, "bytes", json_object_new_int64 (id->bytes));
  /* Two numbers that a reader with doubles (jq) keeps exact. */
  json_object_object_add (o, "mtime_sec",
                          json_object_new_int64 (id->mtime.tv_sec));
  json_object_object_add (o, "mtime_nsec",
                          json_object_new_int64 (id->mtime.tv_nsec));
  return o;
}

static json_object *
disk_to_json (const char *dir, const struct sync_state_disk *d)
{
  json_object *o = json_object_new_object (), *ov = json_object_new_array ();
  size_t i;

  json_object_object_add (o, "key", json_object_new_int (d->key));
  json_object_object_add (o, "label", json_object_new_string (d->label));
  json_object_object_add (o, "path", json_object_new_string (d->path));
  json_object_object_add (o, "uuid", string_or_null (d->uuid));
  json_object_object_add (o, "size", json_object_new_int64 (d->size));
  json_object_object_add (o, "change_id", string_or_null (d->change_id));
  json_object_object_add (o, "whole", json_object_new_boolean (d->whole));
  json_object_object_add (o, "output", json_object_new_string
                          (relative_to (dir, d->output, d->output_absolute)));
  json_object_object_add (o, "format",
                          json_object_new_string (sync_format_name (d->format)));
  for (i = 0; i < d->n_overlays; i++)
    json_object_array_add (ov, json_object_new_string
                           (relative_to (dir, d->overlays[i],
                                         d->output_absolute)));
  json_object_object_add (o, "overlays", ov);
  json_object_object_add (o, "identity", identity_to_json (&d->identity));
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
state_to_json (const char *dir, const struct sync_state *st)
{
  json_object *doc = json_object_new_object ();
  json_object *vm = json_object_new_object ();
  json_object *disks = json_object_new_array ();
  size_t i;

  json_object_object_add (doc, "version", json_object_new_int
                          (st->choice.mode == SYNC_ALL_DISKS
                           ? SYNC_STATE_VERSION_NO_CHOICE
                           : SYNC_STATE_VERSION));
  json_object_object_add (vm, "moref", json_object_new_string (st->vm_moref));
  json_object_object_add (vm, "instance_uuid",
                          string_or_null (st->instance_uuid));
  json_object_object_add (vm, "name", json_object_new_string (st->vm_name));
  json_object_object_add (doc, "vm", vm);
  json_object_object_add (doc, "cycle", json_object_new_int64 (st->cycle));
  if (st->choice.mode != SYNC_ALL_DISKS)
    json_object_object_add (doc, "disk_choice",
                            sync_choice_to_json (&st->choice));
  for (i = 0; i < st->n; i++)
    json_object_array_add (disks, disk_to_json (dir, &st->disk[i]));
  json_object_object_add (doc, "disks", disks);
  return doc;
}

int
sync_state_save (const char *path, const struct sync_state *st)
{
  char *dir = state_dir (path);
  json_object *doc = dir ? state_to_json (dir, st) : NULL;
  const char *text;
  char *tmp = NULL;
  size_t len;
  int fd = -1, r = -1;

  if (!doc)
    goto out;
  text = json_object_to_json_string_ext (doc, JSON_C_TO_STRING_PRETTY |
                                         JSON_C_TO_STRING_NOSLASHESCAPE);
  len = strlen (text);
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
  free (dir);
  json_object_put (doc);
  return r;
}
