#!/usr/bin/env bash
# Route B, warm migration, as vsphere-v2v(1)'s second example runs it:
# vsphere-sync cycles while a real Debian 12 guest's VM runs (the guest
# changes its data disk between cycles, and scribbles over both disks
# after a cycle's snapshot), a last cycle with --final, then
# vsphere-v2v --in-place converts both copies in one virt-v2v-in-place
# run, the system disk's copy on a block device where this machine can
# make one.  Each cycle's copies match the VM's disks of its moment; the
# converted copies boot on virtio from the second disk and hold the data
# disk's files of the last cycle; no snapshot is left.  Part of
# `make check-v2v`, not `make check`.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
vcsim_start
source "$srcdir/v2v-guest-functions.sh"

guest_images
vm=DC0/vm/db01
guest_vm $vm
out=$VCSIM_DIR/out
state=$out/db01.vsphere-sync.json
mkdir "$out"

# The system disk's copy on a loop device, as it would be on a logical
# volume, where root can make one; else in a file.
system=$out/db01-disk1.raw
outputs=()
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null &&
   truncate -s 2G "$VCSIM_DIR/system.blk" &&
   dev=$(losetup -f --show "$VCSIM_DIR/system.blk" 2>/dev/null); then
  vcsim_on_exit "losetup -d $dev"
  system=$dev
  outputs=(--disk "1=$dev")
  echo "the system disk's copy goes onto $dev"
else
  echo "the system disk's copy goes into a file: no loop device here"
fi
copies_are () # copies_are WHAT DATA-VERSION
{
  same_image "$1" "$VCSIM_DIR/data-$2.raw" "$out/db01-disk0.raw" raw
  same_image "$1" "$os_image" "$system" raw
}

vsphere-sync () { sync_ok "vsphere-sync $*" "$@"; }

vsphere-sync -o "$out" "${outputs[@]}" -- $(server_params $vm)
copies_are "cycle 1" 1
echo "ok: cycle 1 copied both disks in full"

data_v2 $vm
scribble_after_snapshot $vm
vsphere-sync -o "$out" "${outputs[@]}" -- $(server_params $vm)
expect_scribbled $vm
copies_are "cycle 2" 2
echo "ok: cycle 2 copied the guest's changes, and nothing written after its snapshot"

unscribble $vm
vsphere-sync -o "$out" "${outputs[@]}" --final --power-off-after 600 -- $(server_params $vm)
[ "$(vcsim_ctl GET "/vm/power?vm=$(vcsim_urlencode $vm)")" = poweredOff ] ||
  fail "the last cycle left the VM on"
copies_are "the last cycle" 2
check_no_snapshot $vm "the cycles"
echo "ok: the last cycle shut the guest down and copied its last writes"

start=$SECONDS
"$v2v" --in-place --state "$state" -- $(server_params $vm) ||
  fail "vsphere-v2v --in-place exited with $?"
echo "converted in place in $((SECONDS - start)) s"
check_no_snapshot $vm "the conversion"
[ "$(jq '[.disks[].change_id | select(. != null)] | length' "$state")" = 0 ] ||
  fail "the state still holds changeIds after the conversion"

data_files "$out/db01-disk0.raw" 2
echo "ok: the data disk holds the last cycle's files"
boot_converted "$out/db01-disk0.raw" "$system"
echo "ok: route B: the synced copies, converted in place, boot on virtio"
