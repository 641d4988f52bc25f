/*
 * replay.c -- run a fuzz harness over stored inputs, without libFuzzer.
 *
 * Linked with each harness when skua is configured without
 * --enable-fuzzing, so that `make check` runs every seed corpus (and every
 * crasher added to it) under the normal build and its sanitizers.  Each
 * input is copied into a heap block of exactly its size, so reads past the
 * end are caught by AddressSanitizer as they would be under libFuzzer.
 *
 * It does not mutate inputs, measure coverage or minimise anything: that
 * is libFuzzer's job (script/fuzz).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef SK_FUZZ_CORPUS_ROOT
#define SK_FUZZ_CORPUS_ROOT "test-suite/fuzz/corpus"
#endif

/* Feed the file at <path> to the harness; return 0 or -1. */
static int
replay_file(const char *path, unsigned long *count)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *data;
    size_t n;

    if (f == NULL || fstat(fileno(f), &st) == -1) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return -1;
    }
    /* malloc(0) may return NULL; keep a valid pointer for empty inputs */
    data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (data == NULL) {
        fclose(f);
        return -1;
    }
    n = fread(data, 1, (size_t)st.st_size, f);
    fclose(f);
    if (n != (size_t)st.st_size) {
        fprintf(stderr, "replay: %s: short read\n", path);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    (*count)++;
    return 0;
}

static int
replay_path(const char *path, unsigned long *count);

/* Feed every entry of directory <path>, in name order; return 0 or -1. */
static int
replay_dir(const char *path, unsigned long *count)
{
    struct dirent **names;
    char sub[4096];
    int i, n, ret = 0;

    n = scandir(path, &names, NULL, alphasort);
    if (n == -1) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
            if (replay_path(sub, count) != 0)
                ret = -1;
        }
        free(names[i]);
    }
    free(names);
    return ret;
}

static int
replay_path(const char *path, unsigned long *count)
{
    struct stat st;

    if (stat(path, &st) == -1) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return replay_dir(path, count);
    return replay_file(path, count);
}

/*
 * Usage: fuzz_<name> [FILE|DIR]...  Without arguments, replay the corpus
 * SK_FUZZ_CORPUS_ROOT/fuzz_<name>, named after the program.  Exit 1 if a
 * path cannot be read or no input was found; a failed invariant aborts.
 */
int
main(int argc, char **argv)
{
    char def[4096];
    const char *prog = strrchr(argv[0], '/');
    unsigned long count = 0;
    int i, ret = 0;

    prog = prog != NULL ? prog + 1 : argv[0];
    if (argc < 2) {
        snprintf(def, sizeof(def), "%s/%s", SK_FUZZ_CORPUS_ROOT, prog);
        ret = replay_path(def, &count);
    }
    for (i = 1; i < argc; i++) {
        if (replay_path(argv[i], &count) != 0)
            ret = -1;
    }
    fprintf(stderr, "%s: replayed %lu inputs\n", prog, count);
    return ret == 0 && count > 0 ? 0 : 1;
}
