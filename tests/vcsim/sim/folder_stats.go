// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Counters of /folder traffic (to vCenter, and to the hosts directly)
// and of NFC reads, and the deterministic sequences that decide which
// requests a fault-injection share hits.

import (
	"fmt"
	"math"
	"sync"
)

type folderCounters struct {
	sync.Mutex
	name            string // prefix of the counters' names
	requests, bytes int64
	refused         int64 // service tickets refused (hosts only)
	seq503, seqCut  int64
}

var (
	folderStats = folderCounters{name: "folder"}
	hostStats   = folderCounters{name: "host"}
	nfcStats    = folderCounters{name: "nfc"} // IO requests, data bytes sent
)

// shareHits spreads a share evenly: with 0.25 exactly requests 4, 8, 12... hit.
func shareHits(n int64, share float64) bool {
	const eps = 1e-9
	return share > 0 && math.Floor(float64(n)*share+eps) > math.Floor(float64(n-1)*share+eps)
}

func (s *folderCounters) countRequest() {
	s.Lock()
	s.requests++
	s.Unlock()
}

func (s *folderCounters) countRefused() {
	s.Lock()
	s.refused++
	s.Unlock()
}

func (s *folderCounters) countBytes(n int) {
	s.Lock()
	s.bytes += int64(n)
	s.Unlock()
}

// next503 and nextCut advance their own sequence so that each share is exact.
func (s *folderCounters) next503(share float64) bool {
	s.Lock()
	defer s.Unlock()
	s.seq503++
	return shareHits(s.seq503, share)
}

func (s *folderCounters) nextCut(share float64) bool {
	s.Lock()
	defer s.Unlock()
	s.seqCut++
	return shareHits(s.seqCut, share)
}

// restartShares makes a newly set share start counting from the next request.
func (s *folderCounters) restartShares() {
	s.Lock()
	s.seq503, s.seqCut = 0, 0
	s.Unlock()
}

func (s *folderCounters) reset() {
	s.Lock()
	s.requests, s.bytes, s.refused = 0, 0, 0
	s.Unlock()
}

func (s *folderCounters) text() string {
	s.Lock()
	defer s.Unlock()
	t := fmt.Sprintf("%s_requests=%d\n%s_bytes=%d\n", s.name, s.requests, s.name, s.bytes)
	if s == &hostStats {
		t += fmt.Sprintf("host_tickets_refused=%d\n", s.refused)
	}
	return t
}
