// SPDX-License-Identifier: BSD-3-Clause

package simulator

// A minimal NFC client for the simulator's self-test (test-vcsim-nfc.sh):
//
//	vcsim-harness nfc-cat ADDR SESSION-ID PATH OFFSET LENGTH [SERVICE]
//
// goes through authd with the ticket's session id, asking PROXY for
// SERVICE (the ticket's service, "vpxa-nfc" if not given; a name ending
// in "ssl", "vpxa-nfcssl" or "nfcssl", means TLS), opens PATH as a disk
// and writes LENGTH bytes from OFFSET to standard output.  It trusts any
// certificate: it tests the simulator, not a client's TLS policy.

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

type nfcClient struct {
	rw io.ReadWriter
	op uint32
}

func (c *nfcClient) classic(typ, at, value uint32) error {
	return writeClassic(c.rw, typ, at, value)
}

func (c *nfcClient) expect(typ uint32) error {
	_, err := readClassic(c.rw, typ)
	return err
}

// reply reads one frame: its type, payload, and opId.
func (c *nfcClient) reply() (uint32, []byte, uint32, error) {
	h := make([]byte, 16)
	if _, err := io.ReadFull(c.rw, h); err != nil {
		return 0, nil, 0, err
	}
	if binary.LittleEndian.Uint32(h) != nfcMagic {
		return 0, nil, 0, fmt.Errorf("bad magic")
	}
	p := make([]byte, binary.LittleEndian.Uint32(h[8:]))
	_, err := io.ReadFull(c.rw, p)
	typ := binary.LittleEndian.Uint32(h[4:])
	if err == nil && typ == 1 {
		err = fmt.Errorf("error reply: %s", strings.Trim(string(p[4:]), "\x00"))
	}
	return typ, p, binary.LittleEndian.Uint32(h[12:]), err
}

func (c *nfcClient) send(typ uint32, payload, extra []byte) error {
	c.op++
	return writeFrame(c.rw, typ, c.op, payload, extra)
}

func authd(conn net.Conn, session, service string) (io.ReadWriter, error) {
	br := bufio.NewReader(conn)
	if _, err := br.ReadString('\n'); err != nil {
		return nil, err
	}
	t := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	tr := bufio.NewReader(t)
	for _, cmd := range []string{"SESSION " + session, "BANNER ", "THUMBPRINT_SHA2 PlainText", "PROXY " + service} {
		if _, err := fmt.Fprintf(t, "%s\r\n", cmd); err != nil {
			return nil, err
		}
		if strings.HasPrefix(cmd, "SESSION") {
			continue
		}
		line, err := tr.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(line, "2") {
			return nil, fmt.Errorf("authd: %s", strings.TrimSpace(line))
		}
	}
	if strings.HasSuffix(service, "ssl") {
		inner := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
		return inner, inner.Handshake()
	}
	return conn, nil
}

func nfcCat(args []string) error {
	if len(args) < 5 {
		return fmt.Errorf("usage: nfc-cat ADDR SESSION-ID PATH OFFSET LENGTH [SERVICE]")
	}
	off, err1 := strconv.ParseUint(args[3], 10, 64)
	length, err2 := strconv.ParseUint(args[4], 10, 32)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("bad offset or length")
	}
	conn, err := net.Dial("tcp", args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	service := "vpxa-nfc"
	if len(args) > 5 {
		service = args[5]
	}
	rw, err := authd(conn, args[1], service)
	if err != nil {
		return err
	}
	c := &nfcClient{rw: rw}
	name := []byte("nfc-catnbdmode")
	hdr := make([]byte, nfcClassicSize)
	binary.LittleEndian.PutUint32(hdr, 54)
	binary.LittleEndian.PutUint32(hdr[4:], 7)
	binary.LittleEndian.PutUint32(hdr[8:], 7)
	steps := []func() error{
		func() error { return c.classic(43, 0, 0) }, func() error { return c.classic(33, 0, 0) },
		func() error { return c.expect(36) }, func() error { return c.classic(51, 4, 11) },
		func() error { return c.expect(51) },
		func() error { _, err := c.rw.Write(append(hdr, name...)); return err },
		func() error { return c.classic(55, 4, 3) }, func() error { return c.classic(52, 0, 0) },
		func() error { return c.expect(52) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	open := make([]byte, 60)
	binary.LittleEndian.PutUint32(open, uint32(len(args[2])))
	binary.LittleEndian.PutUint32(open[16:], 2)
	binary.LittleEndian.PutUint32(open[20:], 0x1e)
	if err := c.send(4, open, []byte(args[2])); err != nil {
		return err
	}
	_, p, _, err := c.reply()
	if err != nil {
		return err
	}
	req := make([]byte, 44)
	copy(req, p[8:16])
	binary.LittleEndian.PutUint64(req[8:], 1)
	binary.LittleEndian.PutUint64(req[16:], off)
	binary.LittleEndian.PutUint64(req[24:], length)
	binary.LittleEndian.PutUint32(req[32:], uint32(length))
	binary.LittleEndian.PutUint32(req[36:], uint32(length))
	if err := c.send(7, req, nil); err != nil {
		return err
	}
	buf := make([]byte, length)
	for got := uint64(0); got < length; {
		_, f, _, err := c.reply()
		if err != nil {
			return err
		}
		at := binary.LittleEndian.Uint32(f[28:])
		n := binary.LittleEndian.Uint32(f[32:])
		if _, err := io.ReadFull(c.rw, buf[at:at+n]); err != nil {
			return err
		}
		got += uint64(n)
	}
	_, err = os.Stdout.Write(buf)
	return err
}

// NfcCat runs the self-test client; it returns the exit status.
func NfcCat(args []string) int {
	if err := nfcCat(args); err != nil {
		fmt.Fprintln(os.Stderr, "nfc-cat:", err)
		return 1
	}
	return 0
}
