#!/usr/bin/env bash
# Block status of a thin flat disk from vSphere's allocated areas
# (QueryChangedDiskAreas with changeId "*"): data exactly in the 64 KiB
# CBT blocks the guest wrote before the snapshot, holes elsewhere,
# asked for a page at a time where block status is asked.  With
# allocated-extents=false, on the live disk, on a disk without CBT, or
# when vCenter refuses or garbles the answer, the disk is all data, and
# every copy is exact all the same.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
mib=$((1 << 20))
blk=65536
size=$((64 * mib))
sock=$VCSIM_DIR/sock
err=$VCSIM_DIR/nbdkit.err
uri="nbd+unix:///?socket=$sock"
vm=DC0/vm/thin
# guest_write VM OFFSET LENGTH: LENGTH random bytes, none of them zero.
guest_write ()
{
  head -c "$3" /dev/urandom | tr '\0' '\1' |
    curl -sf -X POST --data-binary @- "$VCSIM_CONTROL/disk/write?vm=$1&disk=0&offset=$2" >/dev/null
}
new_vm ()
{
  vcsim_ctl POST "/vm/create?path=$1&power=on&cbt=$2" >/dev/null
  vcsim_ctl POST "/disk/add?vm=$1&ds=LocalDS_0&name=${1##*/}/${1##*/}&size=$size" >/dev/null
  # Writes across CBT blocks, none aligned to them.
  guest_write "$1" 100 512
  guest_write "$1" $((mib + 100)) 70000
  guest_write "$1" $((40 * mib - 10)) 20
  guest_write "$1" $((size - 1)) 1
  vcsim_ctl POST "/snapshot/create?vm=$1&name=s1" >/dev/null
  # After the snapshot: not part of its moment.
  guest_write "$1" $((20 * mib)) $mib
}
new_vm "$vm" 1
new_vm DC0/vm/untracked 0

map () { nbdinfo --map "$uri" | awk '{print $1, $2, $4}'; }
# The blocks written before s1, and the holes between them.
printf '%d %d %s\n' \
  0 $blk data  $blk $((mib - blk)) hole,zero \
  $mib $((2 * blk)) data  $((mib + 2 * blk)) $((39 * mib - 3 * blk)) hole,zero \
  $((40 * mib - blk)) $((2 * blk)) data \
  $((40 * mib + blk)) $((24 * mib - 2 * blk)) hole,zero \
  $((size - blk)) $blk data > "$VCSIM_DIR/map.want"
echo "0 $size data" > "$VCSIM_DIR/map.all"

# copies VM SNAPSHOT: nbdcopy and qemu-img convert of the export read
# what the simulator says the disk held at SNAPSHOT (or now).
copies ()
{
  curl -sf "$VCSIM_CONTROL/disk/image?vm=$1&disk=0${2:+&snapshot=$2}" -o "$VCSIM_DIR/want"
  nbdcopy "$uri" "$VCSIM_DIR/nbdcopy.raw"
  same_bytes "$VCSIM_DIR/want" "$VCSIM_DIR/nbdcopy.raw"
  qemu-img convert -f raw -O raw "$uri" "$VCSIM_DIR/qemu.raw"
  same_bytes "$VCSIM_DIR/want" "$VCSIM_DIR/qemu.raw"
}
# no_errors: the fallback is not an error, only a debug message.
no_errors () { ! grep -q 'error: ' "$err" || fail "errors: $(grep 'error: ' "$err")"; }
pages () { grep -o 'allocated areas from [0-9]* to [0-9]*' "$err" | awk '{print $4 "-" $6}' | tr '\n' ' '; }

nbdkit_serve "$sock" --verbose "vm=$vm" snapshot=s1
map | diff "$VCSIM_DIR/map.want" - || fail "the map is not the blocks written"
copies "$vm" s1
no_errors
nbdkit_stop
echo "ok: the map of a thin flat disk is the CBT blocks written; copies are exact"

# Four pages of 16 MiB: the map of the last 16 MiB asks for its page
# only; the whole map then asks for the three others, not that again.
vcsim_ctl POST "/knobs?cbt_page=$((16 * mib))" >/dev/null
nbdkit_serve "$sock" --verbose "vm=$vm" snapshot=s1
qemu-img map -f raw --output=json --start-offset=$((48 * mib)) --max-length=$((16 * mib)) "$uri" > "$VCSIM_DIR/qmap"
grep -q "\"start\": $((size - blk)), \"length\": $blk, .*\"data\": true" "$VCSIM_DIR/qmap" ||
  fail "qemu-img map of the end: $(cat "$VCSIM_DIR/qmap")"
[ "$(pages)" = "$((48 * mib))-$size " ] || fail "pages asked for the end: $(pages)"
map | diff "$VCSIM_DIR/map.want" - || fail "the map from four pages"
[ "$(pages)" = "$((48 * mib))-$size 0-$((16 * mib)) $((16 * mib))-$((32 * mib)) $((32 * mib))-$((48 * mib)) " ] ||
  fail "pages asked for the whole map: $(pages)"
nbdkit_stop
vcsim_ctl POST "/knobs?cbt_page=0" >/dev/null
echo "ok: allocated areas are asked for a page at a time, where needed, once"

# all_data WHY VM SNAPSHOT [PARAMS...]: the disk is all data, copies
# are exact, and nbdkit says why only in its debug output.
all_data ()
{
  local why=$1 v=$2 snap=$3
  shift 3
  nbdkit_serve "$sock" --verbose --debug=vsphere.soap=1 "vm=$v" ${snap:+"snapshot=$snap"} "$@"
  map | diff "$VCSIM_DIR/map.all" - || fail "$why: not all data"
  copies "$v" "$snap"
  [ -z "$(pages)" ] || fail "$why: pages were kept: $(pages)"
  no_errors
  nbdkit_stop
}

all_data "allocated-extents=false" "$vm" s1 allocated-extents=false
! grep -q 'soap: QueryChangedDiskAreas' "$err" || fail "allocated-extents=false still asked"
all_data "live disk" "$vm" ""
grep -q 'thin-000001.vmdk: block status of its flat extents is all data: allocated areas are known only in a snapshot' "$err" ||
  fail "no word of the live disk"
all_data "no CBT" DC0/vm/untracked s1
grep -q 'untracked.vmdk: block status of its flat extents is all data: the disk has no changeId (CBT is off)' "$err" ||
  fail "no word of the disk without CBT"
echo "ok: allocated-extents=false, the live disk and a disk without CBT are all data"

# vCenter refuses "*" (as for a disk whose CBT was enabled with
# snapshots present), or answers a page it was not asked for.
rewrite () { vcsim_ctl POST /soap/rewrite -G --data-urlencode method=QueryChangedDiskAreas "$@" >/dev/null; }
rewrite --data-urlencode status=500 --data-urlencode 'match=(?s)<soapenv:Body>.*</soapenv:Body>' \
  --data-urlencode 'replace=<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Error caused by file thin.vmdk</faultstring><detail><FileFaultFault xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="FileFault"><file>thin.vmdk</file></FileFaultFault></detail></soapenv:Fault></soapenv:Body>'
all_data "FileFault" "$vm" s1
grep -q 'thin.vmdk: block status of its flat extents is all data from now on: QueryChangedDiskAreas (changeId \*) from offset 0 failed: FileFault: Error caused by file thin.vmdk' "$err" ||
  fail "no word of the fault: $(grep "all data" "$err")"
[ "$(grep -c 'all data from now on' "$err")" = 1 ] || fail "the fault was told more than once"
vcsim_ctl POST /soap/rewrite/clear >/dev/null
rewrite --data-urlencode 'match=<startOffset>0<' --data-urlencode 'replace=<startOffset>65536<'
all_data "a page not asked for" "$vm" s1
grep -q 'thin.vmdk: block status of its flat extents is all data from now on: QueryChangedDiskAreas (changeId \*) from offset 0 answered a page that does not start at the offset asked for' "$err" ||
  fail "no word of the wrong page: $(grep "all data" "$err")"
vcsim_ctl POST /soap/rewrite/clear >/dev/null
echo "ok: a refused or garbled answer leaves the disk all data, copies exact"
