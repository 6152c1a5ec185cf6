#!/usr/bin/env bash
# Never ciphertext: the extents of an encrypted VM's disk are served by
# /folder as ciphertext, so the /folder transports refuse the disk, by
# the backing's keyId, or by its descriptor when the keyId is missing,
# rather than serve those bytes as the disk.  vsphere-sync refuses it
# too, and no snapshot is left behind.  With no transport given the
# disk is read over NFC, where the host decrypts it: vsphere-sync
# copies the plaintext.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/vcsim/soap.sh"

vcsim_start
img=$VCSIM_DIR/plain.img
make_image "$img" 4

# encrypted_vm NAME HOW: a VM whose one disk is encrypted (HOW is 1 or
# descriptor, as /disk/add's encrypted= takes).
encrypted_vm ()
{
  vcsim_ctl POST "/vm/create?path=DC0/vm/$1&power=on&cbt=1" >/dev/null
  vcsim_ctl POST "/disk/add?vm=DC0/vm/$1&ds=LocalDS_0&name=$1/$1&image=$img&encrypted=$2" >/dev/null
}
encrypted_vm enc 1
encrypted_vm enc-desc descriptor

# What /folder holds is ciphertext: reading it as the disk would copy
# a wrong image with every step "succeeding".
soap_login >/dev/null
q=$(folder_query DC0 LocalDS_0)
code=$(folder_get enc/enc-flat.vmdk "$q" -r 0-1048575 -o "$VCSIM_DIR/folder")
[ "$code" = 206 ] || fail "GET of the flat extent: HTTP $code"
head -c 1048576 "$img" | cmp -s - "$VCSIM_DIR/folder" &&
  fail "the simulator serves the encrypted extent in plaintext"
echo "ok: /folder serves the encrypted extent as ciphertext"

# The keyId of the backing, at start-up, whatever the snapshot.
for snap in "" snapshot=create; do
  expect_error "disk \[LocalDS_0\] enc/enc.vmdk of VM enc is encrypted \(VM Encryption\): its datastore files hold ciphertext.*transport=nfcssl or nfc" \
    vm=DC0/vm/enc transport=vcenter $snap
done
[ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/enc)" ] ||
  fail "a snapshot is left on the encrypted VM"

# Without a keyId, the descriptor gives it away.
expect_error "enc-desc.vmdk: the disk is encrypted \(VM Encryption\): its extents hold ciphertext" \
  vm=DC0/vm/enc-desc snapshot=create transport=vcenter
[ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/enc-desc)" ] ||
  fail "a snapshot is left on enc-desc"

# vsphere-sync: the same refusal, and no output bytes nor state claim a
# copy.
out=$VCSIM_DIR/sync-out
mkdir "$out"
if "$abs_top_builddir/sync/vsphere-sync" -o "$out" -- $(vsphere_server_args) \
     vm=DC0/vm/enc transport=vcenter > "$VCSIM_DIR/sync.log" 2>&1; then
  fail "vsphere-sync copied an encrypted disk: $(cat "$VCSIM_DIR/sync.log")"
fi
grep -q "is encrypted (VM Encryption)" "$VCSIM_DIR/sync.log" ||
  fail "vsphere-sync did not say why: $(cat "$VCSIM_DIR/sync.log")"
[ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/enc)" ] ||
  fail "vsphere-sync left a snapshot on the encrypted VM"
echo "ok: vsphere-sync refuses the encrypted disk and leaves no snapshot"

# With no transport given, NFC, where the host decrypts: vsphere-sync
# copies each disk, and the copy is the plaintext the guest wrote.
for vm in enc enc-desc; do
  rm -rf "$out"; mkdir "$out"
  "$abs_top_builddir/sync/vsphere-sync" -q -o "$out" -- $(vsphere_server_args) \
    vm=DC0/vm/$vm > "$VCSIM_DIR/sync.log" 2>&1 ||
    fail "vsphere-sync $vm: $(cat "$VCSIM_DIR/sync.log")"
  copy=$(ls "$out"/*.raw)
  cmp "$img" "$copy" || fail "vsphere-sync $vm: $copy is not the plaintext"
  [ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/$vm)" ] ||
    fail "vsphere-sync $vm left a snapshot"
done
echo "ok: vsphere-sync with no transport given copies the encrypted disks in plaintext"
