/* libFuzzer target: the VMDK text descriptor parser.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include "vmdk-descriptor.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vmdk_descriptor d;
  size_t i;

  if (vmdk_descriptor_parse ((const char *) data, size, "fuzz.vmdk",
                             &d) == 0) {
    for (i = 0; i < d.extents.len; i++)
      if (d.extents.ptr[i].file)
        vmdk_extent_name_is_local (d.extents.ptr[i].file);
    vmdk_descriptor_size (&d);
    vmdk_descriptor_free (&d);
  }
  return 0;
}
