// SPDX-License-Identifier: BSD-3-Clause

package simulator

// NFC faults, for the client's tests against a hostile or failing host:
// the nfc_fault knob names one, and nfc_fault_times how often it fires
// (0: every time).  authd: a banner line that never ends, PROXY refused.
// OPEN_FILE: an error reply.  IO reads: the connection cut in the middle
// of a fragment, a wrong magic, an error reply, no answer at all, a
// frame of an unknown type, fragments that overlap, overrun the request
// or repeat, a total length beyond the request, a reply for an opId
// never sent.

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"sync"
)

var nfcReadFaults = []string{"cut", "magic", "error", "stall", "type", "overlap", "overrun", "repeat", "length", "opid"}

var nfcFaultKinds = append([]string{"banner", "proxy", "open"}, nfcReadFaults...)

var nfcFaults struct {
	sync.Mutex
	fired int64
}

func checkNfcFault(s string) error {
	if s == "" || s == "0" {
		return nil
	}
	for _, k := range nfcFaultKinds {
		if s == k {
			return nil
		}
	}
	return fmt.Errorf("nfc_fault=%s: want one of %s", s, strings.Join(nfcFaultKinds, ", "))
}

// restartNfcFaults makes a newly set fault fire nfc_fault_times more.
func restartNfcFaults() {
	nfcFaults.Lock()
	nfcFaults.fired = 0
	nfcFaults.Unlock()
}

// takeNfcFault is the fault to inject now among kinds, if any.
func takeNfcFault(kinds ...string) string {
	k := currentKnobs()
	nfcFaults.Lock()
	defer nfcFaults.Unlock()
	for _, want := range kinds {
		if k.NfcFault == want && (k.NfcFaultTimes == 0 || nfcFaults.fired < k.NfcFaultTimes) {
			nfcFaults.fired++
			return want
		}
	}
	return ""
}

// fragmentHeader is an IO reply fragment's 44 bytes: bytes at..at+n of
// the total-byte request at off.
func fragmentHeader(off int64, total, at, n uint32) []byte {
	f := make([]byte, 44)
	binary.LittleEndian.PutUint64(f[8:], 1)
	binary.LittleEndian.PutUint64(f[16:], uint64(off))
	binary.LittleEndian.PutUint32(f[24:], total)
	binary.LittleEndian.PutUint32(f[28:], at)
	binary.LittleEndian.PutUint32(f[32:], n)
	binary.LittleEndian.PutUint32(f[36:], n)
	return f
}

// faultyRead answers the read of data at off with fault kind; an error
// return closes the connection.
func (c *nfcConn) faultyRead(kind string, op uint32, off int64, data []byte) error {
	total := uint32(len(data))
	first := min64(int64(len(data)), nfcFragmentMax)
	frag := func(at, n uint32) []byte { return fragmentHeader(off, total, at, n) }
	switch kind {
	case "cut":
		// The frame's extra bytes stop halfway, and so does the stream.
		_ = c.frame(7, op, frag(0, uint32(first)), data[:first/2])
		return fmt.Errorf("cut")
	case "magic":
		return writeFrameMagic(c.rw, 0xDEADBEEF, 7, op, frag(0, uint32(first)), data[:first])
	case "error":
		return c.refuse(op, "Failed to read the disk: simulated I/O error")
	case "stall":
		_, _ = io.Copy(io.Discard, c.in)
		return fmt.Errorf("stall")
	case "type":
		return c.frame(99, op, frag(0, uint32(first)), data[:first])
	case "overlap":
		if err := c.frame(7, op, frag(0, uint32(first)), data[:first]); err != nil {
			return err
		}
		n := min64(first, int64(len(data))-first/2)
		return c.frame(7, op, frag(uint32(first/2), uint32(n)), data[first/2:first/2+n])
	case "overrun":
		return c.frame(7, op, frag(total-uint32(first)/2, uint32(first)), data[:first])
	case "repeat":
		if err := c.frame(7, op, frag(0, uint32(first)), data[:first]); err != nil {
			return err
		}
		return c.frame(7, op, frag(0, uint32(first)), data[:first])
	case "length":
		return c.frame(7, op, fragmentHeader(off, 2*total, 0, uint32(first)), data[:first])
	case "opid":
		return c.frame(7, op+1000, frag(0, uint32(first)), data[:first])
	}
	return fmt.Errorf("unknown fault %q", kind)
}
