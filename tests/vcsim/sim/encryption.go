// SPDX-License-Identifier: BSD-3-Clause

package simulator

// VM Encryption as /folder shows it: the extents of an encrypted disk
// (/disk/add?encrypted=1) are ciphertext on a real datastore, so their
// bytes are served enciphered here, while the harness keeps them in
// plaintext for its own writes, snapshots and CBT. Descriptors stay
// readable text that says the disk is encrypted (diskfiles.go), and the
// backing carries a keyId unless encrypted=descriptor asks for a disk
// that only its descriptor gives away.

import (
	"io"
	"sync"
)

const (
	simKeyProvider = "sim-kms"
	simKeyID       = "7f3e6a0c-5b1d-4c8e-9a2f-3d4b5c6d7e8f"
)

var encryptedExtents sync.Map // local path -> true

func markEncrypted(path string) { encryptedExtents.Store(path, true) }

func isEncrypted(path string) bool {
	_, ok := encryptedExtents.Load(path)
	return ok
}

// cipherByte is the ciphertext of plaintext byte b at offset off: any
// stream that differs from the plaintext almost everywhere will do.
func cipherByte(b byte, off int64) byte {
	return b ^ byte(0xA5+off*7+off>>8)
}

// cipherReader serves an encrypted extent as ciphertext, seekable for
// http.ServeContent's ranges.
type cipherReader struct {
	r   io.ReadSeeker
	off int64
}

func (c *cipherReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := 0; i < n; i++ {
		p[i] = cipherByte(p[i], c.off+int64(i))
	}
	c.off += int64(n)
	return n, err
}

func (c *cipherReader) Seek(offset int64, whence int) (int64, error) {
	off, err := c.r.Seek(offset, whence)
	if err == nil {
		c.off = off
	}
	return off, err
}
