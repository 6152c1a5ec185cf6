#!/usr/bin/env bash
# Harness self-test: the virtual hardware /vm/create makes (guest, memory,
# CPUs, firmware, secure boot, SCSI model, NICs) and the controllers
# /disk/add puts disks on, as a SOAP client reads them; bad values are
# refused with 400; disks on SATA, NVMe and IDE work as SCSI ones do.
#
# SPDX-License-Identifier: BSD-3-Clause
set -e
command -v curl >/dev/null || exit 77
source "$srcdir/vcsim/vcsim.sh"
source "$srcdir/vcsim/soap.sh"
vcsim_start
soap_login >/dev/null

# create NAME [QUERY]: a VM in DC0 with those parameters; prints its moref.
create () { vcsim_ctl POST "/vm/create?path=DC0%2Fvm%2F$1${2:+&$2}"; }
# prop VM PATH: a property's text (simple values).
prop () { soap_props VirtualMachine "$1" "$2" | xml_text val; }
# devices VM [TYPE]: config.hardware.device, one device a line, maybe one type.
devices () {
    soap_props VirtualMachine "$1" config.hardware.device | sed 's|<VirtualDevice |\n&|g; s|</VirtualDevice>|&\n|g' |
        grep "^<VirtualDevice [^>]*type=\"${2:-[A-Za-z0-9]*}\"" || :
}
# refused QUERY: /vm/create (or another call) answers 400.
refused () {
    local url=$VCSIM_CONTROL${2:-/vm/create?path=DC0%2Fvm%2Fbad&}$1 code
    code=$(curl -sS -X POST -o "$VCSIM_DIR/answer" -w '%{http_code}' "$url")
    [ "$code" = 400 ] || fail "$1: HTTP $code, want 400: $(cat "$VCSIM_DIR/answer")"
    [ -s "$VCSIM_DIR/answer" ] || fail "$1: 400 without a reason"
}
generated_mac='^00:0c:29:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$'

# Defaults: what the harness always made.
vm=$(create plain)
[ "$(prop "$vm" config.guestId)" = otherGuest64 ] || fail "default guestId: $(prop "$vm" config.guestId)"
[ "$(prop "$vm" config.hardware.memoryMB)" = 128 ] || fail "default memoryMB"
[ "$(prop "$vm" config.hardware.numCPU)" = 1 ] || fail "default numCPU"
[ "$(prop "$vm" config.hardware.numCoresPerSocket)" = 1 ] || fail "default numCoresPerSocket"
[ "$(prop "$vm" config.firmware)" = bios ] || fail "default firmware: $(prop "$vm" config.firmware)"
soap_props VirtualMachine "$vm" config.bootOptions | grep -q efiSecureBootEnabled && fail "efiSecureBootEnabled set by default"
[ "$(devices "$vm" ParaVirtualSCSIController | wc -l)" = 1 ] || fail "default SCSI controller: $(devices "$vm")"
devices "$vm" | grep -q '<macAddress>' && fail "a NIC by default"
[[ $(prop "$vm" config.uuid) =~ ^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$ ]] || fail "config.uuid: $(prop "$vm" config.uuid)"

# Everything at once.
vm=$(create full 'guest=windows2019srv_64Guest&memory=4096&cpus=4&cores=2&firmware=efi&secureboot=1&scsi=lsilogic-sas&nic=vmxnet3&nic=e1000e&mac=&mac=00:50:56:AB:cd:EF')
[ "$(prop "$vm" config.guestId)" = windows2019srv_64Guest ] || fail "guestId: $(prop "$vm" config.guestId)"
[ "$(prop "$vm" config.hardware.memoryMB)" = 4096 ] || fail "memoryMB"
[ "$(prop "$vm" config.hardware.numCPU)" = 4 ] || fail "numCPU"
[ "$(prop "$vm" config.hardware.numCoresPerSocket)" = 2 ] || fail "numCoresPerSocket"
[ "$(prop "$vm" config.firmware)" = efi ] || fail "firmware"
[ "$(soap_props VirtualMachine "$vm" config.bootOptions | xml_text efiSecureBootEnabled)" = true ] || fail "efiSecureBootEnabled"
[ "$(devices "$vm" VirtualLsiLogicSASController | wc -l)" = 1 ] && [ -z "$(devices "$vm" ParaVirtualSCSIController)" ] ||
    fail "scsi=lsilogic-sas: $(devices "$vm")"
nic1=$(devices "$vm" VirtualVmxnet3)
nic2=$(devices "$vm" VirtualE1000e)
grep -q '<key>4000</key>.*<controllerKey>100</controllerKey><unitNumber>7</unitNumber>' <<<"$nic1" || fail "first NIC's place: $nic1"
grep -q '<key>4001</key>.*<unitNumber>8</unitNumber>' <<<"$nic2" || fail "second NIC's place: $nic2"
grep -q '<addressType>generated</addressType>' <<<"$nic1" || fail "first NIC's addressType: $nic1"
[[ $(xml_text macAddress <<<"$nic1") =~ $generated_mac ]] || fail "generated MAC: $nic1"
grep -q '<addressType>manual</addressType><macAddress>00:50:56:ab:cd:ef</macAddress>' <<<"$nic2" || fail "given MAC: $nic2"
net=$(soap_find "DC0/network/VM Network")
for nic in "$nic1" "$nic2"; do
    grep -q 'type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName><network type="Network">'"$net"'</network>' <<<"$nic" ||
        fail "NIC backing is not VM Network ($net): $nic"
done
soap_props VirtualMachine "$vm" network | grep -q "<ManagedObjectReference type=\"Network\">$net</ManagedObjectReference>" ||
    fail "network property: $(soap_props VirtualMachine "$vm" network)"
[ "$(prop "$vm" summary.config.numEthernetCards)" = 2 ] || fail "numEthernetCards"

# Each SCSI model and each NIC model, NICs in the order asked, MACs distinct.
for m in pvscsi:ParaVirtualSCSIController lsilogic:VirtualLsiLogicController \
         lsilogic-sas:VirtualLsiLogicSASController buslogic:VirtualBusLogicController; do
    vm=$(create "scsi-${m%%:*}" "scsi=${m%%:*}")
    [ "$(devices "$vm" "${m#*:}" | wc -l)" = 1 ] || fail "scsi=${m%%:*}: $(devices "$vm")"
    [ "$(devices "$vm" | grep -c '<scsiCtlrUnitNumber>7<')" = 1 ] || fail "scsi=${m%%:*}: not one SCSI controller"
done
vm=$(create nics 'nic=vmxnet3&nic=e1000&nic=e1000e&nic=vmxnet2&nic=pcnet32')
order=$(devices "$vm" | grep '<macAddress>' | grep -o 'type="Virtual[A-Za-z0-9]*"><key>[0-9]*' | sed 's/type="//; s/"><key>/:/' | tr '\n' ' ')
[ "$order" = "VirtualVmxnet3:4000 VirtualE1000:4001 VirtualE1000e:4002 VirtualVmxnet2:4003 VirtualPCNet32:4004 " ] ||
    fail "NIC models and order: $order"
macs=$(devices "$vm" | xml_text macAddress)
[ "$(sort -u <<<"$macs" | grep -cE "$generated_mac")" = 5 ] || fail "5 distinct generated MACs: $macs"

# Firmware without secure boot, and secure boot explicitly off.
vm=$(create efi firmware=efi)
[ "$(prop "$vm" config.firmware)" = efi ] || fail "firmware=efi"
soap_props VirtualMachine "$vm" config.bootOptions | grep -q efiSecureBootEnabled && fail "efiSecureBootEnabled without secureboot="
vm=$(create bios-nosb 'firmware=bios&secureboot=0')
[ "$(prop "$vm" config.firmware)" = bios ] || fail "firmware=bios"
[ "$(soap_props VirtualMachine "$vm" config.bootOptions | xml_text efiSecureBootEnabled)" = false ] || fail "secureboot=0"

# A distributed portgroup: its backing names the switch and the portgroup.
vm=$(create dvs 'nic=vmxnet3&network=DC0_DVPG0')
pg=$(soap_find DC0/network/DC0_DVPG0)
dvs=$(soap_props DistributedVirtualPortgroup "$pg" config.distributedVirtualSwitch | grep -o '<val [^>]*type="[A-Za-z]*">[^<]*' |
    sed 's/.*type="\([A-Za-z]*\)">/\1 /')
dvs_uuid=$(soap_props $dvs uuid | xml_text val)
nic=$(devices "$vm" VirtualVmxnet3)
grep -q "type=\"VirtualEthernetCardDistributedVirtualPortBackingInfo\"><port><switchUuid>$dvs_uuid</switchUuid><portgroupKey>$pg</portgroupKey>" <<<"$nic" ||
    fail "DVPG backing (switch $dvs $dvs_uuid, portgroup $pg): $nic"
soap_props VirtualMachine "$vm" network | grep -q "type=\"DistributedVirtualPortgroup\">$pg<" || fail "network property with a DVPG"

# Bad values.
for q in guest= 'guest=rhel8%2064Guest' guest=-x memory=0 memory=-4 memory=130 memory=abc memory=25165828 \
         cpus=0 cpus=769 cpus=x 'cpus=4&cores=3' cores=0 cores=2 firmware=uefi firmware= \
         secureboot=1 'secureboot=1&firmware=bios' 'secureboot=yes&firmware=efi' \
         scsi=virtio scsi= nic=virtio nic=vmxnet 'nic=e1000&nic=' mac=00:50:56:00:00:01 'nic=e1000&mac=zz' \
         'nic=e1000&mac=00:00:00:00:fe:80:00:00' 'nic=e1000&mac=00:50:56:00:00:01&mac=00:50:56:00:00:02' \
         network=VM%20Network 'nic=e1000&network=nosuch'; do
    refused "$q"
done
grep -q 'nosuch.*VM Network' "$VCSIM_DIR/answer" || fail "an unknown network's answer lists the networks: $(cat "$VCSIM_DIR/answer")"
refused 'nic=e1000&network=nosuch' '/vm/create?path=DC0%2Fvm%2Fnew%2Ffolder%2Fbad&'
[ -z "$(soap_find DC0/vm/bad)" ] && [ -z "$(soap_find DC0/vm/new)" ] || fail "a refused VM left something behind"

# Disks on every kind of controller, on a VM made without a SCSI one:
# controllers are made as needed, keyed as vSphere keys them.
vmpath=DC0/vm/buses
vmq=$(vcsim_urlencode "$vmpath")
vm=$(create buses 'scsi=none&cbt=1')
[ -z "$(devices "$vm" | grep '<scsiCtlrUnitNumber>')" ] || fail "scsi=none made a SCSI controller"
[ "$(devices "$vm" VirtualIDEController | wc -l)" = 2 ] || fail "vcsim's two IDE controllers are missing"
M=1048576
declare -A key img
for d in sata1 sata2 nvme ide1 ide2 ide3 ide4 scsi; do
    img[$d]=$VCSIM_DIR/$d.raw
    truncate -s $((4 * M)) "${img[$d]}"
    head -c 70000 /dev/urandom | dd of="${img[$d]}" bs=512 seek=$((RANDOM % 4000)) conv=notrunc status=none
    key[$d]=$(vcsim_ctl POST "/disk/add?vm=$vmq&ds=LocalDS_0&name=buses/$d&image=${img[$d]}&controller=${d%[0-9]}")
done
refused controller=usb "/disk/add?vm=$vmq&ds=LocalDS_0&name=buses/usb&size=$M&"
code=$(curl -sS -X POST -o /dev/null -w '%{http_code}' "$VCSIM_CONTROL/disk/add?vm=$vmq&ds=LocalDS_0&name=buses/ide5&size=$M&controller=ide")
[ "$code" = 409 ] || fail "a fifth IDE disk: HTTP $code, want 409"
# place DISK: "controllertype:key:bus unit" of a disk.
place () {
    local d ck c
    d=$(devices "$vm" VirtualDisk | grep "<key>${key[$1]}</key>")
    ck=$(xml_text controllerKey <<<"$d")
    c=$(devices "$vm" | grep "^<VirtualDevice [^>]*><key>$ck</key>")
    echo "$(sed 's/^<VirtualDevice [^>]*type="\([A-Za-z]*\)".*/\1/' <<<"$c"):$ck:$(xml_text busNumber <<<"$c") $(xml_text unitNumber <<<"$d")"
}
places=
for d in sata1 sata2 nvme ide1 ide2 ide3 ide4 scsi; do places+="$d=$(place $d),"; done
[ "$places" = "sata1=VirtualAHCIController:15000:0 0,sata2=VirtualAHCIController:15000:0 1,nvme=VirtualNVMEController:31000:0 0,ide1=VirtualIDEController:200:0 0,ide2=VirtualIDEController:200:0 1,ide3=VirtualIDEController:201:1 0,ide4=VirtualIDEController:201:1 1,scsi=ParaVirtualSCSIController:1000:0 0," ] ||
    fail "disk places: $places"
devices "$vm" VirtualAHCIController | grep -q "<device>${key[sata1]}</device><device>${key[sata2]}</device>" ||
    fail "the AHCI controller's device list: $(devices "$vm" VirtualAHCIController)"

# Files, /folder, guest writes, snapshots and CBT do not care which bus.
q=$(folder_query DC0 LocalDS_0)
for d in sata1 nvme ide3; do
    [ "$(folder_get "buses/$d-flat.vmdk" "$q" -o "$VCSIM_DIR/got")" = 200 ] && cmp -s "$VCSIM_DIR/got" "${img[$d]}" ||
        fail "$d: /folder serves other bytes"
done
s1=$(vcsim_ctl POST "/snapshot/create?vm=$vmq&name=s1")
disk_index () { devices "$vm" VirtualDisk | grep -n "<key>${key[$1]}</key>" | cut -d: -f1; }
for d in sata1 nvme ide3; do
    n=$(( $(disk_index $d) - 1 ))
    head -c 4096 /dev/urandom | tr '\0' '\1' > "$VCSIM_DIR/w"
    vcsim_ctl POST "/disk/write?vm=$vmq&disk=$n&offset=$((2 * M))" --data-binary @"$VCSIM_DIR/w"
    cp "${img[$d]}" "$VCSIM_DIR/want"
    dd if="$VCSIM_DIR/w" of="$VCSIM_DIR/want" bs=4096 seek=$((2 * M / 4096)) conv=notrunc status=none
    curl -sS "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=$n" -o "$VCSIM_DIR/now"
    curl -sS "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=$n&snapshot=s1" -o "$VCSIM_DIR/then"
    cmp -s "$VCSIM_DIR/now" "$VCSIM_DIR/want" || fail "$d: the write is not in the disk"
    cmp -s "$VCSIM_DIR/then" "${img[$d]}" || fail "$d: the snapshot did not freeze the disk"
done
s2=$(vcsim_ctl POST "/snapshot/create?vm=$vmq&name=s2")
for d in sata1 nvme ide3; do
    c1=$(soap_props VirtualMachineSnapshot "$s1" config.hardware.device | sed 's|</VirtualDevice>|&\n|g' |
        grep "<key>${key[$d]}</key>" | xml_text changeId)
    [ -n "$c1" ] || fail "$d: no changeId in s1"
    areas=$(soap_qcda "$vm" "$s2" "${key[$d]}" 0 "$c1" | grep -o '<changedArea><start>[0-9]*</start><length>[0-9]*</length>' |
        sed 's/[^0-9]\+/ /g; s/^ //; s/ $//')
    [ "$areas" = "$((2 * M)) 65536" ] || fail "$d: changed areas between s1 and s2: $areas"
done
vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=s1"
vcsim_ctl POST "/snapshot/remove?vm=$vmq&name=s2"
n=$(( $(disk_index nvme) - 1 ))
[ "$(devices "$vm" VirtualDisk | grep "<key>${key[nvme]}</key>" | grep -c '<fileName>\[LocalDS_0\] buses/nvme.vmdk</fileName>')" = 1 ] ||
    fail "nvme disk not back on its base file"
[ "$(folder_get buses/nvme-flat.vmdk "$q" -o "$VCSIM_DIR/got")" = 200 ] || fail "nvme flat file after consolidation"
cp "${img[nvme]}" "$VCSIM_DIR/want"
curl -sS "$VCSIM_CONTROL/disk/image?vm=$vmq&disk=$n" -o "$VCSIM_DIR/now"
cmp -s "$VCSIM_DIR/got" "$VCSIM_DIR/now" && ! cmp -s "$VCSIM_DIR/got" "$VCSIM_DIR/want" ||
    fail "nvme: consolidation lost the write"
echo PASS
