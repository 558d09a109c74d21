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

#endif
