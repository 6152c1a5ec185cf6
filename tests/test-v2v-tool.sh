#!/usr/bin/env bash
# vsphere-v2v without virt-v2v: the libvirt XML it writes for each kind
# of hardware, what its NBD servers serve (the snapshot's bytes, not
# what the guest wrote after), the in-place route's use of vsphere-sync's
# state, and every exit path removing the snapshot.  A stand-in
# converter (v2v-copy-converter) copies the served disks; the real
# virt-v2v and virt-v2v-in-place run in `make check-v2v`.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
requires xmllint nbdcopy
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/sync-functions.sh"
vcsim_start
soap_login

v2v=$abs_top_builddir/v2v/vsphere-v2v
export VIRT_V2V=$abs_srcdir/v2v-copy-converter
export VIRT_V2V_IN_PLACE=$abs_srcdir/v2v-copy-converter
export V2V_TEST_DIR=$VCSIM_DIR/conv TMPDIR=$VCSIM_DIR/v2v-tmp
mkdir "$V2V_TEST_DIR" "$TMPDIR"
xml=$VCSIM_DIR/domain.xml

# run_v2v OPTIONS...: vsphere-v2v, its output in $VCSIM_DIR/v2v.out and
# .err, its status in $v2v_rc.
run_v2v ()
{
  v2v_rc=0
  "$v2v" "$@" > "$VCSIM_DIR/v2v.out" 2> "$VCSIM_DIR/v2v.err" || v2v_rc=$?
}

# expect XPATH WANT: in $xml.
expect ()
{
  local got
  got=$(xmllint --xpath "$1" "$xml" 2>/dev/null) || got='(nothing)'
  [ "$got" = "$2" ] || fail "$1 is \"$got\", expected \"$2\""
}

# ---- the XML, for each kind of hardware ----

vm=DC0/vm/v2v-efi
vcsim_ctl POST "/vm/create?path=$(vcsim_urlencode $vm)&guest=debian12_64Guest&memory=2048&cpus=4&cores=2&firmware=efi&secureboot=1&scsi=lsilogic&nic=vmxnet3&mac=00:50:56:01:02:03&nic=e1000e&network=VM%20Network" >/dev/null
for c in scsi sata nvme ide; do
  vcsim_ctl POST "/disk/add?vm=$(vcsim_urlencode $vm)&ds=LocalDS_0&name=v2v-efi/$c&size=1048576&controller=$c" >/dev/null
done
run_v2v --print-xml --nbd-port 20000 -- $(server_params $vm)
[ "$v2v_rc" = 0 ] || { cat "$VCSIM_DIR/v2v.err"; fail "--print-xml exited with $v2v_rc"; }
cp "$VCSIM_DIR/v2v.out" "$xml"
ref=$(xmllint --xpath 'string(/domain/metadata/*[local-name()="vm"]/*[local-name()="moref"])' "$xml")
expect 'string(/domain/@type)' vmware
expect 'string(/domain/name)' v2v-efi
expect 'string(/domain/uuid)' "$(vm_property "$ref" config.uuid)"
expect 'string(/domain/memory)' 2097152
expect 'string(/domain/memory/@unit)' KiB
expect 'string(/domain/vcpu)' 4
expect 'string(/domain/cpu/topology/@sockets)' 2
expect 'string(/domain/cpu/topology/@cores)' 2
expect 'string(/domain/os/@firmware)' efi
expect 'string(/domain/os/type/@arch)' x86_64
expect 'string(/domain/os/firmware/feature[@name="secure-boot"]/@enabled)' yes
expect 'string(/domain/metadata/*[local-name()="vm"]/*[local-name()="guest-id"])' debian12_64Guest
expect 'count(/domain/features/acpi)' 1
expect 'string(/domain/devices/controller[@type="scsi"]/@model)' lsilogic
expect 'count(/domain/devices/controller[@type="sata"])' 1
expect 'count(/domain/devices/controller[@type="nvme"])' 1
expect 'count(/domain/devices/disk[@device="disk"])' 4
expect 'string(/domain/devices/disk[1]/target/@bus)' scsi
expect 'string(/domain/devices/disk[1]/target/@dev)' sda
expect 'string(/domain/devices/disk[2]/target/@bus)' sata
expect 'string(/domain/devices/disk[2]/target/@dev)' sdb
expect 'string(/domain/devices/disk[3]/target/@bus)' nvme
expect 'string(/domain/devices/disk[4]/target/@bus)' ide
expect 'string(/domain/devices/disk[4]/target/@dev)' hda
for i in 1 2 3 4; do
  expect "string(/domain/devices/disk[$i]/@type)" network
  expect "string(/domain/devices/disk[$i]/driver/@type)" raw
  expect "string(/domain/devices/disk[$i]/source/@protocol)" nbd
  expect "string(/domain/devices/disk[$i]/source/host/@name)" localhost
  expect "string(/domain/devices/disk[$i]/source/host/@port)" $((20000 + i - 1))
done
expect 'count(/domain/devices/interface)' 2
expect 'string(/domain/devices/interface[1]/mac/@address)' 00:50:56:01:02:03
expect 'string(/domain/devices/interface[1]/model/@type)' vmxnet3
expect 'string(/domain/devices/interface[1]/source/@network)' "VM Network"
expect 'string(/domain/devices/interface[2]/model/@type)' e1000e
echo "ok: EFI with secure boot, 2x2 vCPUs, lsilogic, SATA, NVMe, IDE, two NICs"

# vcsim's own VM: BIOS, a 32-bit guest id, PVSCSI, a distributed port
# group named by its name, not its key.
run_v2v --print-xml -- $(server_params DC0/vm/DC0_H0_VM0)
cp "$VCSIM_DIR/v2v.out" "$xml"
expect 'string(/domain/os/@firmware)' bios
expect 'string(/domain/os/type/@arch)' i686
expect 'count(/domain/os/firmware)' 0
expect 'string(/domain/devices/controller[@type="scsi"]/@model)' vmpvscsi
expect 'string(/domain/devices/interface[1]/source/@network)' DC0_DVPG0
expect 'string(/domain/devices/disk[1]/source/host/@port)' 10809
echo "ok: BIOS, i686, PVSCSI, a distributed port group by name"

# ---- cold: every disk from one snapshot ----

vm=DC0/vm/v2v-cold
vmq=$(vcsim_urlencode $vm)
make_image "$VCSIM_DIR/os.raw" 6
make_image "$VCSIM_DIR/data.raw" 3
head -c 65536 /dev/urandom > "$VCSIM_DIR/scribble"
vcsim_ctl POST "/vm/create?path=$vmq&power=on&cbt=1&nic=vmxnet3" >/dev/null
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=v2v-cold/data&image=$VCSIM_DIR/data.raw" >/dev/null
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=v2v-cold/os&image=$VCSIM_DIR/os.raw&controller=sata" >/dev/null
# The guest writes to both disks after the snapshot, before the reads.
export -f vcsim_ctl
export V2V_TEST_BEFORE="
  for d in 0 1; do
    vcsim_ctl POST \"/disk/write?vm=$vmq&disk=\$d&offset=0\" --data-binary @$VCSIM_DIR/scribble
  done"
run_v2v -- $(server_params $vm) -- -o local -os /nowhere
unset V2V_TEST_BEFORE
[ "$v2v_rc" = 0 ] || { cat "$VCSIM_DIR/v2v.err"; fail "cold conversion exited with $v2v_rc"; }
cp "$V2V_TEST_DIR/seen.xml" "$xml"
expect 'count(/domain/devices/disk)' 2
same_bytes "$VCSIM_DIR/data.raw" "$V2V_TEST_DIR/disk-0.raw" "disk 0 as served"
same_bytes "$VCSIM_DIR/os.raw" "$V2V_TEST_DIR/disk-1.raw" "disk 1 as served"
curl -sSf -o "$VCSIM_DIR/now" "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=0&length=65536"
cmp -s "$VCSIM_DIR/now" "$VCSIM_DIR/scribble" ||
  fail "the guest's writes after the snapshot did not reach the live disk"
[ "$(cat "$V2V_TEST_DIR/args")" = $'-o\nlocal\n-os\n/nowhere' ] ||
  fail "virt-v2v's options were not passed on: $(cat "$V2V_TEST_DIR/args")"
grep -q 'Copying disks: done' "$VCSIM_DIR/v2v.out" ||
  fail "what the converter printed was not shown"
check_no_snapshot $vm "cold conversion"
[ -z "$(ls -A "$TMPDIR")" ] || fail "a successful run left $(ls "$TMPDIR")"
echo "ok: cold: both disks as of the snapshot, options passed on, no snapshot left"

# A failed conversion keeps the log and the XML, and removes the snapshot.
V2V_TEST_EXIT=3 run_v2v -- $(server_params $vm) -- -o local -os /nowhere
[ "$v2v_rc" = 1 ] || fail "a failed conversion exited with $v2v_rc, not 1"
log=$(sed -n 's/.*what it printed is kept in \([^ ]*\.log\).*/\1/p' "$VCSIM_DIR/v2v.err")
[ -n "$log" ] && grep -q 'failing as asked' "$log" ||
  fail "no log of the failure: $(cat "$VCSIM_DIR/v2v.err")"
[ -f "$(dirname "$log")/domain.xml" ] || fail "the XML was not kept beside $log"
check_no_snapshot $vm "failed conversion"
echo "ok: a failed conversion keeps virt-v2v's log and the XML"

# Checks before any work: virt-v2v runs and reads libvirt XML, nbdkit
# loads the plugin.  While Login fails, a check after logging in would
# fail on the login instead.
vcsim_ctl POST /soap/rewrite -G --data-urlencode method=Login --data-urlencode status=500 \
  --data-urlencode 'match=(?s).*' --data-urlencode 'replace=refused by the test' >/dev/null
VIRT_V2V=$VCSIM_DIR/no-virt-v2v run_v2v -- $(server_params $vm) -- -o null
[ "$v2v_rc" = 1 ] && grep -q "cannot run $VCSIM_DIR/no-virt-v2v --machine-readable (exited with status 127: cannot run .*): install virt-v2v (\"apt install virt-v2v\"), or set VIRT_V2V to it" "$VCSIM_DIR/v2v.err" ||
  fail "no virt-v2v: exit $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
V2V_TEST_FEATURES="virt-v2v input:disk" run_v2v -- $(server_params $vm) -- -o null
[ "$v2v_rc" = 1 ] && grep -q "cannot read libvirt XML (its --machine-readable lists no input:libvirtxml): install virt-v2v 2.0 or later" "$VCSIM_DIR/v2v.err" ||
  fail "an old virt-v2v: exit $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
NBDKIT_VSPHERE_PLUGIN=$VCSIM_DIR/no-plugin.so run_v2v -- $(server_params $vm) -- -o null
[ "$v2v_rc" = 1 ] && grep -q "nbdkit cannot load the $VCSIM_DIR/no-plugin.so plugin (.*): install nbdkit-vsphere" "$VCSIM_DIR/v2v.err" ||
  fail "no plugin: exit $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
VIRT_V2V_IN_PLACE=$VCSIM_DIR/no-virt-v2v run_v2v --in-place --state "$VCSIM_DIR/none.json" -- $(server_params $vm)
[ "$v2v_rc" = 1 ] && grep -q "cannot run $VCSIM_DIR/no-virt-v2v --machine-readable .*or set VIRT_V2V_IN_PLACE to it" "$VCSIM_DIR/v2v.err" ||
  fail "no virt-v2v-in-place: exit $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
vcsim_ctl POST /soap/rewrite/clear >/dev/null
check_no_snapshot $vm "the checks before the work"
echo "ok: no virt-v2v, an old one, no plugin: one message each before logging in"

# SIGTERM during the conversion: the converter and the servers stop,
# the snapshot goes.
rm -f "$V2V_TEST_DIR/args"
V2V_TEST_SLEEP=60 "$v2v" -q -- $(server_params $vm) -- -o null \
  > /dev/null 2> "$VCSIM_DIR/v2v.err" &
pid=$!
eventually test -f "$V2V_TEST_DIR/args"
kill -TERM $pid
start=$SECONDS
rc=0
wait $pid || rc=$?
[ "$rc" -ne 0 ] || fail "vsphere-v2v stopped by SIGTERM exited with 0"
[ $((SECONDS - start)) -lt 30 ] || fail "vsphere-v2v took $((SECONDS - start)) s to stop"
check_no_snapshot $vm "SIGTERM"
! pgrep -f "v2v-copy-converter" >/dev/null || fail "the converter outlived vsphere-v2v"
echo "ok: SIGTERM stops the conversion and removes the snapshot"

# ---- in place: vsphere-sync's copies ----

mkdir "$VCSIM_DIR/out"
sync_ok "first cycle" -q -o "$VCSIM_DIR/out" -- $(server_params $vm)
state=$(ls "$VCSIM_DIR"/out/*.json)
run_v2v --print-xml --state "$state" -- $(server_params $vm)
cp "$VCSIM_DIR/v2v.out" "$xml"
for i in 1 2; do
  expect "string(/domain/devices/disk[$i]/@type)" file
  key=$(jq -r ".disks[$((i - 1))].key" "$state")
  expect "string(/domain/devices/disk[$i]/source/@file)" "$(disk_output "$state" "$key")"
done
expect 'string(/domain/devices/disk[2]/target/@bus)' sata
[ "$(jq '[.disks[].change_id | select(. != null)] | length' "$state")" = 2 ] ||
  fail "--print-xml changed the state"
run_v2v --in-place --state "$state" -- $(server_params $vm)
[ "$v2v_rc" = 0 ] || { cat "$VCSIM_DIR/v2v.err"; fail "in-place exited with $v2v_rc"; }
cmp -s "$V2V_TEST_DIR/seen.xml" "$xml" ||
  fail "the XML converted in place is not the one --print-xml printed"
[ "$(jq '[.disks[].change_id | select(. != null)] | length' "$state")" = 0 ] ||
  fail "the state still holds changeIds after the conversion"
sync_ok "cycle after the conversion" -q --json -o "$VCSIM_DIR/out" -- $(server_params $vm)
[ "$(jq -r '[.disks[] | .mode + ": " + .reason] | unique | join(",")' "$VCSIM_DIR/sync.out")" = "full: vsphere-v2v converted its copy" ] ||
  fail "vsphere-sync did not copy in full after a conversion: $(cat "$VCSIM_DIR/sync.out")"
echo "ok: in place: the copies as files, changeIds forgotten, the next cycle is full"

# A disk the state has no copy of.
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=v2v-cold/new&size=1048576" >/dev/null
run_v2v --in-place --state "$state" -- $(server_params $vm)
[ "$v2v_rc" = 1 ] && grep -q 'has no copy in .*: it was added since' "$VCSIM_DIR/v2v.err" ||
  fail "in place with a disk not copied: rc $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
echo "ok: in place refuses a VM with a disk not copied"

# ---- usage ----
run_v2v -- $(server_params $vm)
[ "$v2v_rc" = 2 ] && grep -q "give virt-v2v's output options" "$VCSIM_DIR/v2v.err" ||
  fail "no virt-v2v options: rc $v2v_rc"
run_v2v --in-place -- $(server_params $vm)
[ "$v2v_rc" = 2 ] && grep -q 'give --state' "$VCSIM_DIR/v2v.err" ||
  fail "--in-place without --state: rc $v2v_rc"
run_v2v --print-xml -- $(server_params $vm) disk=1
[ "$v2v_rc" = 2 ] && grep -q 'disk= cannot be given to vsphere-v2v' "$VCSIM_DIR/v2v.err" ||
  fail "disk=: rc $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
run_v2v --state a.json --state b.json --in-place -- $(server_params $vm)
[ "$v2v_rc" = 2 ] && grep -q -- '--state given twice: give it once' "$VCSIM_DIR/v2v.err" ||
  fail "--state twice: rc $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
run_v2v -h
[ "$v2v_rc" = 0 ] && grep -q '^usage: vsphere-v2v' "$VCSIM_DIR/v2v.out" || fail "-h: rc $v2v_rc"
echo "ok: usage errors"
