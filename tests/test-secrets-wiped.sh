#!/usr/bin/env bash
# Secrets are wiped with explicit_bzero, which the compiler keeps: a
# memset before free is a dead store that -O2 removes (it removed the
# wipe of the escaped password in the Login call).  Two checks:
#  - no source clears a password, cookie, ticket or secret with
#    memset;
#  - every program that holds the password (the plugin, vsphere-sync,
#    vsphere-v2v) calls explicit_bzero, and the cbt filter, which asks
#    the plugin instead of logging in, never reads it.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
requires nm

top=$abs_top_srcdir
bad=$(grep -nE 'memset *\( *[^,]*(pass|pw|cookie|ticket|secret)[^,]*, *0' \
        "$top"/common/*/*.c "$top"/plugins/*/*.c "$top"/filters/*/*.c \
        "$top"/sync/*.c "$top"/v2v/*.c || true)
[ -z "$bad" ] || fail "secrets cleared with memset, which the compiler may drop: $bad"
echo "ok: no secret is cleared with memset"

for bin in "$NBDKIT_VSPHERE_PLUGIN" \
           "$abs_top_builddir/sync/vsphere-sync" "$abs_top_builddir/v2v/vsphere-v2v"; do
  [ -e "$bin" ] || fail "$bin is not built"
  nm -D --undefined-only "$bin" | grep -w explicit_bzero >/dev/null ||
    fail "$bin does not call explicit_bzero: its secrets are not wiped"
done
echo "ok: the plugin and both tools wipe their secrets with explicit_bzero"

[ -e "$NBDKIT_CBT_FILTER" ] || fail "$NBDKIT_CBT_FILTER is not built"
held=$(nm -D --undefined-only "$NBDKIT_CBT_FILTER" |
         grep -wE 'nbdkit_read_password|curl_easy_init|memfd_create' || true)
[ -z "$held" ] || fail "the cbt filter reads or sends the password itself: $held"
echo "ok: the cbt filter never reads the password"
