/* cli/cmd_fetch.c - `vetstage fetch URL ...`: download, verify, cache. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "usage: vetstage fetch URL [--name N] [--version V]\n"
    "                      [--gpg-sig-url U | --checksums-url U] [--rsa-sig-url U]\n"
    "                      [--mirror BASE]... [--cacert FILE] [--pinned-pubkey sha256//...]\n"
    "                      [--max-size BYTES] [--retries N] [--timeout S]\n"
    "                      [--require gpg,rsa|gpg|rsa] [--max-sig-age DAYS] [--json]\n"
    "\n"
    "Download a package and its signatures into the quarantine under HOME/cache,\n"
    "verify them with the same policy as `verify`, and only then keep the package\n"
    "as NAME@VERSION in the cache. A package already cached is not downloaded again.\n"
    "  URL                 https://, http:// or file:// (redirects keep the scheme)\n"
    "  --name, --version   default from the file name (NAME-VERSION.tgz,\n"
    "                      NAME_VERSION.tgz, .../NAME/VERSION.tgz)\n"
    "  --gpg-sig-url U     detached OpenPGP signature (default URL.asc)\n"
    "  --checksums-url U   signed checksum list instead (its signature at U.asc)\n"
    "  --rsa-sig-url U     organisation RSA signature (default URL.sig)\n"
    "  --mirror BASE       try BASE/FILE for every file when a source fails to\n"
    "                      download or to verify; repeatable, tried in order\n"
    "  --cacert FILE       CA bundle for https (replaces the system store)\n"
    "  --pinned-pubkey P   the server key must match (sha256//BASE64)\n"
    "  --max-size BYTES    refuse larger packages (default 2 GiB)\n"
    "  --retries N         retries on network errors and HTTP 5xx (default 3)\n"
    "  --timeout S         deadline for each download, retries included (default 600)\n"
    "  --require R         signatures required: gpg,rsa (default), gpg, rsa; a signature\n"
    "                      that is not required may be absent on the server\n"
    "  --max-sig-age DAYS  refuse OpenPGP signatures older than DAYS (exit 7)\n"
    "An interrupted download is resumed by the next fetch of the same URL.\n"
    "Exit codes: 0 cached (or already cached), 2 usage, 3 verification failed,\n"
    "4 download failed (also a required signature URL that cannot be fetched),\n"
    "7 policy, 1 internal. On failure the cache is left as it was.\n";

enum {
    OPT_NAME = CLI_OPT_FIRST_COMMAND,
    OPT_VERSION,
    OPT_GPG_SIG_URL,
    OPT_CHECKSUMS_URL,
    OPT_RSA_SIG_URL,
    OPT_MIRROR,
    OPT_CACERT,
    OPT_PIN,
    OPT_MAX_SIZE,
    OPT_RETRIES,
    OPT_TIMEOUT,
    OPT_REQUIRE,
    OPT_MAX_SIG_AGE,
};

static json_t *sigs_json(const vs_verdict *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; v && i < v->nsigs; i++) {
        const vs_sig_result *r = &v->sigs[i];
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(r->kind == VS_SIG_GPG ? "gpg" : "rsa"));
        json_object_set_new(o, "valid", json_boolean(r->valid));
        json_object_set_new(o, "fingerprint", cli_json_str(r->fingerprint));
        json_object_set_new(o, "created", cli_json_time(r->created));
        json_object_set_new(o, "reason", cli_json_str(r->reason));
        json_array_append_new(arr, o);
    }
    return arr;
}

int cmd_fetch(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "name", required_argument, NULL, OPT_NAME },
        { "version", required_argument, NULL, OPT_VERSION },
        { "gpg-sig-url", required_argument, NULL, OPT_GPG_SIG_URL },
        { "checksums-url", required_argument, NULL, OPT_CHECKSUMS_URL },
        { "rsa-sig-url", required_argument, NULL, OPT_RSA_SIG_URL },
        { "mirror", required_argument, NULL, OPT_MIRROR },
        { "cacert", required_argument, NULL, OPT_CACERT },
        { "pinned-pubkey", required_argument, NULL, OPT_PIN },
        { "max-size", required_argument, NULL, OPT_MAX_SIZE },
        { "retries", required_argument, NULL, OPT_RETRIES },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "require", required_argument, NULL, OPT_REQUIRE },
        { "max-sig-age", required_argument, NULL, OPT_MAX_SIG_AGE },
        { 0, 0, 0, 0 },
    };
    vs_cache_fetch_opts fo = { 0 };
    vs_fetch_opts tr = VS_FETCH_OPTS_INIT;
    const char *mirrors[VS_CACHE_MAX_MIRRORS];
    size_t nmirrors = 0;
    uint64_t v;
    int opt;
    cli_getopt_reset();
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        switch (opt) {
        case OPT_NAME:
            fo.name = optarg;
            break;
        case OPT_VERSION:
            fo.version = optarg;
            break;
        case OPT_GPG_SIG_URL:
            fo.gpg_sig_url = optarg;
            break;
        case OPT_CHECKSUMS_URL:
            fo.checksums_url = optarg;
            break;
        case OPT_RSA_SIG_URL:
            fo.rsa_sig_url = optarg;
            break;
        case OPT_MIRROR:
            if (nmirrors >= VS_CACHE_MAX_MIRRORS)
                return cli_usage_error(c, "more than %d --mirror options", VS_CACHE_MAX_MIRRORS);
            mirrors[nmirrors++] = optarg;
            break;
        case OPT_CACERT:
            tr.cacert = optarg;
            break;
        case OPT_PIN:
            tr.pinned_pubkey = optarg;
            break;
        case OPT_MAX_SIZE:
            if (!cli_parse_u64(optarg, &v) || v == 0)
                return cli_usage_error(c, "--max-size: '%s' is not a size in bytes", optarg);
            tr.max_size = v;
            break;
        case OPT_RETRIES:
            if (!cli_parse_u64(optarg, &v) || v > 100)
                return cli_usage_error(c, "--retries: '%s' is not a number from 0 to 100", optarg);
            tr.retries = (int)v;
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_u64(optarg, &v) || v == 0 || v > 7 * 24 * 3600)
                return cli_usage_error(c, "--timeout: '%s' is not a number of seconds", optarg);
            tr.timeout_s = (unsigned)v;
            break;
        case OPT_REQUIRE:
        {
            vs_error rerr = VS_ERROR_INIT;
            if (vs_verify_require_parse(&fo.require, optarg, &rerr) != VS_OK)
                return cli_usage_error(c, "--require: '%s' is not gpg,rsa, gpg or rsa", optarg);
            break;
        }
        case OPT_MAX_SIG_AGE:
            if (!cli_parse_u64(optarg, &v) || v == 0 || v > 100000)
                return cli_usage_error(c, "--max-sig-age: '%s' is not a number of days", optarg);
            fo.max_sig_age_days = (unsigned)v;
            break;
        default: {
            int r = cli_common_opt(c, opt);
            if (r == -1) {
                fputs(usage_text, stdout);
                return 0;
            }
            if (r != 0)
                return cli_usage_error(c, "unknown option (see vetstage fetch --help)");
        }
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(c, optind >= argc ? "missing URL" : "give exactly one URL");
    if (fo.gpg_sig_url && fo.checksums_url)
        return cli_usage_error(c, "give either --gpg-sig-url or --checksums-url, not both");
    fo.url = argv[optind];
    fo.mirrors = mirrors;
    fo.nmirrors = nmirrors;
    fo.fetch = tr;

    int rc;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_error err = VS_ERROR_INIT;
    vs_cache_entry *e = malloc(sizeof *e);
    if (!e)
        return 1;
    bool already = false;
    vs_verdict *verdict = NULL;
    vs_status st = vs_cache_fetch(ctx, &fo, e, &already, &verdict, &err);
    if (st != VS_OK) {
        json_t *extra = NULL;
        if (c->json) {
            extra = json_object();
            json_object_set_new(extra, "signatures", sigs_json(verdict));
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
        json_object_set_new(o, "signatures", sigs_json(verdict));
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
