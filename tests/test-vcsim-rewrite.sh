#!/usr/bin/env bash
# Harness self-test: /soap/rewrite turns the answers of one SOAP method
# hostile (regexp replacement, HTTP status, padding) until cleared.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start
soap_login >/dev/null

vm=$(soap_find DC0/vm/DC0_H0_VM0)
[ -n "$vm" ] || fail "FindByInventoryPath DC0/vm/DC0_H0_VM0"
name_of () { soap_props VirtualMachine "$vm" name | xml_text val; }
rewrite () { vcsim_ctl POST /soap/rewrite -G "$@"; }

# Bad rules are refused.
rewrite --data-urlencode 'match=x' 2>/dev/null && fail "a rule without method= was accepted"
rewrite --data-urlencode 'method=Login' --data-urlencode 'match=(' 2>/dev/null &&
    fail "a bad regexp was accepted"
rewrite --data-urlencode 'method=Login' 2>/dev/null && fail "a rule that changes nothing was accepted"
rewrite --data-urlencode 'method=Login' --data-urlencode 'status=42' 2>/dev/null &&
    fail "status=42 was accepted"

# A replacement, with $1 expanded, changes only that method's answers.
rewrite --data-urlencode 'method=RetrievePropertiesEx' \
    --data-urlencode 'match=>DC0_(H0)_VM0<' --data-urlencode 'replace=>renamed-$1<' >/dev/null
[ "$(name_of)" = renamed-H0 ] || fail "rewritten name: $(name_of)"
[ "$(soap_find DC0/vm/DC0_H0_VM0)" = "$vm" ] || fail "another method's answer changed"

# Rules of one method apply in order; a status is sent as given.
rewrite --data-urlencode 'method=RetrievePropertiesEx' \
    --data-urlencode 'match=renamed' --data-urlencode 'replace=twice' \
    --data-urlencode 'status=500' >/dev/null
out=$(soap_props VirtualMachine "$vm" name) && fail "status=500 not sent"
[ "$(xml_text val <<<"$out")" = twice-H0 ] || fail "second rule: $out"

# pad= appends that many spaces after the envelope.
vcsim_ctl POST /soap/rewrite/clear
plain=$(soap_props VirtualMachine "$vm" name | wc -c)
rewrite --data-urlencode 'method=RetrievePropertiesEx' --data-urlencode 'pad=1000000' >/dev/null
out=$(soap_props VirtualMachine "$vm" name) || fail "padded answer not HTTP 200"
[ "$(printf '%s\n' "$out" | wc -c)" -eq $((plain + 1000000)) ] ||
    fail "padded size $(printf '%s\n' "$out" | wc -c), want $((plain + 1000000))"
[ "$(xml_text val <<<"$out")" = DC0_H0_VM0 ] || fail "padded answer: ${out:0:300}"

# Cleared: answers are vcsim's again.
vcsim_ctl POST /soap/rewrite/clear
[ "$(soap_props VirtualMachine "$vm" name | wc -c)" -eq "$plain" ] || fail "rules not cleared"
[ "$(name_of)" = DC0_H0_VM0 ] || fail "name after clear: $(name_of)"
echo "ok: /soap/rewrite"
