/* Which version of a datastore file an answer to a ranged GET comes
 * from: its Content-Range (the file's size) and its validators (ETag,
 * Last-Modified).  A file is read as the version its first answer
 * showed, or not at all.
 */
#ifndef VSPHERE_HTTP_VERSION_H
#define VSPHERE_HTTP_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* Longer ETag or Last-Modified values are refused. */
#define VS_VALIDATOR_MAX 256

/* What to do when a file changed while it was being read. */
#define VS_CHANGED_HINT \
  "the snapshot being read was removed or consolidated, or something " \
  "wrote to the file; copy again from a new snapshot (snapshot=create), " \
  "and keep others from removing it until the copy ends"

struct vs_version {
  bool has_range;
  uint64_t first, last, total;  /* from Content-Range */
  char etag[VS_VALIDATOR_MAX];  /* "" when the server sent none */
  char last_modified[VS_VALIDATOR_MAX];
  bool too_long;                /* a validator did not fit */
};

/* Take the header line LINE (N bytes, as curl passes it) into V.  A
 * status line starts the headers of another answer, and clears V.
 */
void vs_version_header (struct vs_version *v, const char *line, size_t n);

/* Whether answer NOW comes from the same version of the file as answer
 * FIRST; if not, MSG says what changed.
 */
bool vs_version_same (const struct vs_version *first,
                      const struct vs_version *now, char *msg, size_t msglen);

/* MSG for a 412: the server refused the condition built from FIRST. */
void vs_version_refused (const struct vs_version *first, char *msg,
                         size_t msglen);

/* The request header that makes the server refuse any other version
 * than FIRST (If-Match, else If-Unmodified-Since).  Sets *LIST to NULL
 * if FIRST has no validator.  -1 on allocation failure (reported).
 */
int vs_version_condition (const struct vs_version *first,
                          struct curl_slist **list);

#endif /* VSPHERE_HTTP_VERSION_H */
