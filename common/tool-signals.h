/* SIGINT, SIGTERM and SIGHUP stop the cycle: the handler only raises
 * a flag (and wakes poll through a pipe); every phase checks it.
 */
#ifndef TOOL_SIGNALS_H
#define TOOL_SIGNALS_H

#include <stdbool.h>

int tool_signals_install (void);

bool tool_stopping (void);

/* Readable once a stop signal has arrived, for poll. */
int tool_stop_fd (void);

/* Until tool_signals_unwatch, a thread calls ON_STOP once when a stop
 * signal arrives, whatever the other threads are blocked in.
 */
int tool_signals_watch (void (*on_stop) (void));
void tool_signals_unwatch (void);

/* From here on, cleaning up: waits on vCenter (removing the snapshot)
 * go on despite the signal that stopped the cycle, and only a further
 * one cuts them short, leaving the rest to the guardian.
 */
void tool_signals_cleanup_phase (void);

/* Whether waits on vCenter should end now. */
bool tool_waits_stop (void);

/* The signal that stopped us, for the message; 0 if none. */
int tool_stop_signal (void);

#endif /* TOOL_SIGNALS_H */
