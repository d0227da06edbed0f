/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * a minimal TAP producer for the unit tests:
 *
 *     ok(cond, "name %d", i);  ...  return done_testing();
 *
 * plan(n) is optional; done_testing() prints the plan if none was
 * given and returns the exit status (1 if any test failed or the
 * count differs from the plan).
 */


#ifndef _AUTHZ_TAP_H_INCLUDED_
#define _AUTHZ_TAP_H_INCLUDED_


#include <stdarg.h>
#include <stdio.h>


static int  tap_run, tap_failed, tap_planned = -1;


static inline void
plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
}


static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list  ap;

    printf("%sok %d - ", cond ? "" : "not ", ++tap_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");

    if (!cond) {
        tap_failed++;
        printf("#   failed at %s line %d\n", file, line);
    }

    fflush(stdout);

    return cond;
}


#define ok(cond, ...)  tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define diag(...)      (printf("# "), printf(__VA_ARGS__), printf("\n"))


static inline int
done_testing(void)
{
    if (tap_planned < 0) {
        printf("1..%d\n", tap_run);

    } else if (tap_planned != tap_run) {
        printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
        return 1;
    }

    if (tap_failed) {
        printf("# failed %d of %d tests\n", tap_failed, tap_run);
    }

    fflush(stdout);

    return tap_failed ? 1 : 0;
}


#endif /* _AUTHZ_TAP_H_INCLUDED_ */
