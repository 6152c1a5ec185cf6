// SPDX-License-Identifier: BSD-3-Clause

package simulator

// Fault-injection and timing knobs, settable by flag and by the control API.

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// defaultDeltaFormat is what snapshots write unless -delta-format, the
// delta_format knob or /vm/create?delta= say otherwise: copy, sesparse or
// vmfssparse. (Flip it here once the C reader handles real deltas.)
const defaultDeltaFormat = deltaSeSparse

// effectiveDeltaFormat maps the knob's zero value to the default.
func effectiveDeltaFormat(f string) string {
	if f == "" {
		return defaultDeltaFormat
	}
	return f
}

// HarnessKnobs are all off (zero) by default; DeltaFormat "" means
// defaultDeltaFormat.
type HarnessKnobs struct {
	SessionIdleTimeout time.Duration
	Fail503            float64 // share of /folder requests answered 503
	Cut                float64 // share of ranged /folder bodies cut short
	Latency            time.Duration
	Bandwidth          int64  // bytes per second per connection on /folder bodies
	CBTPage            int64  // QueryChangedDiskAreas page size; 0 = default
	DeltaFormat        string // copy, sesparse or vmfssparse
	CBTFault           string // "", gap, overlap or past_end: a broken answer
	BusyTasks          int64  // snapshot calls still to refuse with TaskInProgress
	LoginFail          int64  // Login calls still to answer 503
	Validators         string // "" (Last-Modified), etag (ETag too) or none
	Trickle            int64  // bytes per second for each /folder body, flushed as sent
	GuestShutdown      string // "" (at once), a duration, "ignore" or "no_tools"
	FreeLicense        bool   // calls that change a VM answer RestrictedVersion
	LockedBase         bool   // /folder refuses a running VM's base extents under deltas
	NfcFault           string // "" or a kind of nfc_faults.go
	NfcFaultTimes      int64  // how often NfcFault fires; 0: every time
}

const defaultCBTPage = 512 << 30 // what real vCenter answers at most per call

type knob struct {
	name  string
	usage string
	set   func(*HarnessKnobs, string) error
	get   func(*HarnessKnobs) string
}

func parseShare(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("share must be a number in [0,1]: %q", s)
	}
	return v, nil
}

func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q (e.g. 1.5s, 200ms)", s)
	}
	return d, nil
}

func parseFlag(s string) (bool, error) {
	switch s {
	case "0", "false", "off":
		return false, nil
	case "1", "true", "on":
		return true, nil
	}
	return false, fmt.Errorf("want 1 or 0, not %q", s)
}

func parseWhole(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a whole number, not %q", s)
	}
	return v, nil
}

// One table drives flags, POST /knobs and GET /knobs so they cannot drift.
var knobTable = []knob{
	{"session_idle_timeout", "drop SOAP sessions idle longer than this",
		func(k *HarnessKnobs, s string) (err error) { k.SessionIdleTimeout, err = parseDuration(s); return },
		func(k *HarnessKnobs) string { return k.SessionIdleTimeout.String() }},
	{"fail503", "share of /folder requests answered 503 (0.25 = every 4th)",
		func(k *HarnessKnobs, s string) (err error) { k.Fail503, err = parseShare(s); return },
		func(k *HarnessKnobs) string { return strconv.FormatFloat(k.Fail503, 'g', -1, 64) }},
	{"cut", "share of ranged /folder responses whose connection is cut mid-body",
		func(k *HarnessKnobs, s string) (err error) { k.Cut, err = parseShare(s); return },
		func(k *HarnessKnobs) string { return strconv.FormatFloat(k.Cut, 'g', -1, 64) }},
	{"latency", "delay added to every authenticated /folder request",
		func(k *HarnessKnobs, s string) (err error) { k.Latency, err = parseDuration(s); return },
		func(k *HarnessKnobs) string { return k.Latency.String() }},
	{"bandwidth", "bytes per second per connection for /folder bodies",
		func(k *HarnessKnobs, s string) (err error) { k.Bandwidth, err = parseWhole(s); return },
		func(k *HarnessKnobs) string { return strconv.FormatInt(k.Bandwidth, 10) }},
	{"cbt_page", "bytes covered by one QueryChangedDiskAreas answer (0 = 512 GiB)",
		func(k *HarnessKnobs, s string) (err error) { k.CBTPage, err = parseWhole(s); return },
		func(k *HarnessKnobs) string { return strconv.FormatInt(k.CBTPage, 10) }},
	{"cbt_fault", "QueryChangedDiskAreas answers wrongly: gap, overlap, past_end (empty = off)",
		func(k *HarnessKnobs, s string) error {
			switch s {
			case "", "0", "gap", "overlap", "past_end":
			default:
				return fmt.Errorf("cbt_fault=%s: want gap, overlap or past_end", s)
			}
			if s == "0" {
				s = ""
			}
			k.CBTFault = s
			return nil
		},
		func(k *HarnessKnobs) string { return k.CBTFault }},
	{"busy_tasks", "refuse the next N snapshot create and remove calls with TaskInProgress",
		func(k *HarnessKnobs, s string) (err error) { k.BusyTasks, err = parseWhole(s); return },
		func(k *HarnessKnobs) string { return strconv.FormatInt(k.BusyTasks, 10) }},
	{"login_fail", "answer the next N Login calls 503, as vCenter does while it restarts",
		func(k *HarnessKnobs, s string) (err error) { k.LoginFail, err = parseWhole(s); return },
		func(k *HarnessKnobs) string { return strconv.FormatInt(k.LoginFail, 10) }},
	{"delta_format", "snapshot delta files: copy (full copies), sesparse or vmfssparse",
		func(k *HarnessKnobs, s string) error {
			if err := checkDeltaFormat(s); err != nil {
				return err
			}
			k.DeltaFormat = s
			return nil
		},
		func(k *HarnessKnobs) string { return effectiveDeltaFormat(k.DeltaFormat) }},
	{"validators", "what /folder files carry: last_modified (default), etag (ETag and If-Match too) or none",
		func(k *HarnessKnobs, s string) error { return setValidators(k, s) },
		func(k *HarnessKnobs) string { return validatorsName(k.Validators) }},
	{"guest_shutdown", "how the guest answers ShutdownGuest: now (default), a delay such as 3s, ignore, or no_tools",
		func(k *HarnessKnobs, s string) error {
			switch s {
			case "", "now", "ignore", "no_tools":
			default:
				if _, err := parseDuration(s); err != nil {
					return fmt.Errorf("guest_shutdown=%s: want now, a duration, ignore or no_tools", s)
				}
			}
			if s == "now" {
				s = ""
			}
			k.GuestShutdown = s
			return nil
		},
		func(k *HarnessKnobs) string {
			if k.GuestShutdown == "" {
				return "now"
			}
			return k.GuestShutdown
		}},
	{"trickle", "bytes per second for each /folder body, sent as they go (0 = off)",
		func(k *HarnessKnobs, s string) (err error) { k.Trickle, err = parseWhole(s); return },
		func(k *HarnessKnobs) string { return strconv.FormatInt(k.Trickle, 10) }},
	{"free_license", "1: a host with the free vSphere Hypervisor license, whose API refuses every change to a VM (RestrictedVersion)",
		func(k *HarnessKnobs, s string) (err error) { k.FreeLicense, err = parseFlag(s); return },
		func(k *HarnessKnobs) string { return map[bool]string{false: "0", true: "1"}[k.FreeLicense] }},
	{"locked_base", "1: /folder answers 500 for the base extent under a running VM's snapshot deltas, as ESXi is reported to",
		func(k *HarnessKnobs, s string) (err error) { k.LockedBase, err = parseFlag(s); return },
		func(k *HarnessKnobs) string { return map[bool]string{false: "0", true: "1"}[k.LockedBase] }},
	{"nfc_fault", "an NFC fault (nfc_faults.go): banner, proxy, open, or at IO reads cut, magic, error, stall, type, overlap, overrun, repeat, length, opid (empty = off)",
		func(k *HarnessKnobs, s string) error {
			if err := checkNfcFault(s); err != nil {
				return err
			}
			if s == "0" {
				s = ""
			}
			k.NfcFault = s
			restartNfcFaults()
			return nil
		},
		func(k *HarnessKnobs) string { return k.NfcFault }},
	{"nfc_fault_times", "how many times nfc_fault fires (0 = every time)",
		func(k *HarnessKnobs, s string) (err error) {
			k.NfcFaultTimes, err = parseWhole(s)
			restartNfcFaults()
			return
		},
		func(k *HarnessKnobs) string { return strconv.FormatInt(k.NfcFaultTimes, 10) }},
}

// HarnessKnobFlags registers -session-idle-timeout, -fail503, ... on fs.
func HarnessKnobFlags(fs *flag.FlagSet, k *HarnessKnobs) {
	for _, kn := range knobTable {
		kn := kn
		fs.Func(strings.ReplaceAll(kn.name, "_", "-"), kn.usage, func(s string) error { return kn.set(k, s) })
	}
}

var knobs struct {
	sync.Mutex
	HarnessKnobs
}

func currentKnobs() HarnessKnobs {
	knobs.Lock()
	defer knobs.Unlock()
	return knobs.HarnessKnobs
}

// setKnobs applies every known key of q, all or nothing.
func setKnobs(q url.Values) error {
	knobs.Lock()
	defer knobs.Unlock()
	k := knobs.HarnessKnobs
	for name := range q {
		found := false
		for _, kn := range knobTable {
			if kn.name == name {
				if err := kn.set(&k, q.Get(name)); err != nil {
					return fmt.Errorf("%s: %v", name, err)
				}
				found = true
			}
		}
		if !found {
			return fmt.Errorf("unknown knob %q", name)
		}
	}
	knobs.HarnessKnobs = k
	folderStats.restartShares()
	return nil
}

// countDown reports whether the counter that field picks out was above
// zero, taking one off it: for knobs that act on the next N calls.
func countDown(field func(*HarnessKnobs) *int64) bool {
	knobs.Lock()
	defer knobs.Unlock()
	n := field(&knobs.HarnessKnobs)
	if *n == 0 {
		return false
	}
	*n--
	return true
}

// takeBusyTask reports whether this snapshot call is to find the VM busy
// with another task.
func takeBusyTask() bool { return countDown(func(k *HarnessKnobs) *int64 { return &k.BusyTasks }) }

// takeLoginFailure reports whether this Login is to fail.
func takeLoginFailure() bool { return countDown(func(k *HarnessKnobs) *int64 { return &k.LoginFail }) }

func knobsText() string {
	k := currentKnobs()
	var b strings.Builder
	for _, kn := range knobTable {
		fmt.Fprintf(&b, "%s=%s\n", kn.name, kn.get(&k))
	}
	return b.String()
}
