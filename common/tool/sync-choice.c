/* vsphere-sync's choice of disks (sync-choice.h): kept as device keys,
 * which do not shift when disks are added or removed as indexes do.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync-choice.h"
#include "tool-messages.h"

bool
sync_choice_copies (const struct sync_disk_choice *c, int key)
{
  size_t i;

  for (i = 0; i < c->n; i++)
    if (c->keys[i] == key)
      return c->mode == SYNC_ONLY_DISKS;
  return c->mode != SYNC_ONLY_DISKS;
}

const char *
sync_choice_mode_name (enum sync_choice_mode mode)
{
  return mode == SYNC_ONLY_DISKS ? "only"
    : mode == SYNC_SKIP_DISKS ? "skip" : "all";
}

const char *
sync_choice_option (enum sync_choice_mode mode)
{
  return mode == SYNC_ONLY_DISKS ? "--only-disk"
    : mode == SYNC_SKIP_DISKS ? "--skip-disk" : "--all-disks";
}

/* The text that FP gathered into *S, or NULL (reported). */
static char *
close_text (FILE *fp, char **s)
{
  if (fclose (fp) == EOF) {
    tool_error ("out of memory");
    free (*s);
    return NULL;
  }
  return *s;
}

char *
sync_choice_describe (const struct sync_disk_choice *c)
{
  char *s = NULL;
  size_t len = 0, i;
  FILE *fp = open_memstream (&s, &len);

  if (!fp) {
    tool_error ("out of memory");
    return NULL;
  }
  if (c->mode == SYNC_ALL_DISKS)
    fputs (sync_choice_option (c->mode), fp);
  for (i = 0; i < c->n; i++)
    fprintf (fp, "%s%s %d", i ? " " : "", sync_choice_option (c->mode),
             c->keys[i]);
  return close_text (fp, &s);
}

char *
sync_choice_list_disks (const struct sync_disk_choice *c,
                        const struct vs_disks *disks, bool copied)
{
  char *s = NULL;
  size_t len = 0, i, count = 0;
  FILE *fp = open_memstream (&s, &len);

  if (!fp) {
    tool_error ("out of memory");
    return NULL;
  }
  for (i = 0; i < disks->len; i++) {
    const struct vs_disk *d = &disks->ptr[i];

    if (c && sync_choice_copies (c, d->key) != copied)
      continue;
    fprintf (fp, "%s%zu \"%s\" (key %d)", count++ ? ", " : "", i,
             d->label ? d->label : "", d->key);
  }
  return close_text (fp, &s);
}

json_object *
sync_choice_to_json (const struct sync_disk_choice *c)
{
  json_object *o = json_object_new_object ();
  json_object *keys = json_object_new_array ();
  size_t i;

  json_object_object_add (o, "mode",
                          json_object_new_string (sync_choice_mode_name
                                                  (c->mode)));
  for (i = 0; i < c->n; i++)
    json_object_array_add (keys, json_object_new_int (c->keys[i]));
  json_object_object_add (o, "keys", keys);
  return o;
}

int
sync_choice_copy (struct sync_disk_choice *dst,
                  const struct sync_disk_choice *src)
{
  *dst = *src;
  dst->keys = NULL;
  if (src->n == 0)
    return 0;
  dst->keys = malloc (src->n * sizeof *dst->keys);
  if (!dst->keys) {
    dst->n = 0;
    tool_error ("out of memory");
    return -1;
  }
  memcpy (dst->keys, src->keys, src->n * sizeof *dst->keys);
  return 0;
}

void
sync_choice_free (struct sync_disk_choice *c)
{
  free (c->keys);
  memset (c, 0, sizeof *c);
}
