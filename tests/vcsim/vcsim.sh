# Start, use and stop the simulated vCenter from bash tests.
# Source it:   source "$srcdir/vcsim/vcsim.sh"
# then:        vcsim_start [harness flags...]
# See README.md in this directory for the variables it exports.
#
# SPDX-License-Identifier: BSD-3-Clause

_vcsim_exit_cmds=()

# vcsim_on_exit CMD: run CMD at exit, before the harness stops (last
# registered runs first). Use this instead of your own trap.
vcsim_on_exit () {
    _vcsim_exit_cmds+=("$1")
}

_vcsim_cleanup () {
    local i
    for (( i = ${#_vcsim_exit_cmds[@]} - 1; i >= 0; i-- )); do
        eval "${_vcsim_exit_cmds[i]}" || :
    done
    _vcsim_exit_cmds=()
    vcsim_stop
}

_vcsim_on_exit_trap () {
    local rc=$?
    if [ "$rc" -ne 0 ] && [ -n "${VCSIM_DIR:-}" ] && [ -s "$VCSIM_DIR/log" ]; then
        echo "--- vcsim harness log (test failed with $rc) ---" >&2
        tail -n 50 "$VCSIM_DIR/log" >&2
    fi
    _vcsim_cleanup
    exit "$rc"
}

_vcsim_on_signal () {
    trap - EXIT
    _vcsim_cleanup
    exit "$1"
}

# vcsim_stop: stop the harness (TERM, then KILL) and remove VCSIM_DIR.
vcsim_stop () {
    local i
    if [ -n "${VCSIM_PID:-}" ]; then
        kill -TERM "$VCSIM_PID" 2>/dev/null || :
        for (( i = 0; i < 100; i++ )); do
            kill -0 "$VCSIM_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$VCSIM_PID" 2>/dev/null || :
        wait "$VCSIM_PID" 2>/dev/null || :
        VCSIM_PID=
    fi
    if [ -n "${VCSIM_DIR:-}" ]; then
        rm -rf "$VCSIM_DIR"
        VCSIM_DIR=
    fi
}

# vcsim_start [FLAGS...]: start the harness and export VCSIM_*.
vcsim_start () {
    local i
    if [ "${VCSIM_HARNESS-unset}" = "" ]; then
        echo "$0: test skipped: the simulated vCenter is not built (configure found no Go or govmomi: install golang-go and golang-github-vmware-govmomi-dev, then configure again)"
        exit 77
    fi
    if [ ! -x "${VCSIM_HARNESS:-}" ]; then
        echo "vcsim_start: VCSIM_HARNESS (${VCSIM_HARNESS:-unset}) is not an executable" >&2
        return 1
    fi
    trap _vcsim_on_exit_trap EXIT
    trap '_vcsim_on_signal 130' INT
    trap '_vcsim_on_signal 143' TERM
    VCSIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vcsim.XXXXXX") || return 1
    export VCSIM_DIR
    mkdir "$VCSIM_DIR/tmp"
    # vcsim's datastores are temp dirs: keep them inside VCSIM_DIR.
    # VCSIM_DELTA_FORMAT (copy, sesparse, vmfssparse) picks the snapshot
    # delta format of a whole run; a -delta-format flag given here wins.
    if [ -n "${VCSIM_DELTA_FORMAT:-}" ]; then
        set -- -delta-format "$VCSIM_DELTA_FORMAT" "$@"
    fi
    # VCSIM_ESX=1 (or the -esx flag): a standalone ESXi host instead of
    # vCenter; tests written for both use $VCSIM_DATACENTER, not DC0.
    if [ "${VCSIM_ESX:-0}" = 1 ]; then
        set -- -esx "$@"
    fi
    TMPDIR=$VCSIM_DIR/tmp "$VCSIM_HARNESS" -dir "$VCSIM_DIR" "$@" \
        </dev/null >"$VCSIM_DIR/log" 2>&1 &
    VCSIM_PID=$!
    for (( i = 0; i < 600; i++ )); do
        [ -f "$VCSIM_DIR/env" ] && break
        if ! kill -0 "$VCSIM_PID" 2>/dev/null; then
            echo "vcsim_start: the harness exited early:" >&2
            cat "$VCSIM_DIR/log" >&2
            wait "$VCSIM_PID" 2>/dev/null || :
            VCSIM_PID=
            return 1
        fi
        sleep 0.1
    done
    if [ ! -f "$VCSIM_DIR/env" ]; then
        echo "vcsim_start: the harness was not ready after 60 s" >&2
        return 1
    fi
    # shellcheck source=/dev/null
    source "$VCSIM_DIR/env"
    export VCSIM_SERVER VCSIM_HOST VCSIM_PORT VCSIM_USER VCSIM_PASSWORD \
        VCSIM_PASSWORD_FILE VCSIM_THUMBPRINT VCSIM_THUMBPRINT_SHA1 \
        VCSIM_CAFILE VCSIM_CONTROL VCSIM_PID VCSIM_DATACENTER VCSIM_API_TYPE
}

# vcsim_ctl METHOD PATH [curl args...]: call the control API; prints the
# body; on a non-2xx answer prints it on stderr and returns 1.
vcsim_ctl () {
    local method=$1 path=$2 out code
    shift 2
    out=$(curl -sS -X "$method" -w '\n%{http_code}' "$@" "$VCSIM_CONTROL$path") || return 1
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    if [[ $code != 2* ]]; then
        echo "vcsim_ctl $method $path: $code ${out%$'\n'}" >&2
        return 1
    fi
    # In one write: bash's printf writes line by line, so "vcsim_ctl ... |
    # grep -q" could die of SIGPIPE after grep found its line, failing
    # the pipeline under pipefail.
    [ -z "$out" ] || cat <<<"${out%$'\n'}"
}

# vcsim_urlencode STRING: percent-encode for a query value or path part.
vcsim_urlencode () {
    local LC_ALL=C s=$1 i c out=
    for (( i = 0; i < ${#s}; i++ )); do
        c=${s:i:1}
        case $c in
            [a-zA-Z0-9._~-]) out+=$c ;;
            *) printf -v c '%%%02X' "'$c"; out+=$c ;;
        esac
    done
    printf '%s\n' "$out"
}
