#!/usr/bin/env bash
# NFC from the C side (tests/nfc-read, which the plugin's transport is
# to use): a ticket from vCenter, authd with the host's certificate
# pinned to the ticket's thumbprint, then NFC raw (nfc) or in TLS
# (nfcssl).  An encrypted disk reads byte-exact in plaintext, a running
# VM's delta chain composed; a host whose certificate is not the one
# vCenter records is refused, naming what it showed.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/vcsim/soap.sh"

vcsim_start
img=$VCSIM_DIR/plain.img
make_image "$img" 6
vm=$(vcsim_ctl POST "/vm/create?path=DC0/vm/nfc&power=on")
vcsim_ctl POST "/disk/add?vm=DC0/vm/nfc&ds=LocalDS_0&name=nfc/nfc&image=$img&encrypted=1" >/dev/null
read -r -a params <<<"$(vsphere_server_args)"

# nfc_read [--ssl] PATH OFFSET LENGTH: the bytes, through a new ticket.
nfc_read ()
{
  local ssl=()
  [ "$1" != --ssl ] || { ssl=(--ssl); shift; }
  "$abs_builddir/nfc-read" "${ssl[@]}" --host-address 127.0.0.1 "$vm" \
    "$@" "${params[@]}"
}

for mode in "" --ssl; do
  nfc_read $mode "[LocalDS_0] nfc/nfc.vmdk" 0 $((6 * 1048576)) > "$VCSIM_DIR/out" ||
    fail "nfc-read $mode failed"
  cmp "$img" "$VCSIM_DIR/out" || fail "nfc-read $mode: not the disk's plaintext"
  echo "ok: nfc${mode:+ssl}: the encrypted disk, byte-exact in plaintext"
done

# A window that starts and ends inside fragments.
nfc_read "[LocalDS_0] nfc/nfc.vmdk" 1000001 2500000 > "$VCSIM_DIR/out"
cmp <(tail -c +1000002 "$img" | head -c 2500000) "$VCSIM_DIR/out" ||
  fail "a window read over NFC differs"
echo "ok: a window read over NFC"

# A snapshot, then the guest writes: the current disk is the delta
# chain, composed by the host.
vcsim_ctl POST "/snapshot/create?vm=DC0/vm/nfc&name=s1" >/dev/null
head -c 100000 /dev/urandom > "$VCSIM_DIR/w"
vcsim_ctl POST "/disk/write?vm=DC0/vm/nfc&disk=0&offset=3000000" --data-binary "@$VCSIM_DIR/w" >/dev/null
cp "$img" "$VCSIM_DIR/want"
dd if="$VCSIM_DIR/w" of="$VCSIM_DIR/want" bs=1 seek=3000000 conv=notrunc status=none
soap_login >/dev/null
cur=$(soap_props VirtualMachine "$vm" config.hardware.device |
        grep -o '<fileName>[^<]*nfc/[^<]*' | sed 's/.*>//' | head -n 1)
[ "$cur" != "[LocalDS_0] nfc/nfc.vmdk" ] || fail "no delta after the snapshot"
nfc_read "$cur" 0 $((6 * 1048576)) > "$VCSIM_DIR/out"
cmp "$VCSIM_DIR/want" "$VCSIM_DIR/out" || fail "$cur over NFC is not the composed chain"
echo "ok: the running VM's delta chain, composed"

# The plugin over NFC: a running VM of two disks, an encrypted one
# among them, copied from a temporary snapshot by nbdcopy and qemu-img
# at their defaults, each byte-exact; the snapshot is removed.
vcsim_ctl POST "/vm/create?path=DC0/vm/nfc2&power=on" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/nfc2&ds=LocalDS_0&name=nfc2/nfc2&image=$img&encrypted=1" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/nfc2&ds=LocalDS_0&name=nfc2/data&image=$VCSIM_DIR/want" >/dev/null
for t in nfc nfcssl; do
  nbdkit_vsphere vm=DC0/vm/nfc2 snapshot=create transport=$t \
      host-address=127.0.0.1 --run '
    nbdcopy "$uri" "$VCSIM_DIR/d0.raw" &&
    qemu-img convert -f raw -O raw "nbd+unix:///%5BLocalDS_0%5D%20nfc2%2Fdata.vmdk?socket=$unixsocket" "$VCSIM_DIR/d1.raw"' ||
    fail "transport=$t: the copy failed"
  cmp "$img" "$VCSIM_DIR/d0.raw" || fail "transport=$t: the encrypted disk differs"
  cmp "$VCSIM_DIR/want" "$VCSIM_DIR/d1.raw" || fail "transport=$t: the second disk differs"
  [ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/nfc2)" ] ||
    fail "transport=$t left a snapshot"
  echo "ok: the plugin over $t: both disks of a running VM, byte-exact"
done

# vCenter's record of the host's certificate is what the ticket names:
# another certificate is refused.
vcsim_ctl POST "/host/thumbprint?value=$(printf 'AB%.0s:' {1..19})AB" >/dev/null
if nfc_read "[LocalDS_0] nfc/nfc.vmdk" 0 512 > /dev/null 2> "$VCSIM_DIR/err"; then
  fail "a host whose certificate vCenter does not know was trusted"
fi
grep -q "NFC host 127.0.0.1: its certificate (SHA-256 fingerprint [0-9A-F:]*) is not the one vCenter's ticket names" "$VCSIM_DIR/err" ||
  fail "wrong certificate: $(cat "$VCSIM_DIR/err")"
echo "ok: a host certificate other than vCenter's record is refused"
