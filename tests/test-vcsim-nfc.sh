#!/usr/bin/env bash
# Harness self-test: NFC as hosts serve it.  An NfcService ticket for a
# VM opens one connection through authd (raw "ha-nfc" or "ha-nfcssl"),
# and a disk of that VM read over it is the disk: its snapshot chain
# composed and, for an encrypted disk, in plaintext while /folder
# serves ciphertext.  A ticket is good once, and for its VM's disks
# only.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
VCSIM_DELTA_FORMAT=sesparse
vcsim_start
soap_login >/dev/null

img=$VCSIM_DIR/img.raw
head -c 3145728 /dev/urandom > "$img"
vm=$(vcsim_ctl POST "/vm/create?path=DC0/vm/nfcvm&power=on")
vcsim_ctl POST "/disk/add?vm=DC0/vm/nfcvm&ds=LocalDS_0&name=nfcvm/nfcvm&image=$img&encrypted=1" >/dev/null
other=$(vcsim_ctl POST "/vm/create?path=DC0/vm/other&power=on")
vcsim_ctl POST "/disk/add?vm=DC0/vm/other&ds=LocalDS_0&name=other/other&image=$img" >/dev/null

[ "$(soap_call '<RetrieveInternalContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveInternalContent>' |
     grep -o '<nfcService type="NfcService">[^<]*')" = '<nfcService type="NfcService">nfcService' ] ||
  fail "RetrieveInternalContent names no NfcService"

# ticket VM: sets sid and port from NfcGetVmFiles.
ticket () {
    local t
    t=$(soap_call "<NfcGetVmFiles xmlns=\"urn:vim25\"><_this type=\"NfcService\">nfcService</_this><vm type=\"VirtualMachine\">$1</vm></NfcGetVmFiles>") ||
        fail "NfcGetVmFiles: $t"
    sid=$(grep -o '<sessionId>[^<]*' <<<"$t" | sed 's/.*>//')
    port=$(grep -o '<port>[^<]*' <<<"$t" | sed 's/.*>//')
    grep -q '<service>vpxa-nfc</service>' <<<"$t" || fail "ticket: $t"
    grep -q '<sslThumbprint>[0-9A-F:]\{59\}</sslThumbprint>' <<<"$t" ||
        fail "ticket has no SHA-1 thumbprint: $t"
}
# nfc_cat PATH OFFSET LENGTH [SERVICE]: read through a new ticket for $vm.
nfc_cat () {
    ticket "$vm"
    "$VCSIM_HARNESS" nfc-cat "127.0.0.1:$port" "$sid" "$@"
}

for service in vpxa-nfc vpxa-nfcssl; do
    nfc_cat "[LocalDS_0] nfcvm/nfcvm.vmdk" 0 3145728 $service > "$VCSIM_DIR/nfc" ||
        fail "nfc-cat ($service) failed"
    cmp "$img" "$VCSIM_DIR/nfc" || fail "NFC ($service) did not read the disk"
done
echo "ok: an encrypted disk reads in plaintext over ha-nfc and ha-nfcssl"

# PROXY must ask for the ticket's service.
if nfc_cat "[LocalDS_0] nfcvm/nfcvm.vmdk" 0 512 nfc > /dev/null 2> "$VCSIM_DIR/err"; then
    fail "authd connected PROXY nfc for a vpxa-nfc ticket"
fi
grep -q "the ticket is for vpxa-nfc, not nfc" "$VCSIM_DIR/err" || fail "wrong service: $(cat "$VCSIM_DIR/err")"
echo "ok: PROXY for another service than the ticket's is refused"

# A snapshot, then guest writes: the snapshot's disk over NFC is the
# image; the current one (a sesparse delta over it) has the writes.
head -c 70000 /dev/urandom > "$VCSIM_DIR/w"
vcsim_ctl POST "/snapshot/create?vm=DC0/vm/nfcvm&name=s1" >/dev/null
vcsim_ctl POST "/disk/write?vm=DC0/vm/nfcvm&disk=0&offset=1000000" --data-binary "@$VCSIM_DIR/w" >/dev/null
cp "$img" "$VCSIM_DIR/want"
dd if="$VCSIM_DIR/w" of="$VCSIM_DIR/want" bs=1 seek=1000000 conv=notrunc status=none
cur=$(soap_props VirtualMachine "$vm" config.hardware.device | grep -o '<fileName>[^<]*nfcvm[^<]*' | sed 's/.*>//' | head -n 1)
[ "$cur" != "[LocalDS_0] nfcvm/nfcvm.vmdk" ] || fail "no delta after the snapshot"
nfc_cat "$cur" 0 3145728 > "$VCSIM_DIR/nfc" || fail "nfc-cat of $cur failed"
cmp "$VCSIM_DIR/want" "$VCSIM_DIR/nfc" || fail "the delta chain is not composed"
nfc_cat "[LocalDS_0] nfcvm/nfcvm.vmdk" 0 3145728 > "$VCSIM_DIR/nfc"
cmp "$img" "$VCSIM_DIR/nfc" || fail "the snapshot's disk changed"
echo "ok: a snapshot's disk and the current delta chain, composed"

# Refusals: a ticket used twice, another VM's disk.
ticket "$vm"
"$VCSIM_HARNESS" nfc-cat "127.0.0.1:$port" "$sid" "[LocalDS_0] nfcvm/nfcvm.vmdk" 0 512 > /dev/null
if "$VCSIM_HARNESS" nfc-cat "127.0.0.1:$port" "$sid" "[LocalDS_0] nfcvm/nfcvm.vmdk" 0 512 \
     > /dev/null 2> "$VCSIM_DIR/err"; then
    fail "a ticket opened two connections"
fi
grep -q "authd: 530" "$VCSIM_DIR/err" || fail "reused ticket: $(cat "$VCSIM_DIR/err")"
if nfc_cat "[LocalDS_0] other/other.vmdk" 0 512 > /dev/null 2> "$VCSIM_DIR/err"; then
    fail "a ticket for nfcvm opened another VM's disk"
fi
grep -q "error reply: .*not a disk of the ticket's VM" "$VCSIM_DIR/err" ||
    fail "other VM: $(cat "$VCSIM_DIR/err")"
echo "ok: tickets are single-use and bound to their VM"
