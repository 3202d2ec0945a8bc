/* cli/stage_args.c - the stage options, shared by `stage` and `pull`. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <string.h>

#include "cli.h"

const char cli_stage_help[] =
    "  --dest DIR           the layout: DIR/versions/VERSION and DIR/current -> it\n"
    "  --flat               write the tree straight to DIR (absent or empty)\n"
    "  --allow-downgrade    allow a version lower than DIR/current, or one signed\n"
    "                       before it (an old release under a new name: rollback)\n"
    "  --max-unpacked BYTES refuse archives unpacking to more (default 1G;\n"
    "                       suffixes K, M, G, T)\n"
    "  --max-entries N      refuse archives with more entries (default 100000)\n"
    "  --keep N             after switching current, remove all but the N newest\n"
    "                       versions (never the current one)\n"
    "  --strip-components N drop the first N path components of every entry (as\n"
    "                       tar does), so a top folder named by the version goes\n"
    "  --arch amd64|arm64   every ELF file must be for it (else exit 7); recorded\n"
    "                       in the provenance\n"
    "DIR must be absent, empty, or a vetstage layout of the same kind (versioned\n"
    "or --flat), and outside the vetstage home; anything else is refused (exit 2)\n"
    "before any change. Staging a version that is already staged replaces it\n"
    "atomically.\n";

int cli_stage_arg(cli *c, int opt, vs_stage_opts *so, const char **dest)
{
    switch (opt - CLI_OPT_STAGE_BASE) {
    case 0:
        *dest = optarg;
        return 0;
    case 1:
        so->flat = true;
        return 0;
    case 2:
        so->allow_downgrade = true;
        return 0;
    case 3:
        if (!vs_parse_size(optarg, &so->max_unpacked) || so->max_unpacked == 0)
            return cli_usage_error(c, "--max-unpacked: '%s' is not a positive size (bytes, or "
                                      "with K, M, G, T)", optarg);
        return 0;
    case 4:
        if (!vs_parse_u64(optarg, &so->max_entries) || so->max_entries == 0)
            return cli_usage_error(c, "--max-entries: '%s' is not a positive number (digits)",
                                   optarg);
        return 0;
    case 5: {
        uint64_t n = 0;
        if (!vs_parse_u64(optarg, &n) || n == 0 || n > UINT_MAX)
            return cli_usage_error(c, "--keep: expected a positive number of versions");
        so->keep = (unsigned)n;
        return 0;
    }
    case 6: {
        uint64_t n = 0;
        if (!vs_parse_u64(optarg, &n) || n > VS_MAX_ARCHIVE_PATH)
            return cli_usage_error(c, "--strip-components: expected a number of path "
                                      "components");
        so->strip_components = (unsigned)n;
        return 0;
    }
    case 7:
        if (strcmp(optarg, "amd64") != 0 && strcmp(optarg, "arm64") != 0)
            return cli_usage_error(c, "--arch: expected amd64 or arm64");
        so->arch = optarg;
        return 0;
    default:
        return -1;
    }
}

void cli_stage_report(cli *c, const char *ref, const char *dest, const vs_stage_opts *so,
                      const vs_stage_result *res, json_t *obj)
{
    cli_info(c, "staged %s into %s (%" PRIu64 " files, %" PRIu64 " bytes)\n", ref, res->path,
             res->files, res->bytes);
    if (!obj)
        return;
    json_object_set_new(obj, "ref", json_string(ref));
    /* the package staged: name, version and sha256, as fetch and cache say them */
    vs_cache_entry *e = NULL;
    vs_error err = VS_ERROR_INIT;
    if (c->ctx && vs_cache_lookup(&e, c->ctx, ref, &err) == VS_OK) {
        json_object_set_new(obj, "name", json_string(vs_cache_entry_name(e)));
        json_object_set_new(obj, "version", json_string(vs_cache_entry_version(e)));
        json_object_set_new(obj, "sha256", json_string(vs_cache_entry_sha256(e)));
    }
    vs_cache_entry_free(e);
    json_object_set_new(obj, "dest", json_string(dest));
    json_object_set_new(obj, "layout", json_string(so->flat ? "flat" : "versioned"));
    json_object_set_new(obj, "path", json_string(res->path));
    json_object_set_new(obj, "files", json_integer((json_int_t)res->files));
    json_object_set_new(obj, "bytes", json_integer((json_int_t)res->bytes));
}

int cli_stage_source_keys(cli *c, const char *ref, vs_stage_opts *so,
                          const char *keys[VS_MAX_SOURCE_KEYS])
{
    const char *at = ref ? strchr(ref, '@') : NULL;
    char name[VS_MAX_NAME + 1];
    if (!at || (size_t)(at - ref) >= sizeof name)
        return 0; /* stage says what is wrong with the ref */
    memcpy(name, ref, (size_t)(at - ref));
    name[at - ref] = '\0';
    int rc = 0;
    vs_config *cfg = cli_config(c, &rc);
    if (!cfg)
        return rc;
    unsigned require = 0, age = 0;
    size_t n = 0;
    if (vs_source_policy(&require, &age, keys, &n, cfg, name) && n > 0) {
        so->keys = keys;
        so->nkeys = n;
    }
    return 0;
}
