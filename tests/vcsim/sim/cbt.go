// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Changed Block Tracking state: per VM a UUID and a sequence number that
// advances at each snapshot; per disk the 64 KiB blocks written in each
// epoch (between two sequence numbers), so no write is ever forgotten.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/vim25/types"
)

const cbtBlock = 64 << 10

type cbtVM struct {
	uuid    string // ESXi style: "52 3c ec 11 9e 2c 4c 3d-87 4a c3 4e 85 f2 ea 95"
	seq     int    // writes now go to this epoch
	written map[int32]map[int]map[int64]bool
}

var cbt = struct {
	sync.Mutex
	vms map[types.ManagedObjectReference]*cbtVM
}{vms: map[types.ManagedObjectReference]*cbtVM{}}

func newCBT() *cbtVM {
	u := uuid.New()
	return &cbtVM{
		uuid:    ddbUUID(strings.ReplaceAll(u.String(), "-", "")),
		seq:     1,
		written: map[int32]map[int]map[int64]bool{},
	}
}

func (c *cbtVM) changeID() string { return fmt.Sprintf("%s/%d", c.uuid, c.seq) }

// cbtChangeID is the VM's current changeId, "" when CBT is off.
func cbtChangeID(vm types.ManagedObjectReference) string {
	cbt.Lock()
	defer cbt.Unlock()
	if c := cbt.vms[vm]; c != nil {
		return c.changeID()
	}
	return ""
}

// cbtSet turns tracking on (keeping existing state) or off; reset starts afresh.
func cbtSet(vm types.ManagedObjectReference, on, reset bool) {
	cbt.Lock()
	defer cbt.Unlock()
	switch {
	case !on:
		delete(cbt.vms, vm)
	case reset || cbt.vms[vm] == nil:
		cbt.vms[vm] = newCBT()
	}
}

// cbtAdvance closes the current epoch (a snapshot is being taken).
func cbtAdvance(vm types.ManagedObjectReference) string {
	cbt.Lock()
	defer cbt.Unlock()
	c := cbt.vms[vm]
	if c == nil {
		return ""
	}
	c.seq++
	return c.changeID()
}

func cbtMark(vm types.ManagedObjectReference, key int32, off, n int64) {
	cbt.Lock()
	defer cbt.Unlock()
	c := cbt.vms[vm]
	if c == nil || n <= 0 {
		return
	}
	if c.written[key] == nil {
		c.written[key] = map[int]map[int64]bool{}
	}
	epoch := c.written[key][c.seq]
	if epoch == nil {
		epoch = map[int64]bool{}
		c.written[key][c.seq] = epoch
	}
	for b := off / cbtBlock; b <= (off+n-1)/cbtBlock; b++ {
		epoch[b] = true
	}
}

// parseChangeID splits "uuid/seq"; ok is false for anything malformed.
func parseChangeID(id string) (string, int, bool) {
	i := strings.LastIndex(id, "/")
	if i < 0 {
		return "", 0, false
	}
	seq, err := strconv.Atoi(id[i+1:])
	return id[:i], seq, err == nil && seq > 0
}

// cbtChangedBlocks lists, sorted, the blocks written from point "since" up
// to point "until" (both changeIds of the current tracking UUID).
func cbtChangedBlocks(vm types.ManagedObjectReference, key int32, since, until string) ([]int64, error) {
	cbt.Lock()
	defer cbt.Unlock()
	c := cbt.vms[vm]
	if c == nil {
		return nil, fmt.Errorf("change tracking is not enabled")
	}
	su, from, ok1 := parseChangeID(since)
	uu, to, ok2 := parseChangeID(until)
	switch {
	case !ok1:
		return nil, fmt.Errorf("malformed changeId %q", since)
	case !ok2 || uu != c.uuid:
		return nil, fmt.Errorf("the snapshot predates the current change tracking")
	case su != c.uuid:
		return nil, fmt.Errorf("changeId %q belongs to another change tracking session (reset)", since)
	case from > to:
		return nil, fmt.Errorf("changeId %q is later than the snapshot", since)
	}
	set := map[int64]bool{}
	for epoch := from; epoch < to; epoch++ {
		for b := range c.written[key][epoch] {
			set[b] = true
		}
	}
	blocks := make([]int64, 0, len(set))
	for b := range set {
		blocks = append(blocks, b)
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i] < blocks[j] })
	return blocks, nil
}

// syncCBT follows config.changeTrackingEnabled and stamps the VM's disk
// backings with the current changeId (or clears it).
func (h *harness) syncCBT(vm *VirtualMachine) {
	Map.WithLock(vm, func() {
		on := vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
		cbtSet(vm.Self, on, false)
		h.stampChangeIDs(vm)
	})
}

// stampChangeIDs runs with the VM locked.
func (h *harness) stampChangeIDs(vm *VirtualMachine) {
	id := cbtChangeID(vm.Self)
	for _, disk := range vmDisks(vm.Config.Hardware.Device) {
		b := flatBacking(disk)
		b.ChangeId = id
		for p := b.Parent; id == "" && p != nil; p = p.Parent {
			p.ChangeId = "" // with CBT off no file of the chain tracks
		}
	}
	Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: vm.Config.Hardware.Device}})
}

// resetCBT is vSphere's "disable, stun, enable": a new UUID, old ids die.
func (h *harness) resetCBT(vm *VirtualMachine) error {
	var err error
	Map.WithLock(vm, func() {
		if cbtChangeID(vm.Self) == "" {
			err = conflict("change tracking is not enabled on the VM")
			return
		}
		cbtSet(vm.Self, true, true)
		h.stampChangeIDs(vm)
	})
	return err
}
