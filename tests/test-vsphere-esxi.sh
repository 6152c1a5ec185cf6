#!/usr/bin/env bash
# server= naming a standalone ESXi host (the simulator's -esx mode: one
# datacenter, ha-datacenter, no VM folders, apiType HostAgent): the VM
# found in every way, byte-exact copies of the live disk and of a
# snapshot (a point in time), snapshot=create and its guardian leaving
# no snapshot behind, a free license's read-only API, the cbt filter's
# incremental copy and a vsphere-sync cycle, full then incremental; and
# messages that speak of ESXi, not vCenter; vsphere-v2v's cold route;
# and an encrypted VM read over NFC from the host with no transport
# given.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
[ -f "$NBDKIT_CBT_FILTER" ] || fail "the filter is not built: $NBDKIT_CBT_FILTER"

vcsim_start -esx
[ "$VCSIM_API_TYPE" = HostAgent ] && [ "$VCSIM_DATACENTER" = ha-datacenter ] ||
  fail "the simulator is not an ESXi host: $VCSIM_API_TYPE $VCSIM_DATACENTER"
cd "$VCSIM_DIR"
make_image src.img 8
cp src.img model.img
name=web01
vm=ha-datacenter/vm/$name
ref=$(vcsim_ctl POST "/vm/create?path=$vm&power=on&cbt=1")
key=$(vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=$name/$name&image=$VCSIM_DIR/src.img")
src_sum=$(sha256sum < src.img)

# copy OUT PARAMS...: the disk as nbdcopy reads it through the plugin.
copy ()
{
  local out=$1
  shift
  rm -f "$out"
  nbdkit_vsphere "$@" --run "nbdcopy \"\$uri\" $VCSIM_DIR/$out" 2>> nbdkit.log ||
    { cat nbdkit.log >&2; fail "copy $*"; }
}

# The plugin knows what it talks to.
nbdkit_vsphere -v "vm=$vm" --run true > debug.log 2>&1 || { cat debug.log >&2; fail "nbdkit -v"; }
grep -q "is VMware ESXi .*(apiType HostAgent, API version [0-9.]*): a standalone ESXi host" debug.log ||
  fail "no debug line naming ESXi: $(grep -i apitype debug.log)"
echo "ok: $(grep -o '[^ ]* is VMware ESXi.*' debug.log)"

# Every way to name the VM, on the live disk (nothing written yet).
uuid=$(soap_login && vm_property "$ref" config.uuid)
iuuid=$(vm_property "$ref" config.instanceUuid)
[ -n "$uuid" ] && [ -n "$iuuid" ] || fail "cannot read the VM's UUIDs"
for spec in "$vm" "$name" "moref=$ref" "uuid=$uuid" "instance-uuid=$iuuid"; do
  copy out.raw "vm=$spec"
  [ "$(sha256sum < out.raw)" = "$src_sum" ] || fail "vm=$spec: sha256 differs from the source image"
  echo "ok: vm=$spec"
done

# Inventory paths the host cannot have.
expect_error "DC0/vm/$name: no VM at this inventory path: .* is a standalone ESXi host, whose only datacenter is ha-datacenter \(not \"DC0\"\); write vm=ha-datacenter/vm/NAME" \
  "vm=DC0/vm/$name"
expect_error "no VM at this inventory path \(looked up with FindByInventoryPath on the ESXi host .*, which has no VM folders: the form is ha-datacenter/vm/NAME\)" \
  "vm=ha-datacenter/vm/Prod/$name"
expect_error "vm=nosuch: no VM has this name .*give an inventory path like ha-datacenter/vm/nosuch," \
  vm=nosuch

# A snapshot is a point in time: the guest's write after it is not in
# the copy, but is in the live disk (now a seSparse delta).
vcsim_ctl POST "/snapshot/create?vm=$vm&name=s1" >/dev/null
model_write "$vm" 0 model.img 0 1048576
copy snap.raw "vm=$vm" snapshot=s1
[ "$(sha256sum < snap.raw)" = "$src_sum" ] || fail "snapshot=s1 holds the guest's later write"
copy live.raw "vm=$vm"
same_bytes model.img live.raw
echo "ok: snapshot=s1 is the disk before the guest's write, the live disk after it"
vcsim_ctl POST "/snapshot/remove?vm=$vm&name=s1" >/dev/null

# snapshot=create: frozen while the guest writes, removed at exit.
cp model.img before.img
head -c 300000 /dev/urandom > w.bin
nbdkit_vsphere "vm=$vm" snapshot=create --run "
  curl -sf -X POST --data-binary @w.bin '$VCSIM_CONTROL/disk/write?vm=$vm&disk=0&offset=2000000' >/dev/null &&
  nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
dd if=w.bin of=model.img bs=1 seek=2000000 conv=notrunc status=none
same_bytes before.img out.raw
expect_no_snapshot "$vm" "snapshot=create"
echo "ok: snapshot=create read the frozen disk and removed its snapshot"

# The guardian removes the snapshot of an nbdkit killed outright.
nbdkit_serve "$VCSIM_DIR/sock" "vm=$vm" snapshot=create
has_snapshot "$vm" || fail "snapshot=create took no snapshot"
kill -9 "$nbdkit_pid"
wait "$nbdkit_pid" 2>/dev/null || true
expect_no_snapshot "$vm" "SIGKILL to nbdkit"
echo "ok: the guardian removed the snapshot of a killed nbdkit"

# The free vSphere Hypervisor license: the API reads but changes
# nothing.  snapshot=create says what to do instead; a snapshot taken by
# hand (here through the control API) is read as any other.
vcsim_ctl POST "/knobs?free_license=1" >/dev/null
expect_error "creating snapshot .* failed: the ESXi host refused it \(RestrictedVersion: Current license .*\): its license lets the vSphere API read but change nothing.*take a snapshot by hand" \
  "vm=$vm" snapshot=create
check_no_snapshot "$vm" "a refused snapshot=create"
vcsim_ctl POST "/snapshot/create?vm=$vm&name=by-hand" >/dev/null
copy out.raw "vm=$vm" snapshot=by-hand
same_bytes model.img out.raw
vcsim_ctl POST "/knobs?free_license=0" >/dev/null
vcsim_ctl POST "/snapshot/remove?vm=$vm&name=by-hand" >/dev/null
echo "ok: a free license: snapshot=create refused with a way out, snapshot=NAME read"

# The cbt filter: a full copy, then only the changed blocks on top.
next_id () { sed -n 's/.*next cbt-changeid=\(.*\)$/\1/p' "$1"; }
cbt () { nbdkit_vsphere "vm=$vm" snapshot=create --filter="$NBDKIT_CBT_FILTER" "$@"; }
cbt 'cbt-changeid=*' --run 'nbdinfo "$uri" > info && nbdcopy "$uri" disk.raw'
same_bytes model.img disk.raw
id=$(next_id info)
[ -n "$id" ] || fail "no next cbt-changeid: $(cat info)"
model_write "$vm" 0 model.img 100000 300000
model_write "$vm" 0 model.img 5000000 200000 zero
cbt "cbt-changeid=$id" --run 'nbdinfo "$uri" > info &&
  nbdcopy --destination-is-zero --sparse=0 --request-size=65536 -- "$uri" [ nbdkit file disk.raw ]'
same_bytes model.img disk.raw
grep -q "changed since $id: [0-9]* bytes in 2 areas" info || fail "cbt description: $(cat info)"
expect_no_snapshot "$vm" "the cbt filter"
echo "ok: cbt filter, full then incremental"
expect_error "the ESXi host refused cbt-changeid=${id%/*}/999 \(FileFault.*use cbt-changeid=\*" \
  --filter="$NBDKIT_CBT_FILTER" "vm=$vm" snapshot=create "cbt-changeid=${id%/*}/999"
expect_no_snapshot "$vm" "a refused changeId"

# vsphere-sync: a full cycle, then an incremental one.
mkdir sync
read -ra params <<< "$(server_params "$vm")"
for cycle in full incremental; do
  sync_ok "$cycle cycle" --json -o sync -- "${params[@]}"
  [ "$(json_disk "$key" mode)" = "$cycle" ] ||
    fail "$cycle cycle: disk copied $(json_disk "$key" mode) ($(json_disk "$key" reason))"
  same_image "$cycle cycle" model.img "$(json_disk "$key" output)" raw
  check_no_snapshot "$vm" "$cycle cycle"
  echo "ok: vsphere-sync, $cycle cycle"
  model_write "$vm" 0 model.img 3000000 70000
done

# vsphere-v2v's cold route (a stand-in converter copies what it is
# served): the snapshot's bytes, its XML, and no snapshot left.
export VIRT_V2V=$abs_srcdir/v2v-copy-converter V2V_TEST_DIR=$VCSIM_DIR/conv
mkdir "$V2V_TEST_DIR"
"$abs_top_builddir/v2v/vsphere-v2v" -q -- "${params[@]}" -- -o null ||
  fail "vsphere-v2v against the ESXi host failed"
same_bytes model.img "$V2V_TEST_DIR/disk-0.raw"
grep -q "<name>$name</name>" "$V2V_TEST_DIR/seen.xml" ||
  fail "vsphere-v2v's XML does not name the VM: $(cat "$V2V_TEST_DIR/seen.xml")"
check_no_snapshot "$vm" "vsphere-v2v"
echo "ok: vsphere-v2v's cold route reads the ESXi host"

# An encrypted VM on the host: with no transport given, its disk is
# read over NFC, where the host decrypts it.  The host's own NFC service
# is ha-nfc-service, whose tickets name no host (the one logged in to)
# and the service that PROXY must ask for, nfc.
evm=ha-datacenter/vm/secret
eref=$(vcsim_ctl POST "/vm/create?path=$evm&power=on")
content=$(soap_envelope '<RetrieveInternalContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveInternalContent>' | soap)
grep -q '<nfcService type="NfcService">ha-nfc-service</nfcService>' <<< "$content" ||
  fail "the host names no ha-nfc-service: $content"
ticket=$(soap_envelope "<NfcGetVmFiles xmlns=\"urn:vim25\"><_this type=\"NfcService\">ha-nfc-service</_this><vm type=\"VirtualMachine\">$eref</vm></NfcGetVmFiles>" | soap)
grep -q '<service>nfc</service>' <<< "$ticket" && ! grep -q '<host>' <<< "$ticket" ||
  fail "not a standalone host's ticket: $ticket"
vcsim_ctl POST "/disk/add?vm=$evm&ds=LocalDS_0&name=secret/secret&image=$VCSIM_DIR/src.img&encrypted=1" >/dev/null
nbdkit_vsphere "vm=$evm" snapshot=create --run '
  nbdinfo "$uri" > "$VCSIM_DIR/enc.info" && nbdcopy "$uri" "$VCSIM_DIR/enc.raw"' ||
  fail "the encrypted VM on the ESXi host"
same_bytes src.img "$VCSIM_DIR/enc.raw"
grep -q "read over NFC over TLS (transport=auto: the disk is encrypted" "$VCSIM_DIR/enc.info" ||
  fail "not read over NFC: $(cat "$VCSIM_DIR/enc.info")"
check_no_snapshot "$evm" "the encrypted VM"
for t in nfc nfcssl; do
  copy enc-$t.raw "vm=$evm" transport=$t
  same_bytes src.img "$VCSIM_DIR/enc-$t.raw"
done
echo "ok: an encrypted VM on the ESXi host reads in plaintext over its own NFC service (auto, nfc, nfcssl)"
