/* cli/cmd_mirror.c - `vetstage mirror` (not implemented yet). */
#include "cli.h"

int cmd_mirror(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
