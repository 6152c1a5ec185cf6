#!/usr/bin/env bash
# shellcheck disable=SC2010,SC2012,SC2015,SC2016,SC2046,SC2086,SC2207
# vsphere-sync's interface: the --json summary (valid JSON alone on
# standard output, with every field the man page lists, on success and
# on failure, its seconds rounded); -q; --progress=1; --snapshot NAME;
# -V; the password never on a command line; and errors that say what to
# do: no parameters after --, parameters vsphere-sync sets itself
# (disk=, file=, snapshot=, export=), an unknown VM, a wrong password,
# bad options.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"

vcsim_start
name=json-vm
vm=DC0/vm/$name
moref=$(new_vm "$vm")
model0=$VCSIM_DIR/model0.img
model1=$VCSIM_DIR/model1.img
make_image "$model0" 6
make_image "$model1" 4
k0=$(add_disk "$vm" LocalDS_0 "$name/disk0" "$model0")
k1=$(add_disk "$vm" LocalDS_1 "$name/disk1" "$model1")
params=($(server_params "$vm"))
dir=$VCSIM_DIR/out
mkdir "$dir"

# check_summary RESULT: the summary is one JSON document with the
# fields of the man page, of the right types.
check_summary ()
{
  jq -e . "$VCSIM_DIR/sync.out" >/dev/null ||
    fail "standard output is not JSON: $(cat "$VCSIM_DIR/sync.out")"
  [ "$(jq -s length "$VCSIM_DIR/sync.out")" = 1 ] ||
    fail "standard output holds more than one JSON document: $(cat "$VCSIM_DIR/sync.out")"
  [ "$(json_get .result)" = "$1" ] || fail "result is $(json_get .result), want $1"
}

# 1. Success.
sync_ok "--json, first cycle" --json -o "$dir" -- "${params[@]}"
check_summary ok
jq -e --arg moref "$moref" --arg name "$name" '
  (.vm.moref == $moref) and (.vm.name == $name) and
  (.snapshot | type == "string" and length > 0) and
  (.cycle | type == "number") and (.seconds | type == "number" and . >= 0) and
  (.bytes_to_copy | type == "number" and . > 0) and (.bytes_copied == .bytes_to_copy) and
  (has("error") | not) and
  (.disks | length == 2) and
  (.disks | all(
     (.key | type == "number") and (.label | type == "string" and length > 0) and
     (.output | type == "string") and (.mode == "full") and
     (.reason | type == "string" and length > 0) and
     (.size | type == "number") and (.bytes_to_copy | type == "number") and
     (.change_id | type == "string" and test("/[0-9]+$"))))' "$VCSIM_DIR/sync.out" >/dev/null ||
  fail "the first cycle's summary: $(cat "$VCSIM_DIR/sync.out")"
grep -Eq '^  "seconds": ?[0-9]+(\.[0-9]{1,3})?,$' "$VCSIM_DIR/sync.out" ||
  fail "the first cycle's seconds are not rounded to a thousandth: $(cat "$VCSIM_DIR/sync.out")"
[ "$(json_disk "$k0" size)" = $((6 << 20)) ] && [ "$(json_disk "$k1" size)" = $((4 << 20)) ] ||
  fail "disk sizes in the summary: $(cat "$VCSIM_DIR/sync.out")"
[ "$(json_disk "$k0" output)" = "$dir/$name-disk0.raw" ] || fail "disk 0 output in the summary"
[ "$(json_disk "$k0" change_id)" = "$(disk_get "$dir/$name.vsphere-sync.json" "$k0" change_id)" ] ||
  fail "the summary's changeId is not the state's"
# The summary's snapshot was the cycle's, and it is gone.
check_no_snapshot "$vm" "the first cycle"
same_image "first cycle" "$model0" "$dir/$name-disk0.raw" raw
echo "ok: --json summary of a full cycle: $(jq -c '{result, cycle, bytes_to_copy}' "$VCSIM_DIR/sync.out")"

# An incremental cycle, quiet: nothing on standard error.
model_write "$vm" 1 "$model1" 70000 10000
sync_ok "--json -q" --json -q -o "$dir" -- "${params[@]}"
check_summary ok
[ ! -s "$VCSIM_DIR/sync.err" ] || fail "-q printed: $(cat "$VCSIM_DIR/sync.err")"
jq -e '(.disks | all(.mode == "incremental" and .reason == null)) and
       ([.disks[] | select(.bytes_to_copy > 0)] | length == 1) and .bytes_copied == .bytes_to_copy' \
  "$VCSIM_DIR/sync.out" >/dev/null || fail "the incremental cycle's summary: $(cat "$VCSIM_DIR/sync.out")"
[ "$(json_disk "$k1" bytes_to_copy)" -le $((2 * 65536)) ] ||
  fail "10000 bytes written in two 64 KiB blocks, but $(json_disk "$k1" bytes_to_copy) to copy"
same_image "-q cycle" "$model1" "$dir/$name-disk1.raw" raw
# Without --json, nothing on standard output.
model_write "$vm" 0 "$model0" 0 1000
sync_ok "no --json" -o "$dir" -- "${params[@]}"
[ ! -s "$VCSIM_DIR/sync.out" ] || fail "without --json, standard output holds: $(cat "$VCSIM_DIR/sync.out")"
echo "ok: -q prints nothing on success; without --json nothing on standard output"

# 2. Failure: an unknown VM.
sync_fails "an unknown VM" 1 "DC0/vm/no-such-vm|no-such-vm" --json -o "$dir" -- \
  $(vsphere_server_args) vm=DC0/vm/no-such-vm
check_summary failed
jq -e '.error | type == "string" and test("no-such-vm")' "$VCSIM_DIR/sync.out" >/dev/null ||
  fail "the failed summary's error: $(cat "$VCSIM_DIR/sync.out")"
# A wrong password.
printf 'wrong' > "$VCSIM_DIR/wrong.pw"
sync_fails "a wrong password" 1 "[Ll]ogin|password|InvalidLogin" --json -o "$dir" -- \
  "server=$VCSIM_SERVER" "user=$VCSIM_USER" "password=+$VCSIM_DIR/wrong.pw" \
  "thumbprint=$VCSIM_THUMBPRINT" "vm=$vm"
check_summary failed
# A failure in the middle: a CBT answer that does not cover the disk.
cp "$dir/$name.vsphere-sync.json" "$VCSIM_DIR/state.before"
model_write "$vm" 0 "$model0" 100000 100000
vcsim_ctl POST "/knobs?cbt_fault=gap&cbt_page=1048576" >/dev/null
sync_fails "a broken CBT answer" 1 "." --json -o "$dir" -- "${params[@]}"
vcsim_ctl POST "/knobs?cbt_fault=&cbt_page=0" >/dev/null
check_summary failed
jq -e '.error | type == "string" and length > 0' "$VCSIM_DIR/sync.out" >/dev/null ||
  fail "the failed summary's error: $(cat "$VCSIM_DIR/sync.out")"
cmp -s "$dir/$name.vsphere-sync.json" "$VCSIM_DIR/state.before" || fail "a failed cycle changed the state"
check_no_snapshot "$vm" "a broken CBT answer"
sync_ok "after the broken CBT answer" -o "$dir" -- "${params[@]}"
same_image "after the broken CBT answer" "$model0" "$dir/$name-disk0.raw" raw
echo "ok: failures give result \"failed\" with an error"

# 3. Usage errors: exit status 2, a message that says what is wrong.
usage () { sync_fails "$1" 2 "$2" "${@:3}"; }
usage "no parameters after --" "server=|vm=|--" -o "$dir"
usage "nothing after --" "server=|vm=" -o "$dir" --
usage "no vm=" "vm=" -o "$dir" -- $(vsphere_server_args)
for p in disk=0 "file=[LocalDS_0] $name/disk0.vmdk" snapshot=create export=disk0; do
  usage "${p%%=*}= among the parameters" "${p%%=*}=" -o "$dir" -- "${params[@]}" "$p"
done
usage "no output" "-o|--disk|output" -- "${params[@]}"
usage "an unknown option" "--no-such-option" --no-such-option -o "$dir" -- "${params[@]}"
[ "$(wc -l < "$VCSIM_DIR/sync.err")" = 2 ] && grep -qx "Try 'vsphere-sync --help' for more information." "$VCSIM_DIR/sync.err" ||
  fail "an unknown option: not one line and the pointer to --help: $(cat "$VCSIM_DIR/sync.err")"
usage "-o given twice" "-o \(--output-dir\) given twice" -o "$dir" -o "$dir.2" -- "${params[@]}"
usage "--state given twice" "--state given twice" --state "$dir/a.json" --state "$dir/b.json" -o "$dir" -- "${params[@]}"
usage "one disk, two outputs" "--disk 0=b: --disk 0=a was given already" --disk 0=a --disk 0=b --state "$dir/s.json" -- "${params[@]}"
usage "a bad --connections" "connections" --connections 0 -o "$dir" -- "${params[@]}"
usage "a bad --disk" "--disk|nonsense" --disk nonsense --state "$dir/s.json" -- "${params[@]}"
usage "an unknown format" "qcow3|format" -f qcow3 -o "$dir" -- "${params[@]}"
usage "an unknown parameter" "no-such-param" -o "$dir" -- "${params[@]}" no-such-param=1
usage "a parameter given twice" "vm= given twice after --: give it once" -o "$dir" -- "${params[@]}" vm=other
check_no_snapshot "$vm" "usage errors"

# -h and --help.
for h in -h --help; do
  vsync $h
  [ "$sync_rc" = 0 ] && grep -q '^usage: vsphere-sync' "$VCSIM_DIR/sync.out" || fail "$h: $sync_rc $(cat "$VCSIM_DIR/sync.err")"
done
echo "ok: -h and --help print the usage"

# -V.
vsync -V
[ "$sync_rc" = 0 ] && grep -q '[0-9]' "$VCSIM_DIR/sync.out" || fail "-V: $sync_rc $(cat "$VCSIM_DIR/sync.out" "$VCSIM_DIR/sync.err")"
echo "ok: -V: $(head -n1 "$VCSIM_DIR/sync.out")"

# 4. --snapshot NAME: the outputs hold that snapshot, which stays.
model_write "$vm" 0 "$model0" 200000 300000
model_write "$vm" 1 "$model1" 3000000 300000
snap=$(vcsim_ctl POST "/snapshot/create?vm=$vm&name=kept")
cp "$model0" "$VCSIM_DIR/snap0.img"
cp "$model1" "$VCSIM_DIR/snap1.img"
model_write "$vm" 0 "$model0" 0 500000
sync_ok "--snapshot NAME" --json --snapshot kept -o "$dir" -- "${params[@]}"
[ "$(json_get .snapshot)" = "$snap" ] || [ "$(json_get .snapshot)" = kept ] ||
  fail "--snapshot: the summary names snapshot $(json_get .snapshot)"
same_image "--snapshot kept" "$VCSIM_DIR/snap0.img" "$dir/$name-disk0.raw" raw
same_image "--snapshot kept" "$VCSIM_DIR/snap1.img" "$dir/$name-disk1.raw" raw
[ "$(snapshots "$vm")" = "$snap kept" ] || fail "--snapshot: the snapshots are now: $(snapshots "$vm")"
model_write "$vm" 1 "$model1" 0 4096
sync_ok "--snapshot moref=" --snapshot "moref=$snap" -o "$dir" -- "${params[@]}"
same_image "--snapshot moref=" "$VCSIM_DIR/snap0.img" "$dir/$name-disk0.raw" raw
[ "$(snapshots "$vm")" = "$snap kept" ] || fail "--snapshot moref=: the snapshots are now: $(snapshots "$vm")"
vcsim_ctl POST "/snapshot/remove?vm=$vm&name=kept" >/dev/null
sync_ok "after --snapshot" -o "$dir" -- "${params[@]}"
same_image "after --snapshot" "$model0" "$dir/$name-disk0.raw" raw
same_image "after --snapshot" "$model1" "$dir/$name-disk1.raw" raw
echo "ok: --snapshot NAME and moref=REF copy that snapshot and keep it"

# 5. --progress=1, and the password on no command line, during a slow copy.
model_write "$vm" 0 "$model0" 0 $((6 << 20))
vcsim_ctl POST "/knobs?bandwidth=1000000" >/dev/null
env -u VCSIM_PASSWORD "$sync_tool" --progress=1 --connections 1 -o "$dir" -- "${params[@]}" \
  > "$VCSIM_DIR/slow.out" 2> "$VCSIM_DIR/slow.err" &
pid=$!
vcsim_on_exit "kill -9 $pid 2>/dev/null || true"
leaks=$VCSIM_DIR/leaks
: > "$leaks"
for _ in $(seq 30); do
  kill -0 "$pid" 2>/dev/null || break
  for p in $pid $(descendants "$pid"); do
    if tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$VCSIM_PASSWORD"; then
      echo "$p: $(tr '\0' ' ' < "/proc/$p/cmdline")" >> "$leaks"
    fi
    if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qF -- "$VCSIM_PASSWORD"; then
      echo "$p (environment)" >> "$leaks"
    fi
  done
  sleep 0.2
done
rc=0
wait "$pid" || rc=$?
vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null
[ "$rc" = 0 ] || { cat "$VCSIM_DIR/slow.err" >&2; fail "the slow cycle failed"; }
[ ! -s "$leaks" ] || fail "the password is on a command line or in an environment: $(cat "$leaks")"
same_image "the slow cycle" "$model0" "$dir/$name-disk0.raw" raw
grep -q ', ETA ' "$VCSIM_DIR/slow.err" && grep -q '(100%) in ' "$VCSIM_DIR/slow.err" ||
  fail "--progress=1 printed no progress: $(cat "$VCSIM_DIR/slow.err")"
echo "ok: --progress=1 prints progress; the password is on no command line"

sync_done
