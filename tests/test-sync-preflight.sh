#!/usr/bin/env bash
# vsphere-sync checks what it can before it logs in and takes a
# snapshot: that nbdkit loads the plugin and the cbt filter, that -o's
# parent exists (then -o is created), that each output and the state
# file can be written; and, before the snapshot, that every disk has an
# output.  Each failure is one message saying what to do,
# exit status 1, and no login, snapshot or output.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
name=preflight
vm=DC0/vm/$name
new_vm "$vm" >/dev/null
model=$VCSIM_DIR/model.img
make_image "$model" 4
add_disk "$vm" LocalDS_0 "$name/disk0" "$model" >/dev/null
params=($(server_params "$vm"))
out=$VCSIM_DIR/out

# While Login fails, a check that came after logging in would fail on
# the login instead of with its own message.
rewrite --data-urlencode method=Login --data-urlencode status=500 \
  --data-urlencode 'match=(?s).*' --data-urlencode 'replace=refused by the test'

missing=$VCSIM_DIR/no-such-module.so
NBDKIT_VSPHERE_PLUGIN=$missing sync_fails "the plugin does not load" 1 \
  "nbdkit cannot load the $missing plugin and the .* filter \(.*\): install nbdkit-vsphere" \
  -o "$out" -- "${params[@]}"
NBDKIT_CBT_FILTER=$missing sync_fails "the filter does not load" 1 \
  "nbdkit cannot load the .* plugin and the $missing filter .*NBDKIT_CBT_FILTER" \
  -o "$out" -- "${params[@]}"
[ ! -e "$out" ] || fail "-o was created although nbdkit could not load the plugin"

sync_fails "-o's parent is missing" 1 \
  "-o $VCSIM_DIR/no/such: its parent directory does not exist: create it" \
  -o "$VCSIM_DIR/no/such" -- "${params[@]}"
touch "$VCSIM_DIR/a-file"
sync_fails "-o is a file" 1 "-o $VCSIM_DIR/a-file: not a directory" \
  -o "$VCSIM_DIR/a-file" -- "${params[@]}"
sync_fails "an output that cannot be created" 1 \
  "the output $VCSIM_DIR/a-file/disk0.raw cannot be created: $VCSIM_DIR/a-file: .*; give a place this user can write" \
  --disk "0=$VCSIM_DIR/a-file/disk0.raw" --state "$VCSIM_DIR/s.json" -- "${params[@]}"
sync_fails "a state file that cannot be created" 1 \
  "the state file $VCSIM_DIR/a-file/s.json cannot be created" \
  --disk "0=$VCSIM_DIR/disk0.raw" --state "$VCSIM_DIR/a-file/s.json" -- "${params[@]}"
[ ! -e "$VCSIM_DIR/disk0.raw" ] || fail "an output was created although the state cannot be"
no_snapshot "$vm" || fail "a snapshot was taken"
vcsim_ctl POST /soap/rewrite/clear >/dev/null
echo "ok: every check failed before logging in"

# Without -o, a disk with no --disk has nowhere to go: found before the
# snapshot.
add_disk "$vm" LocalDS_1 "$name/disk1" "$model" >/dev/null
sync_fails "a disk without an output" 1 \
  'disk 1 "Hard disk 2" \(key [0-9]*\) has no output: give -o DIR or --disk 1=PATH' \
  --disk "0=$VCSIM_DIR/disk0.raw" --state "$VCSIM_DIR/s.json" -- "${params[@]}"
! grep -q "taking a snapshot" "$VCSIM_DIR/sync.err" || fail "a snapshot was taken first"
[ ! -e "$VCSIM_DIR/disk0.raw" ] || fail "disk 0 was written"
check_no_snapshot "$vm" "a disk without an output"

# -o is created when its parent exists, and the cycle runs.
sync_ok "-o created" -o "$out" -- "${params[@]}"
grep -q "created the output directory $out" "$VCSIM_DIR/sync.err" ||
  fail "no word of -o's creation: $(cat "$VCSIM_DIR/sync.err")"
same_image "-o created" "$model" "$out/$name-disk0.raw" raw
same_image "-o created" "$model" "$out/$name-disk1.raw" raw
check_no_snapshot "$vm" "-o created"
echo "ok: -o is created when its parent exists"
