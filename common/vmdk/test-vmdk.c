/* Unit tests of common/vmdk: the descriptor parser and extent names.
 * The sparse formats are tested against qemu-img by tests/test-sparse.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbdkit-shim.h"
#include "unit-test.h"
#include "vmdk-descriptor.h"

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
  CU_ASSERT_EQUAL_FATAL (d.extents.len, 1);
  CU_ASSERT_EQUAL (d.extents.ptr[0].type, VMDK_EXTENT_VMFS);
  CU_ASSERT_EQUAL (d.extents.ptr[0].sectors, 2097152);
  CU_ASSERT_STRING_EQUAL (d.extents.ptr[0].file, "web 01+&%\xc3\xbc-flat.vmdk");
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
  CU_ASSERT_EQUAL_FATAL (d.extents.len, 3);
  CU_ASSERT_EQUAL (d.extents.ptr[0].type, VMDK_EXTENT_FLAT);
  CU_ASSERT_EQUAL (d.extents.ptr[1].type, VMDK_EXTENT_ZERO);
  CU_ASSERT_PTR_NULL (d.extents.ptr[1].file);
  CU_ASSERT_EQUAL (d.extents.ptr[2].offset, 2048);
  CU_ASSERT_STRING_EQUAL (d.extents.ptr[2].file, "b c.vmdk");
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

    nbdkit_shim_clear_error ();
    CU_ASSERT_EQUAL (PARSE (cases[i].text, &d), -1);
    CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), cases[i].expect));
    CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "t.vmdk"));
  }
}

static void
test_binary_is_not_descriptor (void)
{
  char buf[64] = "createType=vmfs\nRW 1 VMFS \"x\"\n";
  struct vmdk_descriptor d;

  buf[40] = '\0';
  CU_ASSERT_EQUAL (vmdk_descriptor_parse (buf, sizeof buf, "t.vmdk", &d), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "not a VMDK descriptor"));
}

/* An encrypted disk's descriptor says so, in either of two ways; its
 * chain is then refused rather than read as plaintext.
 */
static void
test_encrypted_descriptor (void)
{
  static const char *const lines[] = {
    "encryption.keySafe = \"vmware:key/list/(pair/(null/,HMAC-SHA-256,"
    "xyz))\"\n",
    "encryption.data = \"AAAA\"\n",
    "ddb.iofilters = \"vmwarevmcrypt\"\n",
  };
  struct vmdk_descriptor d;
  char text[512];
  size_t i;

  for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    snprintf (text, sizeof text, "createType=\"vmfs\"\n%s"
              "RW 2048 VMFS \"a-flat.vmdk\"\n", lines[i]);
    CU_ASSERT_EQUAL_FATAL (PARSE (text, &d), 0);
    CU_ASSERT_TRUE (d.encrypted);
    vmdk_descriptor_free (&d);
  }
  CU_ASSERT_EQUAL_FATAL (PARSE ("createType=\"vmfs\"\n"
                                "ddb.iofilters = \"other\"\n"
                                "RW 2048 VMFS \"a-flat.vmdk\"\n", &d), 0);
  CU_ASSERT_FALSE (d.encrypted);
  vmdk_descriptor_free (&d);
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

static const struct unit_test tests[] = {
  { "VMFS descriptor", test_vmfs_descriptor },
  { "several extents", test_multi_extent_descriptor },
  { "bad descriptors", test_bad_descriptors },
  { "binary file", test_binary_is_not_descriptor },
  { "encrypted disks", test_encrypted_descriptor },
  { "extent names", test_extent_names },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("vmdk", tests);
}
