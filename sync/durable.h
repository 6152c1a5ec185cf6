/* Making renames and new files durable. */
#ifndef SYNC_DURABLE_H
#define SYNC_DURABLE_H

/* fsync the directory that holds PATH.  Returns 0, or -1 with the
 * error reported.
 */
int sync_fsync_dir_of (const char *path);

#endif /* SYNC_DURABLE_H */
