#!/usr/bin/env bash
# Neither the password nor the session cookie reaches any output, even
# with -v and every debug flag; the plugin logs out when it exits.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"

vcsim_start
img=$VCSIM_DIR/src.img
make_image "$img" 2
vm=DC0/vm/secret-vm
add_vm "$vm" "$img"
sessions=$(vcsim_ctl GET /sessions)

nbdkit_vsphere -v -D vsphere.soap=1 -D vsphere.http=1 "vm=$vm" \
  --run "nbdcopy \"\$uri\" null: && nbdinfo \"\$uri\"" > "$VCSIM_DIR/log" 2>&1
grep -q "soap: Login: HTTP 200" "$VCSIM_DIR/log" || fail "no SOAP debug output"
grep -q "http: GET https://.*/folder/.* bytes=0-" "$VCSIM_DIR/log" || fail "no HTTP debug output"
if grep -aF "$VCSIM_PASSWORD" "$VCSIM_DIR/log"; then
  fail "the password appears in the output"
fi
if grep -a "vmware_soap_session" "$VCSIM_DIR/log"; then
  fail "the session cookie appears in the output"
fi
echo "ok: no password or cookie in $(wc -l < "$VCSIM_DIR/log") lines of debug output"
sessions_back () { [ "$(vcsim_ctl GET /sessions)" = "$sessions" ]; }
eventually sessions_back ||
  fail "the plugin did not log out: $(vcsim_ctl GET /sessions) sessions, expected $sessions"
echo "ok: logged out"

# A password file or -FD input is read up to 4096 bytes before its
# first newline, and no further: /dev/zero, a large file or a FIFO that
# never ends fails at once with one clear message, in the plugin (also
# through the cbt filter, which reads the password too) and in the
# tools, without growing or hanging.
requires /usr/bin/time timeout
sync_tool=$abs_top_builddir/sync/vsphere-sync
v2v_tool=$abs_top_builddir/v2v/vsphere-v2v
add_vm DC0/vm/cbt-vm "$img" "cbt=1"
server=("server=$VCSIM_SERVER" "user=$VCSIM_USER" "thumbprint=$VCSIM_THUMBPRINT"
        vm=DC0/vm/cbt-vm)

# command_line PROGRAM PARAM: sets argv to PROGRAM (plugin, filter, sync
# or v2v) run with password=PARAM.
command_line ()
{
  case $1 in
    plugin) argv=(nbdkit -U - "$NBDKIT_VSPHERE_PLUGIN" "${server[@]}"
                  "password=$2" --run true) ;;
    filter) argv=(nbdkit -U - "--filter=$NBDKIT_CBT_FILTER"
                  "$NBDKIT_VSPHERE_PLUGIN" "${server[@]}" "password=$2"
                  snapshot=create "cbt-changeid=*" --run true) ;;
    sync) argv=("$sync_tool" -o "$VCSIM_DIR/sync-out" -- "${server[@]}"
                "password=$2") ;;
    v2v) argv=("$v2v_tool" --print-xml -- "${server[@]}" "password=$2") ;;
  esac
}

# run PROGRAM PARAM INPUT: PROGRAM with password=PARAM, INPUT open as
# its file descriptor 3, within 20 s and 1 GB; sets rc, secs (how long
# it ran) and kib (its peak memory), its output in $out.
out=$VCSIM_DIR/password.out
run ()
{
  local start=$SECONDS writer=
  command_line "$1" "$2"
  # A FIFO fed without end.
  if [ -p "${2#+}" ] || [ -p "$3" ]; then
    cat /dev/zero > "$fifo" 2>/dev/null &
    writer=$!
  fi
  rc=0
  # A bound on what a runaway read could take of the machine; ASan
  # needs far more address space than that for its shadow memory.
  ( [ -n "${SANITIZER_REPORTS:-}" ] || ulimit -v 1000000
    exec timeout 20 /usr/bin/time -f %M -o "$VCSIM_DIR/maxrss" "${argv[@]}"
  ) 3< "$3" > "$out" 2>&1 || rc=$?
  secs=$((SECONDS - start))
  kib=$(tail -n1 "$VCSIM_DIR/maxrss")
  [ -z "$writer" ] || { kill "$writer" 2>/dev/null || true; wait "$writer" || true; }
}

# too_large PARAM WHAT INPUT: every program given password=PARAM, INPUT
# on its file descriptor 3, fails within 3 s and 40 MB (160 under ASan), saying that
# WHAT ("file F", "file descriptor N") holds too much.
too_large ()
{
  local p msg="password $2 holds more than 4096 bytes before its first newline: it should hold only the password"
  for p in plugin filter sync v2v; do
    run "$p" "$1" "$3"
    [ "$rc" != 0 ] || fail "$p accepted password=$1"
    [ "$secs" -le 3 ] || fail "$p took $secs s to refuse password=$1"
    [ "$kib" -le "$max_kib" ] || fail "$p grew to $kib KiB reading password=$1"
    grep -qF "$msg" "$out" ||
      { cat "$out" >&2; fail "$p password=$1: no message '$msg'"; }
  done
  echo "ok: password=$1 ($3) refused at once by the plugin, the filter and the tools"
}

# The programs' own peak, a few MB, is far from where an unbounded read
# gets within 3 s (hundreds of MB); ASan adds its own tens of MB.
max_kib=40000
[ -z "${SANITIZER_REPORTS:-}" ] || max_kib=160000
head -c 5120 /dev/zero | tr '\0' x > "$VCSIM_DIR/5k.pw"
fifo=$VCSIM_DIR/fifo.pw
mkfifo "$fifo"
mkdir "$VCSIM_DIR/sync-out"
too_large +/dev/zero "file /dev/zero" /dev/null
too_large "+$VCSIM_DIR/5k.pw" "file $VCSIM_DIR/5k.pw" /dev/null
too_large "+$fifo" "file $fifo" /dev/null
too_large -3 "file descriptor 3" /dev/zero
too_large -3 "file descriptor 3" "$fifo"

# 4096 bytes before the newline are still read as a password (and
# refused by the server); anything after the first line is ignored, as
# nbdkit does.
{ head -c 4096 "$VCSIM_DIR/5k.pw"; echo; echo second line; } > "$VCSIM_DIR/4k.pw"
for p in plugin filter sync v2v; do
  run "$p" "+$VCSIM_DIR/4k.pw" /dev/null
  [ "$rc" != 0 ] && grep -q "login as $VCSIM_USER failed: wrong user name or password" "$out" ||
    { cat "$out" >&2; fail "$p: a 4096-byte password was not sent to the server"; }
done
printf '%s\nsecond line\n' "$VCSIM_PASSWORD" > "$VCSIM_DIR/2lines.pw"
for p in plugin filter sync v2v; do
  for pw in "+$VCSIM_DIR/2lines.pw" -3; do
    run "$p" "$pw" "$VCSIM_DIR/2lines.pw"
    [ "$rc" = 0 ] ||
      { cat "$out" >&2; fail "$p: password=$pw: not the file's first line"; }
  done
done
echo "ok: a password of 4096 bytes is read; only the first line is the password"
