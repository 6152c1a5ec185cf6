#!/usr/bin/env bash
# A 16-disk VM (two SCSI controllers), every disk copied at once by its
# own nbdcopy from one nbdkit at its default --threads: each copy is the
# snapshot's disk byte for byte, and nbdkit's peak RSS stays under
# 64 MiB.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

disks=16
limit_kib=$((64 * 1024))

vcsim_start
vm=DC0/vm/many
vcsim_ctl POST "/vm/create?path=$vm&power=on" >/dev/null
# Disks of 8, 12, 16 and 20 MiB, each its own random image.
for ((i = 0; i < disks; i++)); do
  make_image "$VCSIM_DIR/d$i.img" $((8 + 4 * (i % 4)))
  vcsim_ctl POST "/disk/add?vm=$vm&ds=LocalDS_0&name=many/d$i&image=$VCSIM_DIR/d$i.img" >/dev/null
done

sock=$VCSIM_DIR/sock
nbdkit_serve "$sock" "vm=$vm" snapshot=create
snap=$(vcsim_ctl GET "/snapshots?vm=$vm" | awk '$2 ~ /^nbdkit-vsphere-/ {print $2}')
[ -n "$snap" ] || fail "no temporary snapshot"

pids=()
for ((i = 0; i < disks; i++)); do
  nbdcopy "nbd+unix:///$i?socket=$sock" "$VCSIM_DIR/out$i.raw" &
  pids+=($!)
done
for ((i = 0; i < disks; i++)); do
  wait "${pids[i]}" || fail "nbdcopy of disk $i failed: $(cat "$VCSIM_DIR/nbdkit.err")"
done
peak_kib=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$nbdkit_pid/status")
[ -n "$peak_kib" ] || fail "no VmHWM for nbdkit (pid $nbdkit_pid)"
echo "nbdkit peak RSS copying $disks disks at once: $peak_kib KiB"

for ((i = 0; i < disks; i++)); do
  curl -sf "$VCSIM_CONTROL/disk/image?vm=$vm&disk=$i&snapshot=$snap" -o "$VCSIM_DIR/want$i"
  same_bytes "$VCSIM_DIR/d$i.img" "$VCSIM_DIR/want$i"
  same_bytes "$VCSIM_DIR/want$i" "$VCSIM_DIR/out$i.raw"
done
echo "ok: all $disks disks copied at once, byte for byte"

# ASan's shadow memory and quarantine make RSS meaningless there.
if [ -n "${SANITIZER_LIBASAN:-}" ]; then
  echo "peak RSS not checked under the sanitizers"
elif [ "$peak_kib" -ge "$limit_kib" ]; then
  fail "nbdkit's peak RSS was $peak_kib KiB, not under $limit_kib KiB"
else
  echo "ok: peak RSS under $limit_kib KiB"
fi

nbdkit_stop
[ -z "$(vcsim_ctl GET "/snapshots?vm=$vm")" ] ||
  fail "snapshots left: $(vcsim_ctl GET "/snapshots?vm=$vm")"
echo "ok: the temporary snapshot was removed"
