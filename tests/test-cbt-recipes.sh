#!/usr/bin/env bash
# The recipes of nbdkit-cbt-filter(1), run as written: a first copy with
# cbt-changeid=*, then incremental copies into the existing raw image
# with nbdcopy (also over blocks the guest zeroed) and with qemu-img,
# and into a qcow2 overlay; then every disk of a two-disk VM from one
# snapshot per cycle, with cbt-changeids=.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
requires qemu-nbd

vcsim_start
cd "$VCSIM_DIR"
make_image model.img 8
vm=DC0/vm/web01
add_vm "$vm" "$VCSIM_DIR/model.img" "power=on&cbt=1"
cbt () { nbdkit_vsphere "vm=$vm" snapshot=create --filter="$NBDKIT_CBT_FILTER" "$@"; }
next_id () { sed -n 's/.*next cbt-changeid=\(.*\)$/\1/p' "$1"; }
write () # write OFFSET LENGTH SOURCE: guest write, mirrored in the model
{
  head -c "$2" "$3" > w
  vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=$1" --data-binary @w >/dev/null
  dd if=w of=model.img bs=1 seek="$1" conv=notrunc status=none
}

# First copy.
cbt 'cbt-changeid=*' \
  --run 'nbdinfo "$uri" > info && qemu-img convert -f raw -O raw "$uri" disk.raw'
cmp model.img disk.raw
ID=$(next_id info)
first_id=$ID
cp disk.raw base.raw
echo "ok: first copy"

# nbdcopy into the existing raw image, including zeroed blocks.
write 100000 300000 /dev/urandom
write 5000000 200000 /dev/zero
cbt "cbt-changeid=$ID" \
  --run 'nbdinfo "$uri" > info && nbdcopy --destination-is-zero --sparse=0 --request-size=65536 \
           -- "$uri" [ nbdkit file disk.raw ]'
cmp model.img disk.raw || fail "nbdcopy recipe: the raw image differs"
ID=$(next_id info)
echo "ok: nbdcopy recipe, zeroed blocks included"

# qemu-img into the existing raw image (guest writes that are not zeros:
# see the caution in the man page).
write 7000000 123456 /dev/urandom
cbt "cbt-changeid=$ID" \
  --run 'nbdinfo "$uri" > info && qemu-img convert -n --target-is-zero -f raw -O raw "$uri" disk.raw'
cmp model.img disk.raw || fail "qemu-img recipe: the raw image differs"
ID=$(next_id info)
echo "ok: qemu-img recipe"

# A qcow2 overlay on the first copy, which stays untouched.
cp base.raw disk.raw
base_sum=$(sha256sum < disk.raw)
qemu-img create -f qcow2 -b disk.raw -F raw disk.1.qcow2
cbt "cbt-changeid=$first_id" \
  --run 'nbdcopy --destination-is-zero --sparse=0 --request-size=65536 \
           -- "$uri" [ qemu-nbd -f qcow2 disk.1.qcow2 ]'
qemu-img compare -f raw -F qcow2 model.img disk.1.qcow2 ||
  fail "overlay recipe: the chain differs"
[ "$(sha256sum < disk.raw)" = "$base_sum" ] || fail "the overlay's base was written to"
echo "ok: overlay recipe"

# Every disk of a VM from one snapshot: two disks on two datastores.
vm=DC0/vm/web02
make_image m0.img 8
make_image m1.img 12
add_vm "$vm" "$VCSIM_DIR/m0.img" "power=on&cbt=1"
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_1&name=web02/data&image=$VCSIM_DIR/m1.img" >/dev/null
gwrite () # gwrite DISK OFFSET LENGTH SOURCE: guest write, mirrored in m$DISK.img
{
  head -c "$3" "$4" > w
  vcsim_ctl POST "/disk/write?vm=$vm&disk=$1&offset=$2" --data-binary @w >/dev/null
  dd if=w of="m$1.img" bs=1 seek="$2" conv=notrunc status=none
}
check_cycle ()
{
  cmp m0.img disk0.raw || fail "$1: disk 0 differs"
  cmp m1.img disk1.raw || fail "$1: disk 1 differs"
  [ "$(wc -l < changeids)" = 2 ] || fail "$1: changeids: $(cat changeids)"
  [ "$(vcsim_ctl GET "/snapshots?vm=$vm")" = "" ] || fail "$1: a snapshot is left"
}

nbdkit_vsphere "vm=$vm" snapshot=create \
       --run 'nbdinfo --list "$uri" > list &&
              for i in 0 1; do
                nbdcopy --flush "nbd+unix:///$i?socket=$unixsocket" disk$i.raw ||
                  exit 1
              done' &&
sed -n 's/.*(key \([0-9]*\)).*, changeId \(.*\)$/\1 \2/p' list > changeids
check_cycle "whole-VM first cycle"
echo "ok: whole-VM recipe, first cycle"

for cycle in 1 2; do
  gwrite 0 $((cycle * 1000000)) 300000 /dev/urandom
  gwrite 1 $((cycle * 2000000)) 200000 /dev/urandom
  gwrite 1 $((cycle * 3000000 + 77)) 100000 /dev/zero
  old=$(cat changeids)
  nbdkit_vsphere "vm=$vm" snapshot=create --filter="$NBDKIT_CBT_FILTER" cbt-changeids=changeids \
         --run 'nbdinfo --list "$uri" > list &&
                for i in 0 1; do
                  nbdcopy --destination-is-zero --sparse=0 --request-size=65536 \
                    --flush -- "nbd+unix:///$i?socket=$unixsocket" \
                    [ nbdkit file disk$i.raw ] || exit 1
                done' &&
  sed -n 's/.*(key \([0-9]*\)).*, changeId \(.*\)$/\1 \2/p' list > changeids
  check_cycle "whole-VM cycle $cycle"
  [ "$(cat changeids)" != "$old" ] || fail "cycle $cycle: the changeIds did not advance"
done
echo "ok: whole-VM recipe, incremental cycles"

# A failed cycle leaves changeids as it was.
gwrite 1 5000000 100000 /dev/urandom
old=$(cat changeids)
if nbdkit_vsphere "vm=$vm" snapshot=create --filter="$NBDKIT_CBT_FILTER" cbt-changeids=changeids \
         --run 'nbdinfo --list "$uri" > list &&
                for i in 0 1; do
                  nbdcopy --destination-is-zero --sparse=0 --request-size=65536 \
                    --flush -- "nbd+unix:///$i?socket=$unixsocket" \
                    [ nbdkit file nosuchdir/disk$i.raw ] || exit 1
                done' 2>/dev/null &&
   sed -n 's/.*(key \([0-9]*\)).*, changeId \(.*\)$/\1 \2/p' list > changeids
then fail "a cycle into a missing directory succeeded"; fi
[ "$(cat changeids)" = "$old" ] || fail "a failed cycle changed changeids"
[ "$(vcsim_ctl GET "/snapshots?vm=$vm")" = "" ] || fail "a failed cycle left a snapshot"
echo "ok: a failed whole-VM cycle keeps the last good changeIds"
