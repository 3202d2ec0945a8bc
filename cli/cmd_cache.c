/* cli/cmd_cache.c - `vetstage cache` (not implemented yet). */
#include "cli.h"

int cmd_cache(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
