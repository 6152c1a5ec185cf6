// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Attaching real disks to VMs and finding the files behind a backing.

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// httpError carries the control API status for a failure.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, a ...interface{}) error {
	return &httpError{400, fmt.Sprintf(format, a...)}
}

func notFound(format string, a ...interface{}) error {
	return &httpError{404, fmt.Sprintf(format, a...)}
}

func conflict(format string, a ...interface{}) error {
	return &httpError{409, fmt.Sprintf(format, a...)}
}

func flatBacking(d *types.VirtualDisk) *types.VirtualDiskFlatVer2BackingInfo {
	b, _ := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	return b
}

// vmDisks lists the VirtualDisks of a device list in device order.
func vmDisks(devices []types.BaseVirtualDevice) []*types.VirtualDisk {
	var disks []*types.VirtualDisk
	for _, d := range devices {
		if disk, ok := d.(*types.VirtualDisk); ok && flatBacking(disk) != nil {
			disks = append(disks, disk)
		}
	}
	return disks
}

// localPath maps "[ds] dir/x.vmdk" to the file in the datastore's directory.
func localPath(b *types.VirtualDiskFlatVer2BackingInfo) (string, error) {
	p, fault := parseDatastorePath(b.FileName)
	if fault != nil || b.Datastore == nil {
		return "", fmt.Errorf("bad backing file name %q", b.FileName)
	}
	ds, ok := Map.Get(*b.Datastore).(*Datastore)
	if !ok {
		return "", fmt.Errorf("datastore of %q is gone", b.FileName)
	}
	return path.Join(ds.Info.GetDatastoreInfo().Url, p.Path), nil
}

// vmDatastore finds a datastore by name among those of the VM's host.
func vmDatastore(vm *VirtualMachine, name string) *Datastore {
	host, ok := Map.Get(*vm.Runtime.Host).(*HostSystem)
	if !ok {
		return nil
	}
	ds, _ := Map.FindByName(name, host.Datastore).(*Datastore)
	return ds
}

// backingUUID is the backing's uuid ("6000C29x-...") and the hex behind it.
func backingUUID() (string, string) {
	u := uuid.New()
	copy(u[:], []byte{0x60, 0x00, 0xc2, 0x90 | u[3]&0x0f})
	return u.String(), strings.ReplaceAll(u.String(), "-", "")
}

type diskRequest struct {
	ds         string
	name       string // dir/base inside the datastore
	image      string
	size       int64
	key        int32
	vsan       bool
	encrypted  string // "", "1" (backing keyId and descriptor) or "descriptor" (no keyId)
	capacity   int64
	mode       string // diskMode; "" is persistent
	controller string // a diskControllers key; "" is scsi
}

func diskMode(m string) string {
	if m == "" {
		return string(types.VirtualDiskModePersistent)
	}
	return m
}

// addDisk writes the disk's files and attaches them as a new VirtualDisk.
func (h *harness) addDisk(vm *VirtualMachine, req diskRequest) (int32, error) {
	ds := vmDatastore(vm, req.ds)
	if ds == nil {
		return 0, notFound("datastore %q is not on the VM's host", req.ds)
	}
	if req.vsan != (ds.Summary.Type == "vsan") {
		return 0, badRequest("kind=vsan needs a datastore of type vsan and only it (%q is %s)", req.ds, ds.Summary.Type)
	}
	if req.image != "" {
		fi, err := os.Stat(req.image)
		if err != nil {
			return 0, badRequest("image: %v", err)
		}
		req.capacity = fi.Size()
	} else {
		req.capacity = req.size
	}
	if req.capacity <= 0 || req.capacity%sectorSize != 0 {
		return 0, badRequest("capacity %d is not a positive multiple of 512", req.capacity)
	}
	name := strings.TrimSuffix(strings.Trim(req.name, "/"), ".vmdk")
	if name == "" || strings.Contains(name, "..") {
		return 0, badRequest("bad disk name %q", req.name)
	}
	desc := path.Join(ds.Info.GetDatastoreInfo().Url, name+".vmdk")
	if _, err := os.Stat(desc); err == nil {
		return 0, conflict("%s.vmdk already exists on %s", name, req.ds)
	}

	var key int32
	var err error
	Map.WithLock(vm, func() {
		key, err = h.attachDisk(vm, ds, name, desc, req)
	})
	return key, err
}

func (h *harness) attachDisk(vm *VirtualMachine, ds *Datastore, name, desc string, req diskRequest) (int32, error) {
	devices := object.VirtualDeviceList(vm.Config.Hardware.Device)
	key := req.key
	if key == 0 {
		for key = 2000; devices.FindByKey(key) != nil; key++ {
		}
	} else if devices.FindByKey(key) != nil {
		return 0, conflict("device key %d is taken", key)
	}
	kind := req.controller
	if kind == "" {
		kind = "scsi"
	}
	ctrl := freeController(devices, kind)
	if ctrl == nil {
		var err error
		if devices, ctrl, err = addDiskController(devices, kind); err != nil {
			return 0, err
		}
	}
	uuidStr, uuidHex := backingUUID()
	if err := h.createDisk(desc, req.capacity, req.image, req.vsan, req.encrypted != "", uuidHex); err != nil {
		return 0, err
	}
	disk := &types.VirtualDisk{
		VirtualDevice: types.VirtualDevice{
			Key: key,
			DeviceInfo: &types.Description{
				Label:   fmt.Sprintf("Hard disk %d", len(vmDisks(devices))+1),
				Summary: fmt.Sprintf("%s KB", numberToString(req.capacity/1024, ',')),
			},
			Backing: &types.VirtualDiskFlatVer2BackingInfo{
				VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{
					FileName:  fmt.Sprintf("[%s] %s.vmdk", ds.Name, name),
					Datastore: &ds.Self,
				},
				DiskMode:        diskMode(req.mode),
				ThinProvisioned: types.NewBool(true),
				Uuid:            uuidStr,
			},
		},
		CapacityInKB:    req.capacity / 1024,
		CapacityInBytes: req.capacity,
	}
	devices.AssignController(disk, ctrl)
	c := ctrl.GetVirtualController()
	c.Device = append(c.Device, key)
	if id := cbtChangeID(vm.Self); id != "" {
		flatBacking(disk).ChangeId = id
	}
	if req.encrypted == "1" {
		flatBacking(disk).KeyId = &types.CryptoKeyId{
			KeyId:      simKeyID,
			ProviderId: &types.KeyProviderId{Id: simKeyProvider},
		}
	}
	devices = append(devices, disk)
	Map.Update(vm, []types.PropertyChange{
		{Name: "config.hardware.device", Val: []types.BaseVirtualDevice(devices)},
		{Name: "summary.config.numVirtualDisks", Val: vm.Summary.Config.NumVirtualDisks + 1},
	})
	vm.useDatastore(ds.Name)
	vm.updateDiskLayouts()
	return key, nil
}

// diskControllers are the kinds of controller a disk may go on, with the
// disks one holds: SCSI 15 (unit 7 is the controller's own), AHCI 30,
// NVMe 15, IDE master and slave.
var diskControllers = map[string]struct {
	typ   types.BaseVirtualDevice
	slots int
}{
	"scsi": {(*types.VirtualSCSIController)(nil), 15},
	"sata": {(*types.VirtualSATAController)(nil), 30},
	"nvme": {(*types.VirtualNVMEController)(nil), 15},
	"ide":  {(*types.VirtualIDEController)(nil), 2},
}

// freeController is the VM's first controller of the kind with a free
// slot. Slots are counted from the devices naming the controller: vcsim
// leaves its device list empty.
func freeController(devices object.VirtualDeviceList, kind string) types.BaseVirtualController {
	want := diskControllers[kind]
	for _, dev := range devices.SelectByType(want.typ) {
		key := dev.GetVirtualDevice().Key
		used := devices.Select(func(d types.BaseVirtualDevice) bool {
			return d.GetVirtualDevice().ControllerKey == key
		})
		if len(used) < want.slots {
			return dev.(types.BaseVirtualController)
		}
	}
	return nil
}

// addDiskController adds a controller of the kind on its first free bus
// (vSphere allows four of each), keyed as vSphere keys them: SCSI 1000 +
// bus, SATA 15000 + bus, NVMe 31000 + bus. A new SCSI controller is like
// the VM's first, as vSphere does for a disk that finds every slot taken;
// IDE has only the two controllers every VM is made with.
func addDiskController(devices object.VirtualDeviceList, kind string) (object.VirtualDeviceList, types.BaseVirtualController, error) {
	var dev types.BaseVirtualDevice
	var base int32
	switch kind {
	case "scsi":
		model := "pvscsi"
		if first := devices.SelectByType(diskControllers["scsi"].typ); len(first) > 0 {
			model = devices.Type(first[0])
		}
		var err error
		if dev, err = devices.CreateSCSIController(model); err != nil {
			return nil, nil, err
		}
		base = 1000
	case "sata":
		dev, base = &types.VirtualAHCIController{}, 15000
	case "nvme":
		dev, base = &types.VirtualNVMEController{}, 31000
	default:
		return nil, nil, conflict("the VM has no IDE controller with a free slot")
	}
	taken := map[int32]bool{}
	for _, d := range devices.SelectByType(diskControllers[kind].typ) {
		taken[d.(types.BaseVirtualController).GetVirtualController().BusNumber] = true
	}
	c := dev.(types.BaseVirtualController).GetVirtualController()
	for c.BusNumber = 0; taken[c.BusNumber]; c.BusNumber++ {
	}
	if c.BusNumber > 3 {
		return nil, nil, conflict("the VM has no %[1]s controller with a free slot, and no free %[1]s bus", strings.ToUpper(kind))
	}
	for c.Key = base + c.BusNumber; devices.FindByKey(c.Key) != nil; c.Key++ {
	}
	c.DeviceInfo = &types.Description{Label: devices.Name(dev), Summary: devices.Name(dev)}
	return append(devices, dev), dev.(types.BaseVirtualController), nil
}

// realizeDefaultDisks gives vcsim's empty disk1.vmdk files a descriptor and
// a sized extent, so every disk in the inventory can be read.
func (h *harness) realizeDefaultDisks() error {
	for _, e := range Map.All("VirtualMachine") {
		vm := e.(*VirtualMachine)
		for _, disk := range vmDisks(vm.Config.Hardware.Device) {
			b := flatBacking(disk)
			desc, err := localPath(b)
			if err != nil {
				return err
			}
			if fi, err := os.Stat(desc); err != nil || fi.Size() > 0 {
				continue
			}
			disk.CapacityInBytes = disk.CapacityInKB * 1024
			uuidStr, uuidHex := backingUUID()
			b.Uuid = uuidStr
			_ = os.Remove(desc)
			_ = os.Remove(strings.TrimSuffix(desc, ".vmdk") + "-flat.vmdk")
			if err := h.createDisk(desc, disk.CapacityInBytes, "", false, false, uuidHex); err != nil {
				return err
			}
		}
	}
	return nil
}

// diskAt returns the VM's disk number n (0-based, device order).
func diskAt(devices []types.BaseVirtualDevice, n int) (*types.VirtualDisk, error) {
	disks := vmDisks(devices)
	if n < 0 || n >= len(disks) {
		return nil, notFound("no disk %d (the VM has %d)", n, len(disks))
	}
	return disks[n], nil
}

// writeDisk is a simulated guest write into the VM's current disk: into
// its flat file, or copy-on-write into the grains of its sparse delta.
func (h *harness) writeDisk(vm *VirtualMachine, n int, off int64, data []byte, zeroMode string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	disk, err := diskAt(vm.Config.Hardware.Device, n)
	if err != nil {
		return err
	}
	if off < 0 || off+int64(len(data)) > disk.CapacityInBytes {
		return badRequest("write [%d, %d) is outside the disk (%d bytes)", off, off+int64(len(data)), disk.CapacityInBytes)
	}
	desc, err := localPath(flatBacking(disk))
	if err != nil {
		return err
	}
	c, err := h.openChain(desc, true)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.write(data, off, zeroMode); err != nil {
		return err
	}
	cbtMark(vm.Self, disk.Key, off, int64(len(data)))
	return c.f.Close()
}

func (h *harness) diskDataPath(b *types.VirtualDiskFlatVer2BackingInfo) (string, error) {
	desc, err := localPath(b)
	if err != nil {
		return "", err
	}
	return h.dataPath(desc)
}
