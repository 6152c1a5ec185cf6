#!/usr/bin/env bash
# Bounded waits on the data path: a server trickling a few bytes a
# second is cut after about timeout= (a read retries a stall once), and
# SIGTERM ends nbdkit within seconds although its reads hang on a
# stalled server, still removing the temporary snapshot.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 1
vm=DC0/vm/stall
add_vm "$vm" "$img" "power=on"

now () { date +%s.%N; }
elapsed () { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# A trickle of 2 and of 100 bytes a second, timeout=5: the copy fails
# with the stall named, in less than three times the timeout.
for rate in 2 100; do
  start=$(now)
  rc=0
  timeout 60 bash -c "source '$srcdir/functions.sh' && nbdkit_vsphere vm=$vm timeout=5 --run '
      curl -sf -X POST \"$VCSIM_CONTROL/knobs?trickle=$rate\" >/dev/null &&
      nbdcopy \"\$uri\" null:'" > "$VCSIM_DIR/err" 2>&1 || rc=$?
  t=$(elapsed "$start")
  vcsim_ctl POST "/knobs?trickle=0" >/dev/null
  [ $rc != 124 ] || fail "trickle=$rate: the copy was still running after 60 s"
  [ $rc != 0 ] || fail "trickle=$rate: the copy succeeded?"
  grep -q "Operation too slow" "$VCSIM_DIR/err" ||
    { cat "$VCSIM_DIR/err" >&2; fail "trickle=$rate: no stall in the error"; }
  awk -v t="$t" 'BEGIN { exit !(t < 15) }' ||
    fail "trickle=$rate: the copy took $t s to fail with timeout=5"
  echo "ok: trickle=$rate B/s failed after $t s: $(grep -m1 'Operation too slow' "$VCSIM_DIR/err")"
done

# SIGTERM while every read waits on a server that sends nothing, or
# trickles: nbdkit exits within 5 s and removes its snapshot.
no_snapshots () { [ -z "$(vcsim_ctl GET "/snapshots?vm=$vm")" ]; }
for stall in latency=30s trickle=1; do
  rm -f "$VCSIM_DIR/sock"
  nbdkit -f -U "$VCSIM_DIR/sock" "$NBDKIT_VSPHERE_PLUGIN" \
    $(vsphere_server_args) "vm=$vm" snapshot=create connections=2 \
    2> "$VCSIM_DIR/err" &
  nbdkit_job=$!
  vcsim_on_exit "kill -9 $nbdkit_job 2>/dev/null || true"
  for _ in $(seq 100); do [ -S "$VCSIM_DIR/sock" ] && break; sleep 0.1; done
  [ -S "$VCSIM_DIR/sock" ] || fail "nbdkit did not start"
  vcsim_ctl POST "/knobs?$stall" >/dev/null
  nbdcopy "nbd+unix:///?socket=$VCSIM_DIR/sock" null: 2>/dev/null &
  copy_job=$!
  sleep 2
  start=$(now)
  kill -TERM "$nbdkit_job"
  for _ in $(seq 100); do kill -0 "$nbdkit_job" 2>/dev/null || break; sleep 0.1; done
  t=$(elapsed "$start")
  vcsim_ctl POST "/knobs?latency=0&trickle=0" >/dev/null
  kill -0 "$nbdkit_job" 2>/dev/null && fail "$stall: nbdkit still runs $t s after SIGTERM"
  wait "$nbdkit_job" || true
  wait "$copy_job" && fail "$stall: the copy should have failed"
  awk -v t="$t" 'BEGIN { exit !(t < 5) }' || fail "$stall: nbdkit took $t s to exit after SIGTERM"
  eventually no_snapshots ||
    fail "$stall: snapshot left behind: $(vcsim_ctl GET "/snapshots?vm=$vm")"
  echo "ok: $stall: SIGTERM ended nbdkit in $t s and the snapshot is gone;" \
       "$(grep -m1 abandoned "$VCSIM_DIR/err" || true)"
done
