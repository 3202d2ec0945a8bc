/* cli/cmd_layout.c - `vetstage layout check DIR`. */
#include <string.h>

#include "cli.h"

static const char layout_usage[] =
    "usage: vetstage layout check DIR [--json]\n"
    "\n"
    "Check a staged layout (flat, or versioned: then DIR/current) against its\n"
    ".vetstage/MANIFEST.sha256 and .vetstage/MODES: every file present with its\n"
    "hash and recorded mode, symbolic links as recorded, nothing extra.\n"
    "One line per problem on stderr, then a summary.\n"
    "Exit: 0 intact, 6 damaged, 2 DIR is not a layout or bad arguments.\n";

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
    static const struct option opts[] = { CLI_COMMON_LONGOPTS, { 0, 0, 0, 0 } };
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
        int r = cli_opt_rest(c, opt, layout_usage, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (argc - optind != 1)
        return cli_usage_error(c, "expected one DIR");
    const char *dir = argv[optind];
    problems p = { c, dir, c->json ? json_array() : NULL };
    vs_error err = VS_ERROR_INIT;
    size_t n = 0;
    vs_status st = vs_layout_check(dir, on_problem, &p, &n, &err);
    json_t *o = json_object();
    json_object_set_new(o, "dir", json_string(dir));
    if (p.arr)
        json_object_set_new(o, "problems", p.arr);
    if (st != VS_OK)
        return cli_fail_json(c, &err, o);
    cli_info(c, "%s: layout intact\n", dir);
    return cli_json_ok(c, o);
}
