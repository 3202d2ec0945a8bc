/* cli/cmd_fetch.c - `vetstage fetch URL ...`: download, verify, cache. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_head[] =
    "usage: vetstage fetch URL|NAME@VERSION [--name N] [--version V]\n"
    "                      [--gpg-sig-url U | --checksums-url U] [--rsa-sig-url U]\n"
    "                      [--mirror BASE]... [--cacert FILE] [--pinned-pubkey sha256//...]\n"
    "                      [--netrc-file FILE]\n"
    "                      [--max-size BYTES] [--retries N] [--timeout S]\n"
    "                      [--require gpg,rsa|gpg|rsa] [--max-sig-age DAYS] [--json]\n"
    "\n"
    "Download a package and its signatures into the quarantine under HOME/cache,\n"
    "verify them with the same policy as `verify`, and only then keep the package\n"
    "as NAME@VERSION in the cache. A package already cached is not downloaded again.\n"
    "  URL                 https://, http:// or file:// (redirects keep the scheme)\n"
    "  NAME@VERSION        a release of the source NAME of the configuration\n"
    "                      (--config FILE, $VETSTAGE_CONFIG or HOME/vetstage.conf):\n"
    "                      its URLs, keys and options; options given here win\n";
static const char usage_tail[] =
    "Exit codes: 0 cached (or already cached), 2 usage, 3 verification failed,\n"
    "4 download failed (also a required signature URL that cannot be fetched),\n"
    "7 policy, 1 internal. On failure the cache is left as it was.\n";

int cmd_fetch(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        CLI_FETCH_LONGOPTS,
        { 0, 0, 0, 0 },
    };
    cli_fetch_args fa;
    cli_fetch_args_init(&fa);
    int opt;
    cli_getopt_reset();
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        int r = cli_fetch_arg(c, opt, &fa);
        if (r >= 0) {
            if (r > 0)
                return r;
            continue;
        }
        r = cli_opt_rest(c, opt, usage_head, cli_fetch_help, usage_tail, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (optind + 1 != argc)
        return cli_usage_error(c, optind >= argc ? "missing URL or NAME@VERSION"
                                                 : "give exactly one URL or NAME@VERSION");
    int rc = cli_fetch_args_finish(c, &fa, argv[optind]);
    if (rc)
        return rc;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    json_t *o = c->json ? json_object() : NULL;
    char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
    rc = cli_fetch_run(c, &fa, ref, sizeof ref, o);
    if (rc)
        return rc;
    return o ? cli_json_ok(c, o) : 0;
}
