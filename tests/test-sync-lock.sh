#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2016,SC2046,SC2086,SC2207
# Concurrent runs: while one vsphere-sync cycle runs (slowed down), a
# second one on the same state file and outputs, one on another state
# file but the same output, and one on the same VM with other state and
# outputs, all refuse at once with exit status 1 and name the PID of
# the first; a cycle of another VM runs beside it.  The first ends
# byte-exact.  A lock left by a killed run, or a stale lock file, does
# not stop the next cycle.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
requires setsid

vcsim_start
name=lock-vm
vm=DC0/vm/$name
new_vm "$vm" >/dev/null
model=$VCSIM_DIR/model.img
make_image "$model" 16
key=$(add_disk "$vm" LocalDS_0 "$name/$name" "$model")
params=($(server_params "$vm"))
d1=$VCSIM_DIR/d1
d2=$VCSIM_DIR/d2
mkdir "$d1" "$d2"
state=$d1/$name.vsphere-sync.json
out=$d1/$name-disk0.raw

sync_ok "first cycle" -o "$d1" -- "${params[@]}"
same_image "first cycle" "$model" "$out" raw

# The whole disk changes, and the copy is slowed to about 1 MB/s.
model_write "$vm" 0 "$model" 0 $((16 << 20))
vcsim_ctl POST /counters/reset >/dev/null
vcsim_ctl POST "/knobs?bandwidth=1000000" >/dev/null
"$sync_tool" --connections 1 --json -o "$d1" -- "${params[@]}" \
  > "$VCSIM_DIR/first.out" 2> "$VCSIM_DIR/first.err" &
first=$!
vcsim_on_exit "kill -9 $first 2>/dev/null || true"
copying () { [ "$(vcsim_ctl GET /counters | sed -n 's/^folder_bytes=//p')" -gt 100000 ]; }
eventually copying || fail "the first cycle did not start copying: $(cat "$VCSIM_DIR/first.err")"
has_snapshot "$vm" || fail "the first cycle has no snapshot while copying"
# As the first cycle left it once it began writing (its output marked
# as being updated): the second runs must change nothing.
cp "$state" "$VCSIM_DIR/state.before"

# refused WHAT OPTIONS...: a second run on $vm that must refuse at once,
# naming the first, and change nothing.
refused ()
{
  local what=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  vsync "$@" -- "${params[@]}"
  t1=$(date +%s.%N)
  kill -0 "$first" 2>/dev/null ||
    fail "$what: the first cycle ended before the second was checked (the test needs a slower copy)"
  [ "$sync_rc" -eq 1 ] || {
    cat "$VCSIM_DIR/sync.err" >&2
    fail "$what: exit status $sync_rc, want 1"
  }
  grep -qw -- "$first" "$VCSIM_DIR/sync.err" || {
    cat "$VCSIM_DIR/sync.err" >&2
    fail "$what: the message does not name the first run's PID $first"
  }
  awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 10) }' ||
    fail "$what: took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s to refuse"
  cmp -s "$state" "$VCSIM_DIR/state.before" || fail "$what: the state file changed"
  [ "$(snapshots "$vm" | wc -l)" = 1 ] || fail "$what: took a snapshot of its own: $(snapshots "$vm")"
  echo "ok: $what: refused: $(grep -w -m1 -- "$first" "$VCSIM_DIR/sync.err")"
}

refused "same state and outputs" -o "$d1"
refused "same state, --json" -o "$d1" --json
jq -e '.result == "failed" and (.error | type == "string")' "$VCSIM_DIR/sync.out" >/dev/null ||
  fail "the refusal's --json summary: $(cat "$VCSIM_DIR/sync.out")"
jq -r .error "$VCSIM_DIR/sync.out" | grep -qw -- "$first" ||
  fail "the refusal's --json error does not name PID $first: $(cat "$VCSIM_DIR/sync.out")"
refused "other state file, same output" --state "$d2/other.json" --disk "0=$out"
refused "other state file, same output by key" --state "$d2/other2.json" --disk "$key=$out"
[ ! -e "$d2/other.json" ] && [ ! -e "$d2/other2.json" ] || fail "a refused run wrote a state file"
refused "same VM, other state file and outputs" -o "$d2"
[ ! -e "$d2/$name-disk0.raw" ] && [ ! -e "$d2/$name.vsphere-sync.json" ] ||
  fail "a refused run wrote into $d2: $(ls "$d2")"

# Another VM syncs at the same time.
other_model=$VCSIM_DIR/other.img
make_image "$other_model" 4
new_vm DC0/vm/other-vm >/dev/null
add_disk DC0/vm/other-vm LocalDS_1 other-vm/other-vm "$other_model" >/dev/null
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null
kill -0 "$first" 2>/dev/null || fail "the first cycle ended too soon (the test needs a slower copy)"
sync_ok "another VM beside the first" -o "$d2" -- $(server_params DC0/vm/other-vm)
same_image "another VM" "$other_model" "$d2/other-vm-disk0.raw" raw
echo "ok: another VM syncs beside a running cycle"

# The first ends as if alone.
rc=0
wait "$first" || rc=$?
[ "$rc" -eq 0 ] || { cat "$VCSIM_DIR/first.err" >&2; fail "the first cycle exited with $rc"; }
same_image "the first cycle" "$model" "$out" raw
[ "$(state_get "$state" .cycle)" = 2 ] || fail "the first cycle's state: $(cat "$state")"
jq -e '.result == "ok"' "$VCSIM_DIR/first.out" >/dev/null || fail "first: $(cat "$VCSIM_DIR/first.out")"
check_no_snapshot "$vm" "the first cycle"
echo "ok: the first cycle ends byte-exact"

# And the lock is gone with it.
model_write "$vm" 0 "$model" 4096 70000
sync_ok "a cycle after the first" -o "$d1" -- "${params[@]}"
same_image "after the first" "$model" "$out" raw

# A stale lock file naming a dead process does not hold anything.
sleep 30 & dead=$!
kill "$dead"; wait "$dead" || true
[ -d /run/lock ] && lockdir=/run/lock || lockdir=/tmp
lockfile=$lockdir/vsphere-sync.state.$(stat -c %d.%i "$(dirname "$state")").$(basename "$state").lock
[ -f "$lockfile" ] || fail "no state lock file $lockfile: $(ls "$lockdir")"
[ ! -e "$state.lock" ] || fail "a lock file litters the outputs' directory: $state.lock"
echo "$dead" > "$lockfile"
model_write "$vm" 0 "$model" $((5 << 20)) 100000
sync_ok "a stale lock file" -o "$d1" -- "${params[@]}"
same_image "a stale lock file" "$model" "$out" raw
echo "ok: a stale lock file is ignored"

# A run killed with SIGKILL in the middle of its copy does not hold the
# lock for long: its nbdkit goes, its snapshot is removed, and the next
# cycle runs.
model_write "$vm" 0 "$model" 0 $((16 << 20))
cp "$state" "$VCSIM_DIR/state.before"
vcsim_ctl POST /counters/reset >/dev/null
vcsim_ctl POST "/knobs?bandwidth=1000000" >/dev/null
setsid "$sync_tool" --connections 1 -o "$d1" -- "${params[@]}" 2> "$VCSIM_DIR/killed.err" &
killed=$!
vcsim_on_exit "kill -9 -- -$killed 2>/dev/null || true"
eventually copying || fail "the cycle to kill did not start copying: $(cat "$VCSIM_DIR/killed.err")"
kill -9 "$killed"
wait "$killed" || true
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null
same_state_but_whole "$VCSIM_DIR/state.before" "$state" "the killed cycle"
expect_no_snapshot "$vm" "SIGKILL"
for i in $(seq 30); do
  vsync -o "$d1" -- "${params[@]}"
  [ "$sync_rc" -ne 0 ] || break
  sleep 1
done
[ "$sync_rc" -eq 0 ] || { cat "$VCSIM_DIR/sync.err" >&2; fail "no cycle ran within 30 s of a SIGKILL"; }
[ "$i" -le 10 ] || fail "the killed run's lock held $i s"
same_image "after a SIGKILL" "$model" "$out" raw
echo "ok: a killed run's lock goes with it ($i tries)"

sync_done
