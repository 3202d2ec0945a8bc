/* tests/unit/main.c - one Check runner for every tests/unit/<component>/ suite.
 * The Makefile generates suites.h from the folder names: each folder defines
 * `Suite *vs_suite_<folder>(void)`. Optional argument: run only that suite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "unit.h"

#define VS_SUITE(n) Suite *vs_suite_##n(void);
#include "suites.h"
#undef VS_SUITE

const char *vs_test_fixdir(void)
{
    static char buf[1024];
    const char *e = getenv("VS_FIXTURES");
    const char *b = getenv("BUILD");
    if (e && *e)
        snprintf(buf, sizeof buf, "%s", e);
    else
        snprintf(buf, sizeof buf, "%s/fixtures", b && *b ? b : "build");
    char *abs = realpath(buf, NULL);
    ck_assert_msg(abs != NULL, "fixtures %s missing (run make fixtures; set VS_FIXTURES)", buf);
    snprintf(buf, sizeof buf, "%s", abs);
    free(abs);
    return buf;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : getenv("VS_SUITE");
    SRunner *sr = NULL;
#define VS_SUITE(n)                                  \
    if (!only || !*only || strcmp(only, #n) == 0) {  \
        if (!sr)                                     \
            sr = srunner_create(vs_suite_##n());     \
        else                                         \
            srunner_add_suite(sr, vs_suite_##n());   \
    }
#include "suites.h"
#undef VS_SUITE
    if (!sr) {
        fprintf(stderr, "no unit test suite selected\n");
        return 1;
    }
    const char *out = getenv("VS_UNIT_COUNTS");
    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    if (out && *out) {
        FILE *f = fopen(out, "w");
        if (f) {
            fprintf(f, "%d %d\n", run - failed, failed);
            fclose(f);
        }
    }
    srunner_free(sr);
    return failed == 0 && run > 0 ? 0 : 1;
}
