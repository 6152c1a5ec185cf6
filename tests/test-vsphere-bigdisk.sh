#!/usr/bin/env bash
# A 4 TiB disk (sparse in the simulator) end to end: its size, reads
# and block status near the end through a seSparse delta, and CBT
# paging up to the end.
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
vm=DC0/vm/big
mib=$((1 << 20))
size=$((4 << 40))
sock=$VCSIM_DIR/sock
err=$VCSIM_DIR/nbdkit.err
vcsim_ctl POST "/vm/create?path=$vm&power=on&cbt=1" >/dev/null
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=big/big&size=$size" >/dev/null
head -c $mib /dev/urandom > "$VCSIM_DIR/a"
head -c $mib /dev/urandom > "$VCSIM_DIR/b"
guest_write () { curl -sf -X POST --data-binary "@$VCSIM_DIR/$1" "$VCSIM_CONTROL/disk/write?vm=$vm&disk=0&offset=$2" >/dev/null; }
guest_write a $((size - mib))
vcsim_ctl POST "/snapshot/create?vm=$vm&name=s1" >/dev/null
guest_write b $((size - 3 * mib))
vcsim_ctl POST "/snapshot/create?vm=$vm&name=s2" >/dev/null
# QueryChangedDiskAreas answers in 16 pages of 256 GiB.
vcsim_ctl POST "/knobs?cbt_page=$((256 << 30))" >/dev/null

# last_4mib OUT: the export's last 4 MiB, read by qemu-img.
last_4mib ()
{
  qemu-img convert -O raw --image-opts \
    "driver=raw,offset=$((size - 4 * mib)),size=$((4 * mib)),file.driver=nbd,file.server.type=unix,file.server.path=$sock" "$1"
}

# What s2 holds in its last 4 MiB: zeros, b, zeros, a.
head -c $mib /dev/zero > "$VCSIM_DIR/want"
cat "$VCSIM_DIR/b" >> "$VCSIM_DIR/want"
head -c $mib /dev/zero >> "$VCSIM_DIR/want"
cat "$VCSIM_DIR/a" >> "$VCSIM_DIR/want"

nbdkit_serve "$sock" "vm=$vm" snapshot=s2
[ "$(nbdinfo --size "nbd+unix:///?socket=$sock")" = $size ] || fail "wrong size"
nbdinfo "nbd+unix:///?socket=$sock" | grep -q 'big-000001.vmdk' ||
  fail "s2 should read the delta made at s1"
last_4mib "$VCSIM_DIR/tail"
same_bytes "$VCSIM_DIR/want" "$VCSIM_DIR/tail"
nbdkit_stop
echo "ok: the end of a 4 TiB disk reads right through its delta"

# Changes since s1: the one MiB written near the end, found through
# every page up to the end, and as block status.
nbdkit_serve "$sock" "vm=$vm" snapshot=s1
cid=$(nbdinfo "nbd+unix:///?socket=$sock" | sed -n 's/.*, changeId \(.*\)$/\1/p')
nbdkit_stop
[ -n "$cid" ] || fail "no changeId at s1"
nbdkit_serve "$sock" "vm=$vm" --filter="$NBDKIT_CBT_FILTER" snapshot=s2 "cbt-changeid=$cid"
nbdinfo --map "nbd+unix:///?socket=$sock" | awk '{print $1, $2, $4}' > "$VCSIM_DIR/map"
printf '0 %d hole,zero\n%d %d data\n%d %d hole,zero\n' \
  $((size - 3 * mib)) $((size - 3 * mib)) $mib $((size - 2 * mib)) $((2 * mib)) |
  diff - "$VCSIM_DIR/map" || fail "the map of the changes is wrong"
last_4mib "$VCSIM_DIR/ctail"
head -c $mib /dev/zero > "$VCSIM_DIR/cwant"
cat "$VCSIM_DIR/b" >> "$VCSIM_DIR/cwant"
head -c $((2 * mib)) /dev/zero >> "$VCSIM_DIR/cwant"
same_bytes "$VCSIM_DIR/cwant" "$VCSIM_DIR/ctail"
nbdkit_stop
echo "ok: CBT near the end of a 4 TiB disk: map and bytes"
