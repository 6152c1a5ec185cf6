#ifndef NBDKIT_STUBS_H
#define NBDKIT_STUBS_H

/* The message of the last nbdkit_error call. */
extern char stub_last_error[4096];

#endif
