/* cli/cmd_stage.c - `vetstage stage` (not implemented yet). */
#include "cli.h"

int cmd_stage(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
