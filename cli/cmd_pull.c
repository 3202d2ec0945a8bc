/* cli/cmd_pull.c - `vetstage pull URL --dest DIR`: fetch, verify, stage. */
#include "cli.h"

static const char usage_head[] =
    "usage: vetstage pull URL|NAME@VERSION --dest DIR [fetch options] [stage options]\n"
    "                     [--json]\n"
    "\n"
    "The main job: download URL and its signatures, verify them against the trust\n"
    "store, keep the package in the cache as NAME@VERSION, and stage it into DIR\n"
    "(re-checked from the cache, extracted safely). The same as `vetstage fetch URL`\n"
    "followed by `vetstage stage NAME@VERSION --dest DIR`. NAME@VERSION takes the\n"
    "URLs, keys and options of the source NAME of the configuration (--config FILE,\n"
    "$VETSTAGE_CONFIG or HOME/vetstage.conf); options given here win.\n"
    "fetch options:\n";
static const char usage_mid[] = "stage options:\n";
static const char usage_tail[] =
    "Exit codes: 0 staged, 2 usage, 3 verify, 4 fetch, 5 unsafe archive (nothing\n"
    "staged), 7 policy (downgrade, old signature, weak key), 1 internal.\n";

int cmd_pull(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        CLI_FETCH_LONGOPTS,
        CLI_STAGE_LONGOPTS,
        { 0, 0, 0, 0 },
    };
    cli_fetch_args fa;
    cli_fetch_args_init(&fa);
    vs_stage_opts so = VS_STAGE_OPTS_INIT;
    const char *dest = NULL;
    int opt;
    cli_getopt_reset();
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        int r = cli_fetch_arg(c, opt, &fa);
        if (r < 0)
            r = cli_stage_arg(c, opt, &so, &dest);
        if (r >= 0) {
            if (r > 0)
                return r;
            continue;
        }
        r = cli_opt_rest(c, opt, usage_head, cli_fetch_help, usage_mid, cli_stage_help,
                         usage_tail, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (optind + 1 != argc)
        return cli_usage_error(c, optind >= argc ? "missing URL or NAME@VERSION"
                                                 : "give exactly one URL or NAME@VERSION");
    if (!dest || !*dest)
        return cli_usage_error(c, "--dest DIR is required");
    int rc = cli_fetch_args_finish(c, &fa, argv[optind]);
    if (rc)
        return rc;
    /* the source's strip-components, unless the command line gave one */
    if (c->rel && c->rel->has_strip_components && so.strip_components == 0)
        so.strip_components = c->rel->strip_components;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;

    json_t *o = c->json ? json_object() : NULL;
    char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
    rc = cli_fetch_run(c, &fa, ref, sizeof ref, o);
    if (rc)
        return rc;

    vs_error err = VS_ERROR_INIT;
    vs_stage_result res;
    const char *skeys[VS_MAX_SOURCE_KEYS];
    if ((rc = cli_stage_source_keys(c, ref, &so, skeys)) != 0) {
        json_decref(o);
        return rc;
    }
    if (vs_stage_ref(&res, ctx, ref, dest, &so, &err) != VS_OK)
        return cli_fail_json(c, &err, o);
    cli_stage_report(c, ref, dest, &so, &res, o);
    return o ? cli_json_ok(c, o) : 0;
}
