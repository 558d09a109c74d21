/* lib/internal.h — what the shared code's files share with each other and
 * not with the binaries: common.h is the public side, this the private one.
 * Included by common.c and every file in lib/, never by an aN_*.c or a test. */
#ifndef COPYBENCH_INTERNAL_H
#define COPYBENCH_INTERNAL_H

#include "../common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* ---- lib/msg.c --------------------------------------------------------- */
/* n bytes of v, little-endian, into p / out of p: the wire's byte order. */
void put_le(uint8_t *p, uint64_t v, int n);
uint64_t get_le(const uint8_t *p, int n);

/* ---- lib/netio.c ------------------------------------------------------- */
/* recvmsg() until iov is full: 1, 0 on EOF before any byte, -1 with errno
 * (EPIPE: EOF mid-way). */
int net_recvv_all(int fd, struct iovec *iov, int cnt);
/* recv() exactly len bytes before deadline_ns: 1, 0 on EOF before any byte,
 * -1 with errno (ETIMEDOUT; EPIPE: EOF mid-way). */
int net_recv_by(int fd, void *buf, size_t len, uint64_t deadline_ns);
/* SO_RCVTIMEO or SO_SNDTIMEO (opt) of `seconds`; a failure is ignored. */
void set_timeout(int fd, int opt, double seconds);
/* TCP_NODELAY (rr: each request and answer leaves at once); a failure is ignored. */
void set_nodelay(int fd);
/* Add t's counters into `into`. */
void tcp_totals_merge(struct tcp_totals *into, const struct tcp_totals *t);

#endif
