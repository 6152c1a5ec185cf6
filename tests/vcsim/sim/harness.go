// SPDX-License-Identifier: BSD-3-Clause

package simulator

// The harness process: vcsim's VPX inventory (or with -esx its standalone
// ESXi host) behind our own TLS listener, a plain-HTTP control listener,
// and a clean exit.

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25"
)

// HarnessConfig is what the command line gives RunHarness.
type HarnessConfig struct {
	Dir            string
	User, Password string
	ESX            bool // a standalone ESXi host, not vCenter
	Knobs          HarnessKnobs
}

type harness struct {
	cfg      HarnessConfig
	model    *Model
	client   *vim25.Client // in-process client, no session needed
	mux      http.Handler  // vcsim's own handlers
	mu       sync.Mutex    // serialises disk, snapshot and CBT changes
	dc       string        // the datacenter of the default hosts and datastores
	vsanDir  string        // objects of vsan disks, out of /folder's reach
	ctx      context.Context
	orphaned bool
}

// theHarness lets SOAP methods added to vcsim's types reach the harness.
var theHarness *harness

// RunHarness serves until SIGTERM/SIGINT or until its parent process dies.
func RunHarness(cfg HarnessConfig) error {
	knobs.HarnessKnobs = cfg.Knobs
	h := &harness{cfg: cfg, ctx: context.Background(), vsanDir: filepath.Join(cfg.Dir, "vsan-objects")}
	theHarness = h
	if err := os.MkdirAll(h.vsanDir, 0o700); err != nil {
		return err
	}

	m := VPX()
	h.dc = "DC0"
	if cfg.ESX {
		m, h.dc = ESX(), esx.Datacenter.Name
	}
	m.Datastore = 2 // LocalDS_0 and LocalDS_1 in h.dc
	h.model = m
	if err := m.Create(); err != nil {
		return err
	}
	defer m.Remove()
	h.client = m.Service.client

	// NewServer registers vcsim's handlers; its own listener is not used.
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(cfg.User, cfg.Password)}
	inner := m.Service.NewServer()
	inner.Close()
	h.mux = m.Service.ServeMux

	if err := h.buildInventory(); err != nil {
		return fmt.Errorf("inventory: %v", err)
	}
	if err := h.realizeDefaultDisks(); err != nil {
		return fmt.Errorf("default disks: %v", err)
	}

	cert, err := newServerCert()
	if err != nil {
		return err
	}
	srv, addr, err := serveTLS(h, cert)
	if err != nil {
		return err
	}
	defer srv.Close()
	Map.SessionManager().ServiceHostName = addr.String()

	// The ESXi hosts' own HTTPS, with a certificate of their own.
	hostCert, err := newHostCert()
	if err != nil {
		return err
	}
	hsrv, haddr, err := serveTLS(http.HandlerFunc(h.serveHost), hostCert)
	if err != nil {
		return err
	}
	defer hsrv.Close()
	nln, err := h.serveNFC(hostCert)
	if err != nil {
		return err
	}
	defer nln.Close()

	cln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctl := &http.Server{Handler: h.controlMux()}
	go func() { _ = ctl.Serve(cln) }()
	defer ctl.Close()

	if err := h.writeEnv(addr, haddr.String(), cln.Addr().String(), cert, hostCert); err != nil {
		return err
	}
	h.waitForEnd()
	if h.orphaned {
		defer os.RemoveAll(cfg.Dir) // nobody is left to remove it
	}
	return nil
}

// serveTLS serves handler over HTTPS with cert on a port of 127.0.0.1
// until the server is closed.
func serveTLS(handler http.Handler, cert *serverCert) (*http.Server, *net.TCPAddr, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{
		Handler:      handler,
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert.tls}},
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1 only: cuts close TCP
		ConnContext:  func(ctx context.Context, _ net.Conn) context.Context { return withConnLimiter(ctx) },
		ErrorLog:     log.New(os.Stderr, "vcsim-harness: ", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return srv, ln.Addr().(*net.TCPAddr), nil
}

// waitForEnd returns on a signal or when the parent shell has gone away.
func (h *harness) waitForEnd() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	parent := os.Getppid()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-sig:
			return
		case <-tick.C:
			if os.Getppid() != parent {
				h.orphaned = true
				return
			}
		}
	}
}

// ServeHTTP routes the TLS listener: /folder and /sdk get vCenter's rules.
func (h *harness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, folderPrefix):
		h.serveFolder(w, r)
	case r.Method == http.MethodPost && (r.URL.Path == vim25.Path || r.URL.Path == vim25.Path+"/vimService"):
		h.serveSDK(w, r)
	default:
		h.mux.ServeHTTP(w, r)
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeEnv publishes NAME='value' lines for vcsim.sh; the rename makes the
// file appear only once everything is listening.
func (h *harness) writeEnv(addr *net.TCPAddr, hosts, control string, cert, hostCert *serverCert) error {
	dir := h.cfg.Dir
	pwFile := filepath.Join(dir, "password")
	caFile := filepath.Join(dir, "ca.pem")
	hostCAFile := filepath.Join(dir, "esxi-ca.pem")
	if err := os.WriteFile(pwFile, []byte(h.cfg.Password), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(caFile, cert.pem, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(hostCAFile, hostCert.pem, 0o644); err != nil {
		return err
	}
	vars := map[string]string{
		"VCSIM_SERVER":          addr.String(),
		"VCSIM_ESXI_ADDRESS":    hosts,
		"VCSIM_ESXI_CAFILE":     hostCAFile,
		"VCSIM_ESXI_THUMBPRINT": hostCert.sha256,
		"VCSIM_HOST":            addr.IP.String(),
		"VCSIM_PORT":            fmt.Sprint(addr.Port),
		"VCSIM_USER":            h.cfg.User,
		"VCSIM_PASSWORD":        h.cfg.Password,
		"VCSIM_PASSWORD_FILE":   pwFile,
		"VCSIM_THUMBPRINT":      cert.sha256,
		"VCSIM_THUMBPRINT_SHA1": cert.sha1,
		"VCSIM_CAFILE":          caFile,
		"VCSIM_CONTROL":         "http://" + control,
		"VCSIM_DATACENTER":      h.dc,
		"VCSIM_API_TYPE":        Map.content().About.ApiType,
		"VCSIM_PID":             fmt.Sprint(os.Getpid()),
	}
	var names []string
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%s\n", k, shellQuote(vars[k]))
	}
	tmp := filepath.Join(dir, "env.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "env"))
}
