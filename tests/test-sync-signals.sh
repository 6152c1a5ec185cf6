#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2016,SC2046,SC2086,SC2207
# Signals stop a vsphere-sync cycle within seconds in every phase:
# SIGINT and SIGTERM, to vsphere-sync alone and to its process group,
# while it takes the snapshot (a CreateSnapshot task that vCenter shows
# as running), while it copies (slowed down) and while it removes the
# snapshot (vCenter busy); SIGHUP during the copy; a signal during the
# very first cycle.  Each time: exit status 1, no snapshot left, no
# process of the cycle left, the state file byte-identical, and the
# next cycle byte-exact.  SIGKILL of vsphere-sync during the copy: the
# guardian removes the snapshot, and the next cycle is exact.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
source "$srcdir/sync-stop-functions.sh"
requires setsid pgrep

vcsim_start
two_disk_vm sig-vm 16 4
copying () { [ "$(folder_bytes)" -gt 200000 ]; }

# stop_cycle WHAT SIG TARGET: send SIG to vsphere-sync (TARGET=proc) or
# to its process group (TARGET=group); it must exit with 1 within 10 s.
stop_cycle ()
{
  local what=$1 sig=$2 to=$3 t0 i rc=0
  kill -0 "$pid" 2>/dev/null || {
    cat "$VCSIM_DIR/cycle.err" >&2
    fail "$what: vsphere-sync already exited before the signal (the test is too slow or it failed)"
  }
  t0=$(date +%s)
  if [ "$to" = group ]; then kill -"$sig" -- -"$pid"; else kill -"$sig" "$pid"; fi
  for i in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 -- -"$pid" 2>/dev/null || true
    cat "$VCSIM_DIR/cycle.err" >&2
    fail "$what: vsphere-sync still runs 15 s after SIG$sig (killed it)"
  fi
  wait "$pid" || rc=$?
  elapsed=$(( $(date +%s) - t0 ))
  [ "$elapsed" -le 10 ] || fail "$what: vsphere-sync took $elapsed s to stop after SIG$sig"
  [ "$rc" -eq 1 ] || {
    cat "$VCSIM_DIR/cycle.err" >&2
    fail "$what: exit status $rc after SIG$sig, want 1"
  }
}

# after_stop WHAT PHASE: what a stopped cycle must leave behind.
after_stop ()
{
  local what=$1 phase=$2 i
  for i in $(seq 300); do
    no_snapshot "$vm" && break
    sleep 0.1
  done
  check_no_snapshot "$vm" "$what"
  for i in $(seq 300); do
    [ -z "$(pgrep -g "$pid" || true)" ] && break
    sleep 0.1
  done
  [ -z "$(pgrep -g "$pid" || true)" ] ||
    fail "$what: processes of the cycle are left: $(ps -o pid,args -g "$pid" || true)"
  if [ -e "$VCSIM_DIR/state.before" ]; then
    if [ "$phase" = removing ] && ! cmp -s "$state" "$VCSIM_DIR/state.before"; then
      # vsphere-sync(1), EXIT STATUS: "If only the removal of the
      # snapshot failed, the state was written and the message says
      # what became of the snapshot."
      [ "$(jq .cycle "$state")" = $(( $(jq .cycle "$VCSIM_DIR/state.before") + 1 )) ] &&
        jq -e --slurpfile old "$VCSIM_DIR/state.before" \
          '[.disks[] as $d | $old[0].disks[] | select(.key == $d.key) |
            ($d.change_id | split("/") | .[1] | tonumber) > (.change_id | split("/") | .[1] | tonumber)] | all' \
          "$state" >/dev/null || {
        diff "$VCSIM_DIR/state.before" "$state" >&2 || true
        fail "$what: the state changed, and not to the cycle's new state"
      }
      grep -qi "snapshot" "$VCSIM_DIR/cycle.err" ||
        fail "$what: the state advanced, but nothing says what became of the snapshot: $(cat "$VCSIM_DIR/cycle.err")"
      echo "note: $what: the state was written before the removal was stopped"
    elif [ "$phase" = copying ]; then
      same_state_but_whole "$VCSIM_DIR/state.before" "$state" "$what"
    else
      cmp -s "$state" "$VCSIM_DIR/state.before" || {
        diff "$VCSIM_DIR/state.before" "$state" >&2 || true
        fail "$what: the state file changed"
      }
    fi
  elif [ -e "$state" ]; then
    # An interrupted first copy may leave a state whose disks are all
    # still to be copied (change_id null, maybe "partial").
    jq -e '.disks | all(.change_id == null)' "$state" >/dev/null ||
      fail "$what: the first cycle was stopped, but its state records changeIds: $(cat "$state")"
    echo "note: $what: an interrupted first cycle left a partial state"
  fi
}

# run_case PHASE SIG TARGET
run_case ()
{
  local phase=$1 sig=$2 to=$3 what="SIG$2 to the $3 while ${1}"
  change
  [ ! -e "$state" ] || cp "$state" "$VCSIM_DIR/state.before"
  vcsim_ctl POST /counters/reset >/dev/null
  case $phase in
    snapshotting)
      # The snapshot is taken, but vCenter shows the task as running.
      rewrite --data-urlencode method=RetrievePropertiesEx \
        --data-urlencode 'match=(VirtualMachine\.createSnapshot</descriptionId><entity[^>]*>[^<]*</entity><entityName>[^<]*</entityName>)<state>success</state>' \
        --data-urlencode 'replace=${1}<state>running</state><progress>10</progress>'
      start_cycle
      eventually has_snapshot "$vm" || fail "$what: no snapshot was taken: $(cat "$VCSIM_DIR/cycle.err")"
      sleep 1
      [ "$(folder_bytes)" -eq 0 ] || fail "$what: the cycle read disks before its snapshot task ended"
      ;;
    copying)
      knob bandwidth=1500000
      start_cycle
      eventually copying || fail "$what: the copy did not start: $(cat "$VCSIM_DIR/cycle.err")"
      ;;
    removing)
      # The copy ends, then vCenter refuses to remove the snapshot for
      # now (TaskInProgress), so vsphere-sync waits in the removal.
      knob bandwidth=1500000
      start_cycle
      eventually copying || fail "$what: the copy did not start: $(cat "$VCSIM_DIR/cycle.err")"
      knob busy_tasks=1000
      knob bandwidth=0
      removing () { [ "$(knob_value busy_tasks)" -lt 1000 ]; }
      for _ in $(seq 300); do removing && break; sleep 0.1; done
      removing || fail "$what: no snapshot removal within 30 s: $(cat "$VCSIM_DIR/cycle.err")"
      ;;
  esac
  stop_cycle "$what" "$sig" "$to"
  # vCenter is well again.
  vcsim_ctl POST /soap/rewrite/clear >/dev/null
  knob "busy_tasks=0&bandwidth=0"
  after_stop "$what" "$phase"
  echo "ok: $what: stopped within $elapsed s, exit 1, no snapshot, state unchanged ($(grep -v '^\s*$' "$VCSIM_DIR/cycle.err" | tail -n1))"
  next_cycle "$what"
}

# A signal in the very first cycle: no state file appears, or one that
# records no changeId.
rm -f "$VCSIM_DIR/state.before"
run_case copying TERM proc
[ -e "$state" ] || fail "no state after the first cycle"
echo "ok: a first cycle stopped by a signal records no changeId"

for phase in ${SYNC_TEST_PHASES:-snapshotting copying removing}; do
  for sig in ${SYNC_TEST_SIGNALS:-INT TERM}; do
    for to in proc group; do
      run_case "$phase" "$sig" "$to"
    done
  done
done
run_case copying HUP proc

# SIGKILL of vsphere-sync alone, during the copy: nothing can clean up
# but the guardian.
change
cp "$state" "$VCSIM_DIR/state.before"
vcsim_ctl POST /counters/reset >/dev/null
knob bandwidth=1500000
start_cycle
eventually copying || fail "SIGKILL: the copy did not start: $(cat "$VCSIM_DIR/cycle.err")"
kill -KILL "$pid"
wait "$pid" || true
knob bandwidth=0
for _ in $(seq 300); do no_snapshot "$vm" && break; sleep 0.1; done
check_no_snapshot "$vm" "SIGKILL during the copy (the guardian should remove it)"
for _ in $(seq 300); do [ -z "$(pgrep -g "$pid" || true)" ] && break; sleep 0.1; done
[ -z "$(pgrep -g "$pid" || true)" ] ||
  fail "SIGKILL: processes of the cycle are left: $(ps -o pid,args -g "$pid" || true)"
same_state_but_whole "$VCSIM_DIR/state.before" "$state" "SIGKILL"
echo "ok: SIGKILL during the copy: the guardian removed the snapshot"
next_cycle "SIGKILL during the copy"
echo "ok: the cycle after a SIGKILL is exact"

sync_done
