/* The version checks of datastore reads (vsphere.h), pure functions
 * over headers: vsphere-http.c feeds them every header line of an
 * answer and compares what they keep with the file's first answer.
 * Size, ETag and Last-Modified must all match; the condition sent with
 * each request uses the ETag where there is one, the stronger of the
 * two.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"

/* If the header line PTR (N bytes) is NAME, copy its value without
 * surrounding blanks into VALUE (LEN bytes) and return true.  A value
 * that does not fit sets *TOO_LONG.
 */
static bool
header_value (const char *ptr, size_t n, const char *name,
              char *value, size_t len, bool *too_long)
{
  size_t k = strlen (name);

  if (n <= k || ptr[k] != ':' || strncasecmp (ptr, name, k) != 0)
    return false;
  ptr += k + 1;
  n -= k + 1;
  while (n > 0 && (*ptr == ' ' || *ptr == '\t'))
    ptr++, n--;
  while (n > 0 && strchr (" \t\r\n", ptr[n - 1]))
    n--;
  if (n >= len) {
    *too_long = true;
    n = 0;
  }
  memcpy (value, ptr, n);
  value[n] = '\0';
  return true;
}

void
vs_version_header (struct vs_version *v, const char *line, size_t n)
{
  char range[128];

  if (n >= 5 && strncmp (line, "HTTP/", 5) == 0)
    memset (v, 0, sizeof *v);
  else if (header_value (line, n, "content-range", range, sizeof range,
                         &v->too_long))
    v->has_range =
      sscanf (range, "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64,
              &v->first, &v->last, &v->total) == 3;
  else if (!header_value (line, n, "etag", v->etag, sizeof v->etag,
                          &v->too_long))
    header_value (line, n, "last-modified", v->last_modified,
                  sizeof v->last_modified, &v->too_long);
}

/* Say in MSG that the file changed: WHAT was WAS and is now NOW. */
static void
changed (char *msg, size_t msglen, const char *what, const char *was,
         const char *now)
{
  snprintf (msg, msglen, "the file changed on the datastore while it was "
            "being read (%s was %s, now %s): " VS_CHANGED_HINT, what,
            was[0] ? was : "not sent", now[0] ? now : "not sent");
}

bool
vs_version_same (const struct vs_version *first, const struct vs_version *now,
                 char *msg, size_t msglen)
{
  char was_size[32], now_size[32];

  if (now->total != first->total) {
    snprintf (was_size, sizeof was_size, "%" PRIu64, first->total);
    snprintf (now_size, sizeof now_size, "%" PRIu64, now->total);
    changed (msg, msglen, "its size", was_size, now_size);
  }
  else if (strcmp (now->etag, first->etag) != 0)
    changed (msg, msglen, "its ETag", first->etag, now->etag);
  else if (strcmp (now->last_modified, first->last_modified) != 0)
    changed (msg, msglen, "its Last-Modified", first->last_modified,
             now->last_modified);
  else
    return true;
  return false;
}

void
vs_version_refused (const struct vs_version *first, char *msg, size_t msglen)
{
  if (first->etag[0])
    changed (msg, msglen, "its ETag", first->etag, "different (HTTP 412)");
  else
    changed (msg, msglen, "its Last-Modified", first->last_modified,
             "later (HTTP 412)");
}

int
vs_version_condition (const struct vs_version *first,
                      struct curl_slist **list)
{
  char header[VS_VALIDATOR_MAX + 32];

  *list = NULL;
  if (first->etag[0])
    snprintf (header, sizeof header, "If-Match: %s", first->etag);
  else if (first->last_modified[0])
    snprintf (header, sizeof header, "If-Unmodified-Since: %s",
              first->last_modified);
  else
    return 0;
  *list = curl_slist_append (NULL, header);
  if (!*list) {
    nbdkit_error ("curl_slist_append: out of memory");
    return -1;
  }
  return 0;
}
