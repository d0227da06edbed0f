/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * the replay main() of the fuzz targets, for builds without libFuzzer
 * (gcc, CI): included at the end of each t/fuzz/fuzz_*.c under
 * #ifndef AUTHZ_LIBFUZZER.  Each argument is a file or a directory,
 * whose regular files are run in name order; the output is TAP
 * ("1..N", "ok K - file").  A crash aborts the run: that is the
 * failure signal.
 *
 * The including file defines _POSIX_C_SOURCE (opendir(), stat(),
 * strdup()) before its first #include.
 */


#ifndef _AUTHZ_FUZZ_REPLAY_H_INCLUDED_
#define _AUTHZ_FUZZ_REPLAY_H_INCLUDED_


#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_collect(const char *path, char ***files, size_t *n,
    size_t *nalloc);
static int fuzz_add(char ***files, size_t *n, size_t *nalloc,
    const char *path);
static int fuzz_cmp(const void *a, const void *b);
static int fuzz_run(const char *path);


int
main(int argc, char **argv)
{
    int      i, rc;
    char   **files;
    size_t   n, k, nalloc;

    files = NULL;
    n = 0;
    nalloc = 0;
    rc = 0;

    for (i = 1; i < argc; i++) {
        if (fuzz_collect(argv[i], &files, &n, &nalloc) != 0) {
            rc = 1;
        }
    }

    printf("1..%zu\n", n);
    fflush(stdout);

    for (k = 0; k < n; k++) {
        if (fuzz_run(files[k]) != 0) {
            printf("not ok %zu - %s (cannot read)\n", k + 1, files[k]);
            rc = 1;

        } else {
            printf("ok %zu - %s\n", k + 1, files[k]);
        }

        fflush(stdout);
        free(files[k]);
    }

    free(files);

    return rc;
}


static int
fuzz_collect(const char *path, char ***files, size_t *n, size_t *nalloc)
{
    DIR            *dir;
    char           *full;
    size_t          len, first;
    struct stat     st;
    struct dirent  *de;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "# cannot stat %s\n", path);
        return -1;
    }

    if (!S_ISDIR(st.st_mode)) {
        return fuzz_add(files, n, nalloc, path);
    }

    dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "# cannot open %s\n", path);
        return -1;
    }

    first = *n;

    while ((de = readdir(dir)) != NULL) {
        len = strlen(path) + strlen(de->d_name) + 2;

        full = malloc(len);
        if (full == NULL) {
            closedir(dir);
            return -1;
        }

        snprintf(full, len, "%s/%s", path, de->d_name);

        if (stat(full, &st) == 0 && S_ISREG(st.st_mode)
            && fuzz_add(files, n, nalloc, full) != 0)
        {
            free(full);
            closedir(dir);
            return -1;
        }

        free(full);
    }

    closedir(dir);

    /* readdir() order is the file system's: sort for stable output */

    qsort(*files + first, *n - first, sizeof(char *), fuzz_cmp);

    return 0;
}


static int
fuzz_add(char ***files, size_t *n, size_t *nalloc, const char *path)
{
    char   **f;
    size_t   m;

    if (*n == *nalloc) {
        m = *nalloc ? 2 * *nalloc : 32;

        f = realloc(*files, m * sizeof(char *));
        if (f == NULL) {
            return -1;
        }

        *files = f;
        *nalloc = m;
    }

    (*files)[*n] = strdup(path);

    if ((*files)[*n] == NULL) {
        return -1;
    }

    (*n)++;

    return 0;
}


static int
fuzz_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* the input in an exact-size heap buffer, as libFuzzer passes it */

static int
fuzz_run(const char *path)
{
    FILE           *f;
    long            size;
    unsigned char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return -1;
    }

    buf = malloc(size ? (size_t) size : 1);
    if (buf == NULL) {
        fclose(f);
        return -1;
    }

    if (fread(buf, 1, (size_t) size, f) != (size_t) size) {
        free(buf);
        fclose(f);
        return -1;
    }

    fclose(f);

    LLVMFuzzerTestOneInput(buf, (size_t) size);

    free(buf);

    return 0;
}


#endif /* _AUTHZ_FUZZ_REPLAY_H_INCLUDED_ */
