#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2016,SC2046,SC2086,SC2207
# A full destination: outputs (raw, qcow2 in place, an overlay chain)
# on a small file system that fills up in the middle of a cycle, and a
# state file on a file system with no room left for the new state.
# Each time the cycle fails with exit status 1 and a clear message
# (also in --json), the state is byte-identical, no snapshot is left;
# once there is room again, the next cycle repairs every output.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start

# small_fs DIR SIZE: a file system of SIZE bytes at DIR: tmpfs, or
# else ext4 on a loop device; exit 77 when neither can be mounted.
small_fs ()
{
  mkdir -p "$1"
  if [ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null; then
    vcsim_on_exit "umount '$1'"
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null; then
    truncate -s "$2" "$1.img"
    if mkfs.ext4 -q -m 0 "$1.img" && mount -o loop "$1.img" "$1" 2>/dev/null; then
      vcsim_on_exit "umount '$1'"
      return 0
    fi
  fi
  echo "$0: test skipped: cannot mount a small file system (needs root, tmpfs or loop devices)"
  exit 77
}

# fill FS [LEAVE]: fill file system FS, leaving about LEAVE bytes free.
fill ()
{
  dd if=/dev/urandom of="$1/filler" bs=64K status=none 2>/dev/null || true
  sync
  if [ "${2:-0}" -gt 0 ]; then
    truncate -s $(( $(stat -c %s "$1/filler") - $2 )) "$1/filler"
  fi
}

name=space-vm
vm=DC0/vm/$name
new_vm "$vm" >/dev/null
# Disk 0: 8 MiB, 1 MiB of data; disk 1: 4 MiB of data.
model0=$VCSIM_DIR/model0.img
model1=$VCSIM_DIR/model1.img
truncate -s $((8 << 20)) "$model0"
head -c $((1 << 20)) /dev/urandom | dd of="$model0" conv=notrunc status=none
make_image "$model1" 4
keys[0]=$(add_disk "$vm" LocalDS_0 "$name/disk0" "$model0")
keys[1]=$(add_disk "$vm" LocalDS_1 "$name/disk1" "$model1")
params=($(server_params "$vm"))

fs=$VCSIM_DIR/small
small_fs "$fs" $((40 << 20))
sets=(raw qcow2 overlay)
declare -A opts ext
opts[raw]="-f raw"; ext[raw]=raw
opts[qcow2]="-f qcow2"; ext[qcow2]=qcow2
opts[overlay]="--overlay"; ext[overlay]=raw

# check_set SET: every output of SET exact.
check_set ()
{
  local s=$1 d=$fs/$1 top n model
  for n in 0 1; do
    model=$VCSIM_DIR/model$n.img
    if [ "$s" = overlay ]; then
      top=$(state_path "$d/$name.vsphere-sync.json" "$(jq -r --argjson k "${keys[n]}" \
            '.disks[] | select(.key == $k) | if (.overlays | length) > 0 then .overlays[-1] else .output end' \
            "$d/$name.vsphere-sync.json")")
      case $top in *.qcow2) same_image "$s, disk $n" "$model" "$top" qcow2 ;;
                   *) same_image "$s, disk $n" "$model" "$top" raw ;; esac
    else
      same_image "$s, disk $n" "$model" "$d/$name-disk$n.${ext[$s]}" "${ext[$s]}"
    fi
  done
}

for s in "${sets[@]}"; do
  mkdir "$fs/$s"
  sync_ok "first cycle, $s" ${opts[$s]} -o "$fs/$s" -- "${params[@]}"
  check_set "$s"
done
echo "ok: first cycles fit: $(df -k --output=used "$fs" | tail -n1) KiB used"

# 4 MiB of new data where the outputs are still sparse; about 512 KiB
# of room.
model_write "$vm" 0 "$model0" $((3 << 20)) $((4 << 20))
model_write "$vm" 1 "$model1" 0 100000
fill "$fs" $((512 << 10))
# The check before the copy sees that 4 MiB will not fit.
state=$fs/raw/$name.vsphere-sync.json
cp "$state" "$VCSIM_DIR/state.before"
sync_fails "raw, too little room" 1 "not enough free space in $fs/raw for this cycle: it needs [0-9.]* MiB" -f raw -o "$fs/raw" -- "${params[@]}"
cmp -s "$state" "$VCSIM_DIR/state.before" || fail "the state changed after the space check"
check_no_snapshot "$vm" "raw, too little room"
# Past the check, a write that finds no room fails the cycle cleanly.
for s in "${sets[@]}"; do
  state=$fs/$s/$name.vsphere-sync.json
  cp "$state" "$VCSIM_DIR/state.before"
  sync_fails "$s, destination full" 1 "[Nn]o space|ENOSPC|is full|disk full" ${opts[$s]} --no-space-check --json -o "$fs/$s" -- "${params[@]}"
  grep -Eq -- "$fs/$s|$name-disk0" "$VCSIM_DIR/sync.err" ||
    fail "$s: the message does not name the output: $(cat "$VCSIM_DIR/sync.err")"
  jq -e '.result == "failed" and (.error | test("no space|ENOSPC|is full|disk full"; "i"))' "$VCSIM_DIR/sync.out" >/dev/null ||
    fail "$s: the --json summary: $(cat "$VCSIM_DIR/sync.out")"
  same_state_but_whole "$VCSIM_DIR/state.before" "$state" "$s: after a failed cycle"
  check_no_snapshot "$vm" "$s, destination full"
done

# Room again: the next cycle repairs.
rm "$fs/filler"
for s in "${sets[@]}"; do
  sync_ok "$s, with room again" --json ${opts[$s]} -o "$fs/$s" -- "${params[@]}"
  check_set "$s"
  [ "$(jq -r .cycle "$fs/$s/$name.vsphere-sync.json")" = 2 ] || fail "$s: the state after the repair: cycle $(jq -r .cycle "$fs/$s/$name.vsphere-sync.json")"
done
echo "ok: with room again, the next cycle repairs every output"

# The state's own file system is full: the copies fit, the new state
# does not.
sfs=$VCSIM_DIR/statefs
small_fs "$sfs" $((256 << 10))
mkdir "$VCSIM_DIR/out"
state=$sfs/$name.json
sync_ok "state on a small file system" --state "$state" -o "$VCSIM_DIR/out" -- "${params[@]}"
cp "$state" "$VCSIM_DIR/state.before"
model_write "$vm" 0 "$model0" 0 300000
model_write "$vm" 1 "$model1" $((2 << 20)) 300000
fill "$sfs"
sync_fails "no room for the state" 1 "[Nn]o space|ENOSPC|is full|disk full" --no-space-check --json --state "$state" -o "$VCSIM_DIR/out" -- "${params[@]}"
grep -q -- "$sfs" "$VCSIM_DIR/sync.err" || fail "the message does not name the state file: $(cat "$VCSIM_DIR/sync.err")"
jq -e '.result == "failed"' "$VCSIM_DIR/sync.out" >/dev/null || fail "--json: $(cat "$VCSIM_DIR/sync.out")"
cmp -s "$state" "$VCSIM_DIR/state.before" || fail "the state changed when it could not be written"
[ -z "$(find "$sfs" -name "*$name*" ! -name "$name.json")" ] ||
  fail "temporary state files are left: $(ls -a "$sfs")"
check_no_snapshot "$vm" "no room for the state"
rm "$sfs/filler"
sync_ok "room for the state again" --state "$state" -o "$VCSIM_DIR/out" -- "${params[@]}"
same_image "room for the state again, disk 0" "$model0" "$VCSIM_DIR/out/$name-disk0.raw" raw
same_image "room for the state again, disk 1" "$model1" "$VCSIM_DIR/out/$name-disk1.raw" raw
echo "ok: no room for the state: the cycle fails, the state stays, the next cycle is exact"

sync_done
