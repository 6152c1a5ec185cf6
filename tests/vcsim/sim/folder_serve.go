// SPDX-License-Identifier: BSD-3-Clause

package simulator

// /folder as vCenter serves it: session cookie required, plus the injected
// faults, latency, bandwidth cap, trickle and validators the knobs ask for.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var errCut = errors.New("connection cut on purpose")

// connLimiter paces the bodies of one connection; see withConnLimiter.
type connLimiter struct {
	mu   sync.Mutex
	next time.Time
}

type limiterKey struct{}

// withConnLimiter is the server's ConnContext: one limiter per TCP connection.
func withConnLimiter(ctx context.Context) context.Context {
	return context.WithValue(ctx, limiterKey{}, &connLimiter{})
}

// restart paces the next answer from now: the latency a request waited
// is lost time, not something the body may catch up on.
func (l *connLimiter) restart() {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.next = time.Now()
	l.mu.Unlock()
}

func (l *connLimiter) wait(n int, bw int64) {
	if bw <= 0 || l == nil {
		return
	}
	l.mu.Lock()
	// Time spent writing counts towards the pace; only an idle
	// connection (well behind schedule) starts afresh, so the cap is
	// reached rather than undershot by the cost of each write.
	now := time.Now()
	if l.next.Before(now.Add(-100 * time.Millisecond)) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / float64(bw) * float64(time.Second)))
	d := time.Until(l.next)
	l.mu.Unlock()
	time.Sleep(d)
}

// folderWriter counts body bytes, paces them and cuts the connection when asked.
type folderWriter struct {
	http.ResponseWriter
	lim    *connLimiter
	bw     int64
	flush  bool // send each paced step at once (a trickle, not a buffered stall)
	cut    bool
	remain int64 // body bytes still allowed before the cut
	stats  *folderCounters
}

func (w *folderWriter) WriteHeader(code int) {
	if w.cut {
		cl, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
		w.cut = code == http.StatusPartialContent && err == nil
		w.remain = cl / 2
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *folderWriter) Write(p []byte) (int, error) {
	chunk := 64 << 10
	if w.bw > 0 && w.bw/20 < int64(chunk) {
		chunk = int(w.bw/20) + 1 // small steps keep the pace smooth
	}
	done := 0
	for done < len(p) {
		n := len(p) - done
		if n > chunk {
			n = chunk
		}
		if w.cut {
			if w.remain == 0 {
				w.abort()
				return done, errCut
			}
			if int64(n) > w.remain {
				n = int(w.remain)
			}
			w.remain -= int64(n)
		}
		w.lim.wait(n, w.bw)
		m, err := w.ResponseWriter.Write(p[done : done+n])
		w.stats.countBytes(m)
		done += m
		if err != nil {
			return done, err
		}
		if f, ok := w.ResponseWriter.(http.Flusher); ok && w.flush {
			f.Flush()
		}
	}
	if w.cut && w.remain == 0 {
		w.abort()
		return done, errCut
	}
	return done, nil
}

// abort sends what was written so far, then closes the TCP connection.
func (w *folderWriter) abort() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
	w.cut = false
}

// decodeQueryTwice reads the query as vCenter does: percent-decoded once,
// then parsed as a form query, which decodes again ('+' becomes a space,
// '&' and '=' split).  A dcPath or dsName holding '+', '%', '&' or '='
// therefore reaches the lookup intact only when encoded twice.
func decodeQueryTwice(r *http.Request) {
	once, err := url.PathUnescape(r.URL.RawQuery)
	if err != nil {
		once = ""
	}
	q, _ := url.ParseQuery(once)
	r.URL.RawQuery = q.Encode()
}

func (h *harness) serveFolder(w http.ResponseWriter, r *http.Request) {
	folderStats.countRequest()
	if liveSession(r, true) == nil {
		http.Error(w, "not authenticated: log in and send the vmware_soap_session cookie", http.StatusUnauthorized)
		return
	}
	decodeQueryTwice(r)
	serveKnobbed(w, r, &folderStats, func(fw http.ResponseWriter) {
		if !h.serveFolderFile(fw, r) {
			h.mux.ServeHTTP(fw, r)
		}
	})
}

// serveKnobbed answers an authenticated datastore read with serve, under
// the latency, fault and pacing knobs; body bytes count in stats.
func serveKnobbed(w http.ResponseWriter, r *http.Request, stats *folderCounters, serve func(http.ResponseWriter)) {
	k := currentKnobs()
	time.Sleep(k.Latency)
	if folderStats.next503(k.Fail503) {
		http.Error(w, "service unavailable (injected)", http.StatusServiceUnavailable)
		return
	}
	lim, _ := r.Context().Value(limiterKey{}).(*connLimiter)
	lim.restart()
	bw := k.Bandwidth
	if k.Trickle > 0 {
		lim, bw = &connLimiter{}, k.Trickle // paced per answer, not per connection
	}
	fw := &folderWriter{ResponseWriter: w, lim: lim, bw: bw, flush: k.Trickle > 0, stats: stats}
	fw.cut = r.Header.Get("Range") != "" && folderStats.nextCut(k.Cut)
	serve(fw)
}

// Values of the validators knob; the zero value is what vcsim's file
// server always sent: Last-Modified, and If-Unmodified-Since honoured.
const (
	validatorsETag = "etag"
	validatorsNone = "none"
)

func setValidators(k *HarnessKnobs, s string) error {
	switch s {
	case "last_modified", "0", "":
		k.Validators = ""
	case validatorsETag, validatorsNone:
		k.Validators = s
	default:
		return fmt.Errorf("validators=%s: want last_modified, etag or none", s)
	}
	return nil
}

func validatorsName(v string) string {
	if v == "" {
		return "last_modified"
	}
	return v
}

// fileETag names one version of a file as a file server does: its
// identity (device, inode), modification time to the nanosecond and size.
func fileETag(fi os.FileInfo) string {
	var dev, ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		dev, ino = st.Dev, st.Ino
	}
	return fmt.Sprintf("\"%x-%x-%x-%x\"", dev, ino, fi.ModTime().UnixNano(), fi.Size())
}

// serveDatastoreFile serves r.URL.Path under dir.  A regular file carries
// the validators the knob asks for, taken from the very file being sent;
// http.ServeContent answers If-Match (against the ETag set here) and
// If-Unmodified-Since with 412.  Directories and misses go to the file
// server as before.
func (h *harness) serveDatastoreFile(w http.ResponseWriter, r *http.Request, dir string) {
	local := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+r.URL.Path)))
	if h.lockedBase(local) {
		refuseLockedBase(w)
		return
	}
	f, err := http.Dir(dir).Open(r.URL.Path)
	var fi os.FileInfo
	if err == nil {
		defer f.Close()
		fi, err = f.Stat()
	}
	if err != nil || fi.IsDir() {
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
		return
	}
	var modtime time.Time // zero: no Last-Modified
	switch currentKnobs().Validators {
	case validatorsETag:
		w.Header().Set("ETag", fileETag(fi))
		modtime = fi.ModTime()
	case "":
		modtime = fi.ModTime()
	}
	var content io.ReadSeeker = f
	if isEncrypted(local) {
		content = &cipherReader{r: f}
	}
	http.ServeContent(w, r, fi.Name(), modtime, content)
}
