// SPDX-License-Identifier: BSD-3-Clause

package simulator

// The plain-HTTP control API tests use to shape the simulated world
// (see README.md for the list of calls).

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

type ctlFunc func(r *http.Request) (string, error)

func (h *harness) controlMux() http.Handler {
	mux := http.NewServeMux()
	handle := func(path string, byMethod map[string]ctlFunc) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			f := byMethod[r.Method]
			if f == nil {
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			out, err := f(r)
			if err != nil {
				code := http.StatusInternalServerError
				if he, ok := err.(*httpError); ok {
					code = he.code
				}
				log.Printf("control %s %s: %v", r.Method, r.URL, err)
				http.Error(w, strings.ReplaceAll(err.Error(), "\n", " "), code)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, out)
		})
	}
	post := func(f ctlFunc) map[string]ctlFunc { return map[string]ctlFunc{http.MethodPost: f} }
	get := func(f ctlFunc) map[string]ctlFunc { return map[string]ctlFunc{http.MethodGet: f} }

	handle("/vm/create", post(h.ctlVMCreate))
	handle("/vm/power", map[string]ctlFunc{
		http.MethodPost: h.ctlVMPower,
		http.MethodGet: withVM(func(vm *VirtualMachine, r *http.Request) (string, error) {
			return string(vm.Runtime.PowerState) + "\n", nil
		}),
	})
	handle("/vm/cbt", post(h.ctlVMCBT))
	handle("/cbt/reset", post(withVM(func(vm *VirtualMachine, r *http.Request) (string, error) {
		return "", h.resetCBT(vm)
	})))
	handle("/disk/add", post(withVM(h.ctlDiskAdd)))
	handle("/disk/write", post(withVM(h.ctlDiskWrite)))
	handle("/disk/file", get(withVM(h.ctlDiskFile)))
	mux.HandleFunc("/disk/image", h.ctlDiskImage)
	handle("/vm/delta", post(withVM(func(vm *VirtualMachine, r *http.Request) (string, error) {
		f := r.URL.Query().Get("format")
		if f == "default" {
			f = ""
		} else if err := checkDeltaFormat(f); err != nil {
			return "", badRequest("%v", err)
		}
		setVMDeltaFormat(vm.Self, f)
		return "", nil
	})))
	handle("/datastore/path", get(ctlDatastorePath))
	handle("/snapshot/create", post(withVM(h.ctlSnapshotCreate)))
	handle("/snapshot/remove", post(withVM(h.ctlSnapshotRemove)))
	handle("/snapshots", get(withVM(ctlSnapshots)))
	handle("/sessions", get(func(*http.Request) (string, error) {
		return fmt.Sprintf("%d\n", liveSessionCount()), nil
	}))
	handle("/sessions/expire", post(func(*http.Request) (string, error) {
		return fmt.Sprintf("%d\n", expireAllSessions()), nil
	}))
	handle("/knobs", map[string]ctlFunc{
		http.MethodGet: func(*http.Request) (string, error) { return knobsText(), nil },
		http.MethodPost: func(r *http.Request) (string, error) {
			if err := setKnobs(r.URL.Query()); err != nil {
				return "", badRequest("%v", err)
			}
			return knobsText(), nil
		},
	})
	handle("/host/thumbprint", post(func(r *http.Request) (string, error) {
		setHostThumbprints(r.URL.Query().Get("value"))
		return "", nil
	}))
	handle("/soap/rewrite", post(ctlSOAPRewrite))
	handle("/soap/rewrite/clear", post(ctlSOAPRewriteClear))
	handle("/counters", get(func(*http.Request) (string, error) {
		return folderStats.text() + hostStats.text() + nfcStats.text(), nil
	}))
	handle("/counters/reset", post(func(*http.Request) (string, error) {
		folderStats.reset()
		hostStats.reset()
		nfcStats.reset()
		return "", nil
	}))
	return mux
}

// withVM resolves the vm= parameter for f.
func withVM(f func(*VirtualMachine, *http.Request) (string, error)) ctlFunc {
	return func(r *http.Request) (string, error) {
		vm, err := findVM(r.URL.Query().Get("vm"))
		if err != nil {
			return "", err
		}
		return f(vm, r)
	}
}

func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "off", "false":
		return false, nil
	case "1", "on", "true":
		return true, nil
	default:
		return false, badRequest("%s=%q: want 1 or 0", name, v)
	}
}

func intParam(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("%s=%q is not an integer", name, v)
	}
	return n, nil
}

func (h *harness) ctlVMCreate(r *http.Request) (string, error) {
	q := r.URL.Query()
	if p := q.Get("power"); p != "" && p != "on" && p != "off" {
		return "", badRequest("power=%q: want on or off", p)
	}
	cbtOn, err := boolParam(r, "cbt")
	if err != nil {
		return "", err
	}
	delta := q.Get("delta")
	if delta != "" {
		if err := checkDeltaFormat(delta); err != nil {
			return "", badRequest("%v", err)
		}
	}
	hw, err := hardwareParams(r)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ref, err := h.createVM(r.Context(), q.Get("path"), q.Get("ds"), hw, q.Get("power") == "on", cbtOn)
	if err != nil {
		return "", err
	}
	setVMDeltaFormat(ref, delta)
	return ref.Value + "\n", nil
}

func (h *harness) ctlVMPower(r *http.Request) (string, error) {
	vm, err := findVM(r.URL.Query().Get("vm"))
	if err != nil {
		return "", err
	}
	o := object.NewVirtualMachine(h.client, vm.Self)
	var task *object.Task
	switch state := r.URL.Query().Get("state"); state {
	case "on":
		task, err = o.PowerOn(r.Context())
	case "off":
		task, err = o.PowerOff(r.Context())
	default:
		return "", badRequest("state=%q: want on or off", state)
	}
	if err == nil {
		err = task.Wait(r.Context())
	}
	if err != nil {
		return "", conflict("%v", err)
	}
	return "", nil
}

// ctlVMCBT goes through ReconfigVM_Task, as a client enabling CBT would.
func (h *harness) ctlVMCBT(r *http.Request) (string, error) {
	vm, err := findVM(r.URL.Query().Get("vm"))
	if err != nil {
		return "", err
	}
	on, err := boolParam(r, "enabled")
	if err != nil {
		return "", err
	}
	task, err := object.NewVirtualMachine(h.client, vm.Self).Reconfigure(r.Context(),
		types.VirtualMachineConfigSpec{ChangeTrackingEnabled: types.NewBool(on)})
	if err == nil {
		err = task.Wait(r.Context())
	}
	if err != nil {
		return "", err
	}
	h.syncCBT(vm)
	return "", nil
}

func (h *harness) ctlDiskAdd(vm *VirtualMachine, r *http.Request) (string, error) {
	q := r.URL.Query()
	req := diskRequest{ds: q.Get("ds"), name: q.Get("name"), image: q.Get("image")}
	var err error
	if req.size, err = intParam(r, "size", 0); err != nil {
		return "", err
	}
	key, err := intParam(r, "key", 0)
	if err != nil {
		return "", err
	}
	req.key = int32(key)
	switch kind := q.Get("kind"); kind {
	case "", "vmfs":
	case "vsan":
		req.vsan = true
	default:
		return "", badRequest("kind=%q: want vmfs or vsan", kind)
	}
	switch req.encrypted = q.Get("encrypted"); req.encrypted {
	case "", "0":
		req.encrypted = ""
	case "1", "descriptor":
	default:
		return "", badRequest("encrypted=%q: want 1, or descriptor (its lines without the backing's keyId)", req.encrypted)
	}
	switch req.mode = q.Get("mode"); req.mode {
	case "", "persistent", "independent_persistent", "independent_nonpersistent":
	default:
		return "", badRequest("mode=%q: want persistent, independent_persistent or independent_nonpersistent", req.mode)
	}
	if req.controller = q.Get("controller"); req.controller != "" {
		if _, ok := diskControllers[req.controller]; !ok {
			return "", badRequest("controller=%q: want scsi, sata, nvme or ide", req.controller)
		}
	}
	if (req.image == "") == (req.size == 0) {
		return "", badRequest("give exactly one of image= and size=")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	k, err := h.addDisk(vm, req)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d\n", k), nil
}

func (h *harness) ctlDiskWrite(vm *VirtualMachine, r *http.Request) (string, error) {
	n, err := intParam(r, "disk", -1)
	if err != nil {
		return "", err
	}
	off, err := intParam(r, "offset", -1)
	if err != nil {
		return "", err
	}
	zeroMode := zeroNone
	switch z := r.URL.Query().Get("zero"); z {
	case "", "0":
	case "1", "zero":
		zeroMode = zeroGrain
	case "unmap":
		zeroMode = zeroUnmap
	default:
		return "", badRequest("zero=%q: want 1 (zero grains) or unmap", z)
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return "", err
	}
	return "", h.writeDisk(vm, int(n), off, data, zeroMode)
}

// diskDesc is the descriptor of the VM's disk n, now or in snapshot name.
func diskDesc(vm *VirtualMachine, r *http.Request) (string, *types.VirtualDisk, error) {
	n, err := intParam(r, "disk", -1)
	if err != nil {
		return "", nil, err
	}
	devices := vm.Config.Hardware.Device
	if name := r.URL.Query().Get("snapshot"); name != "" {
		snap, err := findSnapshot(vm, name)
		if err != nil {
			return "", nil, err
		}
		devices = snap.Config.Hardware.Device
	}
	disk, err := diskAt(devices, int(n))
	if err != nil {
		return "", nil, err
	}
	desc, err := localPath(flatBacking(disk))
	return desc, disk, err
}

func (h *harness) ctlDiskFile(vm *VirtualMachine, r *http.Request) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	desc, _, err := diskDesc(vm, r)
	if err != nil {
		return "", err
	}
	d, err := readDescriptor(desc)
	if err != nil {
		return "", err
	}
	if d.extentType == "SESPARSE" || d.extentType == "VMFSSPARSE" {
		return "", conflict("%s is a %s delta: no single file holds the bytes (use /disk/image)", desc, d.extentType)
	}
	file, err := h.dataPath(desc)
	if err != nil {
		return "", err
	}
	return file + "\n", nil
}

// ctlDiskImage streams the raw disk as composed from its chain: all of
// it, or length= bytes from offset=.
func (h *harness) ctlDiskImage(w http.ResponseWriter, r *http.Request) {
	fail := func(err error) {
		code := http.StatusInternalServerError
		if he, ok := err.(*httpError); ok {
			code = he.code
		}
		log.Printf("control %s %s: %v", r.Method, r.URL, err)
		http.Error(w, strings.ReplaceAll(err.Error(), "\n", " "), code)
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	vm, err := findVM(r.URL.Query().Get("vm"))
	if err != nil {
		fail(err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	desc, disk, err := diskDesc(vm, r)
	if err != nil {
		fail(err)
		return
	}
	c, err := h.openChain(desc, false)
	if err != nil {
		fail(err)
		return
	}
	defer c.close()
	size := disk.CapacityInBytes
	if size == 0 {
		size = disk.CapacityInKB * 1024
	}
	start, err := intParam(r, "offset", 0)
	if err == nil && (start < 0 || start > size) {
		err = badRequest("offset=%d is outside the %d-byte disk", start, size)
	}
	var length int64
	if err == nil {
		length, err = intParam(r, "length", size-start)
	}
	if err == nil && (length < 0 || length > size-start) {
		err = badRequest("length=%d runs past the end of the %d-byte disk", length, size)
	}
	if err != nil {
		fail(err)
		return
	}
	end := start + length
	buf := make([]byte, 1<<20)
	for off := start; off < end; off += int64(len(buf)) {
		n := int64(len(buf))
		if n > end-off {
			n = end - off
		}
		if err := c.ReadAt(buf[:n], off); err != nil {
			if off == start {
				fail(err)
			} else {
				log.Printf("control /disk/image %s: %v", desc, err) // the short body tells
			}
			return
		}
		if off == start {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return
		}
	}
}

func ctlDatastorePath(r *http.Request) (string, error) {
	name := r.URL.Query().Get("ds")
	for _, e := range Map.All("Datastore") {
		if ds := e.(*Datastore); ds.Name == name {
			return ds.Info.GetDatastoreInfo().Url + "\n", nil
		}
	}
	return "", notFound("no datastore %q", name)
}

// ctlSnapshotCreate calls CreateSnapshot_Task in process, through the same
// createSnapshot hook as SOAP clients.
func (h *harness) ctlSnapshotCreate(vm *VirtualMachine, r *http.Request) (string, error) {
	name := r.URL.Query().Get("name")
	if name == "" {
		return "", badRequest("name= is required")
	}
	var ref types.ManagedObjectReference
	h.mu.Lock()
	defer h.mu.Unlock()
	err := h.createSnapshot(vm, func() error {
		return runTask(r.Context(), &ref, func() (*object.Task, error) {
			return object.NewVirtualMachine(h.client, vm.Self).CreateSnapshot(r.Context(), name, "", false, false)
		})
	})
	if err != nil {
		return "", err
	}
	return ref.Value + "\n", nil
}

func (h *harness) ctlSnapshotRemove(vm *VirtualMachine, r *http.Request) (string, error) {
	snap, err := findSnapshot(vm, r.URL.Query().Get("name"))
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return "", h.removeSnapshot(snap, false, func() error {
		return runTask(r.Context(), nil, func() (*object.Task, error) {
			req := types.RemoveSnapshot_Task{This: snap.Self, Consolidate: types.NewBool(true)}
			res, err := methods.RemoveSnapshot_Task(r.Context(), h.client, &req)
			if err != nil {
				return nil, err
			}
			return object.NewTask(h.client, res.Returnval), nil
		})
	})
}

// runTask starts a task and waits for it, keeping its result in ref.
func runTask(ctx context.Context, ref *types.ManagedObjectReference, start func() (*object.Task, error)) error {
	task, err := start()
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return conflict("%v", err)
	}
	if ref != nil {
		*ref = info.Result.(types.ManagedObjectReference)
	}
	return nil
}

func findSnapshot(vm *VirtualMachine, name string) (*VirtualMachineSnapshot, error) {
	var found *VirtualMachineSnapshot
	walkSnapshots(vm, func(t types.VirtualMachineSnapshotTree) {
		if t.Name == name && found == nil {
			found, _ = Map.Get(t.Snapshot).(*VirtualMachineSnapshot)
		}
	})
	if found == nil {
		return nil, notFound("no snapshot %q", name)
	}
	return found, nil
}

func walkSnapshots(vm *VirtualMachine, f func(types.VirtualMachineSnapshotTree)) {
	var walk func([]types.VirtualMachineSnapshotTree)
	walk = func(list []types.VirtualMachineSnapshotTree) {
		for _, t := range list {
			f(t)
			walk(t.ChildSnapshotList)
		}
	}
	if vm.Snapshot != nil {
		walk(vm.Snapshot.RootSnapshotList)
	}
}

func ctlSnapshots(vm *VirtualMachine, r *http.Request) (string, error) {
	var b strings.Builder
	walkSnapshots(vm, func(t types.VirtualMachineSnapshotTree) {
		fmt.Fprintf(&b, "%s %s\n", t.Snapshot.Value, t.Name)
	})
	return b.String(), nil
}
