/* Making renames and new files durable.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_DURABLE_H
#define TOOL_DURABLE_H

/* fsync the directory that holds PATH.  Returns 0, or -1 with the
 * error reported.
 */
int tool_fsync_dir_of (const char *path);

#endif /* TOOL_DURABLE_H */
