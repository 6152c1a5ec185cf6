// SPDX-License-Identifier: BSD-3-Clause

package simulator

// QueryChangedDiskAreas, which vcsim lacks, answered page by page like
// vSphere: each answer covers [startOffset, startOffset+length).

import (
	"fmt"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func (vm *VirtualMachine) QueryChangedDiskAreas(ctx *Context, req *types.QueryChangedDiskAreas) soap.HasFault {
	body := &methods.QueryChangedDiskAreasBody{}
	info, err := queryChangedAreas(vm, req)
	if err != nil {
		body.Fault_ = err
		return body
	}
	body.Res = &types.QueryChangedDiskAreasResponse{Returnval: *info}
	return body
}

func queryChangedAreas(vm *VirtualMachine, req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, *soap.Fault) {
	devices := vm.Config.Hardware.Device
	current := cbtChangeID(vm.Self)
	until := current
	if req.Snapshot != nil {
		snap, ok := Map.Get(*req.Snapshot).(*VirtualMachineSnapshot)
		if !ok || snap.Vm != vm.Self {
			return nil, Fault("snapshot not found", &types.ManagedObjectNotFound{Obj: *req.Snapshot})
		}
		devices = snap.Config.Hardware.Device
	} else if u, seq, ok := parseChangeID(current); ok {
		until = fmt.Sprintf("%s/%d", u, seq+1) // the live disk includes this epoch
	}
	var disk *types.VirtualDisk
	for _, d := range vmDisks(devices) {
		if d.Key == req.DeviceKey {
			disk = d
		}
	}
	fileFault := func(file, msg string) *soap.Fault {
		return Fault(msg, &types.FileFault{File: file})
	}
	if disk == nil {
		return nil, fileFault("", fmt.Sprintf("no disk with device key %d", req.DeviceKey))
	}
	b := flatBacking(disk)
	if current == "" {
		return nil, fileFault(b.FileName, "change tracking is not enabled")
	}
	capacity := disk.CapacityInBytes
	if capacity == 0 {
		capacity = disk.CapacityInKB * 1024
	}
	if req.StartOffset < 0 || req.StartOffset >= capacity {
		return nil, Fault("startOffset is past the end of the disk", &types.InvalidArgument{InvalidProperty: "startOffset"})
	}
	page := currentKnobs().CBTPage
	if page <= 0 {
		page = defaultCBTPage
	}
	info := &types.DiskChangeInfo{StartOffset: req.StartOffset, Length: capacity - req.StartOffset}
	if info.Length > page {
		info.Length = page
	}
	end := info.StartOffset + info.Length

	var blocks []int64
	if req.ChangeId == "*" {
		desc, err := localPath(b)
		if err == nil {
			blocks, err = theHarness.nonZeroBlocks(desc, info.StartOffset, end)
		}
		if err != nil {
			return nil, fileFault(b.FileName, err.Error())
		}
	} else {
		if req.Snapshot != nil {
			until = b.ChangeId
		}
		var err error
		if blocks, err = cbtChangedBlocks(vm.Self, disk.Key, req.ChangeId, until); err != nil {
			return nil, fileFault(b.FileName, err.Error())
		}
	}
	info.ChangedArea = blockExtents(blocks, info.StartOffset, end)
	breakAnswer(info, currentKnobs().CBTFault)
	return info, nil
}

// breakAnswer makes an answer wrong the way buggy servers have been: the
// page starts past the offset asked for (leaving a gap), areas overlap,
// or the page runs past the end of the disk.
func breakAnswer(info *types.DiskChangeInfo, fault string) {
	switch fault {
	case "gap":
		if info.Length > cbtBlock {
			info.Length -= cbtBlock / 2
			info.StartOffset += cbtBlock / 2
		}
	case "overlap":
		info.ChangedArea = append(info.ChangedArea,
			types.DiskChangeExtent{Start: info.StartOffset, Length: cbtBlock})
	case "past_end":
		info.Length += cbtBlock
	}
}

// blockExtents merges sorted 64 KiB blocks into extents clipped to [start, end).
func blockExtents(blocks []int64, start, end int64) []types.DiskChangeExtent {
	var out []types.DiskChangeExtent
	for _, blk := range blocks {
		s, e := blk*cbtBlock, (blk+1)*cbtBlock
		if s < start {
			s = start
		}
		if e > end {
			e = end
		}
		if s >= e {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Start+out[n-1].Length == s {
			out[n-1].Length += e - s
		} else {
			out = append(out, types.DiskChangeExtent{Start: s, Length: e - s})
		}
	}
	return out
}
