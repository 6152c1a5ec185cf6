#!/usr/bin/env bash
# One nbdkit serves every disk of a VM, all from one snapshot.  The VM
# has three disks on two datastores: a seSparse chain over a base, a
# 4 TiB thin disk with data near its end (also a chain), and a flat
# one; guest writes land on all three after the snapshot is taken.
# Every export, by its datastore path, index or label, reads the
# snapshot's moment byte for byte through nbdcopy and qemu-img (the
# 4 TiB one into sparse files, its holes told by vSphere's allocated
# areas, asked for in 16 pages); exports are listed with a description
# and restricted by export=; and the cbt filter, given per-disk
# changeIds, exposes exactly each disk's changes.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
vm=DC0/vm/multi
mib=$((1 << 20))
big=$((4 << 40))
sizes=($((4 * mib)) $big $((12 * mib)))
make_image "$VCSIM_DIR/d0.img" 4
make_image "$VCSIM_DIR/d2.img" 12
for x in a b w; do head -c $mib /dev/urandom > "$VCSIM_DIR/$x"; done
# QueryChangedDiskAreas answers for the 4 TiB disk in 16 pages.
vcsim_ctl POST "/knobs?cbt_page=$((256 << 30))" >/dev/null
vcsim_ctl POST "/vm/create?path=$vm&power=on&cbt=1" >/dev/null
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=multi/multi&image=$VCSIM_DIR/d0.img" >/dev/null
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_1&name=big/big&size=$big" >/dev/null
# guest_write FILE DISK OFFSET
guest_write () { curl -sf -X POST --data-binary "@$VCSIM_DIR/$1" "$VCSIM_CONTROL/disk/write?vm=$vm&disk=$2&offset=$3" >/dev/null; }
# into_raw FILE OUT OFFSET: FILE written into OUT at OFFSET.
into_raw () { dd if="$VCSIM_DIR/$1" of="$2" bs=$mib seek=$(($3 / mib)) conv=notrunc status=none; }
guest_write a 1 $((big - mib))
# Disks 0 and 1 become seSparse chains (an earlier snapshot, then guest
# writes into their deltas); disk 2, added after it, stays flat.
vcsim_ctl POST "/snapshot/create?vm=$vm&name=before" >/dev/null
guest_write b 0 $mib
guest_write b 1 $((big - 3 * mib))
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=logs/logs&image=$VCSIM_DIR/d2.img" >/dev/null
# The oracles: each disk as the snapshot taken below must hold it.
cp "$VCSIM_DIR/d0.img" "$VCSIM_DIR/want0"
into_raw b "$VCSIM_DIR/want0" $mib
truncate -s $big "$VCSIM_DIR/want1"
into_raw b "$VCSIM_DIR/want1" $((big - 3 * mib))
into_raw a "$VCSIM_DIR/want1" $((big - mib))
cp "$VCSIM_DIR/d2.img" "$VCSIM_DIR/want2"
# What the snapshot names: the deltas, and disk 2's base.
want_path=('\[LocalDS_0\] multi/multi-00000[0-9]\.vmdk' '\[LocalDS_1\] big/big-00000[0-9]\.vmdk' '\[LocalDS_0\] logs/logs\.vmdk')
paths=()
labels=()
sock=$VCSIM_DIR/sock
err=$VCSIM_DIR/nbdkit.err
uri () { echo "nbd+unix:///$(urlencode "$1")?socket=$sock"; }
# image DISK SNAPSHOT [OFFSET LENGTH]: the simulator's own reading.
image () { curl -sf "$VCSIM_CONTROL/disk/image?vm=$vm&disk=$1&snapshot=$2${3:+&offset=$3&length=$4}"; }
# same_image A B: equal raw files, compared sparsely (4 TiB ones too).
same_image () { qemu-img compare -q -f raw -F raw "$1" "$2" || fail "$1 and $2 differ"; }
map () { nbdinfo --map "$1" | awk '{print $1, $2, $4}'; }
tail_4mib () { tail -c $((4 * mib)) "$1"; }

nbdkit_serve "$sock" "vm=$vm" snapshot=create
snap=$(vcsim_ctl GET "/snapshots?vm=$vm" | awk '$2 ~ /^nbdkit-vsphere-/ {print $2}')
[ -n "$snap" ] || fail "no temporary snapshot"
[ "$(vcsim_ctl GET "/snapshots?vm=$vm" | wc -l)" = 2 ] || fail "expected one snapshot taken"
# The guest goes on writing on every disk after the snapshot.
guest_write w 0 0
guest_write w 1 $((big - 2 * mib))
guest_write w 2 0

nbdinfo --list "nbd+unix:///?socket=$sock" > "$VCSIM_DIR/list"
mapfile -t paths < <(sed -n 's/^export="\(.*\)":$/\1/p' "$VCSIM_DIR/list")
[ ${#paths[@]} = 3 ] || fail "expected 3 exports: $(cat "$VCSIM_DIR/list")"
for i in 0 1 2; do
  grep -qx "${want_path[i]}" <<<"${paths[i]}" ||
    fail "export $i is ${paths[i]}, expected ${want_path[i]}"
  desc=$(grep -A1 -F "export=\"${paths[i]}\"" "$VCSIM_DIR/list" | sed -n 's/^[[:space:]]*description: //p')
  labels+=("$(sed -n 's/.*disk [0-9]* "\([^"]*\)".*/\1/p' <<<"$desc")")
  grep -q "disk $i \"Hard disk $((i + 1))\" (key [0-9]*) .*, ${sizes[i]} bytes, temporary snapshot $snap snapshot-" <<<"$desc" ||
    fail "description of disk $i: $desc"
done
echo "ok: nbdinfo --list shows every disk with its description"

# The 4 TiB disk's data: b from the delta, a from the base, holes
# elsewhere (the base's from its allocated areas: without them a copy
# would read 4 TiB).
printf '0 %d hole,zero\n%d %d data\n%d %d hole,zero\n%d %d data\n' \
  $((big - 3 * mib)) $((big - 3 * mib)) $mib $((big - 2 * mib)) $mib $((big - mib)) $mib |
  diff - <(map "$(uri 1)") || fail "the map of disk 1 is not its data"
# Each disk, by each of its names, reads the snapshot's moment.
for i in 0 1 2; do
  if [ $i = 1 ]; then
    # The simulator's reading of the end of the 4 TiB disk.
    image 1 "$snap" $((big - 4 * mib)) $((4 * mib)) | cmp - <(tail_4mib "$VCSIM_DIR/want1") ||
      fail "the oracle of disk 1 is not the simulator's"
  else
    image $i "$snap" | cmp - "$VCSIM_DIR/want$i" || fail "the oracle of disk $i is not the simulator's"
  fi
  nbdcopy "$(uri "${paths[i]}")" "$VCSIM_DIR/path$i.raw"
  same_image "$VCSIM_DIR/want$i" "$VCSIM_DIR/path$i.raw"
  qemu-img convert -f raw -O raw "$(uri $i)" "$VCSIM_DIR/index$i.raw"
  same_image "$VCSIM_DIR/want$i" "$VCSIM_DIR/index$i.raw"
  nbdcopy "$(uri "${labels[i]}")" "$VCSIM_DIR/label$i.raw"
  same_image "$VCSIM_DIR/want$i" "$VCSIM_DIR/label$i.raw"
  [ "$(nbdinfo --size "$(uri $i)")" = "${sizes[i]}" ] || fail "disk $i: wrong size"
done
# Small files are compared byte for byte as well.
for i in 0 2; do same_bytes "$VCSIM_DIR/want$i" "$VCSIM_DIR/path$i.raw"; done
# The default export is disk 0.
nbdcopy "nbd+unix:///?socket=$sock" "$VCSIM_DIR/default.raw"
same_bytes "$VCSIM_DIR/want0" "$VCSIM_DIR/default.raw"
curl -sf "$VCSIM_CONTROL/disk/image?vm=$vm&disk=2" | cmp -s - "$VCSIM_DIR/want2" &&
  fail "the guest's writes after the snapshot did not land"
curl -sf "$VCSIM_CONTROL/disk/image?vm=$vm&disk=1&offset=$((big - 2 * mib))&length=$mib" |
  cmp -s - "$VCSIM_DIR/w" || fail "the guest's write on disk 1 did not land"
echo "ok: every disk reads the snapshot's moment by path, index and label"

# An unknown export name says which exports there are.
if nbdinfo "$(uri nope)" >/dev/null 2>&1; then fail "export nope opened"; fi
grep -q 'export "nope": VM multi has no disk with this datastore path, index or label; its disks are disk=0: "Hard disk 1" \[LocalDS_0\] multi/multi-00000[0-9].vmdk' "$err" ||
  fail "no clear error for an unknown export: $(cat "$err")"
echo "ok: an unknown export is refused with the list of disks"
nbdkit_stop
[ "$(vcsim_ctl GET "/snapshots?vm=$vm" | awk '{print $2}')" = before ] ||
  fail "snapshots left: $(vcsim_ctl GET "/snapshots?vm=$vm")"
echo "ok: one temporary snapshot for every disk, removed at exit"

# export= restricts which disks may be opened ('[' and ']' are escaped:
# the pattern is a shell wildcard).
nbdkit_serve "$sock" "vm=$vm" snapshot=before 'export=\[LocalDS_0\] multi/*'
nbdinfo --list "nbd+unix:///?socket=$sock" > "$VCSIM_DIR/list"
grep -c '^export=' "$VCSIM_DIR/list" | grep -qx 1 || fail "export= listed: $(cat "$VCSIM_DIR/list")"
grep -qF 'export="[LocalDS_0] multi/multi.vmdk"' "$VCSIM_DIR/list" || fail "$(cat "$VCSIM_DIR/list")"
nbdcopy "$(uri 0)" "$VCSIM_DIR/w0.raw"
same_bytes "$VCSIM_DIR/d0.img" "$VCSIM_DIR/w0.raw"
if nbdinfo "$(uri 1)" >/dev/null 2>&1; then fail "export= let disk 1 through"; fi
grep -qF 'export "1" ([LocalDS_1] big/big.vmdk) is not among the disks export=\[LocalDS_0\] multi/* allows' "$err" ||
  fail "no clear error for a disk export= refuses: $(cat "$err")"
nbdkit_stop
echo "ok: export= refuses the other disks"

# The cbt filter, given one changeId per disk, exposes exactly each
# disk's changes since its own changeId, one disk per export.
nbdkit_serve "$sock" "vm=$vm" snapshot=before
nbdinfo --list "nbd+unix:///?socket=$sock" > "$VCSIM_DIR/list"
nbdkit_stop
: > "$VCSIM_DIR/changeids"
for i in 0 1; do
  desc=$(grep -F "disk $i \"" "$VCSIM_DIR/list")
  key=$(sed -n 's/.*(key \([0-9]*\)).*/\1/p' <<<"$desc")
  cid=$(sed -n 's/.*, changeId \(.*\)$/\1/p' <<<"$desc")
  [ -n "$key" ] && [ -n "$cid" ] || fail "no key or changeId for disk $i: $desc"
  echo "$key $cid   # disk $i" >> "$VCSIM_DIR/changeids"
done
vcsim_ctl POST "/snapshot/create?vm=$vm&name=after" >/dev/null
# Disk 2 came after the snapshot "before": a full copy of it.
nbdkit_serve "$sock" "vm=$vm" snapshot=after
key2=$(nbdinfo --list "nbd+unix:///?socket=$sock" | grep -F 'disk 2 "' | sed -n 's/.*(key \([0-9]*\)).*/\1/p')
nbdkit_stop
echo "# disk 2 is new" >> "$VCSIM_DIR/changeids"
echo "$key2 *" >> "$VCSIM_DIR/changeids"

# What changed since "before": on disk 0 b and w, its first 2 MiB; on
# disk 1 b and w, 2 MiB 3 MiB before its end.
truncate -s ${sizes[0]} "$VCSIM_DIR/expect0"
into_raw w "$VCSIM_DIR/expect0" 0
into_raw b "$VCSIM_DIR/expect0" $mib
truncate -s $big "$VCSIM_DIR/expect1"
into_raw b "$VCSIM_DIR/expect1" $((big - 3 * mib))
into_raw w "$VCSIM_DIR/expect1" $((big - 2 * mib))
changed_at=(0 $((big - 3 * mib)))
nbdkit_serve "$sock" "vm=$vm" --filter="$NBDKIT_CBT_FILTER" snapshot=after "cbt-changeids=$VCSIM_DIR/changeids"
for i in 0 1; do
  at=${changed_at[i]}
  { [ "$at" = 0 ] || echo "0 $at hole,zero"
    echo "$at $((2 * mib)) data"
    echo "$((at + 2 * mib)) $((sizes[i] - at - 2 * mib)) hole,zero"
  } | diff - <(map "$(uri $i)") || fail "disk $i: the map is not its changes"
  nbdcopy "$(uri $i)" "$VCSIM_DIR/changes$i.raw"
  same_image "$VCSIM_DIR/expect$i" "$VCSIM_DIR/changes$i.raw"
  nbdinfo "$(uri $i)" | grep -q "next cbt-changeid=$(grep -F "disk $i \"" "$VCSIM_DIR/list" | sed -n 's/.*, changeId \(.*\)\/[0-9]*$/\1/p')/" ||
    fail "disk $i: no next cbt-changeid in its description"
done
image 1 after $((big - 4 * mib)) $((4 * mib)) |
  cmp - <(head -c $mib /dev/zero; cat "$VCSIM_DIR/b" "$VCSIM_DIR/w" "$VCSIM_DIR/a") ||
  fail "the end of disk 1 at \"after\" is not what was written"
image 2 after > "$VCSIM_DIR/after2"
nbdcopy "$(uri 2)" "$VCSIM_DIR/changes2.raw"
same_bytes "$VCSIM_DIR/after2" "$VCSIM_DIR/changes2.raw"
nbdkit_stop
echo "ok: cbt-changeids= exposes each disk's own changes"

# A disk without a line is refused, and so is every disk but the
# chosen one with cbt-changeid=.
sed -i "/^$key2 /d" "$VCSIM_DIR/changeids"
nbdkit_serve "$sock" "vm=$vm" --filter="$NBDKIT_CBT_FILTER" snapshot=after "cbt-changeids=$VCSIM_DIR/changeids"
if nbdinfo "$(uri 2)" >/dev/null 2>&1; then fail "disk 2 opened without a changeId"; fi
grep -q "export \"2\" (device key $key2) has no line in cbt-changeids=" "$err" ||
  fail "no clear error for a disk without a changeId: $(cat "$err")"
nbdkit_stop
nbdkit_serve "$sock" "vm=$vm" --filter="$NBDKIT_CBT_FILTER" snapshot=before 'cbt-changeid=*'
nbdcopy "nbd+unix:///?socket=$sock" "$VCSIM_DIR/cbt0.raw"
same_bytes "$VCSIM_DIR/d0.img" "$VCSIM_DIR/cbt0.raw"
if nbdinfo "$(uri 1)" >/dev/null 2>&1; then fail "the cbt filter served disk 1"; fi
grep -q 'export "1" is another disk (key [0-9]*) than the one whose changes the cbt filter has' "$err" ||
  fail "no clear error from the cbt filter: $(cat "$err")"
nbdkit_stop
echo "ok: the cbt filter refuses disks it has no changeId for"
