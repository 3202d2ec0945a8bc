/* cli/cmd_render.c - `vetstage render` (not implemented yet). */
#include "cli.h"

int cmd_render(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
