#!/usr/bin/env bash
# Copies stay byte-exact while the server misbehaves: 503 answers,
# connections cut in the middle of a body, the session expiring during
# the copy; and when it never recovers the read fails, never with
# wrong bytes.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 16
vm=DC0/vm/faulty
add_vm "$vm" "$img"

# copy_with_knobs KNOBS [PAUSE]: knobs are set once nbdkit has logged in.
copy_with_knobs ()
{
  vcsim_ctl POST /counters/reset >/dev/null
  rm -f "$VCSIM_DIR/out.raw"
  nbdkit_vsphere "vm=$vm" retries=8 --run "
    curl -sf -X POST '$VCSIM_CONTROL/knobs?$1' >/dev/null && sleep ${2:-0} &&
    nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
  same_bytes "$img" "$VCSIM_DIR/out.raw"
  vcsim_ctl POST "/knobs?fail503=0&cut=0&session_idle_timeout=0&latency=0" >/dev/null
  echo "ok: byte-exact with $1 ($(vcsim_ctl GET /counters | tr '\n' ' '))"
}

copy_with_knobs "fail503=0.25"
copy_with_knobs "cut=0.25"
# The session expires before the copy starts: reads get 401 and the
# plugin logs in again.
copy_with_knobs "session_idle_timeout=1s" 2

# A server that always fails: the copy fails with the server's answer.
if nbdkit_vsphere "vm=$vm" retries=2 --run "
     curl -sf -X POST '$VCSIM_CONTROL/knobs?fail503=1' >/dev/null &&
     nbdcopy \"\$uri\" null:" 2> "$VCSIM_DIR/err"; then
  fail "the copy should fail when every read gets 503"
fi
grep -q "HTTP 503" "$VCSIM_DIR/err" || fail "error does not name the 503: $(cat "$VCSIM_DIR/err")"
echo "ok: persistent 503 fails the read: $(grep -m1 'HTTP 503' "$VCSIM_DIR/err")"
