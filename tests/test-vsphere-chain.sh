#!/usr/bin/env bash
# VMs that already carry snapshots: each snapshot, the live disk and a
# temporary snapshot read through chains of seSparse and vmfsSparse
# deltas, byte for byte against the simulator's own composition of the
# chain and against a model; the cbt filter over a chain; and broken
# chains refused with a message naming the files.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
make_image "$VCSIM_DIR/base.img" 6

# write VM OFFSET LENGTH MODEL: a guest write, mirrored in MODEL.
write ()
{
  head -c "$3" /dev/urandom > "$VCSIM_DIR/w"
  vcsim_ctl POST "/disk/write?vm=$1&disk=0&offset=$2" --data-binary "@$VCSIM_DIR/w" >/dev/null
  dd if="$VCSIM_DIR/w" of="$4" bs=1 seek="$2" conv=notrunc status=none
}

read_disk () # read_disk OUT PARAMS...
{
  local out=$1
  shift
  rm -f "$out"
  nbdkit_vsphere "$@" --run "nbdcopy \"\$uri\" $out"
}

for format in sesparse vmfssparse; do
  vm=DC0/vm/chain-$format
  vcsim_ctl POST "/vm/create?path=$vm&power=on&cbt=1&delta=$format" >/dev/null
  vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=chain-$format/chain-$format&image=$VCSIM_DIR/base.img" >/dev/null
  cp "$VCSIM_DIR/base.img" "$VCSIM_DIR/m0"
  vcsim_ctl POST "/snapshot/create?vm=$vm&name=s1" >/dev/null
  cp "$VCSIM_DIR/m0" "$VCSIM_DIR/m1"
  write "$vm" 1000 300000 "$VCSIM_DIR/m1"
  write "$vm" $((6 * 1048576 - 700)) 700 "$VCSIM_DIR/m1"   # the last sectors
  vcsim_ctl POST "/snapshot/create?vm=$vm&name=s2" >/dev/null
  cp "$VCSIM_DIR/m1" "$VCSIM_DIR/m2"
  write "$vm" 2000000 1048576 "$VCSIM_DIR/m2"
  write "$vm" 5000 10 "$VCSIM_DIR/m2"

  for s in 1 2; do
    read_disk "$VCSIM_DIR/out" "vm=$vm" "snapshot=s$s"
    cmp "$VCSIM_DIR/m$((s - 1))" "$VCSIM_DIR/out" || fail "$format: snapshot s$s differs"
    curl -sf -o "$VCSIM_DIR/oracle" "$VCSIM_CONTROL/disk/image?vm=$vm&disk=0&snapshot=s$s"
    cmp "$VCSIM_DIR/oracle" "$VCSIM_DIR/out" || fail "$format: s$s differs from the simulator's image"
  done
  read_disk "$VCSIM_DIR/out" "vm=$vm"  2>/dev/null
  cmp "$VCSIM_DIR/m2" "$VCSIM_DIR/out" || fail "$format: the live disk differs"
  read_disk "$VCSIM_DIR/out" "vm=$vm" snapshot=create
  cmp "$VCSIM_DIR/m2" "$VCSIM_DIR/out" || fail "$format: snapshot=create differs"
  echo "ok: $format: snapshots s1, s2, the live disk and snapshot=create"

  # Block status knows the chain: a grain the newest seSparse delta
  # marks as zero is a hole, whatever the layers below hold.
  if [ "$format" = sesparse ]; then
    head -c 65536 /dev/zero > "$VCSIM_DIR/z"
    vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=3145728&zero=1" --data-binary "@$VCSIM_DIR/z" >/dev/null
    dd if="$VCSIM_DIR/z" of="$VCSIM_DIR/m2" bs=1 seek=3145728 conv=notrunc status=none
    nbdkit_vsphere "vm=$vm" --run 'nbdinfo --map "$uri"' > "$VCSIM_DIR/map" 2>/dev/null
    grep -q "^ *3145728 *65536 *3 *hole,zero" "$VCSIM_DIR/map" ||
      fail "$format: a zero grain is not a hole: $(cat "$VCSIM_DIR/map")"
    read_disk "$VCSIM_DIR/out" "vm=$vm" 2>/dev/null
    cmp "$VCSIM_DIR/m2" "$VCSIM_DIR/out" || fail "$format: the zero grain reads wrong"
    echo "ok: $format: a zero grain over data is a hole and reads as zeros"
  fi

  # The cbt filter over a chain: what changed since s1, read from a
  # temporary snapshot, is the blocks written since.
  cid=$(nbdkit_vsphere "vm=$vm" snapshot=s1 --run 'nbdinfo "$uri"' |
        sed -n 's/.*changeId \(.*\)$/\1/p')
  nbdkit_vsphere "vm=$vm" snapshot=create --filter="$NBDKIT_CBT_FILTER" "cbt-changeid=$cid" \
    --run "nbdcopy \"\$uri\" $VCSIM_DIR/out && nbdinfo --map \"\$uri\" > $VCSIM_DIR/map"
  awk '$3 == 0 { printf "%d %d\n", $1, $2 }' "$VCSIM_DIR/map" | while read -r off len; do
    cmp <(dd if="$VCSIM_DIR/m2" bs=64K skip=$((off / 65536)) count=$((len / 65536)) status=none) \
        <(dd if="$VCSIM_DIR/out" bs=64K skip=$((off / 65536)) count=$((len / 65536)) status=none) ||
      fail "$format: changed blocks at $off differ"
  done
  # Every block that differs since s1 is among the changed ones.
  missed=$(comm -23 \
    <(cmp -l "$VCSIM_DIR/m1" "$VCSIM_DIR/m2" | awk '{ print int(($1 - 1) / 65536) }' | uniq | sort) \
    <(awk '$3 == 0 { for (b = $1 / 65536; b < ($1 + $2) / 65536; b++) print b }' "$VCSIM_DIR/map" | sort))
  [ -z "$missed" ] || fail "$format: changed blocks missing from the map: $missed"
  echo "ok: $format: the cbt filter over a chain"
done

# Broken chains.
ds=$(vcsim_ctl GET "/datastore/path?ds=LocalDS_0")
vm=DC0/vm/broken
add_vm "$vm" "$VCSIM_DIR/base.img" "power=off&delta=sesparse"
vcsim_ctl POST "/snapshot/create?vm=$vm&name=s1" >/dev/null
delta=$ds/broken/broken-000001.vmdk
[ -f "$delta" ] || fail "no delta descriptor at $delta: $(ls "$ds/broken")"
cp "$delta" "$VCSIM_DIR/delta.vmdk"

sed -i 's/^parentCID=.*/parentCID=12345678/' "$delta"
expect_error 'broken-000001.vmdk: parentCID 12345678 does not match the CID [0-9a-f]+ of its parent \[LocalDS_0\] broken/broken.vmdk' "vm=$vm"
cp "$VCSIM_DIR/delta.vmdk" "$delta"
sed -i 's|^parentFileNameHint=.*|parentFileNameHint="../escape/x.vmdk"|' "$delta"
expect_error 'parent file "../escape/x.vmdk" is outside the disk.s directory' "vm=$vm"
cid=$(sed -n 's/^CID=//p' "$delta")
sed -i "s|^parentFileNameHint=.*|parentFileNameHint=\"broken-000001.vmdk\"|; s/^parentCID=.*/parentCID=$cid/" "$delta"
expect_error 'the chain of parents loops back to \[LocalDS_0\] broken/broken-000001.vmdk' "vm=$vm"
cp "$VCSIM_DIR/delta.vmdk" "$delta"
sed -i 's|^parentFileNameHint=.*|parentFileNameHint="/vmfs/volumes/LocalDS_0/broken/broken.vmdk"|' "$delta"
read_disk "$VCSIM_DIR/out" "vm=$vm"
cmp "$VCSIM_DIR/base.img" "$VCSIM_DIR/out" || fail "absolute parent hint: wrong bytes"
echo "ok: an absolute /vmfs/volumes parent hint"
