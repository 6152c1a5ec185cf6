#!/usr/bin/env bash
# Under --enable-sanitizers, the harness itself: nbdkit runs our plugin
# with the ASan runtime preloaded while the --run command does not get
# it, and sanitizers/run-test fails a test on a report, also one written
# by a process that outlives the test, and also when the test passed.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
: "${SANITIZER_CC:?this test runs only under --enable-sanitizers}"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 1
add_vm DC0/vm/asan-vm "$img"

# Bounded: under the preload nbdkit can hang at exit (see
# sanitizers/nbdkit).
# shellcheck disable=SC2046
timeout -s KILL 60 \
  nbdkit -U - "$NBDKIT_VSPHERE_PLUGIN" $(vsphere_server_args) vm=DC0/vm/asan-vm \
  --run 'printf "%s %s\n" "${LD_PRELOAD-unset}" \
           "$(grep -c libasan /proc/$PPID/maps)"' > "$VCSIM_DIR/seen" ||
  fail "nbdkit failed or did not exit within 60 s"
for _ in 1 2; do
  rc=0
  timeout -s KILL 60 nbdkit -U - "$NBDKIT_VSPHERE_PLUGIN" server=127.0.0.1:1 \
    user=u "password=+$VCSIM_PASSWORD_FILE" vm=x --run true 2> /dev/null || rc=$?
  [ $rc -eq 1 ] || fail "nbdkit, failing to connect, exited with $rc, not 1 (137: still there after 60 s)"
done
echo "ok: nbdkit exits, after a run and after a failure"
read -r preload maps < "$VCSIM_DIR/seen"
[ "$preload" = unset ] || fail "the --run command has LD_PRELOAD=$preload"
[ "$maps" -gt 0 ] || fail "nbdkit does not have the ASan runtime mapped"
echo "ok: nbdkit has the ASan runtime ($maps mappings), its --run command has no preload"

# A program with the defects each sanitizer reports.
cat > "$VCSIM_DIR/bad.c" <<'C'
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int
main (int argc, char *argv[])
{
  volatile int big = INT_MAX;
  if (strcmp (argv[1], "late-leak") == 0)
    sleep (2);
  if (strcmp (argv[1], "overflow") == 0)
    return big + argc > 0;
  return malloc (argc) == NULL;
}
C
# shellcheck disable=SC2086
$SANITIZER_CC -fsanitize=address,undefined -fno-sanitize-recover=all \
  -o "$VCSIM_DIR/bad" "$VCSIM_DIR/bad.c"

export SANITIZER_REPORTS=$VCSIM_DIR/reports
run_test=$abs_srcdir/sanitizers/run-test
for defect in leak overflow late-leak; do
  script=$VCSIM_DIR/test-$defect.sh
  if [ $defect = late-leak ]; then
    printf '#!/bin/sh\nLD_PRELOAD=%s %s late-leak &\nexit 0\n' \
      "$SANITIZER_LIBASAN" "$VCSIM_DIR/bad" > "$script"
  else
    printf '#!/bin/sh\n%s %s\nexit 0\n' "$VCSIM_DIR/bad" $defect > "$script"
  fi
  chmod +x "$script"
  if "$run_test" "$script" > "$VCSIM_DIR/out" 2>&1; then
    cat "$VCSIM_DIR/out"
    fail "run-test passed a test whose program had a $defect"
  fi
  grep -Eq 'LeakSanitizer|runtime error: signed integer overflow' "$VCSIM_DIR/out" || {
    cat "$VCSIM_DIR/out"
    fail "run-test failed without showing the report of the $defect"
  }
  echo "ok: run-test fails a test on a $defect and shows the report"
done
