/* Write a synthetic sparse extent, for the oracle test:
 *
 *   sparse-mkimage hosted|cowd|sesparse FILE SECTORS GRAIN SPEC...
 *
 * SPEC is FIRST[-LAST]=d:XX (data filled with hex byte XX), =z
 * (zeroed) or =u (seSparse: unmapped), in grains.  Data grains are
 * laid out in the order given.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "sparse-image.h"
#include "vector.h"

DEFINE_VECTOR (grain_vector, struct image_grain)

static int
parse_spec (const char *spec, struct grain_vector *g)
{
  uint64_t first, last, i;
  unsigned fill = 0;
  char state;
  int len = 0;

  if (sscanf (spec, "%" SCNu64 "-%" SCNu64 "=%c%n",
              &first, &last, &state, &len) != 3) {
    if (sscanf (spec, "%" SCNu64 "=%c%n", &first, &state, &len) != 2)
      return -1;
    last = first;
  }
  if (state == 'd' && sscanf (spec + len, ":%2x", &fill) != 1)
    return -1;
  if (last < first || last - first > 1 << 24)
    return -1;
  for (i = first; i <= last; i++) {
    struct image_grain e = { .grain = i, .fill = fill };

    switch (state) {
    case 'd': e.state = GRAIN_DATA; break;
    case 'z': e.state = GRAIN_ZERO; break;
    case 'u': e.state = GRAIN_UNMAPPED; break;
    default: return -1;
    }
    if (grain_vector_append (g, e) == -1)
      return -1;
  }
  return 0;
}

int
main (int argc, char *argv[])
{
  enum image_format fmt;
  struct grain_vector g = { 0 };
  struct image img;
  uint64_t sectors, grain;
  FILE *fp;
  int i;

  if (argc < 5) {
    fprintf (stderr, "usage: sparse-mkimage hosted|cowd|sesparse FILE "
             "SECTORS GRAIN [FIRST[-LAST]=d:XX|z|u]...\n");
    return 2;
  }
  if (strcmp (argv[1], "hosted") == 0)
    fmt = IMAGE_HOSTED;
  else if (strcmp (argv[1], "cowd") == 0)
    fmt = IMAGE_COWD;
  else if (strcmp (argv[1], "sesparse") == 0)
    fmt = IMAGE_SESPARSE;
  else {
    fprintf (stderr, "sparse-mkimage: unknown format %s\n", argv[1]);
    return 2;
  }
  sectors = strtoull (argv[3], NULL, 0);
  grain = strtoull (argv[4], NULL, 0);
  for (i = 5; i < argc; i++)
    if (parse_spec (argv[i], &g) == -1) {
      fprintf (stderr, "sparse-mkimage: bad grain spec %s\n", argv[i]);
      return 2;
    }
  if (sectors == 0 || grain == 0 ||
      image_build (fmt, sectors, grain, g.ptr, g.len, &img) == -1)
    return 1;
  fp = fopen (argv[2], "wb");
  if (!fp || fwrite (img.buf, 1, img.len, fp) != img.len || fclose (fp)) {
    perror (argv[2]);
    return 1;
  }
  image_free (&img);
  grain_vector_reset (&g);
  return 0;
}
