#!/usr/bin/env bash
# Harness self-test: /folder files carry validators (Last-Modified by
# default, ETag with validators=etag, none with validators=none) that
# change when the file does, conditional GETs answer 412 once it has
# changed, and trickle=N sends each body at N bytes a second.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start
soap_login >/dev/null

vm=DC0/vm/DC0_H0_VM0
img=$VCSIM_DIR/img.raw
head -c 1048576 /dev/urandom > "$img"
vcsim_ctl POST "/disk/add?vm=$(vcsim_urlencode "$vm")&ds=LocalDS_0&name=v/d&image=$img" >/dev/null
q=$(folder_query DC0 LocalDS_0)
# headers [curl args]: the status line and headers of a 16-byte ranged GET.
headers () { folder_get v/d-flat.vmdk "$q" -r 0-15 -o /dev/null -D - "$@" | tr -d '\r'; }
header () { headers | sed -n "s/^$1: //Ip"; }
status () { folder_get v/d-flat.vmdk "$q" -r 0-15 -o /dev/null "$@"; }
guest_write () {
  head -c 4096 /dev/urandom |
    vcsim_ctl POST "/disk/write?vm=$(vcsim_urlencode "$vm")&disk=1&offset=0" --data-binary @- >/dev/null
}
[ "$(vcsim_ctl GET "/disk/file?vm=$(vcsim_urlencode "$vm")&disk=1")" -ef \
  "$(vcsim_ctl GET /datastore/path?ds=LocalDS_0)/v/d-flat.vmdk" ] ||
  fail "disk=1 is not the disk just added"

# Default: Last-Modified only, as vcsim always sent.
grep -qx 'validators=last_modified' <<<"$(vcsim_ctl GET /knobs)" || fail "default knob"
lm=$(header Last-Modified)
[ -n "$lm" ] && [ -z "$(header ETag)" ] || fail "default headers: $(headers)"
[ "$(status -H "If-Unmodified-Since: $lm")" = 206 ] || fail "If-Unmodified-Since, unchanged"
sleep 1.1                       # Last-Modified counts whole seconds
guest_write
[ "$(header Last-Modified)" != "$lm" ] || fail "Last-Modified did not change"
[ "$(status -H "If-Unmodified-Since: $lm")" = 412 ] || fail "If-Unmodified-Since, changed"
echo "ok: Last-Modified changes with the file; If-Unmodified-Since gives 412"

# validators=etag: a stable ETag until the file changes, even within the
# same second; If-Match gives 412 after a change.
vcsim_ctl POST '/knobs?validators=etag' >/dev/null
etag=$(header ETag)
[ -n "$etag" ] && [ "$(header ETag)" = "$etag" ] || fail "ETag missing or unstable: $etag"
[ -n "$(header Last-Modified)" ] || fail "Last-Modified missing with ETag"
[ "$(status -H "If-Match: $etag")" = 206 ] || fail "If-Match, unchanged"
guest_write
[ "$(header ETag)" != "$etag" ] || fail "ETag did not change"
[ "$(status -H "If-Match: $etag")" = 412 ] || fail "If-Match, changed"
echo "ok: ETag $etag changes with the file; If-Match gives 412"

# validators=none: neither header.
vcsim_ctl POST '/knobs?validators=none' >/dev/null
[ -z "$(header ETag)" ] && [ -z "$(header Last-Modified)" ] || fail "validators=none: $(headers)"
vcsim_ctl POST '/knobs?validators=bogus' 2>/dev/null && fail "bad validators value accepted"
vcsim_ctl POST '/knobs?validators=last_modified' >/dev/null
echo "ok: validators=none sends neither"

# trickle=40: 80 bytes take about 2 s, and bytes arrive from the start
# (a trickle, not a stall).
vcsim_ctl POST '/knobs?trickle=40' >/dev/null
t=$(folder_get v/d-flat.vmdk "$q" -r 0-79 -o "$VCSIM_DIR/slow" -w ' %{time_total}' | cut -d' ' -f2)
awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t < 6) }' || fail "80 bytes at 40 B/s took $t s"
cmp "$VCSIM_DIR/slow" <(head -c 80 "$(vcsim_ctl GET "/disk/file?vm=$(vcsim_urlencode "$vm")&disk=1")") ||
  fail "trickled bytes differ"
folder_get v/d-flat.vmdk "$q" -r 0-79 -o "$VCSIM_DIR/part" --max-time 1 >/dev/null 2>&1 || true
n=$(stat -c %s "$VCSIM_DIR/part")
[ "$n" -ge 10 ] && [ "$n" -lt 80 ] || fail "after 1 s of trickle=40 got $n bytes"
vcsim_ctl POST '/knobs?trickle=0' >/dev/null
echo "ok: trickle=40 sent 80 bytes in $t s, $n in the first second"
echo PASS
