/* The options every tool takes, as nbdkit's and libnbd's tools do:
 * -q/--quiet, -v/--verbose, -V/--version and -h/--help; and what every
 * tool does with an option given twice or unknown.  A tool ends its
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

#define TOOL_COMMON_SHORT_OPTIONS "hqvV"
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

/* What getopt_long returns is below this. */
#define TOOL_OPTION_MAX 512

/* Whether option C, not one that may repeat, was given before (SEEN,
 * TOOL_OPTION_MAX entries, records it): one would silently win, so it
 * is reported, named as LONGOPTS names it.
 */
bool tool_option_again (int c, const struct option *longopts, bool *seen);

/* After getopt_long's own one line on an unknown option or a missing
 * argument: the pointer to --help.  Returns 2, the exit status.
 */
int tool_usage_error (void);

#endif /* TOOL_OPTIONS_H */
