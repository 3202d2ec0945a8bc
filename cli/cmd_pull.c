/* cli/cmd_pull.c - `vetstage pull` (not implemented yet). */
#include "cli.h"

int cmd_pull(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
