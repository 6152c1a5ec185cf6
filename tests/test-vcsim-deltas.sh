#!/usr/bin/env bash
# Harness self-test: real snapshot deltas (seSparse and vmfsSparse) as ESXi
# writes them. qemu-img, which reads both, is the independent oracle: the
# chain it composes must equal what the writes made and /disk/image.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
command -v qemu-img >/dev/null || { echo "qemu-img missing: skipped"; exit 77; }
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
unset VCSIM_DELTA_FORMAT # this test picks its formats itself
vcsim_start
soap_login >/dev/null

[[ $(vcsim_ctl GET /knobs | grep delta_format) =~ ^delta_format=(copy|sesparse|vmfssparse)$ ]] || fail "default delta format"
vcsim_ctl POST '/knobs?delta_format=copy' >/dev/null # whatever the default, VMs below choose
vcsim_ctl POST '/knobs?delta_format=bogus' 2>/dev/null && fail "bad delta_format accepted"
vcsim_ctl POST "/vm/create?path=DC0%2Fvm%2Fbad&delta=qcow2" 2>/dev/null && fail "bad delta= accepted"

K=65536
M=1048576
# Over 16 MiB (more than one seSparse grain table) and not a multiple of
# the 4 KiB grain, so the last grain is partial.
cap=$(( 40 * M + 1536 ))
img=$VCSIM_DIR/img.raw
truncate -s "$cap" "$img"
for at in 0 300 $(( 16 * M - 8192 )) $(( 33 * M + 1000 )); do
    head -c 200000 /dev/urandom | dd of="$img" bs=1 seek="$at" conv=notrunc status=none
done
head -c 1536 /dev/urandom | dd of="$img" bs=1 seek=$(( cap - 1536 )) conv=notrunc status=none

# u64 FILE BYTEOFFSET: a little-endian u64 of a file, in decimal.
u64 () { od -An -tu8 -j "$2" -N8 "$1" | tr -d ' '; }
# u32 FILE BYTEOFFSET
u32 () { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }

# se_entry EXTENT GRAIN: the grain table entry of a seSparse extent (hex).
se_entry () {
    local f=$1 g=$2 gd gts e
    gd=$(( $(u64 "$f" 128) * 512 ))
    gts=$(u64 "$f" 144)
    e=$(u64 "$f" $(( gd + g / 4096 * 8 )))
    [ "$e" != 0 ] || { echo 0; return; }
    printf '%x\n' "$(u64 "$f" $(( (gts + (e & 0xffffffff) * 64) * 512 + g % 4096 * 8 )))"
}

# check_chain DESC EXPECT WHAT: qemu-img's view of the chain at DESC is EXPECT.
check_chain () {
    qemu-img convert -f vmdk -O raw "$1" "$VCSIM_DIR/q.raw" || fail "$3: qemu-img cannot read $1"
    cmp "$2" "$VCSIM_DIR/q.raw" || fail "$3: qemu-img's $(basename "$1") differs from the expected bytes"
}
# check_image EXPECT [SNAPSHOT]: the harness's own chain reader agrees.
check_image () {
    curl -sSf -o "$VCSIM_DIR/i.raw" "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=0${2:+&snapshot=$2}" || fail "/disk/image $2"
    cmp "$1" "$VCSIM_DIR/i.raw" || fail "/disk/image${2:+ of $2} differs"
}
# write OFFSET BYTES [zero]: guest write mirrored into $VCSIM_DIR/expect;
# with "zero", the data is zeros and whole grains become zero grains.
write () {
    if [ "${3:-}" = zero ] || [ "${3:-}" = unmap ]; then
        head -c "$2" /dev/zero > "$VCSIM_DIR/w"
        vcsim_ctl POST "/disk/write?vm=$vmq&disk=0&offset=$1&zero=$3" --data-binary @"$VCSIM_DIR/w"
    else
        head -c "$2" /dev/urandom > "$VCSIM_DIR/w"
        vcsim_ctl POST "/disk/write?vm=$vmq&disk=0&offset=$1" --data-binary @"$VCSIM_DIR/w"
    fi
    dd if="$VCSIM_DIR/w" of="$VCSIM_DIR/expect" bs=1 seek="$1" conv=notrunc status=none
}
# backing_field FIELD [SNAPMOREF]: FIELD of our disk's (top) backing.
backing_field () {
    if [ -n "${2:-}" ]; then
        soap_props VirtualMachineSnapshot "$2" config.hardware.device
    else
        soap_props VirtualMachine "$vm" config.hardware.device
    fi | sed 's|</VirtualDevice>|&\n|g' | grep "<key>$key</key>" | xml_text "$1" | head -n 1
}
vm_files () { # the backing chain of the VM's disk, file names only
    soap_props VirtualMachine "$vm" config.hardware.device | sed 's|</VirtualDevice>|&\n|g' |
        grep "<key>$key</key>" | xml_text fileName | sed 's|.*/||' | tr '\n' ' '
}

# run FORMAT VMNAME HOW: the whole life of a delta chain in FORMAT, the
# format chosen per VM (HOW=vm) or with the knob (HOW=knob).
run () {
    local fmt=$1 name=$2 how=$3 ext type ct dfmt s1 s2 s3 s4 n d
    case $fmt in
        sesparse) ext=sesparse; type=SESPARSE; ct=seSparse; dfmt=seSparseFormat ;;
        vmfssparse) ext=delta; type=VMFSSPARSE; ct=vmfsSparse; dfmt=redoLogFormat ;;
    esac
    vmpath="DC0/vm/Delta tests/$name"
    vmq=$(vcsim_urlencode "$vmpath")
    if [ "$how" = vm ]; then
        vm=$(vcsim_ctl POST "/vm/create?path=$vmq&ds=LocalDS_0&power=on&delta=$fmt")
    else
        vcsim_ctl POST "/knobs?delta_format=$fmt" >/dev/null
        vm=$(vcsim_ctl POST "/vm/create?path=$vmq&ds=LocalDS_0&power=on")
    fi
    key=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=$name/d&image=$img")
    dir=$(vcsim_ctl GET "/datastore/path?ds=LocalDS_1")/$name
    cp "$img" "$VCSIM_DIR/expect"

    # Snapshot 1: the VM moves onto a real delta over d.vmdk.
    s1=$(soap_snapshot "$vm" s1)
    d=$dir/d-000001.vmdk
    grep -qx "createType=\"$ct\"" "$d" || fail "$fmt: createType: $(cat "$d")"
    grep -qx "RW $(( cap / 512 )) $type \"d-000001-$ext.vmdk\"" "$d" || fail "$fmt: extent line: $(cat "$d")"
    grep -qx 'parentFileNameHint="d.vmdk"' "$d" || fail "$fmt: parentFileNameHint"
    [ "$(sed -n 's/^parentCID=//p' "$d")" = "$(sed -n 's/^CID=//p' "$dir/d.vmdk")" ] || fail "$fmt: parentCID"
    [ "$(sed -n 's/^CID=//p' "$d")" != "$(sed -n 's/^CID=//p' "$dir/d.vmdk")" ] || fail "$fmt: CID not fresh"
    [ ! -e "$dir/d-000001-flat.vmdk" ] || fail "$fmt: a full copy was made"
    [ "$(backing_field deltaDiskFormat)" = "$dfmt" ] || fail "$fmt: deltaDiskFormat $(backing_field deltaDiskFormat)"
    [ -z "$(backing_field deltaDiskFormat "$s1")" ] || fail "$fmt: s1's base has a deltaDiskFormat"
    [ "$(vm_files)" = "d-000001.vmdk d.vmdk " ] || fail "$fmt: VM chain $(vm_files)"
    if [ "$fmt" = vmfssparse ]; then
        f=$dir/d-000001-delta.vmdk
        [ "$(head -c 4 "$f")" = COWD ] || fail "COWD magic"
        [ "$(u32 "$f" 4) $(u32 "$f" 8) $(u32 "$f" 12) $(u32 "$f" 16) $(u32 "$f" 20)" = "1 3 $(( cap / 512 )) 1 4" ] ||
            fail "COWD header"
        [ "$(dd if="$f" bs=1 skip=32 count=6 status=none)" = d.vmdk ] || fail "COWD parentFileName"
    fi
    vcsim_ctl GET "/disk/file?vm=$vmq&disk=0" 2>/dev/null && fail "$fmt: /disk/file answered for a sparse delta"
    [ "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=0&snapshot=s1")" = "$dir/d-flat.vmdk" ] || fail "$fmt: /disk/file of s1"
    check_chain "$d" "$img" "$fmt: fresh delta"

    # Writes: partial grains, grains across a grain table boundary, the
    # partial last grain, zero grains (whole and not), rewrites.
    write 100 5000
    write $(( 16 * M - 3000 )) 10000
    write $(( cap - 700 )) 700
    write 8192 16384 zero
    write 40960 8192 unmap
    write 30000 5000 zero          # not whole grains: plain data
    write $(( 33 * M )) 70000
    write 200 10                   # rewrite inside an allocated grain
    write $(( 20 * M )) 4096 zero  # zero grain over a hole of the base
    cp "$VCSIM_DIR/expect" "$VCSIM_DIR/at-s2"
    check_chain "$d" "$VCSIM_DIR/expect" "$fmt: after writes"
    check_image "$VCSIM_DIR/expect"
    check_chain "$dir/d.vmdk" "$img" "$fmt: s1's frozen file"
    check_image "$img" s1
    cmp "$img" "$dir/d-flat.vmdk" || fail "$fmt: the base changed"
    if [ "$fmt" = sesparse ]; then
        f=$dir/d-000001-sesparse.vmdk
        [ "$(se_entry "$f" 2)" = 2000000000000000 ] && [ "$(se_entry "$f" 5)" = 2000000000000000 ] || fail "zero grains: $(se_entry "$f" 2)"
        [ "$(se_entry "$f" 10)" = 1000000000000000 ] || fail "unmapped grain: $(se_entry "$f" 10)"
        [[ $(se_entry "$f" 0) = 3* ]] || fail "allocated grain: $(se_entry "$f" 0)"
        [ "$(se_entry "$f" 1000)" = 0 ] || fail "untouched grain: $(se_entry "$f" 1000)"
        [ "$(u64 "$f" 0) $(u64 "$f" 8) $(u64 "$f" 24) $(u64 "$f" 32)" = "$(( 0xcafebabe )) $(( 0x0000000200000001 )) 8 64" ] ||
            fail "seSparse constant header"
        [ "$(u64 "$f" $(( $(u64 "$f" 80) * 512 )))" = $(( 0xcafecafe )) ] || fail "volatile header magic"
        [ "$(u64 "$f" $(( $(u64 "$f" 80) * 512 + 24 )))" = 0 ] || fail "replay_journal"
    fi

    # Snapshots 2, 3, 4 with writes between: a chain of four deltas.
    s2=$(vcsim_ctl POST "/snapshot/create?vm=$vmq&name=s2")
    grep -qx 'parentFileNameHint="d-000001.vmdk"' "$dir/d-000002.vmdk" || fail "$fmt: d-000002's parent"
    write 0 4096
    write 8192 100                 # partial write over a zero grain below
    write 40960 4096 zero          # zero over unmapped
    write $(( 16 * M - 10 )) 20
    cp "$VCSIM_DIR/expect" "$VCSIM_DIR/at-s3"
    s3=$(soap_snapshot "$vm" s3)
    write 1000 3000
    write $(( 33 * M + 4096 )) 4096 zero
    cp "$VCSIM_DIR/expect" "$VCSIM_DIR/at-s4"
    s4=$(vcsim_ctl POST "/snapshot/create?vm=$vmq&name=s4")
    write 50 50
    write $(( cap - 4096 )) 4096
    [ "$(vm_files)" = "d-000004.vmdk d-000003.vmdk d-000002.vmdk d-000001.vmdk d.vmdk " ] || fail "$fmt: chain $(vm_files)"
    check_chain "$dir/d-000004.vmdk" "$VCSIM_DIR/expect" "$fmt: 4 deltas"
    check_image "$VCSIM_DIR/expect"
    check_chain "$dir/d-000001.vmdk" "$VCSIM_DIR/at-s2" "$fmt: s2's frozen chain"
    check_chain "$dir/d-000002.vmdk" "$VCSIM_DIR/at-s3" "$fmt: s3's frozen chain"
    check_chain "$dir/d-000003.vmdk" "$VCSIM_DIR/at-s4" "$fmt: s4's frozen chain"
    for n in 2 3 4; do check_image "$VCSIM_DIR/at-s$n" "s$n"; done
    check_image "$img" s1

    # Consolidation. Removing s2 (the middle) merges d-000002 into
    # d-000001; d-000003 now names d-000001 as its parent.
    soap_remove_snapshot "$s2" || fail "$fmt: remove s2"
    [ ! -e "$dir/d-000002.vmdk" ] && [ ! -e "$dir/d-000002-$ext.vmdk" ] || fail "$fmt: d-000002 left"
    grep -qx 'parentFileNameHint="d-000001.vmdk"' "$dir/d-000003.vmdk" || fail "$fmt: d-000003 not repointed"
    [ "$(vm_files)" = "d-000004.vmdk d-000003.vmdk d-000001.vmdk d.vmdk " ] || fail "$fmt: chain after s2: $(vm_files)"
    check_chain "$dir/d-000004.vmdk" "$VCSIM_DIR/expect" "$fmt: current after removing s2"
    check_chain "$dir/d-000001.vmdk" "$VCSIM_DIR/at-s3" "$fmt: s3 after removing s2"
    check_image "$VCSIM_DIR/at-s3" s3
    check_image "$VCSIM_DIR/at-s4" s4
    # Removing s1 merges d-000001 into the flat base.
    vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=s1"
    [ "$(vm_files)" = "d-000004.vmdk d-000003.vmdk d.vmdk " ] || fail "$fmt: chain after s1: $(vm_files)"
    grep -qx 'parentFileNameHint="d.vmdk"' "$dir/d-000003.vmdk" || fail "$fmt: d-000003 not repointed to d.vmdk"
    cmp "$VCSIM_DIR/at-s3" "$dir/d-flat.vmdk" || fail "$fmt: merged base"
    check_chain "$dir/d-000004.vmdk" "$VCSIM_DIR/expect" "$fmt: current after removing s1"
    check_image "$VCSIM_DIR/at-s3" s3
    check_image "$VCSIM_DIR/at-s4" s4
    # The rest with RemoveAllSnapshots: only d.vmdk and d-flat.vmdk stay.
    task=$(soap_call "<RemoveAllSnapshots_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this></RemoveAllSnapshots_Task>" | xml_text returnval)
    soap_task_result "$task" >/dev/null || fail "$fmt: RemoveAllSnapshots"
    [ "$(vm_files)" = "d.vmdk " ] || fail "$fmt: VM after RemoveAllSnapshots: $(vm_files)"
    [ -z "$(backing_field deltaDiskFormat)" ] || fail "$fmt: deltaDiskFormat left"
    [ "$(ls "$dir")" = "$(printf 'd-flat.vmdk\nd.vmdk')" ] || fail "$fmt: files left: $(ls "$dir" | tr "\n" " ")"
    cmp "$VCSIM_DIR/expect" "$dir/d-flat.vmdk" || fail "$fmt: content after consolidation"
    grep -qx 'createType="vmfs"' "$dir/d.vmdk" && ! grep -q parentFileNameHint "$dir/d.vmdk" || fail "$fmt: base descriptor"
    check_chain "$dir/d.vmdk" "$VCSIM_DIR/expect" "$fmt: final"
    check_image "$VCSIM_DIR/expect"
    [ "$(vcsim_ctl GET "/disk/file?vm=$vmq&disk=0")" = "$dir/d-flat.vmdk" ] || fail "$fmt: /disk/file at the end"

    # A second round on the same disk: deltas can be made again.
    s1=$(vcsim_ctl POST "/snapshot/create?vm=$vmq&name=again")
    write 12345 6789
    check_chain "$dir/d-000001.vmdk" "$VCSIM_DIR/expect" "$fmt: second round"
    vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=again"
    cmp "$VCSIM_DIR/expect" "$dir/d-flat.vmdk" || fail "$fmt: second round consolidation"
}

run sesparse se-vm vm
run vmfssparse cowd-vm knob
vcsim_ctl POST "/knobs?delta_format=copy" >/dev/null
run vmfssparse cowd-vm2 vm
vcsim_ctl POST "/knobs?delta_format=vmfssparse" >/dev/null
run sesparse se-vm2 vm                 # the per-VM choice beats the knob
vcsim_ctl POST "/knobs?delta_format=copy" >/dev/null

# A chain changing format: a copy first, then seSparse over it (/vm/delta
# on an existing VM); the format then sticks to the chain.
vmpath="DC0/vm/Delta tests/mixed"
vmq=$(vcsim_urlencode "$vmpath")
vm=$(vcsim_ctl POST "/vm/create?path=$vmq&ds=LocalDS_0")
key=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_1&name=mixed/d&image=$img")
dir=$(vcsim_ctl GET "/datastore/path?ds=LocalDS_1")/mixed
cp "$img" "$VCSIM_DIR/expect"
vcsim_ctl POST "/snapshot/create?vm=$vmq&name=m1" >/dev/null
grep -qx 'RW [0-9]* VMFS "d-000001-flat.vmdk"' "$dir/d-000001.vmdk" || fail "mixed: copy delta"
write 0 10000
cp "$VCSIM_DIR/expect" "$VCSIM_DIR/at-m2"
vcsim_ctl POST "/vm/delta?vm=$vmq&format=sesparse"
vcsim_ctl POST "/snapshot/create?vm=$vmq&name=m2" >/dev/null
grep -qx 'createType="seSparse"' "$dir/d-000002.vmdk" || fail "mixed: seSparse over a copy"
vcsim_ctl POST "/vm/delta?vm=$vmq&format=vmfssparse"
vcsim_ctl POST "/snapshot/create?vm=$vmq&name=m3" >/dev/null
grep -qx 'createType="seSparse"' "$dir/d-000003.vmdk" || fail "mixed: the chain's format did not stick"
write 5000 10000
check_chain "$dir/d-000003.vmdk" "$VCSIM_DIR/expect" "mixed chain"
check_chain "$dir/d-000001.vmdk" "$VCSIM_DIR/at-m2" "mixed: m2's copy"
vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=m1"
grep -qx 'parentFileNameHint="d.vmdk"' "$dir/d-000002.vmdk" || fail "mixed: not repointed"
check_chain "$dir/d-000003.vmdk" "$VCSIM_DIR/expect" "mixed: after merging the copy"
check_image "$VCSIM_DIR/at-m2" m2
vcsim_ctl POST "/vm/delta?vm=$vmq&format=default"
vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=m3"
vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=m2"
[ "$(ls "$dir")" = "$(printf 'd-flat.vmdk\nd.vmdk')" ] || fail "mixed: files left: $(ls "$dir")"
cmp "$VCSIM_DIR/expect" "$dir/d-flat.vmdk" || fail "mixed: final content"
echo PASS
