#!/usr/bin/env bash
# Every C file opens with a comment saying what it is for, which ends
# with the licence's SPDX identifier (LICENSE has the text).
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
top=${abs_top_srcdir:?}

bad=
for f in $(cd "$top" &&
             find common plugins filters sync v2v tests fuzz \
                  -name '*.[ch]' -not -path '*/.*' | sort); do
  head -n 1 "$top/$f" | grep -q '^/\*' || bad="$bad
  $f: does not open with a comment"
  # The identifier closes that first comment.
  awk '/\*\// { exit } END {}
       { print }' "$top/$f" | grep -q 'SPDX-License-Identifier: BSD-3-Clause' ||
    bad="$bad
  $f: no SPDX-License-Identifier in its opening comment"
done
[ -z "$bad" ] || { echo "$0: FAIL:$bad" >&2; exit 1; }
echo "ok: every C file opens with a comment that names its licence"
