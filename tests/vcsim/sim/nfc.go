// SPDX-License-Identifier: BSD-3-Clause

package simulator

// NFC, as an ESXi host serves it on port 902 to VDDK's nbd and nbdssl
// transports (REFERENCE.md §9): NfcService tickets over SOAP, then one
// listener for every host, speaking authd (a plaintext banner, TLS with
// the host's certificate, SESSION/BANNER/THUMBPRINT_SHA2/PROXY lines),
// then NFC raw on the socket ("ha-nfc") or inside a second TLS session
// ("ha-nfcssl").  A ticket is good for one connection and for the disks
// of its VM only.  Through vCenter the NfcService is "nfcService" and its
// tickets name the host and the service "vpxa-nfc"; a standalone host
// (-esx) has its own, "ha-nfc-service", whose tickets name no host (the
// one logged in to) and the service "nfc".  PROXY must ask for the
// ticket's service, with "ssl" appended for TLS.  Disks are opened as disks: their chain composed
// (openChain) and in plaintext, encrypted or not; each read is answered
// in 64 KiB fragments sent last first, and the reads a client has in
// flight are answered together, their fragments interleaved, as hosts
// keep neither order.  The latency knob delays each read's answer from when it
// arrived, so that requests in flight overlap their latency as on a
// host; the bandwidth knob paces each connection's data.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

const (
	nfcMagic        = 0xA100DA7A
	nfcClassicSize  = 264
	nfcFragmentMax  = 65536
	nfcHostVersion  = 11
	nfcLineMax      = 1024
	nfcPayloadLimit = 4096
)

type nfcTicket struct {
	vm      types.ManagedObjectReference
	host    string
	service string // what PROXY asks for, without "ssl"
}

var (
	nfcTicketsMu sync.Mutex
	nfcTickets   = map[string]nfcTicket{}
	nfcPort      int
	nfcVMArg     = regexp.MustCompile(`<vm[^>]*>([^<]+)</vm>`)
	nfcThisArg   = regexp.MustCompile(`<_this[^>]*>([^<]+)</_this>`)
)

// nfcService is the NfcService's moref and its tickets' service.
func (h *harness) nfcService() (ref, service string) {
	if h.cfg.ESX {
		return "ha-nfc-service", "nfc"
	}
	return "nfcService", "vpxa-nfc"
}

// takeNfcTicket returns the ticket and forgets it: one connection each.
func takeNfcTicket(id string) (nfcTicket, bool) {
	nfcTicketsMu.Lock()
	defer nfcTicketsMu.Unlock()
	t, ok := nfcTickets[id]
	delete(nfcTickets, id)
	return t, ok
}

func writeSOAPBody(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" `+
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
		`<soapenv:Body>%s</soapenv:Body></soapenv:Envelope>`, body)
}

// serveNfcSOAP answers the two calls vcsim does not know, from the raw
// body (its decoder refuses their names); false for any other call.
func (h *harness) serveNfcSOAP(w http.ResponseWriter, r *http.Request, body []byte) bool {
	switch {
	case bytes.Contains(body, []byte("<RetrieveInternalContent")):
		ref, _ := h.nfcService()
		writeSOAPBody(w, `<RetrieveInternalContentResponse xmlns="urn:vim25"><returnval>`+
			`<nfcService type="NfcService">`+ref+`</nfcService>`+
			`</returnval></RetrieveInternalContentResponse>`)
		return true
	case bytes.Contains(body, []byte("<NfcGetVmFiles")):
		h.serveNfcTicket(w, r, body)
		return true
	}
	return false
}

func (h *harness) serveNfcTicket(w http.ResponseWriter, r *http.Request, body []byte) {
	if liveSession(r, true) == nil {
		writeSOAPFault(w, Fault("The session is not authenticated.", &types.NotAuthenticated{}))
		return
	}
	service, proxy := h.nfcService()
	if m := nfcThisArg.FindSubmatch(body); m == nil || string(m[1]) != service {
		writeSOAPFault(w, Fault("The object has already been deleted or has not been completely created",
			&types.ManagedObjectNotFound{Obj: types.ManagedObjectReference{Type: "NfcService"}}))
		return
	}
	m := nfcVMArg.FindSubmatch(body)
	ref := types.ManagedObjectReference{Type: "VirtualMachine"}
	if m != nil {
		ref.Value = string(m[1])
	}
	vm, ok := Map.Get(ref).(*VirtualMachine)
	if !ok || vm.Runtime.Host == nil {
		writeSOAPFault(w, Fault("The object has already been deleted or has not been completely created",
			&types.ManagedObjectNotFound{Obj: ref}))
		return
	}
	host, _ := Map.Get(*vm.Runtime.Host).(*HostSystem)
	if host == nil {
		writeSOAPFault(w, Fault("the VM has no host", &types.ManagedObjectNotFound{Obj: *vm.Runtime.Host}))
		return
	}
	id := randomHex(16)
	nfcTicketsMu.Lock()
	nfcTickets[id] = nfcTicket{vm: ref, host: host.Name, service: proxy}
	nfcTicketsMu.Unlock()
	// Through vCenter, the host's address, as vCenter gives it for a host
	// it manages by IP (every simulated host listens on the loopback); a
	// standalone host's ticket names none.
	addr := ""
	if !h.cfg.ESX {
		addr = `<host>127.0.0.1</host>`
	}
	writeSOAPBody(w, fmt.Sprintf(`<NfcGetVmFilesResponse xmlns="urn:vim25"><returnval>`+
		`%s<port>%d</port><sslThumbprint>%s</sslThumbprint>`+
		`<service>%s</service><serviceVersion>1.0</serviceVersion>`+
		`<sessionId>%s</sessionId></returnval></NfcGetVmFilesResponse>`,
		addr, nfcPort, host.Summary.Config.SslThumbprint, proxy, id))
}

// serveNFC starts the hosts' NFC listener.
func (h *harness) serveNFC(cert *serverCert) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	nfcPort = ln.Addr().(*net.TCPAddr).Port
	cfg := &tls.Config{Certificates: []tls.Certificate{cert.tls}}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				h.serveNfcConn(conn, cfg, cert)
			}()
		}
	}()
	return ln, nil
}

// readLine reads one authd line, refusing one that never ends.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for len(line) <= nfcLineMax {
		b, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			return strings.TrimRight(string(line), "\r"), nil
		}
		line = append(line, b)
	}
	return "", fmt.Errorf("line longer than %d bytes", nfcLineMax)
}

// serveNfcConn runs authd, then NFC on the stream PROXY asked for.
func (h *harness) serveNfcConn(conn net.Conn, cfg *tls.Config, cert *serverCert) {
	if takeNfcFault("banner") != "" {
		fmt.Fprint(conn, "220 VMware Authentication Daemon"+strings.Repeat(" Version 1.10", 200))
		_, _ = io.Copy(io.Discard, conn)
		return
	}
	fmt.Fprint(conn, "220 VMware Authentication Daemon Version 1.10: SSL Required, "+
		"ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC , VMXARGS supported, NFCSSL supported/t\r\n")
	t := tls.Server(conn, cfg)
	if t.Handshake() != nil {
		return
	}
	r := bufio.NewReader(t)
	var ticket nfcTicket
	valid := false
	for {
		line, err := readLine(r)
		if err != nil {
			return
		}
		switch {
		case strings.HasPrefix(line, "SESSION "):
			ticket, valid = takeNfcTicket(strings.TrimPrefix(line, "SESSION "))
		case line == "BANNER ":
			fmt.Fprint(t, "220 VMware Authentication Daemon Version 1.10\r\n")
		case line == "THUMBPRINT_SHA2 PlainText":
			fmt.Fprintf(t, "200 %s\r\n", cert.sha256)
		case strings.HasPrefix(line, "PROXY "):
			if !valid {
				fmt.Fprint(t, "530 the session ticket is unknown or used already\r\n")
				return
			}
			service := strings.TrimPrefix(line, "PROXY ")
			if service != ticket.service && service != ticket.service+"ssl" {
				fmt.Fprintf(t, "500 the ticket is for %s, not %s\r\n", ticket.service, service)
				return
			}
			if takeNfcFault("proxy") != "" {
				fmt.Fprint(t, "500 simulated refusal: vpxa is not running\r\n")
				return
			}
			if service == ticket.service {
				fmt.Fprint(t, "200 Connect ha-nfc\r\n")
				h.serveNfcSession(conn, ticket)
				return
			}
			fmt.Fprint(t, "200 Connect ha-nfcssl\r\n")
			inner := tls.Server(conn, cfg)
			if inner.Handshake() != nil {
				return
			}
			h.serveNfcSession(inner, ticket)
			return
		default:
			fmt.Fprintf(t, "500 unknown command %q\r\n", line)
			return
		}
	}
}

type nfcConn struct {
	in     *bufio.Reader // what the client sent
	rw     io.ReadWriter // to answer on
	ticket nfcTicket
	files  map[uint64]*layer
	next   uint64
	lim    connLimiter
}

// readClassic reads a classic message, which must be of type want.
func readClassic(r io.Reader, want uint32) ([]byte, error) {
	m := make([]byte, nfcClassicSize)
	if _, err := io.ReadFull(r, m); err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(m); got != want {
		return nil, fmt.Errorf("classic message %d where %d was due", got, want)
	}
	return m, nil
}

// writeClassic sends a classic message of type typ, with value at
// offset at unless at is 0.
func writeClassic(w io.Writer, typ, at, value uint32) error {
	m := make([]byte, nfcClassicSize)
	binary.LittleEndian.PutUint32(m, typ)
	if at > 0 {
		binary.LittleEndian.PutUint32(m[at:], value)
	}
	_, err := w.Write(m)
	return err
}

// frameHeader is an AIO frame's header: magic, type, payload size, opId.
type frameHeader struct{ magic, typ, size, op uint32 }

func parseFrameHeader(b []byte) frameHeader {
	le := binary.LittleEndian
	return frameHeader{le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:])}
}

// writeFrame sends an AIO frame: header, payload, then extra bytes.
func writeFrame(w io.Writer, typ, op uint32, payload, extra []byte) error {
	return writeFrameMagic(w, nfcMagic, typ, op, payload, extra)
}

// writeFrameMagic is writeFrame with any magic, for the faults.
func writeFrameMagic(w io.Writer, magic, typ, op uint32, payload, extra []byte) error {
	b := make([]byte, 16, 16+len(payload)+len(extra))
	binary.LittleEndian.PutUint32(b, magic)
	binary.LittleEndian.PutUint32(b[4:], typ)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[12:], op)
	_, err := w.Write(append(append(b, payload...), extra...))
	return err
}

func (c *nfcConn) classic(want uint32) ([]byte, error) { return readClassic(c.in, want) }

func (c *nfcConn) sendClassic(typ, at, value uint32) error {
	return writeClassic(c.rw, typ, at, value)
}

func (c *nfcConn) frame(typ, op uint32, payload, extra []byte) error {
	return writeFrame(c.rw, typ, op, payload, extra)
}

func (c *nfcConn) refuse(op uint32, msg string) error {
	p := make([]byte, 4, 4+len(msg)+1)
	binary.LittleEndian.PutUint32(p, 2)
	return c.frame(1, op, append(append(p, msg...), 0), nil)
}

// handshake is the classic exchange up to the AIO session.
func (c *nfcConn) handshake() error {
	if _, err := c.classic(43); err != nil {
		return err
	}
	if _, err := c.classic(33); err != nil {
		return err
	}
	if err := c.sendClassic(36, 16, 1); err != nil {
		return err
	}
	if _, err := c.classic(51); err != nil {
		return err
	}
	if err := c.sendClassic(51, 4, nfcHostVersion); err != nil {
		return err
	}
	m, err := c.classic(54)
	if err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(m[4:]) + binary.LittleEndian.Uint32(m[8:])
	if n > nfcLineMax {
		return fmt.Errorf("client name of %d bytes", n)
	}
	if _, err := io.ReadFull(c.in, make([]byte, n)); err != nil {
		return err
	}
	if _, err := c.classic(55); err != nil {
		return err
	}
	if _, err := c.classic(52); err != nil {
		return err
	}
	return c.sendClassic(52, 0, 0)
}

func (h *harness) serveNfcSession(rw io.ReadWriter, ticket nfcTicket) {
	c := &nfcConn{in: bufio.NewReader(rw), rw: rw, ticket: ticket, files: map[uint64]*layer{}, next: 0x5000}
	defer func() {
		for _, l := range c.files {
			l.close()
		}
	}()
	if c.handshake() != nil {
		return
	}
	hdr := make([]byte, 16)
	for {
		if _, err := io.ReadFull(c.in, hdr); err != nil {
			return
		}
		fh := parseFrameHeader(hdr)
		typ, size, op := fh.typ, fh.size, fh.op
		if fh.magic != nfcMagic || size > nfcPayloadLimit {
			return
		}
		p := make([]byte, size)
		if _, err := io.ReadFull(c.in, p); err != nil {
			return
		}
		arrived := time.Now()
		var err error
		switch typ {
		case 2:
			err = c.frame(2, op, make([]byte, 16), nil)
		case 9:
			err = c.frame(9, op, make([]byte, 12), nil)
		case 22:
			err = c.frame(22, op, nil, nil)
		case 4:
			err = h.nfcOpen(c, op, p)
		case 7:
			err = c.nfcReads(op, p, arrived)
		case 5:
			if len(p) == 8 {
				if l := c.files[binary.LittleEndian.Uint64(p)]; l != nil {
					l.close()
					delete(c.files, binary.LittleEndian.Uint64(p))
				}
			}
			err = c.frame(5, op, nil, nil)
		case 3:
			err = c.frame(3, op, nil, nil)
		default:
			err = c.refuse(op, fmt.Sprintf("unknown request type %d", typ))
		}
		if err != nil {
			return
		}
	}
}

// nfcOpen opens PATH, a disk of the ticket's VM (current or of one of
// its snapshots), with its chain.
func (h *harness) nfcOpen(c *nfcConn, op uint32, p []byte) error {
	if len(p) != 60 {
		return c.refuse(op, "OPEN_FILE payload is not 60 bytes")
	}
	n := binary.LittleEndian.Uint32(p)
	if n > nfcLineMax {
		return fmt.Errorf("OPEN_FILE path of %d bytes", n)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(c.in, name); err != nil {
		return err
	}
	if takeNfcFault("open") != "" {
		return c.refuse(op, fmt.Sprintf("Failed to open %s: simulated error", name))
	}
	desc, ok := h.nfcDiskPath(c.ticket.vm, string(name))
	if !ok {
		return c.refuse(op, fmt.Sprintf("File %s not found or not a disk of the ticket's VM", name))
	}
	h.mu.Lock()
	l, err := h.openChain(desc, false)
	h.mu.Unlock()
	if err != nil {
		return c.refuse(op, fmt.Sprintf("cannot open %s: %v", name, err))
	}
	c.next++
	c.files[c.next] = l
	reply := make([]byte, 60)
	binary.LittleEndian.PutUint64(reply[8:], c.next)
	binary.LittleEndian.PutUint32(reply[16:], 2)
	binary.LittleEndian.PutUint32(reply[36:], sectorSize)
	return c.frame(4, op, reply, nil)
}

// nfcDiskPath is the local descriptor of the VM's disk NAME.
func (h *harness) nfcDiskPath(ref types.ManagedObjectReference, name string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	vm, ok := Map.Get(ref).(*VirtualMachine)
	if !ok {
		return "", false
	}
	lists := [][]types.BaseVirtualDevice{vm.Config.Hardware.Device}
	walkSnapshots(vm, func(t types.VirtualMachineSnapshotTree) {
		if s, ok := Map.Get(t.Snapshot).(*VirtualMachineSnapshot); ok {
			lists = append(lists, s.Config.Hardware.Device)
		}
	})
	for _, devices := range lists {
		for _, d := range vmDisks(devices) {
			if b := flatBacking(d); b != nil && b.FileName == name {
				p, err := localPath(b)
				return p, err == nil
			}
		}
	}
	return "", false
}

// ioRead is a read request, and its data once read.
type ioRead struct {
	op      uint32
	p       []byte
	arrived time.Time
	off     int64
	data    []byte
}

// nfcReads answers the read (op, p) and the further reads the client
// already sent behind it, their fragments interleaved.  Under an NFC
// fault each read is answered alone, as the fault needs.
func (c *nfcConn) nfcReads(op uint32, p []byte, arrived time.Time) error {
	batch := []*ioRead{{op: op, p: p, arrived: arrived}}
	for currentKnobs().NfcFault == "" && len(batch) < 16 {
		// Only what has arrived already: Peek would wait for more.
		if c.in.Buffered() < 16+44 {
			break
		}
		next, _ := c.in.Peek(16)
		fh := parseFrameHeader(next)
		if fh.magic != nfcMagic || fh.typ != 7 || fh.size != 44 {
			break
		}
		_, _ = c.in.Discard(16)
		r := &ioRead{op: fh.op, p: make([]byte, 44), arrived: time.Now()}
		_, _ = io.ReadFull(c.in, r.p)
		batch = append(batch, r)
	}
	var ready []*ioRead
	for _, r := range batch {
		ok, err := c.readData(r)
		if err != nil {
			return err
		}
		if ok {
			ready = append(ready, r)
		}
	}
	return c.answer(ready)
}

// readData reads r's bytes, waiting out the latency knob from its
// arrival; false if r was answered already (refused, or a fault).
func (c *nfcConn) readData(r *ioRead) (bool, error) {
	p := r.p
	if len(p) != 44 {
		return false, c.refuse(r.op, "IO payload is not 44 bytes")
	}
	l := c.files[binary.LittleEndian.Uint64(p)]
	r.off = int64(binary.LittleEndian.Uint64(p[16:]))
	length := int64(binary.LittleEndian.Uint64(p[24:]))
	if l == nil || binary.LittleEndian.Uint64(p[8:]) != 1 || length <= 0 || length > 64<<20 {
		return false, c.refuse(r.op, "bad IO request")
	}
	r.data = make([]byte, length)
	if err := l.ReadAt(r.data, r.off); err != nil {
		return false, c.refuse(r.op, fmt.Sprintf("read error: %v", err))
	}
	nfcStats.countRequest()
	time.Sleep(time.Until(r.arrived.Add(currentKnobs().Latency)))
	if kind := takeNfcFault(nfcReadFaults...); kind != "" {
		return false, c.faultyRead(kind, r.op, r.off, r.data)
	}
	return true, nil
}

// answer sends the reads' fragments, one of each read in turn, each
// read's last fragment first.
func (c *nfcConn) answer(reads []*ioRead) error {
	bw := currentKnobs().Bandwidth
	for round := int64(0); ; round++ {
		sent := false
		for _, r := range reads {
			length := int64(len(r.data))
			i := (length+nfcFragmentMax-1)/nfcFragmentMax - 1 - round
			if i < 0 {
				continue
			}
			at := i * nfcFragmentMax
			end := min64(at+nfcFragmentMax, length)
			f := fragmentHeader(r.off, uint32(length), uint32(at), uint32(end-at))
			c.lim.wait(int(end-at), bw)
			if err := c.frame(7, r.op, f, r.data[at:end]); err != nil {
				return err
			}
			nfcStats.countBytes(int(end - at))
			sent = true
		}
		if !sent {
			return nil
		}
	}
}
