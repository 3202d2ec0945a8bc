/* tests/unit/source - the configuration parser (table of good and bad
 * files, each refusal naming FILE:LINE), template expansion, resolution of
 * NAME@VERSION into fetch options, command-line precedence, mirror bases
 * and loading from a real home (no symbolic links below it). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source_int.h"

#define FPR1 "360D55D76727556814078E25FF3E1D4DEE0CC692"
#define RSA1 "sha256:2c8b0000000000000000000000000000000000000000000000000000000000ff"

static const char lacework[] =
    "# the reference vendor\n"
    "[source lacework]\n"
    "url = https://github.com/lacework/lacework-agent-releases/releases/download/"
    "v{major}.{minor}.{patch}/{version}.tgz\n"
    "checksums-url = https://github.com/lacework/lacework-agent-releases/releases/download/"
    "v{major}.{minor}.{patch}/checksum_sha256.txt\n"
    "rsa-sig-url = https://approvals.example.com/lacework/{version}.tgz.sig\n"
    "require = gpg,rsa\n"
    "keys = 0x" FPR1 "   SHA256:2C8B0000000000000000000000000000000000000000000000000000000000FF\n"
    "strip-components = 1\n"
    "mirror = https://mirror.example.com/agents/\n"
    "mirror = https://mirror2.example.com/{name}\n"
    "cacert = /etc/ssl/certs/ca-certificates.crt\n"
    "\n"
    "\t[ source  other ]  \r\n"
    "  url=file:///srv/{name}-{version}.tar.gz  \r\n"
    "max-size = 1000\n"
    "retries = 0\n"
    "timeout = 30\n"
    "max-sig-age = 90\n"
    "start-script = bin/start.sh\n"
    "pinned-pubkey = sha256//AAAA\n"
    "gpg-sig-url = https://x.example/{name}/{version}.asc\n";

static vs_config *parse_ok(const char *text)
{
    vs_config *cfg = NULL;
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_config_parse(&cfg, (const uint8_t *)text, strlen(text), "t.conf", &err);
    ck_assert_msg(st == VS_OK, "parse: %s", err.message);
    return cfg;
}

/* max-size and timeout take the command line's suffixes (one parser) */
START_TEST(parse_suffixes)
{
    vs_config *cfg = parse_ok("[source a]\nurl = https://x/a.tgz\nmax-size = 1G\ntimeout = 2m\n"
                              "[source b]\nurl = https://x/b.tgz\nmax-size = 512MiB\n"
                              "timeout = 7d\n");
    ck_assert_uint_eq(cfg->src[0].max_size, 1ull << 30);
    ck_assert_uint_eq(cfg->src[0].timeout, 120);
    ck_assert_uint_eq(cfg->src[1].max_size, 512ull << 20);
    ck_assert_uint_eq(cfg->src[1].timeout, 7 * 86400);
    vs_config_free(cfg);
    static const char *const bad[] = {
        "[source a]\nurl = https://x/a.tgz\nmax-size = 1X\n",
        "[source a]\nurl = https://x/a.tgz\nmax-size = 1 G\n",
        "[source a]\nurl = https://x/a.tgz\ntimeout = 8d\n",
        "[source a]\nurl = https://x/a.tgz\ntimeout = 2M\n",
        "[source a]\nurl = https://x/a.tgz\ntimeout = 0s\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vs_error err = VS_ERROR_INIT;
        cfg = NULL;
        ck_assert_int_eq(vs_config_parse(&cfg, (const uint8_t *)bad[i], strlen(bad[i]), "t.conf",
                                         &err),
                         VS_E_USAGE);
        ck_assert_str_eq(err.subject, "t.conf:3");
        vs_config_free(cfg);
    }
}
END_TEST

START_TEST(parse_good)
{
    vs_config *cfg = parse_ok(lacework);
    ck_assert_uint_eq(vs_config_count(cfg), 2);
    ck_assert_str_eq(vs_config_source_name(cfg, 0), "lacework");
    ck_assert_str_eq(vs_config_source_name(cfg, 1), "other");
    ck_assert_ptr_null(vs_config_source_name(cfg, 2));
    ck_assert_str_eq(vs_config_file(cfg), "t.conf");
    const vs_src *s = &cfg->src[0];
    ck_assert_uint_eq(s->nkeys, 2);
    ck_assert_str_eq(s->keys[0], FPR1);
    ck_assert_str_eq(s->keys[1], RSA1);
    ck_assert_uint_eq(s->nmirrors, 2);
    ck_assert(s->has_strip && s->strip == 1);
    ck_assert_uint_eq(s->require, 3);
    ck_assert_int_eq(s->retries, -1);
    const vs_src *o = &cfg->src[1];
    ck_assert_str_eq(o->val[VS_K_URL], "file:///srv/{name}-{version}.tar.gz");
    ck_assert_uint_eq(o->max_size, 1000);
    ck_assert_int_eq(o->retries, 0);
    ck_assert_uint_eq(o->timeout, 30);
    ck_assert_uint_eq(o->max_sig_age, 90);
    ck_assert(!o->has_strip);
    vs_config_free(cfg);
    /* empty text and comments only: no sources */
    cfg = parse_ok("");
    ck_assert_uint_eq(vs_config_count(cfg), 0);
    vs_config_free(cfg);
    cfg = parse_ok("\xef\xbb\xbf# only a comment\n\n   # indented\n");
    ck_assert_uint_eq(vs_config_count(cfg), 0);
    vs_config_free(cfg);
}
END_TEST

/* Long URLs fit (inih's default would cut them at 200 bytes). */
START_TEST(parse_long_line)
{
    size_t n = 3000;
    char *text = malloc(n + 200);
    ck_assert_ptr_nonnull(text);
    int k = snprintf(text, 200, "[source long]\nurl = https://example.com/");
    memset(text + k, 'a', n);
    snprintf(text + k + n, 100, "/{version}.tgz\n");
    vs_config *cfg = parse_ok(text);
    ck_assert_uint_eq(strlen(cfg->src[0].val[VS_K_URL]), strlen("https://example.com/") + n +
                                                             strlen("/{version}.tgz"));
    vs_config_free(cfg);
    free(text);
}
END_TEST

static const struct {
    const char *text;
    const char *subject; /* "t.conf:LINE" */
    const char *reason;  /* a part of the reason */
} bad[] = {
    { "[source a]\nurll = https://x/{version}.tgz\n", "t.conf:2", "unknown key 'urll'" },
    { "[source a]\nurl https://x/a.tgz\n", "t.conf:2", "malformed line" },
    { "[source a]\nurl = https://x/{vers}.tgz\n", "t.conf:2", "unknown placeholder {vers}" },
    { "[source a]\nurl = https://x/{version.tgz\n", "t.conf:2", "'{' without '}'" },
    { "[source a]\nurl = https://x/version}.tgz\n", "t.conf:2", "'}' without '{'" },
    { "[source a]\nurl = https://x/a.tgz\n[source a]\nurl = https://y/a.tgz\n", "t.conf:3",
      "given twice (first at line 1)" },
    { "[source a]\nurl = https://x/a.tgz\nurl = https://y/a.tgz\n", "t.conf:3",
      "'url' given twice" },
    { "url = https://x/a.tgz\n", "t.conf:1", "outside a [source NAME] section" },
    { "[source a]\n", "t.conf:1", "has no url" },
    { "[source a]\nrequire = gpg\n[source b]\nurl = https://x/a.tgz\n", "t.conf:1",
      "[source a] has no url" },
    { "[remote a]\nurl = https://x/a.tgz\n", "t.conf:1", "unknown section" },
    { "[source a\nurl = https://x/a.tgz\n", "t.conf:1", "malformed section header" },
    { "[source]\n", "t.conf:1", "unknown section" },
    { "[source ../a]\nurl = https://x/a.tgz\n", "t.conf:1", "not a valid source name" },
    { "[source a]\nurl = ftp://x/a.tgz\n", "t.conf:2", "not an https://" },
    { "[source a]\nurl = https://x/a b.tgz\n", "t.conf:2", "blank or control" },
    { "[source a]\nurl =\n", "t.conf:2", "has no value" },
    { "[source a]\n= x\n", "t.conf:2", "no key" },
    { "[source a]\nurl = https://x/a.tgz\nrequire = both\n", "t.conf:3", "require" },
    { "[source a]\nurl = https://x/a.tgz\nkeys = ABCD\n", "t.conf:3", "not a fingerprint" },
    { "[source a]\nurl = https://x/a.tgz\nkeys = sha256:12\n", "t.conf:3", "not a fingerprint" },
    { "[source a]\nurl = https://x/a.tgz\ncacert = certs/ca.pem\n", "t.conf:3", "absolute" },
    { "[source a]\nurl = https://x/a.tgz\npinned-pubkey = AAAA\n", "t.conf:3", "sha256//" },
    { "[source a]\nurl = https://x/a.tgz\nmax-size = 0\n", "t.conf:3", "max-size" },
    { "[source a]\nurl = https://x/a.tgz\nmax-size = -1\n", "t.conf:3", "max-size" },
    { "[source a]\nurl = https://x/a.tgz\nretries = 101\n", "t.conf:3", "retries" },
    { "[source a]\nurl = https://x/a.tgz\ntimeout = 1x\n", "t.conf:3", "timeout" },
    { "[source a]\nurl = https://x/a.tgz\nstrip-components = 99999999999999999999\n", "t.conf:3",
      "strip-components" },
    { "[source a]\nurl = https://x/a.tgz\nmax-sig-age = 0\n", "t.conf:3", "max-sig-age" },
    { "[source a]\nurl = https://x/a.tgz\nstart-script = ../x.sh\n", "t.conf:3", "start-script" },
    { "[source a]\nurl = https://x/a.tgz\nstart-script = /x.sh\n", "t.conf:3", "start-script" },
    { "[source a]\nurl = https://x/a.tgz\ngpg-sig-url = https://x/a.asc\n"
      "checksums-url = https://x/c.txt\n", "t.conf:4", "both gpg-sig-url and checksums-url" },
    { "[source a]\nurl = https://x/a.tgz\x01\n", "t.conf:2", "control character" },
    { "[source a]\nurl = https://x/a.tgz\n"
      "mirror = https://m/1\nmirror = https://m/2\nmirror = https://m/3\nmirror = https://m/4\n"
      "mirror = https://m/5\nmirror = https://m/6\nmirror = https://m/7\nmirror = https://m/8\n"
      "mirror = https://m/9\n", "t.conf:11", "more than 8 mirror" },
};

START_TEST(parse_bad)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vs_config *cfg = (vs_config *)1;
        vs_error err = VS_ERROR_INIT;
        vs_status st = vs_config_parse(&cfg, (const uint8_t *)bad[i].text, strlen(bad[i].text),
                                       "t.conf", &err);
        ck_assert_msg(st == VS_E_USAGE, "case %zu: status %d", i, st);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(!strcmp(err.subject, bad[i].subject), "case %zu: subject '%s'", i,
                      err.subject);
        ck_assert_msg(strstr(err.reason, bad[i].reason) != NULL, "case %zu: reason '%s'", i,
                      err.reason);
        ck_assert_msg(strncmp(err.message, bad[i].subject, strlen(bad[i].subject)) == 0,
                      "case %zu: message '%s'", i, err.message);
    }
    /* an unknown key's hint lists the keys */
    vs_config *cfg = NULL;
    vs_error err = VS_ERROR_INIT;
    const char *t = "[source a]\nbogus = 1\n";
    ck_assert_int_eq(vs_config_parse(&cfg, (const uint8_t *)t, strlen(t), "t.conf", &err),
                     VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.hint, "strip-components"));
    /* a line over the limit */
    size_t n = VS_MAX_CONFIG_LINE + 10;
    char *big = malloc(n + 32);
    ck_assert_ptr_nonnull(big);
    int k = snprintf(big, 32, "[source a]\nurl = https://x/");
    memset(big + k, 'a', n);
    big[k + n] = '\0';
    vs_error_clear(&err);
    ck_assert_int_eq(vs_config_parse(&cfg, (const uint8_t *)big, strlen(big), "t.conf", &err),
                     VS_E_USAGE);
    ck_assert_str_eq(err.subject, "t.conf:2");
    free(big);
    /* a NUL byte inside a line */
    static const char nul[] = "[source a]\nurl = https://x/a\0b.tgz\n";
    vs_error_clear(&err);
    ck_assert_int_eq(vs_config_parse(&cfg, (const uint8_t *)nul, sizeof nul - 1, "t.conf", &err),
                     VS_E_USAGE);
}
END_TEST

START_TEST(expand)
{
    static const struct {
        const char *tmpl, *name, *version, *want;
    } c[] = {
        { "https://x/v{major}.{minor}.{patch}/{version}.tgz", "lacework", "6.2.0.1234",
          "https://x/v6.2.0/6.2.0.1234.tgz" },
        { "https://x/{name}/{name}-{version}.tar.gz", "agent", "1.2.3",
          "https://x/agent/agent-1.2.3.tar.gz" },
        { "https://x/{major}/a", "a", "10-rc1", "https://x/10-rc1/a" },
        { "https://x/plain", "a", "1", "https://x/plain" },
        { "https://x/{minor}", "a", "1.2", "https://x/2" },
        { "https://x/{patch}", "a", "1.2", NULL },
        { "https://x/{minor}", "a", "1..3", NULL },
        { "https://x/{minor}", "a", "1", NULL },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *out = NULL;
        vs_error err = VS_ERROR_INIT;
        vs_status st = vs_src_expand(c[i].tmpl, c[i].name, c[i].version, "t.conf:9", &out, &err);
        if (c[i].want) {
            ck_assert_msg(st == VS_OK, "case %zu: %s", i, err.message);
            ck_assert_str_eq(out, c[i].want);
        } else {
            ck_assert_int_eq(st, VS_E_USAGE);
            ck_assert_str_eq(err.subject, "t.conf:9");
            ck_assert_ptr_null(out);
        }
        free(out);
    }
    /* an expansion past VS_MAX_URL */
    size_t n = VS_MAX_URL;
    char *v = malloc(n + 1);
    ck_assert_ptr_nonnull(v);
    memset(v, 'a', n);
    v[n] = '\0';
    char tmpl[64];
    snprintf(tmpl, sizeof tmpl, "https://x/{name}");
    char *out = NULL;
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_src_expand(tmpl, v, "1", "w", &out, &err), VS_E_USAGE);
    free(v);
}
END_TEST

START_TEST(fingerprints)
{
    char out[VS_FPR_MAX];
    ck_assert(vs_src_fingerprint("0X" FPR1, strlen(FPR1) + 2, out));
    ck_assert_str_eq(out, FPR1);
    ck_assert(vs_src_fingerprint("360d55d76727556814078e25ff3e1d4dee0cc692", 40, out));
    ck_assert_str_eq(out, FPR1);
    ck_assert(!vs_src_fingerprint("360d55d7672755681407", 20, out));
    ck_assert(!vs_src_fingerprint("g60d55d76727556814078e25ff3e1d4dee0cc692", 40, out));
    ck_assert(!vs_src_fingerprint("sha256:zz", 9, out));
}
END_TEST

START_TEST(resolve)
{
    vs_config *cfg = parse_ok(lacework);
    vs_source_release *r = NULL;
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_source_resolve(&r, cfg, "lacework@6.2.0.1234", &err), VS_OK);
    const vs_cache_fetch_opts *fo = &r->fetch;
    ck_assert_str_eq(fo->url, "https://github.com/lacework/lacework-agent-releases/releases/"
                              "download/v6.2.0/6.2.0.1234.tgz");
    ck_assert_str_eq(fo->checksums_url, "https://github.com/lacework/lacework-agent-releases/"
                                        "releases/download/v6.2.0/checksum_sha256.txt");
    ck_assert_ptr_null(fo->gpg_sig_url);
    ck_assert_str_eq(fo->rsa_sig_url, "https://approvals.example.com/lacework/6.2.0.1234.tgz.sig");
    ck_assert_str_eq(fo->name, "lacework");
    ck_assert_str_eq(fo->version, "6.2.0.1234");
    ck_assert_uint_eq(fo->require, VS_REQUIRE_BOTH);
    ck_assert_uint_eq(fo->nkeys, 2);
    ck_assert_str_eq(fo->keys[0], FPR1);
    ck_assert_str_eq(fo->keys[1], RSA1);
    ck_assert_uint_eq(fo->nmirrors, 4);
    ck_assert_str_eq(fo->mirrors[0], "https://mirror.example.com/agents/lacework/6.2.0.1234");
    ck_assert_str_eq(fo->mirrors[1], "https://mirror.example.com/agents");
    ck_assert_str_eq(fo->mirrors[2], "https://mirror2.example.com/lacework/lacework/6.2.0.1234");
    ck_assert_str_eq(fo->mirrors[3], "https://mirror2.example.com/lacework");
    ck_assert_str_eq(fo->fetch.cacert, "/etc/ssl/certs/ca-certificates.crt");
    ck_assert_int_eq(fo->fetch.retries, -1);
    ck_assert(r->has_strip_components && r->strip_components == 1);
    ck_assert_ptr_null(r->start_script);
    ck_assert_str_eq(r->source, "lacework");
    ck_assert_str_eq(r->where, "t.conf:2");

    /* command-line options win; the rest comes from the source */
    vs_cache_fetch_opts cl = VS_CACHE_FETCH_OPTS_INIT;
    const char *m[] = { "https://cli.example/m" };
    cl.gpg_sig_url = "https://cli.example/x.asc";
    cl.fetch.retries = 0;
    cl.require = VS_REQUIRE_GPG;
    cl.mirrors = m;
    cl.nmirrors = 1;
    vs_source_apply(&cl, r);
    ck_assert_str_eq(cl.url, fo->url);
    ck_assert_str_eq(cl.gpg_sig_url, "https://cli.example/x.asc");
    ck_assert_ptr_null(cl.checksums_url); /* the pair is one choice */
    ck_assert_str_eq(cl.rsa_sig_url, fo->rsa_sig_url);
    ck_assert_int_eq(cl.fetch.retries, 0);
    ck_assert_uint_eq(cl.require, VS_REQUIRE_GPG);
    ck_assert_uint_eq(cl.nmirrors, 1);
    ck_assert_str_eq(cl.mirrors[0], "https://cli.example/m");
    ck_assert_uint_eq(cl.nkeys, 2);
    ck_assert_str_eq(cl.fetch.cacert, "/etc/ssl/certs/ca-certificates.crt");
    vs_source_release_free(r);

    r = NULL;
    ck_assert_int_eq(vs_source_resolve(&r, cfg, "other@2.0", &err), VS_OK);
    ck_assert_str_eq(r->fetch.url, "file:///srv/other-2.0.tar.gz");
    ck_assert_str_eq(r->fetch.gpg_sig_url, "https://x.example/other/2.0.asc");
    ck_assert_ptr_null(r->fetch.rsa_sig_url);
    ck_assert_ptr_null(r->fetch.keys);
    ck_assert_uint_eq(r->fetch.fetch.max_size, 1000);
    ck_assert_int_eq(r->fetch.fetch.retries, 0);
    ck_assert_uint_eq(r->fetch.fetch.timeout_s, 30);
    ck_assert_uint_eq(r->fetch.max_sig_age_days, 90);
    ck_assert_str_eq(r->fetch.fetch.pinned_pubkey, "sha256//AAAA");
    ck_assert_str_eq(r->start_script, "bin/start.sh");
    ck_assert(!r->has_strip_components);
    vs_source_release_free(r);

    /* the trust settings alone, for a package from a bundle */
    unsigned req = 9, age = 9;
    const char *keys[VS_MAX_SOURCE_KEYS];
    size_t nk = 9;
    ck_assert(vs_source_policy(&req, &age, keys, &nk, cfg, "lacework"));
    ck_assert_uint_eq(req, VS_REQUIRE_BOTH);
    ck_assert_uint_eq(age, 0);
    ck_assert_uint_eq(nk, 2);
    ck_assert_str_eq(keys[0], FPR1);
    ck_assert(vs_source_policy(&req, &age, keys, &nk, cfg, "other"));
    ck_assert_uint_eq(req, 0);
    ck_assert_uint_eq(age, 90);
    ck_assert_uint_eq(nk, 0);
    ck_assert(!vs_source_policy(&req, &age, keys, &nk, cfg, "nosuch"));
    ck_assert(!vs_source_policy(&req, &age, keys, &nk, NULL, "lacework"));
    ck_assert_uint_eq(nk, 0);

    /* unknown source, malformed ref, a version without the parts used */
    r = NULL;
    vs_error_clear(&err);
    ck_assert_int_eq(vs_source_resolve(&r, cfg, "nosuch@1.0", &err), VS_E_USAGE);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.subject, "nosuch@1.0");
    ck_assert_int_eq(err.detail, VS_DETAIL_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.hint, "[source nosuch]"));
    vs_error_clear(&err);
    ck_assert_int_eq(vs_source_resolve(&r, cfg, "lacework", &err), VS_E_USAGE);
    vs_error_clear(&err);
    ck_assert_int_eq(vs_source_resolve(&r, cfg, "lacework@6.2", &err), VS_E_USAGE);
    ck_assert_str_eq(err.subject, "t.conf:3");
    ck_assert_ptr_nonnull(strstr(err.reason, "no patch part"));
    vs_config_free(cfg);
}
END_TEST

START_TEST(refs_and_bases)
{
    ck_assert(vs_source_is_ref("lacework@6.2.0.1234"));
    ck_assert(!vs_source_is_ref("https://u@x/a.tgz"));
    ck_assert(!vs_source_is_ref("lacework"));
    ck_assert(!vs_source_is_ref("@1"));
    ck_assert(!vs_source_is_ref("a@"));
    ck_assert(!vs_source_is_ref("a/b@1"));
    ck_assert(!vs_source_is_ref("a@1/2"));
    ck_assert(!vs_source_is_ref(NULL));
    const char *b[] = { "https://m/x//", "file:///srv/m" };
    char **out = NULL;
    size_t n = 0;
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_source_mirror_bases(&out, &n, b, 2, "agent", "1.0", &err), VS_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(out[0], "https://m/x/agent/1.0");
    ck_assert_str_eq(out[1], "https://m/x");
    ck_assert_str_eq(out[2], "file:///srv/m/agent/1.0");
    ck_assert_str_eq(out[3], "file:///srv/m");
    vs_source_mirror_bases_free(out, n);
    const char *e[] = { "///" };
    ck_assert_int_eq(vs_source_mirror_bases(&out, &n, e, 1, "agent", "1.0", &err), VS_E_USAGE);
    ck_assert_int_eq(vs_source_mirror_bases(&out, &n, b, 2, "../x", "1.0", &err), VS_E_USAGE);
    ck_assert_int_eq(vs_source_mirror_bases(&out, &n, b, 0, "a", "1", &err), VS_OK);
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* ---- loading from a home ------------------------------------------------- */

static char home[256];

static void mkhome(void)
{
    snprintf(home, sizeof home, "%s/vs-source-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(home));
}

static void rmhome(void)
{
    vs_remove_tree(AT_FDCWD, home, NULL);
}

static void put(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", home, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(load_home)
{
    mkhome();
    vs_ctx *ctx = NULL;
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_ctx_open(&ctx, home, &err), VS_OK);
    vs_config *cfg = NULL;
    /* absent: no sources */
    ck_assert_int_eq(vs_config_load(&cfg, ctx, NULL, &err), VS_OK);
    ck_assert_uint_eq(vs_config_count(cfg), 0);
    vs_config_free(cfg);
    put("vetstage.conf", lacework);
    ck_assert_int_eq(vs_config_load(&cfg, ctx, NULL, &err), VS_OK);
    ck_assert_uint_eq(vs_config_count(cfg), 2);
    vs_config_free(cfg);
    /* a named file wins */
    put("other.conf", "[source x]\nurl = https://x/{version}.tgz\n");
    char p[512];
    snprintf(p, sizeof p, "%s/other.conf", home);
    ck_assert_int_eq(vs_config_load(&cfg, ctx, p, &err), VS_OK);
    ck_assert_str_eq(vs_config_source_name(cfg, 0), "x");
    ck_assert_str_eq(vs_config_file(cfg), p);
    vs_config_free(cfg);
    /* errors name the file and the line */
    put("bad.conf", "[source x]\n\nfoo = 1\n");
    snprintf(p, sizeof p, "%s/bad.conf", home);
    ck_assert_int_eq(vs_config_load(&cfg, ctx, p, &err), VS_E_USAGE);
    char want[600];
    snprintf(want, sizeof want, "%s:3", p);
    ck_assert_str_eq(err.subject, want);
    /* a named file that is absent */
    snprintf(p, sizeof p, "%s/absent.conf", home);
    vs_error_clear(&err);
    ck_assert_int_eq(vs_config_load(&cfg, ctx, p, &err), VS_E_USAGE);
    ck_assert_str_eq(err.subject, p);
    /* a symbolic link below the home is not followed */
    snprintf(p, sizeof p, "%s/vetstage.conf", home);
    unlink(p);
    ck_assert_int_eq(symlink("other.conf", p), 0);
    vs_error_clear(&err);
    ck_assert_int_eq(vs_config_load(&cfg, ctx, NULL, &err), VS_E_USAGE);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err.subject, p);
    /* a directory is not a configuration */
    unlink(p);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    vs_error_clear(&err);
    ck_assert_int_eq(vs_config_load(&cfg, ctx, NULL, &err), VS_E_USAGE);
    vs_ctx_free(ctx);
    rmhome();
}
END_TEST

Suite *vs_suite_source(void)
{
    Suite *s = suite_create("source");
    TCase *t = tcase_create("parser");
    tcase_add_test(t, parse_good);
    tcase_add_test(t, parse_suffixes);
    tcase_add_test(t, parse_long_line);
    tcase_add_test(t, parse_bad);
    tcase_add_test(t, expand);
    tcase_add_test(t, fingerprints);
    tcase_add_test(t, resolve);
    tcase_add_test(t, refs_and_bases);
    suite_add_tcase(s, t);
    TCase *h = tcase_create("home");
    tcase_add_test(h, load_home);
    suite_add_tcase(s, h);
    return s;
}
