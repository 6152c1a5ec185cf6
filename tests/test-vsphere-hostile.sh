#!/usr/bin/env bash
# A hostile or broken server: SOAP answers with a DOCTYPE (billion
# laughs), answers too big to buffer, and sizes, keys and names that
# are missing or out of range.  Each is one clear error, quickly and
# in bounded memory, never undefined behaviour or a wrong-sized disk.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 1
vm=DC0/vm/hostile-vm
add_vm "$vm" "$img"

# rewrite METHOD MATCH REPLACE [ARGS...]: one more /soap/rewrite rule.
rewrite ()
{
  local method=$1 match=$2 replace=$3
  shift 3
  vcsim_ctl POST /soap/rewrite -G --data-urlencode "method=$method" \
    --data-urlencode "match=$match" --data-urlencode "replace=$replace" \
    "$@" >/dev/null
}
props () { rewrite RetrievePropertiesEx "$@"; }

# refused PATTERN WHAT: nbdkit must fail within a minute, in at most
# 1 GiB of address space, with an error matching PATTERN.  (Under
# AddressSanitizer, whose shadow memory needs terabytes of address
# space, only the minute holds.)
refused ()
{
  local out=$VCSIM_DIR/refused.out rc=0
  # shellcheck disable=SC2046
  ( [ -n "${SANITIZER_LIBASAN:-}" ] || ulimit -v 1048576
    exec timeout 60 nbdkit -U - "$NBDKIT_VSPHERE_PLUGIN" \
      $(vsphere_server_args) "vm=$vm" --run true ) > "$out" 2>&1 || rc=$?
  vcsim_ctl POST /soap/rewrite/clear
  [ "$rc" -ne 0 ] || { cat "$out" >&2; fail "$2: nbdkit accepted it"; }
  [ "$rc" -ne 124 ] || { cat "$out" >&2; fail "$2: nbdkit hung"; }
  grep -Eq -- "$1" "$out" || {
    cat "$out" >&2
    fail "$2: expected an error matching '$1'"
  }
  echo "ok: $2 -> $(grep -E -m1 -- "$1" "$out")"
}

# Billion laughs: 10^9 copies of a word from a 1 KB DOCTYPE.
dtd='<!DOCTYPE soapenv:Envelope [<!ENTITY a0 "lol">'
for i in 1 2 3 4 5 6 7 8 9; do
  dtd+="<!ENTITY a$i \"$(printf "&a$((i - 1));%.0s" 1 2 3 4 5 6 7 8 9 10)\">"
done
dtd+=']>'
props '<soapenv:Envelope ' "$dtd"'<soapenv:Envelope '
props '>hostile-vm<' '>&a9;<'
refused "RetrievePropertiesEx: the reply carries a DOCTYPE, which SOAP forbids; refusing it" \
  "nested entities"
# Quadratic blowup: a 20 KB entity referenced 30000 times in the VM's
# name, a 130 KB answer that libxml2 alone lets grow to 600 MB.
props '<soapenv:Envelope ' \
  "<!DOCTYPE soapenv:Envelope [<!ENTITY b \"$(printf 'x%.0s' {1..20000})\">]><soapenv:Envelope "
props '>hostile-vm<' ">$(printf '&b;%.0s' {1..30000})<"
refused "RetrievePropertiesEx: the reply carries a DOCTYPE, which SOAP forbids; refusing it" \
  "one wide entity"
props '<soapenv:Envelope ' '<!DOCTYPE soapenv:Envelope><soapenv:Envelope '
refused "RetrievePropertiesEx: the reply carries a DOCTYPE" "a DOCTYPE without entities"

# An answer over the cap, valid XML but for its size.
props '' '' --data-urlencode pad=$((65 * 1024 * 1024))
refused "RetrievePropertiesEx: response too large: the server sent more than 64 MiB" \
  "a 65 MiB answer"

# Capacities: only capacityInKB (as before vSphere 5.5), out of range.
kb_only () { props '<capacityInBytes>[0-9]*</capacityInBytes>' ''; }
for kb in 18014398509481984 9223372036854775807 9223372036854775808 -1024 0 \
          ' 1024' 1024x 0x400; do
  kb_only
  props '<capacityInKB>[0-9]*</capacityInKB>' "<capacityInKB>$kb</capacityInKB>"
  refused "VM hostile-vm, disk \"Hard disk 1\": capacityInKB=\"$kb\" from the server is not a whole number from 1 to 9007199254740991" \
    "capacityInKB=$kb"
done
kb_only
props '<capacityInKB>[0-9]*</capacityInKB>' ''
refused 'disk "Hard disk 1": the server gave neither capacityInBytes nor capacityInKB' \
  "no capacity"
# capacityInBytes present but bad: no silent fallback to capacityInKB.
for bytes in -1048576 0; do
  props '<capacityInBytes>[0-9]*</capacityInBytes>' "<capacityInBytes>$bytes</capacityInBytes>"
  refused "capacityInBytes=\"$bytes\" from the server is not a whole number from 1 to" \
    "capacityInBytes=$bytes"
done

# Both present but disagreeing: a warning names the one used, and the
# bytes come out right (the descriptor agrees with capacityInBytes).
props '<capacityInKB>[0-9]*</capacityInKB>' '<capacityInKB>2048</capacityInKB>'
nbdkit_vsphere "vm=$vm" --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.img" \
  2> "$VCSIM_DIR/warn" || { cat "$VCSIM_DIR/warn" >&2; fail "disagreeing capacities"; }
vcsim_ctl POST /soap/rewrite/clear
grep -q 'capacityInBytes=1048576 and capacityInKB=2048 disagree; using capacityInBytes' \
  "$VCSIM_DIR/warn" || { cat "$VCSIM_DIR/warn" >&2; fail "no warning on disagreeing capacities"; }
same_bytes "$img" "$VCSIM_DIR/out.img"
echo "ok: disagreeing capacities: warned, used capacityInBytes, same bytes"

# A disk without a key, or with one out of range.
props '(type="VirtualDisk">)<key>[0-9-]*</key>' '$1'
refused 'VM hostile-vm, disk "Hard disk 1": the server gave no device key' "no key"
props '(type="VirtualDisk">)<key>[0-9-]*</key>' '$1<key>4294967296</key>'
refused 'disk "Hard disk 1": key="4294967296" from the server is not a whole number' "key 2^32"

# A VM without a name.
props '<propSet><name>name</name><val[^>]*>hostile-vm</val></propSet>' ''
refused "vm=$vm: the server sent no name for VM vm-[0-9]+" "a VM without a name"
