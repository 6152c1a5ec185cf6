#!/usr/bin/env bash
# Neither the password nor the session cookie reaches any output, even
# with -v and every debug flag; the plugin logs out when it exits.
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 2
vm=DC0/vm/secret-vm
add_vm "$vm" "$img"
sessions=$(vcsim_ctl GET /sessions)

nbdkit_vsphere -v -D vsphere.soap=1 -D vsphere.http=1 "vm=$vm" \
  --run "nbdcopy \"\$uri\" null: && nbdinfo \"\$uri\"" > "$VCSIM_DIR/log" 2>&1
grep -q "soap: Login: HTTP 200" "$VCSIM_DIR/log" || fail "no SOAP debug output"
grep -q "http: GET https://.*/folder/.* bytes=0-" "$VCSIM_DIR/log" || fail "no HTTP debug output"
if grep -aF "$VCSIM_PASSWORD" "$VCSIM_DIR/log"; then
  fail "the password appears in the output"
fi
if grep -a "vmware_soap_session" "$VCSIM_DIR/log"; then
  fail "the session cookie appears in the output"
fi
echo "ok: no password or cookie in $(wc -l < "$VCSIM_DIR/log") lines of debug output"
sessions_back () { [ "$(vcsim_ctl GET /sessions)" = "$sessions" ]; }
eventually sessions_back ||
  fail "the plugin did not log out: $(vcsim_ctl GET /sessions) sessions, expected $sessions"
echo "ok: logged out"
