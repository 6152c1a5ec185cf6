/* VMDK text descriptors (vmdk-descriptor.h): a line-by-line parse of
 * the extent lines and of the header keys this code uses (createType,
 * CID, parentCID, parentFileNameHint); other keys are ignored.  Binary
 * sparse headers, NUL bytes and anything over 1 MiB are refused before
 * parsing, so the parser only ever sees text.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "number.h"
#include "vmdk-descriptor.h"

/* Extents larger than this are nonsense (2^63 bytes). */
#define MAX_SECTORS (UINT64_C (1) << 54)

static const char *const type_names[] = {
  [VMDK_EXTENT_FLAT] = "FLAT",
  [VMDK_EXTENT_VMFS] = "VMFS",
  [VMDK_EXTENT_ZERO] = "ZERO",
  [VMDK_EXTENT_SPARSE] = "SPARSE",
  [VMDK_EXTENT_VMFSSPARSE] = "VMFSSPARSE",
  [VMDK_EXTENT_SESPARSE] = "SESPARSE",
  [VMDK_EXTENT_VMFSRDM] = "VMFSRDM",
  [VMDK_EXTENT_VMFSRAW] = "VMFSRAW",
  [VMDK_EXTENT_VSANSPARSE] = "VSANSPARSE",
};

const char *
vmdk_extent_type_name (enum vmdk_extent_type t)
{
  return type_names[t];
}

static int
parse_type (const char *s, enum vmdk_extent_type *t)
{
  size_t i;

  for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
    if (strcmp (s, type_names[i]) == 0) {
      *t = i;
      return 0;
    }
  return -1;
}

/* "value" or value, trimmed; modifies S. */
static char *
unquote (char *s)
{
  size_t n;

  while (isspace ((unsigned char) *s))
    s++;
  n = strlen (s);
  while (n > 0 && isspace ((unsigned char) s[n - 1]))
    s[--n] = '\0';
  if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
    s[n - 1] = '\0';
    s++;
  }
  return s;
}

/* ACCESS SECTORS TYPE ["FILE" [OFFSET]] */
static int
parse_extent (char *line, const char *name, unsigned lineno,
              struct vmdk_extent *e)
{
  char *p = line, *word, *file = NULL, *q;
  char type[32];

  memset (e, 0, sizeof *e);
  word = strsep (&p, " \t");            /* access, checked by caller */
  while (p && isspace ((unsigned char) *p))
    p++;
  word = p ? strsep (&p, " \t") : NULL;
  if (!word || vs_parse_uint64 (word, MAX_SECTORS, &e->sectors) == -1 ||
      e->sectors == 0) {
    nbdkit_error ("%s: line %u: bad extent size", name, lineno);
    return -1;
  }
  while (p && isspace ((unsigned char) *p))
    p++;
  word = p ? strsep (&p, " \t") : NULL;
  if (!word || strlen (word) >= sizeof type) {
    nbdkit_error ("%s: line %u: missing extent type", name, lineno);
    return -1;
  }
  strcpy (type, word);
  if (parse_type (type, &e->type) == -1) {
    nbdkit_error ("%s: line %u: unknown extent type %s", name, lineno, type);
    return -1;
  }
  while (p && isspace ((unsigned char) *p))
    p++;
  if (p && *p == '"') {
    q = strchr (p + 1, '"');
    if (!q) {
      nbdkit_error ("%s: line %u: unterminated file name", name, lineno);
      return -1;
    }
    *q = '\0';
    file = p + 1;
    p = q + 1;
    while (isspace ((unsigned char) *p))
      p++;
  }
  if (e->type == VMDK_EXTENT_ZERO) {
    if (file) {
      nbdkit_error ("%s: line %u: a ZERO extent has no file", name, lineno);
      return -1;
    }
    return 0;
  }
  if (!file || !*file) {
    nbdkit_error ("%s: line %u: %s extent without a file name",
                  name, lineno, type);
    return -1;
  }
  if (p && *p) {
    if (vs_parse_uint64 (p, MAX_SECTORS, &e->offset) == -1) {
      nbdkit_error ("%s: line %u: bad extent offset %s", name, lineno, p);
      return -1;
    }
  }
  else if (e->type == VMDK_EXTENT_FLAT) {
    nbdkit_error ("%s: line %u: a FLAT extent needs an offset", name, lineno);
    return -1;
  }
  e->file = strdup (file);
  if (!e->file) {
    nbdkit_error ("strdup: out of memory");
    return -1;
  }
  return 0;
}

static int
parse_header (char *line, struct vmdk_descriptor *d, const char *name,
              unsigned lineno)
{
  char *eq = strchr (line, '=');
  char *key, *value;

  if (!eq) {
    nbdkit_error ("%s: line %u: not a VMDK descriptor line", name, lineno);
    return -1;
  }
  *eq = '\0';
  key = unquote (line);
  value = unquote (eq + 1);
  if (strcmp (key, "createType") == 0) {
    free (d->create_type);
    d->create_type = strdup (value);
  }
  else if (strncmp (key, "encryption.", 11) == 0 ||
           (strcmp (key, "ddb.iofilters") == 0 &&
            strstr (value, "vmwarevmcrypt")))
    d->encrypted = true;
  else if (strcmp (key, "parentFileNameHint") == 0) {
    free (d->parent_hint);
    d->parent_hint = strdup (value);
  }
  else if (strcmp (key, "CID") == 0 || strcmp (key, "parentCID") == 0) {
    char *end;
    unsigned long v = strtoul (value, &end, 16);

    if (!*value || *end || v > UINT32_MAX) {
      nbdkit_error ("%s: line %u: bad %s", name, lineno, key);
      return -1;
    }
    *(strcmp (key, "CID") == 0 ? &d->cid : &d->parent_cid) = v;
  }
  return 0;
}

static bool
is_extent_line (const char *line)
{
  static const char *const access[] = { "RW", "RDONLY", "NOACCESS" };
  size_t i, n;

  for (i = 0; i < 3; i++) {
    n = strlen (access[i]);
    if (strncmp (line, access[i], n) == 0 && isspace ((unsigned char) line[n]))
      return true;
  }
  return false;
}

int
vmdk_descriptor_parse (const char *text, size_t len, const char *name,
                       struct vmdk_descriptor *d)
{
  char *copy, *p, *line;
  unsigned lineno = 0;

  memset (d, 0, sizeof *d);
  d->parent_cid = UINT32_MAX;
  if (len >= 4 && (memcmp (text, "KDMV", 4) == 0 ||
                   memcmp (text, "COWD", 4) == 0)) {
    nbdkit_error ("%s: this is a binary sparse VMDK, not a text descriptor "
                  "(sparse disks are not supported yet)", name);
    return -1;
  }
  if (len > VMDK_DESCRIPTOR_MAX || memchr (text, '\0', len)) {
    nbdkit_error ("%s: not a VMDK descriptor (binary data, or larger than "
                  "%d bytes); name the disk's .vmdk descriptor, not its "
                  "data file", name, VMDK_DESCRIPTOR_MAX);
    return -1;
  }
  copy = strndup (text, len);
  if (!copy) {
    nbdkit_error ("strndup: out of memory");
    return -1;
  }
  for (p = copy; (line = strsep (&p, "\n")) != NULL; ) {
    size_t n;

    lineno++;
    while (isspace ((unsigned char) *line))
      line++;
    n = strlen (line);
    while (n > 0 && isspace ((unsigned char) line[n - 1]))
      line[--n] = '\0';
    if (*line == '\0' || *line == '#')
      continue;
    if (is_extent_line (line)) {
      struct vmdk_extent e;

      if (parse_extent (line, name, lineno, &e) == -1)
        goto fail;
      if (vmdk_extents_append (&d->extents, e) == -1) {
        free (e.file);
        nbdkit_error ("realloc: out of memory");
        goto fail;
      }
    }
    else if (parse_header (line, d, name, lineno) == -1)
      goto fail;
  }
  free (copy);
  if (!d->create_type || d->extents.len == 0) {
    nbdkit_error ("%s: not a VMDK descriptor (no %s)", name,
                  d->create_type ? "extents" : "createType");
    vmdk_descriptor_free (d);
    return -1;
  }
  return 0;

 fail:
  free (copy);
  vmdk_descriptor_free (d);
  return -1;
}

void
vmdk_descriptor_free (struct vmdk_descriptor *d)
{
  size_t i;

  for (i = 0; i < d->extents.len; i++)
    free (d->extents.ptr[i].file);
  vmdk_extents_reset (&d->extents);
  free (d->create_type);
  free (d->parent_hint);
  memset (d, 0, sizeof *d);
}

uint64_t
vmdk_descriptor_size (const struct vmdk_descriptor *d)
{
  uint64_t sectors = 0;
  size_t i;

  for (i = 0; i < d->extents.len; i++)
    sectors += d->extents.ptr[i].sectors;
  return sectors * VMDK_SECTOR;
}

bool
vmdk_extent_name_is_local (const char *file)
{
  const char *p = file;

  if (*file == '/' || strchr (file, '\\'))
    return false;
  while (*p) {
    size_t n = strcspn (p, "/");

    if ((n == 2 && strncmp (p, "..", 2) == 0) || n == 0)
      return false;
    p += n;
    if (*p == '/')
      p++;
  }
  return true;
}
