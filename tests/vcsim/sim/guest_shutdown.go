// SPDX-License-Identifier: BSD-3-Clause

package simulator

// ShutdownGuest as real guests answer it: later, never, or not at all
// without VMware Tools (the guest_shutdown knob).

import (
	"context"
	"encoding/xml"
	"net/http"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// shutdownGuestLater answers ShutdownGuest itself unless the knob says
// "now" (vcsim's own handler powers off at once); true if it answered.
func (h *harness) shutdownGuestLater(w http.ResponseWriter, method *Method) bool {
	mode := currentKnobs().GuestShutdown
	if mode == "" {
		return false
	}
	vm, ok := Map.Get(method.This).(*VirtualMachine)
	if !ok {
		return false
	}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		writeSOAPFault(w, Fault("", &types.InvalidPowerState{
			RequestedState: types.VirtualMachinePowerStatePoweredOn,
			ExistingState:  vm.Runtime.PowerState,
		}))
		return true
	}
	switch mode {
	case "no_tools":
		writeSOAPFault(w, Fault("VMware Tools is not running.", &types.ToolsUnavailable{}))
		return true
	case "ignore":
	default:
		delay, _ := parseDuration(mode)
		ref := vm.Self
		time.AfterFunc(delay, func() {
			if task, err := object.NewVirtualMachine(h.client, ref).PowerOff(context.Background()); err == nil {
				_ = task.Wait(context.Background())
			}
		})
	}
	// ShutdownGuest returns nothing: an empty response element.
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(xml.Header + `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soapenv:Body><ShutdownGuestResponse xmlns="urn:vim25"></ShutdownGuestResponse></soapenv:Body></soapenv:Envelope>`))
	return true
}
