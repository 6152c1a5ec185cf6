#!/usr/bin/env bash
# Each binary carries the code of the libraries it uses and of no
# other: the layers of README's Layout, checked on what the linker
# kept.  A library counts as carried when any of its objects' external
# functions is defined in the binary (the modules keep them as local
# symbols, being built -fvisibility=hidden).  Also: no binary links a
# shared library it does not use (ldd -u), and the cbt filter needs
# no libcurl, libxml2 or OpenSSL, as it asks the plugin instead.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
command -v nm >/dev/null && command -v ldd >/dev/null || {
  echo "$0: SKIP: nm and ldd (binutils, libc-bin) are needed"
  exit 77
}
fail () { echo "$0: FAIL: $*" >&2; exit 1; }

top=$abs_top_builddir
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The external functions of each library, by library name.
declare -A archive=(
  [utils]=common/utils/.libs/libutils.a
  [vmdk]=common/vmdk/.libs/libvmdk.a
  [nfc]=common/nfc/.libs/libnfc.a
  [soap]=common/soap/.libs/libsoap.a
  [vsphere]=common/vsphere/.libs/libvsphere.a
  [shim]=common/shim/.libs/libnbdkit-shim.a
  [tool]=common/tool/.libs/libvsphere-tool.a
  [reader]=plugins/vsphere/.libs/libvsphere-reader.a
)
for lib in "${!archive[@]}"; do
  [ -f "$top/${archive[$lib]}" ] || fail "${archive[$lib]} is not built"
  nm --defined-only "$top/${archive[$lib]}" 2>/dev/null |
    awk '$2 == "T" { print $3 }' | sort -u > "$tmp/$lib"
  [ -s "$tmp/$lib" ] || fail "no functions found in ${archive[$lib]}"
done

# carried BINARY: the libraries whose functions BINARY defines, sorted.
carried ()
{
  nm --defined-only "$1" | awk '$2 ~ /^[Tt]$/ { print $3 }' |
    sort -u > "$tmp/defined"
  for lib in "${!archive[@]}"; do
    [ -z "$(comm -12 "$tmp/defined" "$tmp/$lib" | head -n 1)" ] ||
      echo "$lib"
  done | sort | tr '\n' ' '
}

check ()
{
  local bin=$1 want=$2 got
  [ -f "$top/$bin" ] || fail "$bin is not built"
  got=$(carried "$top/$bin")
  [ "$got" = "$want " ] ||
    fail "$bin carries [${got% }], expected [$want]"
  ldd -u -r "$top/$bin" > "$tmp/unused" 2>/dev/null || true
  ! grep -q / "$tmp/unused" ||
    fail "$bin links shared libraries it does not use: $(grep / "$tmp/unused")"
  echo "ok: $bin carries $want"
}

check plugins/vsphere/.libs/nbdkit-vsphere-plugin.so \
  "nfc reader soap utils vmdk vsphere"
check filters/cbt/.libs/nbdkit-cbt-filter.so "utils"
check sync/vsphere-sync "shim soap tool utils vsphere"
check v2v/vsphere-v2v "shim soap tool utils vsphere"

# Below the layers: what only the tools call stays out of the plugin.
for f in vs_vm_shut_down vs_vm_enable_cbt vs_hardware_get; do
  ! nm "$top/plugins/vsphere/.libs/nbdkit-vsphere-plugin.so" |
    grep -qw "$f" || fail "the plugin carries $f, which it never calls"
done
echo "ok: the plugin carries no power, CBT-enable or hardware code"

needed=$(ldd "$top/filters/cbt/.libs/nbdkit-cbt-filter.so" |
           grep -E 'libcurl|libxml2|libssl|libcrypto' || true)
[ -z "$needed" ] || fail "the cbt filter links $needed"
echo "ok: the cbt filter links no libcurl, libxml2 or OpenSSL"
