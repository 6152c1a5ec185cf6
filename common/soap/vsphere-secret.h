/* Secrets (the password, session cookies, service tickets): reading
 * password= as nbdkit_read_password does but with +FILE and -FD read
 * only up to a bound, for the plugin, the cbt filter and the tools
 * alike; and wiping them before they are freed.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_SECRET_H
#define VSPHERE_SECRET_H

/* The longest password read from a file or file descriptor, its
 * newline not counted: far more than any real password, and all that
 * a wrong file (a disk, /dev/zero, a FIFO that never ends) can make us
 * read.
 */
#define VS_PASSWORD_MAX 4096

/* password=VALUE: the password itself, "-" for the terminal, +FILE or
 * -FD.  As in nbdkit 1.32, a file or file descriptor gives its first
 * line without the newline, and a file descriptor is closed after.
 * *PASSWORD is allocated; returns -1 (error reported) on failure.
 */
int vs_read_password (const char *value, char **password);

/* Wipe the string S (NULL: nothing) and free it.  explicit_bzero, as a
 * memset before free is optimised away.
 */
void vs_free_secret (char *s);

#endif /* VSPHERE_SECRET_H */
