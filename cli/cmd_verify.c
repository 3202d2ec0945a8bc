/* cli/cmd_verify.c - `vetstage verify` (not implemented yet). */
#include "cli.h"

int cmd_verify(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(c, "not implemented yet");
}
