/* CUnit tests of the shared code that needs no server: the VMDK
 * descriptor parser, datastore URLs, file versions, thumbprints, disk
 * selection, strict numbers, the refusal of DTDs in SOAP replies and
 * the bound on password files.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <libxml/parser.h>

#include "nbdkit-stubs.h"
#include "vmdk-descriptor.h"
#include "vsphere-cbt.h"
#include "vsphere-disks.h"
#include "vsphere-http.h"
#include "vsphere-http-version.h"
#include "vsphere-secret.h"
#include "vsphere-server.h"
#include "vsphere-tls.h"
#include "vsphere-xml.h"

#define PARSE(text, d) \
  vmdk_descriptor_parse ((text), strlen (text), "t.vmdk", (d))

static void
test_vmfs_descriptor (void)
{
  const char *text =
    "# Disk DescriptorFile\n"
    "version=1\n"
    "encoding=\"UTF-8\"\n"
    "CID=fffffffe\n"
    "parentCID=ffffffff\n"
    "createType=\"vmfs\"\n"
    "\n"
    "# Extent description\n"
    "RW 2097152 VMFS \"web 01+&%\xc3\xbc-flat.vmdk\"\n"
    "\n"
    "ddb.adapterType = \"lsilogic\"\n"
    "ddb.geometry.cylinders = \"130\"\n";
  struct vmdk_descriptor d;

  CU_ASSERT_EQUAL_FATAL (PARSE (text, &d), 0);
  CU_ASSERT_STRING_EQUAL (d.create_type, "vmfs");
  CU_ASSERT_EQUAL (d.cid, 0xfffffffe);
  CU_ASSERT_EQUAL (d.parent_cid, 0xffffffff);
  CU_ASSERT_PTR_NULL (d.parent_hint);
  CU_ASSERT_EQUAL_FATAL (d.n_extents, 1);
  CU_ASSERT_EQUAL (d.extent[0].type, VMDK_EXTENT_VMFS);
  CU_ASSERT_EQUAL (d.extent[0].sectors, 2097152);
  CU_ASSERT_STRING_EQUAL (d.extent[0].file, "web 01+&%\xc3\xbc-flat.vmdk");
  CU_ASSERT_EQUAL (vmdk_descriptor_size (&d), UINT64_C (1) << 30);
  vmdk_descriptor_free (&d);
}

static void
test_multi_extent_descriptor (void)
{
  const char *text =
    "createType=\"monolithicFlat\"\r\n"
    "RW 100 FLAT \"a-flat.vmdk\" 0\r\n"
    "RDONLY 50 ZERO\r\n"
    "NOACCESS 8 FLAT \"b c.vmdk\" 2048\r\n"
    "parentFileNameHint=\"base.vmdk\"\r\n";
  struct vmdk_descriptor d;

  CU_ASSERT_EQUAL_FATAL (PARSE (text, &d), 0);
  CU_ASSERT_EQUAL_FATAL (d.n_extents, 3);
  CU_ASSERT_EQUAL (d.extent[0].type, VMDK_EXTENT_FLAT);
  CU_ASSERT_EQUAL (d.extent[1].type, VMDK_EXTENT_ZERO);
  CU_ASSERT_PTR_NULL (d.extent[1].file);
  CU_ASSERT_EQUAL (d.extent[2].offset, 2048);
  CU_ASSERT_STRING_EQUAL (d.extent[2].file, "b c.vmdk");
  CU_ASSERT_STRING_EQUAL (d.parent_hint, "base.vmdk");
  CU_ASSERT_EQUAL (vmdk_descriptor_size (&d), 158 * 512);
  vmdk_descriptor_free (&d);
}

/* Each of these must be refused, with a message naming the problem. */
static void
test_bad_descriptors (void)
{
  static const struct { const char *text, *expect; } cases[] = {
    { "KDMV\x01\x00", "binary sparse" },
    { "hello world\n", "not a VMDK descriptor line" },
    { "createType=\"vmfs\"\n", "no extents" },
    { "RW 10 VMFS \"x-flat.vmdk\"\n", "no createType" },
    { "createType=vmfs\nRW 0 VMFS \"x\"\n", "bad extent size" },
    { "createType=vmfs\nRW -5 VMFS \"x\"\n", "bad extent size" },
    { "createType=vmfs\nRW 99999999999999999999 VMFS \"x\"\n",
      "bad extent size" },
    { "createType=vmfs\nRW 10 BOGUS \"x\"\n", "unknown extent type" },
    { "createType=vmfs\nRW 10 FLAT \"x\"\n", "needs an offset" },
    { "createType=vmfs\nRW 10 FLAT \"x\" abc\n", "bad extent offset" },
    { "createType=vmfs\nRW 10 VMFS \"x\n", "unterminated" },
    { "createType=vmfs\nRW 10 VMFS\n", "without a file name" },
    { "createType=vmfs\nRW 10 ZERO \"x\"\n", "ZERO extent has no file" },
    { "createType=vmfs\nCID=xyz\nRW 10 VMFS \"x\"\n", "bad CID" },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct vmdk_descriptor d;

    stub_last_error[0] = '\0';
    CU_ASSERT_EQUAL (PARSE (cases[i].text, &d), -1);
    CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, cases[i].expect));
    CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "t.vmdk"));
  }
}

static void
test_binary_is_not_descriptor (void)
{
  char buf[64] = "createType=vmfs\nRW 1 VMFS \"x\"\n";
  struct vmdk_descriptor d;

  buf[40] = '\0';
  CU_ASSERT_EQUAL (vmdk_descriptor_parse (buf, sizeof buf, "t.vmdk", &d), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "not a VMDK descriptor"));
}

static void
test_extent_names (void)
{
  CU_ASSERT_TRUE (vmdk_extent_name_is_local ("x-flat.vmdk"));
  CU_ASSERT_TRUE (vmdk_extent_name_is_local ("a b..c.vmdk"));
  CU_ASSERT_FALSE (vmdk_extent_name_is_local ("../other/x-flat.vmdk"));
  CU_ASSERT_FALSE (vmdk_extent_name_is_local ("sub/../../x"));
  CU_ASSERT_FALSE (vmdk_extent_name_is_local ("/vmfs/volumes/ds/x"));
  CU_ASSERT_FALSE (vmdk_extent_name_is_local (".."));
  CU_ASSERT_FALSE (vmdk_extent_name_is_local ("a\\..\\b"));
}

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

static void
test_thumbprint (void)
{
  struct vs_tls tls = { 0 };

  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint
                   ("AA:bb:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:"
                    "11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e", &tls), 0);
  CU_ASSERT_EQUAL (tls.pin_len, 32);
  CU_ASSERT_EQUAL (tls.pin[0], 0xaa);
  CU_ASSERT_EQUAL (tls.pin[31], 0x1e);
  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint
                   ("0102030405060708090a0b0c0d0e0f1011121314", &tls), 0);
  CU_ASSERT_EQUAL (tls.pin_len, 20);
  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint ("0102", &tls), -1);
  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint ("zz:01", &tls), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "SHA-256"));
}

static void
test_disk_devices (void)
{
  const char *xml =
    "<val xmlns=\"urn:vim25\" xmlns:x=\"http://www.w3.org/2001/XMLSchema-instance\">"
    "<VirtualDevice x:type=\"VirtualIDEController\"><key>200</key></VirtualDevice>"
    "<VirtualDevice x:type=\"VirtualDisk\"><key>2000</key>"
    "<deviceInfo><label>Hard disk 1</label></deviceInfo>"
    "<backing x:type=\"VirtualDiskFlatVer2BackingInfo\">"
    "<fileName>[ds1] vm/vm.vmdk</fileName><changeId>52 aa/3</changeId></backing>"
    "<capacityInKB>1024</capacityInKB><capacityInBytes>1048576</capacityInBytes>"
    "</VirtualDevice>"
    "<VirtualDevice x:type=\"VirtualDisk\"><key>-7</key>"
    "<deviceInfo><label>Hard disk 2</label></deviceInfo>"
    "<backing x:type=\"VirtualDiskFlatVer2BackingInfo\">"
    "<fileName>[ds 2] vm/vm_1.vmdk</fileName></backing>"
    "<capacityInKB>2048</capacityInKB></VirtualDevice></val>";
  xmlDocPtr doc = xmlReadMemory (xml, strlen (xml), "t.xml", NULL, 0);
  struct vs_disks disks;
  const char *path;
  char *ds;

  CU_ASSERT_EQUAL_FATAL (vs_disks_parse (xmlDocGetRootElement (doc), "vm",
                                         &disks),
                         0);
  CU_ASSERT_EQUAL_FATAL (disks.n, 2);
  CU_ASSERT_EQUAL (disks.disk[0].key, 2000);
  CU_ASSERT_EQUAL (disks.disk[0].capacity, 1048576);
  CU_ASSERT_STRING_EQUAL (disks.disk[0].change_id, "52 aa/3");
  CU_ASSERT_STRING_EQUAL (disks.disk[0].backing,
                          "VirtualDiskFlatVer2BackingInfo");
  CU_ASSERT_EQUAL (disks.disk[1].key, -7);
  CU_ASSERT_EQUAL (disks.disk[1].capacity, 2048 * 1024);
  CU_ASSERT_PTR_NULL (disks.disk[1].change_id);

  CU_ASSERT_PTR_EQUAL (vs_disks_select (&disks, "1", NULL, "vm"),
                       &disks.disk[1]);
  CU_ASSERT_PTR_EQUAL (vs_disks_select (&disks, "Hard disk 1", NULL, "vm"),
                       &disks.disk[0]);
  CU_ASSERT_PTR_EQUAL (vs_disks_select (&disks, NULL, "[ds 2] vm/vm_1.vmdk",
                                        "vm"), &disks.disk[1]);
  CU_ASSERT_PTR_NULL (vs_disks_select (&disks, "2", NULL, "vm"));
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "disk=1: \"Hard disk 2\""));
  CU_ASSERT_PTR_NULL (vs_disks_select (&disks, "Hard disk 9", NULL, "vm"));
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "[ds1] vm/vm.vmdk"));

  ds = vs_datastore_path_split (disks.disk[1].file, &path);
  CU_ASSERT_STRING_EQUAL (ds, "ds 2");
  CU_ASSERT_STRING_EQUAL (path, "vm/vm_1.vmdk");
  free (ds);
  CU_ASSERT_PTR_NULL (vs_datastore_path_split ("vsan://abc", &path));
  vs_disks_free (&disks);
  xmlFreeDoc (doc);
}

static void
test_parse_int64 (void)
{
  static const char *const bad[] = {
    "", "-", "+1", " 1", "1 ", "0x10", "1e3", "9223372036854775808",
    "-9223372036854775809", "11", "-11",
  };
  int64_t v;
  size_t i;

  CU_ASSERT_EQUAL (vs_parse_int64 ("0", -10, 10, &v), 0);
  CU_ASSERT_EQUAL (v, 0);
  CU_ASSERT_EQUAL (vs_parse_int64 ("-10", -10, 10, &v), 0);
  CU_ASSERT_EQUAL (v, -10);
  CU_ASSERT_EQUAL (vs_parse_int64 ("9223372036854775807", 0, INT64_MAX, &v),
                   0);
  CU_ASSERT_EQUAL (v, INT64_MAX);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    v = 42;
    CU_ASSERT_EQUAL (vs_parse_int64 (bad[i], -10, 10, &v), -1);
    CU_ASSERT_EQUAL (v, 42);
  }
}

#define READ_REPLY(text, doctype) \
  vs_xml_read_reply ((text), strlen (text), (doctype))

static void
test_doctype_refused (void)
{
  xmlDocPtr doc;
  bool doctype;

  doc = READ_REPLY ("<a><b>1</b></a>", &doctype);
  CU_ASSERT_PTR_NOT_NULL (doc);
  CU_ASSERT_FALSE (doctype);
  xmlFreeDoc (doc);
  CU_ASSERT_PTR_NULL (READ_REPLY ("<!DOCTYPE a><a/>", &doctype));
  CU_ASSERT_TRUE (doctype);
  CU_ASSERT_PTR_NULL (READ_REPLY ("<?xml version=\"1.0\"?>"
                                  "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
                                  &doctype));
  CU_ASSERT_TRUE (doctype);
}

/* One VirtualDisk with CHILDREN (key, capacities) through vs_disks_parse. */
static int
parse_one_disk (const char *children, int64_t *capacity)
{
  char *xml;
  xmlDocPtr doc;
  struct vs_disks disks;
  int r;

  CU_ASSERT_FATAL (asprintf (&xml, "<val xmlns:x=\"http://www.w3.org/2001/"
                             "XMLSchema-instance\"><d x:type=\"VirtualDisk\">"
                             "<deviceInfo><label>Hard disk 1</label>"
                             "</deviceInfo>%s</d></val>", children) != -1);
  doc = xmlReadMemory (xml, strlen (xml), "t.xml", NULL, 0);
  r = vs_disks_parse (xmlDocGetRootElement (doc), "vm1", &disks);
  if (r == 0) {
    *capacity = disks.disk[0].capacity;
    vs_disks_free (&disks);
  }
  xmlFreeDoc (doc);
  free (xml);
  return r;
}

static void
test_disk_sizes (void)
{
  int64_t c;

  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key><capacityInKB>9007199254740991"
                                   "</capacityInKB>", &c), 0);
  CU_ASSERT_EQUAL (c, INT64_MAX - 1023);
  /* 2^53 KiB is 2^63 bytes: one too many. */
  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key><capacityInKB>9007199254740992"
                                   "</capacityInKB>", &c), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "VM vm1, disk \"Hard disk 1\": "
                                  "capacityInKB=\"9007199254740992\""));
  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key><capacityInBytes>0"
                                   "</capacityInBytes><capacityInKB>1"
                                   "</capacityInKB>", &c), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "capacityInBytes=\"0\""));
  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key>", &c), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "neither capacityInBytes"));
  CU_ASSERT_EQUAL (parse_one_disk ("<capacityInKB>1</capacityInKB>", &c), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "no device key"));
  /* A size that is not whole KiB, rounded either way, is no conflict. */
  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key><capacityInBytes>1536"
                                   "</capacityInBytes><capacityInKB>2"
                                   "</capacityInKB>", &c), 0);
  CU_ASSERT_EQUAL (c, 1536);
}

static void
test_server_values (void)
{
  static const char *const good[] = {
    "vc", "vc.example.com:443", "10.0.0.1:8443", "[::1]", "[2001:db8::1]:443",
  };
  static const char *const bad[] = {
    "", "https://vc/", "vc/sdk", "vc?x", "vc#y", "user@vc", "::1", "[::1",
    "[]", "[::1]x", ":443", "vc:", "vc:0", "vc:65536", "vc:+1",
  };
  struct vs_server srv;
  size_t i;

  vs_server_init (&srv);
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    CU_ASSERT_EQUAL (vs_server_config (&srv, "server", good[i]), 1);
    CU_ASSERT_PTR_EQUAL (srv.server, good[i]);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    stub_last_error[0] = '\0';
    CU_ASSERT_EQUAL (vs_server_config (&srv, "server", bad[i]), -1);
    CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "write server=HOST"));
  }
}

/* vs_read_password of a file holding LEN bytes of TEXT: returns what
 * it returns, the password in *PW.
 */
static int
read_password_file (const char *text, size_t len, char **pw)
{
  char path[] = "/tmp/test-unit-pw.XXXXXX", value[sizeof path + 1];
  int fd = mkstemp (path), r;

  CU_ASSERT_FATAL (fd >= 0);
  CU_ASSERT_FATAL (write (fd, text, len) == (ssize_t) len);
  close (fd);
  snprintf (value, sizeof value, "+%s", path);
  r = vs_read_password (value, pw);
  unlink (path);
  return r;
}

static void
test_password_files (void)
{
  char big[VS_PASSWORD_MAX + 2], *pw;
  int fd;

  /* The first line, without its newline, as nbdkit reads it. */
  CU_ASSERT_EQUAL_FATAL (read_password_file ("pw\n", 3, &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "pw");
  free (pw);
  CU_ASSERT_EQUAL_FATAL (read_password_file ("p w\nmore\n", 10, &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "p w");
  free (pw);
  CU_ASSERT_EQUAL_FATAL (read_password_file ("", 0, &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "");
  free (pw);

  /* VS_PASSWORD_MAX bytes are a password, with a newline or without. */
  memset (big, 'x', sizeof big);
  big[VS_PASSWORD_MAX] = '\n';
  CU_ASSERT_EQUAL_FATAL (read_password_file (big, VS_PASSWORD_MAX, &pw), 0);
  CU_ASSERT_EQUAL (strlen (pw), VS_PASSWORD_MAX);
  free (pw);
  CU_ASSERT_EQUAL_FATAL (read_password_file (big, VS_PASSWORD_MAX + 1, &pw),
                         0);
  CU_ASSERT_EQUAL (strlen (pw), VS_PASSWORD_MAX);
  free (pw);

  /* One more byte is refused, as is a file without end. */
  big[VS_PASSWORD_MAX] = 'x';
  stub_last_error[0] = '\0';
  CU_ASSERT_EQUAL (read_password_file (big, VS_PASSWORD_MAX + 1, &pw), -1);
  CU_ASSERT_PTR_NULL (pw);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error,
                                  "holds more than 4096 bytes before its "
                                  "first newline"));
  CU_ASSERT_EQUAL (vs_read_password ("+/dev/zero", &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "password file /dev/zero "
                                  "holds more than 4096 bytes"));
  CU_ASSERT_EQUAL (vs_read_password ("+/nonexistent/pw", &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error,
                                  "password file /nonexistent/pw: "));

  /* -FD is read, then closed; stdin, stdout, stderr are refused. */
  fd = open ("/dev/zero", O_RDONLY);
  CU_ASSERT_FATAL (fd > STDERR_FILENO);
  snprintf (big, sizeof big, "-%d", fd);
  CU_ASSERT_EQUAL (vs_read_password (big, &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "password file "
                                  "descriptor"));
  CU_ASSERT (fcntl (fd, F_GETFD) == -1 && errno == EBADF);
  CU_ASSERT_EQUAL (vs_read_password ("-2", &pw), -1);
  CU_ASSERT_EQUAL (vs_read_password ("--3", &pw), -1);
  CU_ASSERT_EQUAL (vs_read_password ("-3x", &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (stub_last_error, "expected -FD"));

  /* The password itself. */
  CU_ASSERT_EQUAL (vs_read_password ("-pw", &pw), -1);
  CU_ASSERT_EQUAL_FATAL (vs_read_password ("pw", &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "pw");
  free (pw);
}

static void
test_changes (void)
{
  struct vs_area a[] = {
    { 10, 20 }, { 100, 10 }, { 70000, 1 }, { 200000, 100 }, { 262100, 44 },
  };
  struct vs_changes c = { .area = a, .n = 5 };

  /* 64 KiB blocks: the first two share block 0, the last is clipped. */
  vs_changes_align (&c, 65536, 262144);
  CU_ASSERT_EQUAL_FATAL (c.n, 2);
  CU_ASSERT_EQUAL (c.area[0].start, 0);
  CU_ASSERT_EQUAL (c.area[0].length, 131072);
  CU_ASSERT_EQUAL (c.area[1].start, 196608);
  CU_ASSERT_EQUAL (c.area[1].length, 65536);
  CU_ASSERT_EQUAL (c.bytes, 196608);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 0), 0);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 131071), 0);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 131072), 1);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 262144), 2);

  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("52 3c ec-87 4a/446"), 14);
  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("*"), 0);
  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("52 3c/"), 0);
  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("/5"), 0);
}

int
main (void)
{
  CU_pSuite s;
  unsigned failed;

  if (CU_initialize_registry () != CUE_SUCCESS)
    return 1;
  s = CU_add_suite ("shared code", NULL, NULL);
  CU_add_test (s, "VMFS descriptor", test_vmfs_descriptor);
  CU_add_test (s, "several extents", test_multi_extent_descriptor);
  CU_add_test (s, "bad descriptors", test_bad_descriptors);
  CU_add_test (s, "binary file", test_binary_is_not_descriptor);
  CU_add_test (s, "extent names", test_extent_names);
  CU_add_test (s, "folder URL", test_folder_url);
  CU_add_test (s, "file versions", test_file_version);
  CU_add_test (s, "thumbprint", test_thumbprint);
  CU_add_test (s, "disk devices", test_disk_devices);
  CU_add_test (s, "changed areas", test_changes);
  CU_add_test (s, "strict numbers", test_parse_int64);
  CU_add_test (s, "DOCTYPE refused", test_doctype_refused);
  CU_add_test (s, "disk sizes", test_disk_sizes);
  CU_add_test (s, "server= values", test_server_values);
  CU_add_test (s, "password files", test_password_files);
  CU_basic_set_mode (CU_BRM_VERBOSE);
  CU_basic_run_tests ();
  failed = CU_get_number_of_failures ();
  CU_cleanup_registry ();
  return failed ? 1 : 0;
}
