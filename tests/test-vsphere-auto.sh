#!/usr/bin/env bash
# transport=auto, the default: each disk is read over /folder when its
# files serve it, and over NFC (in TLS) when they cannot: an encrypted
# disk, a vSAN disk, a running VM whose base extent the host will not
# open through /folder.  Each export's description says which transport
# and why; every disk reads byte-exact through nbdcopy and qemu-img;
# the /folder transports refuse what they cannot read.  Over nfc and
# nfcssl, an existing snapshot over two deltas reads byte-exact, and a
# three-disk VM whole.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/plain.img
make_image "$img" 4
enc() { jq -rn --arg s "$1" '$s|@uri'; }

# A powered-off VM of four disks: flat, encrypted, vSAN and flat again.
vcsim_ctl POST "/vm/create?path=DC0/vm/mix&power=off" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/mix&ds=LocalDS_0&name=mix/flat&image=$img" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/mix&ds=LocalDS_0&name=mix/enc&image=$img&encrypted=1" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/mix&ds=vsanDatastore&name=mix/vsan&image=$img&kind=vsan" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/mix&ds=LocalDS_0&name=mix/enc-desc&image=$img&encrypted=descriptor" >/dev/null
paths=("[LocalDS_0] mix/flat.vmdk" "[LocalDS_0] mix/enc.vmdk"
       "[vsanDatastore] mix/vsan.vmdk" "[LocalDS_0] mix/enc-desc.vmdk")
want=("read over /folder \(transport=auto: its files on the datastore serve it\)"
      "read over NFC over TLS \(transport=auto: the disk is encrypted, and only the host can decrypt it\)"
      "read over NFC over TLS \(transport=auto: .*vSAN.*\)"
      "read over NFC over TLS \(transport=auto: .*the disk is encrypted \(VM Encryption\).*\)")

# No transport given: every disk chosen at start, said in its
# description, and read byte-exact by nbdcopy and qemu-img.
sock=$VCSIM_DIR/auto.sock
nbdkit_serve "$sock" vm=DC0/vm/mix
nbdinfo --list --json "nbd+unix:///?socket=$sock" > "$VCSIM_DIR/list.json"
for i in 0 1 2 3; do
  desc=$(jq -r --arg n "${paths[i]}" '.exports[] | select(."export-name" == $n) | .description' "$VCSIM_DIR/list.json")
  grep -Eq "${want[i]}" <<<"$desc" || fail "disk $i: description: $desc"
  uri="nbd+unix:///$(enc "${paths[i]}")?socket=$sock"
  rm -f "$VCSIM_DIR/d.raw" "$VCSIM_DIR/q.raw"
  nbdcopy "$uri" "$VCSIM_DIR/d.raw" || fail "disk $i: nbdcopy"
  qemu-img convert -f raw -O raw "$uri" "$VCSIM_DIR/q.raw" || fail "disk $i: qemu-img"
  cmp "$img" "$VCSIM_DIR/d.raw" || fail "disk $i (${paths[i]}): nbdcopy's copy differs"
  cmp "$img" "$VCSIM_DIR/q.raw" || fail "disk $i (${paths[i]}): qemu-img's copy differs"
done
nbdkit_stop
echo "ok: auto reads the flat disk over /folder, the encrypted and vSAN ones over NFC, each byte-exact and described"

# nbdkit -v says the same.
nbdkit_vsphere -v vm=DC0/vm/mix --run true 2> "$VCSIM_DIR/v.err" ||
  fail "nbdkit -v: $(tail -5 "$VCSIM_DIR/v.err")"
grep -q "mix/enc.vmdk: read over NFC over TLS (transport=auto: the disk is encrypted" "$VCSIM_DIR/v.err" ||
  fail "-v does not say how the encrypted disk is read"
grep -q "mix/flat.vmdk: read over /folder (transport=auto: its files on the datastore serve it)" "$VCSIM_DIR/v.err" ||
  fail "-v does not say how the flat disk is read"
echo "ok: nbdkit -v names each disk's transport and why"

# The /folder transports refuse the disks they cannot read, naming the
# way that can.
expect_error "enc.vmdk of VM mix is encrypted \(VM Encryption\).*transport=vcenter cannot decrypt.*transport=nfcssl or nfc" \
  vm=DC0/vm/mix transport=vcenter disk=1
expect_error "enc-desc.vmdk: the disk is encrypted \(VM Encryption\): its extents hold ciphertext" \
  vm=DC0/vm/mix transport=vcenter disk=3
expect_error "this is a vSAN disk \(VSANSPARSE extent\)" \
  vm=DC0/vm/mix transport=vcenter disk=2

# The vSAN disk over each NFC transport named.
for t in nfc nfcssl; do
  nbdkit_vsphere vm=DC0/vm/mix disk=2 transport=$t --run '
    nbdcopy "$uri" "$VCSIM_DIR/v.raw"' || fail "transport=$t: vSAN disk"
  cmp "$img" "$VCSIM_DIR/v.raw" || fail "transport=$t: the vSAN disk differs"
done
echo "ok: the vSAN disk reads byte-exact over nfc and nfcssl"

# A running VM whose base extent the host will not open by /folder once
# a snapshot is over it: auto reads the snapshot over NFC; vcenter
# fails, saying what the host answered; no snapshot is left.
vcsim_ctl POST "/vm/create?path=DC0/vm/run&power=on" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/run&ds=LocalDS_0&name=run/run&image=$img" >/dev/null
vcsim_ctl POST /knobs?locked_base=1 >/dev/null
expect_error "run-flat.vmdk: reading 1 bytes at offset 0 failed after all retries: HTTP 500" \
  vm=DC0/vm/run snapshot=create transport=vcenter retries=1
[ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/run)" ] || fail "transport=vcenter left a snapshot"
head -c 65536 /dev/urandom > "$VCSIM_DIR/w"
nbdkit_vsphere vm=DC0/vm/run snapshot=create retries=1 --run '
  nbdinfo --json "$uri" > "$VCSIM_DIR/run.json" &&
  curl -sSf -X POST --data-binary "@$VCSIM_DIR/w" "$VCSIM_CONTROL/disk/write?vm=DC0/vm/run&disk=0&offset=0" &&
  nbdcopy "$uri" "$VCSIM_DIR/r.raw"' 2> "$VCSIM_DIR/run.err" ||
  fail "auto, running VM: $(cat "$VCSIM_DIR/run.err")"
cmp "$img" "$VCSIM_DIR/r.raw" || fail "auto, running VM: not the snapshot's moment"
grep -q 'read over NFC over TLS (transport=auto: .*run-flat.vmdk: HTTP 500' "$VCSIM_DIR/run.json" ||
  fail "auto, running VM: description: $(cat "$VCSIM_DIR/run.json")"
grep -q "error" "$VCSIM_DIR/run.err" && fail "auto printed an error: $(cat "$VCSIM_DIR/run.err")"
[ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/run)" ] || fail "auto left a snapshot"
vcsim_ctl POST /knobs?locked_base=0 >/dev/null
echo "ok: a running VM whose base extent /folder refuses is read over NFC, from its snapshot"

# An existing snapshot whose chain has two deltas, over nfc and nfcssl:
# the host composes it.
vcsim_ctl POST "/vm/create?path=DC0/vm/deep&power=on" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/deep&ds=LocalDS_0&name=deep/deep&image=$img" >/dev/null
cp "$img" "$VCSIM_DIR/deep.img"
for s in s1 s2; do
  vcsim_ctl POST "/snapshot/create?vm=DC0/vm/deep&name=$s" >/dev/null
  head -c 100000 /dev/urandom > "$VCSIM_DIR/w"
  off=$((RANDOM * 64))
  vcsim_ctl POST "/disk/write?vm=DC0/vm/deep&disk=0&offset=$off" --data-binary "@$VCSIM_DIR/w" >/dev/null
  dd if="$VCSIM_DIR/w" of="$VCSIM_DIR/deep.img" bs=1 seek=$off conv=notrunc status=none
done
vcsim_ctl POST "/snapshot/create?vm=DC0/vm/deep&name=s3" >/dev/null
vcsim_ctl POST "/disk/write?vm=DC0/vm/deep&disk=0&offset=0" --data-binary "@$VCSIM_DIR/w" >/dev/null
for t in nfc nfcssl; do
  nbdkit_vsphere vm=DC0/vm/deep snapshot=s3 transport=$t --run '
    nbdcopy "$uri" "$VCSIM_DIR/deep.raw" &&
    qemu-img convert -f raw -O raw "$uri" "$VCSIM_DIR/deep-q.raw"' ||
    fail "transport=$t: snapshot s3"
  cmp "$VCSIM_DIR/deep.img" "$VCSIM_DIR/deep.raw" || fail "transport=$t: s3 differs (nbdcopy)"
  cmp "$VCSIM_DIR/deep.img" "$VCSIM_DIR/deep-q.raw" || fail "transport=$t: s3 differs (qemu-img)"
done
echo "ok: a snapshot over two deltas reads byte-exact over nfc and nfcssl"

# A three-disk VM, every disk an export of one instance, over nfc and
# nfcssl.
vcsim_ctl POST "/vm/create?path=DC0/vm/three&power=on" >/dev/null
for i in 0 1 2; do
  make_image "$VCSIM_DIR/t$i.img" $((i + 2))
  vcsim_ctl POST "/disk/add?vm=DC0/vm/three&ds=LocalDS_0&name=three/d$i&image=$VCSIM_DIR/t$i.img" >/dev/null
done
for t in nfc nfcssl; do
  nbdkit_vsphere vm=DC0/vm/three snapshot=create transport=$t --run '
    for i in 0 1 2; do
      nbdcopy "nbd+unix:///$i?socket=$unixsocket" "$VCSIM_DIR/t$i.raw" || exit 1
    done' || fail "transport=$t: three disks"
  for i in 0 1 2; do
    cmp "$VCSIM_DIR/t$i.img" "$VCSIM_DIR/t$i.raw" || fail "transport=$t: disk $i differs"
  done
  [ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/three)" ] || fail "transport=$t left a snapshot"
done
echo "ok: a three-disk VM reads whole over nfc and nfcssl, one export per disk"
