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
	cfg := simulator.HarnessConfig{}
	flag.StringVar(&cfg.Dir, "dir", "", "state directory (certificate, env file); required")
	flag.StringVar(&cfg.User, "user", "administrator@vsphere.local", "login user name")
	flag.StringVar(&cfg.Password, "password", "s3cret P@ss&<word>", "login password")
	simulator.HarnessKnobFlags(flag.CommandLine, &cfg.Knobs)
	flag.Parse()
	if cfg.Dir == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := simulator.RunHarness(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim-harness:", err)
		os.Exit(1)
	}
}
