// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Real snapshot deltas as ESXi writes them: seSparse (VMFS6) and
// vmfsSparse/COWD (VMFS5), beside the full-copy deltas of the "copy"
// format. This file holds the binary layouts, a reader for a chain of
// descriptors (the harness's own oracle, independent of the C code), guest
// writes with copy-on-write grains, and consolidation of a delta into its
// parent. Layouts follow qemu's block/vmdk.c, which must read them.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/vmware/govmomi/vim25/types"
)

// Delta formats: the knob, flag and /vm/create?delta= values.
const (
	deltaCopy       = "copy"
	deltaSeSparse   = "sesparse"
	deltaVmfsSparse = "vmfssparse"
)

func checkDeltaFormat(s string) error {
	switch s {
	case deltaCopy, deltaSeSparse, deltaVmfsSparse:
		return nil
	}
	return fmt.Errorf("delta format %q: want copy, sesparse or vmfssparse", s)
}

// Per-VM overrides of the delta_format knob (/vm/create?delta=, /vm/delta).
var vmDeltaFormats = struct {
	sync.Mutex
	m map[types.ManagedObjectReference]string
}{m: map[types.ManagedObjectReference]string{}}

func setVMDeltaFormat(vm types.ManagedObjectReference, format string) {
	vmDeltaFormats.Lock()
	defer vmDeltaFormats.Unlock()
	if format == "" {
		delete(vmDeltaFormats.m, vm)
	} else {
		vmDeltaFormats.m[vm] = format
	}
}

// deltaFormatFor is the format of the VM's next deltas over flat disks.
func deltaFormatFor(vm types.ManagedObjectReference) string {
	vmDeltaFormats.Lock()
	f := vmDeltaFormats.m[vm]
	vmDeltaFormats.Unlock()
	if f == "" {
		f = effectiveDeltaFormat(currentKnobs().DeltaFormat)
	}
	return f
}

// ---- seSparse layout ----

const (
	seConstMagic    = 0xcafebabe
	seVolatileMagic = 0xcafecafe
	seVersion       = 0x0000000200000001
	seGrainSectors  = 8
	seGTSectors     = 64   // one grain table: 4096 u64 entries
	seGTEntries     = 4096 // grains per grain table
	seAlign         = 2048 // sections start on 1 MiB boundaries
	seGDAllocated   = 0x1000000000000000
	seGrainUnmapped = 0x1000000000000000
	seGrainZero     = 0x2000000000000000
	seGrainData     = 0x3000000000000000
)

// seHeader holds the 26 u64 fields of the constant header (sector 0).
type seHeader struct {
	Magic, Version, Capacity, GrainSize, GrainTableSize, Flags uint64
	Reserved                                                   [4]uint64
	VolatileOff, VolatileSize                                  uint64
	JournalHdrOff, JournalHdrSize                              uint64
	JournalOff, JournalSize                                    uint64
	GDOff, GDSize                                              uint64
	GTsOff, GTsSize                                            uint64
	FreeBitmapOff, FreeBitmapSize                              uint64
	BackmapOff, BackmapSize                                    uint64
	GrainsOff, GrainsSize                                      uint64
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

func ceilDiv(n, d int64) int64 { return (n + d - 1) / d }

// newSeHeader lays out a seSparse extent for a disk of capacity sectors.
func newSeHeader(capacity uint64) seHeader {
	grains := alignUp(capacity, seGrainSectors) / seGrainSectors
	tables := alignUp(grains, seGTEntries) / seGTEntries
	h := seHeader{Magic: seConstMagic, Version: seVersion, Capacity: capacity,
		GrainSize: seGrainSectors, GrainTableSize: seGTSectors}
	h.VolatileOff, h.VolatileSize = 1, 1
	h.JournalHdrOff, h.JournalHdrSize = 2, 2
	h.JournalOff, h.JournalSize = seAlign, seAlign
	next := h.JournalOff + h.JournalSize
	place := func(off, size *uint64, sectors uint64) {
		*off, *size = next, alignUp(sectors, seAlign)
		next += *size
	}
	place(&h.GDOff, &h.GDSize, alignUp(tables*8, sectorSize)/sectorSize)
	place(&h.GTsOff, &h.GTsSize, tables*seGTSectors)
	place(&h.FreeBitmapOff, &h.FreeBitmapSize, alignUp(alignUp(grains, 8)/8, sectorSize)/sectorSize)
	place(&h.BackmapOff, &h.BackmapSize, alignUp(grains*8, sectorSize)/sectorSize)
	h.GrainsOff, h.GrainsSize = next, grains*seGrainSectors
	return h
}

// createSeSparse writes an empty seSparse extent (nothing allocated).
func createSeSparse(path string, sectors int64) error {
	hd := newSeHeader(uint64(sectors))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, sectorSize)
	putU64s(buf, hd.fields())
	if _, err := f.WriteAt(buf, 0); err != nil {
		return err
	}
	// Volatile header: magic, free_gt_number (next grain table to hand
	// out), next_txn_seq_number, replay_journal = 0 (clean).
	vol := make([]byte, sectorSize)
	putU64s(vol, []uint64{seVolatileMagic, 0, 1, 0})
	if _, err := f.WriteAt(vol, int64(hd.VolatileOff)*sectorSize); err != nil {
		return err
	}
	if err := f.Truncate(int64(hd.GrainsOff) * sectorSize); err != nil {
		return err
	}
	return f.Close()
}

func (h *seHeader) fields() []uint64 {
	return []uint64{h.Magic, h.Version, h.Capacity, h.GrainSize, h.GrainTableSize, h.Flags,
		h.Reserved[0], h.Reserved[1], h.Reserved[2], h.Reserved[3],
		h.VolatileOff, h.VolatileSize, h.JournalHdrOff, h.JournalHdrSize,
		h.JournalOff, h.JournalSize, h.GDOff, h.GDSize, h.GTsOff, h.GTsSize,
		h.FreeBitmapOff, h.FreeBitmapSize, h.BackmapOff, h.BackmapSize,
		h.GrainsOff, h.GrainsSize}
}

func putU64s(b []byte, v []uint64) {
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
}

// seEntry encodes an allocated grain: cluster bits 0-11 go to bits 48-59,
// the rest to bits 0-47 (qemu decodes the reverse).
func seEntry(cluster uint64) uint64 {
	return seGrainData | (cluster&0xfff)<<48 | cluster>>12
}

func seCluster(t uint64) uint64 {
	return (t&0x0fff000000000000)>>48 | (t&0x0000ffffffffffff)<<12
}

// ---- vmfsSparse (COWD) layout ----

const (
	cowdHeaderSize = 2048
	cowdGDOffset   = 4 // sectors
	cowdGTEntries  = 4096
	cowdGTSectors  = cowdGTEntries * 4 / sectorSize
	cowdParentOff  = 32 // parentFileName[1024]
)

// createCOWD writes an empty vmfsSparse extent whose parent is parentName.
func createCOWD(path string, sectors int64, parentName string) error {
	if sectors >= 1<<32 {
		return fmt.Errorf("vmfsSparse cannot hold %d sectors (2 TiB limit)", sectors)
	}
	gdEntries := ceilDiv(sectors, cowdGTEntries)
	gdSectors := ceilDiv(gdEntries*4, sectorSize)
	hdr := make([]byte, cowdHeaderSize)
	copy(hdr, "COWD")
	le := binary.LittleEndian
	le.PutUint32(hdr[4:], 1)                               // version
	le.PutUint32(hdr[8:], 3)                               // flags
	le.PutUint32(hdr[12:], uint32(sectors))                // numSectors
	le.PutUint32(hdr[16:], 1)                              // grainSize (sectors)
	le.PutUint32(hdr[20:], cowdGDOffset)                   // gdOffset
	le.PutUint32(hdr[24:], uint32(gdEntries))              // numGDEntries
	le.PutUint32(hdr[28:], uint32(cowdGDOffset+gdSectors)) // freeSector
	setCOWDParent(hdr, parentName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return err
	}
	if err := f.Truncate((cowdGDOffset + gdSectors) * sectorSize); err != nil {
		return err
	}
	return f.Close()
}

func setCOWDParent(hdr []byte, name string) {
	field := hdr[cowdParentOff : cowdParentOff+1024]
	for i := range field {
		field[i] = 0
	}
	copy(field[:1023], name)
}

// ---- chain reader ----

type grainState int

const (
	grainUnalloc grainState = iota // read the parent (zeros at the end)
	grainZero                      // zeros, whatever the parent holds
	grainData
)

// layer is one descriptor of a chain, opened.
type layer struct {
	desc     string
	info     diskInfo
	f        *os.File
	kind     string // "flat", "sesparse", "cowd"
	parent   *layer
	capacity int64 // bytes

	grain   int64    // bytes per grain
	perGT   int64    // grains per grain table
	gd      []uint64 // grain directory
	gdOff   int64    // bytes
	gts     map[int64][]uint64
	se      seHeader
	cowdHdr []byte
}

func (h *harness) openLayer(desc string, write bool) (*layer, error) {
	info, err := readDescriptor(desc)
	if err != nil {
		return nil, err
	}
	data, err := h.dataPath(desc)
	if err != nil {
		return nil, err
	}
	mode := os.O_RDONLY
	if write {
		mode = os.O_RDWR
	}
	f, err := os.OpenFile(data, mode, 0)
	if err != nil {
		return nil, err
	}
	l := &layer{desc: desc, info: info, f: f, capacity: info.sectors * sectorSize, gts: map[int64][]uint64{}}
	switch info.extentType {
	case "SESPARSE":
		err = l.loadSeSparse()
	case "VMFSSPARSE":
		err = l.loadCOWD()
	default:
		l.kind = "flat"
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", data, err)
	}
	return l, nil
}

func (l *layer) loadSeSparse() error {
	l.kind = "sesparse"
	buf := make([]byte, sectorSize)
	if _, err := l.f.ReadAt(buf, 0); err != nil {
		return err
	}
	var v [26]uint64
	for i := range v {
		v[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	hd := seHeader{Magic: v[0], Version: v[1], Capacity: v[2], GrainSize: v[3], GrainTableSize: v[4], Flags: v[5],
		VolatileOff: v[10], VolatileSize: v[11], JournalHdrOff: v[12], JournalHdrSize: v[13],
		JournalOff: v[14], JournalSize: v[15], GDOff: v[16], GDSize: v[17], GTsOff: v[18], GTsSize: v[19],
		FreeBitmapOff: v[20], FreeBitmapSize: v[21], BackmapOff: v[22], BackmapSize: v[23],
		GrainsOff: v[24], GrainsSize: v[25]}
	if hd.Magic != seConstMagic || hd.Version != seVersion || hd.GrainSize != seGrainSectors || hd.GrainTableSize != seGTSectors {
		return fmt.Errorf("not a seSparse extent this harness wrote")
	}
	l.se = hd
	l.grain = seGrainSectors * sectorSize
	l.perGT = seGTEntries
	l.gdOff = int64(hd.GDOff) * sectorSize
	n := ceilDiv(ceilDiv(int64(hd.Capacity), seGrainSectors), seGTEntries)
	raw := make([]byte, n*8)
	if _, err := l.f.ReadAt(raw, l.gdOff); err != nil {
		return err
	}
	l.gd = make([]uint64, n)
	for i := range l.gd {
		l.gd[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return nil
}

func (l *layer) loadCOWD() error {
	l.kind = "cowd"
	l.cowdHdr = make([]byte, cowdHeaderSize)
	if _, err := l.f.ReadAt(l.cowdHdr, 0); err != nil {
		return err
	}
	le := binary.LittleEndian
	if string(l.cowdHdr[:4]) != "COWD" || le.Uint32(l.cowdHdr[16:]) != 1 {
		return fmt.Errorf("not a COWD extent this harness wrote")
	}
	l.grain = sectorSize
	l.perGT = cowdGTEntries
	l.gdOff = int64(le.Uint32(l.cowdHdr[20:])) * sectorSize
	n := int64(le.Uint32(l.cowdHdr[24:]))
	raw := make([]byte, n*4)
	if _, err := l.f.ReadAt(raw, l.gdOff); err != nil {
		return err
	}
	l.gd = make([]uint64, n)
	for i := range l.gd {
		l.gd[i] = uint64(le.Uint32(raw[4*i:]))
	}
	return nil
}

// openChain opens desc and, through parentFileNameHint, every parent.
func (h *harness) openChain(desc string, writeTop bool) (*layer, error) {
	top, err := h.openLayer(desc, writeTop)
	if err != nil {
		return nil, err
	}
	l := top
	for depth := 0; l.info.parentHint != "" && l.info.parentCID != "ffffffff"; depth++ {
		if depth > 64 {
			top.close()
			return nil, fmt.Errorf("%s: chain too long", desc)
		}
		p := l.info.parentHint
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(l.desc), p)
		}
		if l.parent, err = h.openLayer(p, false); err != nil {
			top.close()
			return nil, err
		}
		if l.parent.info.cid != l.info.parentCID {
			top.close()
			return nil, fmt.Errorf("%s: parentCID %s but %s has CID %s", l.desc, l.info.parentCID, p, l.parent.info.cid)
		}
		l = l.parent
	}
	return top, nil
}

func (l *layer) close() {
	for ; l != nil; l = l.parent {
		l.f.Close()
	}
}

// gt loads grain table i (whose directory entry is allocated).
func (l *layer) gt(i int64) ([]uint64, error) {
	if t := l.gts[i]; t != nil {
		return t, nil
	}
	var off, size int64
	e := l.gd[i]
	if l.kind == "sesparse" {
		if e&0xffffffff00000000 != seGDAllocated {
			return nil, fmt.Errorf("grain directory entry %d is %#x", i, e)
		}
		off, size = (int64(l.se.GTsOff)+int64(e&0xffffffff)*seGTSectors)*sectorSize, 8
	} else {
		off, size = int64(e)*sectorSize, 4
	}
	raw := make([]byte, l.perGT*size)
	if _, err := l.f.ReadAt(raw, off); err != nil && err != io.EOF {
		return nil, err
	}
	t := make([]uint64, l.perGT)
	for j := range t {
		if size == 8 {
			t[j] = binary.LittleEndian.Uint64(raw[8*j:])
		} else {
			t[j] = uint64(binary.LittleEndian.Uint32(raw[4*j:]))
		}
	}
	l.gts[i] = t
	return t, nil
}

// lookup says where grain g lives; for grainData, at byte off of the file.
// run is how many bytes from the grain's start share the answer when the
// whole grain table is unallocated (else one grain).
func (l *layer) lookup(g int64) (st grainState, off int64, run int64, err error) {
	i := g / l.perGT
	if i >= int64(len(l.gd)) {
		return 0, 0, 0, fmt.Errorf("grain %d is past the grain directory", g)
	}
	if l.gd[i] == 0 {
		return grainUnalloc, 0, ((i+1)*l.perGT - g) * l.grain, nil
	}
	t, err := l.gt(i)
	if err != nil {
		return 0, 0, 0, err
	}
	e := t[g%l.perGT]
	if l.kind == "cowd" {
		if e == 0 {
			return grainUnalloc, 0, l.grain, nil
		}
		return grainData, int64(e) * sectorSize, l.grain, nil
	}
	switch e >> 60 {
	case 0:
		if e != 0 {
			return 0, 0, 0, fmt.Errorf("bad grain table entry %#x", e)
		}
		return grainUnalloc, 0, l.grain, nil
	case 1, 2:
		return grainZero, 0, l.grain, nil
	case 3:
		return grainData, (int64(l.se.GrainsOff) + int64(seCluster(e))*seGrainSectors) * sectorSize, l.grain, nil
	}
	return 0, 0, 0, fmt.Errorf("bad grain table entry %#x", e)
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

func readFull(f *os.File, p []byte, off int64) error {
	n, err := f.ReadAt(p, off)
	if err == io.EOF {
		zero(p[n:]) // sparse files may end early
		return nil
	}
	return err
}

// ReadAt reads the disk as composed from the chain; past the capacity
// reads zeros.
func (l *layer) ReadAt(p []byte, off int64) error {
	for len(p) > 0 {
		if off >= l.capacity {
			zero(p)
			return nil
		}
		n := int64(len(p))
		if n > l.capacity-off {
			n = l.capacity - off
		}
		if l.kind == "flat" {
			if err := readFull(l.f, p[:n], off); err != nil {
				return err
			}
		} else {
			g := off / l.grain
			st, foff, run, err := l.lookup(g)
			if err != nil {
				return err
			}
			in := off - g*l.grain
			if n > run-in {
				n = run - in
			}
			switch {
			case st == grainData:
				err = readFull(l.f, p[:n], foff+in)
			case st == grainUnalloc && l.parent != nil:
				err = l.parent.ReadAt(p[:n], off)
			default:
				zero(p[:n])
			}
			if err != nil {
				return err
			}
		}
		p, off = p[n:], off+n
	}
	return nil
}

// nextData is the first offset in [off, end) where a layer of the chain
// holds data, or end: holes of flat files are skipped with SEEK_DATA,
// unallocated grain tables and zero grains without reading them, so that
// a few grains of a 4 TiB chain are found at once.
func (l *layer) nextData(off, end int64) (int64, error) {
	if end > l.capacity {
		end = l.capacity
	}
	if l.kind == "flat" {
		d, err := l.f.Seek(off, seekData)
		switch {
		case errors.Is(err, syscall.ENXIO) || (err == nil && d >= end):
			return end, nil // no data left before end
		case err != nil:
			return 0, err
		}
		return d, nil
	}
	for off < end {
		g := off / l.grain
		st, _, run, err := l.lookup(g)
		if err != nil {
			return 0, err
		}
		next := min64(g*l.grain+run, end)
		switch st {
		case grainData:
			return off, nil
		case grainUnalloc:
			// The parent answers once for all the unallocated grains here.
			for next < end {
				st, _, run, err := l.lookup(next / l.grain)
				if err != nil {
					return 0, err
				}
				if st != grainUnalloc {
					break
				}
				next = min64(next+run, end)
			}
			if l.parent != nil {
				if d, err := l.parent.nextData(off, next); err != nil || d < next {
					return d, err
				}
			}
		}
		off = next
	}
	return end, nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// nonZeroBlocks lists the 64 KiB blocks meeting [start, end) of the disk
// described at desc that hold a non-zero byte.  Only blocks where some
// layer holds data are read.
func (h *harness) nonZeroBlocks(desc string, start, end int64) ([]int64, error) {
	c, err := h.openChain(desc, false)
	if err != nil {
		return nil, err
	}
	defer c.close()
	buf := make([]byte, cbtBlock)
	var blocks []int64
	for off := start &^ (cbtBlock - 1); off < end; off += cbtBlock {
		d, err := c.nextData(off, end)
		if err != nil {
			return nil, err
		}
		if d >= end {
			break
		}
		off = d &^ (cbtBlock - 1)
		if err := c.ReadAt(buf, off); err != nil {
			return nil, err
		}
		if !allZero(buf) {
			blocks = append(blocks, off/cbtBlock)
		}
	}
	return blocks, nil
}

// ---- writes into a sparse top layer ----

func (l *layer) fileSize() (int64, error) {
	fi, err := l.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// allocGT gives grain table i space and a directory entry.
func (l *layer) allocGT(i int64) error {
	le := binary.LittleEndian
	if l.kind == "sesparse" {
		volOff := int64(l.se.VolatileOff) * sectorSize
		b := make([]byte, 8)
		if _, err := l.f.ReadAt(b, volOff+8); err != nil {
			return err
		}
		idx := le.Uint64(b)
		if (idx+1)*seGTSectors > l.se.GTsSize {
			return fmt.Errorf("no room for grain table %d", idx)
		}
		le.PutUint64(b, idx+1)
		if _, err := l.f.WriteAt(b, volOff+8); err != nil {
			return err
		}
		// The table area is reserved at creation and still zero.
		l.gd[i] = seGDAllocated | idx
		le.PutUint64(b, l.gd[i])
		_, err := l.f.WriteAt(b, l.gdOff+i*8)
		return err
	}
	sector, err := l.cowdAlloc(cowdGTSectors)
	if err != nil {
		return err
	}
	if _, err := l.f.WriteAt(make([]byte, cowdGTSectors*sectorSize), sector*sectorSize); err != nil {
		return err
	}
	l.gd[i] = uint64(sector)
	b := make([]byte, 4)
	le.PutUint32(b, uint32(sector))
	_, err = l.f.WriteAt(b, l.gdOff+i*4)
	return err
}

// cowdAlloc hands out n sectors at freeSector.
func (l *layer) cowdAlloc(n int64) (int64, error) {
	le := binary.LittleEndian
	sector := int64(le.Uint32(l.cowdHdr[28:]))
	if sector+n >= 1<<32 {
		return 0, fmt.Errorf("COWD extent full")
	}
	le.PutUint32(l.cowdHdr[28:], uint32(sector+n))
	_, err := l.f.WriteAt(l.cowdHdr[28:32], 28)
	return sector, err
}

// setEntry stores grain table entry e for grain g.
func (l *layer) setEntry(g int64, e uint64) error {
	i := g / l.perGT
	if l.gd[i] == 0 {
		if err := l.allocGT(i); err != nil {
			return err
		}
	}
	t, err := l.gt(i)
	if err != nil {
		return err
	}
	t[g%l.perGT] = e
	var b []byte
	var off int64
	if l.kind == "sesparse" {
		b = make([]byte, 8)
		binary.LittleEndian.PutUint64(b, e)
		off = (int64(l.se.GTsOff)+int64(l.gd[i]&0xffffffff)*seGTSectors)*sectorSize + (g%l.perGT)*8
	} else {
		b = make([]byte, 4)
		binary.LittleEndian.PutUint32(b, uint32(e))
		off = int64(l.gd[i])*sectorSize + (g%l.perGT)*4
	}
	_, err = l.f.WriteAt(b, off)
	return err
}

// allocGrain appends a grain holding data and points grain g at it.
func (l *layer) allocGrain(g int64, data []byte) error {
	var off int64
	var e uint64
	if l.kind == "sesparse" {
		size, err := l.fileSize()
		if err != nil {
			return err
		}
		base := int64(l.se.GrainsOff) * sectorSize
		cluster := int64(0)
		if size > base {
			cluster = ceilDiv(size-base, l.grain)
		}
		off, e = base+cluster*l.grain, seEntry(uint64(cluster))
	} else {
		sector, err := l.cowdAlloc(1)
		if err != nil {
			return err
		}
		off, e = sector*sectorSize, uint64(sector)
	}
	if _, err := l.f.WriteAt(data, off); err != nil {
		return err
	}
	return l.setEntry(g, e)
}

// zeroMode values of /disk/write?zero=: whole zero grains of a seSparse
// delta become zero (2) or unmapped (1) entries instead of data.
const (
	zeroNone  = ""
	zeroGrain = "zero"
	zeroUnmap = "unmap"
)

// write is a guest write into the top layer, copy-on-write per grain.
func (l *layer) write(data []byte, off int64, zeroMode string) error {
	if l.kind == "flat" {
		_, err := l.f.WriteAt(data, off)
		return err
	}
	for len(data) > 0 {
		g := off / l.grain
		in := off - g*l.grain
		n := l.grain - in
		if n > int64(len(data)) {
			n = int64(len(data))
		}
		chunk := data[:n]
		whole := n == l.grain || (in == 0 && off+n == l.capacity)
		st, foff, _, err := l.lookup(g)
		if err != nil {
			return err
		}
		switch {
		case zeroMode != zeroNone && l.kind == "sesparse" && whole && allZero(chunk):
			e := uint64(seGrainZero)
			if zeroMode == zeroUnmap {
				e = seGrainUnmapped
			}
			err = l.setEntry(g, e)
		case st == grainData:
			_, err = l.f.WriteAt(chunk, foff+in)
		default:
			buf := make([]byte, l.grain)
			if !whole && st == grainUnalloc && l.parent != nil {
				err = l.parent.ReadAt(buf, g*l.grain)
			}
			if err == nil {
				copy(buf[in:], chunk)
				err = l.allocGrain(g, buf)
			}
		}
		if err != nil {
			return err
		}
		data, off = data[n:], off+n
	}
	return nil
}

// mergeInto folds the sparse layer c into its parent p: allocated grains
// are written into p, zero grains zero p there.
func (c *layer) mergeInto(p *layer) error {
	if p.kind != "flat" && p.kind != c.kind {
		return fmt.Errorf("cannot merge a %s delta into a %s one", c.kind, p.kind)
	}
	buf := make([]byte, c.grain)
	for i, e := range c.gd {
		if e == 0 {
			continue
		}
		t, err := c.gt(int64(i))
		if err != nil {
			return err
		}
		for j := range t {
			g := int64(i)*c.perGT + int64(j)
			if g*c.grain >= c.capacity {
				break
			}
			st, foff, _, err := c.lookup(g)
			if err != nil {
				return err
			}
			n := c.grain
			if g*c.grain+n > c.capacity {
				n = c.capacity - g*c.grain
			}
			switch st {
			case grainUnalloc:
				continue
			case grainData:
				if err := readFull(c.f, buf[:n], foff); err != nil {
					return err
				}
				err = p.write(buf[:n], g*c.grain, zeroNone)
			case grainZero:
				if p.kind == "flat" {
					zero(buf)
					err = p.write(buf[:n], g*c.grain, zeroNone)
				} else {
					err = p.setEntry(g, t[j])
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// deltaExtentName is the extent file of a delta descriptor x-00000N.vmdk.
func deltaExtentName(desc, format string) string {
	suffix := map[string]string{deltaSeSparse: "-sesparse.vmdk", deltaVmfsSparse: "-delta.vmdk"}[format]
	return strings.TrimSuffix(desc, ".vmdk") + suffix
}

// createSparseDelta writes child (descriptor and extent) over parent.
func createSparseDelta(parent, child string, pd diskInfo, format string) error {
	extent := deltaExtentName(child, format)
	d := diskInfo{sectors: pd.sectors, uuid: pd.uuid, extent: filepath.Base(extent),
		parentCID: pd.cid, parentHint: filepath.Base(parent), encrypted: pd.encrypted}
	var err error
	if format == deltaSeSparse {
		d.extentType = "SESPARSE"
		err = createSeSparse(extent, pd.sectors)
	} else {
		d.extentType = "VMFSSPARSE"
		err = createCOWD(extent, pd.sectors, filepath.Base(parent))
	}
	if err != nil {
		return err
	}
	if err := writeDescriptor(child, d); err != nil {
		os.Remove(extent)
		return err
	}
	return nil
}

// repointChildren makes every delta descriptor next to parent that named
// oldName as its parent name parent instead, with parent's CID.
func repointChildren(parent, oldName string) error {
	pd, err := readDescriptor(parent)
	if err != nil {
		return err
	}
	dir := filepath.Dir(parent)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, ent := range entries {
		if !strings.HasSuffix(ent.Name(), ".vmdk") {
			continue
		}
		p := filepath.Join(dir, ent.Name())
		if fi, err := ent.Info(); err != nil || fi.Size() > 64<<10 || !fi.Mode().IsRegular() {
			continue
		}
		d, err := readDescriptor(p)
		if err != nil || d.parentHint != oldName {
			continue
		}
		d.parentHint, d.parentCID = filepath.Base(parent), pd.cid
		if err := writeDescriptor(p, d); err != nil {
			return err
		}
		if d.extentType == "VMFSSPARSE" {
			if err := setCOWDParentFile(filepath.Join(dir, d.extent), d.parentHint); err != nil {
				return err
			}
		}
	}
	return nil
}

func setCOWDParentFile(path, name string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := make([]byte, cowdHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return err
	}
	setCOWDParent(hdr, name)
	if _, err := f.WriteAt(hdr[cowdParentOff:cowdParentOff+1024], cowdParentOff); err != nil {
		return err
	}
	return f.Close()
}

// deltaBackingFields are the backing properties ESXi reports for a delta
// of the given extent type ("" for flat files and copies).
func deltaBackingFields(extentType string) (format string, grainKB int32, variant string) {
	switch extentType {
	case "SESPARSE":
		return string(types.VirtualDiskDeltaDiskFormatSeSparseFormat), 4, ""
	case "VMFSSPARSE":
		return string(types.VirtualDiskDeltaDiskFormatRedoLogFormat), 0,
			string(types.VirtualDiskDeltaDiskFormatVariantVmfsSparseVariant)
	}
	return "", 0, ""
}
