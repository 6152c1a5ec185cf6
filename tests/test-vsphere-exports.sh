#!/usr/bin/env bash
# One nbdkit serves every disk of a VM, all from one snapshot: disks on
# two datastores, one of them a delta chain, of different sizes, each
# opened by its datastore path, index or label, listed with a
# description, and restricted by export=.
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
vm=DC0/vm/multi
for i in 0 1 2; do make_image "$VCSIM_DIR/d$i.img" $((4 + 4 * i)); done
vcsim_ctl POST "/vm/create?path=$vm&power=on&cbt=1" >/dev/null
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=multi/multi&image=$VCSIM_DIR/d0.img" >/dev/null
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_1&name=multi/data&image=$VCSIM_DIR/d1.img" >/dev/null
# Disks 0 and 1 become delta chains (an earlier snapshot, then guest
# writes); disk 2, added after it, stays flat.
vcsim_ctl POST "/snapshot/create?vm=$vm&name=before" >/dev/null
head -c 1M /dev/urandom > "$VCSIM_DIR/w"
guest_write () { curl -sf -X POST --data-binary "@$VCSIM_DIR/w" "$VCSIM_CONTROL/disk/write?vm=$vm&disk=$1&offset=$2" >/dev/null; }
guest_write 1 1048576
cp "$VCSIM_DIR/d1.img" "$VCSIM_DIR/d1.want"
dd if="$VCSIM_DIR/w" of="$VCSIM_DIR/d1.want" bs=1M seek=1 conv=notrunc status=none
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=logs/logs&image=$VCSIM_DIR/d2.img" >/dev/null
# What the snapshot taken below names: the deltas, and disk 2's base.
want_path=('\[LocalDS_0\] multi/multi-00000[0-9]\.vmdk' '\[LocalDS_1\] multi/data-00000[0-9]\.vmdk' '\[LocalDS_0\] logs/logs\.vmdk')
paths=()
labels=()
sock=$VCSIM_DIR/sock
err=$VCSIM_DIR/nbdkit.err
uri () { echo "nbd+unix:///$(urlencode "$1")?socket=$sock"; }
# image DISK [SNAPSHOT]: the simulator's own reading of the disk.
image () { curl -sf "$VCSIM_CONTROL/disk/image?vm=$vm&disk=$1${2:+&snapshot=$2}"; }


nbdkit_serve "$sock" "vm=$vm" snapshot=create
snap=$(vcsim_ctl GET "/snapshots?vm=$vm" | awk '$2 ~ /^nbdkit-vsphere-/ {print $2}')
[ -n "$snap" ] || fail "no temporary snapshot"
[ "$(vcsim_ctl GET "/snapshots?vm=$vm" | wc -l)" = 2 ] || fail "expected one snapshot taken"
# The guest goes on writing on every disk after the snapshot.
for i in 0 1 2; do guest_write $i 0; done

nbdinfo --list "nbd+unix:///?socket=$sock" > "$VCSIM_DIR/list"
mapfile -t paths < <(sed -n 's/^export="\(.*\)":$/\1/p' "$VCSIM_DIR/list")
[ ${#paths[@]} = 3 ] || fail "expected 3 exports: $(cat "$VCSIM_DIR/list")"
for i in 0 1 2; do
  grep -qx "${want_path[i]}" <<<"${paths[i]}" ||
    fail "export $i is ${paths[i]}, expected ${want_path[i]}"
  desc=$(grep -A1 -F "export=\"${paths[i]}\"" "$VCSIM_DIR/list" | sed -n 's/^[[:space:]]*description: //p')
  labels+=("$(sed -n 's/.*disk [0-9]* "\([^"]*\)".*/\1/p' <<<"$desc")")
  grep -q "disk $i \"Hard disk $((i + 1))\" (key [0-9]*) .*, $(( (4 + 4 * i) * 1048576 )) bytes, temporary snapshot $snap snapshot-" <<<"$desc" ||
    fail "description of disk $i: $desc"
done
echo "ok: nbdinfo --list shows every disk with its description"

# Each disk, by each of its names, reads the snapshot's moment.
for i in 0 1 2; do
  image $i "$snap" > "$VCSIM_DIR/want$i"
  # The oracle holds the disk as it was before the guest's last writes.
  want=$VCSIM_DIR/d$i.img
  [ $i != 1 ] || want=$VCSIM_DIR/d1.want
  same_bytes "$want" "$VCSIM_DIR/want$i"
  nbdcopy "$(uri "${paths[i]}")" "$VCSIM_DIR/path$i.raw"
  same_bytes "$VCSIM_DIR/want$i" "$VCSIM_DIR/path$i.raw"
  qemu-img convert -f raw -O raw "$(uri $i)" "$VCSIM_DIR/index$i.raw"
  same_bytes "$VCSIM_DIR/want$i" "$VCSIM_DIR/index$i.raw"
  nbdcopy "$(uri "${labels[i]}")" "$VCSIM_DIR/label$i.raw"
  same_bytes "$VCSIM_DIR/want$i" "$VCSIM_DIR/label$i.raw"
  [ "$(nbdinfo --size "$(uri $i)")" = $(( (4 + 4 * i) * 1048576 )) ] ||
    fail "disk $i: wrong size"
done
# The default export is disk 0.
nbdcopy "nbd+unix:///?socket=$sock" "$VCSIM_DIR/default.raw"
same_bytes "$VCSIM_DIR/want0" "$VCSIM_DIR/default.raw"
image 2 > "$VCSIM_DIR/now2"
cmp -s "$VCSIM_DIR/want2" "$VCSIM_DIR/now2" &&
  fail "the guest's writes after the snapshot did not land"
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
grep -qF 'export "1" ([LocalDS_1] multi/data.vmdk) is not among the disks export=\[LocalDS_0\] multi/* allows' "$err" ||
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

nbdkit_serve "$sock" "vm=$vm" --filter="$NBDKIT_CBT_FILTER" snapshot=after "cbt-changeids=$VCSIM_DIR/changeids"
# Since "before": disk 0 changed in its first MiB, disk 1 in its first two.
for i in 0 1; do
  changed=$(( (i + 1) * 1048576 ))
  nbdinfo --map "$(uri $i)" | awk '{print $1, $2, $4}' > "$VCSIM_DIR/map$i"
  printf '0 %d data\n%d %d hole,zero\n' $changed $changed \
    $(( (4 + 4 * i) * 1048576 - changed )) | diff - "$VCSIM_DIR/map$i" ||
    fail "disk $i: the map is not its changes"
  image $i after > "$VCSIM_DIR/after$i"
  head -c $changed "$VCSIM_DIR/after$i" > "$VCSIM_DIR/expect$i"
  truncate -s $(( (4 + 4 * i) * 1048576 )) "$VCSIM_DIR/expect$i"
  nbdcopy "$(uri $i)" "$VCSIM_DIR/changes$i.raw"
  same_bytes "$VCSIM_DIR/expect$i" "$VCSIM_DIR/changes$i.raw"
  nbdinfo "$(uri $i)" | grep -q "next cbt-changeid=$(grep -F "disk $i \"" "$VCSIM_DIR/list" | sed -n 's/.*, changeId \(.*\)\/[0-9]*$/\1/p')/" ||
    fail "disk $i: no next cbt-changeid in its description"
done
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
