#!/usr/bin/env bash
# Harness self-test: real disks from raw images, as vSphere shows them over
# SOAP and serves them over /folder (ranges, 416, sparseness, vsan).
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start
soap_login >/dev/null

vmpath=DC0/vm/DC0_H0_VM0
vmq=$(vcsim_urlencode "$vmpath")
vm=$(soap_find "$vmpath")
[ -n "$vm" ] || fail "DC0_H0_VM0 not found"

# An 8 MiB image with data at unaligned places, and a 1 GiB sparse one.
img=$VCSIM_DIR/img.raw
truncate -s 8M "$img"
head -c 100000 /dev/urandom | dd of="$img" bs=512 seek=3 conv=notrunc status=none
head -c 4096 /dev/urandom | dd of="$img" bs=4096 seek=2000 conv=notrunc status=none
big=$VCSIM_DIR/big.raw
truncate -s 1G "$big"
head -c 65536 /dev/urandom | dd of="$big" bs=65536 seek=9000 conv=notrunc status=none

key1=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=$(vcsim_urlencode "disks/one")&image=$img")
key2=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=other/two&image=$big&key=7")
key3=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=other/zero&size=1048576")
[ "$key2" = 7 ] || fail "key= not honoured: $key2"
[ "$key1" != "$key3" ] || fail "device keys are not unique"
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=other/bad&size=1000" 2>/dev/null && fail "size 1000 accepted"
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=other/zero&size=512" 2>/dev/null && fail "existing name accepted"
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=other/k&size=512&key=7" 2>/dev/null && fail "taken key accepted"

# What a SOAP client sees: one VirtualDisk per disk, with the right backing.
devs=$(soap_props VirtualMachine "$vm" config.hardware.device | sed 's|</VirtualDevice>|&\n|g' | grep 'type="VirtualDisk"')
check_disk () { # KEY FILENAME BYTES
    local d
    d=$(grep "<key>$1</key>" <<<"$devs") || fail "disk $1 not in config.hardware.device"
    grep -qF "<fileName>$2</fileName>" <<<"$d" || fail "disk $1: fileName is not $2: $d"
    grep -q "<capacityInBytes>$3</capacityInBytes>" <<<"$d" || fail "disk $1: capacityInBytes: $d"
    grep -q "<capacityInKB>$(( $3 / 1024 ))</capacityInKB>" <<<"$d" || fail "disk $1: capacityInKB: $d"
    grep -q '<diskMode>persistent</diskMode>' <<<"$d" || fail "disk $1: diskMode"
    grep -q 'type="VirtualDiskFlatVer2BackingInfo"' <<<"$d" || fail "disk $1: backing type"
    grep -q '<uuid>6000c29' <<<"$d" || fail "disk $1: uuid"
    grep -q '<datastore type="Datastore">' <<<"$d" || fail "disk $1: datastore"
    grep -q '<controllerKey>[0-9]' <<<"$d" && grep -q '<unitNumber>[0-9]' <<<"$d" || fail "disk $1: controller"
}
check_disk "$key1" "[LocalDS_0] disks/one.vmdk" 8388608
check_disk "$key2" "[LocalDS_1] other/two.vmdk" 1073741824
check_disk "$key3" "[LocalDS_1] other/zero.vmdk" 1048576
units=$(grep -o '<unitNumber>[0-9]*</unitNumber>' <<<"$devs" | sort | uniq -d)
[ -z "$units" ] || fail "two disks share a unit number"

# The descriptor is what ESXi writes for a VMFS flat disk.
q0=$(folder_get disks/one.vmdk "$(folder_query DC0 LocalDS_0)" -o "$VCSIM_DIR/one.vmdk")
[ "$q0" = 200 ] || fail "descriptor GET: $q0"
grep -qx 'createType="vmfs"' "$VCSIM_DIR/one.vmdk" || fail "createType"
grep -qx 'RW 16384 VMFS "one-flat.vmdk"' "$VCSIM_DIR/one.vmdk" || fail "extent line"
grep -qx 'parentCID=ffffffff' "$VCSIM_DIR/one.vmdk" || fail "parentCID"
grep -q '^ddb.uuid = "60 00 c2 9' "$VCSIM_DIR/one.vmdk" || fail "ddb.uuid"
grep -q '^ddb.geometry.cylinders = "[1-9]' "$VCSIM_DIR/one.vmdk" || fail "ddb.geometry"

# The flat file reads back as the image, whole and by ranges.
q=$(folder_query DC0 LocalDS_0)
[ "$(folder_get disks/one-flat.vmdk "$q" -o "$VCSIM_DIR/got")" = 200 ] || fail "flat GET"
cmp "$img" "$VCSIM_DIR/got" || fail "flat file differs from the image"
code=$(folder_get disks/one-flat.vmdk "$q" -r 1000-70999 -D "$VCSIM_DIR/hdr" -o "$VCSIM_DIR/part")
[ "$code" = 206 ] || fail "range GET is $code, not 206"
grep -qi '^Content-Range: bytes 1000-70999/8388608' "$VCSIM_DIR/hdr" || fail "Content-Range: $(cat "$VCSIM_DIR/hdr")"
cmp "$VCSIM_DIR/part" <(tail -c +1001 "$img" | head -c 70000) || fail "range bytes differ"
[ "$(folder_get disks/one-flat.vmdk "$q" -r 8388608-8389000 -o /dev/null)" = 416 ] || fail "range past the end is not 416"
[ "$(folder_get disks/missing-flat.vmdk "$q" -o /dev/null)" = 404 ] || fail "missing file is not 404"

# Copies keep holes: the 1 GiB disk takes about its 64 KiB of data.
ds1=$(vcsim_ctl GET "/datastore/path?ds=LocalDS_1")
used=$(du -k "$ds1/other/two-flat.vmdk" | cut -f1)
[ "$used" -lt 1024 ] || fail "1 GiB disk uses $used KiB: holes were not kept"
[ "$(stat -c %s "$ds1/other/two-flat.vmdk")" = 1073741824 ] || fail "1 GiB disk has the wrong size"
[ "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=2")" = "$ds1/other/two-flat.vmdk" ] || fail "/disk/file"
q1=$(folder_get other/two-flat.vmdk "$(folder_query DC0 LocalDS_1)" -r $(( 9000 * 65536 ))-$(( 9001 * 65536 - 1 )) -o "$VCSIM_DIR/blk")
[ "$q1" = 206 ] || fail "range GET on the 1 GiB disk: $q1"
cmp "$VCSIM_DIR/blk" <(tail -c +$(( 9000 * 65536 + 1 )) "$big" | head -c 65536) || fail "1 GiB disk content"

# Guest writes land in the current disk.
head -c 3000 /dev/urandom > "$VCSIM_DIR/w"
vcsim_ctl POST "/disk/write?vm=$vmq&disk=1&offset=5000" --data-binary @"$VCSIM_DIR/w"
dd if="$VCSIM_DIR/w" of="$img" bs=1 seek=5000 conv=notrunc status=none
cmp "$img" "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=1")" || fail "written data not in the disk"
vcsim_ctl POST "/disk/write?vm=$vmq&disk=1&offset=8388000" --data-binary @"$VCSIM_DIR/w" 2>/dev/null &&
    fail "write past the end accepted"

# A vsan disk: VSANSPARSE extent, no flat file behind /folder.
vkey=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=vsanDatastore&name=v/vs&size=1048576&kind=vsan")
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=v/no&size=512&kind=vsan" 2>/dev/null &&
    fail "kind=vsan accepted on a VMFS datastore"
qv=$(folder_query DC0 vsanDatastore)
[ "$(folder_get v/vs.vmdk "$qv" -o "$VCSIM_DIR/vs.vmdk")" = 200 ] || fail "vsan descriptor GET"
grep -q '^RW 2048 VSANSPARSE "vsan://[0-9a-f]*"$' "$VCSIM_DIR/vs.vmdk" || fail "vsan extent: $(cat "$VCSIM_DIR/vs.vmdk")"
[ "$(folder_get v/vs-flat.vmdk "$qv" -o /dev/null)" = 404 ] || fail "vsan disk has a flat file"
soap_props Datastore "$(soap_props VirtualMachine "$vm" config.hardware.device | sed 's|</VirtualDevice>|&\n|g' |
    grep "<key>$vkey</key>" | grep -o '<datastore type="Datastore">[^<]*' | sed 's/.*>//')" summary |
    grep -q '<type>vsan</type>' || fail "vsan disk's datastore is not of type vsan"
# A 16th disk gets a second controller like the first, on bus 1, as
# vSphere adds one: 15 disks fill a SCSI controller (unit 7 is its own).
vcsim_ctl POST "/vm/create?path=$(vcsim_urlencode DC0/vm/many)" >/dev/null
manyq=$(vcsim_urlencode DC0/vm/many)
for i in $(seq 17); do
    vcsim_ctl POST "/disk/add?vm=$manyq&ds=LocalDS_0&name=many/d$i&size=1048576" >/dev/null ||
        fail "disk $i not added"
done
devs=$(soap_props VirtualMachine "$(soap_find DC0/vm/many)" config.hardware.device | sed 's|</VirtualDevice>|&\n|g')
ctrls=$(grep 'type="ParaVirtualSCSIController"' <<<"$devs")
[ "$(wc -l <<<"$ctrls")" = 2 ] || fail "expected two pvscsi controllers: $ctrls"
grep -q '<busNumber>1</busNumber>' <<<"$ctrls" || fail "the second controller is not on bus 1: $ctrls"
ctrl_key () { grep "<busNumber>$1</busNumber>" <<<"$ctrls" | grep -o '^<VirtualDevice[^>]*><key>[0-9]*' | sed 's/.*>//'; }
c0=$(ctrl_key 0) c1=$(ctrl_key 1)
[ -n "$c0" ] && [ -n "$c1" ] && [ "$c0" != "$c1" ] || fail "controller keys: '$c0' '$c1'"
# "controller unit" of each disk, in device order.
placed=$(grep 'type="VirtualDisk"' <<<"$devs" | sed 's|.*<controllerKey>\([0-9]*\)</controllerKey><unitNumber>\([0-9]*\)</unitNumber>.*|\1 \2|')
want=$( (for u in 0 1 2 3 4 5 6 8 9 10 11 12 13 14 15; do echo "$c0 $u"; done; echo "$c1 0"; echo "$c1 1") )
[ "$placed" = "$want" ] || fail "disks are not placed as vSphere would: $(paste -d' ' <(echo "$placed") <(echo "$want"))"
grep "<busNumber>1</busNumber>" <<<"$ctrls" | grep -q "<device>$(grep 'type="VirtualDisk"' <<<"$devs" | tail -1 | grep -o '<key>[0-9]*' | sed 's/.*>//')</device>" ||
    fail "the second controller does not list the 17th disk: $ctrls"
echo PASS
