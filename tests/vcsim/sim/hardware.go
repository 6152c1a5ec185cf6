// SPDX-License-Identifier: BSD-3-Clause

package simulator

// The virtual hardware /vm/create may ask for: guest OS, memory, CPUs,
// firmware, the SCSI controller model and NICs, so that clients turning a
// VM's configuration into a domain description have each case to read.

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vmHardware's zero value is what the harness always made: otherGuest64,
// 128 MiB, one CPU, vcsim's bios firmware, a pvscsi controller, no NIC.
type vmHardware struct {
	guest      string
	memoryMB   int64
	cpus       int32
	cores      int32 // per socket; 0 leaves vcsim's 1
	firmware   string
	secureBoot *bool    // nil leaves bootOptions.efiSecureBootEnabled unset
	scsi       string   // model of the first SCSI controller, or "none"
	nics       []string // NIC models in device order
	macs       []string // fixed MACs by position; "" or missing: generated
	network    string
}

var (
	// Any identifier is accepted, not only vcsim's list (which stops
	// before rhel8_64Guest): clients must cope with guestIds newer than
	// themselves, and tests need such ids to show it.
	guestIDPattern = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)
	scsiModels     = []string{"pvscsi", "lsilogic", "lsilogic-sas", "buslogic", "none"}
	nicModels      = []string{"vmxnet3", "e1000", "e1000e", "vmxnet2", "pcnet32"}
)

func oneOf(v string, list []string) bool {
	for _, s := range list {
		if v == s {
			return true
		}
	}
	return false
}

// hardwareParams reads /vm/create's hardware parameters, refusing what
// vSphere would refuse.
func hardwareParams(r *http.Request) (vmHardware, error) {
	q := r.URL.Query()
	var hw vmHardware
	if q.Has("guest") {
		if hw.guest = q.Get("guest"); !guestIDPattern.MatchString(hw.guest) {
			return hw, badRequest("guest=%q is not a guestId such as otherGuest64 or rhel8_64Guest", hw.guest)
		}
	}
	mem, err := intParam(r, "memory", 0)
	if err != nil {
		return hw, err
	}
	if q.Has("memory") && (mem <= 0 || mem%4 != 0 || mem > 24<<20) {
		return hw, badRequest("memory=%d: want MiB, a multiple of 4 from 4 to 24 TiB", mem)
	}
	hw.memoryMB = mem
	cpus, err := intParam(r, "cpus", 0)
	if err != nil {
		return hw, err
	}
	if q.Has("cpus") && (cpus <= 0 || cpus > 768) {
		return hw, badRequest("cpus=%d: want 1 to 768", cpus)
	}
	hw.cpus = int32(cpus)
	cores, err := intParam(r, "cores", 0)
	if err != nil {
		return hw, err
	}
	numCPU := cpus
	if numCPU == 0 {
		numCPU = 1
	}
	if q.Has("cores") && (cores <= 0 || numCPU%cores != 0) {
		return hw, badRequest("cores=%d: want cores per socket dividing cpus=%d", cores, numCPU)
	}
	hw.cores = int32(cores)
	if q.Has("firmware") {
		if hw.firmware = q.Get("firmware"); hw.firmware != "bios" && hw.firmware != "efi" {
			return hw, badRequest("firmware=%q: want bios or efi", hw.firmware)
		}
	}
	if q.Has("secureboot") {
		on, err := boolParam(r, "secureboot")
		if err != nil {
			return hw, err
		}
		if on && hw.firmware != "efi" {
			return hw, badRequest("secureboot=1 needs firmware=efi")
		}
		hw.secureBoot = types.NewBool(on)
	}
	if q.Has("scsi") {
		if hw.scsi = q.Get("scsi"); !oneOf(hw.scsi, scsiModels) {
			return hw, badRequest("scsi=%q: want one of %s", hw.scsi, strings.Join(scsiModels, ", "))
		}
	}
	for _, m := range q["nic"] {
		if !oneOf(m, nicModels) {
			return hw, badRequest("nic=%q: want one of %s", m, strings.Join(nicModels, ", "))
		}
	}
	hw.nics = q["nic"]
	if len(q["mac"]) > len(hw.nics) {
		return hw, badRequest("%d mac= for %d nic=: each mac= goes to the nic= at its position", len(q["mac"]), len(hw.nics))
	}
	for _, m := range q["mac"] {
		if m != "" {
			mac, err := net.ParseMAC(m)
			if err != nil || len(mac) != 6 {
				return hw, badRequest("mac=%q is not a MAC address such as 00:50:56:01:02:03", m)
			}
			m = mac.String()
		}
		hw.macs = append(hw.macs, m)
	}
	if q.Has("network") && len(hw.nics) == 0 {
		return hw, badRequest("network= is the network of the NICs: give nic= too")
	}
	hw.network = q.Get("network")
	return hw, nil
}

// configure puts the hardware into the spec of a new VM.
func (hw *vmHardware) configure(ctx context.Context, c *vim25.Client, dc *Datacenter, spec *types.VirtualMachineConfigSpec) error {
	spec.GuestId = hw.guest
	if spec.GuestId == "" {
		spec.GuestId = string(types.VirtualMachineGuestOsIdentifierOtherGuest64)
	}
	spec.MemoryMB = hw.memoryMB
	if spec.MemoryMB == 0 {
		spec.MemoryMB = 128
	}
	spec.NumCPUs = hw.cpus
	if spec.NumCPUs == 0 {
		spec.NumCPUs = 1
	}
	spec.NumCoresPerSocket = hw.cores
	spec.Firmware = hw.firmware
	if hw.secureBoot != nil {
		spec.BootOptions = &types.VirtualMachineBootOptions{EfiSecureBootEnabled: hw.secureBoot}
	}

	var devices object.VirtualDeviceList
	if hw.scsi != "none" {
		model := hw.scsi
		if model == "" {
			model = "pvscsi"
		}
		scsi, err := devices.CreateSCSIController(model)
		if err != nil {
			return err
		}
		devices = append(devices, scsi)
	}
	nics, err := hw.nicDevices(ctx, c, dc)
	if err != nil {
		return err
	}
	devices = append(devices, nics...)
	spec.DeviceChange, err = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
	return err
}

// nicDevices makes the NICs, all on the one network.
func (hw *vmHardware) nicDevices(ctx context.Context, c *vim25.Client, dc *Datacenter) ([]types.BaseVirtualDevice, error) {
	if len(hw.nics) == 0 {
		return nil, nil
	}
	name := hw.network
	if name == "" {
		name = "VM Network"
	}
	// vcsim would panic on a network it cannot find.
	found := Map.FindByName(name, dc.Network)
	if found == nil {
		var names []string
		for _, ref := range dc.Network {
			if e, ok := Map.Get(ref).(mo.Entity); ok && !oneOf(e.Entity().Name, names) {
				names = append(names, e.Entity().Name)
			}
		}
		return nil, badRequest("network=%q: datacenter %s has only %s", name, dc.Name, strings.Join(names, ", "))
	}
	// A standard network or a distributed portgroup, each with its backing.
	network, ok := object.NewReference(c, found.Reference()).(object.NetworkReference)
	if !ok {
		return nil, badRequest("network=%q is a %s", name, found.Reference().Type)
	}
	var nics []types.BaseVirtualDevice
	for i, model := range hw.nics {
		backing, err := network.EthernetCardBackingInfo(ctx)
		if err != nil {
			return nil, err
		}
		dev, err := object.VirtualDeviceList(nil).CreateEthernetCard(model, backing)
		if err != nil {
			return nil, err
		}
		// Where vSphere puts NICs: keys from 4000, units from 7 on the PCI
		// bus (vcsim's PCI controller is 100). vcsim derives a MAC from
		// the unit and the VM's uuid when none is given, as ESXi does.
		card := dev.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
		card.Key = 4000 + int32(i)
		card.ControllerKey = 100
		card.UnitNumber = types.NewInt32(7 + int32(i))
		card.AddressType = string(types.VirtualEthernetCardMacTypeGenerated)
		if i < len(hw.macs) && hw.macs[i] != "" {
			card.AddressType = string(types.VirtualEthernetCardMacTypeManual)
			card.MacAddress = hw.macs[i]
		}
		nics = append(nics, dev)
	}
	return nics, nil
}
