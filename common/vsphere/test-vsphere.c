/* Unit tests of common/vsphere that need no server: the disks of a
 * device list, their sizes, selection by disk= and file=, and
 * datastore paths.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "nbdkit-shim.h"
#include "unit-test.h"
#include "vsphere-disks.h"

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
    "<fileName>[ds 2] vm/vm_1.vmdk</fileName>"
    "<keyId><keyId>7f3e</keyId><providerId><id>kms1</id></providerId>"
    "</keyId></backing>"
    "<capacityInKB>2048</capacityInKB></VirtualDevice></val>";
  xmlDocPtr doc = xmlReadMemory (xml, strlen (xml), "t.xml", NULL, 0);
  struct vs_disks disks;
  const char *path;
  char *ds;

  CU_ASSERT_EQUAL_FATAL (vs_disks_parse (xmlDocGetRootElement (doc), "vm",
                                         &disks),
                         0);
  CU_ASSERT_EQUAL_FATAL (disks.len, 2);
  CU_ASSERT_EQUAL (disks.ptr[0].key, 2000);
  CU_ASSERT_EQUAL (disks.ptr[0].capacity, 1048576);
  CU_ASSERT_STRING_EQUAL (disks.ptr[0].change_id, "52 aa/3");
  CU_ASSERT_STRING_EQUAL (disks.ptr[0].backing,
                          "VirtualDiskFlatVer2BackingInfo");
  CU_ASSERT_EQUAL (disks.ptr[1].key, -7);
  CU_ASSERT_EQUAL (disks.ptr[1].capacity, 2048 * 1024);
  CU_ASSERT_PTR_NULL (disks.ptr[1].change_id);
  /* VM Encryption: the backing's keyId. */
  CU_ASSERT_FALSE (disks.ptr[0].encrypted);
  CU_ASSERT_TRUE (disks.ptr[1].encrypted);

  CU_ASSERT_PTR_EQUAL (vs_disks_select (&disks, "1", NULL, "vm"),
                       &disks.ptr[1]);
  CU_ASSERT_PTR_EQUAL (vs_disks_select (&disks, "Hard disk 1", NULL, "vm"),
                       &disks.ptr[0]);
  CU_ASSERT_PTR_EQUAL (vs_disks_select (&disks, NULL, "[ds 2] vm/vm_1.vmdk",
                                        "vm"), &disks.ptr[1]);
  CU_ASSERT_PTR_NULL (vs_disks_select (&disks, "2", NULL, "vm"));
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "disk=1: \"Hard disk 2\""));
  CU_ASSERT_PTR_NULL (vs_disks_select (&disks, "Hard disk 9", NULL, "vm"));
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "[ds1] vm/vm.vmdk"));

  ds = vs_datastore_path_split (disks.ptr[1].file, &path);
  CU_ASSERT_STRING_EQUAL (ds, "ds 2");
  CU_ASSERT_STRING_EQUAL (path, "vm/vm_1.vmdk");
  free (ds);
  CU_ASSERT_PTR_NULL (vs_datastore_path_split ("vsan://abc", &path));
  vs_disks_free (&disks);
  xmlFreeDoc (doc);
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
    *capacity = disks.ptr[0].capacity;
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
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "VM vm1, disk \"Hard disk 1\": "
                                  "capacityInKB=\"9007199254740992\""));
  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key><capacityInBytes>0"
                                   "</capacityInBytes><capacityInKB>1"
                                   "</capacityInKB>", &c), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "capacityInBytes=\"0\""));
  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key>", &c), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "neither capacityInBytes"));
  CU_ASSERT_EQUAL (parse_one_disk ("<capacityInKB>1</capacityInKB>", &c), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "no device key"));
  /* A size that is not whole KiB, rounded either way, is no conflict. */
  CU_ASSERT_EQUAL (parse_one_disk ("<key>1</key><capacityInBytes>1536"
                                   "</capacityInBytes><capacityInKB>2"
                                   "</capacityInKB>", &c), 0);
  CU_ASSERT_EQUAL (c, 1536);
}

static const struct unit_test tests[] = {
  { "disk devices", test_disk_devices },
  { "disk sizes", test_disk_sizes },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("vsphere", tests);
}
