// SPDX-License-Identifier: BSD-3-Clause

package simulator

// An ESXi host with the free vSphere Hypervisor license (the free_license
// knob): the API reads as usual, but every call that changes a VM is
// refused with RestrictedVersion, as such hosts answer.  The control API
// still works, standing for changes made by hand in the Host Client.

import (
	"net/http"

	"github.com/vmware/govmomi/vim25/types"
)

var licenseRestricted = map[string]bool{
	"CreateSnapshot_Task":          true,
	"RemoveSnapshot_Task":          true,
	"RemoveAllSnapshots_Task":      true,
	"RevertToSnapshot_Task":        true,
	"RevertToCurrentSnapshot_Task": true,
	"ConsolidateVMDisks_Task":      true,
	"ReconfigVM_Task":              true,
	"PowerOnVM_Task":               true,
	"PowerOffVM_Task":              true,
	"ResetVM_Task":                 true,
	"SuspendVM_Task":               true,
	"ShutdownGuest":                true,
	"RebootGuest":                  true,
	"CreateVM_Task":                true,
	"Destroy_Task":                 true,
	"UnregisterVM":                 true,
}

// refusedByLicense answers method with RestrictedVersion if the knob
// says the host's license forbids it, and reports whether it did.
func refusedByLicense(w http.ResponseWriter, method string) bool {
	if !currentKnobs().FreeLicense || !licenseRestricted[method] {
		return false
	}
	writeSOAPFault(w, Fault("Current license or ESXi version prohibits execution of the requested operation.",
		&types.RestrictedVersion{}))
	return true
}
