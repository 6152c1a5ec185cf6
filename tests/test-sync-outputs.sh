#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2016,SC2046,SC2086,SC2154,SC2207
# Where vsphere-sync writes: -o DIR naming (DIR/VM-diskN.raw or .qcow2,
# DIR/VM.vsphere-sync.json); --disk KEY=PATH and --disk INDEX=PATH, with
# and without -o; overlay chains of two VMs in one directory whose name
# holds dots, given relative; a --full copy of an overlay output that
# removes its own overlays and no other file; block devices and
# symbolic links to block devices written in place; a block device too
# small for its disk refused.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
cd "$VCSIM_DIR"

# VM web01: two disks; web02: one disk.
new_vm DC0/vm/web01 >/dev/null
new_vm DC0/vm/web02 >/dev/null
a0=$VCSIM_DIR/web01-0.img; a1=$VCSIM_DIR/web01-1.img; b0=$VCSIM_DIR/web02-0.img
make_image "$a0" 6
make_image "$a1" 4
make_image "$b0" 5
k0=$(add_disk DC0/vm/web01 LocalDS_0 web01/web01 "$a0")
k1=$(add_disk DC0/vm/web01 LocalDS_1 web01/web01_1 "$a1")
add_disk DC0/vm/web02 LocalDS_0 web02/web02 "$b0" >/dev/null
p1=($(server_params DC0/vm/web01))
p2=($(server_params DC0/vm/web02))
change_web01 ()
{
  model_write DC0/vm/web01 0 "$a0" $((RANDOM * 100)) 70000
  model_write DC0/vm/web01 1 "$a1" $((RANDOM * 64)) 5000
}
change_web02 () { model_write DC0/vm/web02 0 "$b0" $((RANDOM * 100)) 90000; }

# 1. -o DIR: the names.
mkdir plain
sync_ok "-o DIR" -o plain -- "${p1[@]}"
same_image "-o DIR" "$a0" plain/web01-disk0.raw raw
same_image "-o DIR" "$a1" plain/web01-disk1.raw raw
[ -f plain/web01.vsphere-sync.json ] || fail "no plain/web01.vsphere-sync.json: $(ls plain)"
[ "$(ls plain | sort | tr '\n' ' ')" = "web01-disk0.raw web01-disk1.raw web01.vsphere-sync.json " ] ||
  fail "-o DIR wrote other files: $(ls plain)"
# -o elsewhere than the outputs its --state records would be ignored
# for them: refused, naming where they are.
mkdir elsewhere
cp plain/web01.vsphere-sync.json before.json
sync_fails "-o elsewhere than --state's outputs" 1 \
  "-o elsewhere: the state file .*plain/web01.vsphere-sync.json records the output of disk .* as $VCSIM_DIR/plain/web01-disk0.raw, not in this directory, and -o does not move it: give -o $VCSIM_DIR/plain, or leave -o out" \
  --state plain/web01.vsphere-sync.json -o elsewhere -- "${p1[@]}"
cmp -s before.json plain/web01.vsphere-sync.json || fail "the refused run changed the state"
[ -z "$(ls elsewhere)" ] || fail "the refused run wrote into -o: $(ls elsewhere)"
check_no_snapshot DC0/vm/web01 "-o elsewhere"
change_web01
sync_ok "--state with -o where its outputs are" --state plain/web01.vsphere-sync.json -o plain -- "${p1[@]}"
same_image "--state with -o" "$a0" plain/web01-disk0.raw raw
mkdir q
sync_ok "-o DIR -f qcow2" -f qcow2 -o q -- "${p1[@]}"
same_image "-o DIR -f qcow2" "$a0" q/web01-disk0.qcow2 qcow2
same_image "-o DIR -f qcow2" "$a1" q/web01-disk1.qcow2 qcow2
[ "$(qemu-img info --output=json q/web01-disk0.qcow2 | jq -r .format)" = qcow2 ] || fail "q/web01-disk0.qcow2 is no qcow2"
echo "ok: -o DIR names DIR/VM-diskN.raw, .qcow2 and DIR/VM.vsphere-sync.json"

# 2. --disk KEY=PATH and --disk INDEX=PATH.
mkdir by
sync_ok "--disk KEY= and INDEX=" --state by/s.json --disk "$k1=by/second.img" --disk "0=by/first.img" -- "${p1[@]}"
same_image "--disk INDEX=" "$a0" by/first.img raw
same_image "--disk KEY=" "$a1" by/second.img raw
# Recorded relative to the state file's directory, which holds it.
[ "$(disk_get by/s.json "$k0" output)" = "first.img" ] ||
  fail "--disk 0=: state output $(disk_get by/s.json "$k0" output)"
change_web01
# From another directory, with absolute paths: the same outputs.
(cd / && sync_ok "--disk, again" --json --state "$VCSIM_DIR/by/s.json" \
   --disk "$k1=$VCSIM_DIR/by/second.img" --disk "0=$VCSIM_DIR/by/first.img" -- "${p1[@]}")
[ "$(json_disk "$k0" mode)" = incremental ] || fail "--disk, again: disk 0 copied $(json_disk "$k0" mode)"
same_image "--disk INDEX=, again" "$a0" by/first.img raw
same_image "--disk KEY=, again" "$a1" by/second.img raw
# Partly --disk, the rest in -o DIR.
mkdir mixed
sync_ok "--disk with -o" -o mixed --disk "1=mixed/data.raw" -- "${p1[@]}"
same_image "--disk with -o" "$a0" mixed/web01-disk0.raw raw
same_image "--disk with -o" "$a1" mixed/data.raw raw
[ ! -e mixed/web01-disk1.raw ] || fail "--disk 1= was also copied into -o DIR"
[ -f mixed/web01.vsphere-sync.json ] || fail "--disk with -o: no state in DIR"
echo "ok: --disk KEY=PATH and INDEX=PATH, alone and with -o"

# safe_cycle WHAT KEY MODEL OUTPUT OPTIONS...: a cycle whose output of
# disk KEY cannot be updated incrementally (it moved, or is gone): it
# must be copied in full and be exact, or the cycle must fail and say
# so; never an incremental copy into it.
safe_cycle ()
{
  local what=$1 key=$2 model=$3 out=$4
  shift 4
  vsync --json "$@" -- "${p1[@]}"
  if [ "$sync_rc" -eq 0 ]; then
    [ "$(json_disk "$key" mode)" = full ] ||
      fail "$what: disk $key copied $(json_disk "$key" mode) into an output that does not hold its previous cycle"
    same_image "$what" "$model" "$out" raw
    echo "ok: $what: copied in full ($(json_disk "$key" reason))"
  else
    grep -Fq -- "$(basename "$out")" "$VCSIM_DIR/sync.err" ||
      fail "$what: failed without naming $out: $(cat "$VCSIM_DIR/sync.err")"
    echo "ok: $what: refused ($(grep -F -m1 -- "$(basename "$out")" "$VCSIM_DIR/sync.err"))"
  fi
}
change_web01
safe_cycle "--disk to a new path" "$k0" "$a0" by/moved.img \
  --state by/s.json --disk "$k1=by/second.img" --disk "0=by/moved.img"
change_web01
rm plain/web01-disk1.raw
safe_cycle "an output removed by hand" "$k1" "$a1" plain/web01-disk1.raw -o plain
# Without -o, every disk needs a --disk, and --state is needed.
sync_fails "--disk for one disk of two, without -o" "[12]" "($k0|Hard disk 1|disk 0)" \
  --state by/t.json --disk "1=by/x.img" -- "${p1[@]}"
[ ! -e by/x.img ] && [ ! -e by/t.json ] || fail "a refused run wrote outputs or state"
check_no_snapshot DC0/vm/web01 "a refused run"
sync_fails "--disk without --state" 2 "state" --disk "0=by/y.img" --disk "1=by/z.img" -- "${p1[@]}"
# A --disk that names no disk of the VM is not ignored silently.
named_anyway ()
{
  local what=$1 pattern=$2
  shift 2
  vsync "$@" -- "${p1[@]}"
  grep -Eq -- "$pattern" "$VCSIM_DIR/sync.err" ||
    fail "$what: nothing said about it (exit status $sync_rc): $(cat "$VCSIM_DIR/sync.err")"
  echo "ok: $what: exit status $sync_rc: $(grep -E -m1 -- "$pattern" "$VCSIM_DIR/sync.err")"
}
named_anyway "--disk with an unknown key" "9999|by/w.img" --state by/u.json --disk "0=by/y.img" \
  --disk "1=by/z.img" --disk "9999=by/w.img"
named_anyway "--disk with an index past the disks" "by/w.img" -o mixed --disk "2=by/w.img"
[ ! -e by/w.img ] || fail "a --disk naming no disk was written"
sync_fails "two --disk to the same file" "[12]" "by/same.img" --state by/v.json --disk "0=by/same.img" \
  --disk "1=by/same.img" -- "${p1[@]}"
[ ! -e by/same.img ] || fail "two disks were written into one file"

# 3. Overlay chains of two VMs in one directory with dots in its name,
# given as a relative path with a trailing slash.
mkdir web.01.d
sync_ok "web01 --overlay" --overlay -o ./web.01.d/ -- "${p1[@]}"
sync_ok "web02 --overlay" --overlay -o ./web.01.d/ -- "${p2[@]}"
for cycle in 1 2 3; do
  change_web01
  change_web02
  sync_ok "web01 --overlay, cycle $cycle" --overlay -o ./web.01.d/ -- "${p1[@]}"
  sync_ok "web02 --overlay, cycle $cycle" --overlay -o ./web.01.d/ -- "${p2[@]}"
done
# And once from elsewhere, with an absolute path.
change_web01
(cd / && sync_ok "web01 --overlay, absolute -o" --overlay -o "$VCSIM_DIR/web.01.d" -- "${p1[@]}")
want="web01-disk0.raw web01-disk0.raw.1.qcow2 web01-disk0.raw.2.qcow2 web01-disk0.raw.3.qcow2 web01-disk0.raw.4.qcow2"
want+=" web01-disk1.raw web01-disk1.raw.1.qcow2 web01-disk1.raw.2.qcow2 web01-disk1.raw.3.qcow2 web01-disk1.raw.4.qcow2"
want+=" web01.vsphere-sync.json web02-disk0.raw web02-disk0.raw.1.qcow2 web02-disk0.raw.2.qcow2 web02-disk0.raw.3.qcow2"
want+=" web02.vsphere-sync.json "
[ "$(ls web.01.d | sort | tr '\n' ' ')" = "$want" ] ||
  fail "the overlay directory holds: $(ls web.01.d | tr '\n' ' ') want: $want"
for n in 0 1; do
  [ "$(disk_get web.01.d/web01.vsphere-sync.json "$([ $n = 0 ] && echo "$k0" || echo "$k1")" 'overlays | map(split("/") | last) | join(" ")')" = \
    "web01-disk$n.raw.1.qcow2 web01-disk$n.raw.2.qcow2 web01-disk$n.raw.3.qcow2 web01-disk$n.raw.4.qcow2" ] ||
    fail "web01 disk $n overlays: $(cat web.01.d/web01.vsphere-sync.json)"
done
jq -e '[.disks[].overlays[]] | all(test("web02-disk0\\.raw\\.[123]\\.qcow2$"))' web.01.d/web02.vsphere-sync.json >/dev/null ||
  fail "web02 overlays: $(cat web.01.d/web02.vsphere-sync.json)"
same_image "web01 chain" "$a0" web.01.d/web01-disk0.raw.4.qcow2 qcow2
same_image "web01 chain" "$a1" web.01.d/web01-disk1.raw.4.qcow2 qcow2
same_image "web02 chain" "$b0" web.01.d/web02-disk0.raw.3.qcow2 qcow2
echo "ok: two VMs' overlay chains in ./web.01.d/, each its own"

# 4. --full of web01's overlay output removes web01's overlays and no
# other file, however alike its name.
planted=(web01-disk0.raw.7.qcow2 web01-disk0.raw.1.qcow2.bak web01-disk0.raw.1.qcow2~
         web01-disk0.raw.old web01-disk0.raw.x.qcow2 web01-disk0.raw.1.qcow2.d
         web01-disk00.raw.1.qcow2 web01-disk0.raw.1.qcow2.lock-not)
for f in "${planted[@]}"; do echo "planted $f" > "web.01.d/$f"; done
mkdir web.01.d/web01-disk0.raw.2.qcow2.dir
ln -s web01-disk0.raw.3.qcow2 web.01.d/web01-link.qcow2
change_web01
sync_ok "web01 --full --overlay" --full --overlay --json -o ./web.01.d/ -- "${p1[@]}"
[ "$(json_disk "$k0" mode)" = full ] && [ "$(json_disk "$k1" mode)" = full ] ||
  fail "--full: $(cat "$VCSIM_DIR/sync.out")"
json_disk "$k0" reason | grep -qi full || fail "--full: the reason does not say --full: $(json_disk "$k0" reason)"
for f in "${planted[@]}"; do
  [ "$(cat "web.01.d/$f")" = "planted $f" ] || fail "--full removed or changed the unrelated $f"
done
[ -d web.01.d/web01-disk0.raw.2.qcow2.dir ] || fail "--full removed a directory"
[ -L web.01.d/web01-link.qcow2 ] || fail "--full removed a symbolic link"
for n in 0 1; do
  for i in 1 2 3 4; do
    [ ! -e "web.01.d/web01-disk$n.raw.$i.qcow2" ] || fail "--full left web01's overlay web01-disk$n.raw.$i.qcow2"
  done
done
for i in 1 2 3; do
  [ -f "web.01.d/web02-disk0.raw.$i.qcow2" ] || fail "web01's --full removed web02's overlay $i"
done
[ "$(jq '[.disks[].overlays[]] | length' web.01.d/web01.vsphere-sync.json)" = 0 ] ||
  fail "--full: the state still lists overlays: $(cat web.01.d/web01.vsphere-sync.json)"
same_image "--full base" "$a0" web.01.d/web01-disk0.raw raw
same_image "--full base" "$a1" web.01.d/web01-disk1.raw raw
# Both chains go on.
change_web01
change_web02
sync_ok "web01 after --full" --overlay -o ./web.01.d/ -- "${p1[@]}"
sync_ok "web02 after web01's --full" --overlay -o ./web.01.d/ -- "${p2[@]}"
top=$(state_path web.01.d/web01.vsphere-sync.json "$(disk_get web.01.d/web01.vsphere-sync.json "$k0" 'overlays[-1]')")
case $top in */web01-disk0.raw.[0-9]*.qcow2|web01-disk0.raw.[0-9]*.qcow2) ;; *) fail "new overlay $top" ;; esac
same_image "web01 after --full" "$a0" "$top" qcow2
for f in "${planted[@]}"; do
  [ "$(cat "web.01.d/$f")" = "planted $f" ] || fail "the cycle after --full overwrote the unrelated $f"
done
same_image "web02 after web01's --full" "$b0" web.01.d/web02-disk0.raw.4.qcow2 qcow2
echo "ok: --full removes its own overlays only"

# A disk with nothing to copy gets no overlay: only disk 0 changed.
before=$(ls web.01.d | sort | tr '\n' ' ')
chain1=$(disk_get web.01.d/web01.vsphere-sync.json "$k1" 'overlays | join(" ")')
model_write DC0/vm/web01 0 "$a0" 4096 70000
sync_ok "web01, disk 1 unchanged" --overlay --json -o ./web.01.d/ -- "${p1[@]}"
[ "$(disk_get web.01.d/web01.vsphere-sync.json "$k1" 'overlays | join(" ")')" = "$chain1" ] ||
  fail "disk 1's chain changed with nothing to copy: $(cat web.01.d/web01.vsphere-sync.json)"
new=$(comm -13 <(tr ' ' '\n' <<< "$before" | sort) <(ls web.01.d | sort) | tr '\n' ' ')
case $new in "web01-disk0.raw."[0-9]*".qcow2 ") ;; *) fail "new files: '$new', want disk 0's overlay alone" ;; esac
top=$(state_path web.01.d/web01.vsphere-sync.json "$(disk_get web.01.d/web01.vsphere-sync.json "$k0" 'overlays[-1]')")
same_image "disk 0's new overlay" "$a0" "$top" qcow2
top=$(state_path web.01.d/web01.vsphere-sync.json "$(disk_get web.01.d/web01.vsphere-sync.json "$k1" 'overlays[-1]')")
same_image "disk 1's chain, untouched" "$a1" "$top" qcow2
echo "ok: an unchanged disk gets no empty overlay"

# 5. Block devices, and symbolic links to them, written in place.
if ! command -v losetup >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "$0: block device outputs skipped: needs root and losetup"
  sync_done; exit 0
fi
# loop_device VAR FILE SIZE: a loop device over a sparse FILE of SIZE
# bytes filled with garbage, its name in VAR (detached at exit).
loop_device ()
{
  local dev
  truncate -s "$3" "$2"
  dev=$(losetup -f --show "$2" 2>/dev/null) || return 1
  vcsim_on_exit "losetup -d $dev"
  tr '\0' '\377' < /dev/zero | head -c "$3" > "$dev"
  printf -v "$1" %s "$dev"
}
loop_device dev0 "$VCSIM_DIR/lv0" $((7 << 20)) || {
  echo "$0: block device outputs skipped: losetup -f failed"
  sync_done; exit 0
}
loop_device dev1 "$VCSIM_DIR/lv1" $((4 << 20)) || {
  echo "$0: block device outputs skipped: losetup -f failed"
  sync_done; exit 0
}
ln -s "$dev1" "$VCSIM_DIR/vg-web01-data"
mkdir blk
for cycle in 1 2; do
  [ $cycle = 1 ] || change_web01
  sync_ok "block devices, cycle $cycle" --json --state blk/s.json \
    --disk "0=$dev0" --disk "1=$VCSIM_DIR/vg-web01-data" -- "${p1[@]}"
  [ -b "$dev0" ] || fail "$dev0 was replaced"
  [ -L "$VCSIM_DIR/vg-web01-data" ] || fail "the symbolic link was replaced: $(ls -l "$VCSIM_DIR/vg-web01-data")"
  [ "$(readlink "$VCSIM_DIR/vg-web01-data")" = "$dev1" ] || fail "the symbolic link was changed"
  same_image "block device, cycle $cycle" "$a0" "$dev0" raw
  same_image "symbolic link to a block device, cycle $cycle" "$a1" "$dev1" raw
  [ "$(disk_get blk/s.json "$k0" format)" = raw ] || fail "a block device output is not raw in the state"
  # The rest of the device is not touched.
  cmp -s -i $((6 << 20)):0 -n $((1 << 20)) "$dev0" <(tr '\0' '\377' < /dev/zero | head -c $((1 << 20))) ||
    fail "the block device was written past the disk's end"
  if [ $cycle = 2 ]; then
    [ "$(json_disk "$k0" mode)" = incremental ] || fail "block device, cycle 2: $(json_disk "$k0" mode)"
    [ "$(json_disk "$k1" mode)" = incremental ] || fail "link to a block device, cycle 2: $(json_disk "$k1" mode)"
  fi
done
# -f qcow2 with a block device: written raw, or refused with a message
# that names the device.
change_web01
vsync --json -f qcow2 --state blk/s.json --disk "0=$dev0" --disk "1=$VCSIM_DIR/vg-web01-data" -- "${p1[@]}"
if [ "$sync_rc" = 0 ]; then
  same_image "-f qcow2 on a block device" "$a0" "$dev0" raw
  echo "ok: -f qcow2 on block devices: written raw"
else
  grep -q -- "$dev0" "$VCSIM_DIR/sync.err" || fail "-f qcow2 on a block device: $(cat "$VCSIM_DIR/sync.err")"
  check_no_snapshot DC0/vm/web01 "-f qcow2 on a block device"
  echo "ok: -f qcow2 on block devices: refused: $(grep -m1 -- "$dev0" "$VCSIM_DIR/sync.err")"
fi
echo "ok: block devices and links to them are written in place, raw, exact"

loop_device small "$VCSIM_DIR/lv2" $((3 << 20)) || fail "losetup -f failed"
before=$(sha256sum < "$small")
sync_fails "a block device smaller than the disk" 1 "small|size|large|bytes" \
  --state blk/small.json --disk "0=$small" --disk "1=blk/d1.raw" -- "${p1[@]}"
grep -q -- "$small" "$VCSIM_DIR/sync.err" || fail "the message does not name $small: $(cat "$VCSIM_DIR/sync.err")"
[ "$(sha256sum < "$small")" = "$before" ] || fail "the too small block device was written"
[ ! -e blk/small.json ] || fail "a state was written for the refused block device"
check_no_snapshot DC0/vm/web01 "the refused block device"

sync_done
