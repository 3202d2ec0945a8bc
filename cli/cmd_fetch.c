/* cli/cmd_fetch.c - `vetstage fetch URL ...`: download, verify, cache. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_head[] =
    "usage: vetstage fetch URL [--name N] [--version V]\n"
    "                      [--gpg-sig-url U | --checksums-url U] [--rsa-sig-url U]\n"
    "                      [--mirror BASE]... [--cacert FILE] [--pinned-pubkey sha256//...]\n"
    "                      [--max-size BYTES] [--retries N] [--timeout S]\n"
    "                      [--require gpg,rsa|gpg|rsa] [--max-sig-age DAYS] [--json]\n"
    "\n"
    "Download a package and its signatures into the quarantine under HOME/cache,\n"
    "verify them with the same policy as `verify`, and only then keep the package\n"
    "as NAME@VERSION in the cache. A package already cached is not downloaded again.\n"
    "  URL                 https://, http:// or file:// (redirects keep the scheme)\n";
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
        r = cli_common_opt(c, opt);
        if (r == -1) {
            printf("%s%s%s", usage_head, cli_fetch_help, usage_tail);
            return 0;
        }
        if (r != 0)
            return cli_usage_error(c, "unknown option (see vetstage fetch --help)");
    }
    if (optind + 1 != argc)
        return cli_usage_error(c, optind >= argc ? "missing URL" : "give exactly one URL");
    int rc = cli_fetch_args_finish(c, &fa, argv[optind]);
    if (rc)
        return rc;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_error err = VS_ERROR_INIT;
    vs_cache_entry *e = malloc(sizeof *e);
    if (!e)
        return 1;
    bool already = false;
    vs_verdict *verdict = NULL;
    vs_status st = vs_cache_fetch(ctx, &fa.fo, e, &already, &verdict, &err);
    if (st != VS_OK) {
        json_t *extra = NULL;
        if (c->json) {
            extra = json_object();
            json_object_set_new(extra, "signatures", cli_sigs_json(verdict));
            json_object_set_new(extra, "verdict", json_string("rejected"));
        }
        vs_verdict_free(verdict);
        free(e);
        return cli_fail_json(c, &err, extra);
    }
    char ref[300];
    snprintf(ref, sizeof ref, "%s@%s", e->name, e->version);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "ref", json_string(ref));
        json_object_set_new(o, "name", json_string(e->name));
        json_object_set_new(o, "version", json_string(e->version));
        json_object_set_new(o, "sha256", json_string(e->sha256));
        json_object_set_new(o, "size", json_integer((json_int_t)e->size));
        json_object_set_new(o, "already", json_boolean(already));
        json_object_set_new(o, "signatures", cli_sigs_json(verdict));
        json_object_set_new(o, "verdict", json_string("trusted"));
        rc = cli_json_ok(c, o);
    } else {
        if (already)
            cli_info(c, "%s already in the cache\n", ref);
        else
            cli_info(c, "cached %s sha256:%s\n", ref, e->sha256);
        rc = 0;
    }
    vs_verdict_free(verdict);
    free(e);
    return rc;
}
