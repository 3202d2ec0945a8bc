/* cli/cmd_keys.c - `vetstage keys import|list|remove`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "usage: vetstage keys import FILE... [--expect-fingerprint FPR]... [--rsa-scheme S]\n"
    "       vetstage keys list [--json]\n"
    "       vetstage keys remove FPR\n"
    "\n"
    "The trust store under HOME/trust: OpenPGP keys in a private GnuPG home (never\n"
    "~/.gnupg, no keyserver) and RSA public keys, each bound to one scheme.\n"
    "  import  OpenPGP public keys (armored or binary) and revocation certificates\n"
    "          for keys already in the store; RSA public keys as PEM (BEGIN PUBLIC\n"
    "          KEY or BEGIN RSA PUBLIC KEY) or DER SubjectPublicKeyInfo. A file may\n"
    "          hold several keys. All or none: if one is refused, the store is\n"
    "          unchanged. Each key is reported imported, already present,\n"
    "          updated, revoked or skipped (with why); an expired or revoked key\n"
    "          is imported with a warning that it can verify nothing.\n"
    "          --expect-fingerprint FPR  (repeatable) import exactly these keys,\n"
    "                                    OpenPGP ones with their subkeys; every\n"
    "                                    other key in the files is skipped. FPR\n"
    "                                    as gpg --fingerprint prints it (spaces\n"
    "                                    and 0x allowed, either case). A name\n"
    "                                    found in no file: exit 3. Without it a\n"
    "                                    weak key in a file of several refuses\n"
    "                                    the import (exit 7).\n"
    "          --rsa-scheme S            scheme the RSA keys are bound to:\n"
    "                                    pkcs1-sha256 (default), pkcs1-sha384,\n"
    "                                    pkcs1-sha512, pss-sha256, pss-sha384,\n"
    "                                    pss-sha512\n"
    "  list    every key: type, fingerprint, algorithm and bits, user id, created,\n"
    "          expires, revoked/expired, RSA scheme\n"
    "  remove  the key with this fingerprint (case-insensitive)\n"
    "Fingerprints: OpenPGP, the 40-hex v4 fingerprint; RSA, sha256: + hex SHA-256 of\n"
    "the DER SubjectPublicKeyInfo (as openssl pkey -pubin -outform DER | sha256sum).\n"
    "Options: --json, -q, -v, --home DIR, --help.\n"
    "Exit codes: 0 ok, 1 internal, 2 usage (unreadable file, not a public key,\n"
    "secret key, revocation for an unknown key, unknown fingerprint), 3 verify\n"
    "(a key named by --expect-fingerprint is in no file), 6 integrity (damaged\n"
    "store file), 7 policy (a key being imported is RSA, or OpenPGP RSA/DSA,\n"
    "below 2048 bits, or has an even or small RSA exponent).\n";

enum { OPT_EXPECT = CLI_OPT_FIRST_COMMAND, OPT_SCHEME };
enum { MAX_EXPECT = 64 };

/* Options of a subcommand; positionals collected into pos (malloc'd). */
static int parse(cli *c, int argc, char **argv, bool import, const char **expect,
                 size_t *nexpect, const char **scheme, const char ***pos, int *npos)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "expect-fingerprint", required_argument, NULL, OPT_EXPECT },
        { "rsa-scheme", required_argument, NULL, OPT_SCHEME },
        { 0, 0, 0, 0 },
    };
    int opt;
    *npos = 0;
    *pos = NULL;
    cli_getopt_reset();
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        if ((opt == OPT_EXPECT || opt == OPT_SCHEME) && !import)
            return cli_usage_error(c, "--expect-fingerprint and --rsa-scheme are for keys import");
        if (opt == OPT_EXPECT) {
            if (*nexpect < MAX_EXPECT)
                expect[(*nexpect)++] = optarg;
            else
                return cli_usage_error(c, "more than %d --expect-fingerprint options", MAX_EXPECT);
            continue;
        }
        if (opt == OPT_SCHEME) {
            *scheme = optarg;
            continue;
        }
        int r = cli_opt_rest(c, opt, usage_text, (char *)NULL);
        if (r >= 0)
            return r;
    }
    *pos = calloc((size_t)(argc > 0 ? argc : 1), sizeof **pos);
    if (!*pos)
        return 1;
    for (int i = optind; i < argc; i++)
        (*pos)[(*npos)++] = argv[i];
    return -1;
}

static json_t *key_json(const vs_key_info *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(k->type == VS_KEY_RSA ? "rsa" : "openpgp"));
    json_object_set_new(o, "fingerprint", json_string(k->fingerprint));
    json_object_set_new(o, "algorithm", cli_json_str(k->algorithm));
    json_object_set_new(o, "bits", json_integer(k->bits));
    json_object_set_new(o, "uid", cli_json_str(k->uid));
    json_object_set_new(o, "created", cli_json_time(k->created));
    json_object_set_new(o, "expires", cli_json_time(k->expires));
    json_object_set_new(o, "revoked", json_boolean(k->revoked));
    json_object_set_new(o, "expired", json_boolean(k->expired));
    if (k->type == VS_KEY_RSA)
        json_object_set_new(o, "scheme", json_string(vs_rsa_scheme_name(k->scheme)));
    return o;
}

/* An import result: the key plus what happened to it and where it was. */
static json_t *import_json(const vs_key_info *k, char **files)
{
    json_t *o = key_json(k);
    json_object_set_new(o, "status", json_string(vs_key_status_name(k->status)));
    json_object_set_new(o, "file", json_string(files[k->file]));
    bool skipped = k->status == VS_KEY_SKIPPED;
    json_object_set_new(o, "reason", skipped ? cli_json_str(k->note) : json_null());
    json_object_set_new(o, "warning", skipped ? json_null() : cli_json_str(k->note));
    return o;
}

static json_t *keys_json(const vs_key_info *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, key_json(&v[i]));
    json_t *o = json_object();
    json_object_set_new(o, "keys", arr);
    return o;
}

/* "openpgp FPR rsa3072 "uid"" or "rsa sha256:... 3072 bits pkcs1-sha256" */
static void key_line(char *buf, size_t cap, const vs_key_info *k)
{
    if (k->type == VS_KEY_RSA) {
        snprintf(buf, cap, "rsa %s %u bits %s", k->fingerprint, k->bits,
                 vs_rsa_scheme_name(k->scheme));
        return;
    }
    char alg[48];
    if (!strcmp(k->algorithm, "rsa") || !strcmp(k->algorithm, "dsa") ||
        !strcmp(k->algorithm, "elg"))
        snprintf(alg, sizeof alg, "%s%u", k->algorithm, k->bits);
    else
        snprintf(alg, sizeof alg, "%s", k->algorithm[0] ? k->algorithm : "unknown");
    snprintf(buf, cap, "openpgp %s %s \"%s\"", k->fingerprint, alg, k->uid);
}

static void report_import(cli *c, const vs_key_info *v, size_t n, const char **files)
{
    for (size_t i = 0; i < n; i++) {
        char line[512];
        key_line(line, sizeof line, &v[i]);
        if (v[i].status == VS_KEY_SKIPPED) {
            cli_info(c, "skipped %s (%s; in %s)\n", line, v[i].note, files[v[i].file]);
            continue;
        }
        cli_info(c, "%s %s\n", vs_key_status_name(v[i].status), line);
        if (v[i].note[0])
            cli_info(c, "vetstage: warning: %s: %s\n", v[i].fingerprint, v[i].note);
    }
}

static int do_import(cli *c, int argc, char **argv)
{
    const char *expect[MAX_EXPECT], *scheme = NULL;
    size_t nexpect = 0;
    const char **pos;
    int npos, rc = parse(c, argc, argv, true, expect, &nexpect, &scheme, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos == 0) {
        free(pos);
        return cli_usage_error(c, "give at least one key FILE");
    }
    vs_error err = VS_ERROR_INIT;
    vs_keys_import_opts o = VS_KEYS_IMPORT_OPTS_INIT;
    o.expect = expect;
    o.nexpect = nexpect;
    if (scheme && vs_rsa_scheme_parse(&o.rsa_scheme, scheme, &err) != VS_OK) {
        free(pos);
        return cli_fail(c, &err);
    }
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx) {
        free(pos);
        return rc;
    }
    vs_key_info *v = NULL;
    size_t n = 0;
    if (vs_keys_import(&v, &n, ctx, pos, (size_t)npos, &o, &err) != VS_OK) {
        free(pos);
        return cli_fail(c, &err);
    }
    report_import(c, v, n, pos);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, import_json(&v[i], (char **)pos));
    json_t *o2 = json_object();
    json_object_set_new(o2, "keys", arr);
    vs_key_info_free(v);
    free(pos);
    return cli_json_ok(c, o2);
}

static int do_list(cli *c, int argc, char **argv)
{
    const char *expect[MAX_EXPECT], *scheme = NULL;
    size_t nexpect = 0;
    const char **pos;
    int npos, rc = parse(c, argc, argv, false, expect, &nexpect, &scheme, &pos, &npos);
    if (rc >= 0)
        return rc;
    free(pos);
    if (npos != 0)
        return cli_usage_error(c, "keys list takes no arguments");
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_error err = VS_ERROR_INIT;
    vs_key_info *v = NULL;
    size_t n = 0;
    if (vs_keys_list(&v, &n, ctx, &err) != VS_OK)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = keys_json(v, n);
        vs_key_info_free(v);
        return cli_json_ok(c, o);
    }
    for (size_t i = 0; i < n; i++) {
        char line[512], tc[32], te[32];
        key_line(line, sizeof line, &v[i]);
        cli_time(tc, v[i].created);
        cli_time(te, v[i].expires);
        cli_out(c, "%s%s%s%s%s%s%s\n", line, tc[0] ? " created " : "", tc,
                te[0] ? " expires " : "", te, v[i].revoked ? " [revoked]" : "",
                v[i].expired ? " [expired]" : "");
    }
    if (n == 0)
        cli_info(c, "the trust store is empty\n");
    vs_key_info_free(v);
    return 0;
}

static int do_remove(cli *c, int argc, char **argv)
{
    const char *expect[MAX_EXPECT], *scheme = NULL;
    size_t nexpect = 0;
    const char **pos;
    int npos, rc = parse(c, argc, argv, false, expect, &nexpect, &scheme, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos != 1) {
        free(pos);
        return cli_usage_error(c, "give exactly one fingerprint");
    }
    const char *fpr = pos[0];
    free(pos);
    vs_ctx *ctx = cli_ctx(c, &rc);
    if (!ctx)
        return rc;
    vs_error err = VS_ERROR_INIT;
    if (vs_keys_remove(ctx, fpr, &err) != VS_OK)
        return cli_fail(c, &err);
    cli_info(c, "removed %s\n", fpr);
    json_t *o = json_object();
    json_object_set_new(o, "removed", json_string(fpr));
    return cli_json_ok(c, o);
}

int cmd_keys(cli *c, int argc, char **argv)
{
    static const cli_sub subs[] = {
        { "import", do_import, "keys import" },
        { "list", do_list, "keys list" },
        { "remove", do_remove, "keys remove" },
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0],
                        "import, list or remove", usage_text);
}
