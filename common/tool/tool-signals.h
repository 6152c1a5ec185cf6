/* SIGINT, SIGTERM and SIGHUP stop the cycle: the handler only raises
 * a flag (and wakes poll through a pipe); every phase checks it.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_SIGNALS_H
#define TOOL_SIGNALS_H

#include <stdbool.h>

int tool_signals_install (void);

bool tool_stopping (void);

/* If a stop signal came, say so (the first time only: whatever it cut
 * short says nothing) and return true.  Call from the main thread.
 */
bool tool_report_stop (void);

/* Readable once a stop signal has arrived, for poll. */
int tool_stop_fd (void);

/* Until tool_signals_unwatch, a thread calls ON_STOP once when a stop
 * signal arrives, whatever the other threads are blocked in.
 */
int tool_signals_watch (void (*on_stop) (void));
void tool_signals_unwatch (void);

/* From here on, cleaning up: waits on vCenter (removing the snapshot)
 * go on despite the signal that stopped the cycle, for a few seconds
 * at most; a further signal cuts them short at once.  What is left
 * is the guardian's.
 */
void tool_signals_cleanup_phase (void);

/* Whether waits on vCenter, and the calls in flight, should end now:
 * the predicate for vs_pause_stop_when.
 */
bool tool_waits_stop (void);

#endif /* TOOL_SIGNALS_H */
