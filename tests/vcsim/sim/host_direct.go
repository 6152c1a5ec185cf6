// SPDX-License-Identifier: BSD-3-Clause

package simulator

// The ESXi hosts' own /folder, which clients reach past vCenter with a
// ticket from SessionManager.AcquireGenericServiceTicket.  vcsim hands
// tickets out but nothing checks them.  Here every host is served by one
// extra TLS listener that tells the hosts apart by the Host header (the
// host's inventory name, as a client's URL names it); a ticket opens
// exactly the URL and method it was acquired for, once.  The hosts have
// a certificate of their own, which vCenter knows by its thumbprint
// (summary.config.sslThumbprint), as it knows each real host's.

import (
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"

	"github.com/vmware/govmomi/vim25/types"
)

const ticketCookie = "vmware_cgi_ticket"

type serviceTicket struct{ url, method string }

var (
	ticketsMu sync.Mutex
	tickets   = map[string]serviceTicket{}
	ticketID  = regexp.MustCompile(`<id>([^<]+)</id>`)
)

// takeTicket returns the ticket and forgets it: a ticket is good once.
func takeTicket(id string) (serviceTicket, bool) {
	ticketsMu.Lock()
	defer ticketsMu.Unlock()
	t, ok := tickets[id]
	delete(tickets, id)
	return t, ok
}

// serveTicket lets vcsim make the ticket and records what it is for.
func (h *harness) serveTicket(w http.ResponseWriter, r *http.Request, method *Method) {
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	spec, ok := method.Body.(*types.AcquireGenericServiceTicket).Spec.(*types.SessionManagerHttpServiceRequestSpec)
	if m := ticketID.FindSubmatch(body); ok && m != nil && rec.Code == http.StatusOK {
		ticketsMu.Lock()
		tickets[string(m[1])] = serviceTicket{url: spec.Url, method: spec.Method}
		ticketsMu.Unlock()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// newHostCert makes the hosts' certificate, valid for their names too,
// and gives every host its SHA-1 thumbprint, as vCenter shows it.
func newHostCert() (*serverCert, error) {
	var names []string
	for _, e := range Map.All("HostSystem") {
		names = append(names, e.(*HostSystem).Name)
	}
	cert, err := newServerCert(names...)
	if err == nil {
		setHostThumbprints(cert.sha1)
	}
	return cert, err
}

// setHostThumbprints sets every host's thumbprint ("" unsets it).
func setHostThumbprints(sum string) {
	for _, e := range Map.All("HostSystem") {
		host := e.(*HostSystem)
		Map.WithLock(host, func() { host.Summary.Config.SslThumbprint = sum })
	}
}

// hostNamed finds a HostSystem by its inventory name.
func hostNamed(name string) *HostSystem {
	for _, e := range Map.All("HostSystem") {
		if host, ok := e.(*HostSystem); ok && host.Name == name {
			return host
		}
	}
	return nil
}

// hostDatastoreDir is the directory of the datastore NAME mounted on host.
func hostDatastoreDir(host *HostSystem, name string) (string, bool) {
	for _, ref := range host.Datastore {
		if ds, ok := Map.Get(ref).(*Datastore); ok && ds.Name == name {
			return ds.Info.GetDatastoreInfo().Url, true
		}
	}
	return "", false
}

// serveHost is the hosts' listener: GET and HEAD of /folder/PATH?dsName=DS
// (an ESXi host has one datacenter; a dcPath is ignored, as ESXi does).
func (h *harness) serveHost(w http.ResponseWriter, r *http.Request) {
	hostStats.countRequest()
	if !strings.HasPrefix(r.URL.Path, folderPrefix) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.Error(w, "the host serves only GET and HEAD of /folder here", http.StatusNotFound)
		return
	}
	name, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		name = r.Host
	}
	host := hostNamed(name)
	if host == nil {
		http.Error(w, "no host named "+name, http.StatusNotFound)
		return
	}
	c, err := r.Cookie(ticketCookie)
	if err != nil {
		hostStats.countRefused()
		http.Error(w, "no vmware_cgi_ticket cookie", http.StatusUnauthorized)
		return
	}
	t, ok := takeTicket(c.Value)
	want := serviceTicket{url: "https://" + r.Host + r.URL.RequestURI(),
		method: "http" + r.Method[:1] + strings.ToLower(r.Method[1:])}
	if !ok || t != want {
		hostStats.countRefused()
		http.Error(w, "the service ticket is unknown, used already, or for another URL or method", http.StatusUnauthorized)
		return
	}
	dir, ok := hostDatastoreDir(host, r.URL.Query().Get("dsName"))
	if !ok {
		http.Error(w, "no such datastore on host "+name, http.StatusNotFound)
		return
	}
	r.URL.Path = strings.TrimPrefix(r.URL.Path, folderPrefix)
	serveKnobbed(w, r, &hostStats, func(fw http.ResponseWriter) { h.serveDatastoreFile(fw, r, dir) })
}
