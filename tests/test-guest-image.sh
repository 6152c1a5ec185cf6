#!/usr/bin/env bash
# The Debian 12 test guest: build it (or take it from the cache), check
# that its initramfs is the VMware-like one, that it boots on an emulated
# VMware PVSCSI controller, and that it does NOT boot on virtio-blk (its
# initramfs has no virtio driver), without the image being modified.
#
# Slow (a cold build is about 2 minutes, each boot under TCG 30-60 s), so
# not in make check: run it with `make check-guest`, or directly.  Needs
# root for a cold build and the packages in tests/guest/host-packages;
# exits 77 (skipped) when they are missing.
set -euo pipefail

: "${srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
guest=$srcdir/guest
# shellcheck source-path=SCRIPTDIR source=guest/guest-functions.sh
source "$guest/guest-functions.sh"
prog=${0##*/}
passed=0 failed=0

for p in debootstrap guestfish qemu-system-x86_64 qemu-img sfdisk mke2fs; do
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

echo "$prog: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
