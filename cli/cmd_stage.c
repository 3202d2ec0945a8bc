/* cli/cmd_stage.c - `vetstage stage NAME@VERSION --dest DIR`. The stage
 * options are shared with `pull` (cli/stage_args.c). */
#include <string.h>

#include "cli.h"

static const char usage_head[] =
    "usage: vetstage stage NAME@VERSION --dest DIR [--flat] [--allow-downgrade]\n"
    "                      [--max-unpacked BYTES] [--max-entries N] [--json]\n"
    "\n"
    "Re-check a cached package (hash and signatures), extract it safely and stage it.\n";
static const char usage_tail[] =
    "Exit: 0 staged, 2 usage, 3 package altered or signature no longer valid,\n"
    "5 unsafe archive (nothing staged), 7 downgrade refused.\n";

int cmd_stage(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        CLI_STAGE_LONGOPTS,
        { 0, 0, 0, 0 },
    };
    vs_stage_opts so = VS_STAGE_OPTS_INIT;
    const char *dest = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        int r = cli_stage_arg(c, opt, &so, &dest);
        if (r > 0)
            return r;
        if (r == 0)
            continue;
        r = cli_opt_rest(c, opt, usage_head, cli_stage_help, usage_tail, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (argc - optind != 1)
        return cli_usage_error(c, "expected one NAME@VERSION");
    if (!dest || !*dest)
        return cli_usage_error(c, "--dest DIR is required");
    const char *ref = argv[optind];
    int rc = 0;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_stage_result res;
    vs_error err = VS_ERROR_INIT;
    const char *skeys[VS_MAX_SOURCE_KEYS];
    if ((rc = cli_stage_source_keys(c, ref, &so, skeys)) != 0)
        return rc;
    if (vs_stage_ref(&res, ctx, ref, dest, &so, &err) != VS_OK)
        return cli_fail(c, &err);
    json_t *o = c->json ? json_object() : NULL;
    cli_stage_report(c, ref, dest, &so, &res, o);
    return o ? cli_json_ok(c, o) : 0;
}
