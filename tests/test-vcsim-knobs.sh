#!/usr/bin/env bash
# Harness self-test: the /folder fault and timing knobs and the counters,
# set by flag at start and by the control API.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start -latency 1ms -cbt-page 2097152
soap_login >/dev/null

# Flags set knobs; unknown or bad values are refused.
knobs=$(vcsim_ctl GET /knobs)
grep -qx 'latency=1ms' <<<"$knobs" && grep -qx 'cbt_page=2097152' <<<"$knobs" && grep -qx 'fail503=0' <<<"$knobs" ||
    fail "knobs from flags: $knobs"
vcsim_ctl POST '/knobs?nosuch=1' 2>/dev/null && fail "unknown knob accepted"
vcsim_ctl POST '/knobs?fail503=2' 2>/dev/null && fail "share 2 accepted"
vcsim_ctl POST '/knobs?latency=0&cbt_page=0' >/dev/null

vmq=DC0%2Fvm%2FDC0_H0_VM0
img=$VCSIM_DIR/img.raw
head -c 2097152 /dev/urandom > "$img"
vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=k/d&image=$img" >/dev/null
q=$(folder_query DC0 LocalDS_0)
get () { folder_get k/d-flat.vmdk "$q" "$@"; }

# Counters: requests and body bytes, resettable.
vcsim_ctl POST /counters/reset
get -r 0-99 -o /dev/null >/dev/null
get -r 1000-1999 -o /dev/null >/dev/null
get -I -o /dev/null >/dev/null
[ "$(vcsim_ctl GET /counters)" = "$(printf 'folder_requests=3\nfolder_bytes=1100\nhost_requests=0\nhost_bytes=0\nhost_tickets_refused=0\nnfc_requests=0\nnfc_bytes=0')" ] ||
    fail "counters: $(vcsim_ctl GET /counters | tr '\n' ' ')"
vcsim_ctl POST /counters/reset
[ "$(vcsim_ctl GET /counters)" = "$(printf 'folder_requests=0\nfolder_bytes=0\nhost_requests=0\nhost_bytes=0\nhost_tickets_refused=0\nnfc_requests=0\nnfc_bytes=0')" ] || fail "counters reset"

# fail503=0.25: exactly every 4th request is refused.
vcsim_ctl POST '/knobs?fail503=0.25' >/dev/null
codes=
for i in 1 2 3 4 5 6 7 8; do codes+="$(get -r 0-9 -o /dev/null) "; done
[ "$codes" = "206 206 206 503 206 206 206 503 " ] || fail "503 share: $codes"
vcsim_ctl POST '/knobs?fail503=0' >/dev/null

# cut=0.5: every 2nd ranged body stops half way and the connection closes.
vcsim_ctl POST '/knobs?cut=0.5' >/dev/null
vcsim_ctl POST /counters/reset
res=
for i in 1 2 3 4; do
    rc=0
    get -r 0-1048575 -o "$VCSIM_DIR/part" >/dev/null 2>&1 || rc=$?
    res+="$rc:$(stat -c %s "$VCSIM_DIR/part") "
done
[ "$res" = "0:1048576 18:524288 0:1048576 18:524288 " ] || fail "cut share (curl rc:bytes): $res"
cmp "$VCSIM_DIR/part" <(head -c 524288 "$img") || fail "bytes before the cut are wrong"
grep -qx 'folder_bytes=3145728' <<<"$(vcsim_ctl GET /counters)" || fail "counted bytes with cuts"
vcsim_ctl POST '/knobs?cut=0' >/dev/null

# latency: each request waits.
vcsim_ctl POST '/knobs?latency=600ms' >/dev/null
t=$(curl -sS --cacert "$VCSIM_CAFILE" -b "$VCSIM_DIR/cookies" -r 0-0 -o /dev/null -w '%{time_total}' \
    "https://$VCSIM_SERVER/folder/k/d-flat.vmdk?$q")
awk -v t="$t" 'BEGIN { exit !(t >= 0.6) }' || fail "latency 600ms but request took $t s"
vcsim_ctl POST '/knobs?latency=0' >/dev/null
t=$(curl -sS --cacert "$VCSIM_CAFILE" -b "$VCSIM_DIR/cookies" -r 0-0 -o /dev/null -w '%{time_total}' \
    "https://$VCSIM_SERVER/folder/k/d-flat.vmdk?$q")
awk -v t="$t" 'BEGIN { exit !(t < 0.5) }' || fail "latency off but request took $t s"

# bandwidth: 1 MiB at 512 KiB/s takes about 2 s; off again it is fast.
vcsim_ctl POST '/knobs?bandwidth=524288' >/dev/null
t=$(curl -sS --cacert "$VCSIM_CAFILE" -b "$VCSIM_DIR/cookies" -r 0-1048575 -o "$VCSIM_DIR/slow" -w '%{time_total}' \
    "https://$VCSIM_SERVER/folder/k/d-flat.vmdk?$q")
awk -v t="$t" 'BEGIN { exit !(t >= 1.8 && t < 4) }' || fail "1 MiB at 512 KiB/s took $t s"
cmp "$VCSIM_DIR/slow" <(head -c 1048576 "$img") || fail "throttled bytes differ"
vcsim_ctl POST '/knobs?bandwidth=0' >/dev/null
t=$(curl -sS --cacert "$VCSIM_CAFILE" -b "$VCSIM_DIR/cookies" -o /dev/null -w '%{time_total}' \
    "https://$VCSIM_SERVER/folder/k/d-flat.vmdk?$q")
awk -v t="$t" 'BEGIN { exit !(t < 1) }' || fail "bandwidth off but 2 MiB took $t s"
echo PASS
