#!/usr/bin/env bash
# Under --enable-sanitizers: every C file of ours also compiles without
# a warning under -Werror with UBSan in its default, recovering mode,
# the way people commonly build with sanitizers (-O1, or -O2).  That
# mode makes GCC warn about paths its own checks invent, which the
# suite's -fno-sanitize-recover build does not show.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail

: "${SANITIZER_CC:?this test runs only under --enable-sanitizers}"
: "${SANITIZER_CFLAGS:?}"
src=${abs_top_srcdir:?}

status=0
for opt in -O1 -O2; do
  for f in "$src"/common/*/*.c "$src"/plugins/vsphere/*.c \
           "$src"/filters/cbt/*.c "$src"/tests/*.c; do
    # shellcheck disable=SC2086
    $SANITIZER_CC $SANITIZER_CFLAGS -fsanitize=address,undefined $opt \
      -c "$f" -o /dev/null || {
      echo "$0: FAIL: ${f#"$src"/} with $opt -fsanitize=address,undefined" >&2
      status=1
    }
  done
  echo "compiled with $opt -fsanitize=address,undefined"
done
exit $status
