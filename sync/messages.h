/* vsphere-sync's messages: errors always, information unless --quiet,
 * debug with --verbose.  The shared code reports through nbdkit_error
 * and nbdkit_debug, which land here too.
 */
#ifndef SYNC_MESSAGES_H
#define SYNC_MESSAGES_H

#include <stdarg.h>
#include <stdbool.h>

void sync_messages_init (bool quiet, bool verbose);

void sync_error (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));
void sync_info (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));
void sync_debug (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));

/* The same with a va_list, for the nbdkit functions of the shim. */
void sync_verror (const char *fs, va_list args)
  __attribute__ ((format (printf, 1, 0)));
void sync_vdebug (const char *fs, va_list args)
  __attribute__ ((format (printf, 1, 0)));

/* The first error of the run, for the JSON summary; NULL if none. */
const char *sync_first_error (void);

bool sync_verbose (void);

#endif /* SYNC_MESSAGES_H */
