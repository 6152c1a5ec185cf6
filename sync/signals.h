/* SIGINT, SIGTERM and SIGHUP stop the cycle: the handler only raises
 * a flag (and wakes poll through a pipe); every phase checks it.
 */
#ifndef SYNC_SIGNALS_H
#define SYNC_SIGNALS_H

#include <stdbool.h>

int sync_signals_install (void);

bool sync_stopping (void);

/* Readable once a stop signal has arrived, for poll. */
int sync_stop_fd (void);

/* Until sync_signals_unwatch, a thread calls ON_STOP once when a stop
 * signal arrives, whatever the other threads are blocked in.
 */
int sync_signals_watch (void (*on_stop) (void));
void sync_signals_unwatch (void);

/* From here on, cleaning up: waits on vCenter (removing the snapshot)
 * go on despite the signal that stopped the cycle, and only a further
 * one cuts them short, leaving the rest to the guardian.
 */
void sync_signals_cleanup_phase (void);

/* Whether waits on vCenter should end now. */
bool sync_waits_stop (void);

/* The signal that stopped us, for the message; 0 if none. */
int sync_stop_signal (void);

#endif /* SYNC_SIGNALS_H */
