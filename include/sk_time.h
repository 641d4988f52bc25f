/*
 * sk_time.h -- clocks.  Monotonic milliseconds for timers, wall-clock for
 * logs.
 */
#ifndef SK_TIME_H
#define SK_TIME_H

#include <sys/time.h>

#include "sk_common.h"

/* Milliseconds on the monotonic clock. */
sk_msec_t sk_now_msec(void);

/* Wall-clock time. */
void sk_wallclock(struct timeval *tv);

/* Convert <ms> into a struct timeval for libevent timers. */
struct timeval sk_msec_tv(sk_msec_t ms);

#endif
