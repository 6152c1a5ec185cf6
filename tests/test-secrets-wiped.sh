#!/usr/bin/env bash
# Secrets are wiped with explicit_bzero, which the compiler keeps: a
# memset before free is a dead store that -O2 removes (it removed the
# wipe of the escaped password in the Login call).  Two checks:
#  - no source clears a password, cookie, ticket or secret with
#    memset;
#  - every program that holds the password (the plugin, the filter,
#    vsphere-sync, vsphere-v2v) calls explicit_bzero.
set -euo pipefail
source "$srcdir/functions.sh"
requires nm

top=$abs_top_srcdir
bad=$(grep -nE 'memset *\( *[^,]*(pass|pw|cookie|ticket|secret)[^,]*, *0' \
        "$top"/common/*/*.c "$top"/plugins/*/*.c "$top"/filters/*/*.c \
        "$top"/sync/*.c "$top"/v2v/*.c || true)
[ -z "$bad" ] || fail "secrets cleared with memset, which the compiler may drop: $bad"
echo "ok: no secret is cleared with memset"

for bin in "$NBDKIT_VSPHERE_PLUGIN" "$NBDKIT_CBT_FILTER" \
           "$abs_top_builddir/sync/vsphere-sync" "$abs_top_builddir/v2v/vsphere-v2v"; do
  [ -e "$bin" ] || fail "$bin is not built"
  nm -D --undefined-only "$bin" | grep -w explicit_bzero >/dev/null ||
    fail "$bin does not call explicit_bzero: its secrets are not wiped"
done
echo "ok: the plugin, the filter and both tools wipe their secrets with explicit_bzero"
