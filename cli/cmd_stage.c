/* cli/cmd_stage.c - `vetstage stage NAME@VERSION --dest DIR`. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static const char stage_usage[] =
    "usage: vetstage stage NAME@VERSION --dest DIR [--flat] [--allow-downgrade]\n"
    "                      [--max-unpacked BYTES] [--max-entries N] [--json]\n"
    "\n"
    "Re-check a cached package (hash and signatures), extract it safely and stage it.\n"
    "  --dest DIR           the layout: DIR/versions/VERSION and DIR/current -> it\n"
    "  --flat               write the tree straight to DIR (absent or empty)\n"
    "  --allow-downgrade    allow a version lower than DIR/current\n"
    "  --max-unpacked BYTES refuse archives unpacking to more (default 1 GiB)\n"
    "  --max-entries N      refuse archives with more entries (default 100000)\n"
    "Staging a version that is already staged replaces it atomically.\n"
    "Exit: 0 staged, 2 usage, 3 package altered or signature no longer valid,\n"
    "5 unsafe archive (nothing staged), 7 downgrade refused.\n";

enum { OPT_DEST = CLI_OPT_FIRST_COMMAND, OPT_FLAT, OPT_DOWNGRADE, OPT_MAX_UNPACKED, OPT_MAX_ENTRIES };

int cmd_stage(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "dest", required_argument, NULL, OPT_DEST },
        { "flat", no_argument, NULL, OPT_FLAT },
        { "allow-downgrade", no_argument, NULL, OPT_DOWNGRADE },
        { "max-unpacked", required_argument, NULL, OPT_MAX_UNPACKED },
        { "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },
        { 0, 0, 0, 0 },
    };
    vs_stage_opts so = VS_STAGE_OPTS_INIT;
    const char *dest = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        switch (opt) {
        case OPT_DEST:
            dest = optarg;
            break;
        case OPT_FLAT:
            so.flat = true;
            break;
        case OPT_DOWNGRADE:
            so.allow_downgrade = true;
            break;
        case OPT_MAX_UNPACKED:
            if (!cli_parse_u64(optarg, &so.max_unpacked) || so.max_unpacked == 0)
                return cli_usage_error(c, "--max-unpacked: expected a positive number of bytes");
            break;
        case OPT_MAX_ENTRIES:
            if (!cli_parse_u64(optarg, &so.max_entries) || so.max_entries == 0)
                return cli_usage_error(c, "--max-entries: expected a positive number");
            break;
        default: {
            int r = cli_common_opt(c, opt);
            if (r == -1) {
                fputs(stage_usage, stdout);
                return 0;
            }
            if (r != 0)
                return cli_usage_error(c, "see 'vetstage stage --help'");
        }
        }
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
    vs_status st = vs_stage_ref(ctx, ref, dest, &so, &res, &err);
    if (st != VS_OK)
        return cli_fail(c, &err);
    cli_info(c, "staged %s into %s (%" PRIu64 " files, %" PRIu64 " bytes)\n", ref, res.path,
             res.files, res.bytes);
    json_t *o = json_object();
    json_object_set_new(o, "ref", json_string(ref));
    json_object_set_new(o, "dest", json_string(dest));
    json_object_set_new(o, "layout", json_string(so.flat ? "flat" : "versioned"));
    json_object_set_new(o, "path", json_string(res.path));
    json_object_set_new(o, "files", json_integer((json_int_t)res.files));
    json_object_set_new(o, "bytes", json_integer((json_int_t)res.bytes));
    return cli_json_ok(c, o);
}
