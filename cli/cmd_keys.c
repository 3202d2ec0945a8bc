/* cli/cmd_keys.c - `vetstage keys` (not implemented yet). */
#include "cli.h"

int cmd_keys(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
