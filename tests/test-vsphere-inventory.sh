#!/usr/bin/env bash
# A VM with disks on two datastores, and a VM whose datacenter, folders,
# name and datastore have spaces, '+', '&', '%' and non-ASCII letters:
# every disk is copied byte for byte.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
a=$VCSIM_DIR/a.img
b=$VCSIM_DIR/b.img
make_image "$a" 3
make_image "$b" 5

vm=DC0/vm/two-disks
add_vm "$vm" "$a"
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_1&name=two-disks/two-disks_1&image=$b" >/dev/null

copy ()
{
  rm -f "$VCSIM_DIR/out.raw"
  nbdkit_vsphere "$@" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
}

copy "vm=$vm" disk=0
same_bytes "$a" "$VCSIM_DIR/out.raw"
copy "vm=$vm" disk=1
same_bytes "$b" "$VCSIM_DIR/out.raw"
copy "vm=$vm" "disk=Hard disk 2"
same_bytes "$b" "$VCSIM_DIR/out.raw"
copy "vm=$vm" "file=[LocalDS_1] two-disks/two-disks_1.vmdk"
same_bytes "$b" "$VCSIM_DIR/out.raw"
echo "ok: disks on two datastores"

# The awkward inventory: a datacenter inside a folder, nested VM folders.
dc='EMEA/DC 1+&%é'
name='app 7+&%ö'
vm="$dc/vm/Prod/Web tier/$name"
vcsim_ctl POST "/vm/create?path=$(urlencode "$vm")&power=off" >/dev/null
vcsim_ctl POST "/disk/add?vm=$(urlencode "$vm")&ds=$(urlencode 'ds 1+&%é')&name=$(urlencode "$name/$name")&image=$a" >/dev/null

copy "vm=$vm"
same_bytes "$a" "$VCSIM_DIR/out.raw"
echo "ok: inventory path $vm"
copy "vm=$name"
same_bytes "$a" "$VCSIM_DIR/out.raw"
echo "ok: VM name $name"
copy "vm=$vm" "file=[ds 1+&%é] $name/$name.vmdk"
same_bytes "$a" "$VCSIM_DIR/out.raw"
echo "ok: file= with awkward names"

# A standalone ESXi host's inventory path, given to vCenter.
expect_error "ha-datacenter is the datacenter of a standalone ESXi host, but .* is vCenter" \
  vm=ha-datacenter/vm/two-disks
