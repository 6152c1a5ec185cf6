#!/usr/bin/env bash
# Each way of trusting the server works: cainfo=, thumbprint= (SHA-256
# with or without colons, SHA-1), and the explicit sslverify=false.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 1
vm=DC0/vm/tls-vm
add_vm "$vm" "$img"

for trust in "cainfo=$VCSIM_CAFILE" "thumbprint=$VCSIM_THUMBPRINT" \
             "thumbprint=${VCSIM_THUMBPRINT//:/}" \
             "thumbprint=$VCSIM_THUMBPRINT_SHA1" sslverify=false; do
  rm -f "$VCSIM_DIR/out.raw"
  nbdkit -U - "$NBDKIT_VSPHERE_PLUGIN" "server=$VCSIM_SERVER" "user=$VCSIM_USER" \
    "password=+$VCSIM_PASSWORD_FILE" "vm=$vm" "$trust" \
    --run "nbdcopy \"\$uri\" $VCSIM_DIR/out.raw"
  same_bytes "$img" "$VCSIM_DIR/out.raw"
  echo "ok: $trust"
done
