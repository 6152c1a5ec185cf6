#!/usr/bin/env bash
# vsphere-sync: a full copy killed halfway resumes from its checkpoint
# and ends exact at the new snapshot, reading less than a new full
# copy; CBT reset while a cycle copies makes the next cycle a full one;
# --verify and --verify=all find an output that differs.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
mib=$((1 << 20))
vm=DC0/vm/resume
new_vm "$vm" >/dev/null
make_image "$VCSIM_DIR/m0.img" 32
make_image "$VCSIM_DIR/m1.img" 8
add_disk "$vm" LocalDS_0 resume/big "$VCSIM_DIR/m0.img" >/dev/null
add_disk "$vm" LocalDS_1 resume/small "$VCSIM_DIR/m1.img" >/dev/null
out=$VCSIM_DIR/out
state=$out/resume.vsphere-sync.json
mkdir "$out"
params=($(server_params "$vm"))

# 1. A first full copy, slowed, killed once a checkpoint has recorded
# part of the big disk.
# The plugin reads ahead on its two HTTPS connections: 2 MiB/s a disk.
vcsim_ctl POST "/knobs?bandwidth=$mib" >/dev/null
"$sync_tool" -q --checkpoint 1 -o "$out" -- "${params[@]}" connections=2 \
  2> "$VCSIM_DIR/killed.err" &
pid=$!
# Until a checkpoint has recorded at least 8 MiB of the big disk.
partial () { jq -e '.disks[] | select(.key == 2000 and .partial.copied >= 8388608)' "$state" >/dev/null 2>&1; }
eventually partial || fail "no checkpoint recorded: $(cat "$state" 2>&1)"
kill -KILL "$pid"
wait "$pid" || true
copied=$(jq '.disks[] | select(.key == 2000) | .partial.copied' "$state")
[ "$(jq '[.disks[] | .change_id] | unique' "$state")" = '[
  null
]' ] || fail "an interrupted first copy recorded a changeId: $(cat "$state")"
echo "ok: a killed full copy recorded $copied bytes of disk 0 as copied"
expect_no_snapshot "$vm" "the killed cycle"

# Guest writes below and above the checkpoint before the next cycle.
model_write "$vm" 0 "$VCSIM_DIR/m0.img" $((mib / 2)) 100000
model_write "$vm" 0 "$VCSIM_DIR/m0.img" $((30 * mib)) 200000
model_write "$vm" 0 "$VCSIM_DIR/m0.img" $((mib)) 65536 zero
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null
vcsim_ctl POST /counters/reset >/dev/null
sync_ok "the resumed cycle" --json -o "$out" -- "${params[@]}"
read_bytes=$(vcsim_ctl GET /counters | sed -n 's/^folder_bytes=//p')
same_image "resumed disk 0" "$VCSIM_DIR/m0.img" "$out/resume-disk0.raw" raw
same_image "resumed disk 1" "$VCSIM_DIR/m1.img" "$out/resume-disk1.raw" raw
modes=$(jq -r '[.disks[] | .mode] | join(" ")' "$VCSIM_DIR/sync.out")
grep -qw resume <<<"$modes" || fail "no disk was resumed: $modes"
# Disk 0's copy skips what was copied but for the 64 KiB blocks written
# since, and the datastore reads are what the copy needed.
to_copy=$(json_disk 2000 bytes_to_copy)
[ "$to_copy" -le $((32 * mib - copied + 4 * 65536)) ] ||
  fail "disk 0 resumed with $to_copy bytes to copy: it did not skip the $copied bytes copied"
all_to_copy=$(json_get .bytes_to_copy)
[ "$read_bytes" -le $((all_to_copy + all_to_copy / 10 + mib)) ] ||
  fail "the resumed cycle read $read_bytes bytes for $all_to_copy to copy"
[ "$(state_get "$state" '[.disks[] | select(.partial)] | length')" = 0 ] ||
  fail "the state still has a partial copy: $(cat "$state")"
echo "ok: the resumed copy is exact ($modes), reading $read_bytes bytes"

# An incremental cycle after it is exact too.
model_write "$vm" 0 "$VCSIM_DIR/m0.img" $((20 * mib + 7)) 5000
sync_ok "the cycle after the resume" --json -o "$out" -- "${params[@]}"
same_image "disk 0 after" "$VCSIM_DIR/m0.img" "$out/resume-disk0.raw" raw
[ "$(json_disk 2000 mode)" = incremental ] || fail "not incremental: $(cat "$VCSIM_DIR/sync.out")"
echo "ok: the next cycle is incremental and exact"

# 2. CBT is reset while a cycle copies: that cycle's changeIds are of
# the old epoch, so the next one copies in full, and ends exact.
model_write "$vm" 1 "$VCSIM_DIR/m1.img" 4096 300000
vcsim_ctl POST "/knobs?bandwidth=$((mib / 4))" >/dev/null
"$sync_tool" -q --connections 1 -o "$out" -- "${params[@]}" &
pid=$!
copying () { [ -n "$(descendants "$pid")" ] && has_snapshot "$vm"; }
eventually copying || fail "the cycle did not start copying"
vcsim_ctl POST "/cbt/reset?vm=$vm" >/dev/null
wait "$pid" || fail "the cycle during the CBT reset failed"
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null
same_image "disk 1 at the reset" "$VCSIM_DIR/m1.img" "$out/resume-disk1.raw" raw
model_write "$vm" 1 "$VCSIM_DIR/m1.img" $((6 * mib)) 1000
sync_ok "the cycle after the reset" --json -o "$out" -- "${params[@]}"
for key in 2000 2001; do
  [ "$(json_disk $key mode)" = full ] && grep -q "CBT epoch" <<<"$(json_disk $key reason)" ||
    fail "disk $key after a CBT reset: $(cat "$VCSIM_DIR/sync.out")"
done
same_image "disk 0 after the reset" "$VCSIM_DIR/m0.img" "$out/resume-disk0.raw" raw
same_image "disk 1 after the reset" "$VCSIM_DIR/m1.img" "$out/resume-disk1.raw" raw
echo "ok: a CBT reset during a cycle makes the next one a full, exact copy"

# 3. --verify compares what was copied; --verify=all everything, and
# finds a byte changed behind vsphere-sync's back.
model_write "$vm" 0 "$VCSIM_DIR/m0.img" $((3 * mib)) 70000
sync_ok "--verify" --json --verify -o "$out" -- "${params[@]}"
[ "$(json_get .verified)" = true ] && [ "$(json_disk 2000 bytes_verified)" -gt 0 ] ||
  fail "--verify: $(cat "$VCSIM_DIR/sync.out")"
before=$(cat "$state")
# The file's times put back: vsphere-sync's own check of its outputs
# (a full copy of a file written since) must not see it.
touch -r "$out/resume-disk1.raw" "$VCSIM_DIR/times"
printf '\377' | dd of="$out/resume-disk1.raw" bs=1 seek=$((5 * mib)) conv=notrunc status=none
touch -r "$VCSIM_DIR/times" "$out/resume-disk1.raw"
sync_fails "--verify=all finds a changed byte" 1 "differs from the snapshot" \
  --json --verify=all -o "$out" -- "${params[@]}"
[ "$(json_get .result)" = failed ] || fail "--verify=all: $(cat "$VCSIM_DIR/sync.out")"
[ "$(jq -c '.cycle, [.disks[].change_id]' "$state")" != "$(jq -c '.cycle, [.disks[].change_id]' <<< "$before")" ] ||
  fail "a failed --verify left the state as it was: the damage would stay"
[ "$(jq '.cycle' "$state")" = "$(jq '.cycle' <<< "$before")" ] || fail "a failed --verify advanced the state"
[ "$(jq -r '.disks[] | select(.key == 2001) | .change_id' "$state")" = null ] ||
  fail "the damaged disk keeps its changeId: $(cat "$state")"
[ "$(jq -r '.disks[] | select(.key == 2000) | .change_id' "$state")" = "$(jq -r '.disks[] | select(.key == 2000) | .change_id' <<< "$before")" ] ||
  fail "the undamaged disk lost its changeId: $(cat "$state")"
expect_no_snapshot "$vm" "a failed --verify"
sync_ok "the next cycle repairs it" --json --verify=all -o "$out" -- "${params[@]}"
[ "$(json_disk 2001 mode)" = full ] || fail "the damaged disk was copied $(json_disk 2001 mode)"
same_image "disk 1 repaired" "$VCSIM_DIR/m1.img" "$out/resume-disk1.raw" raw
echo "ok: --verify=all finds the damage, and the next cycle copies that disk in full ($(json_disk 2001 reason))"
sync_done
