#!/usr/bin/env bash
# shellcheck disable=SC2046,SC2086,SC2207
# A stop signal ends a vsphere-sync cycle within 10 s in every phase,
# also when vCenter stops answering (the simulator frozen with
# SIGSTOP): during start-up, right after the snapshot, during a copy
# over a trickling link (frozen or not) and during the snapshot
# removal.  Each time: exit status 1 and one "stopped by signal"
# message; once vCenter answers again, the snapshot removed (by
# vsphere-sync, else by its guardian) and no process of the cycle left;
# the state file unchanged (but for outputs marked as being updated);
# the next cycle byte-exact.  After SIGKILL of vsphere-sync during a
# copy, its nbdkit stops reading the datastore within 2 s.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
source "$srcdir/sync-stop-functions.sh"
requires setsid pgrep

vcsim_start
# Never leave the harness stopped: its own clean-up needs it running.
vcsim_on_exit 'kill -CONT $VCSIM_PID 2>/dev/null || true'
two_disk_vm stop-vm 16 4
copying () { [ "$(folder_bytes)" -gt 100000 ]; }
freeze () { kill -STOP "$VCSIM_PID"; }
thaw () { kill -CONT "$VCSIM_PID"; }

# stop_cycle WHAT: SIGTERM to vsphere-sync; it must exit with 1 within
# 10 s, saying once that a signal stopped it, and its nbdkit must be
# gone by then.  $children: the processes it had started.
stop_cycle ()
{
  local what=$1 t0 i rc=0 c
  kill -0 "$pid" 2>/dev/null || {
    cat "$VCSIM_DIR/cycle.err" >&2
    fail "$what: vsphere-sync exited before the signal"
  }
  children=$(pgrep -P "$pid" | tr '\n' ' ' || true)
  t0=$(date +%s%N)
  kill -TERM "$pid"
  for i in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 -- -"$pid" 2>/dev/null || true
  fi
  wait "$pid" || rc=$?
  elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$elapsed" -le 10000 ] || fail "$what: vsphere-sync took $elapsed ms to stop"
  [ "$rc" -eq 1 ] || {
    cat "$VCSIM_DIR/cycle.err" >&2
    fail "$what: exit status $rc, want 1"
  }
  [ "$(grep -c 'stopped by signal' "$VCSIM_DIR/cycle.err")" -eq 1 ] || {
    cat "$VCSIM_DIR/cycle.err" >&2
    fail "$what: want one \"stopped by signal\" message"
  }
  for c in $children; do
    [ "$(ps -o comm= -p "$c" || true)" != nbdkit ] ||
      fail "$what: nbdkit (pid $c) still runs after vsphere-sync exited"
  done
}

# after_stop WHAT PHASE: thaw vCenter; what a stopped cycle leaves.
after_stop ()
{
  local what=$1 phase=$2 i c left
  thaw
  vcsim_ctl POST /soap/rewrite/clear >/dev/null
  knob "busy_tasks=0&trickle=0"
  for i in $(seq 300); do
    no_snapshot "$vm" && break
    sleep 0.1
  done
  check_no_snapshot "$vm" "$what"
  for i in $(seq 100); do
    left=
    for c in $children $(pgrep -g "$pid" || true); do
      ! kill -0 "$c" 2>/dev/null || left="$left $c"
    done
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || fail "$what: processes of the cycle are left: $(ps -o pid,args -p "${left# }" || true)"
  if [ "$phase" = removing ] && ! cmp -s "$state" "$VCSIM_DIR/state.before"; then
    # The copy was done and recorded before the removal was stopped.
    [ "$(jq .cycle "$state")" = $(( $(jq .cycle "$VCSIM_DIR/state.before") + 1 )) ] ||
      fail "$what: the state changed, and not to the cycle's new state"
  elif [[ $phase = copying* ]]; then
    same_state_but_whole "$VCSIM_DIR/state.before" "$state" "$what"
  else
    cmp -s "$state" "$VCSIM_DIR/state.before" || {
      diff "$VCSIM_DIR/state.before" "$state" >&2 || true
      fail "$what: the state file changed"
    }
  fi
}

run_case ()
{
  local phase=$1 what="SIGTERM while $1"
  change
  cp "$state" "$VCSIM_DIR/state.before"
  vcsim_ctl POST /counters/reset >/dev/null
  case $phase in
    starting)
      # Before it has even read the ServiceContent.
      freeze
      start_cycle
      sleep 1
      ;;
    snapshotted)
      # The snapshot is there, but its task still shows as running;
      # vCenter freezes while vsphere-sync waits for it.
      rewrite --data-urlencode method=RetrievePropertiesEx \
        --data-urlencode 'match=(VirtualMachine\.createSnapshot</descriptionId><entity[^>]*>[^<]*</entity><entityName>[^<]*</entityName>)<state>success</state>' \
        --data-urlencode 'replace=${1}<state>running</state><progress>10</progress>'
      start_cycle
      eventually has_snapshot "$vm" || fail "$what: no snapshot was taken: $(cat "$VCSIM_DIR/cycle.err")"
      sleep 0.5
      freeze
      sleep 0.5
      ;;
    copying-trickle|copying-frozen)
      # A read of 2 MiB takes 10 s at this pace.
      knob trickle=200000
      start_cycle
      eventually copying || fail "$what: the copy did not start: $(cat "$VCSIM_DIR/cycle.err")"
      [ "$phase" = copying-trickle ] || freeze
      sleep 0.5
      ;;
    removing)
      # The copy ends; vCenter refuses to remove the snapshot for now
      # (TaskInProgress), then freezes while vsphere-sync waits.
      knob trickle=2000000
      start_cycle
      eventually copying || fail "$what: the copy did not start: $(cat "$VCSIM_DIR/cycle.err")"
      knob "busy_tasks=1000&trickle=0"
      removing () { [ "$(knob_value busy_tasks)" -lt 1000 ]; }
      eventually removing || fail "$what: no snapshot removal: $(cat "$VCSIM_DIR/cycle.err")"
      freeze
      sleep 0.5
      ;;
  esac
  stop_cycle "$what"
  sed 's/^/  | /' "$VCSIM_DIR/cycle.err"
  after_stop "$what" "$phase"
  echo "ok: $what: stopped in $elapsed ms ($(grep -v '^\s*$' "$VCSIM_DIR/cycle.err" | tail -n1))"
  next_cycle "$what"
}

sync_ok "the first cycle" -o "$dir" -- "${params[@]}"
for phase in ${SYNC_TEST_PHASES:-starting snapshotted copying-trickle copying-frozen removing}; do
  run_case "$phase"
done

# SIGKILL of vsphere-sync during a copy: its nbdkit stops reading.
change
cp "$state" "$VCSIM_DIR/state.before"
vcsim_ctl POST /counters/reset >/dev/null
knob trickle=200000
start_cycle
eventually copying || fail "SIGKILL: the copy did not start: $(cat "$VCSIM_DIR/cycle.err")"
children=$(pgrep -P "$pid" | tr '\n' ' ' || true)
kill -KILL "$pid"
wait "$pid" || true
sleep 2
b1=$(folder_bytes)
sleep 1
b2=$(folder_bytes)
[ "$b1" = "$b2" ] ||
  fail "SIGKILL: the datastore is still being read 2 s after (${b1} then ${b2} bytes)"
after_stop "SIGKILL during the copy" copying
echo "ok: SIGKILL during the copy: reading stopped within 2 s, the guardian removed the snapshot"
next_cycle "SIGKILL during the copy"

sync_done
