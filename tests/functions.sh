# Helpers for the integration tests.  Source after setting -e.
# shellcheck shell=bash
#
# SPDX-License-Identifier: BSD-3-Clause

: "${srcdir:=.}"
source "$srcdir/vcsim/vcsim.sh"

# Skip (exit 77) unless every named program exists.
requires ()
{
  local p
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 || {
      echo "$0: test skipped: $p is not installed"
      exit 77
    }
  done
}

requires nbdkit nbdcopy nbdinfo qemu-img curl sha256sum
[ -f "$NBDKIT_VSPHERE_PLUGIN" ] || {
  echo "$0: the plugin is not built: $NBDKIT_VSPHERE_PLUGIN"
  exit 1
}

fail ()
{
  echo "$0: FAIL: $*" >&2
  exit 1
}

# make_image FILE MIB: random data with some all-zero stretches, so
# that copies exercise both.
make_image ()
{
  local file=$1 mib=$2
  head -c $((mib * 1024 * 1024)) /dev/urandom > "$file"
  if [ "$mib" -ge 2 ]; then
    dd if=/dev/zero of="$file" bs=64K seek=3 count=5 conv=notrunc status=none
  fi
}

# The arguments that connect the plugin to the simulated vCenter.
vsphere_server_args ()
{
  echo "server=$VCSIM_SERVER" "user=$VCSIM_USER" \
       "password=+$VCSIM_PASSWORD_FILE" "thumbprint=$VCSIM_THUMBPRINT"
}

# vsphere_nbdkit [nbdkit options --] PARAMS... --run CMD
# Runs nbdkit with the plugin in captive mode on a Unix socket.
nbdkit_vsphere ()
{
  local d a defaults=()
  # The plugin refuses a parameter given twice: PARAMS replace defaults.
  for d in $(vsphere_server_args); do
    for a in "$@"; do
      [[ $a != "${d%%=*}="* ]] || continue 2
    done
    defaults+=("$d")
  done
  nbdkit -U - "$NBDKIT_VSPHERE_PLUGIN" "${defaults[@]}" "$@"
}

# nbdkit_serve SOCKET [--OPTIONS] PARAMS...: nbdkit with the plugin in
# the background on SOCKET (options such as --filter= go before the
# plugin), its standard error in $VCSIM_DIR/nbdkit.err; sets nbdkit_pid
# and waits until it listens.  nbdkit_stop ends it with SIGTERM.
nbdkit_serve ()
{
  local sock=$1 a opts=() params=()
  shift
  for a; do case $a in --*) opts+=("$a") ;; *) params+=("$a") ;; esac; done
  rm -f "$sock"
  # shellcheck disable=SC2046
  nbdkit -f -U "$sock" "${opts[@]}" "$NBDKIT_VSPHERE_PLUGIN" \
    $(vsphere_server_args) "${params[@]}" 2>"$VCSIM_DIR/nbdkit.err" &
  nbdkit_pid=$!
  vcsim_on_exit "kill -9 $nbdkit_pid 2>/dev/null || true"
  eventually test -S "$sock" ||
    fail "nbdkit did not start: $(cat "$VCSIM_DIR/nbdkit.err")"
}
nbdkit_stop () { kill -TERM "$nbdkit_pid"; wait "$nbdkit_pid" || true; }

# expect_error PATTERN NBDKIT-PARAMS...: nbdkit must fail at start-up
# with an error message matching PATTERN (grep -E).
expect_error ()
{
  local pattern=$1 out=$VCSIM_DIR/expect-error.out
  shift
  if nbdkit_vsphere "$@" --run true > "$out" 2>&1; then
    cat "$out" >&2
    fail "nbdkit should have failed with: $pattern (params: $*)"
  fi
  grep -Eq -- "$pattern" "$out" || {
    cat "$out" >&2
    fail "expected an error matching '$pattern' (params: $*)"
  }
  echo "ok: $* -> $(grep -E -m1 -- "$pattern" "$out")"
}

# same_bytes A B: byte-exact comparison with a readable failure.
same_bytes ()
{
  cmp "$1" "$2" || fail "$1 and $2 differ"
}

# soap_login: log in with curl (an independent client) into a cookie jar.
soap ()
{
  curl -sS --cacert "$VCSIM_CAFILE" -b "$VCSIM_DIR/cookies" \
       -c "$VCSIM_DIR/cookies" -H 'Content-Type: text/xml' \
       "https://$VCSIM_SERVER/sdk" --data-binary @- "$@"
}

soap_envelope ()
{
  printf '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' "$1"
}

xml_escape ()
{
  sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' <<< "$1"
}

# service_ref NAME: a manager of the ServiceContent (sessionManager,
# propertyCollector, ...), whose morefs differ between vCenter and ESXi.
service_ref ()
{
  soap_envelope '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>' |
    soap | sed -n "s:.*<$1 type=\"[A-Za-z]*\">\([^<]*\)</$1>.*:\1:p"
}

soap_login ()
{
  soap_envelope "<Login xmlns=\"urn:vim25\"><_this type=\"SessionManager\">$(service_ref sessionManager)</_this><userName>$(xml_escape "$VCSIM_USER")</userName><password>$(xml_escape "$VCSIM_PASSWORD")</password></Login>" | soap > /dev/null
}

# vm_property VMREF PATH: one property of a VM, as text.
vm_property ()
{
  soap_envelope "<RetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">$(service_ref propertyCollector)</_this><specSet><propSet><type>VirtualMachine</type><pathSet>$2</pathSet></propSet><objectSet><obj type=\"VirtualMachine\">$1</obj></objectSet></specSet><options/></RetrievePropertiesEx>" |
    soap | sed -n 's:.*<val[^>]*>\([^<]*\)</val>.*:\1:p'
}

# urlencode STRING: percent-encode every byte but unreserved ones.
urlencode ()
{
  local LC_ALL=C s=$1 i c
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      [a-zA-Z0-9._~-]) printf '%s' "$c" ;;
      *) printf '%%%02X' "'$c" ;;
    esac
  done
}

# eventually CMD...: retry CMD for up to 10 s.  nbdkit's server process
# finishes its clean-up (snapshot removal, logout) just after a --run
# command returns.
eventually ()
{
  local i
  for i in $(seq 50); do
    "$@" && return 0
    sleep 0.2
  done
  "$@"
}

# add_vm PATH IMAGE [QUERY]: a VM at inventory PATH (QUERY for
# /vm/create, default power=off) with one disk on LocalDS_0, named after
# the VM, holding the raw IMAGE.
add_vm ()
{
  local name=${1##*/}
  vcsim_ctl POST "/vm/create?path=$1&${3:-power=off}" >/dev/null
  vcsim_ctl POST "/disk/add?vm=$1&ds=LocalDS_0&name=$name/$name&image=$2" >/dev/null
}
