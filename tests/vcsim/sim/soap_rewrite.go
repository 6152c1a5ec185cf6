// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Hostile /sdk answers on demand: rules that rewrite the answers of one
// SOAP method (a regexp replacement, an HTTP status, trailing padding)
// until cleared, for testing how a client copes with what a broken or
// malicious server may send.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
)

type soapRewrite struct {
	match   *regexp.Regexp // nil: the body is left as it is
	replace string         // regexp.Expand syntax: $1, $$
	status  int            // 0: keep vcsim's
	pad     int64          // spaces appended after the envelope
}

var soapRewrites = struct {
	sync.Mutex
	byMethod map[string][]soapRewrite
}{byMethod: map[string][]soapRewrite{}}

// maxRewritePad bounds pad= so that a typo cannot exhaust the test machine.
const maxRewritePad = 1 << 30

func parseSOAPRewrite(r *http.Request) (string, soapRewrite, error) {
	q := r.URL.Query()
	var rw soapRewrite
	method := q.Get("method")
	if method == "" {
		return "", rw, badRequest("method= is required")
	}
	if m := q.Get("match"); m != "" {
		re, err := regexp.Compile(m)
		if err != nil {
			return "", rw, badRequest("match=%q: %v", m, err)
		}
		rw.match = re
	}
	rw.replace = q.Get("replace")
	if s := q.Get("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			return "", rw, badRequest("status=%q: want an HTTP status code", s)
		}
		rw.status = n
	}
	pad, err := intParam(r, "pad", 0)
	if err != nil {
		return "", rw, err
	}
	if pad < 0 || pad > maxRewritePad {
		return "", rw, badRequest("pad=%d: want 0 to %d bytes", pad, maxRewritePad)
	}
	rw.pad = pad
	if rw.match == nil && rw.status == 0 && rw.pad == 0 {
		return "", rw, badRequest("give match=, status= or pad=")
	}
	return method, rw, nil
}

// ctlSOAPRewrite adds a rule; rules of one method apply in the order added.
func ctlSOAPRewrite(r *http.Request) (string, error) {
	method, rw, err := parseSOAPRewrite(r)
	if err != nil {
		return "", err
	}
	soapRewrites.Lock()
	defer soapRewrites.Unlock()
	soapRewrites.byMethod[method] = append(soapRewrites.byMethod[method], rw)
	return fmt.Sprintf("%d\n", len(soapRewrites.byMethod[method])), nil
}

func ctlSOAPRewriteClear(*http.Request) (string, error) {
	soapRewrites.Lock()
	defer soapRewrites.Unlock()
	soapRewrites.byMethod = map[string][]soapRewrite{}
	return "", nil
}

func soapRewritesFor(method string) []soapRewrite {
	soapRewrites.Lock()
	defer soapRewrites.Unlock()
	return soapRewrites.byMethod[method]
}

// serveRewritten runs serve into a recorder and sends its answer
// through the rules.
func serveRewritten(w http.ResponseWriter, rules []soapRewrite, serve func(http.ResponseWriter)) {
	rec := httptest.NewRecorder()
	serve(rec)
	body := rec.Body.Bytes()
	status := rec.Code
	var pad int64
	for _, rw := range rules {
		if rw.match != nil {
			body = rw.match.ReplaceAll(body, []byte(rw.replace))
		}
		if rw.status != 0 {
			status = rw.status
		}
		pad += rw.pad
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.FormatInt(int64(len(body))+pad, 10))
	w.WriteHeader(status)
	if _, err := w.Write(body); err != nil {
		return
	}
	writeSpaces(w, pad)
}

func writeSpaces(w http.ResponseWriter, n int64) {
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = ' '
	}
	for n > 0 {
		c := chunk
		if n < int64(len(c)) {
			c = c[:n]
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		n -= int64(len(c))
	}
}
