#!/usr/bin/env bash
# The recipes of nbdkit-cbt-filter(1), run as written: a first copy with
# cbt-changeid=*, then incremental copies into the existing raw image
# with nbdcopy (also over blocks the guest zeroed) and with qemu-img,
# and into a qcow2 overlay.
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
