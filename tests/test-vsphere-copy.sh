#!/usr/bin/env bash
# Byte-exact copies of a one-disk VM through nbdcopy and qemu-img (raw
# and qcow2), naming the VM and the disk in every supported way.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 8
vm=DC0/vm/copy-vm
ref=$(vcsim_ctl POST "/vm/create?path=$vm&power=off")
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=copy-vm/copy-vm&image=$img" >/dev/null
want=$(sha256sum < "$img")

check_sha ()
{
  local got
  got=$(sha256sum < "$1")
  [ "$got" = "$want" ] || fail "$1: sha256 differs from the source image ($2)"
  echo "ok: $2"
}

# nbdcopy, with every vm= form.
uuid=$(soap_login && vm_property "$ref" config.uuid)
iuuid=$(vm_property "$ref" config.instanceUuid)
[ -n "$uuid" ] && [ -n "$iuuid" ] || fail "cannot read the VM's UUIDs"
for spec in "$vm" "moref=$ref" "uuid=$uuid" "instance-uuid=$iuuid" copy-vm; do
  rm -f "$VCSIM_DIR/out.raw"
  nbdkit_vsphere "vm=$spec" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
  check_sha "$VCSIM_DIR/out.raw" "nbdcopy vm=$spec"
done

# Every disk= form.
for sel in "disk=0" "disk=Hard disk 1" "disk=hard DISK 1" "file=[LocalDS_0] copy-vm/copy-vm.vmdk"; do
  rm -f "$VCSIM_DIR/out.raw"
  nbdkit_vsphere "vm=$vm" "$sel" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
  check_sha "$VCSIM_DIR/out.raw" "nbdcopy $sel"
done

# qemu-img to raw and to qcow2, checked with qemu-img compare.
nbdkit_vsphere "vm=$vm" --run "qemu-img convert -f raw -O raw \"\$uri\" $VCSIM_DIR/q.raw"
check_sha "$VCSIM_DIR/q.raw" "qemu-img convert to raw"
nbdkit_vsphere "vm=$vm" --run "qemu-img convert -f raw -O qcow2 \"\$uri\" $VCSIM_DIR/q.qcow2"
qemu-img compare -f raw -F qcow2 "$img" "$VCSIM_DIR/q.qcow2"
echo "ok: qemu-img convert to qcow2"

# Size and description as a client sees them.
nbdkit_vsphere "vm=$vm" --run 'nbdinfo "$uri"' > "$VCSIM_DIR/info"
grep -q "export-size: $(stat -c %s "$img")" "$VCSIM_DIR/info" ||
  fail "wrong export size: $(cat "$VCSIM_DIR/info")"
grep -q 'description: VM copy-vm .*\[LocalDS_0\] copy-vm/copy-vm.vmdk' \
  "$VCSIM_DIR/info" || fail "description lacks VM and disk: $(cat "$VCSIM_DIR/info")"
# One connection per disk: readahead keeps the datastore busy for it.
grep -q 'can_multi_conn: false' "$VCSIM_DIR/info" || fail "multi-conn advertised"
grep -q 'is_read_only: true' "$VCSIM_DIR/info" || fail "export is not read-only"
echo "ok: nbdinfo"

# --dump-plugin lists the plugin's features.
nbdkit "$NBDKIT_VSPHERE_PLUGIN" --dump-plugin > "$VCSIM_DIR/dump"
# One request at a time per connection (readahead runs reads in
# parallel), so that nbdkit keeps one buffer per connection, not one
# per worker thread.
grep -q '^thread_model=serialize_requests$' "$VCSIM_DIR/dump" ||
  fail "not serialize_requests: $(cat "$VCSIM_DIR/dump")"
grep -q '^vsphere_extent_types=FLAT VMFS ZERO SPARSE VMFSSPARSE SESPARSE$' "$VCSIM_DIR/dump" || fail "--dump-plugin lacks the extent types"
grep -q '^vsphere_vm_lookup=path moref uuid instance-uuid name$' "$VCSIM_DIR/dump" &&
  grep -q '^vsphere_allocated_extents=yes$' "$VCSIM_DIR/dump" ||
  fail "--dump-plugin lacks the features: $(cat "$VCSIM_DIR/dump")"
echo "ok: --dump-plugin"
