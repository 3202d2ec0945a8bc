/* cli/cmd_mirror.c - `vetstage mirror`: not built yet (see README "Not yet"). */
#include <string.h>

#include "cli.h"

int cmd_mirror(cli *c, int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs("usage: vetstage mirror sync LIST --dest DIR [--jobs N]\n"
              "       vetstage mirror export NAME@VERSION... --out BUNDLE\n"
              "       vetstage mirror import BUNDLE\n"
              "Not implemented in this version: every mirror command exits 2.\n",
              stdout);
        return 0;
    }
    return cli_usage_error(c, "mirror is not implemented in this version of vetstage");
}
