#!/usr/bin/env bash
# vsphere-sync: --enable-cbt turns CBT on only when asked; --final
# shuts the guest down, copies the last changes from the powered-off
# VM and leaves it off; --power-off-after cuts the power of a guest that
# does not shut down, or cannot be asked (no VMware Tools).
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
vm=DC0/vm/cutover
make_image "$VCSIM_DIR/m0.img" 8
add_vm "$vm" "$VCSIM_DIR/m0.img" "power=on"
out=$VCSIM_DIR/out
state=$out/cutover.vsphere-sync.json
mkdir "$out"
params=($(server_params "$vm"))
power () { vcsim_ctl GET "/vm/power?vm=$vm"; }

# CBT off: refused with how to fix it, and nothing changed on the VM.
sync_fails "CBT off" 1 "does not have Changed Block Tracking on.*--enable-cbt" \
  -o "$out" -- "${params[@]}"
check_no_snapshot "$vm" "CBT off"
[ ! -e "$state" ] || fail "a refused cycle wrote a state"
sync_ok "--enable-cbt" --json --enable-cbt -o "$out" -- "${params[@]}"
grep -q "turning on Changed Block Tracking" "$VCSIM_DIR/sync.err" ||
  fail "--enable-cbt said nothing: $(cat "$VCSIM_DIR/sync.err")"
same_image "after --enable-cbt" "$VCSIM_DIR/m0.img" "$out/cutover-disk0.raw" raw
[ "$(state_get "$state" '.disks[0].change_id | length > 0')" = true ] ||
  fail "no changeId after --enable-cbt: $(cat "$state")"
check_no_snapshot "$vm" "--enable-cbt"
echo "ok: --enable-cbt turns CBT on and copies"

# --final: a guest that takes 2 s to shut down; the last writes, made
# before it does, are copied; the VM stays off.
model_write "$vm" 0 "$VCSIM_DIR/m0.img" 123456 50000
vcsim_ctl POST "/knobs?guest_shutdown=2s" >/dev/null
sync_ok "--final" --json --final -o "$out" -- "${params[@]}"
[ "$(power)" = poweredOff ] || fail "--final left the VM $(power)"
same_image "--final" "$VCSIM_DIR/m0.img" "$out/cutover-disk0.raw" raw
[ "$(json_disk 2000 mode)" = incremental ] || fail "--final: $(cat "$VCSIM_DIR/sync.out")"
check_no_snapshot "$vm" "--final"
echo "ok: --final waits for the guest, copies the last changes and leaves the VM off"

# A VM that is off already: --final goes straight to the cycle.
sync_ok "--final, VM off" --final -o "$out" -- "${params[@]}"
[ "$(power)" = poweredOff ] || fail "the VM was powered on"
echo "ok: --final on a powered-off VM"

# No VMware Tools: without --power-off-after, an error that says what
# to do, the VM still on, the state as it was.
vcsim_ctl POST "/vm/power?vm=$vm&state=on" >/dev/null
vcsim_ctl POST "/knobs?guest_shutdown=no_tools" >/dev/null
before=$(cat "$state")
sync_fails "--final without Tools" 1 "VMware Tools is not running.*--power-off-after" \
  --final -o "$out" -- "${params[@]}"
[ "$(power)" = poweredOn ] || fail "the VM was powered off without --power-off-after"
[ "$(cat "$state")" = "$before" ] || fail "a failed --final changed the state"
check_no_snapshot "$vm" "--final without Tools"
sync_ok "--final --power-off-after without Tools" --final --power-off-after 30 \
  -o "$out" -- "${params[@]}"
[ "$(power)" = poweredOff ] || fail "--power-off-after left the VM $(power)"
echo "ok: without Tools, --power-off-after powers off at once"

# A guest that ignores the request is powered off after the delay.
vcsim_ctl POST "/vm/power?vm=$vm&state=on" >/dev/null
vcsim_ctl POST "/knobs?guest_shutdown=ignore" >/dev/null
model_write "$vm" 0 "$VCSIM_DIR/m0.img" $((5 << 20)) 70000
start=$(date +%s)
sync_ok "--power-off-after 2" --final --power-off-after 2 -o "$out" -- "${params[@]}"
took=$(( $(date +%s) - start ))
[ "$(power)" = poweredOff ] || fail "the ignored shutdown left the VM $(power)"
[ "$took" -ge 2 ] && [ "$took" -lt 30 ] || fail "--power-off-after 2 took $took s"
same_image "after a forced power-off" "$VCSIM_DIR/m0.img" "$out/cutover-disk0.raw" raw
echo "ok: --power-off-after 2 powers off a guest that ignores the request ($took s)"

sync_fails "--power-off-after without --final" 2 "only with --final" \
  --power-off-after 5 -o "$out" -- "${params[@]}"

# An independent disk is not frozen by a snapshot: refused while the VM
# runs, copied once --final has powered it off.
vcsim_ctl POST "/vm/power?vm=$vm&state=on" >/dev/null
make_image "$VCSIM_DIR/m1.img" 4
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_1&name=cutover/scratch&image=$VCSIM_DIR/m1.img&mode=independent_persistent" >/dev/null
before=$(cat "$state")
sync_fails "an independent disk while the VM runs" 1 "is independent.*--final" \
  -o "$out" -- "${params[@]}"
[ "$(cat "$state")" = "$before" ] || fail "the refused cycle changed the state"
check_no_snapshot "$vm" "the refused cycle"
vcsim_ctl POST "/knobs?guest_shutdown=now" >/dev/null
sync_ok "an independent disk with --final" --final -o "$out" -- "${params[@]}"
same_image "the independent disk" "$VCSIM_DIR/m1.img" "$out/cutover-disk1.raw" raw
echo "ok: an independent disk is copied only from the powered-off VM"
sync_done
