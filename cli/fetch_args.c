/* cli/fetch_args.c - the fetch options, shared by `fetch` and `pull`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_fetch_help[] =
    "  --name, --version   default from the file name (NAME-VERSION.tgz,\n"
    "                      NAME_VERSION.tgz, .../NAME/VERSION.tgz)\n"
    "  --gpg-sig-url U     detached OpenPGP signature (default URL.asc)\n"
    "  --checksums-url U   signed checksum list instead (its signature at U.asc)\n"
    "  --rsa-sig-url U     organisation RSA signature (default URL.sig)\n"
    "  --mirror BASE       try BASE/FILE for every file when a source fails to\n"
    "                      download or to verify; repeatable, tried in order\n"
    "  --cacert FILE       CA bundle for https (replaces the system store)\n"
    "  --pinned-pubkey P   the server key must match (sha256//BASE64)\n"
    "  --netrc-file FILE   logins per host, in curl's netrc format (machine H login U\n"
    "                      password P), so that no password sits on a command line;\n"
    "                      a user:password@ in a URL also works; neither is ever\n"
    "                      stored or shown\n"
    "  --max-size BYTES    refuse larger packages (default 2G; suffixes K, M, G, T)\n"
    "  --retries N         retries on network errors and HTTP 5xx (default 3)\n"
    "  --timeout S         deadline for each download, retries included (default\n"
    "                      600 seconds; suffixes s, m, h, d: 30s, 2m, 1h)\n"
    "  --require R         signatures required: gpg,rsa (default), gpg, rsa; a signature\n"
    "                      that is not required may be absent on the server\n"
    "  --max-sig-age DAYS  refuse OpenPGP signatures older than DAYS (exit 7)\n"
    "An interrupted download is resumed by the next fetch of the same URL.\n";

void cli_fetch_args_init(cli_fetch_args *a)
{
    memset(a, 0, sizeof *a);
    vs_cache_fetch_opts fo = VS_CACHE_FETCH_OPTS_INIT; /* its opts_version too */
    a->fo = fo;
    a->fo.mirrors = a->mirrors;
}

int cli_fetch_arg(cli *c, int opt, cli_fetch_args *a)
{
    vs_cache_fetch_opts *fo = &a->fo;
    uint64_t v;
    switch (opt - CLI_OPT_FETCH_BASE) {
    case 0:
        fo->name = optarg;
        return 0;
    case 1:
        fo->version = optarg;
        return 0;
    case 2:
        fo->gpg_sig_url = optarg;
        return 0;
    case 3:
        fo->checksums_url = optarg;
        return 0;
    case 4:
        fo->rsa_sig_url = optarg;
        return 0;
    case 5:
        if (fo->nmirrors >= CLI_MAX_MIRRORS)
            return cli_usage_error(c, "more than %d --mirror options", CLI_MAX_MIRRORS);
        a->mirrors[fo->nmirrors++] = optarg;
        return 0;
    case 6:
        fo->fetch.cacert = optarg;
        return 0;
    case 7:
        fo->fetch.pinned_pubkey = optarg;
        return 0;
    case 8:
        if (!vs_parse_size(optarg, &v) || v == 0)
            return cli_usage_error(c, "--max-size: '%s' is not a size (bytes, or with K, M, G, T)",
                                   optarg);
        fo->fetch.max_size = v;
        return 0;
    case 9:
        if (!vs_parse_u64(optarg, &v) || v > 100)
            return cli_usage_error(c, "--retries: '%s' is not a number from 0 to 100", optarg);
        fo->fetch.retries = (int)v;
        return 0;
    case 10:
        if (!vs_parse_duration(optarg, &v) || v == 0 || v > 7 * 24 * 3600)
            return cli_usage_error(c, "--timeout: '%s' is not a duration of at most 7 days "
                                      "(seconds, or with s, m, h, d)", optarg);
        fo->fetch.timeout_s = (unsigned)v;
        return 0;
    case 11: {
        vs_error rerr = VS_ERROR_INIT;
        if (vs_verify_require_parse(&fo->require, optarg, &rerr) != VS_OK)
            return cli_usage_error(c, "--require: '%s' is not gpg,rsa, gpg or rsa", optarg);
        return 0;
    }
    case 12:
        if (!vs_parse_u64(optarg, &v) || v == 0 || v > 100000)
            return cli_usage_error(c, "--max-sig-age: '%s' is not a number of days", optarg);
        fo->max_sig_age_days = (unsigned)v;
        return 0;
    case 13:
        if (!*optarg)
            return cli_usage_error(c, "--netrc-file: give a file name");
        fo->fetch.netrc_file = optarg;
        return 0;
    default:
        return -1;
    }
}

/* Each --mirror BASE as BASE/NAME/VERSION (the tree `mirror sync` writes),
 * then BASE (a flat mirror). Without a name and version nothing changes:
 * the fetch itself then reports why it has none. */
static int expand_mirrors(cli *c, cli_fetch_args *a, const char *name, const char *version)
{
    vs_cache_fetch_opts *fo = &a->fo;
    if (fo->nmirrors == 0 || !name || !version)
        return 0;
    vs_error err = VS_ERROR_INIT;
    vs_source_mirror_bases_free(c->bases, c->nbases);
    c->bases = NULL;
    c->nbases = 0;
    if (vs_source_mirror_bases(&c->bases, &c->nbases, a->mirrors, fo->nmirrors, name, version,
                               &err) != VS_OK)
        return cli_fail(c, &err);
    fo->mirrors = (const char *const *)c->bases;
    fo->nmirrors = c->nbases;
    return 0;
}

/* A package fetched by plain URL whose name has a configured source: that
 * source's trust settings hold for it too (its `keys` binding, like apt's
 * signed-by, and require / max-sig-age unless given here); a URL must not
 * be a way around the binding. */
static int bind_source_keys(cli *c, cli_fetch_args *a, const char *name)
{
    if (!name)
        return 0;
    int rc = 0;
    vs_config *cfg = cli_config(c, &rc);
    if (!cfg)
        return rc;
    unsigned require = 0, age = 0;
    size_t nkeys = 0;
    if (!vs_source_policy(&require, &age, a->source_keys, &nkeys, cfg, name))
        return 0;
    if (a->fo.nkeys == 0 && nkeys > 0) {
        a->fo.keys = a->source_keys;
        a->fo.nkeys = nkeys;
    }
    if (a->fo.require == 0)
        a->fo.require = require;
    if (a->fo.max_sig_age_days == 0)
        a->fo.max_sig_age_days = age;
    return 0;
}

int cli_fetch_args_finish(cli *c, cli_fetch_args *a, const char *arg)
{
    if (a->fo.gpg_sig_url && a->fo.checksums_url)
        return cli_usage_error(c, "give either --gpg-sig-url or --checksums-url, not both");
    a->fo.mirrors = a->mirrors;
    if (vs_source_is_ref(arg)) {
        /* NAME@VERSION: the source NAME of the configuration fills every
         * option the command line left unset */
        if (a->fo.name || a->fo.version)
            return cli_usage_error(c, "--name and --version do not go with NAME@VERSION '%s'",
                                   arg);
        int rc = 0;
        vs_config *cfg = cli_config(c, &rc);
        if (!cfg)
            return rc;
        vs_error err = VS_ERROR_INIT;
        vs_source_release_free(c->rel);
        c->rel = NULL;
        if (vs_source_resolve(&c->rel, cfg, arg, &err) != VS_OK)
            return cli_fail(c, &err);
        if ((rc = expand_mirrors(c, a, c->rel->fetch.name, c->rel->fetch.version)))
            return rc;
        vs_source_apply(&a->fo, c->rel);
        a->from_source = true;
        return 0;
    }
    a->fo.url = arg;
    char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1];
    const char *n = a->fo.name, *v = a->fo.version;
    if (a->fo.nmirrors && (!n || !v)) {
        vs_error err = VS_ERROR_INIT;
        if (vs_fetch_name_version_for(name, version, arg, n, &err) != VS_OK)
            return 0;
        n = n ? n : name;
        v = v ? v : version;
    }
    if (!n || !v) {
        vs_error err = VS_ERROR_INIT;
        if (vs_fetch_name_version_for(name, version, arg, n, &err) == VS_OK) {
            n = n ? n : name;
            v = v ? v : version;
        }
    }
    int rc = bind_source_keys(c, a, n);
    if (rc)
        return rc;
    char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
    if (!n || !v || (size_t)snprintf(ref, sizeof ref, "%s@%s", n, v) >= sizeof ref ||
        !vs_source_is_ref(ref))
        return 0; /* the fetch says what is wrong with them */
    return expand_mirrors(c, a, n, v);
}

int cli_fetch_run(cli *c, cli_fetch_args *a, char *ref, size_t refsize, json_t *o)
{
    int rc;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx) {
        json_decref(o);
        return rc;
    }
    vs_error err = VS_ERROR_INIT;
    vs_cache_entry *e = NULL;
    bool already = false;
    vs_verdict *verdict = NULL;
    vs_status st = vs_cache_fetch(&e, &already, &verdict, ctx, &a->fo, &err);
    if (o) {
        json_object_set_new(o, "signatures", cli_sigs_json(c, verdict));
        json_object_set_new(o, "verdict", json_string(st == VS_OK ? "trusted" : "rejected"));
        char shown[4097] = ""; /* a URL may carry a password */
        if (a->fo.checksums_url)
            vs_url_redact(shown, sizeof shown, a->fo.checksums_url);
        json_object_set_new(o, "checksums", cli_json_str(shown));
    }
    char who[1024] = "";
    if (st == VS_OK)
        cli_signers_text(c, verdict, a->fo.checksums_url, who, sizeof who);
    vs_verdict_free(verdict);
    if (st != VS_OK) {
        vs_cache_entry_free(e);
        return cli_fail_json(c, &err, o);
    }
    snprintf(ref, refsize, "%s@%s", vs_cache_entry_name(e), vs_cache_entry_version(e));
    if (o) {
        json_object_set_new(o, "ref", json_string(ref));
        json_object_set_new(o, "name", json_string(vs_cache_entry_name(e)));
        json_object_set_new(o, "version", json_string(vs_cache_entry_version(e)));
        json_object_set_new(o, "sha256", json_string(vs_cache_entry_sha256(e)));
        json_object_set_new(o, "size", json_integer((json_int_t)vs_cache_entry_size(e)));
        json_object_set_new(o, "already", json_boolean(already));
    }
    if (already)
        cli_info(c, "%s already in the cache%s%s\n", ref, who[0] ? ": " : "", who);
    else
        cli_info(c, "cached %s sha256:%s%s%s\n", ref, vs_cache_entry_sha256(e),
                 who[0] ? ": " : "", who);
    vs_cache_entry_free(e);
    return 0;
}
