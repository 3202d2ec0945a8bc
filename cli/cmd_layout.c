/* cli/cmd_layout.c - `vetstage layout check DIR`. */
#include <string.h>

#include "cli.h"

static const char layout_usage[] =
    "usage: vetstage layout check DIR [--manifest-sha256 HEX] [--json]\n"
    "\n"
    "Check a staged layout (flat, or versioned: then DIR/current) against its\n"
    ".vetstage/MANIFEST.sha256 and .vetstage/MODES: every file present with its\n"
    "hash and recorded mode, symbolic links as recorded, nothing extra. Then its\n"
    "layout digest (manifest, modes and provenance) must be the one this home\n"
    "recorded when it staged DIR, or HEX when given:\n"
    "  --manifest-sha256 HEX  the layout digest to expect (a layout staged\n"
    "                         elsewhere; see `vetstage-check`)\n"
    "One line per problem on stderr, then a summary.\n"
    "Exit: 0 intact, 6 damaged or another digest, 2 DIR is not a layout or bad\n"
    "arguments.\n";

typedef struct problems {
    cli *c;
    const char *dir;
    json_t *arr;
} problems;

static void on_problem(const char *path, const char *reason, void *payload)
{
    problems *p = payload;
    if (p->arr) {
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(path));
        json_object_set_new(o, "reason", json_string(reason));
        json_array_append_new(p->arr, o);
    }
    fprintf(stderr, "vetstage: %s: %s: %s\n", p->dir, path, reason);
}

int cmd_layout(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "manifest-sha256", required_argument, NULL, 'm' },
        { 0, 0, 0, 0 },
    };
    const char *expect = NULL;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (argc >= 2) {
            fputs(layout_usage, stdout);
            return 0;
        }
        return cli_usage_error(c, "missing subcommand (check)");
    }
    if (strcmp(argv[1], "check") != 0) {
        return cli_usage_error(c, "unknown subcommand '%s' (check)", argv[1]);
    }
    c->command = "layout check";
    int opt;
    argc--;
    argv++;
    c->argv = argv;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        if (opt == 'm') {
            expect = optarg;
            continue;
        }
        int r = cli_opt_rest(c, opt, layout_usage, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (argc - optind != 1)
        return cli_usage_error(c, "expected one DIR");
    const char *dir = argv[optind];
    if (expect && !vs_layout_digest_valid(expect)) {
        vs_error e2;
        cli_error_usage(&e2, expect, "not a layout digest (64 hexadecimal digits)");
        return cli_fail(c, &e2);
    }
    int rc = 0;
    vs_ctx *ctx = expect ? NULL : cli_ctx_if_home(c, &rc);
    if (rc)
        return rc;
    problems p = { c, dir, c->json ? json_array() : NULL };
    vs_error err = VS_ERROR_INIT;
    size_t n = 0;
    char digest[VS_LAYOUT_DIGEST_HEX];
    vs_status st = vs_layout_verify(&n, digest, ctx, dir, expect, on_problem, &p, &err);
    json_t *o = json_object();
    json_object_set_new(o, "dir", json_string(dir));
    if (digest[0])
        json_object_set_new(o, "manifest_sha256", json_string(digest));
    if (p.arr)
        json_object_set_new(o, "problems", p.arr);
    if (st != VS_OK)
        return cli_fail_json(c, &err, o);
    cli_info(c, "%s: layout intact (digest %s)\n", dir, digest);
    return cli_json_ok(c, o);
}
