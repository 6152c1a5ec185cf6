#!/usr/bin/env bash
# One point in time, or an error: when the snapshot being read is
# removed (and its delta consolidated) in the middle of a copy, the copy
# fails with EIO and says why, for flat (copy), seSparse and vmfsSparse
# deltas, with snapshot=NAME and snapshot=create, whether the server
# sends ETags or only Last-Modified.  Undisturbed copies stay
# byte-exact, also from a server that sends no validators at all.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
mib=4
img=$VCSIM_DIR/src.img
make_image "$img" $mib
# A copy takes about 8 s at this pace; the snapshot goes after 1 s.
slow="bandwidth=262144"

# The guest writes MIB MiB of fresh data at the start of its disk.
guest_write ()
{
  head -c $((mib * 1024 * 1024)) /dev/urandom |
    vcsim_ctl POST "/disk/write?vm=$vm&disk=0&offset=0" --data-binary @- >/dev/null
}

# A script for nbdkit --run: copy URI ($1) slowly and remove snapshot $1 (or
# the temporary one when $1 is empty) one second in, after the guest
# wrote over the whole disk.
cat > "$VCSIM_DIR/interfere.sh" <<'EOF'
set -u
ctl () { curl -sf -X POST "$VCSIM_CONTROL$1" "${@:2}" >/dev/null; }
snap=$SNAP
[ -n "$snap" ] ||
  snap=$(curl -sf "$VCSIM_CONTROL/snapshots?vm=$VM" | awk '$2 ~ /^nbdkit-vsphere/ { print $2 }')
[ -n "$snap" ] || { echo "interfere.sh: no temporary snapshot" >&2; exit 99; }
head -c "$BYTES" /dev/urandom | ctl "/disk/write?vm=$VM&disk=0&offset=0" --data-binary @- &&
ctl "/knobs?$SLOW" || exit 99
nbdcopy "$1" "$OUT" &
copy=$!
sleep 1
ctl "/snapshot/remove?vm=$VM&name=$snap" || { echo "interfere.sh: remove failed" >&2; exit 99; }
wait $copy
EOF

# interfered WHAT SNAPSHOT-PARAM SNAP: the copy must fail with EIO and a
# message naming the change.
interfered ()
{
  local what=$1 param=$2 snap=$3 err=$VCSIM_DIR/err rc=0
  rm -f "$VCSIM_DIR/out.raw"
  VM=$vm SNAP=$snap SLOW=$slow OUT=$VCSIM_DIR/out.raw BYTES=$((mib * 1024 * 1024)) \
    VCSIM_CONTROL=$VCSIM_CONTROL \
    nbdkit_vsphere "vm=$vm" "$param" connections=2 \
      --run "bash $VCSIM_DIR/interfere.sh \"\$uri\"" > "$err" 2>&1 || rc=$?
  vcsim_ctl POST "/knobs?bandwidth=0" >/dev/null
  if [ $rc = 0 ]; then
    # Go on with the other cases, to show every one that fails.
    if cmp -s "$VCSIM_DIR/out.raw" "$VCSIM_DIR/expected.raw"; then
      what+=" (right by luck)"
    else
      what+=" (a mix of two points in time)"
    fi
    echo "$0: FAIL: $what: exit 0 although the snapshot was removed mid-copy" >&2
    failed=$((failed + 1))
    return
  fi
  [ $rc != 99 ] || { cat "$err" >&2; fail "$what: the test's own step failed"; }
  grep -q 'changed on the datastore while it was being read\|was removed from the datastore while it was being read' "$err" ||
    { cat "$err" >&2; fail "$what: no message saying the file changed"; }
  grep -q 'Input/output error\|EIO' "$err" ||
    { cat "$err" >&2; fail "$what: the reads did not fail with EIO"; }
  echo "ok: $what: $(grep -m1 "while it was being read" "$err")"
}

# disk_image QUERY: the harness's own image of the disk into expected.raw.
disk_image ()
{
  curl -sf "$VCSIM_CONTROL/disk/image?vm=$vm&disk=0&$1" -o "$VCSIM_DIR/expected.raw" ||
    fail "no /disk/image for $vm $1"
}

failed=0

# control SNAPSHOT: an undisturbed copy matches the harness's own image.
control ()
{
  nbdkit_vsphere "vm=$vm" "snapshot=$1" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
  disk_image "snapshot=$1"
  same_bytes "$VCSIM_DIR/expected.raw" "$VCSIM_DIR/out.raw"
  echo "ok: $vm snapshot=$1 undisturbed is byte-exact ($(vcsim_ctl GET /knobs | grep validators))"
}

# Each format: s1 over the base, data, s2 over s1's delta, data.
# Reading s2 reads s1's delta (sparse, or a full copy) over the base.
for format in copy sesparse vmfssparse; do
  vm=DC0/vm/pit-$format
  add_vm "$vm" "$img" "power=on&delta=$format"
  vcsim_ctl POST "/snapshot/create?vm=$vm&name=s1" >/dev/null
  guest_write
  vcsim_ctl POST "/snapshot/create?vm=$vm&name=s2" >/dev/null
  guest_write
  vcsim_ctl POST "/knobs?validators=etag" >/dev/null
  control s2
  interfered "$format, ETag, snapshot=s2 removed" snapshot=s2 s2
  # snapshot=create freezes s1's delta (now holding s2's data too).
  disk_image ""
  interfered "$format, ETag, snapshot=create removed" snapshot=create ""
done

# Only Last-Modified (one-second granularity): the change lands at least
# a second after the files were last written.
vm=DC0/vm/pit-copy
vcsim_ctl POST "/knobs?validators=last_modified" >/dev/null
vcsim_ctl POST "/snapshot/create?vm=$vm&name=s3" >/dev/null
guest_write
sleep 1.1
control s3
interfered "copy, Last-Modified, snapshot=s3 removed" snapshot=s3 s3

# No validators at all: nothing to check against, but a copy still works.
vcsim_ctl POST "/snapshot/create?vm=$vm&name=s4" >/dev/null
guest_write
vcsim_ctl POST "/knobs?validators=none" >/dev/null
control s4
vcsim_ctl POST "/knobs?validators=last_modified" >/dev/null
[ "$failed" = 0 ] || fail "$failed copies completed across a snapshot removal"
