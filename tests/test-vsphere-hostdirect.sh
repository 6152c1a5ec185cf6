#!/usr/bin/env bash
# transport=host: the disks are read from the ESXi host running the VM,
# each GET opened by a single-use service ticket from vCenter, not
# through vCenter's /folder.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 8
vm=DC0/vm/hd-vm
ref=$(vcsim_ctl POST "/vm/create?path=$vm&power=on")
vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=hd-vm/hd-vm&image=$img" >/dev/null
want=$(sha256sum < "$img")
direct=("transport=host" "host-address=$VCSIM_ESXI_ADDRESS")

counter () { vcsim_ctl GET /counters | sed -n "s/^$1=//p"; }

check_copy ()
{
  local what=$1 got
  shift
  rm -f "$VCSIM_DIR/out.raw"
  vcsim_ctl POST /counters/reset >/dev/null
  nbdkit_vsphere "vm=$vm" "${direct[@]}" "$@" \
    --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
  got=$(sha256sum < "$VCSIM_DIR/out.raw")
  [ "$got" = "$want" ] || fail "$what: sha256 differs from the source image"
  [ "$(counter folder_requests)" = 0 ] ||
    fail "$what: $(counter folder_requests) GETs went through vCenter's /folder"
  [ "$(counter host_requests)" -gt 0 ] || fail "$what: no GET reached the host"
  [ "$(counter host_tickets_refused)" = 0 ] || fail "$what: tickets refused"
  echo "ok: $what: $(counter host_requests) GETs to the host, none to /folder"
}

check_copy "live disk of a running VM"

# The hosts have a certificate of their own, which vCenter vouches for
# with its thumbprint (the copy above read through it): thumbprint=
# pins vCenter only.
[ "$VCSIM_ESXI_THUMBPRINT" != "$VCSIM_THUMBPRINT" ] ||
  fail "the hosts share vCenter's certificate: the pin is not tested"
# A host whose certificate is not the one vCenter knows is refused, with
# its fingerprint named.
vcsim_ctl POST "/host/thumbprint?value=$VCSIM_THUMBPRINT" >/dev/null
expect_error "host DC0_H0's certificate \\(SHA-256 fingerprint $VCSIM_ESXI_THUMBPRINT\\) is not the one vCenter knows" \
  "vm=$vm" "${direct[@]}"
# When vCenter knows no thumbprint, the CAs decide, as for vCenter.
vcsim_ctl POST "/host/thumbprint?value=" >/dev/null
expect_error "vCenter knows no thumbprint for it: pass cainfo=" "vm=$vm" "${direct[@]}"
check_copy "host verified by cainfo= when vCenter knows no thumbprint" \
  "cainfo=$VCSIM_ESXI_CAFILE"
vcsim_ctl POST "/host/thumbprint?value=$(openssl x509 -noout -fingerprint -sha1 < "$VCSIM_ESXI_CAFILE" | sed 's/.*=//')" >/dev/null
check_copy "snapshot=create" snapshot=create
soap_login
soap_envelope "<CreateSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$ref</_this><name>frozen</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>" | soap >/dev/null
eventually grep -q . <(vm_property "$ref" snapshot.currentSnapshot)
check_copy "snapshot=NAME (a delta above the frozen base)" snapshot=frozen

# A ticket opens its URL once, for GET only.
url="https://DC0_H0/folder/hd-vm/hd-vm-flat.vmdk?dsName=LocalDS_0"
ticket ()
{
  soap_envelope "<AcquireGenericServiceTicket xmlns=\"urn:vim25\"><_this type=\"SessionManager\">$(service_ref sessionManager)</_this><spec xsi:type=\"SessionManagerHttpServiceRequestSpec\"><url>$(xml_escape "$1")</url><method>$2</method></spec></AcquireGenericServiceTicket>" |
    soap | sed -n 's:.*<id>\([^<]*\)</id>.*:\1:p'
}
get ()
{
  curl -sS --cacert "$VCSIM_ESXI_CAFILE" -o /dev/null -w '%{http_code}' -r 0-9 \
    --connect-to "DC0_H0:443:${VCSIM_ESXI_ADDRESS%:*}:${VCSIM_ESXI_ADDRESS##*:}" \
    -b "vmware_cgi_ticket=$1" "$2"
}
vm_host=$(vm_property "$ref" runtime.host)
[ -n "$vm_host" ] || fail "the VM has no runtime.host"
t=$(ticket "$url" httpGet)
[ -n "$t" ] || fail "no ticket"
[ "$(get "$t" "$url")" = 206 ] || fail "a fresh ticket was refused"
[ "$(get "$t" "$url")" = 401 ] || fail "a replayed ticket was accepted"
t=$(ticket "$url" httpGet)
[ "$(get "$t" "$url&x=1")" = 401 ] || fail "a ticket opened another URL"
t=$(ticket "$url" httpPut)
[ "$(get "$t" "$url")" = 401 ] || fail "a PUT ticket opened a GET"
echo "ok: tickets are single-use, per URL and method"

expect_error 'host-address= is not used with transport=vcenter' "vm=$vm" transport=vcenter "host-address=$VCSIM_ESXI_ADDRESS"
expect_error 'transport=bogus: expected auto, vcenter, host, nfc or nfcssl' "vm=$vm" transport=bogus

# vsphere-sync hands transport= and host-address= on to the plugin: a
# cycle reads through the host too.
export NBDKIT_VSPHERE_PLUGIN NBDKIT_CBT_FILTER
mkdir "$VCSIM_DIR/sync"
curl -sSf -o "$VCSIM_DIR/now.raw" "$VCSIM_CONTROL/disk/image?vm=$vm&disk=0"
vcsim_ctl POST /counters/reset >/dev/null
# shellcheck disable=SC2046
"$abs_top_builddir/sync/vsphere-sync" -q --enable-cbt -o "$VCSIM_DIR/sync" \
  -- $(vsphere_server_args) "vm=$vm" "${direct[@]}" ||
  fail "vsphere-sync over transport=host failed"
cmp "$VCSIM_DIR/now.raw" "$VCSIM_DIR/sync/hd-vm-disk0.raw" ||
  fail "vsphere-sync over transport=host: the copy differs"
[ "$(counter folder_requests)" = 0 ] && [ "$(counter host_requests)" -gt 0 ] ||
  fail "vsphere-sync read through vCenter's /folder"
echo "ok: vsphere-sync reads through the host with transport=host"
