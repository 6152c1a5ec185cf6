#!/usr/bin/env bash
# Harness self-test: vcsim.sh exports what clients need, and leaves no
# process or directory behind however the test ends.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start

for v in VCSIM_SERVER VCSIM_HOST VCSIM_PORT VCSIM_USER VCSIM_PASSWORD VCSIM_PASSWORD_FILE \
         VCSIM_THUMBPRINT VCSIM_THUMBPRINT_SHA1 VCSIM_CAFILE VCSIM_CONTROL VCSIM_DIR VCSIM_PID; do
    [ -n "${!v}" ] || fail "$v is empty"
    bash -c "[ -n \"\$$v\" ]" || fail "$v is not exported"
done
[ "$VCSIM_SERVER" = "$VCSIM_HOST:$VCSIM_PORT" ] && [ "$VCSIM_HOST" = 127.0.0.1 ] || fail "VCSIM_SERVER=$VCSIM_SERVER"
[ "$(cat "$VCSIM_PASSWORD_FILE")" = "$VCSIM_PASSWORD" ] || fail "password file"
[ "$(wc -c < "$VCSIM_PASSWORD_FILE")" = "$(printf '%s' "$VCSIM_PASSWORD" | wc -c)" ] || fail "password file has extra bytes"
[[ $VCSIM_THUMBPRINT =~ ^([0-9A-F]{2}:){31}[0-9A-F]{2}$ ]] || fail "VCSIM_THUMBPRINT=$VCSIM_THUMBPRINT"
[[ $VCSIM_THUMBPRINT_SHA1 =~ ^([0-9A-F]{2}:){19}[0-9A-F]{2}$ ]] || fail "VCSIM_THUMBPRINT_SHA1=$VCSIM_THUMBPRINT_SHA1"
[ "$(vcsim_ctl GET /sessions)" = 0 ] || fail "control API"
vcsim_ctl GET /nosuch 2>/dev/null && fail "vcsim_ctl succeeded on a 404"

# The CA file verifies the server under both names it is reached by.
curl -sS --cacert "$VCSIM_CAFILE" -o /dev/null "https://127.0.0.1:$VCSIM_PORT/about" || fail "TLS via 127.0.0.1"
curl -sS --cacert "$VCSIM_CAFILE" -o /dev/null "https://localhost:$VCSIM_PORT/about" || fail "TLS via localhost"
if command -v openssl >/dev/null; then
    fp=$(openssl x509 -in "$VCSIM_CAFILE" -noout -fingerprint -sha256 | sed 's/.*=//')
    [ "$fp" = "$VCSIM_THUMBPRINT" ] || fail "thumbprint $VCSIM_THUMBPRINT, certificate has $fp"
    fp=$(openssl x509 -in "$VCSIM_CAFILE" -noout -fingerprint -sha1 | sed 's/.*=//')
    [ "$fp" = "$VCSIM_THUMBPRINT_SHA1" ] || fail "SHA-1 thumbprint $VCSIM_THUMBPRINT_SHA1, certificate has $fp"
fi
# The cookie must stay with the HTTP/1.1 server: no HTTP/2 on the wire.
[ "$(curl -sS --cacert "$VCSIM_CAFILE" -o /dev/null -w '%{http_version}' "https://$VCSIM_SERVER/about")" = 1.1 ] ||
    fail "server speaks something other than HTTP/1.1"

# Child tests that end in different ways; each reports its harness.
scratch=$VCSIM_DIR/children
mkdir "$scratch"
child () { # NAME SCRIPT-TAIL: run a child test, leave its rc in $scratch/NAME.rc
    local rc=0
    bash -c "set -e; source '$srcdir/vcsim/vcsim.sh'; vcsim_start
        echo \"\$VCSIM_PID \$VCSIM_DIR\" > '$scratch/$1.info'
        vcsim_on_exit 'echo first >> $scratch/$1.order'
        vcsim_on_exit 'echo second >> $scratch/$1.order'
        $2" >/dev/null 2>&1 || rc=$?
    echo "$rc" > "$scratch/$1.rc"
}
gone () { # NAME: the child's harness process and directory are gone (within 5 s)
    local pid dir i
    read -r pid dir < "$scratch/$1.info"
    for (( i = 0; i < 50; i++ )); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "$1: harness $pid still running"; }
    [ ! -e "$dir" ] || fail "$1: $dir left behind"
}

child ok 'vcsim_stop; vcsim_stop; true'
gone ok
[ "$(cat "$scratch/ok.rc")" = 0 ] || fail "ok: rc $(cat "$scratch/ok.rc")"
[ "$(cat "$scratch/ok.order")" = "$(printf 'second\nfirst')" ] || fail "vcsim_on_exit order"

child failing 'false; echo not reached'
gone failing
[ "$(cat "$scratch/failing.rc")" = 1 ] || fail "failing: rc $(cat "$scratch/failing.rc") should stay 1"
[ -s "$scratch/failing.order" ] || fail "failing: exit commands did not run"

child term 'sleep 30 & s=$!; vcsim_on_exit "kill $s"; kill -TERM $$; wait $s' &
wait $!
gone term
[ "$(cat "$scratch/term.rc")" = 143 ] || fail "term: rc $(cat "$scratch/term.rc")"

# SIGKILL leaves no trap to run: the harness notices its parent died.
( bash -c "source '$srcdir/vcsim/vcsim.sh'; vcsim_start
    echo \"\$VCSIM_PID \$VCSIM_DIR\" > '$scratch/kill.info'; kill -KILL \$\$" || : ) >/dev/null 2>&1
gone kill
echo PASS
