# Cycles started and stopped, for the tests that stop them
# (test-sync-signals.sh, test-sync-stop.sh), on sync-functions.sh's
# two_disk_vm.  Source after sync-functions.sh.
# shellcheck shell=bash
#
# SPDX-License-Identifier: BSD-3-Clause

# start_cycle: a cycle in the background, in a process group of its
# own ($pid = its PGID), with SIGINT at its default (a background job
# would start with it ignored), one NBD connection.
start_cycle ()
{
  : > "$VCSIM_DIR/cycle.err"
  setsid env --default-signal=INT "$sync_tool" --connections 1 -o "$dir" \
    -- "${params[@]}" 2> "$VCSIM_DIR/cycle.err" &
  pid=$!
  vcsim_on_exit "kill -9 -- -$pid 2>/dev/null || true"
}

# next_cycle WHAT: the following cycle works and is exact.
next_cycle ()
{
  sync_ok "$1: the next cycle" -o "$dir" -- "${params[@]}"
  check_outputs "$1: the next cycle"
  check_no_snapshot "$vm" "$1: the next cycle"
}

# change: what the next cycle has to copy: all of disk 0, some of disk 1.
change ()
{
  model_write "$vm" 0 "$model0" 0 $((16 << 20))
  model_write "$vm" 1 "$model1" $((RANDOM * 64)) 100000
}
