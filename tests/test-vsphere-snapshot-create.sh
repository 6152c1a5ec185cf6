#!/usr/bin/env bash
# snapshot=create reads a consistent image and never leaves its
# snapshot behind: not after a normal exit, not after an error, not
# while another task holds the VM, not after SIGTERM in the middle of a
# copy.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 16
vm=DC0/vm/temp-snap
add_vm "$vm" "$img" "power=on"
sessions=$(vcsim_ctl GET /sessions)

snapshot_count_is_zero () { [ -z "$(vcsim_ctl GET "/snapshots?vm=$vm")" ]; }
no_snapshots ()
{
  eventually snapshot_count_is_zero ||
    fail "snapshot left behind after $1: $(vcsim_ctl GET "/snapshots?vm=$vm")"
  echo "ok: no snapshot left after $1"
}

# Normal exit; the guest writes during the copy but the copy is frozen.
nbdkit_vsphere "vm=$vm" snapshot=create --run "
  curl -sf -X POST --data-binary @$VCSIM_DIR/src.img '$VCSIM_CONTROL/disk/write?vm=$vm&disk=0&offset=0' >/dev/null &&
  nbdinfo \"\$uri\" | grep -q 'temporary snapshot nbdkit-vsphere-[0-9a-f]\{32\} snapshot-' &&
  nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
same_bytes "$img" "$VCSIM_DIR/out.raw"
no_snapshots "a normal exit"

# An error after the snapshot was taken (no such disk).
if nbdkit_vsphere "vm=$vm" snapshot=create disk=5 --run true 2>"$VCSIM_DIR/err"; then
  fail "disk=5 should fail"
fi
grep -q "disk=5" "$VCSIM_DIR/err" || fail "no disk error: $(cat "$VCSIM_DIR/err")"
no_snapshots "a start-up error"

# Another task holds the VM (TaskInProgress): taking and removing the
# snapshot wait for it; past timeout= the snapshot is not taken, and the
# message says why.
busy_left_is () { vcsim_ctl GET /knobs | grep -qx "busy_tasks=$1"; }
vcsim_ctl POST "/knobs?busy_tasks=2" >/dev/null
nbdkit_vsphere "vm=$vm" snapshot=create --run "
  curl -sf -X POST '$VCSIM_CONTROL/knobs?busy_tasks=2' >/dev/null &&
  nbdcopy \"\$uri\" $VCSIM_DIR/busy.raw"
same_bytes "$img" "$VCSIM_DIR/busy.raw"
eventually busy_left_is 0 || fail "the removal did not meet the busy VM"
no_snapshots "waiting out a busy VM"
vcsim_ctl POST "/knobs?busy_tasks=1000" >/dev/null
expect_error 'creating snapshot .* failed: another task kept the VM busy \(TaskInProgress\) for 3 s' \
  "vm=$vm" snapshot=create timeout=3
vcsim_ctl POST "/knobs?busy_tasks=0" >/dev/null
no_snapshots "giving up on a busy VM"

# SIGTERM or SIGINT to nbdkit in the middle of a slow copy.
vcsim_ctl POST "/knobs?bandwidth=2000000" >/dev/null
for sig in TERM INT; do
  rm -f "$VCSIM_DIR/sock"
  nbdkit -f -U "$VCSIM_DIR/sock" "$NBDKIT_VSPHERE_PLUGIN" \
    $(vsphere_server_args) "vm=$vm" snapshot=create connections=2 &
  nbdkit_job=$!
  vcsim_on_exit "kill -9 $nbdkit_job 2>/dev/null || true"
  for _ in $(seq 100); do [ -S "$VCSIM_DIR/sock" ] && break; sleep 0.1; done
  [ -S "$VCSIM_DIR/sock" ] || fail "nbdkit did not start"
  [ -n "$(vcsim_ctl GET "/snapshots?vm=$vm")" ] || fail "no snapshot was taken"
  nbdcopy "nbd+unix:///?socket=$VCSIM_DIR/sock" null: &
  copy_job=$!
  sleep 1
  kill -"$sig" "$nbdkit_job"
  wait "$nbdkit_job" || true
  if wait "$copy_job"; then fail "the copy should have been cut short by SIG$sig"; fi
  no_snapshots "SIG$sig during a copy"
done
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null

# Sessions are logged out at exit.
sessions_back () { [ "$(vcsim_ctl GET /sessions)" = "$sessions" ]; }
eventually sessions_back ||
  fail "sessions left: $(vcsim_ctl GET /sessions), expected $sessions"
echo "ok: every session logged out"
