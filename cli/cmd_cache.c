/* cli/cmd_cache.c - `vetstage cache list|show|path|fsck|gc|rm`. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
    "usage: vetstage cache list [--json]\n"
    "       vetstage cache show NAME@VERSION [--json]\n"
    "       vetstage cache path NAME@VERSION [--json]\n"
    "       vetstage cache fsck [--json]\n"
    "       vetstage cache gc [--keep N] [--json]\n"
    "       vetstage cache rm NAME@VERSION... [--json]\n"
    "\n"
    "The cache of vetted packages under HOME/cache.\n"
    "  list   every NAME@VERSION with its size, sha256 prefix and verification time\n"
    "  show   everything the cache recorded about one package (sources, signature\n"
    "         objects, signers, policy, verification time)\n"
    "  path   absolute path of the package object (read-only), on stdout\n"
    "  fsck   re-hash every object and check every ref; exit 6 naming each damaged\n"
    "         entry, one line each (to repair a package, delete its damaged\n"
    "         object and fetch it again)\n"
    "  gc     with --keep N, keep the N newest versions of each name (version order:\n"
    "         digits numerically, '~' first) and drop the others; then remove\n"
    "         unreferenced objects and abandoned downloads. Without --keep no\n"
    "         version is removed.\n"
    "  rm     remove the named versions and every object no other version uses;\n"
    "         an unknown NAME@VERSION removes nothing (exit 2)\n"
    "Options: --json, -q, -v, --home DIR, --help.\n"
    "Exit codes: 0 ok, 1 internal, 2 usage (bad arguments, NAME@VERSION not in the\n"
    "cache), 6 integrity (damaged cache).\n";

/* Parse the common options of a subcommand; collects positionals into pos.
 * keep (may be NULL) receives --keep. Returns -1 to continue, else exit code. */
static int parse(cli *c, int argc, char **argv, const char **pos, int maxpos, int *npos,
                 const char **keep)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "keep", required_argument, NULL, CLI_OPT_FIRST_COMMAND },
        { 0, 0, 0, 0 },
    };
    int opt;
    *npos = 0;
    cli_getopt_reset();
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        if (opt == CLI_OPT_FIRST_COMMAND && keep) {
            *keep = optarg;
            continue;
        }
        if (opt == CLI_OPT_FIRST_COMMAND)
            return cli_usage_error(c, "--keep is only for cache gc");
        int r = cli_opt_rest(c, opt, usage_text, (char *)NULL);
        if (r >= 0)
            return r;
    }
    for (int i = optind; i < argc; i++) {
        if (*npos >= maxpos)
            return cli_usage_error(c, "unexpected argument '%s'", argv[i]);
        pos[(*npos)++] = argv[i];
    }
    return -1;
}

/* Options of a sub-command that takes no arguments, then the context.
 * Returns -1 with *ctxp set to continue, else the exit code. */
static int parse_noargs(cli *c, int argc, char **argv, vs_ctx **ctxp)
{
    const char *pos[1];
    int npos, rc = parse(c, argc, argv, pos, 0, &npos, NULL);
    if (rc >= 0)
        return rc;
    *ctxp = cli_ctx(c, &rc);
    return *ctxp ? -1 : rc;
}

/* The library's JSON form of the entry, plus "ref" (and "path" for show). */
static json_t *entry_json(vs_ctx *ctx, const vs_cache_entry *e, bool full)
{
    char *text = vs_cache_entry_json(e);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!o)
        o = json_object();
    char ref[300];
    snprintf(ref, sizeof ref, "%s@%s", vs_cache_entry_name(e), vs_cache_entry_version(e));
    json_object_set_new(o, "ref", json_string(ref));
    if (full) {
        char *path = vs_cache_object_path(ctx, vs_cache_entry_sha256(e));
        json_object_set_new(o, "path", cli_json_str(path));
        free(path);
    }
    return o;
}

static int do_list(cli *c, int argc, char **argv)
{
    vs_ctx *ctx;
    int rc = parse_noargs(c, argc, argv, &ctx);
    if (rc >= 0)
        return rc;
    vs_error err = VS_ERROR_INIT;
    vs_cache_entry **v;
    size_t n;
    if (vs_cache_list(&v, &n, ctx, &err) != VS_OK)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, entry_json(ctx, v[i], false));
        vs_cache_entry_list_free(v, n);
        json_t *o = json_object();
        json_object_set_new(o, "entries", arr);
        return cli_json_ok(c, o);
    }
    for (size_t i = 0; i < n; i++) {
        char ref[300], tb[32];
        snprintf(ref, sizeof ref, "%s@%s", vs_cache_entry_name(v[i]), vs_cache_entry_version(v[i]));
        cli_out(c, "%-40s %12" PRIu64 "  sha256:%.12s  %s\n", ref, vs_cache_entry_size(v[i]),
                vs_cache_entry_sha256(v[i]), cli_time(tb, vs_cache_entry_verified(v[i])));
    }
    if (n == 0)
        cli_info(c, "the cache is empty\n");
    vs_cache_entry_list_free(v, n);
    return 0;
}

/* Options and the one NAME@VERSION argument of show and path, then its ref.
 * Returns -1 with *ctxp and *ep (caller frees) set to continue, else the
 * exit code. */
static int lookup_one(cli *c, int argc, char **argv, vs_ctx **ctxp, vs_cache_entry **ep)
{
    vs_cache_entry *e = NULL;
    const char *pos[1];
    vs_error err = VS_ERROR_INIT;
    vs_ctx *ctx;
    int npos, rc = parse(c, argc, argv, pos, 1, &npos, NULL);
    if (rc >= 0)
        goto fail;
    if (npos != 1) {
        rc = cli_usage_error(c, "give one NAME@VERSION");
        goto fail;
    }
    if (!(ctx = cli_ctx(c, &rc)))
        goto fail;
    if (vs_cache_lookup(&e, ctx, pos[0], &err) != VS_OK) {
        rc = cli_fail(c, &err);
        goto fail;
    }
    *ctxp = ctx;
    *ep = e;
    return -1;
fail:
    vs_cache_entry_free(e);
    return rc;
}

static int do_show(cli *c, int argc, char **argv)
{
    vs_ctx *ctx;
    vs_cache_entry *e;
    int rc = lookup_one(c, argc, argv, &ctx, &e);
    if (rc >= 0)
        return rc;
    if (c->json) {
        rc = cli_json_ok(c, entry_json(ctx, e, true));
        vs_cache_entry_free(e);
        return rc;
    }
    char tb[32];
    char *path = vs_cache_object_path(ctx, vs_cache_entry_sha256(e));
    cli_out(c, "ref:       %s@%s\n", vs_cache_entry_name(e), vs_cache_entry_version(e));
    cli_out(c, "file:      %s\n", vs_cache_entry_file(e));
    cli_out(c, "size:      %" PRIu64 "\n", vs_cache_entry_size(e));
    cli_out(c, "sha256:    %s\n", vs_cache_entry_sha256(e));
    cli_out(c, "path:      %s\n", path ? path : "");
    cli_out(c, "url:       %s\n", vs_cache_entry_url(e));
    for (size_t i = 0; i < vs_cache_entry_nsigs(e); i++)
        cli_out(c, "%-10s %s sha256:%s%s%s\n", vs_cache_entry_sig_kind(e, i),
                vs_cache_entry_sig_file(e, i), vs_cache_entry_sig_sha256(e, i),
                vs_cache_entry_sig_url(e, i)[0] ? " from " : "", vs_cache_entry_sig_url(e, i));
    for (size_t i = 0; i < vs_cache_entry_nsigners(e); i++)
        cli_out(c, "signer:    %s\n", vs_cache_entry_signer(e, i));
    for (size_t i = 0; i < vs_cache_entry_nkeys(e); i++)
        cli_out(c, "bound to:  %s\n", vs_cache_entry_key(e, i));
    cli_out(c, "require:   %s\n",
            vs_cache_entry_require(e) == VS_REQUIRE_BOTH  ? "gpg,rsa"
            : vs_cache_entry_require(e) == VS_REQUIRE_GPG ? "gpg"
                                                          : "rsa");
    cli_out(c, "verified:  %s\n", cli_time(tb, vs_cache_entry_verified(e)));
    cli_out(c, "tool:      %s\n", vs_cache_entry_tool(e));
    free(path);
    vs_cache_entry_free(e);
    return 0;
}

static int do_path(cli *c, int argc, char **argv)
{
    vs_ctx *ctx;
    vs_cache_entry *e;
    int rc = lookup_one(c, argc, argv, &ctx, &e);
    if (rc >= 0)
        return rc;
    /* the library says whether the object is there (and not behind a link) */
    vs_error err = VS_ERROR_INIT;
    int fd;
    if (vs_cache_open_object(&fd, ctx, vs_cache_entry_sha256(e), &err) != VS_OK) {
        vs_cache_entry_free(e);
        return cli_fail(c, &err);
    }
    close(fd);
    char *path = vs_cache_object_path(ctx, vs_cache_entry_sha256(e));
    if (!path) {
        vs_cache_entry_free(e);
        return 1;
    }
    if (c->json) {
        json_t *o = json_object();
        char ref[300];
        snprintf(ref, sizeof ref, "%s@%s", vs_cache_entry_name(e), vs_cache_entry_version(e));
        json_object_set_new(o, "ref", json_string(ref));
        json_object_set_new(o, "path", json_string(path));
        rc = cli_json_ok(c, o);
    } else {
        cli_out(c, "%s\n", path);
        rc = 0;
    }
    free(path);
    vs_cache_entry_free(e);
    return rc;
}

struct damage_acc {
    cli *c;
    json_t *arr;
};

static void on_damage(const char *what, const char *reason, void *payload)
{
    struct damage_acc *d = payload;
    /* one line per damaged entry, on stderr in both modes */
    fprintf(stderr, "vetstage: damaged: %s: %s\n", what, reason);
    if (d->arr) {
        json_t *o = json_object();
        json_object_set_new(o, "what", json_string(what));
        json_object_set_new(o, "reason", json_string(reason));
        json_array_append_new(d->arr, o);
    }
}

static int do_fsck(cli *c, int argc, char **argv)
{
    vs_ctx *ctx;
    int rc = parse_noargs(c, argc, argv, &ctx);
    if (rc >= 0)
        return rc;
    vs_error err = VS_ERROR_INIT;
    struct damage_acc d = { c, c->json ? json_array() : NULL };
    size_t nd = 0;
    vs_status st = vs_cache_fsck(&nd, ctx, on_damage, &d, &err);
    if (st != VS_OK) {
        json_t *extra = NULL;
        if (d.arr) {
            extra = json_object();
            json_object_set_new(extra, "damaged", d.arr);
        }
        return cli_fail_json(c, &err, extra);
    }
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "damaged", d.arr);
        return cli_json_ok(c, o);
    }
    cli_info(c, "cache is intact\n");
    return 0;
}

static int do_gc(cli *c, int argc, char **argv)
{
    const char *pos[1];
    const char *keeps = NULL;
    int npos, rc = parse(c, argc, argv, pos, 0, &npos, &keeps);
    if (rc >= 0)
        return rc;
    unsigned keep = UINT_MAX;
    if (keeps) {
        uint64_t k;
        if (!vs_parse_u64(keeps, &k) || k >= UINT_MAX)
            return cli_usage_error(c, "--keep: '%s' is not a number of versions", keeps);
        keep = (unsigned)k;
    }
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_error err = VS_ERROR_INIT;
    size_t refs = 0, objs = 0;
    if (vs_cache_gc(&refs, &objs, ctx, keep, &err) != VS_OK)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "refs_removed", json_integer((json_int_t)refs));
        json_object_set_new(o, "objects_removed", json_integer((json_int_t)objs));
        return cli_json_ok(c, o);
    }
    cli_info(c, "removed %zu %s and %zu unreferenced %s\n", refs,
             refs == 1 ? "version" : "versions", objs, objs == 1 ? "object" : "objects");
    return 0;
}

static int do_rm(cli *c, int argc, char **argv)
{
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos)
        return 1;
    int npos, rc = parse(c, argc, argv, pos, argc, &npos, NULL);
    if (rc < 0 && npos == 0)
        rc = cli_usage_error(c, "give at least one NAME@VERSION");
    vs_ctx *ctx = rc < 0 ? cli_ctx(c, &rc) : NULL;
    if (!ctx) {
        free(pos);
        return rc;
    }
    vs_error err = VS_ERROR_INIT;
    size_t objs = 0;
    if (vs_cache_rm(&objs, ctx, pos, (size_t)npos, &err) != VS_OK) {
        free(pos);
        return cli_fail(c, &err);
    }
    if (c->json) {
        json_t *arr = json_array();
        for (int i = 0; i < npos; i++)
            json_array_append_new(arr, json_string(pos[i]));
        json_t *o = json_object();
        json_object_set_new(o, "removed", arr);
        json_object_set_new(o, "objects_removed", json_integer((json_int_t)objs));
        free(pos);
        return cli_json_ok(c, o);
    }
    for (int i = 0; i < npos; i++)
        cli_info(c, "removed %s\n", pos[i]);
    cli_info(c, "removed %zu %s no other version uses\n", objs, objs == 1 ? "object" : "objects");
    free(pos);
    return 0;
}

int cmd_cache(cli *c, int argc, char **argv)
{
    static const cli_sub subs[] = {
        { "list", do_list, "cache list" }, { "show", do_show, "cache show" },
        { "path", do_path, "cache path" }, { "fsck", do_fsck, "cache fsck" },
        { "gc", do_gc, "cache gc" },     { "rm", do_rm, "cache rm" },
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0],
                        "list, show, path, fsck, gc or rm", usage_text);
}
