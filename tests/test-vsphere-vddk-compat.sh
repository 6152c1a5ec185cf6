#!/usr/bin/env bash
# nbdkit-vddk-plugin command lines with only the plugin's name changed:
# the examples of its man page (a bare "[DS] PATH.vmdk" after
# vm=moref=, transports=, port=, VDDK's own settings such as libdir=)
# and the command line virt-v2v's -it vddk input builds (file=,
# snapshot= as a bare moref, cookie=, nfchostport=, config=), each
# byte-exact against the disk's image.  And what cannot be taken: a
# parameter given twice (one would silently win), two spellings of one,
# transports= with no mode usable without VDDK, two ports, one link of
# a chain alone (single-link=true, other data than the disk).
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
cd "$VCSIM_DIR"
make_image base.img 4
make_image later.img 4
name=vddk-vm
ref=$(vcsim_ctl POST "/vm/create?path=DC0/vm/$name&power=on")
vcsim_ctl POST "/disk/add?vm=DC0/vm/$name&ds=LocalDS_0&name=$name/$name&image=$VCSIM_DIR/base.img" >/dev/null
path="[LocalDS_0] $name/$name.vmdk"
host=${VCSIM_SERVER%:*}
port=${VCSIM_SERVER##*:}
common=("user=$VCSIM_USER" "password=+$VCSIM_PASSWORD_FILE" "thumbprint=$VCSIM_THUMBPRINT")

# vddk_line WANT PARAMS...: nbdkit with the plugin and exactly PARAMS
# (no server= added), whose export must be the image WANT.
vddk_line ()
{
  local want=$1
  shift
  rm -f out.raw
  nbdkit -U - "$NBDKIT_VSPHERE_PLUGIN" "$@" --run 'nbdcopy "$uri" out.raw' \
    > line.err 2>&1 || { cat line.err >&2; fail "the VDDK command line failed: $*"; }
  cmp "$want" out.raw || fail "the VDDK command line read other bytes: $*"
}

# nbdkit-vddk-plugin(1)'s example: the VM by moref, the disk as the
# magic parameter, VDDK's libdir=.
vddk_line base.img libdir=/opt/vmware-vix-disklib-distrib \
  "server=$VCSIM_SERVER" "${common[@]}" "vm=moref=$ref" "$path"
grep -q "warning: libdir= is a setting of VDDK, which this plugin does not use: ignored" line.err ||
  fail "no warning for libdir=: $(cat line.err)"
[ "$(grep -c "is a setting of VDDK" line.err)" = 1 ] || fail "not one warning: $(cat line.err)"
echo "ok: the man page's example, libdir= ignored with one warning"

# transports= in VDDK's order: the modes that need VDDK are skipped,
# each with one warning, and nbdssl is read over NFC in TLS; port=.
vddk_line base.img "server=$host" "port=$port" "${common[@]}" "vm=moref=$ref" \
  transports=file:san:hotadd:nbdssl:nbd "$path"
for m in file san hotadd; do
  [ "$(grep -c "transports=file:san:hotadd:nbdssl:nbd: VDDK's \"$m\" mode is skipped" line.err)" = 1 ] ||
    fail "no one warning for $m: $(cat line.err)"
done
nbdkit_vsphere "vm=moref=$ref" "$path" transports=nbd --run 'nbdinfo "$uri"' > info.out 2>&1 ||
  fail "transports=nbd: $(cat info.out)"
grep -Eq "read over NFC(,|$)" info.out ||
  fail "transports=nbd is not read over NFC: $(grep description info.out)"
echo "ok: transports= maps nbd and nbdssl to NFC, skipping file, san and hotadd; port= joins server="

# virt-v2v -it vddk's command line, from a snapshot given by its moref
# (the guest writes after it, which the copy must not see).
vcsim_ctl POST "/snapshot/create?vm=DC0/vm/$name&name=v2v" >/dev/null
vcsim_ctl POST "/disk/write?vm=DC0/vm/$name&disk=0&offset=0" --data-binary @later.img >/dev/null
snapref=$(vcsim_ctl GET "/snapshots?vm=DC0/vm/$name" | awk '$2 == "v2v" { print $1 }')
[ -n "$snapref" ] || fail "no moref for the snapshot: $(vcsim_ctl GET "/snapshots?vm=DC0/vm/$name")"
vddk_line base.img "server=$VCSIM_SERVER" "${common[@]}" \
  libdir=/opt/vmware-vix-disklib-distrib config=/etc/vddk.conf cookie=vmware_soap_session=x \
  nfchostport=902 single-link=false unbuffered=true compression=zlib vimapiver=7.0 \
  "vm=moref=$ref" "file=$path" "snapshot=$snapref" transports=nbdssl:nbd
[ "$(grep -c "is a setting of VDDK" line.err)" = 8 ] || fail "not one warning each: $(cat line.err)"
echo "ok: virt-v2v's -it vddk command line, snapshot=$snapref a moref, VDDK's settings ignored"
# A later snapshot named like the first's moref: the moref wins.
vcsim_ctl POST "/snapshot/create?vm=DC0/vm/$name&name=$snapref" >/dev/null
vddk_line base.img "server=$VCSIM_SERVER" "${common[@]}" "vm=moref=$ref" "file=$path" "snapshot=$snapref"
vcsim_ctl POST "/snapshot/remove?vm=DC0/vm/$name&name=$snapref" >/dev/null
vcsim_ctl POST "/snapshot/remove?vm=DC0/vm/$name&name=v2v" >/dev/null
echo "ok: snapshot=$snapref is that moref, not the later snapshot so named"

# What cannot be taken.
expect_error "vm= given twice: give it once" "vm=moref=$ref" "vm=DC0/vm/$name"
expect_error "file= given twice" "vm=moref=$ref" "$path" "file=$path"
expect_error "transport= and transports= both given, which mean the same here: give one" \
  "vm=moref=$ref" transport=nfc transports=nbd
expect_error "transports=san:hotadd: none of these VDDK modes can be used without VDDK" \
  "vm=moref=$ref" transports=san:hotadd
expect_error "transports=nbd:tape: VDDK has no transport mode \"tape\"" "vm=moref=$ref" transports=nbd:tape
expect_error "port=1 and server=.* name two ports: give one" "vm=moref=$ref" port=1
expect_error "port=0: expected a port" "vm=moref=$ref" port=0
expect_error "single-link=true: this plugin serves each disk as its snapshot composes it, never one link of its chain alone" \
  "vm=moref=$ref" single-link=true
