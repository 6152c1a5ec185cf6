#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2016,SC2046,SC2086,SC2207
# Model-based test of vsphere-sync on a whole VM: three disks of
# different sizes on two datastores (one not a multiple of 64 KiB),
# 20 cycles, each after random guest writes on random disks (random
# offsets, lengths and data, all-zero writes, writes across 64 KiB
# blocks and at the last block, sometimes none), mirrored into one
# model image per disk.  The same cycles go into three output sets,
# each with its own state file: raw images, qcow2 images updated in
# place, and overlay chains.  After every cycle every output equals its
# model byte for byte, the state and the --json summary say what
# happened, and no snapshot is left; at the end every overlay of the
# chains still holds its own cycle.
#
# SYNC_TEST_SEED=N repeats a run.
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

seed=${SYNC_TEST_SEED:-$(( $$ ^ $(date +%s) ))}
RANDOM=$seed
echo "random seed: $seed (SYNC_TEST_SEED=$seed to repeat)"

vcsim_start
name="model-vm"
vm=DC0/vm/$name
moref=$(new_vm "$vm")
params=($(server_params "$vm"))
# Small CBT pages, so that every query takes several pages.
vcsim_ctl POST "/knobs?cbt_page=1048576" >/dev/null

sizes=($((8 << 20)) $(((5 << 20) + 3072)) $((12 << 20)))
datastores=(LocalDS_0 LocalDS_1 LocalDS_0)
ndisks=${#sizes[@]}
keys=()
for ((n = 0; n < ndisks; n++)); do
  model[n]=$VCSIM_DIR/model$n.img
done
make_image "${model[0]}" 8
# Disk 1: mostly unallocated, some data.
truncate -s "${sizes[1]}" "${model[1]}"
head -c 300000 /dev/urandom | dd of="${model[1]}" bs=64K oflag=seek_bytes seek=1000000 conv=notrunc status=none
# Disk 2: blank.
truncate -s "${sizes[2]}" "${model[2]}"
for ((n = 0; n < ndisks; n++)); do
  keys[n]=$(add_disk "$vm" "${datastores[n]}" "$name/disk$n" "${model[n]}")
  # The model images are changed in place from now on; the simulator
  # made its own copy.
done
echo "disks: keys ${keys[*]}, sizes ${sizes[*]}"

# The three output sets.
sets=(raw qcow2 overlay)
declare -A dir opts ext
dir[raw]=$VCSIM_DIR/out-raw;         opts[raw]="-f raw";        ext[raw]=raw
dir[qcow2]=$VCSIM_DIR/out-qcow2;     opts[qcow2]="-f qcow2";    ext[qcow2]=qcow2
dir[overlay]=$VCSIM_DIR/out-overlay; opts[overlay]="--overlay"; ext[overlay]=raw
for s in "${sets[@]}"; do mkdir "${dir[$s]}"; done

# touched[n]: the 64 KiB blocks of disk n written since the last cycle.
declare -A touched
writes_this_cycle=0

guest_write ()  # N OFFSET LENGTH [zero]
{
  local n=$1 off=$2 len=$3 b
  model_write "$vm" "$n" "${model[n]}" "$off" "$len" ${4:-}
  for ((b = off / 65536; b <= (off + len - 1) / 65536; b++)); do
    touched[$n,$b]=1
  done
  writes_this_cycle=$((writes_this_cycle + 1))
}

random_writes ()
{
  local count i n off len size kind
  # One cycle in six has no writes at all.
  [ $((RANDOM % 6)) -ne 0 ] || return 0
  count=$((RANDOM % 6 + 1))
  for ((i = 0; i < count; i++)); do
    n=$((RANDOM % ndisks))
    size=${sizes[n]}
    len=$(( $(random32) % 300000 + 1 ))
    kind=$((RANDOM % 6))
    case $kind in
      0|1)  # across one or more 64 KiB block boundaries
        off=$(( ($(random32) % (size / 65536 - 1) + 1) * 65536 - (RANDOM % len) - 1 ))
        [ "$off" -ge 0 ] || off=0 ;;
      2) off=$(( size - len )) ;;  # the disk's last bytes
      3) len=$(( (RANDOM % 8 + 1) * 512 )); off=$(( ($(random32) % (size / 512)) * 512 )) ;;  # small, aligned
      *) off=$(( $(random32) % (size - len) )) ;;
    esac
    [ $((off + len)) -le "$size" ] || off=$((size - len))
    if [ $((RANDOM % 4)) -eq 0 ]; then
      guest_write "$n" "$off" "$len" zero
    else
      guest_write "$n" "$off" "$len"
    fi
  done
}

# expected_bytes N: what CBT says changed on disk N since the last cycle.
expected_bytes ()
{
  local n=$1 k total=0 b end
  for k in "${!touched[@]}"; do
    [ "${k%,*}" = "$n" ] || continue
    b=${k#*,}
    end=$(( (b + 1) * 65536 ))
    [ "$end" -le "${sizes[n]}" ] || end=${sizes[n]}
    total=$(( total + end - b * 65536 ))
  done
  echo "$total"
}

declare -A prev_change
# check_set SET CYCLE: the outputs, the state and the summary of one set.
check_set ()
{
  local s=$1 c=$2 state n key out fmt cid prev overlays want_overlays i top what
  state=${dir[$s]}/$name.vsphere-sync.json
  what="cycle $c, $s"
  [ -f "$state" ] || fail "$what: no state file $state: $(ls "${dir[$s]}")"
  # The state.
  [ "$(state_get "$state" .version)" = 1 ] || fail "$what: state version"
  [ "$(state_get "$state" .vm.name)" = "$name" ] || fail "$what: vm.name"
  [ "$(state_get "$state" .vm.moref)" = "$moref" ] || fail "$what: vm.moref"
  state_get "$state" '.vm.instance_uuid | select(length > 0)' >/dev/null
  [ "$(state_get "$state" .cycle)" = "$c" ] ||
    fail "$what: state cycle $(state_get "$state" .cycle)"
  [ "$(state_get "$state" '.disks | length')" = "$ndisks" ] ||
    fail "$what: state has $(state_get "$state" '.disks | length') disks"
  # The summary.
  [ "$(json_get .result)" = ok ] || fail "$what: summary result"
  [ "$(json_get .vm.moref)" = "$moref" ] || fail "$what: summary vm.moref"
  [ "$(json_get .vm.name)" = "$name" ] || fail "$what: summary vm.name"
  [ "$(json_get .cycle)" = "$c" ] || fail "$what: summary cycle"
  json_get '.snapshot | select(length > 0)' >/dev/null
  json_get '.seconds | select(. >= 0)' >/dev/null
  [ "$(json_get .bytes_copied)" -le "$(json_get .bytes_to_copy)" ] ||
    fail "$what: copied more than there was to copy: $(cat "$VCSIM_DIR/sync.out")"
  [ "$(json_get '[.disks[].bytes_to_copy] | add')" = "$(json_get .bytes_to_copy)" ] ||
    fail "$what: bytes_to_copy is not the sum of the disks'"
  for ((n = 0; n < ndisks; n++)); do
    key=${keys[n]}
    out=${dir[$s]}/$name-disk$n.${ext[$s]}
    fmt=${ext[$s]}
    [ "$(disk_get "$state" "$key" output)" = "$out" ] ||
      fail "$what: disk $key output $(disk_get "$state" "$key" output), want $out"
    [ "$(disk_get "$state" "$key" format)" = "$fmt" ] || fail "$what: disk $key format"
    [ "$(disk_get "$state" "$key" size)" = "${sizes[n]}" ] || fail "$what: disk $key size"
    disk_get "$state" "$key" label | grep -q . || fail "$what: disk $key has no label"
    disk_get "$state" "$key" path | grep -q "^\[${datastores[n]}\] $name/disk$n\.vmdk\$" ||
      fail "$what: disk $key path $(disk_get "$state" "$key" path)"
    cid=$(disk_get "$state" "$key" change_id)
    [ "$(json_disk "$key" change_id)" = "$cid" ] ||
      fail "$what: disk $key: the summary's changeId $(json_disk "$key" change_id) is not the state's $cid"
    [ "$(json_disk "$key" output)" = "$out" ] || fail "$what: disk $key: summary output"
    [ "$(json_disk "$key" size)" = "${sizes[n]}" ] || fail "$what: disk $key: summary size"
    prev=${prev_change[$s,$key]:-}
    if [ -n "$prev" ]; then
      [ "$(change_uuid "$cid")" = "$(change_uuid "$prev")" ] ||
        fail "$what: disk $key changeId epoch changed: $prev -> $cid"
      [ "$(change_seq "$cid")" -gt "$(change_seq "$prev")" ] ||
        fail "$what: disk $key changeId did not advance: $prev -> $cid"
      [ "$(json_disk "$key" mode)" = incremental ] ||
        fail "$what: disk $key copied $(json_disk "$key" mode) ($(json_disk "$key" reason))"
      [ "$(json_disk "$key" reason)" = null ] || fail "$what: disk $key: reason for an incremental copy"
      # Only what CBT says changed (it is exact in the simulator, per
      # 64 KiB block).
      [ "$(json_disk "$key" bytes_to_copy)" -le "$(expected_bytes "$n")" ] ||
        fail "$what: disk $key: $(json_disk "$key" bytes_to_copy) bytes to copy, but only $(expected_bytes "$n") changed"
      if [ "$(expected_bytes "$n")" -gt 0 ] && [ "$(json_disk "$key" bytes_to_copy)" -eq 0 ]; then
        fail "$what: disk $key: nothing to copy, but $(expected_bytes "$n") bytes changed"
      fi
    else
      [ "$(json_disk "$key" mode)" = full ] || fail "$what: disk $key: first copy not full"
      [ "$(json_disk "$key" reason)" != null ] || fail "$what: disk $key: no reason for the full copy"
    fi
    prev_change[$s,$key]=$cid
    # The bytes.
    overlays=$(disk_get "$state" "$key" 'overlays | length')
    if [ "$s" = overlay ]; then
      want_overlays=$((c - 1))
      [ "$overlays" = "$want_overlays" ] ||
        fail "$what: disk $key has $overlays overlays, want $want_overlays: $(disk_get "$state" "$key" overlays)"
      for ((i = 1; i <= overlays; i++)); do
        [ "$(disk_get "$state" "$key" "overlays[$((i - 1))]")" = "$out.$i.qcow2" ] ||
          fail "$what: disk $key: overlay $i is $(disk_get "$state" "$key" "overlays[$((i - 1))]"), want $out.$i.qcow2"
      done
      [ ! -e "$out.$((overlays + 1)).qcow2" ] || fail "$what: an unlisted overlay $out.$((overlays + 1)).qcow2"
      if [ "$overlays" -gt 0 ]; then
        top=$out.$overlays.qcow2
        [ "$(json_disk "$key" output)" = "$out" ] || fail "$what: summary output"
        same_image "$what, disk $n" "${model[n]}" "$top" qcow2
        # The chain ends at the base.
        qemu-img info --backing-chain --output=json "$top" |
          jq -e --arg base "$(realpath "$out")" '.[-1].filename | . == $base or (endswith("/" + ($base | split("/") | last)))' >/dev/null ||
          fail "$what: $top does not end at its base: $(qemu-img info --backing-chain "$top")"
      else
        same_image "$what, disk $n" "${model[n]}" "$out" raw
      fi
    else
      [ "$overlays" = 0 ] || fail "$what: disk $key has overlays"
      same_image "$what, disk $n" "${model[n]}" "$out" "$fmt"
    fi
  done
  check_no_snapshot "$vm" "$what"
}

# Model hashes per cycle, to check the overlay chains at the end.
declare -A model_hash
ncycles=${SYNC_TEST_CYCLES:-20}
start=$(date +%s)
for ((c = 1; c <= ncycles; c++)); do
  writes_this_cycle=0
  random_writes
  for ((n = 0; n < ndisks; n++)); do
    model_hash[$c,$n]=$(sha256sum < "${model[n]}")
  done
  for s in "${sets[@]}"; do
    [ "$s" != raw ] || vcsim_ctl POST /counters/reset >/dev/null
    sync_ok "cycle $c, $s" ${opts[$s]} --json -o "${dir[$s]}" -- "${params[@]}"
    jq -e . "$VCSIM_DIR/sync.out" >/dev/null ||
      fail "cycle $c, $s: --json printed no JSON: $(cat "$VCSIM_DIR/sync.out")"
    if [ "$s" = raw ] && [ "$c" -gt 1 ]; then
      # What was read from the datastores, against what changed.
      total=0
      for ((n = 0; n < ndisks; n++)); do total=$((total + $(expected_bytes "$n"))); done
      read_bytes=$(vcsim_ctl GET /counters | sed -n 's/^folder_bytes=//p')
      [ "$read_bytes" -le $(( total * 11 / 10 + ndisks * 1048576 )) ] ||
        fail "cycle $c: read $read_bytes bytes from the datastores for $total changed bytes"
    fi
    check_set "$s" "$c"
  done
  # Every few cycles, the model against the simulator's own disks.
  if [ $((c % 5)) -eq 0 ]; then
    for ((n = 0; n < ndisks; n++)); do
      sim_image "$vm" "$n" "$VCSIM_DIR/sim.img"
      cmp "$VCSIM_DIR/sim.img" "${model[n]}" || fail "cycle $c: the model of disk $n is wrong (test bug)"
    done
  fi
  total=0
  for ((n = 0; n < ndisks; n++)); do total=$((total + $(expected_bytes "$n"))); done
  echo "ok: cycle $c: $writes_this_cycle writes, $total bytes changed, 3 output sets exact ($(( $(date +%s) - start )) s)"
  touched=()
done

# Every overlay still holds the disk as it was at its cycle, and the
# base the first cycle.
for ((n = 0; n < ndisks; n++)); do
  out=${dir[overlay]}/$name-disk$n.raw
  [ "$(sha256sum < "$out")" = "${model_hash[1,$n]}" ] ||
    fail "disk $n: the base of the overlay chain changed after the first cycle"
  for ((c = 2; c <= ncycles; c++)); do
    qemu-img convert -f qcow2 -O raw "$out.$((c - 1)).qcow2" "$VCSIM_DIR/past.img"
    [ "$(sha256sum < "$VCSIM_DIR/past.img")" = "${model_hash[$c,$n]}" ] ||
      fail "disk $n: overlay $((c - 1)) does not hold cycle $c any more"
  done
done
echo "ok: every overlay holds its own cycle"

sync_done
