/* Locks that keep two runs of vsphere-sync or vsphere-v2v off the same
 * VM, state file and outputs:
 * POSIX record locks, so that the holder's PID can be named.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_LOCK_H
#define SYNC_LOCK_H

/* Lock the VM, named by its INSTANCE_UUID (or, without one, by SERVER
 * and VM_REF), for the whole run, whatever the state file and outputs:
 * two runs on one VM would each take a snapshot.  The lock file is in
 * $VSPHERE_SYNC_LOCK_DIR, or /run/lock (/tmp where there is none).
 * Returns the fd that holds the lock, or -1 with the error reported
 * (naming the PID of the holder).
 */
int sync_lock_vm (const char *server, const char *vm_ref,
                  const char *instance_uuid, const char *vm_name);

/* Lock STATE_PATH for the whole run, through a file beside the VM
 * locks (not beside the state, where it would litter the outputs'
 * directory); the file also holds our PID for people.  Returns the fd that holds the lock, or -1 with the
 * error reported (naming the PID of the holder).
 */
int sync_lock_state (const char *state_path);

/* Lock the output open on FD (a byte far beyond those qemu locks), so
 * that a run with another state file cannot write it too.  The lock
 * lives as long as FD and every other fd of this file in this process:
 * never open and close the file elsewhere meanwhile.
 */
int sync_lock_output (int fd, const char *path);

#endif /* SYNC_LOCK_H */
