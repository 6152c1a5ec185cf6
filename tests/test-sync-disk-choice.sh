#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2046,SC2086,SC2207
# vsphere-sync --only-disk and --skip-disk (issue 22, item 3): a disk
# chosen by device key, by index and by label (in any case); the names
# checked against the VM before any snapshot, so that one matching no
# disk costs no snapshot and creates no output; the choice remembered
# in the state, the disks left out neither copied nor touched and their
# state entries kept, a new option replacing the choice and --all-disks
# forgetting it; a disk added later copied under --skip-disk only;
# --json's skipped disks and choice; usage errors; and vsphere-v2v
# --in-place refusing a state that left disks out.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
name=pick01
vm=DC0/vm/$name
new_vm "$vm" >/dev/null
m=("$VCSIM_DIR/m0.img" "$VCSIM_DIR/m1.img" "$VCSIM_DIR/m2.img")
make_image "${m[0]}" 4
make_image "${m[1]}" 3
make_image "${m[2]}" 2
k=()
for i in 0 1 2; do
  k[i]=$(add_disk "$vm" LocalDS_0 "$name/disk$i" "${m[i]}")
done
params=($(server_params "$vm"))
v2v=$abs_top_builddir/v2v/vsphere-v2v
export VIRT_V2V_IN_PLACE=$abs_srcdir/v2v-copy-converter
export V2V_TEST_DIR=$VCSIM_DIR/conv
mkdir "$V2V_TEST_DIR"

# change_all: a guest write into every disk.
change_all ()
{
  local i
  for i in "${!m[@]}"; do
    model_write "$vm" "$i" "${m[i]}" $((RANDOM % 16 * 65536)) 70000
  done
}
# outputs DIR: the files in DIR but lock files, on one line.
outputs () { ls "$1" | grep -v '\.lock$' | tr '\n' ' ' || true; }
# copied_only WHAT DIR N...: DIR holds exactly disks N...'s outputs,
# each equal to its disk, and the state.
copied_only ()
{
  local what=$1 dir=$2 want='' n
  shift 2
  for n in "$@"; do
    want+="$name-disk$n.raw "
    same_image "$what, disk $n" "${m[n]}" "$dir/$name-disk$n.raw" raw
  done
  want+="$name.vsphere-sync.json "
  [ "$(outputs "$dir")" = "$want" ] ||
    fail "$what: $dir holds $(outputs "$dir"), want $want"
}
# choice STATE: its recorded choice, as "MODE KEY...", or "none".
choice ()
{
  jq -r 'if has("disk_choice") then ([.disk_choice.mode] + (.disk_choice.keys | map(tostring))) | join(" ") else "none" end' "$1"
}
# entry STATE KEY: the state's entry of disk KEY, compact.
entry () { jq -c --argjson k "$2" '.disks[] | select(.key == $k)' "$1"; }
# json_skipped: the --json summary's skipped disks, "INDEX:KEY:LABEL".
json_skipped () { jq -r '[.skipped[] | "\(.index):\(.key):\(.label)"] | join(",")' "$VCSIM_DIR/sync.out"; }

# ---- usage errors: exit status 2, before vsphere-sync logs in ----
usage () { sync_fails "$1" 2 "$2" "${@:3}" -o "$VCSIM_DIR/never" -- "${params[@]}"; }
usage "--only-disk and --skip-disk" "not both" --only-disk 0 --skip-disk 1
usage "a disk named twice" "named twice" --only-disk 1 --only-disk 1
usage "a label named twice, in two cases" "named twice" --skip-disk "Hard disk 2" --skip-disk "hard DISK 2"
usage "--all-disks with --only-disk" "--all-disks" --all-disks --only-disk 0
usage "an empty name" "device key" --only-disk ""
sync_fails "disk= after --" 2 "disk= .*--only-disk" -o "$VCSIM_DIR/never" -- "${params[@]}" disk=1
[ ! -e "$VCSIM_DIR/never" ] || fail "a usage error created -o DIR"
check_no_snapshot "$vm" "usage errors"

# ---- names checked before the snapshot ----
# While CreateSnapshot_Task fails, a run that took a snapshot before it
# checked the names would fail on the snapshot instead.
rewrite --data-urlencode method=CreateSnapshot_Task --data-urlencode status=500 \
  --data-urlencode 'match=(?s)<soapenv:Body>.*</soapenv:Body>' \
  --data-urlencode 'replace=<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>no snapshots in this test</faultstring><detail><InvalidStateFault xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="InvalidState"></InvalidStateFault></detail></soapenv:Fault></soapenv:Body>'
mkdir "$VCSIM_DIR/bad"
sync_fails "the oracle: a snapshot cannot be taken" 1 "no snapshots in this test" --only-disk 0 -o "$VCSIM_DIR/bad" -- "${params[@]}"
# The simulator made the snapshot before its answer was rewritten: the
# guardian removes it, and says so, into this run's standard error.
eventually grep -q "the guardian removed it" "$VCSIM_DIR/sync.err" ||
  fail "the oracle's snapshot was not removed: $(cat "$VCSIM_DIR/sync.err")"
check_no_snapshot "$vm" "the oracle"
rm -rf "$VCSIM_DIR/bad"/*
# refused WHAT PATTERN OPTIONS...: exit status 1, PATTERN said, no
# snapshot, nothing written.
refused ()
{
  local what=$1 pattern=$2
  shift 2
  sync_fails "$what" 1 "$pattern" "$@" -o "$VCSIM_DIR/bad" -- "${params[@]}"
  grep -q "[Ss]napshot" "$VCSIM_DIR/sync.err" &&
    fail "$what: a snapshot was tried: $(cat "$VCSIM_DIR/sync.err")"
  check_no_snapshot "$vm" "$what"
  [ -z "$(outputs "$VCSIM_DIR/bad")" ] || fail "$what: it wrote $(outputs "$VCSIM_DIR/bad")"
}
disks_listed="0 \"Hard disk 1\" \\(key ${k[0]}\\), 1 \"Hard disk 2\" \\(key ${k[1]}\\), 2 \"Hard disk 3\" \\(key ${k[2]}\\)"
refused "--only-disk with an unknown key" "--only-disk 9999: VM $name has no disk with this device key; its disks are $disks_listed" --only-disk 9999
refused "--only-disk with an index past the disks" "--only-disk 3: .*no disk with this index" --only-disk 3
refused "--skip-disk with an unknown label" "--skip-disk \"Hard disk 9\": .*no disk with this label; its disks are $disks_listed" --skip-disk "Hard disk 9"
refused "two names of one disk" "--only-disk ${k[1]} and --only-disk \"hard disk 2\" name the same disk" --only-disk "${k[1]}" --only-disk "hard disk 2"
refused "--skip-disk of every disk" "leaves no disk" --skip-disk 0 --skip-disk 1 --skip-disk 2
refused "--disk of an unknown key" "--disk 9999=.*no disk with this device key" --disk "9999=$VCSIM_DIR/bad/x.raw"
refused "--disk of a disk left out" "--disk 1=.*key ${k[1]}\\) is not copied" --only-disk 0 --disk "1=$VCSIM_DIR/bad/x.raw"
vcsim_ctl POST /soap/rewrite/clear >/dev/null
echo "ok: names that match no disk fail before any snapshot, and write nothing"

# ---- --only-disk by key, by index, by label; --skip-disk ----
mkdir "$VCSIM_DIR/key" "$VCSIM_DIR/index" "$VCSIM_DIR/label" "$VCSIM_DIR/skip"
sync_ok "--only-disk KEY" --json --only-disk "${k[1]}" -o "$VCSIM_DIR/key" -- "${params[@]}"
copied_only "--only-disk KEY" "$VCSIM_DIR/key" 1
jq -e --argjson k1 "${k[1]}" '.result == "ok" and (.disks | length == 1) and .disks[0].key == $k1 and
    .bytes_to_copy == .disks[0].bytes_to_copy and .bytes_to_copy > 0 and
    .disk_choice == {mode: "only", keys: [$k1]}' "$VCSIM_DIR/sync.out" >/dev/null ||
  fail "--only-disk KEY: the summary: $(cat "$VCSIM_DIR/sync.out")"
[ "$(json_skipped)" = "0:${k[0]}:Hard disk 1,2:${k[2]}:Hard disk 3" ] ||
  fail "--only-disk KEY: skipped $(json_skipped)"
state=$VCSIM_DIR/key/$name.vsphere-sync.json
[ "$(choice "$state")" = "only ${k[1]}" ] && [ "$(jq .version "$state")" = 3 ] &&
  [ "$(jq -c '[.disks[].key]' "$state")" = "[${k[1]}]" ] ||
  fail "--only-disk KEY: the state: $(cat "$state")"
check_no_snapshot "$vm" "--only-disk KEY"
change_all
sync_ok "--only-disk KEY remembered" --json -o "$VCSIM_DIR/key" -- "${params[@]}"
[ "$(jq -c '[.disks[] | [.key, .mode]]' "$VCSIM_DIR/sync.out")" = "[[${k[1]},\"incremental\"]]" ] ||
  fail "--only-disk KEY remembered: $(cat "$VCSIM_DIR/sync.out")"
copied_only "--only-disk KEY remembered" "$VCSIM_DIR/key" 1
echo "ok: --only-disk KEY copies that disk only, also in the next cycle; --json lists the others as skipped"

# A damaged choice is refused as the rest of a damaged state is.
jq '.disk_choice.mode = "most"' "$state" > "$VCSIM_DIR/damaged.json"
sync_fails "a damaged choice" 1 "damaged: unknown \"disk_choice\" mode \"most\"" \
  --state "$VCSIM_DIR/damaged.json" -o "$VCSIM_DIR/key" -- "${params[@]}"

sync_ok "--only-disk INDEX" --only-disk 2 -o "$VCSIM_DIR/index" -- "${params[@]}"
copied_only "--only-disk INDEX" "$VCSIM_DIR/index" 2
[ "$(choice "$VCSIM_DIR/index/$name.vsphere-sync.json")" = "only ${k[2]}" ] ||
  fail "--only-disk INDEX: recorded $(choice "$VCSIM_DIR/index/$name.vsphere-sync.json")"
sync_ok "--only-disk LABEL" --only-disk "hARD dISK 1" -o "$VCSIM_DIR/label" -- "${params[@]}"
copied_only "--only-disk LABEL" "$VCSIM_DIR/label" 0
grep -q "disk 1 \"Hard disk 2\" (key ${k[1]}): not copied" "$VCSIM_DIR/sync.err" ||
  fail "--only-disk LABEL: the disks left out are not named: $(cat "$VCSIM_DIR/sync.err")"
sync_ok "--skip-disk" --json --skip-disk "${k[0]}" -o "$VCSIM_DIR/skip" -- "${params[@]}"
copied_only "--skip-disk" "$VCSIM_DIR/skip" 1 2
[ "$(json_skipped)" = "0:${k[0]}:Hard disk 1" ] && [ "$(json_get .disk_choice.mode)" = skip ] ||
  fail "--skip-disk: the summary: $(cat "$VCSIM_DIR/sync.out")"
echo "ok: --only-disk INDEX, --only-disk LABEL (in any case) and --skip-disk"

# ---- remembered; the disks left out untouched, their entries kept ----
mkdir "$VCSIM_DIR/all"
state=$VCSIM_DIR/all/$name.vsphere-sync.json
sync_ok "every disk" -o "$VCSIM_DIR/all" -- "${params[@]}"
copied_only "every disk" "$VCSIM_DIR/all" 0 1 2
[ "$(choice "$state")" = none ] && [ "$(jq .version "$state")" = 2 ] ||
  fail "every disk: the state records a choice: $(cat "$state")"
cp "${m[1]}" "$VCSIM_DIR/m1.cycle1"
out1=$VCSIM_DIR/all/$name-disk1.raw
stat1=$(stat -c '%i %s %Y.%y' "$out1")
entry1=$(entry "$state" "${k[1]}")
# left_out WHAT: disk 1's output and state entry as the first cycle
# left them; disks 0 and 2 copied, and the choice recorded.
left_out ()
{
  same_image "$1" "${m[0]}" "$VCSIM_DIR/all/$name-disk0.raw" raw
  same_image "$1" "${m[2]}" "$VCSIM_DIR/all/$name-disk2.raw" raw
  cmp -s "$VCSIM_DIR/m1.cycle1" "$out1" && [ "$(stat -c '%i %s %Y.%y' "$out1")" = "$stat1" ] ||
    fail "$1: the output of the disk left out changed"
  [ "$(entry "$state" "${k[1]}")" = "$entry1" ] ||
    fail "$1: its state entry changed: $entry1 -> $(entry "$state" "${k[1]}")"
  [ "$(choice "$state")" = "skip ${k[1]}" ] || fail "$1: recorded $(choice "$state")"
}
change_all
sync_ok "--skip-disk 1" --json --skip-disk 1 -o "$VCSIM_DIR/all" -- "${params[@]}"
jq -e '(.disks | length == 2) and (.disks | all(.mode == "incremental")) and (.removed == [])' "$VCSIM_DIR/sync.out" >/dev/null ||
  fail "--skip-disk 1 (the disk left out is not removed): $(cat "$VCSIM_DIR/sync.out")"
left_out "--skip-disk 1"
change_all
sync_ok "--skip-disk remembered" -o "$VCSIM_DIR/all" -- "${params[@]}"
left_out "--skip-disk remembered"
grep -q -- "as the state records, --skip-disk ${k[1]}" "$VCSIM_DIR/sync.err" ||
  fail "a remembered choice is not said: $(cat "$VCSIM_DIR/sync.err")"
echo "ok: --skip-disk is remembered; the disk left out, its output and its entry stay as they were"

# ---- vsphere-v2v --in-place needs every disk ----
cp "$state" "$VCSIM_DIR/state.before"
v2v_rc=0
"$v2v" --in-place --state "$state" -- "${params[@]}" > "$VCSIM_DIR/v2v.out" 2> "$VCSIM_DIR/v2v.err" || v2v_rc=$?
[ "$v2v_rc" = 1 ] &&
  grep -q "leave out disk 1 \"Hard disk 2\" (key ${k[1]}), as vsphere-sync was told (--skip-disk ${k[1]}).*every disk.*--all-disks" "$VCSIM_DIR/v2v.err" ||
  fail "vsphere-v2v --in-place of a state that left a disk out: rc $v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
cmp -s "$state" "$VCSIM_DIR/state.before" || fail "the refused conversion changed the state"
[ ! -e "$V2V_TEST_DIR/args" ] || fail "the refused conversion ran the converter"
echo "ok: vsphere-v2v --in-place refuses a state that left disks out: $(head -n1 "$VCSIM_DIR/v2v.err")"

# ---- another choice replaces it; a disk added later ----
sync_ok "--only-disk replaces --skip-disk" --only-disk 0 -o "$VCSIM_DIR/all" -- "${params[@]}"
grep -q -- "--only-disk ${k[0]} replaces the choice of disks that the state records (--skip-disk ${k[1]})" "$VCSIM_DIR/sync.err" ||
  fail "a replaced choice is not said: $(cat "$VCSIM_DIR/sync.err")"
[ "$(choice "$state")" = "only ${k[0]}" ] || fail "--only-disk 0 recorded $(choice "$state")"
same_image "--only-disk 0" "${m[0]}" "$VCSIM_DIR/all/$name-disk0.raw" raw
[ "$(entry "$state" "${k[1]}")" = "$entry1" ] || fail "--only-disk 0: disk 1's entry changed"
vcsim_ctl POST "/snapshot/create?vm=$vm&name=before3" >/dev/null
m+=("$VCSIM_DIR/m3.img")
make_image "${m[3]}" 2
k[3]=$(add_disk "$vm" LocalDS_0 "$name/disk3" "${m[3]}")
# A disk chosen from the VM's disks now, which an older snapshot lacks.
mkdir "$VCSIM_DIR/old"
sync_fails "--only-disk of a disk the snapshot lacks" 1 "the snapshot of VM $name has no disk of key ${k[3]}, which --only-disk chose" \
  --snapshot before3 --only-disk 3 -o "$VCSIM_DIR/old" -- "${params[@]}"
[ -z "$(outputs "$VCSIM_DIR/old")" ] || fail "--only-disk of a disk the snapshot lacks wrote $(outputs "$VCSIM_DIR/old")"
vcsim_ctl POST "/snapshot/remove?vm=$vm&name=before3" >/dev/null
sync_ok "--only-disk, a disk added" --json -o "$VCSIM_DIR/all" -- "${params[@]}"
[ "$(jq -c '[.disks[].key]' "$VCSIM_DIR/sync.out")" = "[${k[0]}]" ] && [ ! -e "$VCSIM_DIR/all/$name-disk3.raw" ] ||
  fail "a disk added under --only-disk was copied: $(cat "$VCSIM_DIR/sync.out")"
sync_ok "--skip-disk, a disk added" --json -o "$VCSIM_DIR/skip" -- "${params[@]}"
[ "$(jq -c '[.disks[] | [.key, .mode]]' "$VCSIM_DIR/sync.out")" = "[[${k[1]},\"incremental\"],[${k[2]},\"incremental\"],[${k[3]},\"full\"]]" ] ||
  fail "a disk added under --skip-disk: $(cat "$VCSIM_DIR/sync.out")"
copied_only "--skip-disk, a disk added" "$VCSIM_DIR/skip" 1 2 3
echo "ok: a new option replaces the choice; a disk added later is copied under --skip-disk, not --only-disk"

# ---- --all-disks forgets the choice ----
change_all
sync_ok "--all-disks after --only-disk" --json --all-disks -o "$VCSIM_DIR/key" -- "${params[@]}"
[ "$(jq -c '[.disks[] | [.key, .mode]]' "$VCSIM_DIR/sync.out")" = "[[${k[0]},\"full\"],[${k[1]},\"incremental\"],[${k[2]},\"full\"],[${k[3]},\"full\"]]" ] &&
  [ "$(json_skipped)" = "" ] && [ "$(json_get .disk_choice.mode)" = all ] ||
  fail "--all-disks: $(cat "$VCSIM_DIR/sync.out")"
copied_only "--all-disks after --only-disk" "$VCSIM_DIR/key" 0 1 2 3
state=$VCSIM_DIR/key/$name.vsphere-sync.json
[ "$(choice "$state")" = none ] && [ "$(jq .version "$state")" = 2 ] ||
  fail "--all-disks did not forget the choice: $(cat "$state")"
# Disk 1 left out for four cycles, disk 2 for two: both go on
# incrementally from their entries.
change_all
sync_ok "--all-disks after --only-disk 0" --json --all-disks -o "$VCSIM_DIR/all" -- "${params[@]}"
[ "$(jq -c '[.disks[] | [.key, .mode]]' "$VCSIM_DIR/sync.out")" = "[[${k[0]},\"incremental\"],[${k[1]},\"incremental\"],[${k[2]},\"incremental\"],[${k[3]},\"full\"]]" ] ||
  fail "--all-disks after --only-disk 0: $(cat "$VCSIM_DIR/sync.out")"
copied_only "--all-disks after --only-disk 0" "$VCSIM_DIR/all" 0 1 2 3
sync_ok "after --all-disks" --json -o "$VCSIM_DIR/all" -- "${params[@]}"
[ "$(jq '.disks | length' "$VCSIM_DIR/sync.out")" = 4 ] || fail "--all-disks was not remembered"
run_v2v_rc=0
"$v2v" --print-xml --state "$VCSIM_DIR/all/$name.vsphere-sync.json" -- "${params[@]}" > "$VCSIM_DIR/v2v.out" 2> "$VCSIM_DIR/v2v.err" || run_v2v_rc=$?
[ "$run_v2v_rc" = 0 ] || fail "vsphere-v2v after --all-disks: rc $run_v2v_rc: $(cat "$VCSIM_DIR/v2v.err")"
check_no_snapshot "$vm" "the cycles"
echo "ok: --all-disks copies the disks left out (in full if never copied) and forgets the choice"
sync_done
