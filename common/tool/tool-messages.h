/* The tools' messages (vsphere-sync, vsphere-v2v), prefixed by the
 * program's name: errors always, information unless --quiet,
 * debug with --verbose.  The shared code reports through nbdkit_error
 * and nbdkit_debug, which land here too.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_MESSAGES_H
#define TOOL_MESSAGES_H

#include <stdarg.h>
#include <stdbool.h>

void tool_messages_init (bool quiet, bool verbose);

void tool_error (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));
/* Even with --quiet, as errors are, but not kept as one. */
void tool_warning (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));
void tool_info (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));
void tool_debug (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));

/* The same with a va_list, for the nbdkit functions of the shim. */
void tool_verror (const char *fs, va_list args)
  __attribute__ ((format (printf, 1, 0)));
void tool_vdebug (const char *fs, va_list args)
  __attribute__ ((format (printf, 1, 0)));

/* A status line on a terminal, such as a progress bar: LINE (no
 * newline, no wider than the terminal) is drawn in place of the last
 * one.  Each message clears it, and it is drawn again below the
 * message.  tool_status_end leaves the line last drawn and moves on to
 * the next.
 */
void tool_status (const char *line);
void tool_status_end (void);

/* The first error of the run, for the JSON summary; NULL if none. */
const char *tool_first_error (void);

bool tool_verbose (void);

#endif /* TOOL_MESSAGES_H */
