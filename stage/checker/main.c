/* stage/checker/main.c - vetstage-check: the static program a sidecar image
 * runs as its command. Checks a staged layout against its manifest and
 * exits 0 (intact), 6 (damaged) or 2 (usage / not a layout). Reads no
 * environment, needs no shell and no shared library. */
#include <stdio.h>
#include <string.h>

#include "stage/stage_int.h"

#define DEFAULT_DIR "/var/lib/lacework-backup"

static void on_problem(const char *path, const char *reason, void *payload)
{
    fprintf(stderr, "vetstage-check: %s: %s: %s\n", (const char *)payload, path, reason);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vetstage-check [DIR]\n"
               "Check the staged layout in DIR (flat, or versioned: DIR/current) against its\n"
               ".vetstage/MANIFEST.sha256 and .vetstage/MODES: every file present with its\n"
               "hash and mode, symbolic links as recorded, nothing extra.\n"
               "DIR defaults to " DEFAULT_DIR ".\n"
               "Exit status: 0 intact, 6 damaged, 2 usage or not a layout, 1 internal error.\n");
}

int main(int argc, char **argv)
{
    const char *dir = DEFAULT_DIR;
    if (argc > 2) {
        usage(stderr);
        return 2;
    }
    if (argc == 2) {
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
            usage(stdout);
            return 0;
        }
        if (argv[1][0] == '-' && argv[1][1] != '\0') {
            usage(stderr);
            return 2;
        }
        dir = argv[1];
    }
    vs_error err = VS_ERROR_INIT;
    size_t problems = 0;
    vs_status st = vs_layout_check(dir, on_problem, (void *)dir, &problems, &err);
    if (st != VS_OK) {
        fprintf(stderr, "vetstage-check: %s\n", err.message);
        return st == VS_E_INTEGRITY ? 6 : st == VS_E_USAGE ? 2 : 1;
    }
    fprintf(stderr, "vetstage-check: %s: layout intact\n", dir);
    return 0;
}
