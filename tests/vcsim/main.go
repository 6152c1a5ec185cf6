// SPDX-License-Identifier: BSD-3-Clause

// Command vcsim-harness runs govmomi's vCenter simulator with the
// additions nbdkit-vsphere's tests need (see README.md).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	// The NFC self-test client (see sim/nfc_client.go).
	if len(os.Args) > 1 && os.Args[1] == "nfc-cat" {
		os.Exit(simulator.NfcCat(os.Args[2:]))
	}
	cfg := simulator.HarnessConfig{}
	flag.StringVar(&cfg.Dir, "dir", "", "state directory (certificate, env file); required")
	flag.StringVar(&cfg.User, "user", "", "login user name (default administrator@vsphere.local, with -esx root)")
	flag.StringVar(&cfg.Password, "password", "s3cret P@ss&<word>", "login password")
	flag.BoolVar(&cfg.ESX, "esx", false, "be a standalone ESXi host (ha-datacenter) instead of vCenter")
	simulator.HarnessKnobFlags(flag.CommandLine, &cfg.Knobs)
	flag.Parse()
	if cfg.Dir == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if cfg.User == "" {
		cfg.User = "administrator@vsphere.local"
		if cfg.ESX {
			cfg.User = "root" // ESXi's own account
		}
	}
	if err := simulator.RunHarness(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim-harness:", err)
		os.Exit(1)
	}
}
