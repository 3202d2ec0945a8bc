/* cli/cmd_fetch.c - `vetstage fetch` (not implemented yet). */
#include "cli.h"

int cmd_fetch(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
