/* stage/checker/main.c - vetstage-check: the static program a sidecar image
 * runs as its command. Checks a staged layout against its manifest (and,
 * given --manifest-sha256, against the layout digest it was rendered with)
 * and exits 0 (intact), 6 (damaged or another digest) or 2 (usage / not a
 * layout). Reads no environment, needs no shell and no shared library.
 *
 * It has no option that makes it succeed without checking: an exit 0 always
 * means the layout was checked and found intact. Anything it does not know,
 * --help included, is a usage error (exit 2); the help is its man page,
 * vetstage-check(1). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stage/stage_int.h"

#define DEFAULT_DIR "/var/lib/lacework-backup"
#define DIGEST_OPT "--manifest-sha256"

static void on_problem(const char *path, const char *reason, void *payload)
{
    fprintf(stderr, "vetstage-check: %s: %s: %s\n", (const char *)payload, path, reason);
}

static int usage(const char *why, const char *arg)
{
    if (arg)
        fprintf(stderr, "vetstage-check: %s '%s'\n", why, arg);
    else
        fprintf(stderr, "vetstage-check: %s\n", why);
    fprintf(stderr, "usage: vetstage-check [" DIGEST_OPT " HEX] [DIR] (see vetstage-check(1); "
                    "exit 0 only for an intact layout)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *expect = NULL;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && !strcmp(a, "--")) {
            options = false;
        } else if (options && !strcmp(a, DIGEST_OPT)) {
            if (expect)
                return usage(DIGEST_OPT " given twice", NULL);
            if (i + 1 >= argc)
                return usage(DIGEST_OPT " needs a value", NULL);
            expect = argv[++i];
        } else if (options && !strncmp(a, DIGEST_OPT "=", sizeof DIGEST_OPT)) {
            if (expect)
                return usage(DIGEST_OPT " given twice", NULL);
            expect = a + sizeof DIGEST_OPT;
        } else if (options && a[0] == '-' && a[1] != '\0') {
            return usage("unknown option", a);
        } else if (dir) {
            return usage("more than one directory given:", a);
        } else {
            dir = a;
        }
    }
    if (!dir)
        dir = DEFAULT_DIR;
    if (expect && !vs_layout_digest_valid(expect))
        return usage(DIGEST_OPT " takes 64 hex digits, not", expect);

    vs_error err = VS_ERROR_INIT;
    if (expect) {
        char have[VS_LAYOUT_DIGEST_HEX];
        vs_status st = vs_layout_digest(have, dir, &err);
        if (st != VS_OK) {
            fprintf(stderr, "vetstage-check: %s\n", err.message);
            return st == VS_E_INTEGRITY ? 6 : st == VS_E_USAGE ? 2 : 1;
        }
        if (strcasecmp(have, expect) != 0) {
            fprintf(stderr,
                    "vetstage-check: %s: layout digest %s differs from the expected %s\n", dir,
                    have, expect);
            return 6;
        }
    }
    size_t problems = 0;
    vs_status st = vs_layout_check(&problems, dir, on_problem, (void *)dir, &err);
    if (st != VS_OK) {
        fprintf(stderr, "vetstage-check: %s\n", err.message);
        return st == VS_E_INTEGRITY ? 6 : st == VS_E_USAGE ? 2 : 1;
    }
    if (expect) {
        /* the records the tree was checked against are still the pinned ones */
        char again[VS_LAYOUT_DIGEST_HEX];
        st = vs_layout_digest(again, dir, &err);
        if (st != VS_OK || strcasecmp(again, expect) != 0) {
            fprintf(stderr, "vetstage-check: %s: layout changed while it was checked\n", dir);
            return 6;
        }
        fprintf(stderr, "vetstage-check: %s: layout intact, digest %s\n", dir, again);
    }
    else
        fprintf(stderr, "vetstage-check: %s: layout intact\n", dir);
    return 0;
}
