#!/usr/bin/env bash
# Model-based test of incremental sync: 20 cycles of random guest writes
# (random sizes, across CBT page boundaries, at the last block, some
# all zeros) each followed by one vsphere-sync cycle into a raw image in
# place, a qcow2 image in place and a qcow2 overlay chain.  After every
# cycle each output equals the model byte for byte, and an incremental
# cycle reads little more than what changed.
set -euo pipefail
source "$srcdir/functions.sh"
requires qemu-nbd
export NBDKIT_VSPHERE_PLUGIN NBDKIT_CBT_FILTER
sync_tool=$abs_top_srcdir/scripts/vsphere-sync

vcsim_start
size=$((8 * 1024 * 1024))
model=$VCSIM_DIR/model.img
make_image "$model" 8
vm=DC0/vm/sync-vm
add_vm "$vm" "$model" "power=on&cbt=1"
# Small CBT pages, so that every query is answered in several pages.
vcsim_ctl POST "/knobs?cbt_page=1048576" >/dev/null
# shellcheck disable=SC2046
params=($(vsphere_server_args) "vm=$vm")

seed=${SYNC_TEST_SEED:-$$}
RANDOM=$seed
echo "random seed: $seed (SYNC_TEST_SEED=$seed to repeat)"

# guest_write OFFSET LENGTH [zero]: write to the VM and to the model.
guest_write ()
{
  local off=$1 len=$2
  if [ "${3:-}" = zero ]; then
    head -c "$len" /dev/zero > "$VCSIM_DIR/w"
  else
    head -c "$len" /dev/urandom > "$VCSIM_DIR/w"
  fi
  vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=$off" --data-binary "@$VCSIM_DIR/w" >/dev/null
  dd if="$VCSIM_DIR/w" of="$model" bs=64K oflag=seek_bytes seek="$off" conv=notrunc status=none
}

random_writes ()
{
  local n=$((RANDOM % 4 + 1)) i off len
  for ((i = 0; i < n; i++)); do
    len=$(( (RANDOM * 32768 + RANDOM) % 200000 + 1 ))
    case $((RANDOM % 4)) in
      0) off=$(( (RANDOM % 7 + 1) * 1048576 - len / 2 )) ;;  # across a page
      1) off=$(( size - len )) ;;                            # the last block
      *) off=$(( (RANDOM * 32768 + RANDOM) % (size - len) )) ;;
    esac
    if [ $((RANDOM % 5)) -eq 0 ]; then
      guest_write "$off" "$len" zero
    else
      guest_write "$off" "$len"
    fi
  done
}

sync_one ()
{
  "$sync_tool" "$@" -- "${params[@]}" 2> "$VCSIM_DIR/sync.err" || {
    cat "$VCSIM_DIR/sync.err" >&2
    fail "vsphere-sync $* failed"
  }
}

check_outputs ()
{
  cmp "$model" "$VCSIM_DIR/out.raw" || fail "cycle $1: raw image differs"
  qemu-img compare -q -f raw -F qcow2 "$model" "$VCSIM_DIR/out.qcow2" ||
    fail "cycle $1: qcow2 image differs"
  top=$(sed -n 's/^top=//p' "$VCSIM_DIR/chain.raw.vsphere-sync")
  top_format=qcow2
  [ "$top" != "$VCSIM_DIR/chain.raw" ] || top_format=raw
  qemu-img compare -q -f raw -F "$top_format" "$model" "$top" ||
    fail "cycle $1: overlay chain $top differs"
  [ -z "$(vcsim_ctl GET "/snapshots?vm=$vm")" ] || fail "cycle $1: snapshot left behind"
}

run_cycle ()
{
  sync_one -o "$VCSIM_DIR/out.qcow2"
  sync_one -o "$VCSIM_DIR/chain.raw" --overlay
  vcsim_ctl POST /counters/reset >/dev/null
  sync_one -o "$VCSIM_DIR/out.raw"
  # Efficiency, on the raw cycle: the bytes read against what changed.
  changed=$(sed -n 's/.*copied \([0-9]*\) bytes.*/\1/p' "$VCSIM_DIR/sync.err")
  read_bytes=$(vcsim_ctl GET /counters | sed -n 's/^folder_bytes=//p')
  if grep -q "incremental copy" "$VCSIM_DIR/sync.err"; then
    [ "$read_bytes" -le $(( changed * 11 / 10 + 1048576 )) ] ||
      fail "cycle $1: read $read_bytes bytes for $changed changed bytes"
  fi
  check_outputs "$1"
  echo "ok: cycle $1: $changed changed bytes, $read_bytes bytes read"
}

run_cycle 0
grep -q "full copy" "$VCSIM_DIR/sync.err" || fail "the first cycle is not a full copy"
for cycle in $(seq 1 20); do
  random_writes
  run_cycle "$cycle"
  grep -q "incremental copy" "$VCSIM_DIR/sync.err" ||
    fail "cycle $cycle was not incremental: $(cat "$VCSIM_DIR/sync.err")"
done
[ "$(ls "$VCSIM_DIR"/chain.*.qcow2 | wc -l)" -eq 20 ] ||
  fail "the overlay chain should have 20 overlays: $(ls "$VCSIM_DIR")"

# A CBT reset: the next cycle says why and makes a full copy.
random_writes
vcsim_ctl POST "/cbt/reset?vm=$vm" >/dev/null
sync_one -o "$VCSIM_DIR/out.raw"
grep -q "full copy needed: .*CBT was reset" "$VCSIM_DIR/sync.err" ||
  fail "no full copy after a CBT reset: $(cat "$VCSIM_DIR/sync.err")"
cmp "$model" "$VCSIM_DIR/out.raw" || fail "raw image differs after the CBT reset"
[ -z "$(vcsim_ctl GET "/snapshots?vm=$vm")" ] || fail "snapshot left after the CBT reset"
echo "ok: CBT reset gives a full copy: $(grep -m1 'full copy needed' "$VCSIM_DIR/sync.err")"
# The overlay chain's full copy replaces its base; the 20 overlays made
# on the old base go, and the next cycle starts a new chain.
sync_one -o "$VCSIM_DIR/chain.raw" --overlay
grep -q "removed 20 overlays made on the replaced base" "$VCSIM_DIR/sync.err" ||
  fail "stale overlays not removed: $(cat "$VCSIM_DIR/sync.err")"
[ -z "$(ls "$VCSIM_DIR"/chain.*.qcow2 2>/dev/null)" ] ||
  fail "overlays left after the full copy: $(ls "$VCSIM_DIR"/chain.*)"
cmp "$model" "$VCSIM_DIR/chain.raw" || fail "overlay base differs after the full copy"
random_writes
sync_one -o "$VCSIM_DIR/chain.raw" --overlay
[ "$(ls "$VCSIM_DIR"/chain.*.qcow2)" = "$VCSIM_DIR/chain.1.qcow2" ] ||
  fail "the new chain: $(ls "$VCSIM_DIR"/chain.*)"
qemu-img compare -q -f raw -F qcow2 "$model" "$VCSIM_DIR/chain.1.qcow2" ||
  fail "the new chain's first overlay differs"
echo "ok: a full copy in --overlay mode starts a new chain and removes the old overlays"

# A cycle killed in the middle of its copy: the state does not move, no
# snapshot stays behind, and the next cycle ends byte-exact.
random_writes
guest_write 0 $((4 * 1024 * 1024))
state_before=$(cat "$VCSIM_DIR/out.raw.vsphere-sync")
vcsim_ctl POST "/knobs?bandwidth=100000" >/dev/null
"$sync_tool" -o "$VCSIM_DIR/out.raw" -- "${params[@]}" 2> "$VCSIM_DIR/killed.err" &
sync_pid=$!
for _ in $(seq 100); do
  grep -q "bytes to copy" "$VCSIM_DIR/killed.err" 2>/dev/null && break
  sleep 0.1
done
sleep 1
kill -TERM "$sync_pid"
if wait "$sync_pid"; then fail "the killed cycle reported success"; fi
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null
[ "$(cat "$VCSIM_DIR/out.raw.vsphere-sync")" = "$state_before" ] ||
  fail "the state advanced after a killed cycle"
[ -z "$(vcsim_ctl GET "/snapshots?vm=$vm")" ] || {
  tr "\r" "\n" < "$VCSIM_DIR/killed.err" | grep -v "%" >&2
  fail "a snapshot was left by the killed cycle"
}
echo "ok: killed cycle: state unchanged, no snapshot left"
sync_one -o "$VCSIM_DIR/out.raw"
cmp "$model" "$VCSIM_DIR/out.raw" || fail "raw image differs after the killed cycle"
echo "ok: the cycle after the killed one is byte-exact"

# Pointed at another, larger disk: the state does not fit, so a full copy.
other=$VCSIM_DIR/other.img
make_image "$other" 9
add_vm "DC0/vm/other-vm" "$other" "power=on&cbt=1"
# shellcheck disable=SC2046
"$sync_tool" -o "$VCSIM_DIR/out.raw" -- $(vsphere_server_args) vm=DC0/vm/other-vm \
  2> "$VCSIM_DIR/sync.err" || fail "sync of another disk failed: $(cat "$VCSIM_DIR/sync.err")"
grep -q "full copy needed" "$VCSIM_DIR/sync.err" ||
  fail "no full copy for another disk: $(cat "$VCSIM_DIR/sync.err")"
cmp "$other" "$VCSIM_DIR/out.raw" || fail "raw image differs after switching disks"
echo "ok: another disk gives a full copy: $(grep -m1 'full copy needed' "$VCSIM_DIR/sync.err")"
