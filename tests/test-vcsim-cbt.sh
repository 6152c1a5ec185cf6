#!/usr/bin/env bash
# Harness self-test: Changed Block Tracking and QueryChangedDiskAreas,
# compared against the writes made, with vSphere's paging and faults.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
# CBT must not depend on how deltas are stored: without VCSIM_DELTA_FORMAT
# the test runs once per delta format.
if [ -z "${VCSIM_DELTA_FORMAT:-}" ]; then
    for f in copy sesparse vmfssparse; do
        echo "== delta format $f"
        VCSIM_DELTA_FORMAT=$f "$BASH" "$0" || exit $?
    done
    exit 0
fi
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start
soap_login >/dev/null
vcsim_ctl GET /knobs | grep -qx "delta_format=$VCSIM_DELTA_FORMAT" || fail "delta format not $VCSIM_DELTA_FORMAT"

K=65536
vmpath=DC0/vm/cbt-vm
vmq=$(vcsim_urlencode "$vmpath")
vm=$(vcsim_ctl POST "/vm/create?path=$vmq&cbt=1")
img=$VCSIM_DIR/img.raw
truncate -s 4M "$img"
head -c 100000 /dev/urandom | dd of="$img" conv=notrunc status=none
head -c $K /dev/urandom | dd of="$img" bs=$K seek=40 conv=notrunc status=none
key=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=cbt/d&image=$img")
cap=4194304

# Random bytes, never zero: a short write must make its block non-zero.
write () { head -c "$2" /dev/urandom | tr '\0' '\1' | vcsim_ctl POST "/disk/write?vm=$vmq&disk=0&offset=$1" --data-binary @-; }
snap_change_id () {
    soap_props VirtualMachineSnapshot "$1" config.hardware.device | sed 's|</VirtualDevice>|&\n|g' |
        grep "<key>$key</key>" | xml_text changeId | head -n 1
}
# areas SNAP CHANGEID [START]: "start length" lines of one answer.
areas () {
    soap_qcda "$vm" "$1" "$key" "${3:-0}" "$2" |
        grep -o '<changedArea><start>[0-9]*</start><length>[0-9]*</length>' | sed 's/[^0-9]\+/ /g; s/^ //; s/ $//'
}
# all_areas SNAP CHANGEID: follow the pages over the whole disk, checking each.
all_areas () {
    local start=0 out s l want
    while [ "$start" -lt "$cap" ]; do
        out=$(soap_qcda "$vm" "$1" "$key" "$start" "$2") || fail "page at $start: $out"
        s=$(xml_text startOffset <<<"$out")
        l=$(grep -o '</startOffset><length>[0-9]*' <<<"$out" | sed 's/.*>//')
        want=$(( cap - start < PAGE ? cap - start : PAGE ))
        [ "$s" = "$start" ] && [ "$l" = "$want" ] || fail "page at $start: startOffset=$s length=$l, want $start $want"
        grep -o '<changedArea><start>[0-9]*</start><length>[0-9]*</length>' <<<"$out" |
            sed 's/[^0-9]\+/ /g; s/^ //; s/ $//' | while read -r a n; do
                [ "$a" -ge "$start" ] && [ $(( a + n )) -le $(( start + l )) ] || fail "area $a+$n outside page $start+$l"
                echo "$a $n"
            done
        start=$(( s + l ))
    done
}
# blocks LINES: expand "start length" areas into 64 KiB block numbers.
blocks () {
    while read -r a n; do
        [ -n "$a" ] || continue
        seq $(( a / K )) $(( (a + n - 1) / K ))
    done | sort -n | uniq | tr '\n' ' '
}
expect_fault () { # FAULT SNAP CHANGEID [KEY] [START]
    local out
    out=$(soap_qcda "$vm" "$2" "${4:-$key}" "${5:-0}" "$3") && fail "no fault for $3 (key ${4:-$key}): $out"
    grep -q "type=\"$1\"" <<<"$out" || fail "want $1 for $3, got: $out"
}

# The changeId looks like ESXi's and advances at every snapshot.
s1=$(soap_snapshot "$vm" s1)
c1=$(snap_change_id "$s1")
[[ $c1 =~ ^([0-9a-f]{2}\ ){7}[0-9a-f]{2}-([0-9a-f]{2}\ ){7}[0-9a-f]{2}/[0-9]+$ ]] || fail "changeId format: $c1"

# "*" gives the allocated 64 KiB blocks of the snapshot's disk.
[ "$(areas "$s1" '*' | blocks)" = "0 1 40 " ] || fail "'*' areas: $(areas "$s1" '*' | tr '\n' ,)"

# Writes between s1 and s2 are exactly what comes back (block-rounded).
write 200000 10
write $(( 10 * K - 5 )) 10
write 3145728 70000
s2=$(soap_snapshot "$vm" s2)
c2=$(snap_change_id "$s2")
[ "${c2%/*}" = "${c1%/*}" ] && [ "${c2##*/}" -gt "${c1##*/}" ] || fail "changeId did not advance: $c1 -> $c2"
[ "$(areas "$s2" "$c1" | blocks)" = "3 9 10 48 49 " ] || fail "s2 since s1: $(areas "$s2" "$c1" | tr '\n' ,)"
[ "$(areas "$s2" "$c1")" = "$(printf '196608 65536\n589824 131072\n3145728 131072')" ] || fail "areas not merged/sorted"
[ -z "$(areas "$s2" "$c2")" ] || fail "s2 since itself is not empty"
[ "$(areas "$s1" "$c1" | blocks)" = "" ] || fail "s1 since itself is not empty"

# A block written before and after s2 is reported since s1 and since s2.
write 200000 1
write $(( 20 * K )) 1
s3=$(soap_snapshot "$vm" s3)
[ "$(areas "$s3" "$c1" | blocks)" = "3 9 10 20 48 49 " ] || fail "s3 since s1: $(areas "$s3" "$c1" | tr '\n' ,)"
[ "$(areas "$s3" "$c2" | blocks)" = "3 20 " ] || fail "s3 since s2: $(areas "$s3" "$c2" | tr '\n' ,)"
[ "$(areas "$s2" "$c1" | blocks)" = "3 9 10 48 49 " ] || fail "rewriting block 3 after s2 hid it from s2 since s1"
# Removing an older snapshot keeps later snapshots' changeIds working.
soap_remove_snapshot "$s1"
[ "$(areas "$s3" "$c2" | blocks)" = "3 20 " ] || fail "s3 since s2 after removing s1"

# Paging: 1 MiB pages, every answer checked, the union equals one answer.
star=$(areas "$s3" '*' | blocks)
[ "$star" = "0 1 3 9 10 20 40 48 49 " ] || fail "'*' on s3: $star"
vcsim_ctl POST '/knobs?cbt_page=1048576' >/dev/null
PAGE=1048576
[ "$(all_areas "$s3" "$c1" | blocks)" = "3 9 10 20 48 49 " ] || fail "paged areas"
[ "$(all_areas "$s3" '*' | blocks)" = "$star" ] || fail "paged '*'"
# An unaligned start: the page starts there and areas are clipped to it.
out=$(soap_qcda "$vm" "$s3" "$key" 3145800 "$c1")
[ "$(xml_text startOffset <<<"$out")" = 3145800 ] || fail "unaligned startOffset"
[ "$(areas "$s3" "$c1" 3145800)" = "3145800 131000" ] || fail "unaligned page areas: $(areas "$s3" "$c1" 3145800)"
vcsim_ctl POST '/knobs?cbt_page=0' >/dev/null
PAGE=$cap

# The cbt_fault knob: answers that a careful client must refuse.
page () { soap_qcda "$vm" "$s3" "$key" 0 "$c1"; }
vcsim_ctl POST '/knobs?cbt_fault=gap' >/dev/null
[ "$(xml_text startOffset <<<"$(page)")" != 0 ] || fail "cbt_fault=gap: the page starts where asked"
vcsim_ctl POST '/knobs?cbt_fault=past_end' >/dev/null
[ "$(grep -o '</startOffset><length>[0-9]*' <<<"$(page)" | sed 's/.*>//')" -gt "$cap" ] ||
    fail "cbt_fault=past_end: the page does not run past the end"
vcsim_ctl POST '/knobs?cbt_fault=overlap' >/dev/null
[ "$(areas "$s3" "$c1" | tail -n 1)" = "0 65536" ] || fail "cbt_fault=overlap: no overlapping area last"
vcsim_ctl POST '/knobs?cbt_fault=0' >/dev/null
[ "$(areas "$s3" "$c1" | blocks)" = "3 9 10 20 48 49 " ] || fail "cbt_fault=0 does not restore answers"

# Faults: bad changeIds, unknown key, start past the end.
other_uuid=$([ "${c1:0:1}" = 0 ] && echo 1 || echo 0)${c1:1}   # another CBT history
expect_fault FileFault "$s3" "$other_uuid"
expect_fault FileFault "$s3" "${c1%/*}/999"
expect_fault FileFault "$s3" "garbage"
expect_fault FileFault "$s3" "${c1%/*}/x"
expect_fault FileFault "$s3" "$c1" 12345
expect_fault InvalidArgument "$s3" "$c1" "$key" "$cap"

# Reset: new UUID, the old changeIds stop working, new ones work.
vcsim_ctl POST "/cbt/reset?vm=$vmq"
live=$(soap_props VirtualMachine "$vm" config.hardware.device | sed 's|</VirtualDevice>|&\n|g' | grep "<key>$key</key>" | xml_text changeId | head -n 1)
[ "${live%/*}" != "${c1%/*}" ] || fail "reset kept the UUID"
expect_fault FileFault "$s3" "$c2"
write 0 1
s4=$(soap_snapshot "$vm" s4)
expect_fault FileFault "$s4" "$c2"
[ "$(areas "$s4" "$live" | blocks)" = "0 " ] || fail "since reset: $(areas "$s4" "$live" | tr '\n' ,)"

# CBT off and on again over SOAP (ReconfigVM_Task).
reconfig () {
    local task
    task=$(soap_call "<ReconfigVM_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this><spec><changeTrackingEnabled>$1</changeTrackingEnabled></spec></ReconfigVM_Task>" | xml_text returnval)
    soap_task_result "$task" >/dev/null
}
reconfig false
expect_fault FileFault "$s4" "$live"
soap_props VirtualMachine "$vm" config.hardware.device | grep -q '<changeId>' && fail "changeId left with CBT off"
reconfig true
soap_props VirtualMachine "$vm" config.changeTrackingEnabled | grep -q '>true</val>' || fail "changeTrackingEnabled"
soap_props VirtualMachine "$vm" config.hardware.device | grep -q '<changeId>' || fail "no changeId with CBT on"

# The control API switch works on vcsim's own VMs too.
vcsim_ctl POST "/vm/cbt?vm=DC0%2Fvm%2FDC0_H0_VM1&enabled=1"
vm1=$(soap_find DC0/vm/DC0_H0_VM1)
soap_props VirtualMachine "$vm1" config.hardware.device | grep -q '<changeId>' || fail "/vm/cbt did not enable CBT"
echo PASS
