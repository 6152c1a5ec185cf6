// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Datastore directories behind /folder.  vcsim resolves dcPath and dsName
// with govmomi's finder, a trip through its own SOAP stack on every
// request.  A real vCenter does not pay that, and here it took CPU from
// the client under test, so resolved directories are cached.  A miss
// goes to vcsim's handler, which answers 404 as before.

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

type folderRootKey struct{ dcPath, dsName string }

var folderRoots sync.Map // folderRootKey -> datastore directory

func (h *harness) folderRoot(q url.Values) (string, bool) {
	key := folderRootKey{q.Get("dcPath"), q.Get("dsName")}
	if dir, ok := folderRoots.Load(key); ok {
		return dir.(string), true
	}
	ds, err := h.model.Service.findDatastore(q)
	if err != nil {
		return "", false
	}
	dir := ds.Info.GetDatastoreInfo().Url
	folderRoots.Store(key, dir)
	return dir, true
}

// serveFolderFile serves a GET or HEAD from a known datastore directory
// and reports whether it did.
func (h *harness) serveFolderFile(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	dir, ok := h.folderRoot(r.URL.Query())
	if !ok {
		return false
	}
	r.URL.Path = strings.TrimPrefix(r.URL.Path, folderPrefix)
	h.serveDatastoreFile(w, r, dir)
	return true
}
