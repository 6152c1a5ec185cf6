/* The directory a file is in, which the tools check, lock, sync and
 * resolve before they write the file.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_PATHS_H
#define TOOL_PATHS_H

/* The directory PATH names its file in ("." for a bare name), as
 * written, not resolved; free it.  NULL if out of memory (reported).
 */
char *tool_dir_of (const char *path);

#endif /* TOOL_PATHS_H */
