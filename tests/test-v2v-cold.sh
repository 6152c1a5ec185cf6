#!/usr/bin/env bash
# Route A, cold migration, as vsphere-v2v(1)'s first example runs it:
# vsphere-v2v serves both disks of a real Debian 12 guest's VM from one
# snapshot while the guest scribbles over them, and virt-v2v 2.2 (-i
# libvirtxml, -o local) converts it.  The result boots on virtio-blk and
# virtio-net from its second disk, keeps the VM's name, vCPUs, memory
# and MAC, and its data disk holds the files of the snapshot's moment;
# no snapshot is left.  Part of `make check-v2v`, not `make check`.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
vcsim_start
source "$srcdir/v2v-guest-functions.sh"

guest_images
vm=DC0/vm/web01
guest_vm $vm
out=$VCSIM_DIR/out
mkdir "$out"

scribble_after_snapshot $vm
start=$SECONDS
"$v2v" -- $(server_params $vm) -- -o local -os "$out" ||
  fail "vsphere-v2v exited with $?"
echo "converted in $((SECONDS - start)) s"
expect_scribbled $vm
check_no_snapshot $vm "cold conversion"

ls -l "$out"
xml=$out/web01.xml
[ "$(xmllint --xpath 'string(/domain/name)' "$xml")" = web01 ] ||
  fail "the converted guest is not named web01"
[ "$(xmllint --xpath 'string(/domain/vcpu)' "$xml")" = 2 ] ||
  fail "the converted guest lost its 2 vCPUs"
[ "$(xmllint --xpath 'string(/domain/memory)' "$xml")" = $((1536 * 1024)) ] ||
  fail "the converted guest lost its memory size"
[ "$(xmllint --xpath 'string(/domain/devices/interface/mac/@address)' "$xml")" = 00:50:56:aa:bb:01 ] ||
  fail "the converted guest lost its MAC address"
[ "$(xmllint --xpath 'string(/domain/devices/interface/model/@type)' "$xml")" = virtio ] ||
  fail "the converted guest's NIC is not virtio"
echo "ok: the converted guest keeps its name, vCPUs, memory and MAC"

data_files "$out/web01-sda" 1
echo "ok: the data disk holds the snapshot's files"
boot_converted "$out/web01-sda" "$out/web01-sdb"
echo "ok: route A: converted from one snapshot, boots on virtio"
