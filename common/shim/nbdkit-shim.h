/* A stand-in for the nbdkit server functions that the shared libraries
 * call (nbdkit_error, nbdkit_parse_bool, nbdkit_read_password, ...),
 * for the programs that are not nbdkit: the tools, the unit tests and
 * the fuzzers.  Each behaves as nbdkit's own, so that a parameter
 * means the same to the plugin and to the tools.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef NBDKIT_SHIM_H
#define NBDKIT_SHIM_H

#include <stdarg.h>

typedef void nbdkit_shim_message_fn (const char *fs, va_list args);

/* Send nbdkit_error and nbdkit_debug messages to ERROR and DEBUG
 * (either may be NULL).  Until then errors are only kept, and debug
 * messages dropped, which is what the unit tests want.
 */
void nbdkit_shim_set_messages (nbdkit_shim_message_fn *error,
                               nbdkit_shim_message_fn *debug);

/* The last nbdkit_error message of the calling thread ("" if none),
 * and forgetting it.
 */
const char *nbdkit_shim_last_error (void);
void nbdkit_shim_clear_error (void);

#endif /* NBDKIT_SHIM_H */
