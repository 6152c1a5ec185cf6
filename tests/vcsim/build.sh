#!/bin/bash
# Build the vcsim harness offline, in GOPATH mode, from Debian's govmomi
# source: the files in sim/ join package simulator through -overlay.
# Usage: build.sh OUTPUT   (environment: GO, GOVMOMI_GOPATH, VCSIM_GOCACHE)
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail

out=${1:?usage: build.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
gopath_src=${GOVMOMI_GOPATH:-/usr/share/gocode}
simdir=$gopath_src/src/github.com/vmware/govmomi/simulator
[ -d "$simdir" ] || {
    echo "build.sh: $simdir missing: install golang-github-vmware-govmomi-dev" >&2
    exit 1
}

mkdir -p "$(dirname "$out")"
outdir=$(cd "$(dirname "$out")" && pwd)
work=$(mktemp -d "$outdir/.vcsim-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# overlay.json needs absolute paths, so it is made here; the prefix keeps
# our files apart from vcsim's own.
{
    printf '{"Replace":{'
    sep=
    for f in "$here"/sim/*.go; do
        printf '%s"%s/vsphere_harness_%s":"%s"' "$sep" "$simdir" "$(basename "$f")" "$f"
        sep=,
    done
    printf '}}\n'
} > "$work/overlay.json"

# The cache lives next to the binary so rebuilds are quick and $HOME is
# never touched.
export GOPATH=$gopath_src GOENV=off
export GO111MODULE=off GOFLAGS= GOPROXY=off
export GOCACHE=${VCSIM_GOCACHE:-$outdir/.gocache}
cd "$here"
"${GO:-go}" build -overlay "$work/overlay.json" -o "$work/vcsim-harness" main.go
mv "$work/vcsim-harness" "$outdir/$(basename "$out")"
