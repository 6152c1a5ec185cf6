#!/usr/bin/env bash
# Messages a person can act on: vm= naming something that is not a VM,
# a session rejected during the lookup, a server= that is not HOST[:PORT],
# and a password given on the command line.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
[ -f "$NBDKIT_CBT_FILTER" ] || fail "the filter is not built: $NBDKIT_CBT_FILTER"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 1
vm=DC0/vm/msg-vm
add_vm "$vm" "$img" "power=off&cbt=1"
vcsim_ctl POST "/snapshot/create?vm=$vm&name=s1" >/dev/null

# not_lookup_failure: the last expect_error did not also blame a missing VM.
not_lookup_failure ()
{
  if grep -q "no VM at this inventory path" "$VCSIM_DIR/expect-error.out"; then
    cat "$VCSIM_DIR/expect-error.out" >&2
    fail "the message also says the VM is missing"
  fi
}

# vm= naming another kind of object says which.
for case in "DC0/host/DC0_H0/DC0_H0|a host \(HostSystem host-[0-9]+" \
            "DC0/host/DC0_H0|a standalone host \(ComputeResource computeresource-[0-9]+" \
            "DC0/host/DC0_C0|a cluster \(ClusterComputeResource " \
            "DC0/host/DC0_C0/Resources|a resource pool \(ResourcePool " \
            "DC0/vm|a folder \(Folder " \
            "EMEA/DC 1+&%é|a datacenter \(Datacenter " \
            "DC0/datastore/LocalDS_0|a datastore \(Datastore "; do
  path=${case%%|*}
  what=${case#*|}
  expect_error "vm=$(sed 's/[+.]/\\&/g' <<< "$path") names $what[^)]*\), not a virtual machine" "vm=$path"
  not_lookup_failure
done

# A session the server rejects during the lookup (even after the plugin
# logged in again) is an authentication problem, not a missing VM.
vcsim_ctl POST /soap/rewrite -G --data-urlencode method=FindByInventoryPath \
  --data-urlencode 'match=(?s)<soapenv:Body>.*</soapenv:Body>' \
  --data-urlencode 'replace=<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The session is not authenticated.</faultstring><detail><NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated"><object type="SearchIndex">SearchIndex</object><privilegeId>System.View</privilegeId></NotAuthenticatedFault></detail></soapenv:Fault></soapenv:Body>' \
  --data-urlencode status=500 >/dev/null
expect_error "vm=$vm: $VCSIM_SERVER rejected the session of user $VCSIM_USER during FindByInventoryPath \(NotAuthenticated: The session is not authenticated.\): this is an authentication problem" \
  "vm=$vm"
not_lookup_failure
vcsim_ctl POST /soap/rewrite/clear

# server= must be HOST or HOST:PORT; nothing is contacted.
for case in "|it is empty" "https://vc/|it holds a URL scheme" \
            "vc/sdk|it holds a path" "vc?x|it holds a query" \
            "vc#y|it holds a fragment" "user@vc|it holds a user name" \
            "::1|an IPv6 address must be in brackets" \
            "[::1|its IPv6 address has no closing bracket" \
            "vc:0|the port is not a number from 1 to 65535" \
            "vc:https|the port is not a number"; do
  value=${case%%|*}
  why=${case#*|}
  expect_error "server=$(sed 's/[][?.]/\\&/g' <<< "$value"): $why.*; write server=HOST or server=HOST:PORT \(an IPv6 address in brackets" \
    "server=$value" "vm=$vm"
done
nbdkit_vsphere "server=localhost:$VCSIM_PORT" "vm=$vm" --run true ||
  fail "server=localhost:PORT refused"
echo "ok: server=localhost:PORT"

# A literal password works but warns, once, also through the cbt filter;
# +FILE does not warn.
warning="password= given on the command line: other users can see it, and nbdkit -v prints it"
literal ()
{
  nbdkit -U - "$@" "server=$VCSIM_SERVER" "user=$VCSIM_USER" \
    "password=$VCSIM_PASSWORD" "thumbprint=$VCSIM_THUMBPRINT" "vm=$vm" \
    --run true 2> "$VCSIM_DIR/err" || { cat "$VCSIM_DIR/err" >&2; fail "a literal password failed: $*"; }
  [ "$(grep -c "$warning" "$VCSIM_DIR/err")" -eq 1 ] || {
    cat "$VCSIM_DIR/err" >&2
    fail "want the warning exactly once: $*"
  }
  grep -q "use password=+FILE" "$VCSIM_DIR/err" || fail "the warning does not point to password=+FILE"
}
literal "$NBDKIT_VSPHERE_PLUGIN"
echo "ok: literal password warns once"
literal --filter="$NBDKIT_CBT_FILTER" "$NBDKIT_VSPHERE_PLUGIN" snapshot=s1 'cbt-changeid=*'
echo "ok: literal password warns once through the cbt filter"
nbdkit_vsphere "vm=$vm" --run true 2> "$VCSIM_DIR/err"
if grep -q "password=" "$VCSIM_DIR/err"; then
  cat "$VCSIM_DIR/err" >&2
  fail "password=+FILE warned"
fi
echo "ok: password=+FILE does not warn"
