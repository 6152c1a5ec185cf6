#!/usr/bin/env bash
# A failing or hostile host over NFC: a banner that never ends, PROXY
# refused, OPEN_FILE refused, and at reads a connection cut
# mid-fragment, a wrong magic, an error reply, a stall, an unknown
# frame type, fragments that overlap, overrun or repeat, a length beyond
# the request, a reply for an opId never sent.  Each gives one error
# naming the host and what it sent, within the time timeout= allows,
# with no snapshot left; a fault that passes (once) is retried on a new
# connection and the copy is byte-exact, also when the session expired
# before the retry's ticket.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/plain.img
make_image "$img" 3
vcsim_ctl POST "/vm/create?path=DC0/vm/hostile&power=on" >/dev/null
vcsim_ctl POST "/disk/add?vm=DC0/vm/hostile&ds=LocalDS_0&name=hostile/hostile&image=$img&encrypted=1" >/dev/null
timeout=3

# copy FAULT TIMES: a copy over NFC with the fault on; its status.
copy ()
{
  vcsim_ctl POST "/knobs?nfc_fault=$1&nfc_fault_times=$2" >/dev/null
  rm -f "$VCSIM_DIR/out.raw"
  local rc=0
  start=$SECONDS
  nbdkit_vsphere vm=DC0/vm/hostile snapshot=create transport=nfc \
    timeout=$timeout connections=1 --run 'nbdcopy "$uri" "$VCSIM_DIR/out.raw"' \
    > "$VCSIM_DIR/err" 2>&1 || rc=$?
  vcsim_ctl POST "/knobs?nfc_fault=" >/dev/null
  [ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/hostile)" ] ||
    fail "nfc_fault=$1: a snapshot is left"
  return $rc
}

# FAULT PATTERN: what the error must say.
while read -r fault pattern; do
  if copy "$fault" 0; then
    fail "nfc_fault=$fault: the copy succeeded"
  fi
  elapsed=$((SECONDS - start))
  grep -Eq "NFC host 127\.0\.0\.1: .*$pattern" "$VCSIM_DIR/err" ||
    fail "nfc_fault=$fault: no clear error: $(cat "$VCSIM_DIR/err")"
  # Start-up, snapshot, then at most two connections each waiting once.
  [ "$elapsed" -le $((4 * timeout + 10)) ] ||
    fail "nfc_fault=$fault: took $elapsed s with timeout=$timeout"
  echo "ok: nfc_fault=$fault (${elapsed}s): $(grep -Eo "NFC host 127\.0\.0\.1: .*$pattern.*" "$VCSIM_DIR/err" | head -n 1)"
done <<'EOF'
banner authd sent a line that never ends
proxy authd refused PROXY: 500 simulated refusal
open refused OPEN_FILE of \[LocalDS_0\] hostile/hostile.vmdk: Failed to open
cut the connection was closed
magic sent a frame with magic 0xdeadbeef
error refused a read: Failed to read the disk: simulated I/O error
stall no progress within timeout=
type sent a frame of unknown type 99
overlap sent an IO fragment of bytes 32768 to [0-9]* of the request, some of which came before
overrun sent an IO fragment of [0-9]* bytes at [0-9]*, past the end of its
repeat sent an IO fragment of bytes 0 to 65536 of the request, some of which came before
length sent an IO fragment of a [0-9]*-byte request at [0-9]* in reply to one of
opid sent a reply for opId [0-9]*, which was never
EOF

# A fault that passes: the read is retried on a fresh connection.
for fault in cut error magic stall; do
  copy "$fault" 1 || fail "nfc_fault=$fault once: $(cat "$VCSIM_DIR/err")"
  cmp "$img" "$VCSIM_DIR/out.raw" || fail "nfc_fault=$fault once: the copy differs"
done
echo "ok: a fault that happens once is retried on a new connection, and the copy is exact"

# The session expires while the copy runs: the retry after a cut needs a
# new ticket, which needs a new login; the copy is exact, and nothing
# but NfcGetVmFiles needed the login.
vcsim_ctl POST "/knobs?nfc_fault=cut&nfc_fault_times=1" >/dev/null
rm -f "$VCSIM_DIR/out.raw"
nbdkit_vsphere -v vm=DC0/vm/hostile snapshot=create transport=nfc \
  timeout=$timeout connections=1 --run "
    curl -sf -X POST '$VCSIM_CONTROL/sessions/expire' >/dev/null &&
    nbdcopy \"\$uri\" $VCSIM_DIR/out.raw" > "$VCSIM_DIR/err" 2>&1 ||
  fail "a copy through an expired session: $(grep -v debug: "$VCSIM_DIR/err")"
vcsim_ctl POST "/knobs?nfc_fault=" >/dev/null
cmp "$img" "$VCSIM_DIR/out.raw" || fail "the copy through an expired session differs"
grep -Eq "(RetrieveInternalContent|NfcGetVmFiles): session expired, logging in again" "$VCSIM_DIR/err" ||
  fail "no new login for the retry's ticket: $(grep -E 'logg|Nfc' "$VCSIM_DIR/err")"
[ -z "$(vcsim_ctl GET /snapshots?vm=DC0/vm/hostile)" ] ||
  fail "a snapshot is left after the session expired"
echo "ok: the session expires mid-copy: the retry's ticket logs in again, and the copy is exact"
