/* A typed growable array.  DEFINE_VECTOR (NAME, TYPE) declares
 *
 *   struct NAME { TYPE *ptr; size_t len, cap; };
 *
 * with NAME_reserve (v, n), room for N more elements, NAME_append (v,
 * elem) and NAME_reset (v), which frees the elements' storage (not
 * what they point to).  A zeroed struct is an empty array.  Capacity
 * grows by half again each time, so that appending one element at a
 * time costs amortised constant time.  NAME_reserve and NAME_append
 * return 0, or -1 with errno ENOMEM and the array unchanged; callers
 * report, as only they know what was being built.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VS_VECTOR_H
#define VS_VECTOR_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Make room in *PTR (of *CAP elements of ELEM bytes, LEN in use) for N
 * more.
 */
static inline int
vs_vector_reserve (void **ptr, size_t *cap, size_t len, size_t n, size_t elem)
{
  size_t want, grown;
  void *p;

  if (n <= *cap - len)
    return 0;
  if (n > SIZE_MAX - len)
    goto too_big;
  want = len + n;
  grown = *cap <= SIZE_MAX / 3 ? *cap + *cap / 2 : SIZE_MAX;
  if (grown < want)
    grown = want;
  if (grown < 8)
    grown = 8;
  if (grown > SIZE_MAX / elem) {
    grown = SIZE_MAX / elem;
    if (grown < want)
      goto too_big;
  }
  p = realloc (*ptr, grown * elem);
  if (!p)
    return -1;
  *ptr = p;
  *cap = grown;
  return 0;

 too_big:
  errno = ENOMEM;
  return -1;
}

#define DEFINE_VECTOR(name, type)                                       \
  struct name {                                                         \
    type *ptr;                                                          \
    size_t len, cap;                                                    \
  };                                                                    \
                                                                        \
  static inline __attribute__ ((__unused__)) int                        \
  name##_reserve (struct name *v, size_t n)                             \
  {                                                                     \
    void *p = v->ptr;                                                   \
    int r = vs_vector_reserve (&p, &v->cap, v->len, n, sizeof (type));  \
                                                                        \
    v->ptr = p;                                                         \
    return r;                                                           \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) int                        \
  name##_append (struct name *v, type elem)                             \
  {                                                                     \
    if (name##_reserve (v, 1) == -1)                                    \
      return -1;                                                        \
    v->ptr[v->len++] = elem;                                            \
    return 0;                                                           \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) void                       \
  name##_reset (struct name *v)                                         \
  {                                                                     \
    free (v->ptr);                                                      \
    v->ptr = NULL;                                                      \
    v->len = v->cap = 0;                                                \
  }

#endif /* VS_VECTOR_H */
