#!/usr/bin/env bash
# The Debian 12 test guest: build it (or take it from the cache), check
# that its initramfs is the VMware-like one, that it boots on an emulated
# VMware PVSCSI controller, and that it does NOT boot on virtio-blk (its
# initramfs has no virtio driver), without the image being modified.
# Then the data disk: build-data-image's versions 1 and 2 (each the same
# every time, and a few blocks apart), check-data-files telling them
# apart, and boot-check booting a VM whose OS disk is its second disk.
#
# Slow (a cold build is about 2 minutes, each boot under TCG 30-60 s), so
# not in make check: run it with `make check-guest`, or directly.  Needs
# root for a cold build and the packages in tests/guest/host-packages;
# exits 77 (skipped) when they are missing.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail

: "${srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
guest=$srcdir/guest
# shellcheck source-path=SCRIPTDIR source=guest/guest-functions.sh
source "$guest/guest-functions.sh"
prog=${0##*/}
passed=0 failed=0

for p in debootstrap guestfish qemu-system-x86_64 qemu-img sfdisk mke2fs \
         debugfs e2fsck openssl; do
  command -v "$p" >/dev/null 2>&1 || {
    echo "$prog: test skipped: $p is not installed (see $guest/host-packages)"
    exit 77
  }
done

if [ "$(id -u)" -ne 0 ]; then
  key=$("$guest/build-debian-image" --print-key)
  cache=$(guest_cache_dir)
  [ -f "$cache/debian12-$key.img" ] || {
    echo "$prog: test skipped: building the image needs root, and the cache has none"
    exit 77
  }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-guest-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok () { echo "$prog: ok: $*"; passed=$((passed + 1)); }
not () { ! "$@"; }
not_ok () { echo "$prog: FAIL: $*" >&2; failed=$((failed + 1)); }
check () # check DESCRIPTION COMMAND...
{
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# ---- the image, cold or from the cache ----------------------------------------
t=$SECONDS
image=$("$guest/build-debian-image") || {
  echo "$prog: FAIL: build-debian-image failed" >&2
  exit 1
}
echo "$prog: image $image ($((SECONDS - t)) s)"
info=${image%.img}.info
check "the image and its info file exist" test -f "$image" -a -f "$info"

t=$SECONDS
again=$("$guest/build-debian-image")
check "a second call returns the cached image ($((SECONDS - t)) s)" \
  test "$again" = "$image" -a $((SECONDS - t)) -le 5

modules=" $(sed -n 's/^initramfs_modules=//p' "$info") "
for m in vmw_pvscsi sd_mod ext4; do
  check "the initramfs has $m" test "${modules/ $m /}" != "$modules"
done
for m in virtio_blk virtio_scsi virtio_pci; do
  check "the initramfs has no $m" test "${modules/ $m /}" = "$modules"
done

before=$(stat -c '%s %Y' "$image")
export GUEST_ACCEL
GUEST_ACCEL=$(guest_accel)
echo "$prog: accelerator: $GUEST_ACCEL"

# ---- it boots on the VMware layout (PVSCSI disk, vmxnet3) ------------------------
if qemu-system-x86_64 -device help 2>&1 | grep -q '^name "pvscsi"'; then
  # Through a qcow2 overlay, so that boot-check's qcow2 path is covered.
  qemu-img create -q -f qcow2 -b "$image" -F raw "$tmp/overlay.qcow2"
  t=$SECONDS
  rc=0
  "$guest/boot-check" --vmware --log "$tmp/pvscsi.log" "$tmp/overlay.qcow2" \
    >"$tmp/pvscsi.out" || rc=$?
  check "it boots on PVSCSI ($((SECONDS - t)) s)" test "$rc" -eq 0
  check "the marker names the guest" \
    grep -q "^NBDKIT-VSPHERE-GUEST-BOOTED $(sed -n 's/^hostname=//p' "$info")$" \
    "$tmp/pvscsi.out"
  check "its root is the SCSI disk, through vmw_pvscsi" \
    grep -q '^NBDKIT-VSPHERE-GUEST-INFO root=/dev/sda1 .*vmw_pvscsi' \
    "$tmp/pvscsi.out"
else
  echo "$prog: this qemu has no pvscsi device: the PVSCSI boot is not checked"
fi

# ---- and not on virtio-blk ------------------------------------------------------
t=$SECONDS
rc=0
"$guest/boot-check" --log "$tmp/virtio.log" "$image" \
  >"$tmp/virtio.out" 2>"$tmp/virtio.err" || rc=$?
check "it does not boot on virtio-blk ($((SECONDS - t)) s, exit $rc)" \
  test "$rc" -eq 1
check "because the initramfs finds no root device" \
  grep -a -q 'ALERT!  UUID=.* does not exist' "$tmp/virtio.log"

check "the image was not modified" test "$(stat -c '%s %Y' "$image")" = "$before"

# ---- the data disk, versions 1 and 2 ----------------------------------------------
t=$SECONDS
data1=$tmp/data-v1.raw data2=$tmp/data-v2.raw
if ! { "$guest/build-data-image" "$data1" 1 &&
        "$guest/build-data-image" "$tmp/data-v1-again.raw" 1 &&
        "$guest/build-data-image" "$data2" 2; }; then
  echo "$prog: FAIL: build-data-image failed" >&2
  exit 1
fi
echo "$prog: three data disks built in $((SECONDS - t)) s"
sum1=$(sha256sum <"$data1" | cut -c1-64)
sum2=$(sha256sum <"$data2" | cut -c1-64)
check "two builds of version 1 are byte-identical" \
  test "$(sha256sum <"$tmp/data-v1-again.raw" | cut -c1-64)" = "$sum1"
check "and so are their manifests" cmp -s "$tmp/data-v1.files" "$tmp/data-v1-again.files"
check "version 2 differs from version 1" test "$sum2" != "$sum1"
check "in content, not in size" \
  test "$(stat -c %s "$data2")" = "$(stat -c %s "$data1")"
check "its first 1024 bytes are zero (nothing to boot)" cmp -s -n 1024 "$data1" /dev/zero
# The blocks of 64 KiB that differ: cmp -l prints each differing byte's
# offset, from 1.
blocks=$(cmp -l "$data1" "$data2" |
         awk '{ b = int(($1 - 1) / 65536); if (!(b in s)) { s[b] = 1; n++ } }
              END { print n + 0 }') || :
echo "$prog: versions 1 and 2 differ in $blocks of $(($(stat -c %s "$data1") / 65536)) blocks of 64 KiB"
check "only a few blocks differ" test "$blocks" -ge 1 -a "$blocks" -le 32
changed=$(diff "$tmp/data-v1.files" "$tmp/data-v2.files" | sed -n 's|^> [0-9a-f]*  ||p' | tr '\n' ' ') || :
check "the manifests differ in /blob.bin and /hello.txt only" \
  test "$changed" = "/blob.bin /hello.txt "

# check-data-files on version 1 through a qcow2 overlay (its qcow2 path),
# and on version 2 against both manifests.
qemu-img create -q -f qcow2 -b "$data1" -F raw "$tmp/data-v1.qcow2"
t=$SECONDS
rc=0
"$guest/check-data-files" --quiet "$tmp/data-v1.qcow2" "$tmp/data-v1.files" || rc=$?
check "check-data-files: version 1 matches its manifest ($((SECONDS - t)) s)" test "$rc" -eq 0
t=$SECONDS
rc=0
"$guest/check-data-files" --quiet "$data2" "$tmp/data-v1.files" 2>"$tmp/check-v2.err" || rc=$?
check "check-data-files: version 2 does not match version 1's ($((SECONDS - t)) s, exit $rc)" \
  test "$rc" -eq 1
for f in /blob.bin /hello.txt; do
  check "and it names $f" grep -q "DIFFERS: $f " "$tmp/check-v2.err"
done
check "and not the one that does not" \
  not grep -q 'DIFFERS: /sub/static.txt' "$tmp/check-v2.err"
t=$SECONDS
rc=0
"$guest/check-data-files" --quiet --format raw "$data2" "$tmp/data-v2.files" || rc=$?
check "check-data-files: version 2 matches its own manifest ($((SECONDS - t)) s)" \
  test "$rc" -eq 0

# ---- two disks: the OS disk second --------------------------------------------------
# A boot sector that prints BOOT-CHECK-TRAP on the first serial port and
# halts: booted only if the firmware ignores --boot-disk.  At 0x7c00:
#   cli; xor ax,ax; mov ds,ax; cld; mov si,msg; mov dx,0x3f8
#   next: lodsb; test al,al; jz done; out dx,al; jmp next
#   done: hlt; jmp done
#   msg: "BOOT-CHECK-TRAP\r\n\0"
trap_disk=$tmp/trap.raw
truncate -s 1M "$trap_disk"
printf '\xfa\x31\xc0\x8e\xd8\xfc\xbe\x1a\x7c\xba\xf8\x03\xac\x84\xc0\x74\x03\xee\xeb\xf8\xf4\xeb\xfd\x90\x90\x90BOOT-CHECK-TRAP\r\n\0' |
  dd of="$trap_disk" conv=notrunc status=none
printf '\x55\xaa' | dd of="$trap_disk" bs=1 seek=510 conv=notrunc status=none
# The trap is the second disk and --boot-disk 1 picks it over the first,
# the guest's, on every bus this qemu has (a second or two each).
for bus in pvscsi virtio-scsi sata ide virtio; do
  rc=0
  "$guest/boot-check" --quiet --disk "$bus" --net none --boot-disk 1 \
    --marker BOOT-CHECK-TRAP --timeout 60 "$image" "$trap_disk" \
    >/dev/null 2>"$tmp/trap-$bus.err" || rc=$?
  if [ "$rc" -eq 77 ]; then
    echo "$prog: this qemu has no $bus device: --boot-disk is not checked on it"
    continue
  fi
  check "--boot-disk 1 boots the second of two disks on $bus" test "$rc" -eq 0
done

if qemu-system-x86_64 -device help 2>&1 | grep -q '^name "pvscsi"'; then
  t=$SECONDS
  rc=0
  "$guest/boot-check" --vmware --boot-disk 1 --log "$tmp/two.log" \
    "$data1" "$image" >"$tmp/two.out" || rc=$?
  check "the data disk first and the guest second: it boots on PVSCSI ($((SECONDS - t)) s)" \
    test "$rc" -eq 0
  check "its root is the second SCSI disk" \
    grep -q '^NBDKIT-VSPHERE-GUEST-INFO root=/dev/sdb1 ' "$tmp/two.out"
fi
check "the data disk was not modified" \
  test "$(sha256sum <"$data1" | cut -c1-64)" = "$sum1"
check "nor the image" test "$(stat -c '%s %Y' "$image")" = "$before"

echo "$prog: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
