# The two-disk VM of the tests that stop cycles (test-sync-signals.sh,
# test-sync-stop.sh).  Source after sync-functions.sh, then call
# stop_vm_create once the simulator runs.
# shellcheck shell=bash
#
# SPDX-License-Identifier: BSD-3-Clause

# stop_vm_create NAME: VM DC0/vm/NAME with a 16 and a 4 MiB disk on two
# datastores; sets $name, $vm, $model0, $model1, $params, $dir (the
# output directory, made) and $state.
stop_vm_create ()
{
  name=$1
  vm=DC0/vm/$name
  new_vm "$vm" >/dev/null
  model0=$VCSIM_DIR/model0.img
  model1=$VCSIM_DIR/model1.img
  make_image "$model0" 16
  make_image "$model1" 4
  add_disk "$vm" LocalDS_0 "$name/disk0" "$model0" >/dev/null
  add_disk "$vm" LocalDS_1 "$name/disk1" "$model1" >/dev/null
  # shellcheck disable=SC2207
  params=($(server_params "$vm"))
  dir=$VCSIM_DIR/out
  mkdir "$dir"
  state=$dir/$name.vsphere-sync.json
}

# check_outputs WHAT: both outputs equal the disks.
check_outputs ()
{
  same_image "$1, disk 0" "$model0" "$dir/$name-disk0.raw" raw
  same_image "$1, disk 1" "$model1" "$dir/$name-disk1.raw" raw
}

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
