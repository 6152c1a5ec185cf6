// SPDX-License-Identifier: BSD-3-Clause

package simulator

// /sdk in front of vcsim: vCenter's authentication rules, and the calls
// whose disk side vcsim does not model (snapshots, CBT switches).

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// Calls vCenter answers without a session; vcsim also lets property
// retrieval through, which would hide a client's expired session.
var anonymousMethods = map[string]bool{
	"RetrieveServiceContent":      true,
	"Login":                       true,
	"LoginByToken":                true,
	"LoginExtensionByCertificate": true,
	"CloneSession":                true,
}

func (h *harness) serveSDK(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if h.serveNfcSOAP(w, r, body) {
		return
	}
	method, err := UnmarshalBody(Map.typeFunc, body)
	if err != nil {
		h.mux.ServeHTTP(w, r) // vcsim words the decoding fault
		return
	}
	if rules := soapRewritesFor(method.Name); rules != nil {
		serveRewritten(w, rules, func(w http.ResponseWriter) { h.serveMethod(w, r, method) })
		return
	}
	h.serveMethod(w, r, method)
}

// serveMethod answers one decoded SOAP call.
func (h *harness) serveMethod(w http.ResponseWriter, r *http.Request, method *Method) {
	if method.Name == "Login" && takeLoginFailure() {
		http.Error(w, "vCenter is starting", http.StatusServiceUnavailable)
		return
	}
	if liveSession(r, false) == nil && !anonymousMethods[method.Name] {
		writeSOAPFault(w, Fault("The session is not authenticated.", &types.NotAuthenticated{
			NoPermission: types.NoPermission{Object: method.This, PrivilegeId: "System.View"},
		}))
		return
	}
	if refusedByLicense(w, method.Name) {
		return
	}
	snapshotCall := method.Name == "CreateSnapshot_Task" || method.Name == "RemoveSnapshot_Task"
	if snapshotCall && takeBusyTask() {
		// What vCenter answers while a consolidation or another
		// client's task holds the VM.
		writeSOAPFault(w, Fault("Another task is already in progress.", &types.TaskInProgress{
			Task: types.ManagedObjectReference{Type: "Task", Value: "task-busy"},
		}))
		return
	}
	if method.Name == "ShutdownGuest" && h.shutdownGuestLater(w, method) {
		return
	}
	switch method.Name {
	case "AcquireGenericServiceTicket":
		h.serveTicket(w, r, method)
		return
	case "CreateSnapshot_Task":
		vm, ok := Map.Get(method.This).(*VirtualMachine)
		if ok {
			h.serveRecorded(w, r, func(call func() error) error { return h.createSnapshot(vm, call) })
			return
		}
	case "RemoveSnapshot_Task":
		snap, ok := Map.Get(method.This).(*VirtualMachineSnapshot)
		if ok {
			removeChildren := method.Body.(*types.RemoveSnapshot_Task).RemoveChildren
			h.serveRecorded(w, r, func(call func() error) error { return h.removeSnapshot(snap, removeChildren, call) })
			return
		}
	case "RemoveAllSnapshots_Task":
		vm, ok := Map.Get(method.This).(*VirtualMachine)
		if ok {
			h.serveRecorded(w, r, func(call func() error) error { return h.removeAllSnapshots(vm, call) })
			return
		}
	case "ReconfigVM_Task":
		vm, ok := Map.Get(method.This).(*VirtualMachine)
		if ok {
			h.serveRecorded(w, r, func(call func() error) error {
				if err := call(); err != nil {
					return err
				}
				h.syncCBT(vm)
				return nil
			})
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// serveRecorded runs vcsim's handler inside op, holding its answer back
// until op has brought the disks in line, so no client sees a half state.
func (h *harness) serveRecorded(w http.ResponseWriter, r *http.Request, op func(call func() error) error) {
	rec := httptest.NewRecorder()
	call := func() error {
		h.mux.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("vcsim answered %d", rec.Code)
		}
		return nil
	}
	h.mu.Lock()
	err := op(call)
	h.mu.Unlock()
	if err != nil && rec.Code == http.StatusOK {
		writeSOAPFault(w, Fault(err.Error(), &types.FileFault{}))
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// writeSOAPFault encodes a fault the way vcsim's ServeSDK does.
func writeSOAPFault(w http.ResponseWriter, f *soap.Fault) {
	var out bytes.Buffer
	fmt.Fprint(&out, xml.Header)
	err := xml.NewEncoder(&out).Encode(&soapEnvelope{
		Enc: "http://schemas.xmlsoap.org/soap/encoding/",
		Env: "http://schemas.xmlsoap.org/soap/envelope/",
		XSD: "http://www.w3.org/2001/XMLSchema",
		XSI: "http://www.w3.org/2001/XMLSchema-instance",
		Body: struct{ Fault *soapFault }{&soapFault{
			Code:   f.Code,
			String: f.String,
			Detail: struct{ Fault *faultDetail }{&faultDetail{f.Detail.Fault}},
		}},
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(out.Bytes())
}
