/* The fuzz input as a vmdk_file: reads past its end fail.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stdint.h>
#include <string.h>

#include <nbdkit-plugin.h>

struct input {
  const uint8_t *data;
  size_t size;
};

static inline int
mem_pread (void *opaque, void *buf, size_t count, uint64_t offset)
{
  const struct input *in = opaque;

  if (offset > in->size || count > in->size - offset) {
    nbdkit_error ("short read");
    return -1;
  }
  memcpy (buf, in->data + offset, count);
  return 0;
}

#endif /* FUZZ_INPUT_H */
