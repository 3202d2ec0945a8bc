/* tests/unit/fetch - URL names, mirror URLs, and real transfers against a
 * real nginx (started by serve.sh through tests/nginx.sh) over HTTP, HTTPS
 * with a test CA, and file://. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common_int.h"
#include "fetch/fetch_int.h"
#include "vetstage/fetch.h"

/* ---- names and mirror URLs (no server) ----------------------------------- */

static const struct {
    const char *url, *name, *version; /* name NULL: must be refused */
} name_cases[] = {
    { "https://h.example/rel/agent-1.2.3.tgz", "agent", "1.2.3" },
    { "https://h.example/rel/agent-1.2.3.tar.gz?sig=abc#frag", "agent", "1.2.3" },
    { "http://h/x/lacework-agent-6.2.0.117.tar.xz", "lacework-agent", "6.2.0.117" },
    { "file:///srv/pkg/my-tool-10.0-rc1.tar.zst", "my-tool", "10.0-rc1" },
    { "https://h/datacollector-6.2.0.117_x86-64.tgz", "datacollector", "6.2.0.117_x86-64" },
    { "https://h/pkg-1.2-3.tar.gz", "pkg", "1.2-3" },
    { "https://h/lacework_6.2.0.tgz", "lacework", "6.2.0" },
    { "https://h/releases/datacollector/6.2.0.tgz", "datacollector", "6.2.0" },
    { "file:///datacollector/6.2.0.tar.gz", "datacollector", "6.2.0" },
    { "https://h/6.2.0.tgz", NULL, NULL },             /* the host is not a name */
    { "https://h/rel/agent.tgz", NULL, NULL },         /* no version */
    { "https://h/rel/agent-1.2.3.zip", NULL, NULL },   /* not an archive we know */
    { "https://h/rel/agent-1.2.3.tgz/", NULL, NULL },  /* no file name */
    { "https://h", NULL, NULL },
    { "https://h/rel/-1.2.tgz", NULL, NULL },
    { "https://h/rel/.tgz", NULL, NULL },
    { "https://h/rel/agent-1.2%2F..tgz", NULL, NULL }, /* '%' is not a version char */
    { "https://h/rel/a..b/1.0.tgz", "a..b", "1.0" },
    { "https://h/rel/../1.0.tgz", NULL, NULL },        /* ".." is not a name */
    { "", NULL, NULL },
    /* a folder that looks like a version is a release tag, not a name */
    { "https://github.com/o/r/releases/download/v6.2.0/6.2.0.1234.tgz", NULL, NULL },
    { "https://h/agents/6.2.1.2000/6.2.1.2000.tar.gz", NULL, NULL },
    { "https://h/api/V2/1.0.tgz", NULL, NULL },
    { "https://h/2024/1.0.tgz", NULL, NULL },
    { "https://h/lacework/v6.2.0/agent-6.2.0.tgz", "agent", "6.2.0" }, /* N-V: folder unused */
    { "https://h/vendor/6.2.0.tgz", "vendor", "6.2.0" }, /* 'v' + letter: a name */
    /* every archive suffix stage reads */
    { "https://h/agent-1.0.tar.bz2", "agent", "1.0" },
    { "https://h/agent-1.0.tbz2", "agent", "1.0" },
    { "https://h/agent-1.0.txz", "agent", "1.0" },
    { "https://h/agent-1.0.tzst", "agent", "1.0" },
    { "https://h/agent_1.0.tar.xz", "agent", "1.0" },
    { "https://h/agent/1.0.tar.zst", "agent", "1.0" },
    { "https://h/agent-1.0.tar", NULL, NULL },
    { "https://h/agent-1.0.tar.bz2.asc", NULL, NULL },
};

START_TEST(name_version_table)
{
    for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
        char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1];
        vs_error e = VS_ERROR_INIT;
        vs_status st = vs_fetch_name_version(name, version, name_cases[i].url, &e);
        if (name_cases[i].name) {
            ck_assert_msg(st == VS_OK, "%s: %s", name_cases[i].url, e.message);
            ck_assert_str_eq(name, name_cases[i].name);
            ck_assert_str_eq(version, name_cases[i].version);
        } else {
            ck_assert_msg(st == VS_E_USAGE, "%s: accepted as %s %s", name_cases[i].url, name,
                          version);
            ck_assert_msg(strstr(e.message, "give --") != NULL, "%s", e.message);
            ck_assert_msg(e.subject[0] != '\0', "%s: no subject", name_cases[i].url);
            ck_assert_str_eq(name, "");
        }
    }
}
END_TEST

/* --name given: the version is what the file name adds to it */
static const struct {
    const char *url, *given, *version; /* version NULL: must be refused */
} given_cases[] = {
    { "https://github.com/o/r/releases/download/v6.2.0/6.2.0.1234.tgz", "lacework", "6.2.0.1234" },
    { "https://h/v6.2.0/v6.2.0.tar.gz", "lacework", "v6.2.0" },
    { "https://h/rel/agent-1.2.3.tgz", "agent", "1.2.3" },
    { "https://h/rel/lacework-agent-6.2.0.tgz", "lacework-agent", "6.2.0" },
    { "https://h/rel/agent_1.2.3.tar.xz", "agent", "1.2.3" },
    { "https://h/rel/agent-1.2.3.tgz", "renamed", "1.2.3" }, /* NAME-VERSION: name replaced */
    { "https://h/datacollector/6.2.0.tgz", "dc", "6.2.0" },
    { "https://h/rel/agent.tgz", "agent", NULL },           /* no version in it */
    { "https://h/rel/agent-.tgz", "agent", NULL },
    { "https://h/rel/6.2.0.zip", "agent", NULL },           /* not an archive */
    { "https://h/rel/6.2.0.tgz", "-bad", NULL },            /* not a valid name */
    { "https://h/rel/6.2.0.tgz", "", NULL },
};

START_TEST(name_given_table)
{
    for (size_t i = 0; i < sizeof given_cases / sizeof given_cases[0]; i++) {
        char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1];
        vs_error e = VS_ERROR_INIT;
        vs_status st =
            vs_fetch_name_version_for(name, version, given_cases[i].url, given_cases[i].given, &e);
        if (given_cases[i].version) {
            ck_assert_msg(st == VS_OK, "%s: %s", given_cases[i].url, e.message);
            ck_assert_str_eq(name, given_cases[i].given);
            ck_assert_str_eq(version, given_cases[i].version);
        } else {
            ck_assert_msg(st == VS_E_USAGE, "%s (%s): accepted as %s", given_cases[i].url,
                          given_cases[i].given, version);
            ck_assert_str_eq(name, "");
            ck_assert_str_eq(version, "");
        }
    }
    /* NULL given: the same as vs_fetch_name_version */
    char n1[VS_MAX_NAME + 1], v1[VS_MAX_VERSION + 1];
    ck_assert_int_eq(vs_fetch_name_version_for(n1, v1, "https://h/a-1.tgz", NULL, NULL), VS_OK);
    ck_assert_str_eq(n1, "a");
}
END_TEST

/* One rule for "the file name of a URL" (cache, mirror and names use it). */
START_TEST(file_name_table)
{
    static const struct {
        const char *url, *want; /* NULL: names no file */
    } c[] = {
        { "https://example.com", NULL },
        { "https://example.com/", NULL },
        { "https://example.com?x=1", NULL },
        { "https://h/dir/", NULL },
        { "https://h/dir/..", NULL },
        { "https://h/dir/.", NULL },
        { "https://h/dir/a.tgz?x=/y#z/w", "a.tgz" },
        { "https://u:p@h/a.tgz", "a.tgz" },
        { "file:///srv/x/6.2.0.tgz", "6.2.0.tgz" },
        { "https://h/a%20b.tgz", "a%20b.tgz" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char out[256];
        vs_error e = VS_ERROR_INIT;
        vs_status st = vs_fetch_file_name(out, sizeof out, c[i].url, &e);
        if (c[i].want) {
            ck_assert_msg(st == VS_OK, "%s: %s", c[i].url, e.message);
            ck_assert_str_eq(out, c[i].want);
        } else {
            ck_assert_msg(st == VS_E_USAGE, "%s: gave %s", c[i].url, out);
            ck_assert_msg(strstr(e.message, "names no file") != NULL, "%s", e.message);
        }
    }
    char small[4];
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_fetch_file_name(small, sizeof small, "https://h/abcd", &e), VS_E_USAGE);
}
END_TEST

START_TEST(name_version_limits)
{
    char url[600], name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1];
    vs_error e = VS_ERROR_INIT;
    char longname[VS_MAX_NAME + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    snprintf(url, sizeof url, "https://h/%s-1.0.tgz", longname);
    ck_assert_int_eq(vs_fetch_name_version(name, version, url, &e), VS_E_USAGE);
    longname[VS_MAX_NAME] = '\0'; /* exactly the maximum */
    snprintf(url, sizeof url, "https://h/%s-1.0.tgz", longname);
    ck_assert_int_eq(vs_fetch_name_version(name, version, url, &e), VS_OK);
    ck_assert_uint_eq(strlen(name), VS_MAX_NAME);
}
END_TEST

START_TEST(mirror_urls)
{
    static const struct {
        const char *base, *url, *want;
    } c[] = {
        { "https://m.example/mirror", "https://v.example/a/agent-1.0.tgz",
          "https://m.example/mirror/agent-1.0.tgz" },
        { "https://m.example/mirror/", "https://v.example/agent-1.0.tgz?x=1#y",
          "https://m.example/mirror/agent-1.0.tgz" },
        { "file:///srv/m//", "https://v/agent-1.0.tgz.asc", "file:///srv/m/agent-1.0.tgz.asc" },
        { "https://m", "https://v/dir/", NULL },
        { "https://m", "https://v", NULL },
        { "https://m", "https://v/..", NULL },
        { "", "https://v/a.tgz", NULL },
        { "///", "https://v/a.tgz", NULL },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *got = vs_fetch_mirror_url(c[i].base, c[i].url);
        if (c[i].want) {
            ck_assert_msg(got != NULL, "%s %s", c[i].base, c[i].url);
            ck_assert_str_eq(got, c[i].want);
        } else {
            ck_assert_msg(got == NULL, "%s %s gave %s", c[i].base, c[i].url, got);
        }
        free(got);
    }
}
END_TEST

static const struct {
    const char *url, *want;
} redact_cases[] = {
    { "https://user:secret@h.example:8443/a@b.tgz?x=@", "https://h.example:8443/a@b.tgz?x=@" },
    { "http://alice:S3cretPW@127.0.0.1:8080/p/agent-1.0.tgz", "http://127.0.0.1:8080/p/agent-1.0.tgz" },
    { "https://alice@h/a.tgz", "https://h/a.tgz" },
    { "https://a:p@ss@h/a.tgz", "https://h/a.tgz" },        /* the last '@' ends the userinfo */
    { "https://h.example/a@b.tgz", "https://h.example/a@b.tgz" },
    { "https://h/a.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2024&"
      "X-Amz-Date=20240101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&"
      "X-Amz-Security-Token=FQoG&X-Amz-Signature=abcdef",
      "https://h/a.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&"
      "X-Amz-Date=20240101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&"
      "X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED" },
    { "https://acct.blob.core.windows.net/c/a.tgz?sv=2022&se=2030&sp=r&sig=AbC%3D",
      "https://acct.blob.core.windows.net/c/a.tgz?sv=2022&se=2030&sp=r&sig=REDACTED" },
    { "https://h/a.tgz?token=t&access_token=u&api_key=v&key=w&Signature=x&version=1",
      "https://h/a.tgz?token=REDACTED&access_token=REDACTED&api_key=REDACTED&key=REDACTED&"
      "Signature=REDACTED&version=1" },
    { "https://h/a.tgz?X%2DAmz-Signature=s;private_token=t#access_token=f&b=2",
      "https://h/a.tgz?X%2DAmz-Signature=REDACTED;private_token=REDACTED#access_token=REDACTED&b=2" },
    { "https://h/a.tgz?token&sig=", "https://h/a.tgz?token&sig=REDACTED" },
    { "https://h/path/with?q", "https://h/path/with?q" },
    { "file:///srv/a.tgz", "file:///srv/a.tgz" },
    { "https://u:p@h", "https://h" },
    { "https://u:p@h?token=1", "https://h?token=REDACTED" },
    { "not a url ?password=x", "not a url ?password=REDACTED" },
    { "", "" },
};

START_TEST(url_redact_table)
{
    for (size_t i = 0; i < sizeof redact_cases / sizeof redact_cases[0]; i++) {
        char out[1024], again[1024];
        size_t n = vs_url_redact(out, sizeof out, redact_cases[i].url);
        ck_assert_msg(strcmp(out, redact_cases[i].want) == 0, "%s -> %s", redact_cases[i].url,
                      out);
        ck_assert_uint_eq(n, strlen(out));
        vs_url_redact(again, sizeof again, out); /* idempotent */
        ck_assert_str_eq(again, out);
    }
}
END_TEST

START_TEST(url_redact_bounds)
{
    char out[16];
    const char *u = "https://u:secretpassword@host.example/a.tgz";
    size_t n = vs_url_redact(out, 5, u);
    ck_assert_uint_eq(n, strlen("https://host.example/a.tgz"));
    ck_assert_str_eq(out, "http");
    n = vs_url_redact(out, sizeof out, u);
    ck_assert_str_eq(out, "https://host.ex"); /* truncated, never the password */
    ck_assert_uint_eq(vs_url_redact(NULL, 0, u), n);
    ck_assert_uint_eq(vs_url_redact(out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(url_check_bytes)
{
    static const struct {
        const char *url;
        vs_status want;
        const char *reason;
    } c[] = {
        { "https://h/a-1.0.tgz", VS_OK, NULL },
        { "https://h/\xc3\xa9t\xc3\xa9-1.0.tgz", VS_OK, NULL }, /* UTF-8: fine */
        { "https://h/a\xff-1.0.tgz", VS_E_USAGE, "not valid UTF-8" },
        { "https://h/a\xc3-1.0.tgz", VS_E_USAGE, "not valid UTF-8" },
        { "https://h/a\xc0\xaf-1.0.tgz", VS_E_USAGE, "not valid UTF-8" }, /* overlong */
        { "https://h/a\xed\xa0\x80.tgz", VS_E_USAGE, "not valid UTF-8" }, /* surrogate */
        { "https://h/a\xc2\x9b.tgz", VS_E_USAGE, "not valid UTF-8" },      /* C1 CSI */
        { "https://h/a\x1b[2J.tgz", VS_E_USAGE, "control character" },
        { "https://h/a b.tgz", VS_E_USAGE, "a space" },
        { "https://u:pw@h/a\x01.tgz", VS_E_USAGE, "control character" },
        { "/srv/a.tgz", VS_E_USAGE, "not a URL" },
        { "ftp://h/a.tgz", VS_E_USAGE, "scheme 'ftp'" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        vs_error e = VS_ERROR_INIT;
        ck_assert_msg(vs_fetch_url_check(c[i].url, &e) == c[i].want, "%s: %s", c[i].url,
                      e.message);
        if (c[i].reason) {
            ck_assert_msg(strstr(e.message, c[i].reason) != NULL, "%s", e.message);
            ck_assert_msg(strstr(e.message, "pw@") == NULL, "%s", e.message);
            for (const char *p = e.message; *p; p++)
                ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
                              "raw byte in: %s", e.message);
            ck_assert_msg(e.subject[0] != '\0', "no subject: %s", e.message);
        }
    }
}
END_TEST

/* ---- shared state for transfer tests ------------------------------------- */

static char tmpdir[256];
static char srv_http[256], srv_https[256], srv_ca[PATH_MAX], srv_log[PATH_MAX];
static char srv_pin[256], srv_other_pin[256];
static int server_up;

#define SMALL_SIZE (300u * 1024u)
#define BIG_SIZE (2u * 1024u * 1024u)

static void write_pattern(const char *path, size_t size, uint32_t seed)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint32_t x = seed;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        fputc((int)(x & 0xff), f);
    }
    ck_assert_int_eq(fclose(f), 0);
}

static void read_line(FILE *f, char *out, size_t cap)
{
    ck_assert_ptr_nonnull(fgets(out, (int)cap, f));
    out[strcspn(out, "\n")] = '\0';
}

static const char *serve_script(void)
{
    /* tests run from the top of the tree (tests/run.sh cd's there) */
    return "tests/unit/fetch/serve.sh";
}

static void server_start(void)
{
    char path[PATH_MAX + 64], cmd[1024];
    snprintf(tmpdir, sizeof tmpdir, "%s/vs-unit-fetch-XXXXXX", "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof path, "%s/www", tmpdir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/home", tmpdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/www/small.bin", tmpdir);
    write_pattern(path, SMALL_SIZE, 12345);
    snprintf(path, sizeof path, "%s/www/big.bin", tmpdir);
    write_pattern(path, BIG_SIZE, 777);
    snprintf(path, sizeof path, "%s/www/stall.bin", tmpdir);
    write_pattern(path, 1400, 4242); /* two ~700-byte responses */
    snprintf(path, sizeof path, "%s/www/target.bin", tmpdir); /* only redirects point here */
    write_pattern(path, 1000, 99);
    snprintf(cmd, sizeof cmd, "gzip -c -n %s/www/small.bin >%s/www/pkg.tgz", tmpdir, tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/www/sig.asc", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("-----BEGIN PGP SIGNATURE-----\nnot really\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "sh %s start %s %d >%s/serve.log 2>&1", serve_script(), tmpdir,
             (int)getpid(), tmpdir);
    if (access(serve_script(), R_OK) != 0 || system(cmd) != 0) {
        fprintf(stderr, "fetch suite: cannot start nginx (%s); see %s/serve.log\n", cmd, tmpdir);
        return; /* every transfer test then fails on server_up */
    }
    snprintf(path, sizeof path, "%s/server.txt", tmpdir);
    f = fopen(path, "r");
    if (!f)
        return;
    read_line(f, srv_http, sizeof srv_http);
    read_line(f, srv_https, sizeof srv_https);
    read_line(f, srv_ca, sizeof srv_ca);
    read_line(f, srv_log, sizeof srv_log);
    read_line(f, srv_pin, sizeof srv_pin);
    read_line(f, srv_other_pin, sizeof srv_other_pin);
    fclose(f);
    server_up = 1;
}

static void server_stop(void)
{
    char cmd[1024];
    if (!tmpdir[0])
        return;
    snprintf(cmd, sizeof cmd, "sh %s stop %s >/dev/null 2>&1; rm -rf %s", serve_script(),
             tmpdir, tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "fetch suite: cleanup of %s failed\n", tmpdir);
}

/* per test: a context, a fresh download directory */
static vs_ctx *ctx;
static int dfd = -1;
static char logbuf[8192];

static void on_log(vs_log_level lvl, const char *msg, void *payload)
{
    (void)lvl;
    (void)payload;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof logbuf - n, "%s\n", msg);
}

static void setup(void)
{
    ck_assert_msg(server_up, "nginx did not start (see /tmp/vs-unit-fetch-*/serve.log)");
    char path[PATH_MAX + 64];
    vs_error e = VS_ERROR_INIT;
    snprintf(path, sizeof path, "%s/home", tmpdir);
    ck_assert_int_eq(vs_ctx_open(&ctx, path, &e), VS_OK);
    vs_ctx_set_log(ctx, on_log, VS_LOG_DEBUG, NULL);
    logbuf[0] = '\0';
    static int serial; /* CK_FORK=no runs every test in one process */
    snprintf(path, sizeof path, "%s/dl-%d-%d", tmpdir, (int)getpid(), serial++);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    dfd = open(path, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(dfd, 0);
}

static void teardown(void)
{
    vs_ctx_free(ctx);
    ctx = NULL;
    if (dfd >= 0)
        close(dfd);
    dfd = -1;
}

static char *url_of(const char *base, const char *path)
{
    static char buf[2][1024];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s%s", base, path);
    return buf[which];
}

/* sha256sum's answer for a file under www/ */
static void sha256sum_of(const char *www_name, char hex[65])
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "sha256sum %s/www/%s", tmpdir, www_name);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(hex, 65, p));
    pclose(p);
    ck_assert_uint_eq(strlen(hex), 64);
}

static void assert_hash(const vs_fetch_result *r, const char *www_name)
{
    char want[65], got[65];
    sha256sum_of(www_name, want);
    vs_hex(got, r->sha256, 32);
    ck_assert_str_eq(got, want);
    /* and the bytes on disk hash the same */
    uint8_t d[32];
    uint64_t size;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_sha256_file(dfd, "out", d, &size, &e), VS_OK);
    vs_hex(got, d, 32);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(size, r->size);
}

static int exists(const char *name)
{
    struct stat sb;
    return fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* access-log lines containing every one of the given substrings (NULL-terminated) */
static int log_count(const char *a, const char *b)
{
    FILE *f = fopen(srv_log, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, a) && (!b || strstr(line, b)))
            n++;
    fclose(f);
    return n;
}

/* nginx writes a request's log line after the response went out: wait for
 * at least `want` matching lines (at most ~3 s), then return the count */
static int log_wait(const char *a, const char *b, int want)
{
    int n = log_count(a, b);
    for (int i = 0; i < 300 && n < want; i++) {
        usleep(10000);
        n = log_count(a, b);
    }
    return n;
}

/* first `n` bytes of www/NAME as the partial file "out" */
static void write_partial(const char *www_name, size_t n)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/www/%s", tmpdir, www_name);
    FILE *in = fopen(path, "rb");
    ck_assert_ptr_nonnull(in);
    uint8_t *buf = malloc(n ? n : 1);
    ck_assert_uint_eq(fread(buf, 1, n, in), n);
    fclose(in);
    int fd = openat(dfd, "out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(vs_write_all(fd, buf, n), 0);
    close(fd);
    free(buf);
}

static vs_fetch_opts quick_opts(void)
{
    vs_fetch_opts o = VS_FETCH_OPTS_INIT;
    o.retries = 0;
    o.retry_base_ms = 20;
    o.timeout_s = 20;
    return o;
}

/* ---- transfer tests ------------------------------------------------------ */

START_TEST(http_ok)
{
    vs_fetch_opts o = quick_opts();
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_fetch_to_file(&r, ctx, url_of(srv_http, "/small.bin"), dfd, "out", &o, &e),
                     VS_OK);
    ck_assert_uint_eq(r.size, SMALL_SIZE);
    ck_assert_int_eq(r.http_status, 200);
    ck_assert_uint_eq(r.resumed_from, 0);
    assert_hash(&r, "small.bin");
    struct stat sb;
    ck_assert_int_eq(fstatat(dfd, "out", &sb, 0), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
}
END_TEST

START_TEST(https_with_ca_ok)
{
    vs_fetch_opts o = quick_opts();
    o.cacert = srv_ca;
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_https, "/big.bin"), dfd, "out", &o, &e) ==
                      VS_OK,
                  "%s", e.message);
    ck_assert_uint_eq(r.size, BIG_SIZE);
    assert_hash(&r, "big.bin");
}
END_TEST

START_TEST(https_without_ca_refused)
{
    vs_fetch_opts o = quick_opts();
    o.retries = 2; /* verification errors are never retried */
    vs_error e = VS_ERROR_INIT;
    const char *u = url_of(srv_https, "/small.bin?noca");
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, u, dfd, "out", &o, &e), VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "certificate") != NULL, "%s", e.message);
    ck_assert_msg(strncmp(e.message, u, strlen(u)) == 0, "%s", e.message);
    ck_assert_str_eq(e.backend, "curl");
    ck_assert(!exists("out"));
    ck_assert(strstr(logbuf, "retry") == NULL);
}
END_TEST

START_TEST(pinned_pubkey)
{
    vs_fetch_opts o = quick_opts();
    vs_error e = VS_ERROR_INIT;
    o.cacert = srv_ca;
    o.pinned_pubkey = srv_other_pin;
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_https, "/small.bin"), dfd, "out", &o, &e),
        VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "pinned") != NULL, "%s", e.message);
    ck_assert(!exists("out"));
    o.pinned_pubkey = srv_pin;
    vs_fetch_result r;
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_https, "/small.bin"), dfd, "out", &o, &e) ==
                      VS_OK,
                  "%s", e.message);
    assert_hash(&r, "small.bin");
    o.pinned_pubkey = "md5//nope";
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, url_of(srv_https, "/small.bin"), dfd, "x", &o, &e),
                     VS_E_USAGE);
    ck_assert(!exists("x"));
}
END_TEST

START_TEST(bad_cacert_is_usage)
{
    vs_fetch_opts o = quick_opts();
    vs_error e = VS_ERROR_INIT;
    o.cacert = "/nonexistent/ca.pem";
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_https, "/small.bin"), dfd, "out", &o, &e),
        VS_E_USAGE);
    ck_assert_msg(strstr(e.message, "/nonexistent/ca.pem") != NULL, "%s", e.message);
    ck_assert(!exists("out"));
}
END_TEST

START_TEST(http_404)
{
    vs_fetch_opts o = quick_opts();
    o.retries = 2;
    vs_error e = VS_ERROR_INIT;
    const char *u = url_of(srv_http, "/missing-404.bin");
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, u, dfd, "out", &o, &e), VS_E_FETCH);
    char want[1200];
    snprintf(want, sizeof want, "%s: HTTP 404", u);
    ck_assert_str_eq(e.message, want);
    ck_assert(!exists("out"));
    ck_assert_int_eq(log_wait("/missing-404.bin", NULL, 1), 1); /* 4xx: never retried */
    /* a password in the URL never reaches a message */
    char cred[512];
    snprintf(cred, sizeof cred, "http://agent:s3cret@%s/missing-404.bin",
             srv_http + strlen("http://"));
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, cred, dfd, "out", &o, &e), VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "s3cret") == NULL && strcmp(e.message, want) == 0, "%s",
                  e.message); /* the userinfo is removed, not masked */
    ck_assert_str_eq(e.subject, u);
}
END_TEST

START_TEST(status500_retried)
{
    vs_fetch_opts o = quick_opts();
    o.retries = 2;
    vs_error e = VS_ERROR_INIT;
    char path[64];
    snprintf(path, sizeof path, "/status500/r-%d", (int)getpid());
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, url_of(srv_http, path), dfd, "out", &o, &e),
                     VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "HTTP 500") != NULL, "%s", e.message);
    ck_assert_int_eq(log_wait(path, " 500 ", 3), 3);
    ck_assert_msg(strstr(logbuf, "retry 1 of 2") && strstr(logbuf, "retry 2 of 2"), "%s", logbuf);
    ck_assert(!exists("out"));
}
END_TEST

START_TEST(status429_retried)
{
    vs_fetch_opts o = quick_opts();
    o.retries = 1;
    vs_error e = VS_ERROR_INIT;
    uint8_t *buf = (uint8_t *)"x";
    size_t len = 1;
    char path[64];
    snprintf(path, sizeof path, "/status429/m-%d", (int)getpid());
    ck_assert_int_eq(vs_fetch_to_memory(&buf, &len, ctx, url_of(srv_http, path), 0, &o, &e),
                     VS_E_FETCH);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(log_wait(path, " 429 ", 2), 2);
}
END_TEST

START_TEST(flaky_then_ok)
{
    /* /flaky/NAME answers 500 until www/flaky/NAME exists: a helper process
     * creates it once nginx has logged the first 500; the retry succeeds */
    char name[64], path[128], src[PATH_MAX + 64];
    snprintf(name, sizeof name, "f-%d.bin", (int)getpid());
    snprintf(path, sizeof path, "/flaky/%s", name);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        for (int i = 0; i < 1000 && log_count(path, " 500 ") < 1; i++)
            usleep(5000);
        snprintf(src, sizeof src, "%s/www/flaky", tmpdir);
        mkdir(src, 0755);
        snprintf(src, sizeof src, "%s/www/small.bin", tmpdir);
        char dst[PATH_MAX + 128];
        snprintf(dst, sizeof dst, "%s/www/flaky/%s", tmpdir, name);
        _exit(link(src, dst) == 0 ? 0 : 1);
    }
    vs_fetch_opts o = quick_opts();
    o.retries = 4;
    o.retry_base_ms = 200;
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    vs_status st = vs_fetch_to_file(&r, ctx, url_of(srv_http, path), dfd, "out", &o, &e);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(st == VS_OK, "%s", e.message);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    assert_hash(&r, "small.bin");
    ck_assert_uint_ge(r.attempts, 2);
    ck_assert_int_ge(log_wait(path, " 500 ", 1), 1);
    ck_assert_int_eq(log_wait(path, " 200 ", 1), 1);
    ck_assert_msg(strstr(logbuf, "HTTP 500; retry 1 of 4") != NULL, "%s", logbuf);
}
END_TEST

START_TEST(redirect_same_scheme_ok)
{
    vs_fetch_opts o = quick_opts();
    o.cacert = srv_ca;
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_https, "/redirect/small.bin"), dfd, "out",
                                   &o, &e) == VS_OK,
                  "%s", e.message);
    assert_hash(&r, "small.bin");
    ck_assert_str_eq(r.effective_url, url_of(srv_https, "/small.bin"));
}
END_TEST

START_TEST(redirect_to_file_refused)
{
    vs_fetch_opts o = quick_opts();
    o.retries = 2;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/redirect-file/x"), dfd, "out", &o, &e),
        VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "redirect to another scheme refused (to file:///etc/passwd)") !=
                      NULL,
                  "%s", e.message);
    ck_assert(!exists("out"));
    ck_assert(strstr(logbuf, "retry") == NULL);
}
END_TEST

START_TEST(redirect_scheme_change_refused)
{
    vs_fetch_opts o = quick_opts();
    o.cacert = srv_ca;
    vs_error e = VS_ERROR_INIT;
    /* http -> https */
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/redirect-https/target.bin"),
                                      dfd, "out", &o, &e),
                     VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "redirect to another scheme refused") != NULL, "%s",
                  e.message);
    ck_assert(!exists("out"));
    /* https -> http (a downgrade) */
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, url_of(srv_https, "/redirect-http/target.bin"),
                                      dfd, "out", &o, &e),
                     VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "redirect to another scheme refused") != NULL, "%s",
                  e.message);
    ck_assert(!exists("out"));
    /* neither redirect was followed */
    ck_assert_int_eq(log_wait("GET /redirect-https/target.bin 302", NULL, 1), 1);
    ck_assert_int_eq(log_wait("GET /redirect-http/target.bin 302", NULL, 1), 1);
    ck_assert_int_eq(log_count("GET /target.bin", NULL), 0);
}
END_TEST

START_TEST(redirect_loop_refused)
{
    vs_fetch_opts o = quick_opts();
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/redirect-loop/x"), dfd, "out", &o, &e),
        VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "redirects") != NULL, "%s", e.message);
    ck_assert(!exists("out"));
}
END_TEST

START_TEST(scheme_refused)
{
    vs_fetch_opts o = quick_opts();
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, "ftp://127.0.0.1/a.tgz", dfd, "out", &o, &e),
                     VS_E_USAGE);
    ck_assert_str_eq(e.message, "ftp://127.0.0.1/a.tgz: scheme 'ftp' is not allowed");
    ck_assert(!exists("out"));
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, "GOPHER://x/y", dfd, "out", &o, &e), VS_E_USAGE);
    ck_assert_str_eq(e.message, "GOPHER://x/y: scheme 'GOPHER' is not allowed");
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, "/etc/passwd", dfd, "out", &o, &e), VS_E_USAGE);
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, "http://h/a b", dfd, "out", &o, &e), VS_E_USAGE);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(vs_fetch_to_memory(&buf, &len, ctx, "scp://h/x", 10, &o, &e), VS_E_USAGE);
    ck_assert(!exists("out"));
    vs_url_scheme s;
    ck_assert_int_eq(vs_fetch_check_url("HTTPS://h/x", &s, &e), VS_OK);
    ck_assert_int_eq(s, VS_SCHEME_HTTPS);
    ck_assert_int_eq(vs_fetch_check_url("file:/etc/passwd", &s, &e), VS_E_USAGE);
}
END_TEST

START_TEST(max_size_exceeded)
{
    vs_fetch_opts o = quick_opts();
    o.max_size = SMALL_SIZE - 1;
    o.retries = 2;
    vs_error e = VS_ERROR_INIT;
    const char *u = url_of(srv_http, "/small.bin");
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, u, dfd, "out", &o, &e), VS_E_FETCH);
    char want[1200];
    snprintf(want, sizeof want, "%s: larger than --max-size %u bytes", u, SMALL_SIZE - 1);
    ck_assert_str_eq(e.message, want);
    ck_assert(!exists("out"));
    ck_assert(strstr(logbuf, "retry") == NULL);
    /* exactly the limit is fine */
    o.max_size = SMALL_SIZE;
    vs_fetch_result r;
    ck_assert_int_eq(vs_fetch_to_file(&r, ctx, u, dfd, "out", &o, &e), VS_OK);
    assert_hash(&r, "small.bin");
    /* a resumed part counts: a partial already at the limit cannot grow */
    o.max_size = SMALL_SIZE - 10;
    write_partial("small.bin", SMALL_SIZE / 2);
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, u, dfd, "out", &o, &e), VS_E_FETCH);
    ck_assert(!exists("out"));
}
END_TEST

START_TEST(max_size_streaming)
{
    /* no Content-Length: the limit is enforced on the bytes as they arrive */
    vs_fetch_opts o = quick_opts();
    o.max_size = SMALL_SIZE - 1;
    vs_error e = VS_ERROR_INIT;
    const char *u = url_of(srv_http, "/chunked/small.bin");
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, u, dfd, "out", &o, &e), VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "larger than --max-size") != NULL, "%s", e.message);
    ck_assert(!exists("out"));
    o.max_size = SMALL_SIZE;
    vs_fetch_result r;
    ck_assert_msg(vs_fetch_to_file(&r, ctx, u, dfd, "out", &o, &e) == VS_OK, "%s", e.message);
    assert_hash(&r, "small.bin");
    uint8_t *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(vs_fetch_to_memory(&buf, &len, ctx, u, 1000, &o, &e), VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "larger than the limit of 1000 bytes") != NULL, "%s",
                  e.message);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(vs_fetch_to_memory(&buf, &len, ctx, u, SMALL_SIZE, &o, &e), VS_OK);
    ck_assert_uint_eq(len, SMALL_SIZE);
    ck_assert_uint_eq(buf[len], 0);
    free(buf);
}
END_TEST

START_TEST(file_url)
{
    char u[512];
    vs_fetch_opts o = quick_opts();
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    snprintf(u, sizeof u, "file://%s/www/small.bin", tmpdir);
    write_partial("small.bin", 1000); /* file:// never resumes: copied whole */
    ck_assert_msg(vs_fetch_to_file(&r, ctx, u, dfd, "out", &o, &e) == VS_OK, "%s", e.message);
    ck_assert_uint_eq(r.resumed_from, 0);
    ck_assert_int_eq(r.http_status, 0);
    assert_hash(&r, "small.bin");
    o.max_size = 100;
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, u, dfd, "out", &o, &e), VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "larger than --max-size 100 bytes") != NULL, "%s", e.message);
    ck_assert(!exists("out"));
    snprintf(u, sizeof u, "file://%s/www/nope.bin", tmpdir);
    ck_assert_int_eq(vs_fetch_to_file(NULL, ctx, u, dfd, "out", &o, &e), VS_E_FETCH);
    ck_assert(!exists("out"));
}
END_TEST

START_TEST(slow_server_dropped)
{
    vs_fetch_opts o = quick_opts();
    o.low_speed_time_s = 1;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/slow/small.bin"), dfd, "out", &o, &e),
        VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "timed out") != NULL, "%s", e.message);
    ck_assert_str_eq(e.backend, "curl");
}
END_TEST

START_TEST(deadline)
{
    vs_fetch_opts o = quick_opts();
    o.timeout_s = 1;
    o.low_speed_time_s = 60;
    o.retries = 3; /* the deadline covers all attempts */
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/slow/small.bin"), dfd, "out", &o, &e),
        VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "timed out after 1 s") != NULL, "%s", e.message);
    ck_assert(strstr(logbuf, "retry") == NULL);
}
END_TEST

START_TEST(resume_206)
{
    vs_fetch_opts o = quick_opts();
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    write_partial("big.bin", BIG_SIZE / 2);
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_http, "/big.bin"), dfd, "out", &o, &e) ==
                      VS_OK,
                  "%s", e.message);
    ck_assert_int_eq(r.http_status, 206);
    ck_assert_uint_eq(r.resumed_from, BIG_SIZE / 2);
    ck_assert_uint_eq(r.size, BIG_SIZE);
    assert_hash(&r, "big.bin");
    char range[64];
    snprintf(range, sizeof range, " 206 %u range=bytes=%u-", BIG_SIZE / 2, BIG_SIZE / 2);
    ck_assert_int_ge(log_wait("GET /big.bin ", range, 1), 1);
}
END_TEST

START_TEST(resume_after_timeout)
{
    /* a throttled transfer hits the deadline: the partial stays, a second
     * run resumes it from where it stopped */
    vs_fetch_opts o = quick_opts();
    o.timeout_s = 1;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/throttled/big.bin"), dfd, "out", &o, &e),
        VS_E_FETCH);
    ck_assert(exists("out"));
    struct stat sb;
    ck_assert_int_eq(fstatat(dfd, "out", &sb, 0), 0);
    ck_assert_int_gt(sb.st_size, 0);
    ck_assert_int_lt(sb.st_size, BIG_SIZE);
    o.timeout_s = 20;
    vs_fetch_result r;
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_http, "/big.bin"), dfd, "out", &o, &e) ==
                      VS_OK,
                  "%s", e.message);
    ck_assert_uint_eq(r.resumed_from, (uint64_t)sb.st_size);
    ck_assert_int_eq(r.http_status, 206);
    assert_hash(&r, "big.bin");
}
END_TEST

START_TEST(resume_within_retries)
{
    /* the response stalls after a few KiB: the low-speed limit drops it
     * after about a second (low_speed_time_s 1) and the
     * retry asks for the rest with a Range request */
    vs_fetch_opts o = quick_opts();
    o.low_speed_time_s = 1;
    o.retries = 4;
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_http, "/stall/stall.bin"), dfd, "out", &o,
                                   &e) == VS_OK,
                  "%s", e.message);
    assert_hash(&r, "stall.bin");
    ck_assert_int_eq(r.http_status, 206);
    ck_assert_uint_gt(r.resumed_from, 0);
    ck_assert_uint_ge(r.attempts, 2);
    ck_assert_int_ge(log_wait("GET /stall/stall.bin 206", "range=bytes=", 1), 1);
    ck_assert_msg(strstr(logbuf, "timed out") && strstr(logbuf, "resuming after"), "%s", logbuf);
}
END_TEST

START_TEST(resume_ignored_range)
{
    vs_fetch_opts o = quick_opts();
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    write_partial("small.bin", 4096);
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_http, "/norange/small.bin"), dfd, "out", &o,
                                   &e) == VS_OK,
                  "%s", e.message);
    ck_assert_int_eq(r.http_status, 200);
    ck_assert_uint_eq(r.resumed_from, 0);
    assert_hash(&r, "small.bin");
    ck_assert_int_ge(log_wait("GET /norange/small.bin 200", "range=bytes=4096-", 1), 1);
    ck_assert_msg(strstr(logbuf, "ignored the Range") != NULL, "%s", logbuf);
}
END_TEST

START_TEST(resume_416_restarts)
{
    vs_fetch_opts o = quick_opts();
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    write_partial("small.bin", SMALL_SIZE); /* nothing left to ask for: 416 */
    ck_assert_msg(
        vs_fetch_to_file(&r, ctx, url_of(srv_http, "/small.bin?416"), dfd, "out", &o, &e) == VS_OK,
        "%s", e.message);
    ck_assert_uint_eq(r.resumed_from, 0);
    assert_hash(&r, "small.bin");
    ck_assert_int_ge(log_wait("GET /small.bin 416", NULL, 1), 1);
}
END_TEST

START_TEST(no_resume_overwrites)
{
    vs_fetch_opts o = quick_opts();
    o.resume = 0;
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    write_partial("big.bin", 5000); /* not a prefix of small.bin */
    ck_assert_int_eq(vs_fetch_to_file(&r, ctx, url_of(srv_http, "/small.bin"), dfd, "out", &o, &e),
                     VS_OK);
    ck_assert_uint_eq(r.resumed_from, 0);
    assert_hash(&r, "small.bin");
}
END_TEST

START_TEST(no_content_decoding)
{
    /* a .tgz served with "Content-Encoding: gzip" lands as the bytes served */
    vs_fetch_opts o = quick_opts();
    vs_fetch_result r;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(vs_fetch_to_file(&r, ctx, url_of(srv_http, "/encoded/pkg.tgz"), dfd, "out", &o,
                                   &e) == VS_OK,
                  "%s", e.message);
    assert_hash(&r, "pkg.tgz");
}
END_TEST

START_TEST(target_not_regular)
{
    vs_fetch_opts o = quick_opts();
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(mkfifoat(dfd, "out", 0600), 0);
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/small.bin"), dfd, "out", &o, &e),
        VS_E_INTERNAL);
    ck_assert_msg(strstr(e.message, "out: not a regular file") != NULL, "%s", e.message);
    struct stat sb;
    ck_assert_int_eq(fstatat(dfd, "out", &sb, 0), 0);
    ck_assert(S_ISFIFO(sb.st_mode)); /* left alone */
    ck_assert_int_eq(symlinkat("/etc/passwd", dfd, "link"), 0);
    ck_assert_int_eq(
        vs_fetch_to_file(NULL, ctx, url_of(srv_http, "/small.bin"), dfd, "link", &o, &e),
        VS_E_INTERNAL); /* never follows a symlink */
    ck_assert_int_eq(fstatat(dfd, "link", &sb, AT_SYMLINK_NOFOLLOW), 0);
    ck_assert(S_ISLNK(sb.st_mode));
}
END_TEST

START_TEST(memory_fetch)
{
    vs_fetch_opts o = quick_opts();
    o.cacert = srv_ca;
    vs_error e = VS_ERROR_INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    ck_assert_msg(vs_fetch_to_memory(&buf, &len, ctx, url_of(srv_https, "/sig.asc"),
                                     VS_MAX_SIG_FILE, &o, &e) == VS_OK,
                  "%s", e.message);
    ck_assert_uint_eq(len, strlen("-----BEGIN PGP SIGNATURE-----\nnot really\n"));
    ck_assert_str_eq((char *)buf, "-----BEGIN PGP SIGNATURE-----\nnot really\n");
    free(buf);
    ck_assert_int_eq(vs_fetch_to_memory(&buf, &len, ctx, url_of(srv_https, "/small.bin"),
                                        VS_MAX_SIG_FILE, &o, &e),
                     VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "larger than the limit of 16384 bytes") != NULL, "%s",
                  e.message);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(vs_fetch_to_memory(&buf, &len, ctx, url_of(srv_https, "/nope.asc"), 0, &o, &e),
                     VS_E_FETCH);
    ck_assert_msg(strstr(e.message, "HTTP 404") != NULL, "%s", e.message);
}
END_TEST

Suite *vs_suite_fetch(void)
{
    Suite *s = suite_create("fetch");
    TCase *names = tcase_create("names");
    tcase_add_test(names, name_version_table);
    tcase_add_test(names, name_version_limits);
    tcase_add_test(names, name_given_table);
    tcase_add_test(names, file_name_table);
    tcase_add_test(names, mirror_urls);
    tcase_add_test(names, url_redact_table);
    tcase_add_test(names, url_redact_bounds);
    tcase_add_test(names, url_check_bytes);
    suite_add_tcase(s, names);

    TCase *tc = tcase_create("transfer");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, http_ok);
    tcase_add_test(tc, https_with_ca_ok);
    tcase_add_test(tc, https_without_ca_refused);
    tcase_add_test(tc, pinned_pubkey);
    tcase_add_test(tc, bad_cacert_is_usage);
    tcase_add_test(tc, http_404);
    tcase_add_test(tc, status500_retried);
    tcase_add_test(tc, status429_retried);
    tcase_add_test(tc, flaky_then_ok);
    tcase_add_test(tc, redirect_same_scheme_ok);
    tcase_add_test(tc, redirect_to_file_refused);
    tcase_add_test(tc, redirect_scheme_change_refused);
    tcase_add_test(tc, redirect_loop_refused);
    tcase_add_test(tc, scheme_refused);
    tcase_add_test(tc, max_size_exceeded);
    tcase_add_test(tc, max_size_streaming);
    tcase_add_test(tc, file_url);
    tcase_add_test(tc, slow_server_dropped);
    tcase_add_test(tc, deadline);
    tcase_add_test(tc, resume_206);
    tcase_add_test(tc, resume_after_timeout);
    tcase_add_test(tc, resume_within_retries);
    tcase_add_test(tc, resume_ignored_range);
    tcase_add_test(tc, resume_416_restarts);
    tcase_add_test(tc, no_resume_overwrites);
    tcase_add_test(tc, no_content_decoding);
    tcase_add_test(tc, target_not_regular);
    tcase_add_test(tc, memory_fetch);
    suite_add_tcase(s, tc);
    return s;
}
