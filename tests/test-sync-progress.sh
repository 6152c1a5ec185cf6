#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2207
# vsphere-sync's progress, during copies slowed by the simulator's
# bandwidth knob: on a pseudo-terminal 60 columns wide (120 for the
# graph), one line redrawn in place, never wider than the terminal,
# cleared for a message, ending with a 100% line and the time; off a
# terminal, --progress=1 prints a line about every second and a final
# one; --progress-fd 3 gets one JSON event a line, bytes that never go
# back, and a final event at 100%; a cycle with nothing to copy ends at
# 100% too; a copy stopped by a signal ends with a failed event.  Each
# copy is checked byte for byte.
#
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
source "$srcdir/functions.sh"
source "$srcdir/sync-functions.sh"
requires script stty

vcsim_start
two_disk_vm progress-vm 4 4
# Two HTTPS connections of 1 MiB/s each: a disk at a time copies in
# about 4 s.
params=($(server_params "$vm") connections=2)
knob "bandwidth=$((1 << 20))"

# on_terminal COLUMNS OUT COMMAND: COMMAND on a pseudo-terminal that
# wide, everything it writes there into OUT, with the terminal's \r\n
# as \n: a \r left is a redraw.
on_terminal ()
{
  local columns=$1 out=$2
  shift 2
  script -qfec "stty cols $columns rows 24; exec env TERM=xterm $(printf '%q ' "$@")" \
    /dev/null < /dev/null > "$out.raw" || {
    cat "$out.raw" >&2
    fail "on a terminal: $* failed"
  }
  sed 's/\r$//' "$out.raw" > "$out"
}

# bar FILE: what the bar drew (on the lines with redraws, but for the
# messages), one drawing a line, without the escape that clears to the
# end of the line.
bar ()
{
  grep -a $'\r' "$1" | tr '\r' '\n' | sed 's/\x1b\[K//g' | grep -av '^vsphere-sync: '
}

# 1. On a terminal: the bar.  Its events go to a reader that leaves
# after the first: the warning about it is a message while the bar is
# drawn, which clears the bar's line first.
tty=$VCSIM_DIR/tty.out
on_terminal 60 "$tty" "$sync_tool" --connections 1 --progress-fd 3 -o "$dir" \
  -- "${params[@]}" 3> >(head -c 1 >/dev/null)
check_outputs "the copy on a terminal"
grep -aq $'\r\e\\[Kvsphere-sync: warning: --progress-fd 3: [^\r]*no more progress events' "$tty" ||
  fail "on a terminal: the warning did not clear the bar's line: $(cat -A "$tty")"
redraws=$(tr -cd '\r' < "$tty" | wc -c)
[ "$redraws" -ge 8 ] || fail "on a terminal: $redraws redraws: $(cat -A "$tty")"
bar "$tty" | awk 'length($0) > 60 { print; bad = 1 } END { exit bad }' ||
  fail "on a terminal of 60 columns, lines wider than that: $(cat -A "$tty")"
bar "$tty" | grep -Eq '^(\[[#.]+\] )?0 B of 7\.[0-9] MiB \(0%\), - B/s, ETA -, disk 0 ' ||
  fail "on a terminal: the bar did not begin at 0% with no rate known: $(cat -A "$tty")"
bar "$tty" | grep -Eq 'B/s, ETA [0-9]+ s, disk 1( |$)' ||
  fail "on a terminal: no rate, ETA and disk 1 during the copy: $(cat -A "$tty")"
# The bar's last drawing ends its line.
final=$(bar "$tty" | tail -1)
grep -Eq '^(\[#+\] )?(7\.[0-9] MiB) of \2 \(100%\) in [0-9.]+ s, [0-9.]+ MiB/s$' <<<"$final" ||
  fail "on a terminal: the last line of the bar is '$final': $(cat -A "$tty")"
echo "ok: on a terminal, $redraws redraws within 60 columns, ending with: $final"

# 2. Off a terminal, --progress=1, and --progress-fd 3 with --json.
events=$VCSIM_DIR/events
sync_ok "--progress=1 --progress-fd 3" --progress=1 --progress-fd 3 --json \
  --full --connections 1 -o "$dir" -- "${params[@]}" 3> "$events"
check_outputs "--progress=1 --progress-fd 3"
err=$VCSIM_DIR/sync.err
! grep -q $'\r' "$err" || fail "off a terminal, a \\r: $(cat -A "$err")"
lines=$(grep -Ec '^vsphere-sync: [0-9.]+ [KM]?i?B of 7\.[0-9] MiB \([0-9]+%\), .*B/s, ETA ' "$err" || true)
seconds=$(json_get .seconds)
[ "$lines" -ge 2 ] && awk -v n="$lines" -v t="$seconds" 'BEGIN { exit !(n <= t + 1) }' ||
  fail "--progress=1: $lines lines in $seconds s: $(cat "$err")"
grep -Eq '^vsphere-sync: (7\.[0-9] MiB) of \1 \(100%\) in [0-9.]+ s, [0-9.]+ MiB/s$' "$err" ||
  fail "--progress=1: no final line: $(cat "$err")"
echo "ok: --progress=1 printed $lines lines in $seconds s and a final one"

# Every line is one JSON object; the bytes copied never go back; the
# last event alone is the end, at 100%.
n=$(wc -l < "$events")
[ "$(jq -s length "$events")" = "$n" ] && [ "$n" -ge 3 ] ||
  fail "--progress-fd: $n lines, not one JSON event each: $(cat "$events")"
jq -s -e --argjson total "$(json_get .bytes_to_copy)" '
  all(.[]; type == "object" and (.bytes_to_copy == $total) and
           (.seconds | type == "number") and (.percent | type == "number")) and
  ([.[].bytes_copied] as $b | all(range(1; $b | length); $b[.] >= $b[. - 1])) and
  (.[0] | .event == "progress" and .bytes_copied == 0 and .rate == null and
          .eta == null and .disk.index == 0 and (.disk.label | type == "string")) and
  (any(.[]; .event == "progress" and (.rate | type == "number") and
            (.eta | type == "number") and .disk.index == 1)) and
  ([.[] | select(.event == "end")] | length == 1) and
  (.[-1] | .event == "end" and .result == "ok" and .percent == 100 and
           .bytes_copied == $total and .disk == null)' "$events" >/dev/null ||
  fail "--progress-fd: the events: $(cat "$events")"
! grep -Eq '"(seconds|percent|eta)":[0-9]+\.[0-9]{4}' "$events" ||
  fail "--progress-fd: numbers not rounded: $(cat "$events")"
echo "ok: --progress-fd 3 got $n JSON events, the last: $(tail -1 "$events")"

# 3. Nothing to copy: the bar and the events end at 100% all the same;
# on a terminal of 120 columns, after a graph of 30.
knob bandwidth=0
# script(1) hands its command the descriptors it has.
on_terminal 120 "$tty" "$sync_tool" --progress-fd 3 -o "$dir" -- "${params[@]}" 3> "$events"
check_outputs "nothing to copy"
final=$(bar "$tty" | tail -1)
grep -Eq '^\[#{30}\] 0 B of 0 B \(100%\) in [0-9.]+ s$' <<<"$final" ||
  fail "nothing to copy: the last line of the bar is '$final': $(cat -A "$tty")"
jq -s -e '.[-1] | .event == "end" and .result == "ok" and .percent == 100 and
                  .bytes_to_copy == 0' "$events" >/dev/null ||
  fail "nothing to copy: the events: $(cat "$events")"
echo "ok: nothing to copy ends with: $final"

# 4. A copy stopped by a signal: the final line and an end event that
# says it failed.
knob "bandwidth=$((1 << 20))"
"$sync_tool" --progress=1 --progress-fd 3 --full --connections 1 -o "$dir" \
  -- "${params[@]}" 3> "$events" 2> "$err" &
pid=$!
vcsim_on_exit "kill -9 $pid 2>/dev/null || true"
copying () { jq -se 'any(.[]; .bytes_copied > 0)' "$events" >/dev/null 2>&1; }
eventually copying || fail "no bytes copied: $(cat "$events")"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 1 ] || fail "the stopped cycle exited with $rc: $(cat "$err")"
expect_no_snapshot "$vm" "the stopped cycle"
jq -s -e '(.[-1] | .event == "end" and .result == "failed" and .percent < 100) and
          ([.[] | select(.event == "end")] | length == 1)' "$events" >/dev/null ||
  fail "the stopped cycle's events: $(cat "$events")"
grep -Eq '^vsphere-sync: .* of 7\.[0-9] MiB \([0-9]+%\) in [0-9.]+ s' "$err" ||
  fail "the stopped cycle printed no final line: $(cat "$err")"
echo "ok: a stopped copy ends with: $(tail -1 "$events")"
knob bandwidth=0

# 5. The descriptor must be open for writing.
sync_fails "--progress-fd of a closed descriptor" 2 \
  'progress-fd 7: expected a file descriptor open for writing' \
  --progress-fd 7 -o "$dir" -- "${params[@]}"
sync_fails "--progress-fd 1 with --json" 2 'standard output holds the JSON summary' \
  --json --progress-fd 1 -o "$dir" -- "${params[@]}"
sync_fails "--progress=0" 2 'progress=0: expected a number of seconds' \
  --progress=0 -o "$dir" -- "${params[@]}"

sync_done
