# Helpers of the conversion tests (test-v2v-cold.sh, test-v2v-warm.sh):
# the Debian guest's VM in the simulator, guest writes after a snapshot,
# and the proof of a conversion: the guest boots on virtio and its data
# disk holds the files it should.  Source after functions.sh and
# sync-functions.sh, after vcsim_start.
# shellcheck shell=bash
#
# SPDX-License-Identifier: BSD-3-Clause

requires virt-v2v virt-v2v-in-place guestfish qemu-system-x86_64 xmllint
guest_dir=$abs_srcdir/guest
# shellcheck source=guest/guest-functions.sh
source "$guest_dir/guest-functions.sh"
# libguestfs (in virt-v2v and check-data-files) on TCG where KVM would hang.
guest_libguestfs_env "$(guest_accel)"
v2v=$abs_top_builddir/v2v/vsphere-v2v

# guest_images: the Debian guest's disk ($os_image, cached between runs)
# and the data disk in its two versions ($VCSIM_DIR/data-1.raw and
# data-2.raw, with their manifests data-N.files).
guest_images ()
{
  local start=$SECONDS
  os_image=$("$guest_dir/build-debian-image")
  "$guest_dir/build-data-image" "$VCSIM_DIR/data-1.raw" 1
  "$guest_dir/build-data-image" "$VCSIM_DIR/data-2.raw" 2
  echo "guest images ready in $((SECONDS - start)) s: $os_image"
}

# guest_vm VM: the guest's VM, powered on with CBT, as a VMware install
# of Debian 12 has it: BIOS, 2 vCPUs, 1.5 GiB, PVSCSI, a vmxnet3 NIC.
# Disk 0 is the data disk (version 1), disk 1 the system disk: the
# conversion must find the system by inspection, not take disk 0.
guest_vm ()
{
  local vm=$1 name=${1##*/} q
  q=$(vcsim_urlencode "$vm")
  vcsim_ctl POST "/vm/create?path=$q&power=on&cbt=1&guest=debian12_64Guest&memory=1536&cpus=2&nic=vmxnet3&mac=00:50:56:aa:bb:01" >/dev/null
  vcsim_ctl POST "/disk/add?vm=$q&ds=LocalDS_0&name=$name/data&image=$VCSIM_DIR/data-1.raw" >/dev/null
  vcsim_ctl POST "/disk/add?vm=$q&ds=LocalDS_0&name=$name/system&image=$os_image" >/dev/null
}

# scribble VM: guest writes of garbage over the first 64 KiB of both
# disks: the system disk's boot code and partition table, the data
# disk's superblock.  A copy that held them would neither boot nor
# mount.
scribble ()
{
  local q d
  q=$(vcsim_urlencode "$1")
  head -c 65536 /dev/urandom > "$VCSIM_DIR/scribble"
  for d in 0 1; do
    vcsim_ctl POST "/disk/write?vm=$q&disk=$d&offset=0" \
      --data-binary "@$VCSIM_DIR/scribble" >/dev/null
  done
}

# scribble_after_snapshot VM: in the background, wait (up to 5 minutes)
# for a snapshot of VM, then scribble; sets scribbler_pid.  Until then
# every /folder request waits 2 s, so that the guest's writes land
# between the snapshot and the first read of it, however fast the
# reader (an incremental cycle lasts a fraction of a second).
scribble_after_snapshot ()
{
  local q
  q=$(vcsim_urlencode "$1")
  vcsim_ctl POST "/knobs?latency=2s" >/dev/null
  (
    for _ in $(seq 1500); do
      [ -z "$(vcsim_ctl GET "/snapshots?vm=$q")" ] || {
        scribble "$1"
        vcsim_ctl POST "/knobs?latency=0" >/dev/null
        exit 0
      }
      sleep 0.2
    done
    exit 1
  ) &
  scribbler_pid=$!
}

# expect_scribbled VM: the guest's writes did reach the live disks.
expect_scribbled ()
{
  local q d
  q=$(vcsim_urlencode "$1")
  wait "$scribbler_pid" || fail "no snapshot of $1 appeared to write after"
  for d in 0 1; do
    curl -sSf -o "$VCSIM_DIR/now" \
      "$VCSIM_CONTROL/disk/image?vm=$q&disk=$d&length=65536"
    cmp -s "$VCSIM_DIR/now" "$VCSIM_DIR/scribble" ||
      fail "the guest's writes did not reach disk $d of $1"
  done
}

# unscribble VM: the guest puts back what scribble overwrote, so that the
# VM's disks are the images again: data version 2 and the system.
unscribble ()
{
  local q
  q=$(vcsim_urlencode "$1")
  head -c 65536 "$VCSIM_DIR/data-2.raw" > "$VCSIM_DIR/unscribble"
  vcsim_ctl POST "/disk/write?vm=$q&disk=0&offset=0" \
    --data-binary "@$VCSIM_DIR/unscribble" >/dev/null
  head -c 65536 "$os_image" > "$VCSIM_DIR/unscribble"
  vcsim_ctl POST "/disk/write?vm=$q&disk=1&offset=0" \
    --data-binary "@$VCSIM_DIR/unscribble" >/dev/null
}

# data_v2 VM: the guest changes its data disk from version 1 to 2: a
# write of each 64 KiB block that differs.
data_v2 ()
{
  local q b n=0
  q=$(vcsim_urlencode "$1")
  for b in $(cmp -l "$VCSIM_DIR/data-1.raw" "$VCSIM_DIR/data-2.raw" |
               awk '{ print int(($1 - 1) / 65536) }' | uniq); do
    dd if="$VCSIM_DIR/data-2.raw" of="$VCSIM_DIR/block" bs=64K skip="$b" \
       count=1 status=none
    vcsim_ctl POST "/disk/write?vm=$q&disk=0&offset=$((b * 65536))" \
      --data-binary "@$VCSIM_DIR/block" >/dev/null
    n=$((n + 1))
  done
  echo "the guest wrote $n blocks of 64 KiB to its data disk"
}

# boot_converted DATA SYSTEM: the converted disks, in the VM's order,
# boot on virtio-blk and virtio-net from the system disk, and the
# guest's initramfs now holds virtio_blk.
boot_converted ()
{
  local start=$SECONDS
  "$guest_dir/boot-check" --disk virtio --net virtio --boot-disk 1 \
    --log "$VCSIM_DIR/console.log" "$1" "$2" > "$VCSIM_DIR/boot.out" || {
    cat "$VCSIM_DIR/boot.out"
    fail "the converted guest did not boot on virtio"
  }
  cat "$VCSIM_DIR/boot.out"
  grep -q 'NBDKIT-VSPHERE-GUEST-INFO .*virtio_blk' "$VCSIM_DIR/boot.out" ||
    fail "the guest booted without virtio_blk: $(cat "$VCSIM_DIR/boot.out")"
  echo "booted on virtio in $((SECONDS - start)) s"
}

# data_files IMAGE VERSION: the data disk's files are those of VERSION.
data_files ()
{
  "$guest_dir/check-data-files" "$1" "$VCSIM_DIR/data-$2.files" ||
    fail "the data disk $1 does not hold version $2's files"
}
