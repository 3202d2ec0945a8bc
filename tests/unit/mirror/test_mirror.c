/* tests/unit/mirror - bundle entry names, the index and URL list parsers,
 * status order, and refusals of import/export/sync on a real temporary home. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache_int.h" /* builds entries field by field */
#include "mirror/mirror_int.h"

static const struct {
    const char *path;
    bool ok;
    vs_bundle_kind kind;
    uint64_t limit;
} names[] = {
    { "index.json", true, VS_BUNDLE_INDEX, VS_MAX_REF_FILE },
    { "agent@1.2.3/agent-1.2.3.tgz", true, VS_BUNDLE_FILE, VS_DEFAULT_MAX_DOWNLOAD },
    { "agent@1.2.3/agent-1.2.3.tgz.asc", true, VS_BUNDLE_FILE, VS_MAX_SIG_FILE },
    { "agent@1.2.3/agent-1.2.3.tgz.sig", true, VS_BUNDLE_FILE, VS_MAX_SIG_FILE },
    { "agent@6.2.0.117_x86-64/checksum_sha256.txt", true, VS_BUNDLE_FILE, VS_DEFAULT_MAX_DOWNLOAD },
    { "/etc/passwd", false, 0, 0 },
    { "/index.json", false, 0, 0 },
    { "./index.json", false, 0, 0 },
    { "index.json/", false, 0, 0 },
    { "agent@1.2.3/../x", false, 0, 0 },
    { "agent@1.2.3/..", false, 0, 0 },
    { "agent@1.2.3/.", false, 0, 0 },
    { "agent@1.2.3/.hidden", false, 0, 0 },
    { "agent@1.2.3/", false, 0, 0 },
    { "agent@1.2.3", false, 0, 0 },
    { "agent@1.2.3/a/b", false, 0, 0 },
    { "agent/x", false, 0, 0 },
    { "@1.2.3/x", false, 0, 0 },
    { "agent@/x", false, 0, 0 },
    { ".agent@1/x", false, 0, 0 },
    { "-agent@1/x", false, 0, 0 },
    { "agent@1.2.3/x y", false, 0, 0 },
    { "agent@1.2.3/x?y", false, 0, 0 },
    { "agent@1.2.3/x\ny", false, 0, 0 },
    { "agent@1.2.3/x%2fy", false, 0, 0 },
    { "ag ent@1/x", false, 0, 0 },
    { "", false, 0, 0 },
    { "../agent@1/x", false, 0, 0 },
};

START_TEST(entry_names)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        vs_bundle_kind k = 99;
        char n[VS_MAX_NAME + 1], v[VS_MAX_VERSION + 1], f[256];
        uint64_t lim = 0;
        bool ok = vs_mirror_entry_name(names[i].path, &k, n, v, f, &lim);
        ck_assert_msg(ok == names[i].ok, "%s: got %d", names[i].path, ok);
        if (ok) {
            ck_assert_int_eq(k, names[i].kind);
            ck_assert_msg(lim == names[i].limit, "%s: limit", names[i].path);
        }
    }
    vs_bundle_kind k;
    char n[VS_MAX_NAME + 1], v[VS_MAX_VERSION + 1], f[256];
    uint64_t lim;
    ck_assert(vs_mirror_entry_name("tool@2.0.0+b1/tool.tgz", &k, n, v, f, &lim));
    ck_assert_str_eq(n, "tool");
    ck_assert_str_eq(v, "2.0.0+b1");
    ck_assert_str_eq(f, "tool.tgz");
    /* over-long parts */
    char big[600];
    memset(big, 'a', sizeof big);
    memcpy(big + 200, "@1/x", 5);
    ck_assert(!vs_mirror_entry_name(big, &k, n, v, f, &lim));
    ck_assert(!vs_mirror_entry_name(NULL, &k, n, v, f, &lim));
}
END_TEST

START_TEST(status_order)
{
    ck_assert_int_eq(vs_mirror_worse(VS_OK, VS_E_FETCH), VS_E_FETCH);
    ck_assert_int_eq(vs_mirror_worse(VS_E_FETCH, VS_E_VERIFY), VS_E_VERIFY);
    ck_assert_int_eq(vs_mirror_worse(VS_E_VERIFY, VS_E_FETCH), VS_E_VERIFY);
    ck_assert_int_eq(vs_mirror_worse(VS_E_USAGE, VS_E_POLICY), VS_E_POLICY);
    ck_assert_int_eq(vs_mirror_worse(VS_E_VERIFY, VS_E_INTERNAL), VS_E_INTERNAL);
    ck_assert_int_eq(vs_mirror_worse(VS_E_FETCH, VS_OK), VS_E_FETCH);
}
END_TEST

static vs_status list(const char *text, size_t *n, char ***urls)
{
    vs_error err = VS_ERROR_INIT;
    return vs_mirror_list_parse((const uint8_t *)text, strlen(text), "LIST", urls, n, &err);
}

START_TEST(url_list)
{
    char **u;
    size_t n;
    ck_assert_int_eq(list("# c\n\n  https://a/x-1.tgz  \r\n\thttp://b/y-2.tgz\n#x\n", &n, &u), VS_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(u[0], "https://a/x-1.tgz");
    ck_assert_str_eq(u[1], "http://b/y-2.tgz");
    vs_mirror_urls_free(u, n);
    ck_assert_int_eq(list("https://a/x-1.tgz", &n, &u), VS_OK); /* no final newline */
    ck_assert_uint_eq(n, 1);
    vs_mirror_urls_free(u, n);
    ck_assert_int_eq(list("", &n, &u), VS_E_USAGE);
    ck_assert_int_eq(list("# only\n\n", &n, &u), VS_E_USAGE);
    ck_assert_int_eq(list("http://a/b c.tgz\n", &n, &u), VS_E_USAGE);
    ck_assert_int_eq(list("http://a/\x01.tgz\n", &n, &u), VS_E_USAGE);
    ck_assert_ptr_null(u);
    char *longline = malloc(VS_MAX_URL + 600);
    memset(longline, 'a', VS_MAX_URL + 599);
    longline[VS_MAX_URL + 599] = '\0';
    ck_assert_int_eq(list(longline, &n, &u), VS_E_USAGE);
    free(longline);
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_mirror_list_parse((const uint8_t *)"x", VS_MAX_MIRROR_LIST + 1, "L", &u,
                                          &n, &err),
                     VS_E_USAGE);
    ck_assert(strstr(err.message, "larger than") != NULL);
}
END_TEST

#define HEXA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static vs_status index_of(const char *json, vs_mirror_pkg **p, size_t *n)
{
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_mirror_index_parse((const uint8_t *)json, strlen(json), "index", p, n, &err);
    if (st)
        ck_assert_msg(strncmp(err.message, "index: ", 7) == 0, "%s", err.message);
    return st;
}

#define PK(extra) "{\"format\":\"vetstage-mirror/1\",\"packages\":[" extra "]}"

START_TEST(index_parse)
{
    vs_mirror_pkg *p;
    size_t n;
    ck_assert_int_eq(index_of(PK(""), &p, &n), VS_OK);
    ck_assert_uint_eq(n, 0);
    free(p);
    ck_assert_int_eq(index_of(PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"a-1.tgz\",\"files\":["
                                 "{\"kind\":\"gpg-sig\",\"file\":\"a-1.tgz.asc\"},"
                                 "{\"kind\":\"rsa-sig\",\"file\":\"a-1.tgz.sig\"}]}"),
                              &p, &n),
                     VS_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(p[0].gpg_sig, "a-1.tgz.asc");
    ck_assert_str_eq(p[0].rsa_sig, "a-1.tgz.sig");
    ck_assert_str_eq(p[0].checksums, "");
    free(p);
    static const char *const bad[] = {
        "", "[]", "{}", "{\"format\":\"x\",\"packages\":[]}",
        "{\"format\":\"vetstage-mirror/1\",\"packages\":{}}",
        PK("1"),
        PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"../x\",\"files\":[]}"),
        PK("{\"name\":\"a/b\",\"version\":\"1\",\"file\":\"x\",\"files\":[]}"),
        PK("{\"name\":\"a\",\"version\":\"..\",\"file\":\"x\",\"files\":[]}"),
        PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"x\"}"),
        PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"x\",\"files\":[{\"kind\":\"evil\",\"file\":\"y\"}]}"),
        PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"x\",\"files\":[{\"kind\":\"rsa-sig\",\"file\":\"/y\"}]}"),
        PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"x\",\"files\":[{\"kind\":\"rsa-sig\",\"file\":\"x\"}]}"),
        PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"x\",\"files\":[{\"kind\":\"rsa-sig\",\"file\":\"y\"},"
           "{\"kind\":\"rsa-sig\",\"file\":\"z\"}]}"),
        PK("{\"name\":\"a\",\"version\":\"1\",\"file\":\"x\",\"files\":[]},"
           "{\"name\":\"a\",\"version\":\"1\",\"file\":\"y\",\"files\":[]}"),
        "{\"format\":\"vetstage-mirror/1\",\"format\":\"vetstage-mirror/1\",\"packages\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = (vs_mirror_pkg *)1;
        ck_assert_msg(index_of(bad[i], &p, &n) == VS_E_UNSAFE, "accepted: %s", bad[i]);
        ck_assert_ptr_null(p);
    }
}
END_TEST

START_TEST(index_round_trip)
{
    vs_cache_entry e[2];
    memset(e, 0, sizeof e);
    for (int i = 0; i < 2; i++) {
        snprintf(e[i].name, sizeof e[i].name, "%s", i ? "tool" : "agent");
        snprintf(e[i].version, sizeof e[i].version, "1.%d", i);
        snprintf(e[i].filename, sizeof e[i].filename, "%s-1.%d.tgz", i ? "tool" : "agent", i);
        snprintf(e[i].sha256, sizeof e[i].sha256, "%s", HEXA);
        snprintf(e[i].signers[0], VS_FPR_MAX, "0D1B9041F843EA1FB21C8D0F2100452D421AE9E5");
        e[i].nsigners = 1;
        e[i].nsigs = 2;
        snprintf(e[i].sigs[0].kind, sizeof e[i].sigs[0].kind, "%s", i ? "checksums" : "gpg-sig");
        snprintf(e[i].sigs[0].filename, sizeof e[i].sigs[0].filename, "%s", i ? "checksum_sha256.txt" : "agent-1.0.tgz.asc");
        snprintf(e[i].sigs[1].kind, sizeof e[i].sigs[1].kind, "%s", i ? "checksums-sig" : "rsa-sig");
        snprintf(e[i].sigs[1].filename, sizeof e[i].sigs[1].filename, "%s",
                 i ? "checksum_sha256.txt.asc" : "agent-1.0.tgz.sig");
    }
    char *text = NULL;
    size_t len = 0;
    vs_error err = VS_ERROR_INIT;
    const vs_cache_entry *ep[2] = {&e[0], &e[1]};
    ck_assert_int_eq(vs_mirror_index_format(&text, &len, ep, 2, &err), VS_OK);
    vs_mirror_pkg *p;
    size_t n;
    ck_assert_int_eq(vs_mirror_index_parse((uint8_t *)text, len, "i", &p, &n, &err), VS_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(p[0].file, "agent-1.0.tgz");
    ck_assert_str_eq(p[0].gpg_sig, "agent-1.0.tgz.asc");
    ck_assert_str_eq(p[1].checksums, "checksum_sha256.txt");
    ck_assert_str_eq(p[1].checksums_sig, "checksum_sha256.txt.asc");
    ck_assert(strstr(text, "0D1B9041F843EA1FB21C8D0F2100452D421AE9E5") != NULL);
    free(p);
    free(text);
}
END_TEST

/* ---- on a real home ----------------------------------------------------- */

static char home[256];
static vs_ctx *ctx;

static void home_up(void)
{
    snprintf(home, sizeof home, "%s/vs-unit-mirror-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(home));
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_ctx_open(&ctx, home, &err), VS_OK);
}

static void home_down(void)
{
    vs_ctx_free(ctx);
    ctx = NULL;
    vs_error err = VS_ERROR_INIT;
    vs_remove_tree(AT_FDCWD, home, &err);
}

static void put(const char *name, const void *p, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", home, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, len, f), len);
    fclose(f);
}

START_TEST(import_refusals)
{
    char path[512];
    vs_error err = VS_ERROR_INIT;
    size_t ok = 9, failed = 9;
    snprintf(path, sizeof path, "%s/none.tgz", home);
    ck_assert_int_eq(vs_mirror_import(&ok, &failed, ctx, path, NULL, &err), VS_E_USAGE);
    ck_assert_uint_eq(ok + failed, 0);
    put("garbage.tgz", "this is not a tar archive at all, not even close........", 56);
    snprintf(path, sizeof path, "%s/garbage.tgz", home);
    /* not an archive at all: a usage error (an unreadable input), naming it */
    ck_assert_int_eq(vs_mirror_import(NULL, NULL, ctx, path, NULL, &err), VS_E_USAGE);
    ck_assert_str_eq(err.subject, path);
    put("empty.tgz", "", 0);
    snprintf(path, sizeof path, "%s/empty.tgz", home);
    vs_status est = vs_mirror_import(NULL, NULL, ctx, path, NULL, &err);
    ck_assert_msg(est == VS_E_USAGE || est == VS_E_UNSAFE, "empty bundle: %d", est);
    ck_assert_str_eq(err.subject, path);
    /* no temporary folder left: HOME/tmp removed when empty */
    struct stat sb;
    snprintf(path, sizeof path, "%s/tmp", home);
    ck_assert_int_ne(stat(path, &sb), 0);
    /* a folder is not a bundle */
    ck_assert_int_eq(vs_mirror_import(NULL, NULL, ctx, home, NULL, &err), VS_E_USAGE);
}
END_TEST

START_TEST(export_refusals)
{
    char out[512];
    snprintf(out, sizeof out, "%s/b.tgz", home);
    const char *refs[] = { "agent@1.2.3" };
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_mirror_export(ctx, refs, 1, out, &err), VS_E_USAGE);
    ck_assert(strstr(err.message, "agent@1.2.3") != NULL);
    ck_assert_int_eq(access(out, F_OK), -1);
    const char *badref[] = { "../x@1" };
    ck_assert_int_eq(vs_mirror_export(ctx, badref, 1, out, &err), VS_E_USAGE);
    ck_assert_int_eq(vs_mirror_export(ctx, refs, 0, out, &err), VS_E_USAGE);
    ck_assert_int_eq(vs_mirror_export(ctx, refs, 1, "", &err), VS_E_USAGE);
}
END_TEST

START_TEST(sync_refusals)
{
    vs_mirror_sync_opts so = VS_MIRROR_SYNC_OPTS_INIT;
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_mirror_sync(NULL, NULL, ctx, &so, &err), VS_E_USAGE);
    char list[512], dest[512];
    snprintf(list, sizeof list, "%s/list", home);
    snprintf(dest, sizeof dest, "%s/m", home);
    put("list", "# nothing\n", 10);
    so.list = list;
    so.dest = dest;
    ck_assert_int_eq(vs_mirror_sync(NULL, NULL, ctx, &so, &err), VS_E_USAGE);
    ck_assert(strstr(err.message, "no URLs") != NULL);
    put("list", "file:///nonexistent/x-1.tgz\n", 28);
    so.jobs = VS_MIRROR_MAX_JOBS + 1;
    ck_assert_int_eq(vs_mirror_sync(NULL, NULL, ctx, &so, &err), VS_E_USAGE);
    so.jobs = 2;
    so.fetch.name = "x";
    ck_assert_int_eq(vs_mirror_sync(NULL, NULL, ctx, &so, &err), VS_E_USAGE);
    so.fetch.name = NULL;
    size_t ok = 9, failed = 9;
    /* this home's store holds no key: each fetch is refused by the policy
     * pre-check before the network (exit 3, contract: verify), not by the
     * missing file */
    ck_assert_int_eq(vs_mirror_sync(&ok, &failed, ctx, &so, &err), VS_E_VERIFY);
    ck_assert_uint_eq(ok, 0);
    ck_assert_uint_eq(failed, 1);
    char idx[600];
    snprintf(idx, sizeof idx, "%s/index.json", dest);
    ck_assert_int_eq(access(idx, F_OK), 0); /* an empty index: the tree is valid */
}
END_TEST

Suite *vs_suite_mirror(void)
{
    Suite *s = suite_create("mirror");
    TCase *t = tcase_create("parsers");
    tcase_add_test(t, entry_names);
    tcase_add_test(t, status_order);
    tcase_add_test(t, url_list);
    tcase_add_test(t, index_parse);
    tcase_add_test(t, index_round_trip);
    suite_add_tcase(s, t);
    TCase *h = tcase_create("home");
    tcase_add_checked_fixture(h, home_up, home_down);
    tcase_set_timeout(h, 60);
    tcase_add_test(h, import_refusals);
    tcase_add_test(h, export_refusals);
    tcase_add_test(h, sync_refusals);
    suite_add_tcase(s, h);
    return s;
}
