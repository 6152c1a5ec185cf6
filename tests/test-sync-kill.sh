#!/usr/bin/env bash
# shellcheck disable=SC2046,SC2086
# Killed at any moment, vsphere-sync never leaves a wrong image that
# passes for a whole one.  30 rounds (10 each with raw and qcow2 outputs
# updated in place, and with overlays) of a 3-disk VM: the guest
# writes, a cycle starts, and after a random delay it gets SIGKILL, or
# SIGTERM to it or to its process group.  Then:
#  - the state is valid JSON, and every image it records as whole equals
#    the disk as of the cycle the state records;
#  - the snapshot goes (the guardian removes it after SIGKILL) and no
#    process of the cycle is left;
#  - the next cycle succeeds, every image equals the disk, and the
#    directory holds only the documented names.
# KILL_TEST_SEED=N replays a run; at least a third of the kills must
# land while the disks are copied, or the test proves too little.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
requires setsid pgrep

seed=${KILL_TEST_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "seed $seed (replay with KILL_TEST_SEED=$seed)"

vcsim_start
name=kill-vm
vm=DC0/vm/$name
new_vm "$vm" >/dev/null
sizes=(6 4 4)
for n in 0 1 2; do
  make_image "$VCSIM_DIR/model$n.img" "${sizes[n]}"
  add_disk "$vm" "LocalDS_$((n % 2))" "$name/disk$n" "$VCSIM_DIR/model$n.img" >/dev/null
done
params=($(server_params "$vm"))

# The images of a mode's state: the newest of each disk, its format.
newest_images ()
{
  jq -r '.disks[] | [.key, (if has("whole") then .whole else .change_id != null end),
           (if (.overlays | length) > 0 then .overlays[-1] else .output end),
           (if (.overlays | length) > 0 then "qcow2" else .format end)] | @tsv' "$1"
}
disk_index () { echo $(( $1 - 2000 )); }
# Processes of a cycle: vsphere-sync, its guardian and its nbdkit (all
# with this simulator's server= on their command line), qemu-nbd (with
# an image of this test's).
leftovers () { pgrep -f -- "server=$VCSIM_SERVER|$VCSIM_DIR/(raw|qcow2|overlay)/" || true; }

# check_whole WHAT STATE MODELS: every image STATE records as whole
# equals the disk in MODELS (a directory of modelN.img).
check_whole ()
{
  local what=$1 state=$2 models=$3 key whole image format
  while IFS=$'\t' read -r key whole image format; do
    [ "$whole" = true ] || continue
    same_image "$what, disk $key recorded whole" "$models/model$(disk_index "$key").img" \
      "$(state_path "$state" "$image")" "$format"
  done < <(newest_images "$state")
}

# check_unlisted_overlays WHAT DIR STATE: an overlay's name that the
# state does not list yet may only name a whole overlay: the disk as of
# the killed cycle (the disk now).
check_unlisted_overlays ()
{
  local what=$1 dir=$2 state=$3 f n
  for f in "$dir"/*.raw.[0-9]*.qcow2; do
    [ -e "$f" ] || continue
    jq -e --arg f "${f##*/}" '[.disks[].overlays[] | split("/") | last] | index($f) != null' \
      "$state" >/dev/null && continue
    n=${f##*-disk}
    n=${n%%.*}
    same_image "$what, the overlay $f that the state does not list" "$VCSIM_DIR/model$n.img" "$f" qcow2
  done
}

# check_names WHAT DIR STATE: DIR holds the state and the outputs and
# overlays the state names; nothing else (no lock file either).
check_names ()
{
  local what=$1 dir=$2 state=$3 want got
  want=$( { basename "$state"
            jq -r '.disks[] | .output, .overlays[] | split("/") | last' "$state"; } |
          sort | tr '\n' ' ')
  got=$(ls -A "$dir" | sort | tr '\n' ' ')
  [ "$got" = "$want" ] || fail "$what: $dir holds: $got; the documented names are: $want"
}

# The disks as of the last cycle each mode finished.
good=$VCSIM_DIR/good
modes=(raw qcow2 overlay)
declare -A opts=([raw]="-f raw" [qcow2]="-f qcow2" [overlay]="--overlay")
for m in "${modes[@]}"; do
  mkdir "$VCSIM_DIR/$m" "$good-$m"
  sync_ok "first cycle, $m" ${opts[$m]} -o "$VCSIM_DIR/$m" -- "${params[@]}"
  cp "$VCSIM_DIR"/model?.img "$good-$m/"
  check_whole "first cycle, $m" "$VCSIM_DIR/$m/$name.vsphere-sync.json" "$good-$m"
done

rounds=0 mid_copy=0
for round in $(seq 10); do
  for m in "${modes[@]}"; do
    rounds=$((rounds + 1))
    dir=$VCSIM_DIR/$m
    state=$dir/$name.vsphere-sync.json
    what="round $round, $m"
    # The guest writes 1 MiB somewhere on every disk.
    for n in 0 1 2; do
      model_write "$vm" "$n" "$VCSIM_DIR/model$n.img" \
        $(( (RANDOM % (sizes[n] * 16 - 16)) * 65536 )) 1048576
    done
    cycle_before=$(jq .cycle "$state")
    vcsim_ctl POST /counters/reset >/dev/null
    knob bandwidth=2000000
    delay=$(( RANDOM % 25 ))
    case $(( RANDOM % 3 )) in
      0) sig=KILL to=proc ;;
      1) sig=TERM to=proc ;;
      2) sig=TERM to=group ;;
    esac
    setsid env --default-signal=INT "$sync_tool" --connections 2 ${opts[$m]} -o "$dir" -- "${params[@]}" \
      2> "$VCSIM_DIR/killed.err" &
    pid=$!
    vcsim_on_exit "kill -9 -- -$pid 2>/dev/null || true"
    sleep "$((delay / 10)).$((delay % 10))"
    [ "$(folder_bytes)" -gt 0 ] && kill -0 "$pid" 2>/dev/null && mid_copy=$((mid_copy + 1))
    if [ "$to" = group ]; then kill -"$sig" -- -"$pid" 2>/dev/null || true
    else kill -"$sig" "$pid" 2>/dev/null || true; fi
    rc=0
    wait "$pid" || rc=$?
    knob bandwidth=0
    echo "$what: SIG$sig to the $to after 0.$delay s: exit status $rc"

    # What the killed cycle left.
    jq -e . "$state" >/dev/null || fail "$what: the state is not valid JSON: $(cat "$state")"
    if [ "$(jq .cycle "$state")" != "$cycle_before" ]; then
      # It finished its copy (killed in the removal, or not at all).
      cp "$VCSIM_DIR"/model?.img "$good-$m/"
    fi
    check_whole "$what, after the kill" "$state" "$good-$m"
    check_unlisted_overlays "$what, after the kill" "$dir" "$state"
    # The guardian first: killed while its snapshot was being taken,
    # vsphere-sync leaves it to wait for the task before it removes the
    # snapshot, which may not be listed yet.
    for _ in $(seq 300); do [ -z "$(leftovers)" ] && break; sleep 0.1; done
    [ -z "$(leftovers)" ] ||
      fail "$what: processes of the cycle are left 30 s after: $(ps -o pid,args -p "$(leftovers | paste -sd,)" || true)"
    check_no_snapshot "$vm" "$what"

    # The next cycle makes every image exact, under its own name.
    sync_ok "$what, the next cycle" ${opts[$m]} -o "$dir" -- "${params[@]}"
    cp "$VCSIM_DIR"/model?.img "$good-$m/"
    jq -e '.disks | length == 3 and all(if has("whole") then .whole else .change_id != null end)' \
      "$state" >/dev/null ||
      fail "$what: after the next cycle, not every disk is whole: $(cat "$state")"
    check_whole "$what, the next cycle" "$state" "$good-$m"
    check_names "$what, the next cycle" "$dir" "$state"
    check_no_snapshot "$vm" "$what, the next cycle"
  done
done
echo "$mid_copy of $rounds kills landed while the disks were read"
[ $((mid_copy * 3)) -ge "$rounds" ] ||
  fail "only $mid_copy of $rounds kills landed during a copy: the test proves too little (slower bandwidth?)"
echo "ok: $rounds kills at random moments; every image recorded whole was whole, every next cycle exact, documented names only"
sync_done
