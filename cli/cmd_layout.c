/* cli/cmd_layout.c - `vetstage layout` (not implemented yet). */
#include "cli.h"

int cmd_layout(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
