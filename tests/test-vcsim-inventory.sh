#!/usr/bin/env bash
# Harness self-test: the awkward inventory (datacenter in a folder, nested
# folders, names with spaces + & % and non-ASCII) over SOAP and /folder.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start
soap_login >/dev/null

name_of () { soap_props "$1" "$2" name | xml_text val; }
parent_of () { soap_props "$1" "$2" parent | grep -o '<val [^>]*>[^<]*' | sed 's/.*>//'; }

# The VM in nested folders of a datacenter inside a folder.
webpath='EMEA/DC 1+&%é/vm/Prod/Web tier/web 01+&%ü'
web=$(soap_find "$webpath")
[ -n "$web" ] || fail "FindByInventoryPath $webpath"
[ "$(name_of VirtualMachine "$web")" = 'web 01+&%ü' ] || fail "VM name"
f1=$(parent_of VirtualMachine "$web"); [ "$(name_of Folder "$f1")" = 'Web tier' ] || fail "parent is not 'Web tier'"
f2=$(parent_of Folder "$f1"); [ "$(name_of Folder "$f2")" = Prod ] || fail "'Web tier' is not in Prod"
f3=$(parent_of Folder "$f2"); [ "$(name_of Folder "$f3")" = vm ] || fail "Prod is not in the vm folder"
dc=$(parent_of Folder "$f3"); [ "$(name_of Datacenter "$dc")" = 'DC 1+&%é' ] || fail "datacenter name"
f4=$(parent_of Datacenter "$dc"); [ "$(name_of Folder "$f4")" = EMEA ] || fail "datacenter is not in EMEA"
[ "$(parent_of Folder "$f4")" = group-d1 ] || fail "EMEA is not in the root folder"
[ "$(soap_find 'EMEA/DC 1+&%é')" = "$dc" ] || fail "datacenter by path"

# Plain and missing paths; missing is an empty answer, not a fault.
[ -n "$(soap_find DC0/vm/DC0_H0_VM0)" ] || fail "DC0/vm/DC0_H0_VM0"
[ -n "$(soap_find DC0/datastore/LocalDS_1)" ] || fail "LocalDS_1 in DC0"
out=$(soap_find 'DC0/vm/no such vm') || fail "missing path gave a fault"
[ -z "$out" ] || fail "missing path found: $out"

# The datastore of the awkward datacenter, and a disk on it read over
# /folder with dcPath, dsName and the path percent-encoded.
[ -n "$(soap_find 'EMEA/DC 1+&%é/datastore/ds 1+&%é')" ] || fail "datastore 'ds 1+&%é'"
img=$VCSIM_DIR/img.raw
head -c 1048576 /dev/urandom > "$img"
vmq=$(vcsim_urlencode "$webpath")
vcsim_ctl POST "/disk/add?vm=$vmq&ds=$(vcsim_urlencode 'ds 1+&%é')&name=$(vcsim_urlencode 'web 01+&%ü/disk 1+&%é')&image=$img" >/dev/null
soap_props VirtualMachine "$web" config.hardware.device | grep -qF '<fileName>[ds 1+&amp;%é] web 01+&amp;%ü/disk 1+&amp;%é.vmdk</fileName>' ||
    fail "fileName of the awkward disk"
file=$(vcsim_urlencode 'web 01+&%ü')/$(vcsim_urlencode 'disk 1+&%é-flat.vmdk')
q=$(folder_query 'EMEA/DC 1+&%é' 'ds 1+&%é')
[ "$(folder_get "$file" "$q" -o "$VCSIM_DIR/got")" = 200 ] || fail "/folder with encoded names"
cmp "$img" "$VCSIM_DIR/got" || fail "awkward disk content"
# Encoded only once, the names do not survive vCenter's second decoding.
once="dcPath=$(vcsim_urlencode 'EMEA/DC 1+&%é')&dsName=$(vcsim_urlencode 'ds 1+&%é')"
code=$(folder_get "$file" "$once" -o /dev/null)
[ "$code" = 404 ] || fail "names encoded once gave $code, not 404"
code=$(folder_get "$file" "$(folder_query 'EMEA/DC 1+&%é' 'ds 1 &%é')" -o /dev/null)
[ "$code" = 404 ] || fail "a wrong dsName gave $code, not 404"

# VMs created at run time get their missing folders.
newpath='DC0/vm/New folder/sub+&%/vm ü'
ref=$(vcsim_ctl POST "/vm/create?path=$(vcsim_urlencode "$newpath")&ds=LocalDS_1")
[ "$(soap_find "$newpath")" = "$ref" ] || fail "created VM by path"
soap_props VirtualMachine "$ref" runtime.powerState | grep -q poweredOff || fail "new VM should be off"
vcsim_ctl POST "/vm/power?vm=$(vcsim_urlencode "$newpath")&state=on"
soap_props VirtualMachine "$ref" runtime.powerState | grep -q poweredOn || fail "power on"
vcsim_ctl POST "/vm/create?path=$(vcsim_urlencode "$newpath")" 2>/dev/null && fail "duplicate VM created"
vcsim_ctl POST "/vm/create?path=NoDC/vm/x" 2>/dev/null && fail "VM in a missing datacenter"
echo PASS
