/*
 * sk_time.c -- clocks (see sk_time.h).
 */
#include "config.h"

#include <time.h>

#include "sk_time.h"

sk_msec_t
sk_now_msec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sk_msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sk_wallclock(struct timeval *tv)
{
    gettimeofday(tv, NULL);
}

struct timeval
sk_msec_tv(sk_msec_t ms)
{
    struct timeval tv;

    if (ms < 0)
        ms = 0;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return tv;
}
