# Helpers for the vsphere-sync tests (test-sync-*.sh).  Source after
# functions.sh, then call vcsim_start.
# shellcheck shell=bash
#
# SPDX-License-Identifier: BSD-3-Clause

requires jq qemu-nbd
export NBDKIT_VSPHERE_PLUGIN NBDKIT_CBT_FILTER
sync_tool=${VSPHERE_SYNC:-$abs_top_builddir/sync/vsphere-sync}
[ -x "$sync_tool" ] || {
  echo "$0: vsphere-sync is not built: $sync_tool"
  exit 1
}
# SYNC_TEST_KEEP_GOING=1: report every failure and go on (to see all
# of a test's failures in one run); the test still fails at its end
# (sync_done).
sync_failures=0
if [ -n "${SYNC_TEST_KEEP_GOING:-}" ]; then
  fail ()
  {
    echo "$0: FAIL (going on): $*" >&2
    sync_failures=$((sync_failures + 1))
    echo "$*" >> "${TMPDIR:-/tmp}/sync-test-failures.$$"
    return 0
  }
fi
# sync_done: the end of a test.
sync_done ()
{
  local n=0
  if [ -f "${TMPDIR:-/tmp}/sync-test-failures.$$" ]; then
    n=$(wc -l < "${TMPDIR:-/tmp}/sync-test-failures.$$")
    echo "$0: $n failures:" >&2
    cat "${TMPDIR:-/tmp}/sync-test-failures.$$" >&2
    rm -f "${TMPDIR:-/tmp}/sync-test-failures.$$"
  fi
  [ "$n" = 0 ] || exit 1
}
# Core dumps of killed children would only fill the disk.
ulimit -c 0

# server_params VM: the parameters after -- for VM.
server_params ()
{
  echo "$(vsphere_server_args)" "vm=$1"
}

# vsync OPTIONS... -- PARAMS...: one run of vsphere-sync; its standard
# output goes to $VCSIM_DIR/sync.out, its standard error to
# $VCSIM_DIR/sync.err, and its exit status to $sync_rc.  Never fails.
vsync ()
{
  sync_rc=0
  "$sync_tool" "$@" > "$VCSIM_DIR/sync.out" 2> "$VCSIM_DIR/sync.err" || sync_rc=$?
  return 0
}

# sync_ok WHAT OPTIONS... -- PARAMS...: a cycle that must succeed.
sync_ok ()
{
  local what=$1
  shift
  vsync "$@"
  [ "$sync_rc" -eq 0 ] || {
    cat "$VCSIM_DIR/sync.err" >&2
    fail "$what: vsphere-sync $* exited with $sync_rc"
  }
}

# sync_fails WHAT RC PATTERN OPTIONS... -- PARAMS...: a run that must
# exit with RC (a bash regular expression: 1, 2, [12]) and say something
# matching PATTERN (grep -E) on standard error.
sync_fails ()
{
  local what=$1 rc=$2 pattern=$3
  shift 3
  vsync "$@"
  [[ $sync_rc =~ ^($rc)$ ]] || {
    cat "$VCSIM_DIR/sync.err" >&2
    fail "$what: expected exit status $rc, got $sync_rc (vsphere-sync $*)"
  }
  grep -Eq -- "$pattern" "$VCSIM_DIR/sync.err" || {
    cat "$VCSIM_DIR/sync.err" >&2
    fail "$what: expected a message matching '$pattern'"
  }
  echo "ok: $what: $(grep -E -m1 -- "$pattern" "$VCSIM_DIR/sync.err")"
}

# The simulator's knobs, SOAP rewrites and /folder byte counter.
knob () { vcsim_ctl POST "/knobs?$1" >/dev/null; }
knob_value () { vcsim_ctl GET /knobs | sed -n "s/^$1=//p"; }
rewrite () { vcsim_ctl POST /soap/rewrite -G "$@" >/dev/null; }
folder_bytes () { vcsim_ctl GET /counters | sed -n 's/^folder_bytes=//p'; }

snapshots () { vcsim_ctl GET "/snapshots?vm=$1"; }
no_snapshot () { [ -z "$(snapshots "$1")" ]; }
has_snapshot () { [ -n "$(snapshots "$1")" ]; }
# expect_no_snapshot VM WHAT: eventually no snapshot on VM.
expect_no_snapshot ()
{
  eventually no_snapshot "$1" || fail "$2: snapshot left on $1: $(snapshots "$1")"
}
# check_no_snapshot VM WHAT: no snapshot on VM right now.
check_no_snapshot ()
{
  no_snapshot "$1" || fail "$2: snapshot left on $1: $(snapshots "$1")"
}

# new_vm PATH: a powered-on VM with CBT on and no disks; prints its moref.
new_vm ()
{
  vcsim_ctl POST "/vm/create?path=$1&power=on&cbt=1"
}

# two_disk_vm NAME MIB0 MIB1: VM DC0/vm/NAME with disks of MIB0 and
# MIB1 MiB on two datastores; sets $name, $vm, $model0, $model1,
# $params, $dir (the output directory, made) and $state.
two_disk_vm ()
{
  name=$1
  vm=DC0/vm/$name
  new_vm "$vm" >/dev/null
  model0=$VCSIM_DIR/model0.img
  model1=$VCSIM_DIR/model1.img
  make_image "$model0" "$2"
  make_image "$model1" "$3"
  add_disk "$vm" LocalDS_0 "$name/disk0" "$model0" >/dev/null
  add_disk "$vm" LocalDS_1 "$name/disk1" "$model1" >/dev/null
  # shellcheck disable=SC2207
  params=($(server_params "$vm"))
  dir=$VCSIM_DIR/out
  mkdir "$dir"
  state=$dir/$name.vsphere-sync.json
}

# check_outputs WHAT: both raw outputs of two_disk_vm equal the disks.
check_outputs ()
{
  same_image "$1, disk 0" "$model0" "$dir/$name-disk0.raw" raw
  same_image "$1, disk 1" "$model1" "$dir/$name-disk1.raw" raw
}

# add_disk VM DS NAME IMAGE: a disk holding the raw IMAGE; prints its key.
add_disk ()
{
  vcsim_ctl POST "/disk/add?vm=$1&ds=$2&name=$3&image=$4"
}

# model_write VM N MODEL OFFSET LENGTH [zero]: a guest write of random
# bytes (or zeros) into disk N of VM, mirrored into the MODEL image.
model_write ()
{
  local vm=$1 n=$2 model=$3 off=$4 len=$5 w=$VCSIM_DIR/write.bin
  if [ "${6:-}" = zero ]; then
    head -c "$len" /dev/zero > "$w"
  else
    head -c "$len" /dev/urandom > "$w"
  fi
  vcsim_ctl POST "/disk/write?vm=$vm&disk=$n&offset=$off" --data-binary "@$w" >/dev/null
  dd if="$w" of="$model" bs=64K oflag=seek_bytes seek="$off" conv=notrunc status=none
}

# sim_image VM N FILE: the simulator's own image of disk N, now.
sim_image ()
{
  curl -sf "$VCSIM_CONTROL/disk/image?vm=$(urlencode "$1")&disk=$2" -o "$3" ||
    fail "could not read the simulator's image of $1 disk $2"
}

# random32: a random number in [0, 2^30).
random32 () { echo $(( RANDOM * 32768 + RANDOM )); }

# image_size FILE [FORMAT]: the virtual size of an image.
image_size ()
{
  qemu-img info --output=json ${2:+-f "$2"} "$1" | jq '."virtual-size"'
}

# same_image WHAT MODEL IMAGE FORMAT: IMAGE (with its backing chain)
# holds the bytes of the raw MODEL, and has its size.
same_image ()
{
  local what=$1 model=$2 image=$3 format=$4 size
  [ -e "$image" ] || fail "$what: $image does not exist"
  if [ "$format" = raw ] && [ ! -b "$image" ]; then
    cmp "$model" "$image" || fail "$what: $image differs from the model"
    return 0
  fi
  size=$(stat -c %s "$model")
  if [ "$format" = raw ]; then
    # A block device: its first bytes.
    cmp -n "$size" "$model" "$image" || fail "$what: $image differs from the model"
    return 0
  fi
  [ "$(image_size "$image" "$format")" = "$size" ] ||
    fail "$what: $image has virtual size $(image_size "$image" "$format"), the disk $size"
  qemu-img compare -q -f raw -F "$format" "$model" "$image" ||
    fail "$what: $image differs from the model"
}

# state_get STATE JQ-FILTER [jq options]: a value out of a state file.
state_get ()
{
  local state=$1 filter=$2
  shift 2
  jq -er "$@" "$filter" "$state" || fail "state $state: no $filter: $(cat "$state")"
}

# disk_get STATE KEY FIELD: one field of one disk of a state file.
disk_get ()
{
  jq -er --argjson k "$2" ".disks[] | select(.key == \$k) | .$3" "$1" ||
    fail "state $1: no .$3 for disk $2: $(cat "$1")"
}

# state_path STATE PATH: PATH as vsphere-sync reads it from STATE:
# relative to the state file's directory unless absolute.
state_path ()
{
  case $2 in
    /*) echo "$2" ;;
    *) echo "$(cd "$(dirname "$1")" && pwd -P)/$2" ;;
  esac
}

# disk_output STATE KEY: the absolute path of one disk's output.
disk_output ()
{
  state_path "$1" "$(disk_get "$1" "$2" output)"
}

# same_state_but_whole BEFORE STATE WHAT: STATE is BEFORE, but that
# outputs updated in place may be recorded as not whole: that is done
# before their first byte is written (vsphere-sync(1), STATE).
same_state_but_whole ()
{
  jq -e --slurpfile old "$1" \
    '($old[0] | .disks |= map(del(.whole))) == (.disks |= map(del(.whole)))' \
    "$2" >/dev/null || {
    diff "$1" "$2" >&2 || true
    fail "$3: the state changed beyond marking outputs as being updated"
  }
}

# json_get JQ-FILTER: a value of the last --json summary.
json_get ()
{
  jq -er "$1" "$VCSIM_DIR/sync.out" ||
    fail "--json summary: no $1: $(cat "$VCSIM_DIR/sync.out")"
}

# json_disk KEY FIELD: one field of one disk in the last --json summary.
json_disk ()
{
  jq -r --argjson k "$1" ".disks[] | select(.key == \$k) | .$2" "$VCSIM_DIR/sync.out"
}

# change_uuid / change_seq CHANGEID: the two parts of a changeId.
change_uuid () { echo "${1%/*}"; }
change_seq () { echo "${1##*/}"; }

# descendants PID: every process below PID.
descendants ()
{
  local c
  for c in $(pgrep -P "$1" || true); do
    echo "$c"
    descendants "$c"
  done
}

# soap_vm_remove_disk MOREF KEY: detach disk KEY from the VM through
# ReconfigVM_Task (its files stay on the datastore).
soap_vm_remove_disk ()
{
  local task
  soap_login
  task=$(soap_envelope "<ReconfigVM_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$1</_this><spec><deviceChange><operation>remove</operation><device xsi:type=\"VirtualDisk\"><key>$2</key><controllerKey>0</controllerKey><unitNumber>0</unitNumber><capacityInKB>0</capacityInKB></device></deviceChange></spec></ReconfigVM_Task>" |
    soap | sed -n 's:.*<returnval[^>]*>\([^<]*\)</returnval>.*:\1:p')
  [ -n "$task" ] || fail "ReconfigVM_Task did not start"
}
