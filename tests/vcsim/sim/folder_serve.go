package simulator

// /folder as vCenter serves it: session cookie required, plus the injected
// faults, latency and bandwidth cap the knobs ask for.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
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
	cut    bool
	remain int64 // body bytes still allowed before the cut
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
		folderStats.countBytes(m)
		done += m
		if err != nil {
			return done, err
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
	k := currentKnobs()
	time.Sleep(k.Latency)
	if folderStats.next503(k.Fail503) {
		http.Error(w, "service unavailable (injected)", http.StatusServiceUnavailable)
		return
	}
	lim, _ := r.Context().Value(limiterKey{}).(*connLimiter)
	fw := &folderWriter{ResponseWriter: w, lim: lim, bw: k.Bandwidth}
	fw.cut = r.Header.Get("Range") != "" && folderStats.nextCut(k.Cut)
	if !h.serveFolderFile(fw, r) {
		h.mux.ServeHTTP(fw, r)
	}
}
