#!/usr/bin/env bash
# Reads from a snapshot stay equal to the image the snapshot froze while
# the VM keeps writing; snapshot= by name and by moref; the live disk
# of a powered-on VM is served with a warning.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 4
vm=DC0/vm/snap-vm
add_vm "$vm" "$img" "power=on"

# The guest writes; then the image is frozen in snapshot "before".
head -c 100000 /dev/urandom > "$VCSIM_DIR/w1"
vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=70000" --data-binary "@$VCSIM_DIR/w1" >/dev/null
cp "$img" "$VCSIM_DIR/frozen.img"
dd if="$VCSIM_DIR/w1" of="$VCSIM_DIR/frozen.img" bs=1 seek=70000 conv=notrunc status=none
snap=$(vcsim_ctl POST "/snapshot/create?vm=$vm&name=before")

# The guest goes on writing after the snapshot, also during the copy.
head -c 300000 /dev/urandom > "$VCSIM_DIR/w2"
vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=0" --data-binary "@$VCSIM_DIR/w2" >/dev/null
nbdkit_vsphere "vm=$vm" snapshot=before --run "
  curl -sf -X POST --data-binary @$VCSIM_DIR/w2 '$VCSIM_CONTROL/disk/write?vm=$vm&disk=0&offset=1048576' &&
  nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
same_bytes "$VCSIM_DIR/frozen.img" "$VCSIM_DIR/out.raw"
echo "ok: snapshot=before equals the frozen image"

rm "$VCSIM_DIR/out.raw"
nbdkit_vsphere "vm=$vm" "snapshot=moref=$snap" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
same_bytes "$VCSIM_DIR/frozen.img" "$VCSIM_DIR/out.raw"
echo "ok: snapshot=moref=$snap"

nbdkit_vsphere "vm=$vm" snapshot=before --run 'nbdinfo "$uri"' > "$VCSIM_DIR/info"
grep -q "snapshot before $snap" "$VCSIM_DIR/info" ||
  fail "description does not name the snapshot: $(cat "$VCSIM_DIR/info")"

# The live disk has every write, and a warning says it is inconsistent.
cp "$VCSIM_DIR/frozen.img" "$VCSIM_DIR/live.img"
dd if="$VCSIM_DIR/w2" of="$VCSIM_DIR/live.img" bs=1 conv=notrunc status=none
dd if="$VCSIM_DIR/w2" of="$VCSIM_DIR/live.img" bs=1 seek=1048576 conv=notrunc status=none
rm "$VCSIM_DIR/out.raw"
nbdkit_vsphere "vm=$vm" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw" 2> "$VCSIM_DIR/err"
same_bytes "$VCSIM_DIR/live.img" "$VCSIM_DIR/out.raw"
grep -q "powered on.*not be consistent" "$VCSIM_DIR/err" ||
  fail "no warning about reading a running VM's live disk"
echo "ok: live disk, with a warning"

# With CBT on, the description gives the snapshot's changeId (the one an
# incremental copy starts from next time).
cbtvm=DC0/vm/cbt-vm
add_vm "$cbtvm" "$img" "power=on&cbt=1"
vcsim_ctl POST "/snapshot/create?vm=$cbtvm&name=s1" >/dev/null
nbdkit_vsphere "vm=$cbtvm" snapshot=s1 --run 'nbdinfo "$uri"' > "$VCSIM_DIR/info"
grep -Eq "changeId [0-9a-f ]+-[0-9a-f ]+/[0-9]+" "$VCSIM_DIR/info" ||
  fail "description lacks the changeId: $(cat "$VCSIM_DIR/info")"
echo "ok: changeId in the description: $(grep -o 'changeId .*' "$VCSIM_DIR/info")"
