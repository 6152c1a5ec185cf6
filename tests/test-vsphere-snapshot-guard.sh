#!/usr/bin/env bash
# Temporary snapshots never outlive the run: signals during start-up,
# to nbdkit or its whole process group; nbdkit crashing in the middle
# of a copy; a vCenter that restarts just as the snapshot is removed;
# snapshots that dead runs left behind; and the cbt filter, which takes
# the plugin's snapshot by moref and releases the plugin when it fails.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
requires setsid
ulimit -c 0

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 16
vm=DC0/vm/guarded
add_vm "$vm" "$img" "power=on"
err=$VCSIM_DIR/nbdkit.err
sock=$VCSIM_DIR/sock

snapshots () { vcsim_ctl GET "/snapshots?vm=${1:-$vm}"; }
no_snapshot () { [ -z "$(snapshots "$@")" ]; }
has_snapshot () { [ -n "$(snapshots "$@")" ]; }
expect_no_snapshot ()
{
  eventually no_snapshot || fail "snapshot left behind after $1: $(snapshots)"
  echo "ok: no snapshot left after $1"
}

# start_nbdkit PARAMS...: nbdkit serving $sock in the background, in a
# process group of its own (pid = pgid = $nbdkit_pid), with -v.
start_nbdkit ()
{
  rm -f "$sock"
  : > "$err"
  # A background job starts with SIGINT ignored; Ctrl-C would reach a
  # foreground nbdkit with it in place.
  # shellcheck disable=SC2046
  setsid env --default-signal=INT nbdkit -f -v -U "$sock" "$NBDKIT_VSPHERE_PLUGIN" \
    $(vsphere_server_args) "vm=$vm" snapshot=create "$@" 2>"$err" &
  nbdkit_pid=$!
  vcsim_on_exit "kill -9 $nbdkit_pid 2>/dev/null || true"
}
serving () { [ -S "$sock" ]; }
# end_nbdkit WHAT: wait for nbdkit to exit, 30 s at most.
nbdkit_gone () { ! kill -0 "$nbdkit_pid" 2>/dev/null; }
end_nbdkit ()
{
  local i
  for i in $(seq 300); do nbdkit_gone && break; sleep 0.1; done
  nbdkit_gone || { kill -9 "$nbdkit_pid"; fail "nbdkit did not exit after $1"; }
  wait "$nbdkit_pid" || true
}

# 1. A signal during start-up, after the snapshot was taken: nbdkit has
# no signal handlers yet and dies at once.  /folder latency holds it in
# start-up while it reads the disk's descriptor.
vcsim_ctl POST "/knobs?latency=2s" >/dev/null
for sig in TERM INT; do
  for to in nbdkit group; do
    start_nbdkit
    eventually has_snapshot || fail "no snapshot was taken: $(cat "$err")"
    ! serving || fail "nbdkit was already serving: the test needs more latency"
    if [ $to = group ]; then kill -$sig -- -"$nbdkit_pid"; else kill -$sig "$nbdkit_pid"; fi
    end_nbdkit "SIG$sig"
    expect_no_snapshot "SIG$sig to the $to during start-up"
  done
done
vcsim_ctl POST "/knobs?latency=0" >/dev/null

# 2. nbdkit dies in the middle of a copy, as nbdkit 1.32 may abort on an
# assertion when its client goes away.  (A sanitizer would take the
# SIGSEGV sent here for a crash of its own.)
vcsim_ctl POST "/knobs?bandwidth=2000000" >/dev/null
asan_options=${ASAN_OPTIONS-}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
for sig in KILL ABRT SEGV; do
  start_nbdkit connections=2
  eventually serving || fail "nbdkit did not start: $(cat "$err")"
  nbdcopy "nbd+unix:///?socket=$sock" null: 2>/dev/null &
  copy_pid=$!
  sleep 1
  kill -$sig "$nbdkit_pid"
  end_nbdkit "SIG$sig"
  wait "$copy_pid" || true
  expect_no_snapshot "SIG$sig to nbdkit during a copy"
  # The guardian speaks once vCenter has removed it, maybe a moment
  # after the snapshot is gone from the list.
  eventually grep -q "the guardian removed it" "$err" ||
    fail "the guardian said nothing: $(cat "$err")"
done
ASAN_OPTIONS=$asan_options
[ -n "$ASAN_OPTIONS" ] || unset ASAN_OPTIONS
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null

# 3. vCenter restarts just before the snapshot is removed: the session
# is gone and the first logins fail.
nbdkit_vsphere "vm=$vm" snapshot=create --run "
  nbdcopy \"\$uri\" $VCSIM_DIR/out.raw &&
  curl -sf -X POST '$VCSIM_CONTROL/sessions/expire' >/dev/null &&
  curl -sf -X POST '$VCSIM_CONTROL/knobs?login_fail=3' >/dev/null" 2>"$err"
same_bytes "$img" "$VCSIM_DIR/out.raw"
no_snapshot || fail "not removed after a vCenter restart: $(cat "$err")"
! grep -q "NOT removed" "$err" || fail "a false 'NOT removed': $(cat "$err")"
vcsim_ctl GET /knobs | grep -qx login_fail=0 ||
  fail "the logins never failed ($(vcsim_ctl GET /knobs | grep login_fail)): $(cat "$err")"
echo "ok: removed through a vCenter restart"

# ... and when vCenter stays away past task-timeout=, nbdkit says it
# cannot tell (never "NOT removed"), and the guardian removes the
# snapshot once vCenter is back.
nbdkit_vsphere "vm=$vm" snapshot=create task-timeout=5 --run "
  curl -sf -X POST '$VCSIM_CONTROL/sessions/expire' >/dev/null &&
  curl -sf -X POST '$VCSIM_CONTROL/knobs?login_fail=1000' >/dev/null" \
  2>"$err" || true
grep -q "the temporary snapshot .* could not be removed, and whether it is still there is unknown" "$err" ||
  fail "no clear message: $(cat "$err")"
! grep -q "NOT removed" "$err" || fail "a false 'NOT removed': $(cat "$err")"
has_snapshot || fail "the snapshot went away while vCenter was down"
vcsim_ctl POST "/knobs?login_fail=0" >/dev/null
expect_no_snapshot "vCenter came back (the guardian removed it)"

# 4. Snapshots left by dead runs are reported, and removed when asked;
# never one whose run is alive.
start_nbdkit
eventually serving || fail "nbdkit did not start: $(cat "$err")"
guardian=$(sed -n 's/.*guardian of the temporary snapshot: pid \([0-9]*\).*/\1/p' "$err")
[ -n "$guardian" ] || fail "no guardian pid in: $(cat "$err")"
kill -9 "$guardian" "$nbdkit_pid"
end_nbdkit SIGKILL
stale=$(snapshots | awk '{print $2}')
[ -n "$stale" ] || fail "killing nbdkit and its guardian left no snapshot"

nbdkit_vsphere "vm=$vm" snapshot=create --run "nbdcopy \"\$uri\" $VCSIM_DIR/out2.raw" 2>"$err"
same_bytes "$img" "$VCSIM_DIR/out2.raw"
grep -q "warning: VM guarded has a temporary snapshot $stale .* which is no longer running; remove it with remove-stale-snapshots=true" "$err" ||
  fail "the stale snapshot was not reported: $(cat "$err")"
[ "$(snapshots | awk '{print $2}')" = "$stale" ] ||
  fail "the stale snapshot should stay until asked: $(snapshots)"
echo "ok: a dead run's snapshot is reported"

# A snapshot of ours taken on another host: its run may be alive.
soap_login
vm_ref=$(soap_envelope "<FindByInventoryPath xmlns=\"urn:vim25\"><_this type=\"SearchIndex\">SearchIndex</_this><inventoryPath>$vm</inventoryPath></FindByInventoryPath>" |
  soap | sed -n 's:.*<returnval[^>]*>\([^<]*\)</returnval>.*:\1:p')
[ -n "$vm_ref" ] || fail "no moref for $vm"
foreign=nbdkit-vsphere-0123456789abcdef0123456789abcdef
soap_envelope "<CreateSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm_ref</_this><name>$foreign</name><description>Temporary snapshot. host=elsewhere machine=m boot=b pidns=p pid=42 start=7</description><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>" |
  soap >/dev/null
snapshots | grep -q " $foreign\$" || fail "could not make the foreign snapshot"

nbdkit_vsphere "vm=$vm" snapshot=create remove-stale-snapshots=true --run "nbdcopy \"\$uri\" $VCSIM_DIR/out3.raw" 2>"$err"
same_bytes "$img" "$VCSIM_DIR/out3.raw"
grep -q "removed the stale temporary snapshot $stale" "$err" ||
  fail "the dead run's snapshot was not removed: $(cat "$err")"
grep -q "$foreign .* which may still be running elsewhere; if that run is over, remove it with remove-stale-snapshots=all" "$err" ||
  fail "the foreign snapshot was not reported: $(cat "$err")"
[ "$(snapshots | awk '{print $2}')" = "$foreign" ] ||
  fail "only the foreign snapshot should be left: $(snapshots)"
echo "ok: remove-stale-snapshots=true removes a dead run's snapshot, not a foreign one"

# A live run's snapshot survives remove-stale-snapshots=all.
start_nbdkit
eventually serving || fail "nbdkit did not start: $(cat "$err")"
live=$(snapshots | awk '$2 != "'"$foreign"'" {print $2}')
[ -n "$live" ] || fail "no snapshot for the live run"
nbdkit_vsphere "vm=$vm" snapshot=create remove-stale-snapshots=all --run true 2>"$VCSIM_DIR/err2"
grep -q "removed the stale temporary snapshot $foreign" "$VCSIM_DIR/err2" ||
  fail "remove-stale-snapshots=all left the foreign snapshot: $(cat "$VCSIM_DIR/err2")"
[ "$(snapshots | awk '{print $2}')" = "$live" ] ||
  fail "the live run's snapshot must stay: $(snapshots)"
kill -TERM "$nbdkit_pid"
end_nbdkit SIGTERM
expect_no_snapshot "remove-stale-snapshots=all beside a live run"

# 5. The cbt filter takes the plugin's snapshot by moref: a snapshot
# named as this process's temporary snapshot once was does not fool it.
cbt_vm=DC0/vm/guarded-cbt
add_vm "$cbt_vm" "$img" "power=on&cbt=1"
export VCSIM_CONTROL cbt_vm
# shellcheck disable=SC2016,SC2046
bash -c 'curl -sf -X POST "$VCSIM_CONTROL/snapshot/create?vm=$cbt_vm&name=nbdkit-vsphere-$$" >/dev/null &&
         exec "$@"' decoy \
  nbdkit -U - --filter="$NBDKIT_CBT_FILTER" "$NBDKIT_VSPHERE_PLUGIN" \
  $(vsphere_server_args) "vm=$cbt_vm" snapshot=create 'cbt-changeid=*' \
  --run "nbdcopy \"\$uri\" $VCSIM_DIR/cbt.raw"
same_bytes "$img" "$VCSIM_DIR/cbt.raw"
[ "$(snapshots "$cbt_vm" | wc -l)" = 1 ] ||
  fail "expected only the decoy: $(snapshots "$cbt_vm")"
echo "ok: the cbt filter reads the plugin's snapshot, not a namesake"

# When the filter refuses to start, the plugin still removes its
# snapshot and logs out.
vcsim_ctl POST "/snapshot/remove?vm=$cbt_vm&name=$(snapshots "$cbt_vm" | awk '{print $2}')" >/dev/null
vcsim_ctl POST "/vm/cbt?vm=$cbt_vm&enabled=0" >/dev/null
sessions=$(vcsim_ctl GET /sessions)
for _ in 1 2 3; do
  # shellcheck disable=SC2046
  if nbdkit -U - --filter="$NBDKIT_CBT_FILTER" "$NBDKIT_VSPHERE_PLUGIN" \
       $(vsphere_server_args) "vm=$cbt_vm" snapshot=create 'cbt-changeid=*' \
       --run true 2>"$err"; then
    fail "the filter should refuse a VM without CBT"
  fi
  grep -q "Changed Block Tracking is not enabled" "$err" || fail "$(cat "$err")"
done
no_snapshot "$cbt_vm" || fail "the refused filter left a snapshot: $(snapshots "$cbt_vm")"
sessions_back () { [ "$(vcsim_ctl GET /sessions)" -le "$sessions" ]; }
eventually sessions_back ||
  fail "sessions leaked: $(vcsim_ctl GET /sessions), expected $sessions"
echo "ok: a refused filter leaves no snapshot and no session"
