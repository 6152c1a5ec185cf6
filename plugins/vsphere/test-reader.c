/* Unit tests of the plugin's read path that need no server: datastore
 * URLs and the file versions that tell a changed file.  The readahead
 * has test-readahead.c.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "nbdkit-shim.h"
#include "unit-test.h"
#include "vsphere.h"

static void
test_folder_url (void)
{
  /* Names that vCenter's second decoding would change are encoded
   * twice; the rest, and the path, once.
   */
  char *u = vs_folder_url ("h:443", "EMEA/DC 1+&%\xc3\xa9", "ds 1 \xc3\xa9",
                           "web 01+/web 01#1.vmdk");

  CU_ASSERT_STRING_EQUAL (u, "https://h:443/folder/web%2001%2B/web%2001%231.vmdk"
                          "?dcPath=EMEA%252FDC%25201%252B%2526%2525%25C3%25A9"
                          "&dsName=ds%201%20%C3%A9");
  free (u);
  u = vs_folder_url ("h", "DC=1", "a&b", "x");
  CU_ASSERT_STRING_EQUAL (u, "https://h/folder/x?dcPath=DC%253D1&dsName=a%2526b");
  free (u);
}

/* V from the header lines of one answer. */
static void
answer (struct vs_version *v, const char *const *lines)
{
  vs_version_header (v, "HTTP/1.1 206 Partial Content\r\n", 30);
  for (; *lines; lines++)
    vs_version_header (v, *lines, strlen (*lines));
}

static void
test_file_version (void)
{
  /* A server that ignores If-Match: the answers themselves must show
   * the change.
   */
  const char *first_lines[] = {
    "Content-Range: bytes 0-0/4096\r\n", "ETAG:  \"a1\" \r\n",
    "last-modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n", NULL };
  const char *same[] = {
    "Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n",
    "Content-Range: bytes 512-1023/4096\r\n", "ETag: \"a1\"\r\n", NULL };
  const char *new_etag[] = {
    "Content-Range: bytes 0-0/4096\r\n", "ETag: \"b2\"\r\n",
    "Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n", NULL };
  const char *no_etag[] = {
    "Content-Range: bytes 0-0/4096\r\n",
    "Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n", NULL };
  const char *new_lm[] = {
    "Content-Range: bytes 0-0/4096\r\n", "ETag: \"a1\"\r\n",
    "Last-Modified: Tue, 01 Dec 2026 10:00:01 GMT\r\n", NULL };
  const char *new_size[] = {
    "Content-Range: bytes 0-0/8192\r\n", "ETag: \"a1\"\r\n",
    "Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n", NULL };
  struct vs_version first, v;
  struct curl_slist *cond;
  char msg[1024], big[400];

  memset (&first, 0xff, sizeof first);
  answer (&first, first_lines);
  CU_ASSERT (first.has_range && first.total == 4096 && !first.too_long);
  CU_ASSERT_STRING_EQUAL (first.etag, "\"a1\"");
  answer (&v, same);
  CU_ASSERT (vs_version_same (&first, &v, msg, sizeof msg));
  answer (&v, new_etag);
  CU_ASSERT (!vs_version_same (&first, &v, msg, sizeof msg));
  CU_ASSERT (strstr (msg, "changed on the datastore while it was being read "
                     "(its ETag was \"a1\", now \"b2\")") != NULL);
  answer (&v, no_etag);
  CU_ASSERT (!vs_version_same (&first, &v, msg, sizeof msg));
  CU_ASSERT (strstr (msg, "now not sent") != NULL);
  answer (&v, new_lm);
  CU_ASSERT (!vs_version_same (&first, &v, msg, sizeof msg));
  CU_ASSERT (strstr (msg, "its Last-Modified was") != NULL);
  answer (&v, new_size);
  CU_ASSERT (!vs_version_same (&first, &v, msg, sizeof msg));
  CU_ASSERT (strstr (msg, "its size was 4096, now 8192") != NULL);

  /* Conditions: If-Match when there is an ETag, else
   * If-Unmodified-Since, else none.
   */
  CU_ASSERT (vs_version_condition (&first, &cond) == 0 && cond);
  CU_ASSERT_STRING_EQUAL (cond->data, "If-Match: \"a1\"");
  curl_slist_free_all (cond);
  answer (&v, no_etag);
  CU_ASSERT (vs_version_condition (&v, &cond) == 0 && cond);
  CU_ASSERT_STRING_EQUAL (cond->data,
                          "If-Unmodified-Since: Tue, 01 Dec 2026 10:00:00 GMT");
  curl_slist_free_all (cond);
  answer (&v, (const char *[]) { "Content-Range: bytes 0-0/1\r\n", NULL });
  CU_ASSERT (vs_version_condition (&v, &cond) == 0 && !cond);

  /* A validator too long to keep is flagged, not cut short. */
  memset (big, 'x', sizeof big);
  memcpy (big, "ETag: ", 6);
  vs_version_header (&v, big, sizeof big);
  CU_ASSERT (v.too_long && v.etag[0] == '\0');
}

static const struct unit_test tests[] = {
  { "folder URL", test_folder_url },
  { "file versions", test_file_version },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("plugin read path", tests);
}
