// SPDX-License-Identifier: BSD-3-Clause

package simulator

// The locked_base knob: ESXi is reported (PegaProx issue 553) to refuse
// raw opens of the base extent under a running VM's snapshot chain, by
// /folder as by SSH.  With the knob on, a /folder read of such an
// extent, through vCenter or from the host, gets what hostd answers a
// file it cannot open: HTTP 500.

import (
	"net/http"
	"path/filepath"

	"github.com/vmware/govmomi/vim25/types"
)

// baseOfChain is the backing at the bottom of b's chain of parents.
func baseOfChain(b *types.VirtualDiskFlatVer2BackingInfo) *types.VirtualDiskFlatVer2BackingInfo {
	for b.Parent != nil {
		b = b.Parent
	}
	return b
}

// lockedBase says whether local is the base extent of a disk of a
// powered-on VM that has deltas above it.
func (h *harness) lockedBase(local string) bool {
	if !currentKnobs().LockedBase {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range Map.All("VirtualMachine") {
		vm := e.(*VirtualMachine)
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			continue
		}
		for _, disk := range vmDisks(vm.Config.Hardware.Device) {
			b := flatBacking(disk)
			if b.Parent == nil {
				continue
			}
			desc, err := localPath(baseOfChain(b))
			if err != nil {
				continue
			}
			if data, err := h.dataPath(desc); err == nil && filepath.Clean(data) == filepath.Clean(local) {
				return true
			}
		}
	}
	return false
}

func refuseLockedBase(w http.ResponseWriter) {
	http.Error(w, "Failed to lock the file: it is held open by a running virtual machine", http.StatusInternalServerError)
}
