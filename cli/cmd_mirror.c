/* cli/cmd_mirror.c - `vetstage mirror sync|export|import`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "usage: vetstage mirror sync LIST --dest DIR [--jobs N] [fetch options]\n"
    "       vetstage mirror export NAME@VERSION... --out BUNDLE\n"
    "       vetstage mirror import BUNDLE [--require R] [--max-sig-age DAYS]\n"
    "\n"
    "  sync    fetch and verify every item of LIST (one a line: a URL, or NAME@VERSION\n"
    "          of a source of the configuration; blank lines and '#' comments allowed)\n"
    "          on N threads (default 4, at most 32) into the cache, then write a static\n"
    "          mirror tree to DIR: DIR/NAME/VERSION/ holds each package and its signature\n"
    "          files under their original names (two releases' checksum_sha256.txt\n"
    "          never collide), DIR/index.json lists them. Serve DIR with any HTTP server\n"
    "          and use it with `vetstage fetch URL --mirror BASE` or a source's mirror.\n"
    "          Fetch options: --cacert, --pinned-pubkey, --netrc-file, --max-size,\n"
    "          --retries, --timeout, --require, --max-sig-age, --mirror (as for fetch).\n"
    "  export  one gzip-compressed tar holding index.json and NAME@VERSION/FILE for\n"
    "          each package and its signature files, copied from the cache.\n"
    "  import  read a bundle as untrusted input (regular files named index.json or\n"
    "          NAME@VERSION/FILE only, bounded sizes, at most 4 GiB in all) and admit\n"
    "          each package only after verifying it against this home's trust store;\n"
    "          its name and version come from its file name, as for fetch (a bundle\n"
    "          that relabels a package is refused, exit 7). A package whose name is a\n"
    "          source of the configuration counts only that source's keys. Messages\n"
    "          name the bundle and the member: BUNDLE(NAME@VERSION/FILE).\n"
    "Exit codes: 0 all done; else the worst failure (2 usage or not a bundle,\n"
    "3 verify (a signature the policy needs missing from a bundle too), 4 fetch,\n"
    "5 unsafe bundle, 7 policy, 1 internal), each failed item named on its own line.\n"
    "Items that succeed still land.\n";

enum { OPT_DEST = CLI_OPT_FIRST_COMMAND, OPT_JOBS, OPT_OUT };

typedef struct report {
    cli *c;
    json_t *items;
    const char *verb;
} report;

static void on_item(const char *what, vs_status st, const vs_error *err, const vs_cache_entry *e,
                    void *payload)
{
    report *r = payload;
    json_t *o = json_object();
    char shown[4097]; /* a line of the list may be a URL with a password */
    vs_url_redact(shown, sizeof shown, what);
    json_object_set_new(o, "item", json_string(shown));
    json_object_set_new(o, "ok", json_boolean(st == VS_OK));
    if (st == VS_OK && e) {
        char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
        snprintf(ref, sizeof ref, "%s@%s", vs_cache_entry_name(e), vs_cache_entry_version(e));
        json_object_set_new(o, "ref", json_string(ref));
        json_object_set_new(o, "sha256", json_string(vs_cache_entry_sha256(e)));
        json_object_set_new(o, "file", json_string(vs_cache_entry_file(e)));
        bool already = err && err->detail == VS_DETAIL_EXISTS;
        json_object_set_new(o, "already", json_boolean(already));
        cli_info(r->c, "%s %s sha256:%s\n", already ? "already present" : r->verb, ref,
                 vs_cache_entry_sha256(e));
    } else {
        const char *message = err && err->message[0] ? err->message : vs_status_describe(st);
        json_object_set_new(o, "code", json_string(vs_status_name(st)));
        json_object_set_new(o, "message", json_string(message));
        if (err && err->subject[0])
            json_object_set_new(o, "subject", json_string(err->subject));
        if (err && err->hint[0]) {
            json_object_set_new(o, "hint", json_string(err->hint));
            fprintf(stderr, "vetstage: %s (hint: %s)\n", message, err->hint);
        } else {
            fprintf(stderr, "vetstage: %s\n", message);
        }
    }
    json_array_append_new(r->items, o);
}

/* After sync or import: per-item failures were already printed one a line;
 * a failure of the whole operation is printed here. */
static int finish(cli *c, vs_status st, const vs_error *err, report *r, size_t nok,
                  size_t nfailed)
{
    json_t *o = json_object();
    json_object_set_new(o, "items", r->items);
    json_object_set_new(o, "succeeded", json_integer((json_int_t)nok));
    json_object_set_new(o, "failed", json_integer((json_int_t)nfailed));
    if (st == VS_OK)
        return cli_json_ok(c, o);
    if (nfailed == 0)
        return cli_fail_json(c, err, o);
    if (c->json) {
        json_t *j = json_object();
        json_object_set_new(j, "ok", json_false());
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(vs_status_name(st)));
        json_object_set_new(e, "message", json_string(err->message));
        json_object_set_new(j, "error", e);
        json_object_update_missing(j, o);
        cli_json_print(j);
    }
    json_decref(o);
    return (int)st;
}

static int do_sync(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        CLI_FETCH_LONGOPTS,
        { "dest", required_argument, NULL, OPT_DEST },
        { "jobs", required_argument, NULL, OPT_JOBS },
        { 0, 0, 0, 0 },
    };
    cli_fetch_args fa;
    cli_fetch_args_init(&fa);
    const char *dest = NULL;
    uint64_t jobs = 0;
    int opt;
    cli_getopt_reset();
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        if (opt == OPT_DEST) {
            dest = optarg;
            continue;
        }
        if (opt == OPT_JOBS) {
            if (!vs_parse_u64(optarg, &jobs) || jobs == 0 || jobs > VS_MIRROR_MAX_JOBS)
                return cli_usage_error(c, "--jobs: '%s' is not a number from 1 to %u", optarg,
                                       VS_MIRROR_MAX_JOBS);
            continue;
        }
        int r = cli_fetch_arg(c, opt, &fa);
        if (r >= 0) {
            if (r > 0)
                return r;
            continue;
        }
        r = cli_opt_rest(c, opt, usage_text, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (optind + 1 != argc)
        return cli_usage_error(c, optind >= argc ? "missing LIST" : "give exactly one LIST");
    if (!dest)
        return cli_usage_error(c, "--dest DIR is required");
    if (fa.fo.name || fa.fo.version || fa.fo.gpg_sig_url || fa.fo.checksums_url ||
        fa.fo.rsa_sig_url)
        return cli_usage_error(c, "--name, --version and signature URLs do not apply to a list");
    int rc;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_mirror_sync_opts so = VS_MIRROR_SYNC_OPTS_INIT;
    so.list = argv[optind];
    so.dest = dest;
    so.jobs = (unsigned)jobs;
    so.fetch = fa.fo;
    so.fetch.mirrors = fa.mirrors;
    if (cli_config_path(c)) {
        /* a file the user named is read now; else the home's, when needed */
        if (!(so.config = cli_config(c, &rc)))
            return rc;
    }
    report r = { c, json_array(), "mirrored" };
    so.cb = on_item;
    so.payload = &r;
    vs_error err = VS_ERROR_INIT;
    size_t nok = 0, nfailed = 0;
    vs_status st = vs_mirror_sync(&nok, &nfailed, ctx, &so, &err);
    return finish(c, st, &err, &r, nok, nfailed);
}

static int do_export(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "out", required_argument, NULL, OPT_OUT },
        { 0, 0, 0, 0 },
    };
    const char *out = NULL;
    int opt;
    cli_getopt_reset();
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        if (opt == OPT_OUT) {
            out = optarg;
            continue;
        }
        int r = cli_opt_rest(c, opt, usage_text, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (optind >= argc)
        return cli_usage_error(c, "missing NAME@VERSION");
    if (!out)
        return cli_usage_error(c, "--out BUNDLE is required");
    int rc;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_error err = VS_ERROR_INIT;
    size_t n = (size_t)(argc - optind);
    vs_status st = vs_mirror_export(ctx, (const char *const *)(argv + optind), n, out, &err);
    if (st)
        return cli_fail(c, &err);
    cli_info(c, "exported %zu package%s to %s\n", n, n == 1 ? "" : "s", out);
    json_t *o = json_object();
    json_object_set_new(o, "bundle", json_string(out));
    json_object_set_new(o, "packages", json_integer((json_int_t)n));
    return cli_json_ok(c, o);
}

static int do_import(cli *c, int argc, char **argv)
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
        if (r > 0)
            return r;
        if (r == 0) {
            /* only the policy options mean something for a bundle */
            if (opt != CLI_OPT_FETCH_BASE + 11 && opt != CLI_OPT_FETCH_BASE + 12)
                return cli_usage_error(c, "mirror import takes only --require and --max-sig-age");
            continue;
        }
        r = cli_opt_rest(c, opt, usage_text, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (optind + 1 != argc)
        return cli_usage_error(c, optind >= argc ? "missing BUNDLE" : "give exactly one BUNDLE");
    int rc;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_mirror_import_opts io = VS_MIRROR_IMPORT_OPTS_INIT;
    io.require = fa.fo.require;
    io.max_sig_age_days = fa.fo.max_sig_age_days;
    if (cli_config_path(c)) {
        if (!(io.config = cli_config(c, &rc)))
            return rc;
    }
    report r = { c, json_array(), "admitted" };
    io.cb = on_item;
    io.payload = &r;
    vs_error err = VS_ERROR_INIT;
    size_t nok = 0, nfailed = 0;
    vs_status st = vs_mirror_import(&nok, &nfailed, ctx, argv[optind], &io, &err);
    return finish(c, st, &err, &r, nok, nfailed);
}

int cmd_mirror(cli *c, int argc, char **argv)
{
    static const cli_sub subs[] = {
        { "sync", do_sync, "mirror sync" },
        { "export", do_export, "mirror export" },
        { "import", do_import, "mirror import" },
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0],
                        "sync, export or import", usage_text);
}
