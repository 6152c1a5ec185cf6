#!/usr/bin/env bash
# vsphere-sync over NFC: a running VM with CBT on, an encrypted disk and
# a plain one, copied in full and then incrementally, over nfc and with
# the default transport (which reads the encrypted disk over NFC and the
# plain one over /folder).  Each cycle is exact, the host sends no more
# than 1.1 times the bytes the cycle has to copy, and no snapshot stays.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
mib=$((1 << 20))
counter () { vcsim_ctl GET /counters | sed -n "s/^$1=//p"; }

# check_cycle WHAT: every disk exact, the bytes read bounded.
check_cycle ()
{
  local what=$1 read to_copy
  same_image "$what: disk 0" "$VCSIM_DIR/e.img" "$out/$name-disk0.raw" raw
  same_image "$what: disk 1" "$VCSIM_DIR/p.img" "$out/$name-disk1.raw" raw
  read=$(( $(counter nfc_bytes) + $(counter folder_bytes) ))
  to_copy=$(json_get .bytes_to_copy)
  [ "$to_copy" -gt 0 ] || fail "$what: nothing to copy"
  [ "$read" -le $((to_copy + to_copy / 10)) ] ||
    fail "$what: read $read bytes to copy $to_copy"
  expect_no_snapshot "$vm" "$what"
  echo "ok: $what: exact, $read bytes read for $to_copy to copy"
}

for transport in nfc default; do
  name=sync-$transport
  vm=DC0/vm/$name
  new_vm "$vm" >/dev/null
  make_image "$VCSIM_DIR/e.img" 12
  make_image "$VCSIM_DIR/p.img" 6
  vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=$name/enc&image=$VCSIM_DIR/e.img&encrypted=1" >/dev/null
  add_disk "$vm" LocalDS_0 "$name/plain" "$VCSIM_DIR/p.img" >/dev/null
  out=$VCSIM_DIR/$name
  mkdir "$out"
  params=($(server_params "$vm"))
  [ "$transport" = default ] || params+=("transport=$transport")

  vcsim_ctl POST /counters/reset >/dev/null
  sync_ok "$transport: full" --json -o "$out" -- "${params[@]}"
  [ "$(json_disk 2000 mode)" = full ] || fail "not a full copy: $(cat "$VCSIM_DIR/sync.out")"
  check_cycle "$transport: the full cycle"
  if [ "$transport" = nfc ]; then
    [ "$(counter folder_bytes)" = 0 ] || fail "transport=nfc read over /folder"
  else
    [ "$(counter nfc_bytes)" -ge $((12 * mib - 5 * 65536)) ] ||
      fail "the default transport did not read the encrypted disk over NFC"
    [ "$(counter folder_bytes)" -gt 0 ] ||
      fail "the default transport did not read the plain disk over /folder"
  fi

  model_write "$vm" 0 "$VCSIM_DIR/e.img" $((3 * mib + 100)) 70000
  model_write "$vm" 0 "$VCSIM_DIR/e.img" $((11 * mib)) 65536 zero
  model_write "$vm" 1 "$VCSIM_DIR/p.img" $((5 * mib)) 131072
  vcsim_ctl POST /counters/reset >/dev/null
  sync_ok "$transport: incremental" --json -v -o "$out" -- "${params[@]}"
  [ "$(json_disk 2000 mode)" = incremental ] ||
    fail "not incremental: $(cat "$VCSIM_DIR/sync.out")"
  check_cycle "$transport: the incremental cycle"
  # -v says which transport each disk is read over, and why.
  if [ "$transport" = default ]; then
    grep -q "$name/enc.vmdk: read over NFC over TLS (transport=auto: the disk is encrypted" "$VCSIM_DIR/sync.err" &&
      grep -q "$name/plain.vmdk: read over /folder (transport=auto" "$VCSIM_DIR/sync.err" ||
      fail "-v does not name each disk's transport: $(grep 'read over' "$VCSIM_DIR/sync.err")"
  fi
done
