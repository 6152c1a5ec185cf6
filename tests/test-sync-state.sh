#!/usr/bin/env bash
# shellcheck disable=SC2046,SC2086
# vsphere-sync's state owns its outputs, and never lets a wrong image
# pass for a whole one (issue 19, items 1-7 and 11):
#  1. an update in place cut short is recorded as not whole, and
#     vsphere-v2v --in-place refuses it until a cycle makes it whole;
#  2. a truncated output is copied in full, not patched;
#  3. --full removes only overlays named as vsphere-sync names them;
#  4. outputs are relative to the state: a copied directory copies in
#     full into itself, a moved one goes on incrementally;
#  5. a disk whose first copy was cut short keeps its name;
#  6. an overlay is named as one only once it is whole;
#  7. -f qcow2 over raw outputs makes new .qcow2 files;
# 11. a damaged state names the file and the way out (--full), and
#     numbers in it are read strictly.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
requires setsid pgrep

vcsim_start
name=state-vm
vm=DC0/vm/$name
new_vm "$vm" >/dev/null
m0=$VCSIM_DIR/m0.img
m1=$VCSIM_DIR/m1.img
make_image "$m0" 8
make_image "$m1" 4
k0=$(add_disk "$vm" LocalDS_0 "$name/disk0" "$m0")
k1=$(add_disk "$vm" LocalDS_1 "$name/disk1" "$m1")
params=($(server_params "$vm"))
dir=$VCSIM_DIR/out
mkdir "$dir"
state=$dir/$name.vsphere-sync.json
v2v=$abs_top_builddir/v2v/vsphere-v2v
export VIRT_V2V_IN_PLACE=$abs_srcdir/v2v-copy-converter
export V2V_TEST_DIR=$VCSIM_DIR/conv
mkdir "$V2V_TEST_DIR"

copying () { [ "$(folder_bytes)" -gt 300000 ]; }
change ()
{
  model_write "$vm" 0 "$m0" $((RANDOM * 64)) 300000
  model_write "$vm" 1 "$m1" $((RANDOM * 16)) 200000
}
# check_outputs WHAT DIR [EXT]: both images in DIR equal the disks.
check_outputs ()
{
  same_image "$1, disk 0" "$m0" "$2/$name-disk0.${3:-raw}" "${3:-raw}"
  same_image "$1, disk 1" "$m1" "$2/$name-disk1.${3:-raw}" "${3:-raw}"
}

# kill_mid_copy WHAT OPTIONS...: a cycle killed (SIGKILL) while it
# copies, slowed down; then the guardian removes the snapshot.
kill_mid_copy ()
{
  local what=$1 pid
  shift
  vcsim_ctl POST /counters/reset >/dev/null
  knob bandwidth=1000000
  setsid "$sync_tool" --connections 1 "$@" -- "${params[@]}" \
    2> "$VCSIM_DIR/killed.err" &
  pid=$!
  vcsim_on_exit "kill -9 -- -$pid 2>/dev/null || true"
  eventually copying || fail "$what: the copy did not start: $(cat "$VCSIM_DIR/killed.err")"
  kill -KILL "$pid"
  wait "$pid" || true
  knob bandwidth=0
  expect_no_snapshot "$vm" "$what"
  for _ in $(seq 100); do [ -z "$(pgrep -g "$pid" || true)" ] && break; sleep 0.1; done
}

# run_v2v OPTIONS...: vsphere-v2v; status in $v2v_rc.
run_v2v ()
{
  v2v_rc=0
  "$v2v" "$@" > "$VCSIM_DIR/v2v.out" 2> "$VCSIM_DIR/v2v.err" || v2v_rc=$?
}

sync_ok "first cycle" -o "$dir" -- "${params[@]}"
check_outputs "first cycle" "$dir"
[ "$(state_get "$state" '.disks | map(.whole) | all')" = true ] ||
  fail "the first cycle's outputs are not recorded whole: $(cat "$state")"

# ---- 1. an update in place cut short ----
change
kill_mid_copy "an incremental cycle in place" -o "$dir"
jq -e '[.disks[] | select(.whole == false and .change_id != null)] | length > 0' "$state" >/dev/null ||
  fail "an update in place was cut short, but the state records every output whole: $(cat "$state")"
run_v2v --in-place --state "$state" -- "${params[@]}"
[ "$v2v_rc" = 1 ] && grep -q "no whole copy.*cut short.*run .vsphere-sync --state .* again" "$VCSIM_DIR/v2v.err" ||
  fail "vsphere-v2v --in-place on a half-updated copy: rc $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
[ -z "$(ls "$V2V_TEST_DIR")" ] || fail "vsphere-v2v ran the converter on a half-updated copy"
echo "ok: a cut-short update in place is not whole, and vsphere-v2v refuses it: $(grep -m1 -o 'disk [0-9].*cut short[^;]*' "$VCSIM_DIR/v2v.err")"
sync_ok "the cycle after" --json -o "$dir" -- "${params[@]}"
for k in "$k0" "$k1"; do
  [ "$(json_disk "$k" mode)" = incremental ] ||
    fail "the cycle after a cut-short update: disk $k $(json_disk "$k" mode) ($(json_disk "$k" reason))"
done
check_outputs "the cycle after a cut-short update (incremental)" "$dir"
run_v2v --in-place --print-xml --state "$state" -- "${params[@]}"
[ "$v2v_rc" = 0 ] || fail "vsphere-v2v refuses a whole copy: $(cat "$VCSIM_DIR/v2v.err")"
echo "ok: the next cycle goes on incrementally from the recorded changeId, exact"

# ---- 2. a truncated output ----
change
truncate -s 1M "$dir/$name-disk0.raw"
sync_ok "after a truncation" --json -o "$dir" -- "${params[@]}"
[ "$(json_disk "$k0" mode)" = full ] && json_disk "$k0" reason | grep -q "truncated" ||
  fail "a truncated output: disk $k0 $(json_disk "$k0" mode) ($(json_disk "$k0" reason))"
[ "$(json_disk "$k1" mode)" = incremental ] || fail "the other disk was copied $(json_disk "$k1" mode)"
check_outputs "after a truncation" "$dir"
echo "ok: a truncated output is copied in full: $(json_disk "$k0" reason)"
# Written behind vsphere-sync's back (its size kept): in full too.
change
printf 'x' | dd of="$dir/$name-disk1.raw" bs=1 seek=4096 conv=notrunc status=none
sync_ok "after a foreign write" --json -o "$dir" -- "${params[@]}"
[ "$(json_disk "$k1" mode)" = full ] && json_disk "$k1" reason | grep -q "modified" ||
  fail "a modified output: disk $k1 $(json_disk "$k1" mode) ($(json_disk "$k1" reason))"
check_outputs "after a foreign write" "$dir"
echo "ok: an output written since is copied in full: $(json_disk "$k1" reason)"

# ---- 3. --full removes only what is vsphere-sync's ----
echo precious > "$VCSIM_DIR/foreign.txt"
echo precious > "$dir/notes.qcow2"
echo precious > "$dir/$name-disk0.raw.1.qcow2.bak"
jq --argjson k "$k0" --arg f "$VCSIM_DIR/foreign.txt" \
  '(.disks[] | select(.key == $k) | .overlays) = [$f, "notes.qcow2", "'"$name"'-disk0.raw.1.qcow2.bak"]' \
  "$state" > "$state.new"
mv "$state.new" "$state"
change
sync_ok "--full with foreign overlays listed" --full -o "$dir" -- "${params[@]}"
for f in "$VCSIM_DIR/foreign.txt" "$dir/notes.qcow2" "$dir/$name-disk0.raw.1.qcow2.bak"; do
  [ "$(cat "$f")" = precious ] || fail "--full removed $f, which the state listed but is not vsphere-sync's"
done
grep -q "not removing .*foreign.txt" "$VCSIM_DIR/sync.err" ||
  fail "--full left a foreign file without a word: $(cat "$VCSIM_DIR/sync.err")"
check_outputs "--full" "$dir"
rm "$dir/notes.qcow2" "$dir/$name-disk0.raw.1.qcow2.bak"
echo "ok: --full leaves files that are not its own, and says so"

# ---- 4. a copied and a moved directory ----
change
sync_ok "before the copy" -o "$dir" -- "${params[@]}"
cp -a "$dir" "$VCSIM_DIR/copy"
cp "$dir/$name-disk0.raw" "$VCSIM_DIR/a-disk0.before"
change
sync_ok "into the copied directory" --json -o "$VCSIM_DIR/copy" -- "${params[@]}"
cmp -s "$dir/$name-disk0.raw" "$VCSIM_DIR/a-disk0.before" ||
  fail "a cycle into the copied directory wrote the original's images"
check_outputs "the copied directory" "$VCSIM_DIR/copy"
[ "$(json_disk "$k0" mode)" = full ] && json_disk "$k0" reason | grep -q "copied" ||
  fail "the copied directory: disk $k0 $(json_disk "$k0" mode) ($(json_disk "$k0" reason))"
[ "$(json_disk "$k0" output)" = "$VCSIM_DIR/copy/$name-disk0.raw" ] ||
  fail "the copied directory: output $(json_disk "$k0" output)"
echo "ok: a copied directory is its own: $(json_disk "$k0" reason)"
mv "$VCSIM_DIR/copy" "$VCSIM_DIR/moved"
change
sync_ok "in the moved directory" --json -o "$VCSIM_DIR/moved" -- "${params[@]}"
[ "$(json_disk "$k0" mode)" = incremental ] && [ "$(json_disk "$k1" mode)" = incremental ] ||
  fail "the moved directory: $(json_disk "$k0" mode) ($(json_disk "$k0" reason))"
check_outputs "the moved directory" "$VCSIM_DIR/moved"
echo "ok: a moved directory goes on incrementally where it lies"
rm -rf "$VCSIM_DIR/moved"

# ---- 5. a new disk's first copy cut short keeps its name ----
m2=$VCSIM_DIR/m2.img
make_image "$m2" 8
k2=$(add_disk "$vm" LocalDS_0 "$name/disk2" "$m2")
for round in 1 2; do
  kill_mid_copy "the new disk's first copy, round $round" --checkpoint 3600 -o "$dir"
done
sync_ok "the new disk at last" -o "$dir" -- "${params[@]}"
same_image "the new disk" "$m2" "$dir/$name-disk2.raw" raw
[ "$(disk_get "$state" "$k2" output)" = "$name-disk2.raw" ] ||
  fail "the new disk's output is $(disk_get "$state" "$k2" output)"
extra=$(ls "$dir" | grep -v -E "^$name-disk[012]\.raw$|^$name\.vsphere-sync\.json$" || true)
[ -z "$extra" ] || fail "second names for a disk: $extra"
echo "ok: a cut-short first copy goes on in the same file"

# ---- 6. an overlay cut short is not named as one ----
ov=$VCSIM_DIR/ov
mkdir "$ov"
sync_ok "overlay base" --overlay -o "$ov" -- "${params[@]}"
change
kill_mid_copy "an overlay cycle" --overlay -o "$ov"
[ "$(state_get "$ov/$name.vsphere-sync.json" '[.disks[].overlays[]] | length')" = 0 ] ||
  fail "the cut-short overlay cycle recorded an overlay"
named=$(ls "$ov" | grep -E '\.qcow2$' || true)
[ -z "$named" ] || fail "a cut-short overlay cycle left a half-written overlay under an overlay's name: $named"
sync_ok "overlay cycle" --overlay -o "$ov" -- "${params[@]}"
# change wrote to disks 0 and 1; disk 2, with nothing to copy, gets
# no overlay.
for n in 0 1; do
  [ -e "$ov/$name-disk$n.raw.1.qcow2" ] || fail "no overlay $name-disk$n.raw.1.qcow2: $(ls "$ov")"
done
[ ! -e "$ov/$name-disk2.raw.1.qcow2" ] || fail "an overlay for unchanged disk 2"
same_image "overlay" "$m0" "$ov/$name-disk0.raw.1.qcow2" qcow2
same_image "overlay" "$m1" "$ov/$name-disk1.raw.1.qcow2" qcow2
same_image "no overlay" "$m2" "$ov/$name-disk2.raw" raw
part=$(ls "$ov" | grep -E '\.part$' || true)
[ -z "$part" ] || fail "the next cycle left the unfinished overlays: $part"
echo "ok: an overlay takes its name only when whole"

# ---- 7. -f qcow2 over raw outputs ----
change
sync_ok "-f qcow2 over raw" --json -f qcow2 -o "$dir" -- "${params[@]}"
json_disk "$k0" reason | grep -q "format changed from raw to qcow2" ||
  fail "-f qcow2 over raw: reason $(json_disk "$k0" reason)"
for n in 0 1 2; do
  [ "$(qemu-img info --output=json "$dir/$name-disk$n.qcow2" | jq -r .format)" = qcow2 ] ||
    fail "$name-disk$n.qcow2 is not qcow2"
  [ "$(qemu-img info --output=json "$dir/$name-disk$n.raw" | jq -r .format)" = raw ] ||
    fail "$name-disk$n.raw is no longer raw"
done
check_outputs "-f qcow2" "$dir" qcow2
change
sync_ok "qcow2 again, without -f" --json -o "$dir" -- "${params[@]}"
[ "$(json_disk "$k0" mode)" = incremental ] || fail "without -f, the recorded qcow2 was not kept: $(json_disk "$k0" reason)"
check_outputs "qcow2 without -f" "$dir" qcow2
sync_fails "-f raw into a .qcow2 name" 1 "named for another format" \
  -f raw --state "$VCSIM_DIR/other.json" --disk "0=$VCSIM_DIR/x.qcow2" --disk "1=$VCSIM_DIR/y.raw" \
  --disk "2=$VCSIM_DIR/z.raw" -- "${params[@]}"
check_no_snapshot "$vm" "-f raw into a .qcow2 name"
echo "ok: a format change makes new files named for it"

# ---- a version 1 state (absolute paths, no "whole") ----
jq --arg d "$dir/" '.version = 1 | .disks |= map(del(.whole, .identity) | .output = $d + .output)' \
  "$state" > "$state.new"
mv "$state.new" "$state"
change
sync_ok "from a version 1 state" --json -o "$dir" -- "${params[@]}"
[ "$(json_disk "$k0" mode)" = incremental ] || fail "a version 1 state: $(json_disk "$k0" reason)"
check_outputs "from a version 1 state" "$dir" qcow2
jq -e --arg o "$name-disk0.qcow2" '.version == 2 and (.disks[0].output == $o) and (.disks | all(.whole))' "$state" >/dev/null ||
  fail "a version 1 state was not written as version 2 with relative paths: $(cat "$state")"
echo "ok: a version 1 state goes on incrementally and is written as version 2"

# ---- 11. a damaged state ----
cp "$state" "$VCSIM_DIR/good.json"
: > "$state"
sync_fails "an empty state" 1 "state file $state is damaged: it is empty.*--full" -o "$dir" -- "${params[@]}"
head -c 200 "$VCSIM_DIR/good.json" > "$state"
sync_fails "a truncated state" 1 "state file $state is damaged: .*(cut short|JSON).*--full" -o "$dir" -- "${params[@]}"
jq --argjson k "$k0" '(.disks[] | select(.key == $k) | .key) = 4294969296' "$VCSIM_DIR/good.json" > "$state"
sync_fails "a key out of range" 1 "\"key\" is 4294969296, not a number from 0 to 2147483647" -o "$dir" -- "${params[@]}"
run_v2v --in-place --print-xml --state "$state" -- "${params[@]}"
[ "$v2v_rc" = 1 ] && grep -q "is damaged" "$VCSIM_DIR/v2v.err" ||
  fail "vsphere-v2v on a damaged state: rc $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
check_no_snapshot "$vm" "a damaged state"
: > "$state"
sync_ok "--full over a damaged state" --json --full -o "$dir" -- "${params[@]}"
check_outputs "--full over a damaged state" "$dir"
echo "ok: a damaged state names the file and --full; --full starts over"

sync_done
