/* The shared code's debug switches (debug-flags.h), off until a
 * program turns them on.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include "debug-flags.h"

int vs_debug_soap;
int vs_debug_http;
