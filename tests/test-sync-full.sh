#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2016,SC2046,SC2086,SC2207
# Why a disk is copied in full, per disk, as the --json summary says
# (mode, reason): the first cycle; a disk added to the VM (only that
# one; the others stay incremental); a disk removed (reported, dropped
# from the state, its output left alone, its output name never reused);
# a disk replaced under the same device key, with another size and with
# the same size; a CBT reset in the middle of a sequence; a changeId
# that vCenter refuses; --full.  A VM without CBT is refused with a
# message that says how to turn it on; a state file of another VM is
# refused.  Every output is byte-exact after every cycle.
#
# The simulator has no disk resize (no /disk/resize): a size change is
# tested through a disk replaced under the same key.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
name=full-vm
vm=DC0/vm/$name
moref=$(new_vm "$vm")
params=($(server_params "$vm"))
dir=$VCSIM_DIR/out
mkdir "$dir"
state=$dir/$name.vsphere-sync.json

# The VM's disks in device order: their keys and model images.
vm_keys=()
vm_models=()
disk_no=0
# attach DS SIZE_MIB [KEY]: a new disk of random data; sets $new_key.
attach ()
{
  local model=$VCSIM_DIR/model$disk_no.img
  make_image "$model" "$2"
  new_key=$(vcsim_ctl POST "/disk/add?vm=$vm&ds=$1&name=$name/d$disk_no&image=$model${3:+&key=$3}")
  vm_keys+=("$new_key")
  vm_models+=("$model")
  disk_no=$((disk_no + 1))
}
# detach KEY: remove the disk from the VM.
detach ()
{
  local i keys=() models=()
  soap_vm_remove_disk "$moref" "$1"
  for i in "${!vm_keys[@]}"; do
    if [ "${vm_keys[i]}" != "$1" ]; then keys+=("${vm_keys[i]}"); models+=("${vm_models[i]}"); fi
  done
  vm_keys=("${keys[@]}")
  vm_models=("${models[@]}")
  gone () { ! vcsim_ctl GET "/disk/file?vm=$vm&disk=${#vm_keys[@]}" >/dev/null 2>&1; }
  eventually gone || fail "disk $1 was not removed"
}
model_of () { local i; for i in "${!vm_keys[@]}"; do [ "${vm_keys[i]}" != "$1" ] || echo "${vm_models[i]}"; done; }
# change: a guest write on every disk.
change ()
{
  local i
  for i in "${!vm_keys[@]}"; do
    model_write "$vm" "$i" "${vm_models[i]}" $((RANDOM * 64)) 50000
  done
}

# cycle WHAT [OPTIONS]: one cycle, then every disk exact and in the state.
cycle ()
{
  local what=$1 key out
  shift
  sync_ok "$what" --json "$@" -o "$dir" -- "${params[@]}"
  jq -e '.result == "ok"' "$VCSIM_DIR/sync.out" >/dev/null || fail "$what: $(cat "$VCSIM_DIR/sync.out")"
  [ "$(jq '.disks | length' "$state")" = "${#vm_keys[@]}" ] ||
    fail "$what: the state has $(jq '.disks | length' "$state") disks, the VM ${#vm_keys[@]}: $(cat "$state")"
  for key in "${vm_keys[@]}"; do
    out=$(disk_output "$state" "$key")
    same_image "$what, disk $key" "$(model_of "$key")" "$out" raw
    [ "$(json_disk "$key" output)" = "$out" ] || fail "$what: disk $key: summary output"
  done
  check_no_snapshot "$vm" "$what"
}
# expect_mode WHAT KEY MODE [REASON-PATTERN]
expect_mode ()
{
  local what=$1 key=$2 mode=$3 pattern=${4:-}
  [ "$(json_disk "$key" mode)" = "$mode" ] || {
    cat "$VCSIM_DIR/sync.out" "$VCSIM_DIR/sync.err" >&2
    fail "$what: disk $key copied $(json_disk "$key" mode) ($(json_disk "$key" reason)), want $mode"
  }
  if [ "$mode" = incremental ]; then
    [ "$(json_disk "$key" reason)" = null ] || fail "$what: disk $key: a reason for an incremental copy"
  else
    [ "$(json_disk "$key" reason)" != null ] && [ -n "$(json_disk "$key" reason)" ] ||
      fail "$what: disk $key: a full copy without a reason"
    [ -z "$pattern" ] || json_disk "$key" reason | grep -Eqi -- "$pattern" ||
      fail "$what: disk $key: the reason '$(json_disk "$key" reason)' does not match '$pattern'"
    # The reason is printed, too.
    grep -Fq -- "$(json_disk "$key" reason)" "$VCSIM_DIR/sync.err" ||
      fail "$what: disk $key: the reason is not printed: $(cat "$VCSIM_DIR/sync.err")"
  fi
}

attach LocalDS_0 6
attach LocalDS_1 4
ka=${vm_keys[0]} kb=${vm_keys[1]}

cycle "first cycle"
expect_mode "first cycle" "$ka" full
expect_mode "first cycle" "$kb" full
echo "ok: first cycle: full ($(json_disk "$ka" reason))"
change
cycle "second cycle"
expect_mode "second cycle" "$ka" incremental
expect_mode "second cycle" "$kb" incremental
echo "ok: second cycle: incremental"

# A disk added: copied in full, the others incremental.
change
attach LocalDS_1 5
kc=$new_key
cycle "a disk added"
expect_mode "a disk added" "$ka" incremental
expect_mode "a disk added" "$kb" incremental
expect_mode "a disk added" "$kc" full
[ "$(disk_output "$state" "$kc")" = "$dir/$name-disk2.raw" ] ||
  fail "the added disk's output: $(disk_output "$state" "$kc")"
echo "ok: a disk added is copied in full ($(json_disk "$kc" reason)), the others incrementally"

# A disk removed: reported, dropped, its output left alone.
change
out_b=$(disk_output "$state" "$kb")
sum_b=$(sha256sum < "$out_b")
detach "$kb"
cycle "a disk removed"
grep -Eq -- "($kb|d1\.vmdk|Hard disk 2)" "$VCSIM_DIR/sync.err" ||
  fail "the removed disk $kb is not reported: $(cat "$VCSIM_DIR/sync.err")"
jq -e --argjson k "$kb" '[.disks[].key] | index($k) == null' "$state" >/dev/null ||
  fail "the removed disk is still in the state: $(cat "$state")"
[ "$(sha256sum < "$out_b")" = "$sum_b" ] || fail "the removed disk's output was changed"
expect_mode "a disk removed" "$ka" incremental
expect_mode "a disk removed" "$kc" incremental
[ "$(disk_output "$state" "$kc")" = "$dir/$name-disk2.raw" ] ||
  fail "the output of disk $kc moved when its index changed: $(disk_output "$state" "$kc")"
echo "ok: a disk removed is reported ($(grep -E -m1 -- "($kb|d1\.vmdk|Hard disk 2)" "$VCSIM_DIR/sync.err")), dropped, its output left alone"

# A disk replaced under the same key, with another size.
change
out_a=$(disk_output "$state" "$ka")
detach "$ka"
attach LocalDS_1 7 "$ka"
[ "$new_key" = "$ka" ] || fail "could not add a disk with key $ka"
cycle "a disk replaced, another size"
expect_mode "a disk replaced, another size" "$ka" full "size|replac|path"
expect_mode "a disk replaced, another size" "$kc" incremental
[ "$(disk_get "$state" "$ka" size)" = $((7 << 20)) ] || fail "the replaced disk's size in the state"
disk_get "$state" "$ka" path | grep -q "d3\.vmdk" || fail "the replaced disk's path in the state: $(disk_get "$state" "$ka" path)"
echo "ok: a disk replaced with another size: full ($(json_disk "$ka" reason)); output $(disk_output "$state" "$ka") (was $out_a)"

# ... and with the same size (another file).
change
detach "$kc"
attach LocalDS_1 5 "$kc"
[ "$new_key" = "$kc" ] || fail "could not add a disk with key $kc"
cycle "a disk replaced, same size"
expect_mode "a disk replaced, same size" "$kc" full "replac|path|file|disk"
expect_mode "a disk replaced, same size" "$ka" incremental
disk_get "$state" "$kc" path | grep -q "d4\.vmdk" || fail "the replaced disk's path in the state: $(disk_get "$state" "$kc" path)"
echo "ok: a disk replaced with the same size: full ($(json_disk "$kc" reason))"

# A CBT reset in the middle of a sequence.
change
cycle "before the reset"
change
vcsim_ctl POST "/cbt/reset?vm=$vm" >/dev/null
cycle "CBT reset"
for key in "${vm_keys[@]}"; do expect_mode "CBT reset" "$key" full "cbt|epoch|reset|change ?id|tracking"; done
echo "ok: a CBT reset: full ($(json_disk "$ka" reason))"
change
cycle "after the reset"
for key in "${vm_keys[@]}"; do expect_mode "after the reset" "$key" incremental; done

# vCenter refuses the recorded changeId (here: one from the future).
change
cid=$(disk_get "$state" "$kc" change_id)
jq --argjson k "$kc" --arg c "${cid%/*}/999999" '(.disks[] | select(.key == $k) | .change_id) = $c' \
  "$state" > "$state.new"
mv "$state.new" "$state"
cycle "a refused changeId"
expect_mode "a refused changeId" "$kc" full "change ?id|refus|vcenter|fault|cbt"
expect_mode "a refused changeId" "$ka" incremental
echo "ok: a changeId vCenter refuses: full ($(json_disk "$kc" reason))"

# --full.
change
cycle "--full" --full
for key in "${vm_keys[@]}"; do expect_mode "--full" "$key" full "full"; done
echo "ok: --full: full ($(json_disk "$ka" reason))"

# A state file of another VM is refused.
other=DC0/vm/other-vm
new_vm "$other" >/dev/null
add_disk "$other" LocalDS_0 other/other "${vm_models[0]}" >/dev/null
cp "$state" "$VCSIM_DIR/state.before"
sync_fails "a state file of another VM" 1 "$name|$moref|another VM|other VM|state" \
  --state "$state" --disk "0=$VCSIM_DIR/other.raw" -- $(server_params "$other")
cmp -s "$state" "$VCSIM_DIR/state.before" || fail "the other VM's run changed the state"
[ ! -e "$VCSIM_DIR/other.raw" ] || fail "the other VM's run wrote its output"
check_no_snapshot "$other" "a state file of another VM"

# CBT off: stop, and say how to turn it on.
change
vcsim_ctl POST "/vm/cbt?vm=$vm&enabled=0" >/dev/null
sync_fails "CBT off" 1 "changeTrackingEnabled|Changed Block Tracking|CBT" -o "$dir" -- "${params[@]}"
grep -Eqi "enabl|turn (it )?on|ReconfigVM|set " "$VCSIM_DIR/sync.err" ||
  fail "CBT off: the message does not say how to turn CBT on: $(cat "$VCSIM_DIR/sync.err")"
cmp -s "$state" "$VCSIM_DIR/state.before" || fail "CBT off: the state changed"
check_no_snapshot "$vm" "CBT off"
vcsim_ctl POST "/vm/cbt?vm=$vm&enabled=1" >/dev/null
cycle "CBT back on"
echo "ok: CBT off is refused; after turning it on, the next cycle is exact (disk $ka: $(json_disk "$ka" mode))"

# A new disk now has index 2, as $kc had when it was first copied: its
# output must not be $kc's, nor the removed disk's.
change
attach LocalDS_0 4
kd=$new_key
echo "the new disk has key $kd"
cycle "a disk added after a removal"
expect_mode "a disk added after a removal" "$kd" full
expect_mode "a disk added after a removal" "$kc" incremental
out_d=$(disk_output "$state" "$kd")
[ "$out_d" != "$dir/$name-disk2.raw" ] || fail "the new disk $kd took disk $kc's output $out_d"
[ "$out_d" != "$out_b" ] || fail "the new disk $kd took the removed disk's output $out_d"
[ "$(sha256sum < "$out_b")" = "$sum_b" ] || fail "the removed disk's output was changed"
echo "ok: a new disk gets an output of its own: $out_d"

sync_done
