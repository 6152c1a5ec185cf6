#!/usr/bin/env bash
# Harness self-test: login, logout, idle expiry, and the session cookie
# that /folder requires like vCenter does.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start

vm=DC0/vm/DC0_H0_VM0
q=$(folder_query DC0 LocalDS_0)
desc=DC0_H0_VM0/disk1.vmdk

# The service content is public; property retrieval is not.
soap_call '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>' |
    grep -q '<sessionManager type="SessionManager">SessionManager</sessionManager>' || fail "RetrieveServiceContent"
out=$(soap_props Folder group-d1 name) && fail "RetrievePropertiesEx without a session succeeded"
grep -q NotAuthenticated <<<"$out" || fail "no NotAuthenticated fault: $out"
[ "$(folder_get "$desc" "$q" -o /dev/null)" = 401 ] || fail "/folder without cookie is not 401"

# Wrong password, then the right one (it holds & < > and a space).
out=$(soap_login "$VCSIM_USER" "wrong") && fail "login with a wrong password succeeded"
grep -q InvalidLogin <<<"$out" || fail "no InvalidLogin fault: $out"
out=$(soap_login "$VCSIM_USER" "$(cat "$VCSIM_PASSWORD_FILE")") || fail "login: $out"
grep -q '<userName>' <<<"$out" || fail "login answer has no UserSession: $out"
[ "$(vcsim_ctl GET /sessions)" = 1 ] || fail "/sessions is not 1 after login"
soap_props Folder group-d1 name | grep -q '>Datacenters</val>' || fail "RetrievePropertiesEx after login"
[ "$(folder_get "$desc" "$q" -o /dev/null)" = 200 ] || fail "/folder with the cookie is not 200"

# A forged cookie is no session.
[ "$(curl -sS --cacert "$VCSIM_CAFILE" -o /dev/null -w '%{http_code}' -b 'vmware_soap_session=forged' \
    "https://$VCSIM_SERVER/folder/$desc?$q")" = 401 ] || fail "/folder accepts a forged cookie"

# Logout ends the session for both SOAP and /folder.
cp "$VCSIM_DIR/cookies" "$VCSIM_DIR/cookies.old"
soap_logout >/dev/null || fail "logout"
[ "$(vcsim_ctl GET /sessions)" = 0 ] || fail "/sessions is not 0 after logout"
SOAP_JAR=$VCSIM_DIR/cookies.old
[ "$(folder_get "$desc" "$q" -o /dev/null)" = 401 ] || fail "/folder still open after logout"
out=$(soap_props Folder group-d1 name) && fail "SOAP still open after logout"
grep -q NotAuthenticated <<<"$out" || fail "no NotAuthenticated after logout: $out"
SOAP_JAR=

# Idle expiry: activity keeps a session alive, idleness drops it.
vcsim_ctl POST '/knobs?session_idle_timeout=2s' >/dev/null
soap_login >/dev/null || fail "login 2"
for i in 1 2 3; do
    sleep 1
    [ "$(folder_get "$desc" "$q" -o /dev/null)" = 200 ] || fail "active session expired (step $i)"
done
sleep 2.5
[ "$(folder_get "$desc" "$q" -o /dev/null)" = 401 ] || fail "/folder open after idle expiry"
out=$(soap_props Folder group-d1 name) && fail "SOAP open after idle expiry"
grep -q NotAuthenticated <<<"$out" || fail "no NotAuthenticated after idle expiry: $out"
soap_login >/dev/null || fail "login 3"
sleep 2.5
[ "$(vcsim_ctl GET /sessions)" = 0 ] || fail "idle session still counted"
echo PASS
