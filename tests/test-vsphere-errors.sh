#!/usr/bin/env bash
# Every bad input gets one clear message and a non-zero exit.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 1
vm=DC0/vm/err-vm
add_vm "$vm" "$img"
vcsim_ctl POST "/snapshot/create?vm=$vm&name=nightly" >/dev/null
plugin=$NBDKIT_VSPHERE_PLUGIN
pw=+$VCSIM_PASSWORD_FILE
tp=thumbprint=$VCSIM_THUMBPRINT

# Missing parameters (no server contacted).
for missing in server user password vm; do
  args=("server=$VCSIM_SERVER" "user=$VCSIM_USER" "password=$pw" "vm=$vm" "$tp")
  for i in "${!args[@]}"; do
    case "${args[$i]}" in "$missing="*) unset 'args[i]' ;; esac
  done
  if nbdkit -U - "$plugin" "${args[@]}" --run true 2> "$VCSIM_DIR/err"; then
    fail "nbdkit ran without $missing="
  fi
  grep -q "the $missing= parameter is required" "$VCSIM_DIR/err" ||
    fail "no clear message for missing $missing=: $(cat "$VCSIM_DIR/err")"
  echo "ok: missing $missing="
done

# Unknown VMs: the message says how the VM was looked up.
expect_error "vm=DC0/vm/nope: no VM at this inventory path \(looked up with FindByInventoryPath" vm=DC0/vm/nope
expect_error "vm=nope: no VM has this name \(searched the names of all VMs\)" vm=nope
expect_error "vm=moref=vm-99999: no VM has this managed object reference" vm=moref=vm-99999
expect_error "no VM has this BIOS UUID \(looked up with FindByUuid\)" vm=uuid=00000000-0000-0000-0000-000000000000
expect_error "no VM has this instance UUID" vm=instance-uuid=00000000-0000-0000-0000-000000000000

# Two VMs of the same name.
vcsim_ctl POST "/vm/create?path=DC0/vm/A/twin&power=off" >/dev/null
vcsim_ctl POST "/vm/create?path=DC0/vm/B/twin&power=off" >/dev/null
expect_error "vm=twin: 2 VMs have this name: DC0/vm/[AB]/twin \(vm-[0-9]+\), DC0/vm/[AB]/twin \(vm-[0-9]+\); choose one with its inventory path" vm=twin

# Disks and snapshots that do not exist: the message lists what does.
expect_error 'disk=3: VM err-vm has no disk with this index or label; its disks are disk=0: "Hard disk 1" \[LocalDS_0\] err-vm/err-vm-000001.vmdk' "vm=$vm" disk=3
expect_error 'disk=Hard disk 7: VM err-vm has no disk .* disk=0: "Hard disk 1"' "vm=$vm" "disk=Hard disk 7"
expect_error 'file=\[LocalDS_0\] x.vmdk: VM err-vm has no disk with this datastore path' "vm=$vm" "file=[LocalDS_0] x.vmdk"
expect_error 'snapshot=weekly: VM err-vm has no such snapshot; its snapshots are: "nightly" \(moref=snapshot-[0-9]+\)' "vm=$vm" snapshot=weekly
expect_error 'give disk= or file=, not both' "vm=$vm" disk=0 "file=[LocalDS_0] x.vmdk"
expect_error 'connections=0: expected a number from 1 to 64' "vm=$vm" connections=0
expect_error 'thumbprint=12:34: expected a SHA-256' "vm=$vm" thumbprint=12:34
expect_error 'cbt-changeid= is a parameter of the cbt filter: add --filter=cbt' "vm=$vm" 'cbt-changeid=*'
expect_error "unknown parameter 'colour'" "vm=$vm" colour=blue

# Wrong password, unreachable server.
echo wrong > "$VCSIM_DIR/wrong"
expect_error "login as $VCSIM_USER failed: wrong user name or password" \
  "password=+$VCSIM_DIR/wrong" "vm=$vm"
# A vCenter user without its SSO domain: the message says how to name it.
bare=${VCSIM_USER%@*}
expect_error "login as $bare failed: wrong user name or password; vCenter's users are named with their SSO domain, such as user=$bare@vsphere.local" \
  "user=$bare" "vm=$vm"
if nbdkit -U - "$plugin" server=127.0.0.1:1 "user=$VCSIM_USER" "password=$pw" \
     "vm=$vm" timeout=5 --run true 2> "$VCSIM_DIR/err"; then
  fail "an unreachable server was accepted"
fi
grep -q "127.0.0.1:1: RetrieveServiceContent: .*[Cc]ouldn't connect\|Connection refused" "$VCSIM_DIR/err" ||
  fail "unreachable server: $(cat "$VCSIM_DIR/err")"
echo "ok: unreachable server"

# Broken disks on the datastore.
ds=$(vcsim_ctl GET "/datastore/path?ds=LocalDS_0")
add_broken () { add_vm "DC0/vm/$1" "$img"; }

add_broken notdesc
head -c 4096 /dev/urandom > "$ds/notdesc/notdesc.vmdk"
expect_error 'notdesc.vmdk: not a VMDK descriptor' vm=DC0/vm/notdesc

add_broken escape
sed -i 's|"escape-flat.vmdk"|"../err-vm/err-vm-flat.vmdk"|' "$ds/escape/escape.vmdk"
expect_error 'extent file "../err-vm/err-vm-flat.vmdk" is outside the disk.s directory' vm=DC0/vm/escape

add_broken missing
rm "$ds/missing/missing-flat.vmdk"
expect_error 'HTTP 404: the file does not exist on the datastore' vm=DC0/vm/missing

add_broken badsize
sed -i 's/^RW [0-9]*/RW 8/' "$ds/badsize/badsize.vmdk"
expect_error "the descriptor's extents add up to 4096 bytes but vSphere says the disk holds 1048576" vm=DC0/vm/badsize

vcsim_ctl POST "/vm/create?path=DC0/vm/vsan-vm&power=off" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/vsan-vm&ds=vsanDatastore&name=vsan-vm/vsan-vm&size=1048576&kind=vsan" >/dev/null
expect_error 'this is a vSAN disk' vm=DC0/vm/vsan-vm transport=vcenter

# TLS: the system CAs do not know the simulator: say its fingerprint.
if nbdkit -U - "$plugin" "server=$VCSIM_SERVER" "user=$VCSIM_USER" "password=$pw" \
     "vm=$vm" --run true 2> "$VCSIM_DIR/err"; then
  fail "an unverifiable certificate was accepted"
fi
grep -q "TLS verification failed .*SHA-256 fingerprint is $VCSIM_THUMBPRINT" "$VCSIM_DIR/err" ||
  fail "TLS failure does not show the fingerprint: $(cat "$VCSIM_DIR/err")"
echo "ok: unverified certificate"
bad=$(echo "$VCSIM_THUMBPRINT" | sed 's/^../00/')
[ "$bad" != "$VCSIM_THUMBPRINT" ] || bad=$(echo "$VCSIM_THUMBPRINT" | sed 's/^../11/')
if nbdkit -U - "$plugin" "server=$VCSIM_SERVER" "user=$VCSIM_USER" "password=$pw" \
     "vm=$vm" "thumbprint=$bad" --run true 2> "$VCSIM_DIR/err"; then
  fail "a wrong thumbprint was accepted"
fi
grep -q "does not match thumbprint=; its SHA-256 fingerprint is $VCSIM_THUMBPRINT" "$VCSIM_DIR/err" ||
  fail "thumbprint mismatch: $(cat "$VCSIM_DIR/err")"
echo "ok: thumbprint mismatch"
