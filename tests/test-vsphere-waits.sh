#!/usr/bin/env bash
# Every wait on vCenter is bounded: a task that never ends fails at
# task-timeout= with a message naming it (and its snapshot is still
# removed), and a server that pages without end is cut off.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 4
vm=DC0/vm/waits
add_vm "$vm" "$img" "power=on"

rewrite () { vcsim_ctl POST /soap/rewrite -G "$@" >/dev/null; }
snapshots () { vcsim_ctl GET "/snapshots?vm=$vm"; }
no_snapshot () { [ -z "$(snapshots)" ]; }

# A snapshot task that vCenter shows as running forever.
rewrite --data-urlencode method=RetrievePropertiesEx \
  --data-urlencode 'match=<state>success</state>' \
  --data-urlencode 'replace=<state>running</state><progress>42</progress>'
start=$(date +%s)
expect_error 'creating snapshot "nbdkit-vsphere-[0-9a-f]{32}" of VM vm-[0-9]+: task task-[0-9]+ did not end within task-timeout= \(state running, 42% done\)' \
  "vm=$vm" snapshot=create task-timeout=3
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 30 ] || fail "giving up took $elapsed s with task-timeout=3"
vcsim_ctl POST /soap/rewrite/clear >/dev/null
# The task did take the snapshot in the end: the guardian removes it.
eventually no_snapshot || fail "the stuck task's snapshot was left: $(snapshots)"
echo "ok: a stuck task fails after task-timeout= and leaves no snapshot"

# Continuation tokens without end, while looking a VM up by name.
rewrite --data-urlencode method=RetrievePropertiesEx \
  --data-urlencode 'match=</returnval>' \
  --data-urlencode 'replace=<token>more</token></returnval>'
# shellcheck disable=SC2016
rewrite --data-urlencode method=ContinueRetrievePropertiesEx --data-urlencode status=200 \
  --data-urlencode 'match=(?s)<soapenv:Body>.*</soapenv:Body>' \
  --data-urlencode 'replace=<soapenv:Body><ContinueRetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>more</token></returnval></ContinueRetrievePropertiesExResponse></soapenv:Body>'
start=$(date +%s)
expect_error 'vm=waits: .* still had more VM names after [0-9]+ pages; refusing to read on' \
  vm=waits timeout=10
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 120 ] || fail "endless paging took $elapsed s"
vcsim_ctl POST /soap/rewrite/clear >/dev/null
echo "ok: endless continuation tokens are cut off"
