/*
 * fuzz.h -- what every fuzz harness in test-suite/fuzz/ shares.
 *
 * A harness defines LLVMFuzzerTestOneInput() and checks its invariants with
 * FUZZ_CHECK(), which aborts so that both libFuzzer and the replay driver
 * (replay.c, used when skua is configured without --enable-fuzzing) report
 * the input.  Harnesses do no I/O and keep no state between inputs.
 */
#ifndef SK_FUZZ_H
#define SK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Feed one input of <size> bytes at <data>; return 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with the position and the condition text unless <cond> holds. */
#define FUZZ_CHECK(cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                     \
            abort();                                                      \
        }                                                                 \
    } while (0)

#endif
