// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Finding VMs by inventory path and creating them (with missing folders).

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// findByPath resolves an inventory path as FindByInventoryPath does.
func findByPath(p string) mo.Reference {
	res := Map.SearchIndex().FindByInventoryPath(&types.FindByInventoryPath{InventoryPath: p})
	if ref := res.(*methods.FindByInventoryPathBody).Res.Returnval; ref != nil {
		return Map.Get(*ref)
	}
	return nil
}

// findVM resolves an inventory path such as "DC0/vm/DC0_H0_VM0" (with
// -esx "ha-datacenter/vm/ha-host_VM0").
func findVM(p string) (*VirtualMachine, error) {
	if vm, ok := findByPath(p).(*VirtualMachine); ok {
		return vm, nil
	}
	return nil, notFound("no VM at inventory path %q", p)
}

// childFolder returns the folder called name inside parent, creating it.
func (h *harness) childFolder(ctx context.Context, parent *object.Folder, name string) (*object.Folder, error) {
	if f, ok := Map.FindByName(name, Map.Get(parent.Reference()).(*Folder).ChildEntity).(*Folder); ok {
		return object.NewFolder(h.client, f.Self), nil
	}
	return parent.CreateFolder(ctx, name)
}

// firstHost finds a host of the datacenter and the resource pool to use.
func firstHost(dc *Datacenter) (*HostSystem, types.ManagedObjectReference) {
	var walk func(ref types.ManagedObjectReference) (*HostSystem, types.ManagedObjectReference)
	walk = func(ref types.ManagedObjectReference) (*HostSystem, types.ManagedObjectReference) {
		var cr *mo.ComputeResource
		switch o := Map.Get(ref).(type) {
		case *Folder:
			for _, child := range o.ChildEntity {
				if host, pool := walk(child); host != nil {
					return host, pool
				}
			}
		case *mo.ComputeResource:
			cr = o
		case *ClusterComputeResource:
			cr = &o.ComputeResource
		}
		if cr != nil && len(cr.Host) > 0 && cr.ResourcePool != nil {
			return Map.Get(cr.Host[0]).(*HostSystem), *cr.ResourcePool
		}
		return nil, types.ManagedObjectReference{}
	}
	return walk(dc.HostFolder)
}

// splitVMPath cuts "DCPATH/vm/FOLDERS/NAME" at its "vm" component.
func splitVMPath(p string) (dcPath string, folders []string, name string, err error) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, part := range parts {
		if part == "vm" && i > 0 && i < len(parts)-1 {
			return strings.Join(parts[:i], "/"), parts[i+1 : len(parts)-1], parts[len(parts)-1], nil
		}
	}
	return "", nil, "", badRequest("path %q is not DATACENTER/vm/[FOLDERS/]NAME", p)
}

// createVM makes a VM with the hardware asked for on the datacenter's first host.
func (h *harness) createVM(ctx context.Context, p, dsName string, hw vmHardware, powerOn, cbtOn bool) (types.ManagedObjectReference, error) {
	var none types.ManagedObjectReference
	dcPath, folders, name, err := splitVMPath(p)
	if err != nil {
		return none, err
	}
	dc, ok := findByPath(dcPath).(*Datacenter)
	switch {
	case !ok && h.cfg.ESX:
		return none, notFound("no datacenter %q: a standalone ESXi host has only %s", dcPath, h.dc)
	case !ok:
		return none, notFound("no datacenter %q", dcPath)
	case h.cfg.ESX && len(folders) > 0:
		return none, badRequest("path %q: a standalone ESXi host has no VM folders (%s/vm/NAME)", p, h.dc)
	}
	host, pool := firstHost(dc)
	if host == nil {
		return none, conflict("datacenter %q has no host", dcPath)
	}
	if dsName == "" && len(host.Datastore) > 0 {
		dsName = Map.Get(host.Datastore[0]).(*Datastore).Name
	}
	if ds, _ := Map.FindByName(dsName, host.Datastore).(*Datastore); ds == nil {
		return none, notFound("datastore %q is not on host %s", dsName, host.Name)
	}
	spec := types.VirtualMachineConfigSpec{
		Name:                  name,
		ChangeTrackingEnabled: types.NewBool(cbtOn),
		Files:                 &types.VirtualMachineFileInfo{VmPathName: "[" + dsName + "]"},
		// vCenter makes it random; vcsim would derive it from the path,
		// the same in every simulator.
		InstanceUuid: uuid.New().String(),
	}
	if err := hw.configure(ctx, h.client, dc, &spec); err != nil {
		return none, err
	}
	// Folders only now: a VM refused for its datastore or hardware leaves none.
	folder := object.NewFolder(h.client, dc.VmFolder)
	for _, f := range folders {
		if folder, err = h.childFolder(ctx, folder, f); err != nil {
			return none, err
		}
	}
	if Map.FindByName(name, Map.Get(folder.Reference()).(*Folder).ChildEntity) != nil {
		return none, conflict("%q already exists", p) // vcsim would allow a duplicate
	}
	hostObj := object.NewHostSystem(h.client, host.Self)
	task, err := folder.CreateVM(ctx, spec, object.NewResourcePool(h.client, pool), hostObj)
	if err != nil {
		return none, err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return none, conflict("CreateVM: %v", err)
	}
	ref := info.Result.(types.ManagedObjectReference)
	vm := Map.Get(ref).(*VirtualMachine)
	h.syncCBT(vm)
	if powerOn {
		if _, err := object.NewVirtualMachine(h.client, ref).PowerOn(ctx); err != nil {
			return none, err
		}
	}
	return ref, nil
}
