/* cli/cmd_verify.c - `vetstage verify`: parse, call vs_verify_package, print. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vetstage verify PACKAGE [--gpg-sig FILE | --checksums FILE [--checksums-sig FILE]]\n"
    "                       [--rsa-sig FILE] [--require gpg,rsa|gpg|rsa] [--max-sig-age DAYS]\n"
    "                       [--name NAME] [--json] [-q] [-v] [--home DIR]\n"
    "\n"
    "Check PACKAGE against the keys in the trust store (see `vetstage keys`).\n"
    "\n"
    "  --gpg-sig FILE       the vendor's detached OpenPGP signature, armored or binary\n"
    "                       (default: PACKAGE.asc when it exists)\n"
    "  --checksums FILE     instead, a signed checksum list: sha256sum lines (NAME or\n"
    "                       ./NAME) or BSD tag lines (SHA256 (NAME) = HEX); it must name\n"
    "                       PACKAGE (or --name) with its SHA-256 once (lines for other\n"
    "                       files or algorithms are not judged); clearsigned, or signed\n"
    "                       by a detached signature\n"
    "  --checksums-sig FILE the list's detached signature (default: FILE.asc)\n"
    "  --rsa-sig FILE       the organisation's RSA signature over PACKAGE, raw or base64\n"
    "                       (default: PACKAGE.sig when it exists); every RSA key in the\n"
    "                       store is tried, each with the scheme it was imported with\n"
    "  --require KINDS      which signatures must be valid: gpg,rsa (default), gpg or rsa\n"
    "  --max-sig-age DAYS   refuse OpenPGP signatures made more than DAYS days ago (exit 7)\n"
    "  --name NAME          file name looked up in the checksum list (default: PACKAGE's)\n"
    "  --json               one JSON object on stdout: ok, package, size, sha256,\n"
    "                       signatures [{type, valid, fingerprint, created, reason}], verdict\n"
    "\n"
    "The verdict is \"trusted\" only when every required kind has at least one signature\n"
    "that counts and none that rejects (apt's rule for files holding several signatures):\n"
    "a signature by a key not in the store, expired or revoked does not count and is\n"
    "reported; a bad or weak (SHA-1/MD5) signature by a stored key rejects. A signature of\n"
    "a kind that is not required is still checked and reported, but does not change the\n"
    "verdict. A policy the trust store cannot meet (say the default, and no RSA key) is\n"
    "refused before the package is read.\n"
    "\n"
    "Exit status: 0 trusted; 2 bad arguments or unreadable package; 3 a signature is bad,\n"
    "missing, untrusted or weak, or a hash does not match; 7 refused by policy (signature\n"
    "too old, key below minimum strength). With several failures, the first failing\n"
    "required check (OpenPGP before RSA) gives the status.\n";

enum {
    OPT_GPG_SIG = CLI_OPT_FIRST_COMMAND,
    OPT_CHECKSUMS,
    OPT_CHECKSUMS_SIG,
    OPT_RSA_SIG,
    OPT_REQUIRE,
    OPT_MAX_AGE,
    OPT_NAME
};

static json_t *verdict_json(cli *c, const vs_verdict *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "package", json_string(v->package));
    json_object_set_new(o, "size", json_integer((json_int_t)v->size));
    json_object_set_new(o, "sha256", cli_json_str(v->sha256));
    json_object_set_new(o, "signatures", cli_sigs_json(c, v));
    json_object_set_new(o, "verdict", json_string(v->trusted ? "trusted" : "rejected"));
    return o;
}

static void print_human(cli *c, const vs_verdict *v)
{
    for (size_t i = 0; i < v->nsigs; i++) {
        const vs_sig_result *s = &v->sigs[i];
        char tbuf[32];
        const char *t = cli_time(tbuf, s->created);
        const char *fpr = s->fingerprint[0] ? s->fingerprint : "-";
        if (s->kind == VS_SIG_GPG)
            cli_info(c, "gpg  %-8s %s %s %s\n", s->valid ? "valid" : "INVALID", fpr,
                     *t ? t : "-", s->reason);
        else
            cli_info(c, "rsa  %-8s %s %s\n", s->valid ? "valid" : "INVALID", fpr, s->reason);
    }
}

/* The options and the PACKAGE: -1 when they are good, else the exit code. */
static int parse_args(cli *c, int argc, char **argv, vs_verify_opts *opts, const char **package)
{
    static const struct option longopts[] = {
        { "gpg-sig", required_argument, NULL, OPT_GPG_SIG },
        { "checksums", required_argument, NULL, OPT_CHECKSUMS },
        { "checksums-sig", required_argument, NULL, OPT_CHECKSUMS_SIG },
        { "rsa-sig", required_argument, NULL, OPT_RSA_SIG },
        { "require", required_argument, NULL, OPT_REQUIRE },
        { "max-sig-age", required_argument, NULL, OPT_MAX_AGE },
        { "name", required_argument, NULL, OPT_NAME },
        CLI_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    vs_error err = VS_ERROR_INIT;
    cli_getopt_reset();
    int opt;
    uint64_t d = 0;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (opt == OPT_GPG_SIG) {
            opts->gpg_sig = optarg;
        } else if (opt == OPT_CHECKSUMS) {
            opts->checksums = optarg;
        } else if (opt == OPT_CHECKSUMS_SIG) {
            opts->checksums_sig = optarg;
        } else if (opt == OPT_RSA_SIG) {
            opts->rsa_sig = optarg;
        } else if (opt == OPT_REQUIRE) {
            if (vs_verify_require_parse(&opts->require, optarg, &err) != VS_OK)
                return cli_usage_error(c, "%s", err.message);
        } else if (opt == OPT_MAX_AGE) {
            if (!vs_parse_u64(optarg, &d) || d == 0 || d > 365000)
                return cli_usage_error(c, "--max-sig-age: '%s' is not a number of days (1 or more)",
                                       optarg);
            opts->max_sig_age_days = (unsigned)d;
        } else if (opt == OPT_NAME) {
            opts->package_name = optarg;
        } else {
            int r = cli_opt_rest(c, opt, usage, (char *)NULL);
            if (r >= 0)
                return r;
        }
    }
    if (optind >= argc)
        return cli_usage_error(c, "no PACKAGE given (see vetstage verify --help)");
    if (argc - optind > 1)
        return cli_usage_error(c, "one PACKAGE at a time (got %d)", argc - optind);
    if (opts->checksums_sig && !opts->checksums)
        return cli_usage_error(c, "--checksums-sig needs --checksums");
    *package = argv[optind];
    return -1;
}

int cmd_verify(cli *c, int argc, char **argv)
{
    vs_verify_opts opts = VS_VERIFY_OPTS_INIT;
    const char *package = NULL;
    int rc = parse_args(c, argc, argv, &opts, &package);
    if (rc >= 0)
        return rc;
    rc = 0;
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    /* a policy the store cannot meet is refused before anything is hashed */
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_verify_policy_check(ctx, opts.require, NULL, 0, &err);
    if (st != VS_OK)
        return cli_fail_json(c, &err, NULL);
    vs_verdict *v = NULL;
    st = vs_verify_package(&v, ctx, package, &opts, &err);
    if (v && !c->json)
        print_human(c, v);
    if (st != VS_OK) {
        json_t *o = v ? verdict_json(c, v) : NULL;
        vs_verdict_free(v);
        return cli_fail_json(c, &err, o);
    }
    char who[1024];
    cli_signers_text(c, v, opts.checksums, who, sizeof who);
    cli_info(c, "trusted %s%s%s\n", package, who[0] ? ": " : "", who);
    json_t *o = verdict_json(c, v);
    json_object_set_new(o, "checksums", cli_json_str(opts.checksums));
    vs_verdict_free(v);
    return cli_json_ok(c, o);
}
