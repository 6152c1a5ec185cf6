#!/usr/bin/env bash
# Harness self-test: snapshots freeze disk files like ESXi, deltas take the
# writes, removal consolidates and repoints every reference.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
VCSIM_DELTA_FORMAT=copy # full copies here; test-vcsim-deltas.sh does the rest
vcsim_start
soap_login >/dev/null

vmpath='DC0/vm/Snap tests/snap vm'
vmq=$(vcsim_urlencode "$vmpath")
vm=$(vcsim_ctl POST "/vm/create?path=$vmq&ds=LocalDS_0&power=on")
[ "$(soap_find "$vmpath")" = "$vm" ] || fail "created VM not found by path"

img=$VCSIM_DIR/img.raw
head -c 2097152 /dev/urandom > "$img"
key=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=sv/d&image=$img")
ds1=$(vcsim_ctl GET "/datastore/path?ds=LocalDS_1")

# disk_backing LIST_XML: "fileName parentFileName" of our disk in a device list.
disk_backing () {
    local d
    d=$(sed 's|</VirtualDevice>|&\n|g' | grep "<key>$key</key>")
    printf '%s %s\n' "$(grep -o '<fileName>[^<]*' <<<"$d" | sed -n '1s/.*>//p')" \
        "$(grep -o '<fileName>[^<]*' <<<"$d" | sed -n '2s/.*>//p')"
}
vm_backing () { soap_props VirtualMachine "$vm" config.hardware.device | disk_backing; }
snap_backing () { soap_props VirtualMachineSnapshot "$1" config.hardware.device | disk_backing; }
write () { # OFFSET BYTES: random guest write, mirrored into $VCSIM_DIR/expect
    head -c "$2" /dev/urandom > "$VCSIM_DIR/w"
    vcsim_ctl POST "/disk/write?vm=$vmq&disk=0&offset=$1" --data-binary @"$VCSIM_DIR/w"
    dd if="$VCSIM_DIR/w" of="$VCSIM_DIR/expect" bs=1 seek="$1" conv=notrunc status=none
}
cp "$img" "$VCSIM_DIR/expect"

# Snapshot 1 over SOAP: the snapshot keeps d.vmdk, the VM moves to d-000001.
s1=$(soap_snapshot "$vm" s1)
[ "$(snap_backing "$s1")" = "[LocalDS_1] sv/d.vmdk " ] || fail "s1 devices: $(snap_backing "$s1")"
[ "$(vm_backing)" = "[LocalDS_1] sv/d-000001.vmdk [LocalDS_1] sv/d.vmdk" ] || fail "VM after s1: $(vm_backing)"
grep -qx 'RW 4096 VMFS "d-000001-flat.vmdk"' "$ds1/sv/d-000001.vmdk" || fail "delta descriptor"

# Writes after the snapshot change the VM's file only.
write 100 5000
write 1048000 70000
cp "$VCSIM_DIR/expect" "$VCSIM_DIR/at-s2"
cmp "$img" "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=0&snapshot=s1")" || fail "s1 file changed by a later write"
cmp "$VCSIM_DIR/expect" "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=0")" || fail "current file lacks the write"
curl -sSf "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=0" | cmp "$VCSIM_DIR/expect" - || fail "/disk/image"
curl -sSf "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=0&snapshot=s1" | cmp "$img" - || fail "/disk/image of s1"
curl -sSf "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=0&offset=1000000&length=100000" |
  cmp <(tail -c +1000001 "$VCSIM_DIR/expect" | head -c 100000) - || fail "/disk/image of a range"
curl -sSf "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=0&offset=2000000" |
  cmp <(tail -c +2000001 "$VCSIM_DIR/expect") - || fail "/disk/image to the end"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=0&offset=2000000&length=97153")" = 400 ] ||
  fail "/disk/image past the end"
q=$(folder_query DC0 LocalDS_1)
folder_get sv/d-flat.vmdk "$q" -o "$VCSIM_DIR/got" >/dev/null
cmp "$img" "$VCSIM_DIR/got" || fail "s1's file over /folder changed"
[ "$(snap_backing "$s1")" = "[LocalDS_1] sv/d.vmdk " ] || fail "s1 devices changed with the VM's"

# Snapshot 2 through the control API, then more writes.
s2=$(vcsim_ctl POST "/snapshot/create?vm=$vmq&name=s2")
[ "$(snap_backing "$s2")" = "[LocalDS_1] sv/d-000001.vmdk [LocalDS_1] sv/d.vmdk" ] || fail "s2 devices: $(snap_backing "$s2")"
[ "$(vm_backing)" = "[LocalDS_1] sv/d-000002.vmdk [LocalDS_1] sv/d-000001.vmdk" ] || fail "VM after s2: $(vm_backing)"
write 0 512
printf '%s s1\n%s s2\n' "$s1" "$s2" | cmp - <(vcsim_ctl GET "/snapshots?vm=$vmq") || fail "/snapshots"
tree=$(soap_props VirtualMachine "$vm" snapshot)
grep -q "<rootSnapshotList><snapshot type=\"VirtualMachineSnapshot\">$s1</snapshot>.*<childSnapshotList><snapshot type=\"VirtualMachineSnapshot\">$s2</snapshot>" <<<"$tree" ||
    fail "snapshot tree: $tree"
grep -q "<currentSnapshot type=\"VirtualMachineSnapshot\">$s2</currentSnapshot>" <<<"$tree" || fail "currentSnapshot"

# Removing s1 merges d-000001 into d.vmdk: s2 now names d.vmdk.
soap_remove_snapshot "$s1" || fail "remove s1"
[ "$(snap_backing "$s2")" = "[LocalDS_1] sv/d.vmdk " ] || fail "s2 after removing s1: $(snap_backing "$s2")"
[ "$(vm_backing)" = "[LocalDS_1] sv/d-000002.vmdk [LocalDS_1] sv/d.vmdk" ] || fail "VM after removing s1: $(vm_backing)"
[ ! -e "$ds1/sv/d-000001.vmdk" ] && [ ! -e "$ds1/sv/d-000001-flat.vmdk" ] || fail "d-000001 left behind"
cmp "$VCSIM_DIR/at-s2" "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=0&snapshot=s2")" || fail "s2 content after consolidation"
cmp "$VCSIM_DIR/expect" "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=0")" || fail "current content after consolidation"
[ "$(vcsim_ctl GET "/snapshots?vm=$vmq")" = "$s2 s2" ] || fail "/snapshots after removing s1"

# Removing the last snapshot puts the VM back on d.vmdk, with no deltas.
vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=s2"
[ "$(vm_backing)" = "[LocalDS_1] sv/d.vmdk " ] || fail "VM after removing s2: $(vm_backing)"
[ "$(ls "$ds1/sv")" = "$(printf 'd-flat.vmdk\nd.vmdk')" ] || fail "files left: $(ls "$ds1/sv")"
cmp "$VCSIM_DIR/expect" "$ds1/sv/d-flat.vmdk" || fail "content after removing every snapshot"
soap_props VirtualMachine "$vm" snapshot | grep -q rootSnapshotList && fail "snapshot tree not empty"

# Several in a row, then RemoveAllSnapshots.
for n in a b c; do vcsim_ctl POST "/snapshot/create?vm=$vmq&name=$n" >/dev/null; write 4096 10; done
[ "$(vm_backing | cut -d' ' -f1-2)" = "[LocalDS_1] sv/d-000003.vmdk" ] || fail "third delta: $(vm_backing)"
task=$(soap_call "<RemoveAllSnapshots_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this></RemoveAllSnapshots_Task>" | xml_text returnval)
soap_task_result "$task" >/dev/null || fail "RemoveAllSnapshots"
[ "$(vm_backing)" = "[LocalDS_1] sv/d.vmdk " ] || fail "VM after RemoveAllSnapshots: $(vm_backing)"
[ "$(ls "$ds1/sv" | wc -l)" = 2 ] || fail "files left after RemoveAllSnapshots: $(ls "$ds1/sv")"
cmp "$VCSIM_DIR/expect" "$ds1/sv/d-flat.vmdk" || fail "content after RemoveAllSnapshots"
# busy_tasks: the next snapshot calls fault with TaskInProgress and
# change nothing; then the VM is free again.
vcsim_ctl POST "/knobs?busy_tasks=2" >/dev/null
for n in 1 2; do
    out=$(soap_call "<CreateSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this><name>busy</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>") &&
        fail "call $n on a busy VM succeeded"
    grep -q 'TaskInProgress' <<<"$out" || fail "call $n on a busy VM: $out"
done
[ "$(vm_backing)" = "[LocalDS_1] sv/d.vmdk " ] || fail "a refused call changed the VM: $(vm_backing)"
s=$(soap_snapshot "$vm" after-busy) || fail "snapshot once the VM is free"
soap_remove_snapshot "$s" || fail "remove after-busy"
echo PASS
