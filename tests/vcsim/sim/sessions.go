// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Session checks vcsim lacks: idle expiry and the cookie on /folder.

import (
	"net/http"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
)

func sessionExpired(s Session, now time.Time) bool {
	t := currentKnobs().SessionIdleTimeout
	return t > 0 && now.Sub(s.LastActiveTime) > t
}

// liveSession returns the request's session, dropping it first if it sat
// idle too long. touch marks it used, as vCenter does for /folder access.
func liveSession(r *http.Request, touch bool) *Session {
	c, err := r.Cookie(soap.SessionCookieName)
	if err != nil {
		return nil
	}
	sm := Map.SessionManager()
	s, ok := sm.getSession(c.Value)
	if !ok {
		return nil
	}
	now := time.Now()
	if sessionExpired(s, now) {
		sm.delSession(s.Key)
		return nil
	}
	if touch {
		s.LastActiveTime = now
		sm.putSession(s)
	}
	return &s
}

// liveSessionCount drops expired sessions and counts the rest.
func liveSessionCount() int {
	sm := Map.SessionManager()
	now := time.Now()
	sessionMutex.Lock()
	defer sessionMutex.Unlock()
	for id, s := range sm.sessions {
		if sessionExpired(s, now) {
			delete(sm.sessions, id)
		}
	}
	return len(sm.sessions)
}

// expireAllSessions drops every session at once, as a vCenter restart
// does, and says how many there were.
func expireAllSessions() int {
	sm := Map.SessionManager()
	sessionMutex.Lock()
	defer sessionMutex.Unlock()
	n := len(sm.sessions)
	for id := range sm.sessions {
		delete(sm.sessions, id)
	}
	return n
}
