// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Snapshots as ESXi does them, around vcsim's own tree bookkeeping:
// create freezes the current files and moves the VM onto new deltas;
// remove folds the frozen files' child back into them.

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"

	"github.com/vmware/govmomi/vim25/types"
)

// copyDevices deep-copies a device list (vcsim 0.24.2 shares it).
func copyDevices(src []types.BaseVirtualDevice) []types.BaseVirtualDevice {
	out := make([]types.BaseVirtualDevice, len(src))
	for i, d := range src {
		c := reflect.New(reflect.TypeOf(d).Elem()).Interface()
		deepCopy(d, c)
		out[i] = c.(types.BaseVirtualDevice)
	}
	return out
}

func copyBacking(b *types.VirtualDiskFlatVer2BackingInfo) *types.VirtualDiskFlatVer2BackingInfo {
	if b == nil {
		return nil
	}
	c := new(types.VirtualDiskFlatVer2BackingInfo)
	deepCopy(b, c)
	return c
}

func snapshotRefs(vm *VirtualMachine) []types.ManagedObjectReference {
	if vm.Snapshot == nil {
		return nil
	}
	return allSnapshotsInTree(vm.Snapshot.RootSnapshotList)
}

// createSnapshot makes the deltas, lets vcsim (call) record the snapshot,
// then gives the snapshot the frozen devices and the VM the deltas.
func (h *harness) createSnapshot(vm *VirtualMachine, call func() error) error {
	before := map[types.ManagedObjectReference]bool{}
	deltas := map[int32]string{}
	var err error
	Map.WithLock(vm, func() {
		for _, ref := range snapshotRefs(vm) {
			before[ref] = true
		}
		for _, disk := range vmDisks(vm.Config.Hardware.Device) {
			var desc string
			if desc, err = localPath(flatBacking(disk)); err != nil {
				return
			}
			if deltas[disk.Key], err = h.createDelta(desc, deltaFormatFor(vm.Self)); err != nil {
				return
			}
		}
	})
	if err == nil {
		err = call()
	}
	if err != nil {
		removeFiles(h, deltas)
		return err
	}
	Map.WithLock(vm, func() {
		for _, ref := range snapshotRefs(vm) {
			if snap, ok := Map.Get(ref).(*VirtualMachineSnapshot); ok && !before[ref] {
				h.freeze(vm, snap, deltas)
			}
		}
	})
	return nil
}

func removeFiles(h *harness, deltas map[int32]string) {
	for _, desc := range deltas {
		if data, err := h.dataPath(desc); err == nil {
			_ = os.Remove(data)
		}
		_ = os.Remove(desc)
	}
}

// freeze runs with the VM locked, right after vcsim recorded snap.
func (h *harness) freeze(vm *VirtualMachine, snap *VirtualMachineSnapshot, deltas map[int32]string) {
	changeID := cbtAdvance(vm.Self)
	devices := vm.Config.Hardware.Device
	for _, disk := range vmDisks(devices) {
		if changeID != "" {
			flatBacking(disk).ChangeId = changeID
		}
	}
	config := *vm.Config
	config.Hardware.Device = copyDevices(devices)
	snap.Config = config
	for _, disk := range vmDisks(devices) {
		old := flatBacking(disk)
		nb := copyBacking(old)
		nb.FileName = deltaFileName(old.FileName, deltas[disk.Key])
		nb.Parent = copyBacking(old)
		nb.DeltaDiskFormat, nb.DeltaGrainSize, nb.DeltaDiskFormatVariant = "", 0, ""
		if d, err := readDescriptor(deltas[disk.Key]); err == nil {
			nb.DeltaDiskFormat, nb.DeltaGrainSize, nb.DeltaDiskFormatVariant = deltaBackingFields(d.extentType)
		}
		disk.Backing = nb
	}
	Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: devices}})
	vm.updateDiskLayouts()
}

// deltaFileName is "[ds] dir/x-00000N.vmdk" next to parent "[ds] dir/x.vmdk".
func deltaFileName(parent, deltaLocal string) string {
	p, _ := parseDatastorePath(parent)
	return fmt.Sprintf("[%s] %s", p.Datastore, path.Join(path.Dir(p.Path), filepath.Base(deltaLocal)))
}

// removeSnapshot consolidates snap (and its subtree when asked), then lets
// vcsim drop it from the tree.
func (h *harness) removeSnapshot(snap *VirtualMachineSnapshot, removeChildren bool, call func() error) error {
	vm, ok := Map.Get(snap.Vm).(*VirtualMachine)
	if !ok {
		return call()
	}
	var err error
	Map.WithLock(vm, func() {
		if removeChildren {
			err = h.consolidateSubtree(vm, snap.Self)
		}
		if err == nil {
			err = h.consolidate(vm, snap)
		}
		if err == nil {
			fixSnapshotDataKeys(vm, false)
		}
	})
	if err != nil {
		return err
	}
	return call()
}

func (h *harness) removeAllSnapshots(vm *VirtualMachine, call func() error) error {
	var err error
	Map.WithLock(vm, func() {
		refs := snapshotRefs(vm)
		for i := len(refs) - 1; i >= 0 && err == nil; i-- {
			if snap, ok := Map.Get(refs[i]).(*VirtualMachineSnapshot); ok {
				err = h.consolidate(vm, snap)
			}
		}
		if err == nil {
			fixSnapshotDataKeys(vm, true)
		}
	})
	if err != nil {
		return err
	}
	return call()
}

// fixSnapshotDataKeys works around vcsim 0.24.2: every snapshot removal
// renumbers layoutEx.file (RefreshStorageInfo), leaving the other
// snapshots' dataKey naming whatever file now has that key, which the
// next removal deletes (a disk descriptor, say). Run just before vcsim
// removes snapshots: it points each dataKey at the snapshot's own .vmsn
// again. With several removals in one call (removeAll) it deletes the
// .vmsn files itself and sets dataKey to -1, which matches no file.
func fixSnapshotDataKeys(vm *VirtualMachine, removeAll bool) {
	vmsn := map[types.ManagedObjectReference]string{}
	for _, l := range vm.Layout.Snapshot {
		for _, name := range l.SnapshotFile {
			if path.Ext(name) == ".vmsn" {
				vmsn[l.Key] = name
			}
		}
	}
	for i := range vm.LayoutEx.Snapshot {
		l := &vm.LayoutEx.Snapshot[i]
		name := vmsn[l.Key]
		l.DataKey = -1
		if removeAll {
			if p, fault := parseDatastorePath(name); fault == nil && name != "" {
				if ds, ok := Map.FindByName(p.Datastore, vm.Datastore).(*Datastore); ok {
					_ = os.Remove(path.Join(ds.Info.GetDatastoreInfo().Url, p.Path))
				}
			}
			continue
		}
		for _, f := range vm.LayoutEx.File {
			if f.Name == name {
				l.DataKey = f.Key
			}
		}
	}
}

func (h *harness) consolidateSubtree(vm *VirtualMachine, root types.ManagedObjectReference) error {
	node := findSnapshotInTree(vm.Snapshot.RootSnapshotList, root)
	if node == nil {
		return nil
	}
	refs := allSnapshotsInTree(node.ChildSnapshotList)
	for i := len(refs) - 1; i >= 0; i-- {
		if snap, ok := Map.Get(refs[i]).(*VirtualMachineSnapshot); ok {
			if err := h.consolidate(vm, snap); err != nil {
				return err
			}
		}
	}
	return nil
}

// consolidate merges, disk by disk, the child of each file snap froze into
// that file and repoints every chain that named the child.
func (h *harness) consolidate(vm *VirtualMachine, snap *VirtualMachineSnapshot) error {
	lists := [][]types.BaseVirtualDevice{vm.Config.Hardware.Device}
	for _, ref := range snapshotRefs(vm) {
		if other, ok := Map.Get(ref).(*VirtualMachineSnapshot); ok && ref != snap.Self {
			lists = append(lists, other.Config.Hardware.Device)
		}
	}
	for _, frozenDisk := range vmDisks(snap.Config.Hardware.Device) {
		frozen := flatBacking(frozenDisk)
		child := findChild(lists, frozenDisk.Key, frozen.FileName)
		if child == nil {
			continue // the disk left the VM after the snapshot
		}
		parentLocal, err := localPath(frozen)
		if err != nil {
			return err
		}
		childLocal, err := localPath(child)
		if err != nil {
			return err
		}
		if err := h.mergeChild(parentLocal, childLocal); err != nil {
			return err
		}
		childName := child.FileName
		for _, list := range lists {
			for _, disk := range vmDisks(list) {
				if disk.Key == frozenDisk.Key {
					repoint(flatBacking(disk), childName, frozen)
				}
			}
		}
	}
	Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: vm.Config.Hardware.Device}})
	vm.updateDiskLayouts()
	return nil
}

// findChild is the backing whose parent is the file named frozen.
func findChild(lists [][]types.BaseVirtualDevice, key int32, frozen string) *types.VirtualDiskFlatVer2BackingInfo {
	for _, list := range lists {
		for _, disk := range vmDisks(list) {
			if disk.Key != key {
				continue
			}
			for b := flatBacking(disk); b != nil; b = b.Parent {
				if b.Parent != nil && b.Parent.FileName == frozen {
					return b
				}
			}
		}
	}
	return nil
}

// repoint renames the chain link called child to the merged frozen file.
func repoint(b *types.VirtualDiskFlatVer2BackingInfo, child string, frozen *types.VirtualDiskFlatVer2BackingInfo) {
	for ; b != nil; b = b.Parent {
		if b.FileName == child {
			b.FileName = frozen.FileName
			b.Datastore = frozen.Datastore
			b.Parent = copyBacking(frozen.Parent)
			b.DeltaDiskFormat = frozen.DeltaDiskFormat
			b.DeltaGrainSize = frozen.DeltaGrainSize
			b.DeltaDiskFormatVariant = frozen.DeltaDiskFormatVariant
			return
		}
	}
}
