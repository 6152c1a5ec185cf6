// SPDX-License-Identifier: BSD-3-Clause

package simulator

// The files of a disk on a datastore: the text descriptor ESXi writes and
// the extent holding the bytes. Deltas are full (sparse) copies in the
// "copy" format, else seSparse or vmfsSparse extents (deltas.go);
// createDelta and mergeChild choose.

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
	extentType string // VMFS, VSANSPARSE, SESPARSE or VMFSSPARSE
	extent     string // file name next to the descriptor, or vsan://UUID
	uuid       string // ddb.uuid, "60 00 C2 ..." form
	cid        string // 8 hex digits; random when empty
	parentCID  string // "ffffffff" (or empty) for none
	parentHint string // parentFileNameHint, relative to the descriptor
	encrypted  bool   // VM Encryption: its extent is served as ciphertext
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

var createTypes = map[string]string{
	"VMFS":       "vmfs",
	"VSANSPARSE": "vsanSparse",
	"SESPARSE":   "seSparse",
	"VMFSSPARSE": "vmfsSparse",
}

func writeDescriptor(path string, d diskInfo) error {
	cid := d.cid
	if cid == "" {
		cid = randomHex(4)
	}
	parentCID, parentHint := d.parentCID, ""
	if parentCID == "" {
		parentCID = "ffffffff"
	}
	if d.parentHint != "" {
		parentHint = fmt.Sprintf("parentFileNameHint=\"%s\"\n", d.parentHint)
	}
	createType := createTypes[d.extentType]
	grain := ""
	if d.extentType == "SESPARSE" {
		grain = "ddb.grain = \"8\"\n"
	}
	crypt := ""
	if d.encrypted {
		crypt = "ddb.iofilters = \"vmwarevmcrypt\"\n" +
			"encryption.data = \"" + randomHex(32) + "\"\n" +
			"encryption.keySafe = \"vmware:key/list/(pair/(fqid/<VMWARE-NULL>/" +
			simKeyProvider + "/" + simKeyID + ",HMAC-SHA-256," + randomHex(16) + "))\"\n"
	}
	cylinders := d.sectors/(255*63) + 1
	if cylinders > 65535 {
		cylinders = 65535
	}
	text := fmt.Sprintf(`# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=%s
parentCID=%s
createType="%s"
%s
# Extent description
RW %d %s "%s"

# The Disk Data Base
#DDB

ddb.adapterType = "lsilogic"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "255"
ddb.geometry.sectors = "63"
%sddb.longContentID = "%s%s"
ddb.thinProvisioned = "1"
ddb.uuid = "%s"
ddb.virtualHWVersion = "13"
%s`, cid, parentCID, createType, parentHint, d.sectors, d.extentType, d.extent, cylinders, grain, randomHex(12), cid, d.uuid, crypt)
	if d.encrypted && !strings.HasPrefix(d.extent, "vsan://") {
		markEncrypted(filepath.Join(filepath.Dir(path), d.extent))
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

var (
	extentLine = regexp.MustCompile(`^RW (\d+) (\S+) "([^"]+)"`)
	headerLine = regexp.MustCompile(`^(CID|parentCID|parentFileNameHint)="?([^"]*)"?$`)
)

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
		if m := headerLine.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "CID":
				d.cid = m[2]
			case "parentCID":
				d.parentCID = m[2]
			case "parentFileNameHint":
				d.parentHint = m[2]
			}
		}
		if strings.HasPrefix(line, "encryption.keySafe = ") {
			d.encrypted = true
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
func (h *harness) createDisk(desc string, capacity int64, image string, vsan, encrypted bool, uuidHex string) error {
	d := diskInfo{sectors: capacity / sectorSize, extentType: "VMFS", uuid: ddbUUID(uuidHex), encrypted: encrypted}
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
// the same directory and returns its path. Over a seSparse or vmfsSparse
// delta the child has the same format (ESXi keeps one format per chain);
// over a flat file (base disk or copy) it has format; vsan disks always
// get copies.
func (h *harness) createDelta(parent, format string) (string, error) {
	pd, err := readDescriptor(parent)
	if err != nil {
		return "", err
	}
	switch pd.extentType {
	case "SESPARSE":
		format = deltaSeSparse
	case "VMFSSPARSE":
		format = deltaVmfsSparse
	case "VSANSPARSE":
		format = deltaCopy
	}
	if format == deltaVmfsSparse && pd.sectors >= 1<<32 {
		format = deltaSeSparse // ESXi too: vmfsSparse stops at 2 TiB
	}
	base := deltaSuffix.ReplaceAllString(strings.TrimSuffix(parent, ".vmdk"), "")
	for n := 1; n < 1000000; n++ {
		child := fmt.Sprintf("%s-%06d.vmdk", base, n)
		if _, err := os.Stat(child); err == nil {
			continue
		}
		if format != deltaCopy {
			return child, createSparseDelta(parent, child, pd, format)
		}
		from, err := h.dataPath(parent)
		if err != nil {
			return "", err
		}
		d := diskInfo{sectors: pd.sectors, extentType: pd.extentType, uuid: pd.uuid, encrypted: pd.encrypted}
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

// mergeChild folds child's content into parent, deletes child's files and
// makes the deltas that named child as parent name parent.
func (h *harness) mergeChild(parent, child string) error {
	cd, err := readDescriptor(child)
	if err != nil {
		return err
	}
	cdata, err := h.dataPath(child)
	if err != nil {
		return err
	}
	switch cd.extentType {
	case "SESPARSE", "VMFSSPARSE":
		c, err := h.openChain(child, false)
		if err != nil {
			return err
		}
		if c.parent == nil || c.parent.desc != parent {
			c.close()
			return fmt.Errorf("%s is not the parent of %s", parent, child)
		}
		p, err := h.openChain(parent, true)
		if err == nil {
			err = c.mergeInto(p)
			p.close()
		}
		c.close()
		if err != nil {
			return err
		}
		// The parent's content changed: ESXi gives it a new CID.
		pd, err := readDescriptor(parent)
		if err != nil {
			return err
		}
		pd.cid = randomHex(4)
		if err := writeDescriptor(parent, pd); err != nil {
			return err
		}
		if err := os.Remove(cdata); err != nil {
			return err
		}
	default: // a full copy replaces the parent's bytes
		pd, err := readDescriptor(parent)
		if err != nil {
			return err
		}
		if pd.extentType == "SESPARSE" || pd.extentType == "VMFSSPARSE" {
			return fmt.Errorf("cannot merge copy %s into sparse delta %s", child, parent)
		}
		pdata, err := h.dataPath(parent)
		if err != nil {
			return err
		}
		if err := os.Rename(cdata, pdata); err != nil {
			return err
		}
	}
	if err := os.Remove(child); err != nil {
		return err
	}
	return repointChildren(parent, filepath.Base(child))
}
