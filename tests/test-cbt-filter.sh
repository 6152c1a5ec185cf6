#!/usr/bin/env bash
# The cbt filter: block status shows exactly the changed 64 KiB blocks,
# unchanged areas read as zeros without any datastore read, the
# description gives the next changeId, and every misuse is refused
# with a clear message (leaving no snapshot behind).
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
[ -f "$NBDKIT_CBT_FILTER" ] || fail "the filter is not built: $NBDKIT_CBT_FILTER"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 8
vm=DC0/vm/cbt-vm
add_vm "$vm" "$img" "power=on&cbt=1"
vcsim_ctl POST "/knobs?cbt_page=1048576" >/dev/null
snap1=$(vcsim_ctl POST "/snapshot/create?vm=$vm&name=s1")
cbt () { nbdkit_vsphere "vm=$vm" --filter="$NBDKIT_CBT_FILTER" "$@"; }

# '*': the allocated blocks, i.e. all but the zero stretch make_image left.
cbt snapshot=s1 'cbt-changeid=*' --run 'nbdinfo --map "$uri"' > "$VCSIM_DIR/map"
cat > "$VCSIM_DIR/want" <<'MAP'
0 196608 0 data
196608 327680 3 hole,zero
524288 7864320 0 data
MAP
awk '{print $1, $2, $3, $4}' "$VCSIM_DIR/map" | diff - "$VCSIM_DIR/want" ||
  fail "cbt-changeid=* map is not the allocated areas"
echo "ok: cbt-changeid=* maps the allocated areas"

cid1=$(cbt snapshot=s1 'cbt-changeid=*' --run 'nbdinfo "$uri"' |
       sed -n 's/.*next cbt-changeid=\(.*\)$/\1/p')
[ -n "$cid1" ] || fail "no next cbt-changeid in the description"

# Two guest writes: one inside block 20, one across the 2 MiB page edge.
head -c 1000 /dev/urandom > "$VCSIM_DIR/w1"
head -c 100000 /dev/urandom > "$VCSIM_DIR/w2"
vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=$((20 * 65536 + 5))" --data-binary "@$VCSIM_DIR/w1" >/dev/null
vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=$((2 * 1048576 - 50000))" --data-binary "@$VCSIM_DIR/w2" >/dev/null
cp "$img" "$VCSIM_DIR/model.img"
dd if="$VCSIM_DIR/w1" of="$VCSIM_DIR/model.img" bs=1 seek=$((20 * 65536 + 5)) conv=notrunc status=none
dd if="$VCSIM_DIR/w2" of="$VCSIM_DIR/model.img" bs=1 seek=$((2 * 1048576 - 50000)) conv=notrunc status=none
snap2=$(vcsim_ctl POST "/snapshot/create?vm=$vm&name=s2")

for spec in s2 "moref=$snap2"; do
  cbt "snapshot=$spec" "cbt-changeid=$cid1" --run 'nbdinfo --map "$uri"' > "$VCSIM_DIR/map"
  cat > "$VCSIM_DIR/want" <<MAP
0 1310720 3 hole,zero
1310720 65536 0 data
1376256 655360 3 hole,zero
2031616 131072 0 data
2162688 6225920 3 hole,zero
MAP
  awk '{print $1, $2, $3, $4}' "$VCSIM_DIR/map" | diff - "$VCSIM_DIR/want" ||
    fail "snapshot=$spec: the map is not the changed blocks"
  echo "ok: snapshot=$spec maps exactly the changed 64 KiB blocks"
done

# Reads: changed blocks come from the snapshot, the rest is zeros and
# costs no datastore read.
vcsim_ctl POST /counters/reset >/dev/null
cbt snapshot=s2 "cbt-changeid=$cid1" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
read_bytes=$(vcsim_ctl GET /counters | sed -n 's/^folder_bytes=//p')
cp "$VCSIM_DIR/model.img" "$VCSIM_DIR/expect.raw"
for hole in "0 20" "21 10" "33 95"; do
  set -- $hole
  dd if=/dev/zero of="$VCSIM_DIR/expect.raw" bs=64K seek="$1" count="$2" conv=notrunc status=none
done
cmp "$VCSIM_DIR/expect.raw" "$VCSIM_DIR/out.raw" || fail "the export's bytes are wrong"
[ "$read_bytes" -le $((196608 + 1048576)) ] ||
  fail "read $read_bytes bytes from the datastore for 196608 changed bytes"
echo "ok: changed blocks read from the snapshot, the rest zeros ($read_bytes bytes read)"

# A copy reads the changed areas and nothing more: the plugin reads
# ahead where the filter says the copy will read, not past an area.
vcsim_ctl POST /counters/reset >/dev/null
cbt snapshot=s1 'cbt-changeid=*' --run "nbdcopy \"\$uri\" $VCSIM_DIR/all.raw"
read_bytes=$(vcsim_ctl GET /counters | sed -n 's/^folder_bytes=//p')
same_bytes "$img" "$VCSIM_DIR/all.raw"
allocated=$((196608 + 7864320))
# Beyond the areas: the descriptor, and a byte of each file at open.
[ "$read_bytes" -le $((allocated + 4096)) ] ||
  fail "read $read_bytes bytes from the datastore for $allocated allocated bytes"
echo "ok: a copy of the allocated areas read $read_bytes bytes for $allocated"

cbt snapshot=s2 "cbt-changeid=$cid1" --run 'nbdinfo "$uri"' > "$VCSIM_DIR/info"
grep -q "changed since $cid1: 196608 bytes in 2 areas; next cbt-changeid=" "$VCSIM_DIR/info" ||
  fail "description: $(cat "$VCSIM_DIR/info")"
cid2=$(sed -n 's/.*next cbt-changeid=\(.*\)$/\1/p' "$VCSIM_DIR/info")
[ "$cid2" != "$cid1" ] || fail "the changeId did not advance"
cbt snapshot=s2 "cbt-changeid=$cid2" --run 'nbdinfo --map "$uri"' > "$VCSIM_DIR/map"
[ "$(awk '{print $4}' "$VCSIM_DIR/map")" = hole,zero ] ||
  fail "nothing changed since the snapshot's own changeId: $(cat "$VCSIM_DIR/map")"
echo "ok: description names the next changeId"

# snapshot=create works, and takes its snapshot before counting.
cbt snapshot=create "cbt-changeid=$cid2" --run 'nbdinfo --map "$uri"' > "$VCSIM_DIR/map"
[ "$(awk '{print $4}' "$VCSIM_DIR/map")" = hole,zero ] ||
  fail "snapshot=create: $(cat "$VCSIM_DIR/map")"
echo "ok: snapshot=create"

# Misuse.
snapshots_are () { [ "$(vcsim_ctl GET "/snapshots?vm=$vm" | wc -l)" -eq "$1" ]; }
expect_cbt_error ()
{
  local pattern=$1
  shift
  expect_error "$pattern" --filter="$NBDKIT_CBT_FILTER" "$@"
  eventually snapshots_are 2 || fail "a snapshot was left behind: $(vcsim_ctl GET "/snapshots?vm=$vm")"
}
uuid=${cid1%/*}
expect_cbt_error "vCenter refused cbt-changeid=$uuid/999 \(FileFault.*a full copy is needed" \
  "vm=$vm" snapshot=create "cbt-changeid=$uuid/999"
expect_cbt_error "belongs to another CBT history .*CBT was reset.*cbt-changeid=\*" \
  "vm=$vm" snapshot=create "cbt-changeid=52 00 11 22 33 44 55 66-77 88 99 aa bb cc dd ee/3"
expect_cbt_error "cbt-changeid=nonsense: not a changeId" "vm=$vm" snapshot=s2 cbt-changeid=nonsense
expect_cbt_error "cbt-changeid= is required" "vm=$vm" snapshot=s2
expect_cbt_error "the cbt filter needs snapshot=" "vm=$vm" "cbt-changeid=$cid1"
expect_cbt_error 'snapshot=nope: VM cbt-vm has no such snapshot' "vm=$vm" snapshot=nope "cbt-changeid=$cid1"

# Answers that do not tile the disk exactly are never trusted.
for fault in gap overlap past_end; do
  vcsim_ctl POST "/knobs?cbt_fault=$fault" >/dev/null
  expect_cbt_error "QueryChangedDiskAreas (answered|returned) .*refusing to trust it" \
    "vm=$vm" snapshot=s2 "cbt-changeid=$cid1"
done
vcsim_ctl POST "/knobs?cbt_fault=0" >/dev/null

add_vm "DC0/vm/no-cbt" "$img"
expect_error "Changed Block Tracking is not enabled on VM no-cbt" \
  --filter="$NBDKIT_CBT_FILTER" vm=DC0/vm/no-cbt snapshot=create 'cbt-changeid=*'
[ -z "$(vcsim_ctl GET "/snapshots?vm=DC0/vm/no-cbt")" ] || fail "snapshot left on no-cbt"

if nbdkit -U - --filter="$NBDKIT_CBT_FILTER" memory 1M 'cbt-changeid=*' --run true 2> "$VCSIM_DIR/err"; then
  fail "the filter ran on top of the memory plugin"
fi
grep -q "the cbt filter works only on top of the vsphere plugin" "$VCSIM_DIR/err" ||
  fail "not stacked on vsphere: $(cat "$VCSIM_DIR/err")"
echo "ok: refused on top of another plugin"
