/* The options every tool takes, as nbdkit's and libnbd's tools do:
 * -q/--quiet, -v/--verbose, -V/--version and --help.  A tool ends its
 * getopt_long table with TOOL_COMMON_LONG_OPTIONS, adds
 * TOOL_COMMON_SHORT_OPTIONS to its short ones, and hands what
 * getopt_long returns to tool_common_option first.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_OPTIONS_H
#define TOOL_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* --help's value: below the tools' own long options, from 256 up. */
#define TOOL_OPT_HELP 255

#define TOOL_COMMON_SHORT_OPTIONS "qvV"
#define TOOL_COMMON_LONG_OPTIONS                        \
  { "quiet", no_argument, NULL, 'q' },                  \
  { "verbose", no_argument, NULL, 'v' },                \
  { "version", no_argument, NULL, 'V' },                \
  { "help", no_argument, NULL, TOOL_OPT_HELP },         \
  { NULL, 0, NULL, 0 }

/* If C is one of these options, act on it: set *QUIET or *VERBOSE, or
 * print the version or USAGE (to standard output) and exit.  Returns
 * false if C is another option.
 */
bool tool_common_option (int c, bool *quiet, bool *verbose,
                         void (*usage) (FILE *f));

#endif /* TOOL_OPTIONS_H */
