# Shared by build-debian-image, boot-check and the guest tests: the cache
# directory, the choice between KVM and TCG, and libguestfs's settings.
# Source it from bash with set -euo pipefail in force.
# shellcheck shell=bash
#
# SPDX-License-Identifier: BSD-3-Clause

guest_prog=${0##*/}

guest_die ()
{
  echo "$guest_prog: error: $*" >&2
  exit 2
}

guest_note ()
{
  echo "$guest_prog: $*" >&2
}

# The directory holding built images and the remembered KVM probe.
guest_cache_dir ()
{
  echo "${NBDKIT_VSPHERE_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nbdkit-vsphere/guest}"
}

# guest_require PROGRAM PACKAGE...: stop with the package to install when
# a program is missing.
guest_require ()
{
  local prog=$1 pkg=$2
  command -v "$prog" >/dev/null 2>&1 && return 0
  case $prog in
    */*) [ -x "$prog" ] && return 0 ;;
  esac
  guest_die "$prog not found: install the Debian package $pkg" \
            "(the full list is in tests/guest/host-packages)"
}

# A kernel on this machine to probe KVM with: the newest /boot/vmlinuz-*.
guest_probe_kernel ()
{
  local k
  k=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -readable 2>/dev/null |
      sort -V | tail -n 1)
  [ -n "$k" ] && echo "$k"
}

# guest_kvm_probe: exit status 0 when a stock Linux kernel runs under KVM
# here.  It boots this machine's own kernel with no disk and no initramfs
# under KVM and -cpu host (as libguestfs and boot-check do): a good KVM
# gets it to its "unable to mount root" panic and, with panic=-1 and
# -no-reboot, out of qemu within a second or two.  A KVM that cannot run
# the kernel either makes qemu fail (seen here: "failed to set MSR 0x10a")
# or hangs with nothing on the console: the timeout catches that.
# Sets guest_kvm_reason.
guest_kvm_probe ()
{
  local kernel log rc=0
  guest_kvm_reason=
  if [ ! -e /dev/kvm ]; then
    guest_kvm_reason="there is no /dev/kvm"
    return 1
  fi
  if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    guest_kvm_reason="/dev/kvm is not readable and writable by $(id -un)"
    return 1
  fi
  # PVM (the kvm_pvm module) is a paging-based KVM for nested use: it
  # runs only guest kernels built for it, and a stock Debian kernel hangs
  # early.  Known without a probe.
  if [ -d /sys/module/kvm_pvm ]; then
    guest_kvm_reason="KVM here is PVM (kvm_pvm), on which a stock Debian kernel hangs"
    return 1
  fi
  if ! kernel=$(guest_probe_kernel); then
    guest_kvm_reason="no readable /boot/vmlinuz-* to probe KVM with (set GUEST_ACCEL=kvm to use it untested)"
    return 1
  fi
  log=$(mktemp "${TMPDIR:-/tmp}/guest-kvm-probe.XXXXXX")
  timeout --kill-after=5 "${GUEST_KVM_PROBE_TIMEOUT:-20}" \
    qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults \
      -display none -no-reboot -serial "file:$log" \
      -kernel "$kernel" -append "console=ttyS0 panic=-1" \
      >"$log.err" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ] && grep -q 'Kernel panic' "$log"; then
    rm -f "$log" "$log.err"
    return 0
  fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    guest_kvm_reason="a probe boot of $kernel under KVM showed no sign of life in ${GUEST_KVM_PROBE_TIMEOUT:-20} s"
  else
    guest_kvm_reason="a probe boot of $kernel under KVM failed (qemu exit $rc: $(tail -n 1 "$log.err"))"
  fi
  rm -f "$log" "$log.err"
  return 1
}

# guest_accel: prints kvm or tcg.  GUEST_ACCEL=kvm|tcg decides without a
# probe.  Otherwise the answer is remembered in the cache directory for
# the current boot of this machine (/proc/sys/kernel/random/boot_id), so
# the probe runs once per boot.  The reason for TCG goes to standard
# error.
guest_accel ()
{
  local dir file answer boot_id
  case ${GUEST_ACCEL:-} in
    kvm|tcg) echo "$GUEST_ACCEL"; return 0 ;;
    ''|auto) ;;
    *) guest_die "GUEST_ACCEL must be kvm, tcg or auto, not '$GUEST_ACCEL'" ;;
  esac
  dir=$(guest_cache_dir)
  boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
  file=$dir/accel-$boot_id
  if [ "$boot_id" != unknown ] && [ -r "$file" ]; then
    answer=$(head -n 1 "$file")
    case $answer in
      kvm) echo kvm; return 0 ;;
      tcg) guest_note "using TCG, not KVM: $(sed -n 2p "$file") (found earlier in this boot)"
           echo tcg; return 0 ;;
    esac
  fi
  if guest_kvm_probe; then
    answer=kvm
  else
    answer=tcg
    guest_note "using TCG, not KVM: $guest_kvm_reason"
  fi
  if [ "$boot_id" != unknown ] && mkdir -p "$dir" 2>/dev/null; then
    rm -f "$dir"/accel-*
    printf '%s\n%s\n' "$answer" "${guest_kvm_reason:-}" > "$file.$$" &&
      mv -f "$file.$$" "$file"
  fi
  echo "$answer"
}

# guest_libguestfs_env ACCEL: libguestfs's direct backend, and TCG when
# ACCEL (from guest_accel) is tcg: libguestfs would otherwise pick KVM
# whenever /dev/kvm opens, and on a KVM like PVM its appliance never
# comes up.
guest_libguestfs_env ()
{
  export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
  if [ "$1" = tcg ]; then
    export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:+$LIBGUESTFS_BACKEND_SETTINGS:}force_tcg
  fi
}
