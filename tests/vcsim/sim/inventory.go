// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Inventory shapes that break naive clients, added to vcsim's VPX default:
// a datacenter inside a folder, nested VM folders, names with spaces,
// + & % and non-ASCII letters, and a vsan datastore.  A standalone ESXi
// host has one datacenter and no VM folders: it gets only the vsan
// datastore.

import (
	"context"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	awkwardFolder     = "EMEA"
	awkwardDatacenter = "DC 1+&%é"
	awkwardDatastore  = "ds 1+&%é"
	awkwardVMFolder   = "Prod/Web tier"
	awkwardVM         = "web 01+&%ü"
	vsanDatastore     = "vsanDatastore"
)

func (h *harness) buildInventory() error {
	if !h.cfg.ESX {
		if err := h.buildAwkwardInventory(); err != nil {
			return err
		}
	}
	return h.addVsanDatastore(h.ctx)
}

func (h *harness) buildAwkwardInventory() error {
	ctx := h.ctx
	root := object.NewRootFolder(h.client)
	folder, err := root.CreateFolder(ctx, awkwardFolder)
	if err != nil {
		return err
	}
	dc, err := folder.CreateDatacenter(ctx, awkwardDatacenter)
	if err != nil {
		return err
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		return err
	}
	task, err := folders.HostFolder.AddStandaloneHost(ctx, types.HostConnectSpec{HostName: "esx-emea-01"}, true, nil, nil)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return err
	}
	host := object.NewHostSystem(h.client, info.Result.(types.ManagedObjectReference))
	if err := h.model.createLocalDatastore(awkwardDatacenter, awkwardDatastore, []*object.HostSystem{host}); err != nil {
		return err
	}
	_, err = h.createVM(ctx, awkwardFolder+"/"+awkwardDatacenter+"/vm/"+awkwardVMFolder+"/"+awkwardVM, awkwardDatastore, vmHardware{}, false, false)
	return err
}

// addVsanDatastore mounts a datastore of type vsan on every host of h.dc.
func (h *harness) addVsanDatastore(ctx context.Context) error {
	var hosts []*object.HostSystem
	for _, e := range Map.All("HostSystem") {
		if dc := Map.getEntityDatacenter(e); dc != nil && dc.Name == h.dc {
			hosts = append(hosts, object.NewHostSystem(h.client, e.Reference()))
		}
	}
	if err := h.model.createLocalDatastore(h.dc, vsanDatastore, hosts); err != nil {
		return err
	}
	for _, e := range Map.All("Datastore") {
		if ds := e.(*Datastore); ds.Name == vsanDatastore {
			ds.Summary.Type = "vsan"
		}
	}
	return nil
}
