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
# happened, and no snapshot is left; a disk with nothing to copy gets
# no overlay; at the end every overlay of the chains still holds its
# own cycle.
#
# SYNC_TEST_SEED=N repeats a run.
#
# SPDX-License-Identifier: BSD-3-Clause
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
# The overlay set's chains: how many overlays disk KEY has, and the
# cycle overlay I of it holds (a cycle with nothing to copy adds none).
declare -A ov_count ov_cycle
# check_set SET CYCLE: the outputs, the state and the summary of one set.
# (One jq per file: this runs 60 times.)
check_set ()
{
  local s=$1 c=$2 state n key out fmt cid prev want_overlays i top what
  local -A st js
  state=${dir[$s]}/$name.vsphere-sync.json
  what="cycle $c, $s"
  [ -f "$state" ] || fail "$what: no state file $state: $(ls "${dir[$s]}")"
  # The state, flattened to NAME=VALUE lines.
  while IFS=$'\t' read -r k v; do st[$k]=$v; done < <(jq -r '
    ["version", .version], ["vm.name", .vm.name], ["vm.moref", .vm.moref],
    ["vm.instance_uuid", .vm.instance_uuid], ["cycle", .cycle], ["ndisks", (.disks | length)],
    (.disks[] | .key as $k |
      (["output", "format", "size", "label", "path", "change_id", "whole"][] as $f | ["\($k).\($f)", .[$f]]),
      ["\($k).overlays", (.overlays | length)],
      (.overlays | to_entries[] | ["\($k).overlay.\(.key + 1)", .value]))
    | map(tostring) | join("\t")' "$state") || fail "$what: the state is not JSON: $(cat "$state")"
  [ "${st[version]}" = 2 ] || fail "$what: state version ${st[version]}"
  [ "${st[vm.name]}" = "$name" ] || fail "$what: vm.name ${st[vm.name]}"
  [ "${st[vm.moref]}" = "$moref" ] || fail "$what: vm.moref ${st[vm.moref]}"
  [ -n "${st[vm.instance_uuid]}" ] && [ "${st[vm.instance_uuid]}" != null ] || fail "$what: no vm.instance_uuid"
  [ "${st[cycle]}" = "$c" ] || fail "$what: state cycle ${st[cycle]}"
  [ "${st[ndisks]}" = "$ndisks" ] || fail "$what: state has ${st[ndisks]} disks"
  # The summary.
  while IFS=$'\t' read -r k v; do js[$k]=$v; done < <(jq -r '
    ["result", .result], ["vm.moref", .vm.moref], ["vm.name", .vm.name], ["cycle", .cycle],
    ["snapshot", .snapshot], ["seconds", .seconds], ["bytes_copied", .bytes_copied],
    ["bytes_to_copy", .bytes_to_copy], ["sum", ([.disks[].bytes_to_copy] | add)],
    (.disks[] | .key as $k |
      (["output", "mode", "reason", "size", "bytes_to_copy", "change_id"][] as $f | ["\($k).\($f)", .[$f]]))
    | map(tostring) | join("\t")' "$VCSIM_DIR/sync.out") || fail "$what: the summary is not JSON"
  [ "${js[result]}" = ok ] || fail "$what: summary result ${js[result]}"
  [ "${js[vm.moref]}" = "$moref" ] || fail "$what: summary vm.moref"
  [ "${js[vm.name]}" = "$name" ] || fail "$what: summary vm.name"
  [ "${js[cycle]}" = "$c" ] || fail "$what: summary cycle ${js[cycle]}"
  [ -n "${js[snapshot]}" ] && [ "${js[snapshot]}" != null ] || fail "$what: no snapshot in the summary"
  awk -v t="${js[seconds]}" 'BEGIN { exit !(t >= 0) }' || fail "$what: seconds ${js[seconds]}"
  [ "${js[bytes_copied]}" -le "${js[bytes_to_copy]}" ] || fail "$what: copied more than there was to copy"
  [ "${js[sum]}" = "${js[bytes_to_copy]}" ] || fail "$what: bytes_to_copy is not the sum of the disks'"
  for ((n = 0; n < ndisks; n++)); do
    key=${keys[n]}
    out=${dir[$s]}/$name-disk$n.${ext[$s]}
    fmt=${ext[$s]}
    # Named relative to the state file's directory.
    [ "${st[$key.output]}" = "${out##*/}" ] || fail "$what: disk $key output ${st[$key.output]}, want ${out##*/}"
    [ "${st[$key.whole]}" = true ] || fail "$what: disk $key is not whole"
    [ "${st[$key.format]}" = "$fmt" ] || fail "$what: disk $key format ${st[$key.format]}"
    [ "${st[$key.size]}" = "${sizes[n]}" ] || fail "$what: disk $key size ${st[$key.size]}"
    [ -n "${st[$key.label]}" ] && [ "${st[$key.label]}" != null ] || fail "$what: disk $key has no label"
    [ "${st[$key.path]}" = "[${datastores[n]}] $name/disk$n.vmdk" ] || fail "$what: disk $key path ${st[$key.path]}"
    cid=${st[$key.change_id]}
    [ "${js[$key.change_id]}" = "$cid" ] ||
      fail "$what: disk $key: the summary's changeId ${js[$key.change_id]} is not the state's $cid"
    [ "${js[$key.size]}" = "${sizes[n]}" ] || fail "$what: disk $key: summary size"
    prev=${prev_change[$s,$key]:-}
    if [ -n "$prev" ]; then
      [ "$(change_uuid "$cid")" = "$(change_uuid "$prev")" ] ||
        fail "$what: disk $key changeId epoch changed: $prev -> $cid"
      [ "$(change_seq "$cid")" -gt "$(change_seq "$prev")" ] ||
        fail "$what: disk $key changeId did not advance: $prev -> $cid"
      [ "${js[$key.mode]}" = incremental ] || fail "$what: disk $key copied ${js[$key.mode]} (${js[$key.reason]})"
      [ "${js[$key.reason]}" = null ] || fail "$what: disk $key: reason for an incremental copy"
      # Only what CBT says changed (it is exact in the simulator, per
      # 64 KiB block).
      [ "${js[$key.bytes_to_copy]}" -le "$(expected_bytes "$n")" ] ||
        fail "$what: disk $key: ${js[$key.bytes_to_copy]} bytes to copy, but only $(expected_bytes "$n") changed"
      if [ "$(expected_bytes "$n")" -gt 0 ] && [ "${js[$key.bytes_to_copy]}" -eq 0 ]; then
        fail "$what: disk $key: nothing to copy, but $(expected_bytes "$n") bytes changed"
      fi
    else
      [ "${js[$key.mode]}" = full ] || fail "$what: disk $key: first copy not full"
      [ "${js[$key.reason]}" != null ] && [ -n "${js[$key.reason]}" ] || fail "$what: disk $key: no reason for the full copy"
    fi
    prev_change[$s,$key]=$cid
    # The bytes.
    if [ "$s" = overlay ]; then
      if [ "$c" -gt 1 ] && [ "${js[$key.bytes_to_copy]}" -gt 0 ]; then
        ov_count[$key]=$(( ${ov_count[$key]:-0} + 1 ))
        ov_cycle[$key,${ov_count[$key]}]=$c
      fi
      want_overlays=${ov_count[$key]:-0}
      [ "${st[$key.overlays]}" = "$want_overlays" ] ||
        fail "$what: disk $key has ${st[$key.overlays]} overlays, want $want_overlays"
      for ((i = 1; i <= ${st[$key.overlays]}; i++)); do
        [ "${st[$key.overlay.$i]}" = "${out##*/}.$i.qcow2" ] ||
          fail "$what: disk $key: overlay $i is ${st[$key.overlay.$i]}, want ${out##*/}.$i.qcow2"
      done
      [ ! -e "$out.$(( ${st[$key.overlays]} + 1 )).qcow2" ] || fail "$what: an unlisted overlay"
      if [ "${st[$key.overlays]}" -gt 0 ]; then
        top=$out.${st[$key.overlays]}.qcow2
        # The summary names the base or the cycle's overlay.
        [ "${js[$key.output]}" = "$out" ] || [ "${js[$key.output]}" = "$top" ] ||
          fail "$what: disk $key: summary output ${js[$key.output]}, want $top or $out"
        same_image "$what, disk $n" "${model[n]}" "$top" qcow2
        # The chain ends at the base.
        [ "$(qemu-img info --backing-chain "$top" | grep -c '^image: ')" = $(( ${st[$key.overlays]} + 1 )) ] ||
          fail "$what: the chain of $top: $(qemu-img info --backing-chain "$top" | grep '^image: ')"
      else
        [ "${js[$key.output]}" = "$out" ] || fail "$what: disk $key: summary output ${js[$key.output]}"
        same_image "$what, disk $n" "${model[n]}" "$out" raw
      fi
    else
      [ "${js[$key.output]}" = "$out" ] || fail "$what: disk $key: summary output ${js[$key.output]}"
      [ "${st[$key.overlays]}" = 0 ] || fail "$what: disk $key has overlays"
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
  times=
  for s in "${sets[@]}"; do
    t0=$(date +%s%N)
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
    t1=$(date +%s%N)
    check_set "$s" "$c"
    times+=" $s $(( (t1 - t0) / 1000000 ))+$(( ($(date +%s%N) - t1) / 1000000 )) ms"
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
  echo "ok: cycle $c: $writes_this_cycle writes, $total bytes changed, 3 output sets exact ($(( $(date +%s) - start )) s;$times)"
  touched=()
done

# Every overlay still holds the disk as it was at its cycle, and the
# base the first cycle.
for ((n = 0; n < ndisks; n++)); do
  out=${dir[overlay]}/$name-disk$n.raw
  [ "$(sha256sum < "$out")" = "${model_hash[1,$n]}" ] ||
    fail "disk $n: the base of the overlay chain changed after the first cycle"
  key=${keys[n]}
  for ((i = 1; i <= ${ov_count[$key]:-0}; i++)); do
    c=${ov_cycle[$key,$i]}
    qemu-img convert -f qcow2 -O raw "$out.$i.qcow2" "$VCSIM_DIR/past.img"
    [ "$(sha256sum < "$VCSIM_DIR/past.img")" = "${model_hash[$c,$n]}" ] ||
      fail "disk $n: overlay $i does not hold cycle $c any more"
  done
done
echo "ok: every overlay holds its own cycle"

sync_done
