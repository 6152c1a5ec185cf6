package simulator

// The files of a disk on a datastore: the text descriptor ESXi writes and
// the extent holding the bytes. Deltas are full (sparse) copies for now;
// createDelta and mergeChild are the only places that know it.

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

const sectorSize = 512

// diskInfo is what a descriptor says about a disk.
type diskInfo struct {
	sectors    int64
	extentType string // VMFS or VSANSPARSE
	extent     string // file name next to the descriptor, or vsan://UUID
	uuid       string // ddb.uuid, "60 00 C2 ..." form
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// ddbUUID formats 16 bytes as ESXi's ddb.uuid: "60 00 c2 9b ... 1b-8a ...".
func ddbUUID(hex32 string) string {
	var parts []string
	for i := 0; i < 32; i += 2 {
		parts = append(parts, hex32[i:i+2])
	}
	return strings.Join(parts[:8], " ") + "-" + strings.Join(parts[8:], " ")
}

func writeDescriptor(path string, d diskInfo) error {
	cid := randomHex(4)
	createType := "vmfs"
	if d.extentType == "VSANSPARSE" {
		createType = "vsanSparse"
	}
	cylinders := d.sectors/(255*63) + 1
	if cylinders > 65535 {
		cylinders = 65535
	}
	text := fmt.Sprintf(`# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=%s
parentCID=ffffffff
createType="%s"

# Extent description
RW %d %s "%s"

# The Disk Data Base
#DDB

ddb.adapterType = "lsilogic"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "255"
ddb.geometry.sectors = "63"
ddb.longContentID = "%s%s"
ddb.thinProvisioned = "1"
ddb.uuid = "%s"
ddb.virtualHWVersion = "13"
`, cid, createType, d.sectors, d.extentType, d.extent, cylinders, randomHex(12), cid, d.uuid)
	return os.WriteFile(path, []byte(text), 0o644)
}

var extentLine = regexp.MustCompile(`^RW (\d+) (\S+) "([^"]+)"`)

func readDescriptor(path string) (diskInfo, error) {
	var d diskInfo
	f, err := os.Open(path)
	if err != nil {
		return d, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := extentLine.FindStringSubmatch(line); m != nil {
			d.sectors, _ = strconv.ParseInt(m[1], 10, 64)
			d.extentType, d.extent = m[2], m[3]
		}
		if strings.HasPrefix(line, "ddb.uuid = ") {
			d.uuid = strings.Trim(strings.TrimPrefix(line, "ddb.uuid = "), `"`)
		}
	}
	if d.extent == "" {
		return d, fmt.Errorf("%s: no extent line", path)
	}
	return d, sc.Err()
}

// dataPath is the local file holding the bytes of the disk described at desc.
func (h *harness) dataPath(desc string) (string, error) {
	d, err := readDescriptor(desc)
	if err != nil {
		return "", err
	}
	if id := strings.TrimPrefix(d.extent, "vsan://"); id != d.extent {
		return filepath.Join(h.vsanDir, id), nil
	}
	return filepath.Join(filepath.Dir(desc), d.extent), nil
}

// createDisk writes descriptor and extent; image (may be "") is copied sparsely.
func (h *harness) createDisk(desc string, capacity int64, image string, vsan bool, uuidHex string) error {
	d := diskInfo{sectors: capacity / sectorSize, extentType: "VMFS", uuid: ddbUUID(uuidHex)}
	data := strings.TrimSuffix(desc, ".vmdk") + "-flat.vmdk"
	d.extent = filepath.Base(data)
	if vsan {
		id := uuidHex
		d.extentType, d.extent = "VSANSPARSE", "vsan://"+id
		data = filepath.Join(h.vsanDir, id)
	}
	if err := os.MkdirAll(filepath.Dir(desc), 0o755); err != nil {
		return err
	}
	if err := writeDescriptor(desc, d); err != nil {
		return err
	}
	return copySparseFile(data, image, capacity)
}

// copySparseFile makes dst a capacity-byte file with src's non-zero blocks.
func copySparseFile(dst, src string, capacity int64) error {
	out, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	if src != "" {
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		if err := copyDataBlocks(out, in); err != nil {
			return err
		}
	}
	if err := out.Truncate(capacity); err != nil {
		return err
	}
	return out.Close()
}

const (
	seekData = 3 // SEEK_DATA/SEEK_HOLE: skip holes without reading them
	seekHole = 4
)

// copyDataBlocks writes every non-zero 64 KiB block of in at the same
// offset in out, so 1 GiB mostly empty disks stay cheap.
func copyDataBlocks(out, in *os.File) error {
	buf := make([]byte, cbtBlock)
	var off int64
	for {
		start, err := in.Seek(off, seekData)
		if err != nil {
			return nil // ENXIO: no data past off
		}
		end, err := in.Seek(start, seekHole)
		if err != nil {
			return err
		}
		for pos := start &^ (cbtBlock - 1); pos < end; pos += cbtBlock {
			n, err := in.ReadAt(buf, pos)
			if err != nil && err != io.EOF {
				return err
			}
			if !allZero(buf[:n]) {
				if _, err := out.WriteAt(buf[:n], pos); err != nil {
					return err
				}
			}
		}
		off = end
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var deltaSuffix = regexp.MustCompile(`-\d{6}$`)

// createDelta gives the disk described at parent a child x-00000N.vmdk in
// the same directory, holding (for now) a full copy, and returns its path.
func (h *harness) createDelta(parent string) (string, error) {
	pd, err := readDescriptor(parent)
	if err != nil {
		return "", err
	}
	from, err := h.dataPath(parent)
	if err != nil {
		return "", err
	}
	base := deltaSuffix.ReplaceAllString(strings.TrimSuffix(parent, ".vmdk"), "")
	for n := 1; n < 1000000; n++ {
		child := fmt.Sprintf("%s-%06d.vmdk", base, n)
		if _, err := os.Stat(child); err == nil {
			continue
		}
		d := diskInfo{sectors: pd.sectors, extentType: pd.extentType, uuid: pd.uuid}
		data := strings.TrimSuffix(child, ".vmdk") + "-flat.vmdk"
		d.extent = filepath.Base(data)
		if pd.extentType == "VSANSPARSE" {
			id := randomHex(16)
			d.extent, data = "vsan://"+id, filepath.Join(h.vsanDir, id)
		}
		if err := writeDescriptor(child, d); err != nil {
			return "", err
		}
		return child, copySparseFile(data, from, pd.sectors*sectorSize)
	}
	return "", fmt.Errorf("%s: no free delta name", parent)
}

// mergeChild folds child's content into parent and deletes child's files.
func (h *harness) mergeChild(parent, child string) error {
	pdata, err := h.dataPath(parent)
	if err != nil {
		return err
	}
	cdata, err := h.dataPath(child)
	if err != nil {
		return err
	}
	if err := os.Rename(cdata, pdata); err != nil {
		return err
	}
	return os.Remove(child)
}
