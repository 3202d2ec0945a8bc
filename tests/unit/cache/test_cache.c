/* tests/unit/cache - version order, ref JSON (round trip and refusals),
 * object store dedupe, lookup/list/fsck/gc on a real temporary home. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache_int.h"
#include "vetstage/vetstage.h"
#include "unit.h"

/* ---- version order ------------------------------------------------------- */

static const struct {
    const char *a, *b;
    int want; /* sign */
} vcases[] = {
    { "1.0", "1.0", 0 },
    { "1.0", "1.1", -1 },
    { "1.10", "1.9", 1 },
    { "1.0~rc1", "1.0", -1 },
    { "1.0~rc1", "1.0~rc2", -1 },
    { "1.0~~", "1.0~", -1 },
    { "1.0", "1.0a", -1 },
    { "1.0a", "1.0.1", -1 },
    { "1.0", "1.0.0", -1 },
    { "6.2.0.117", "6.2.0.99", 1 },
    { "007", "7", 0 },
    { "1.2.3", "1.2.3_x86-64", -1 },
    { "2", "10", -1 },
    { "99999999999999999999999", "100000000000000000000000", -1 },
    { "1.0+b1", "1.0", 1 },
    { "a", "b", -1 },
    { "1.0-2", "1.0-10", -1 },
    { "", "0", 0 },
    { "1", "", 1 },
};

START_TEST(version_order)
{
    for (size_t i = 0; i < sizeof vcases / sizeof vcases[0]; i++) {
        int r = vs_version_cmp(vcases[i].a, vcases[i].b);
        int sign = r < 0 ? -1 : r > 0;
        ck_assert_msg(sign == vcases[i].want, "%s vs %s: got %d want %d", vcases[i].a,
                      vcases[i].b, sign, vcases[i].want);
        int back = vs_version_cmp(vcases[i].b, vcases[i].a);
        ck_assert_msg((back < 0 ? -1 : back > 0) == -vcases[i].want, "antisymmetry %s %s",
                      vcases[i].a, vcases[i].b);
    }
    ck_assert_int_lt(vs_version_cmp(NULL, "1"), 0);
}
END_TEST

/* ---- refs ----------------------------------------------------------------- */

#define HEXA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEXB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* e: zeroed or filled before (its heap fields are released). */
static void sample(vs_cache_entry *e)
{
    vs_cache_entry_clear(e);
    strcpy(e->name, "agent");
    strcpy(e->version, "1.2.3");
    strcpy(e->filename, "agent-1.2.3.tgz");
    strcpy(e->sha256, HEXA);
    e->size = 12345;
    e->url = strdup("https://example.test/agent-1.2.3.tgz");
    e->nsigs = 2;
    strcpy(e->sigs[0].kind, "gpg-sig");
    strcpy(e->sigs[0].filename, "agent-1.2.3.tgz.asc");
    strcpy(e->sigs[0].sha256, HEXB);
    e->sigs[0].url = strdup("https://example.test/agent-1.2.3.tgz.asc");
    strcpy(e->sigs[1].kind, "rsa-sig");
    strcpy(e->sigs[1].filename, "agent-1.2.3.tgz.sig");
    strcpy(e->sigs[1].sha256, HEXA);
    e->nsigners = 2;
    strcpy(e->signers[0], "0123456789ABCDEF0123456789ABCDEF01234567");
    strcpy(e->signers[1], "sha256:" HEXA);
    e->require = VS_REQUIRE_BOTH;
    e->verified = 1767225600; /* 2026-01-01T00:00:00Z */
    strcpy(e->tool, "vetstage 0.1.0");
}

/* Two entries hold the same: the same fields through the public accessors
 * and the same JSON form. */
static void assert_same_entry(const vs_cache_entry *a, const vs_cache_entry *b)
{
    ck_assert_str_eq(vs_cache_entry_name(a), vs_cache_entry_name(b));
    ck_assert_str_eq(vs_cache_entry_version(a), vs_cache_entry_version(b));
    ck_assert_str_eq(vs_cache_entry_file(a), vs_cache_entry_file(b));
    ck_assert_str_eq(vs_cache_entry_sha256(a), vs_cache_entry_sha256(b));
    ck_assert_uint_eq(vs_cache_entry_size(a), vs_cache_entry_size(b));
    ck_assert_str_eq(vs_cache_entry_url(a), vs_cache_entry_url(b));
    ck_assert_uint_eq(vs_cache_entry_require(a), vs_cache_entry_require(b));
    ck_assert_int_eq(vs_cache_entry_verified(a), vs_cache_entry_verified(b));
    ck_assert_int_eq(vs_cache_entry_signed_at(a), vs_cache_entry_signed_at(b));
    ck_assert_str_eq(vs_cache_entry_tool(a), vs_cache_entry_tool(b));
    ck_assert_uint_eq(vs_cache_entry_nsigs(a), vs_cache_entry_nsigs(b));
    for (size_t i = 0; i < vs_cache_entry_nsigs(a); i++) {
        ck_assert_str_eq(vs_cache_entry_sig_kind(a, i), vs_cache_entry_sig_kind(b, i));
        ck_assert_str_eq(vs_cache_entry_sig_file(a, i), vs_cache_entry_sig_file(b, i));
        ck_assert_str_eq(vs_cache_entry_sig_sha256(a, i), vs_cache_entry_sig_sha256(b, i));
        ck_assert_str_eq(vs_cache_entry_sig_url(a, i), vs_cache_entry_sig_url(b, i));
    }
    ck_assert_uint_eq(vs_cache_entry_nsigners(a), vs_cache_entry_nsigners(b));
    for (size_t i = 0; i < vs_cache_entry_nsigners(a); i++)
        ck_assert_str_eq(vs_cache_entry_signer(a, i), vs_cache_entry_signer(b, i));
    ck_assert_uint_eq(vs_cache_entry_nkeys(a), vs_cache_entry_nkeys(b));
    for (size_t i = 0; i < vs_cache_entry_nkeys(a); i++)
        ck_assert_str_eq(vs_cache_entry_key(a, i), vs_cache_entry_key(b, i));
    char *ja = vs_cache_entry_json(a), *jb = vs_cache_entry_json(b);
    ck_assert_ptr_nonnull(ja);
    ck_assert_ptr_nonnull(jb);
    ck_assert_str_eq(ja, jb);
    free(ja);
    free(jb);
}

START_TEST(ref_round_trip)
{
    vs_error err = VS_ERROR_INIT;
    vs_cache_entry e = {0}, back = {0};
    sample(&e);
    char *json;
    size_t len;
    ck_assert_int_eq(vs_cache_ref_format(&e, &json, &len, &err), VS_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"verified\": \"2026-01-01T00:00:00Z\""));
    ck_assert_int_eq(vs_cache_ref_parse((const uint8_t *)json, len, "t", &back, &err), VS_OK);
    assert_same_entry(&e, &back);
    ck_assert_str_eq(vs_cache_entry_sig_url(&back, 1), ""); /* imported from disk */
    ck_assert_ptr_null(vs_cache_entry_sig_url(&back, 2));
    ck_assert_ptr_null(vs_cache_entry_signer(&back, 2));
    free(json);
    vs_cache_entry_clear(&back);

    /* an entry that cannot be read back is never written */
    strcpy(e.name, "../evil");
    ck_assert_int_eq(vs_cache_ref_format(&e, &json, &len, &err), VS_E_INTERNAL);
    ck_assert_ptr_null(json);
    sample(&e);
    strcpy(e.filename, "a/b");
    ck_assert_int_eq(vs_cache_ref_format(&e, &json, &len, &err), VS_E_INTERNAL);
    vs_cache_entry_clear(&e);
}
END_TEST

#define SIGS "\"sigs\":[],\"signers\":[],\"require\":[\"gpg\"],\"verified\":\"2026-01-01T00:00:00Z\""
#define PKG "\"filename\":\"a.tgz\",\"sha256\":\"" HEXA "\",\"size\":1,\"url\":\"\","
static const struct {
    const char *json;
    const char *why; /* substring of the message */
} bad_refs[] = {
    { "", "not valid JSON" },
    { "[]", "not a JSON object" },
    { "{\"name\":\"../x\",\"version\":\"1\"," PKG SIGS "}", "invalid name" },
    { "{\"name\":\"a\",\"version\":\"1/../../x\"," PKG SIGS "}", "invalid name or version" },
    { "{\"name\":\"a\",\"version\":\"..\"," PKG SIGS "}", "invalid name or version" },
    { "{\"name\":\"a\",\"version\":1," PKG SIGS "}", "\"version\" missing or not a string" },
    { "{\"name\":\"a\",\"version\":\"1\",\"filename\":\"../a.tgz\",\"sha256\":\"" HEXA
      "\",\"size\":1,\"url\":\"\"," SIGS "}",
      "not plain" },
    { "{\"name\":\"a\",\"version\":\"1\",\"filename\":\"a.tgz\",\"sha256\":\"XYZ\",\"size\":1,"
      "\"url\":\"\"," SIGS "}",
      "object id" },
    { "{\"name\":\"a\",\"version\":\"1\",\"filename\":\"a.tgz\",\"sha256\":\"" HEXA
      "\",\"size\":\"1\",\"url\":\"\"," SIGS "}",
      "\"size\"" },
    { "{\"name\":\"a\",\"version\":\"1\",\"filename\":\"a.tgz\",\"sha256\":\"" HEXA
      "\",\"size\":-5,\"url\":\"\"," SIGS "}",
      "\"size\"" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":{},\"signers\":[],\"require\":[\"gpg\"],\"verified\":\"2026-01-01T00:00:00Z\"}",
      "\"signatures\" missing" },
    /* a key under its name before the contract (sigs, filename) and its name now */
    { "{\"name\":\"a\",\"version\":\"1\"," PKG "\"signatures\":[]," SIGS "}",
      "old and its new name" },
    { "{\"name\":\"a\",\"version\":\"1\",\"file\":\"a.tgz\"," PKG SIGS "}",
      "old and its new name" },
    /* the key binding: fingerprints in their normalised form */
    { "{\"name\":\"a\",\"version\":\"1\"," PKG SIGS ",\"keys\":[\"xyz\"]}", "not a fingerprint" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG SIGS
      ",\"keys\":[\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\"]}",
      "not a fingerprint" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG SIGS ",\"keys\":{}}", "\"keys\" must be" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":[{\"kind\":\"evil\",\"filename\":\"x\",\"sha256\":\"" HEXA "\",\"url\":\"\"}],"
      "\"signers\":[],\"require\":[\"gpg\"],\"verified\":\"2026-01-01T00:00:00Z\"}",
      "unknown signature kind" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":[{\"kind\":\"gpg-sig\",\"filename\":\"..\",\"sha256\":\"" HEXA "\",\"url\":\"\"}],"
      "\"signers\":[],\"require\":[\"gpg\"],\"verified\":\"2026-01-01T00:00:00Z\"}",
      "not plain" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":[1,2,3,4,5],\"signers\":[],\"require\":[\"gpg\"],\"verified\":\"2026-01-01T00:00:00Z\"}",
      "more than" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":[],\"signers\":[\"a b\"],\"require\":[\"gpg\"],\"verified\":\"2026-01-01T00:00:00Z\"}",
      "fingerprint" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":[],\"signers\":[],\"require\":[],\"verified\":\"2026-01-01T00:00:00Z\"}",
      "require" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":[],\"signers\":[],\"require\":[\"gpg\",\"gpg\"],\"verified\":\"2026-01-01T00:00:00Z\"}",
      "require" },
    { "{\"name\":\"a\",\"version\":\"1\"," PKG
      "\"sigs\":[],\"signers\":[],\"require\":[\"gpg\"],\"verified\":\"yesterday\"}",
      "ISO-8601" },
    { "{\"name\":\"a\",\"name\":\"b\",\"version\":\"1\"," PKG SIGS "}", "not valid JSON" },
    { "{\"name\":\"a\\u0000b\",\"version\":\"1\"," PKG SIGS "}", "not valid JSON" },
    { "{\"name\":\"a\",\"version\":\"1\",\"filename\":\"a\\nb\",\"sha256\":\"" HEXA
      "\",\"size\":1,\"url\":\"\"," SIGS "}",
      "not valid" },
};

START_TEST(ref_rejects)
{
    for (size_t i = 0; i < sizeof bad_refs / sizeof bad_refs[0]; i++) {
        vs_error err = VS_ERROR_INIT;
        vs_cache_entry e = {0};
        vs_status st = vs_cache_ref_parse((const uint8_t *)bad_refs[i].json,
                                          strlen(bad_refs[i].json), "refs/x.json", &e, &err);
        ck_assert_msg(st == VS_E_INTEGRITY, "case %zu accepted: %s", i, bad_refs[i].json);
        ck_assert_msg(strstr(err.message, bad_refs[i].why) != NULL, "case %zu: message '%s'", i,
                      err.message);
        ck_assert_msg(strncmp(err.message, "refs/x.json: ", 13) == 0, "case %zu names file", i);
        ck_assert_str_eq(e.name, ""); /* nothing half-filled */
    }
    /* the good base parses (so the refusals above are about their one change) */
    const char *good = "{\"name\":\"a\",\"version\":\"1\"," PKG SIGS "}";
    vs_cache_entry e = {0};
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_cache_ref_parse((const uint8_t *)good, strlen(good), "g", &e, &err),
                     VS_OK);
    /* over the size limit */
    size_t big = VS_MAX_REF_FILE + 1;
    char *p = malloc(big);
    memset(p, ' ', big);
    memcpy(p, good, strlen(good));
    ck_assert_int_eq(vs_cache_ref_parse((const uint8_t *)p, big, "big", &e, &err),
                     VS_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.message, "limit"));
    free(p);
    vs_cache_entry_clear(&e);
}
END_TEST

START_TEST(split_refs)
{
    char n[VS_MAX_NAME + 1], v[VS_MAX_VERSION + 1];
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_ref_split("agent@1.2.3", n, v, &err), VS_OK);
    ck_assert_str_eq(n, "agent");
    ck_assert_str_eq(v, "1.2.3");
    const char *bad[] = { "agent", "@1", "agent@", "../a@1", "a@1/2", "a@1@2", "a@..x/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(vs_ref_split(bad[i], n, v, &err) == VS_E_USAGE, "%s", bad[i]);
}
END_TEST

/* ---- a real home ----------------------------------------------------------- */

static char home[64];
static vs_ctx *ctx;

static void home_setup(void)
{
    vs_error err = VS_ERROR_INIT;
    strcpy(home, "/tmp/vs-unit-cache-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(home));
    ck_assert_int_eq(vs_ctx_open(&ctx, home, &err), VS_OK);
}

static void home_teardown(void)
{
    vs_error err = VS_ERROR_INIT;
    vs_ctx_free(ctx);
    ctx = NULL;
    int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    vs_remove_tree(fd, home + 5, &err);
    close(fd);
}

static int count_objects(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "find %s/cache/objects -type f | wc -l", home);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

START_TEST(object_dedupe)
{
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_cache_mkdirs(ctx, &err), VS_OK);
    char a[VS_SHA256_HEX], b[VS_SHA256_HEX];
    ck_assert_int_eq(vs_cache_object_put_mem(ctx, "abc", 3, a, &err), VS_OK);
    ck_assert_str_eq(a, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(vs_cache_object_put_mem(ctx, "abc", 3, b, &err), VS_OK);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(count_objects(), 1);
    char *path = vs_cache_object_path(ctx, a);
    ck_assert_ptr_nonnull(path);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0444);
    ck_assert_ptr_nonnull(strstr(path, "/cache/objects/sha256/ba/7816bf"));

    /* from a file: same content, same single object; the source is gone */
    int hfd = open(home, O_RDONLY | O_DIRECTORY);
    ck_assert_int_eq(vs_write_file_atomic(hfd, "src", "abc", 3, 0600, &err), VS_OK);
    ck_assert_int_eq(vs_cache_object_put_file(ctx, hfd, "src", NULL, b, &err), VS_OK);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(count_objects(), 1);
    ck_assert_int_ne(faccessat(hfd, "src", F_OK, 0), 0);
    ck_assert_int_eq(vs_cache_object_check(ctx, a, NULL, &err), VS_OK);

    /* a damaged existing object is detected and replaced on the next put */
    chmod(path, 0644);
    FILE *f = fopen(path, "w");
    fputs("abd", f);
    fclose(f);
    ck_assert_int_eq(vs_cache_object_check(ctx, a, NULL, &err), VS_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.message, "does not match"));
    ck_assert_int_eq(vs_write_file_atomic(hfd, "src", "abc", 3, 0600, &err), VS_OK);
    ck_assert_int_eq(vs_cache_object_put_file(ctx, hfd, "src", NULL, b, &err), VS_OK);
    ck_assert_int_eq(vs_cache_object_check(ctx, a, NULL, &err), VS_OK);
    ck_assert_int_eq(count_objects(), 1);
    close(hfd);
    free(path);

    ck_assert_ptr_null(vs_cache_object_path(ctx, "../../etc/passwd"));
    ck_assert_ptr_null(vs_cache_object_path(ctx, HEXA "0"));
}
END_TEST

static void add_version(const char *version, const char *content, vs_cache_entry *e)
{
    vs_error err = VS_ERROR_INIT;
    sample(e);
    snprintf(e->version, sizeof e->version, "%s", version);
    ck_assert_int_eq(vs_cache_object_put_mem(ctx, content, strlen(content), e->sha256, &err),
                     VS_OK);
    e->size = strlen(content);
    ck_assert_int_eq(vs_cache_object_put_mem(ctx, version, strlen(version), e->sigs[0].sha256,
                                             &err),
                     VS_OK);
    e->nsigs = 1;
    ck_assert_int_eq(vs_cache_ref_write(ctx, e, &err), VS_OK);
}

static void count_damage(const char *what, const char *reason, void *payload)
{
    (void)what;
    (void)reason;
    (*(int *)payload)++;
}

START_TEST(lookup_list_fsck_gc)
{
    vs_error err = VS_ERROR_INIT;
    vs_cache_entry e1 = {0}, e2 = {0}, e3 = {0}, *got = NULL;
    ck_assert_int_eq(vs_cache_mkdirs(ctx, &err), VS_OK);
    add_version("1.10", "package one-ten", &e1);
    add_version("1.9", "package one-nine", &e2);
    add_version("1.10~rc1", "package rc", &e3);

    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "agent@1.9", &err), VS_OK);
    ck_assert_str_eq(vs_cache_entry_sha256(got), e2.sha256);
    assert_same_entry(got, &e2);
    vs_cache_entry_free(got);
    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "agent@2.0", &err), VS_E_USAGE);
    ck_assert_ptr_null(got);
    ck_assert_ptr_nonnull(strstr(err.message, "not in the cache"));
    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "../agent@1", &err), VS_E_USAGE);
    ck_assert_ptr_null(got);

    vs_cache_entry **list;
    size_t n;
    ck_assert_int_eq(vs_cache_list(&list, &n, ctx, &err), VS_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(vs_cache_entry_version(list[0]), "1.9");
    ck_assert_str_eq(vs_cache_entry_version(list[1]), "1.10~rc1");
    ck_assert_str_eq(vs_cache_entry_version(list[2]), "1.10");
    vs_cache_entry_list_free(list, n);

    size_t nd = 99;
    int seen = 0;
    ck_assert_int_eq(vs_cache_fsck(&nd, ctx, count_damage, &seen, &err), VS_OK);
    ck_assert_int_eq(nd, 0);

    /* a ref naming another package than its path is damage */
    char path[256];
    snprintf(path, sizeof path, "%s/cache/refs/agent/1.9.json", home);
    snprintf(e2.version, sizeof e2.version, "1.8");
    char *json;
    size_t len;
    ck_assert_int_eq(vs_cache_ref_format(&e2, &json, &len, &err), VS_OK);
    FILE *f = fopen(path, "w");
    fwrite(json, 1, len, f);
    fclose(f);
    free(json);
    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "agent@1.9", &err), VS_E_INTEGRITY);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(vs_cache_fsck(&nd, ctx, count_damage, &seen, &err), VS_E_INTEGRITY);
    ck_assert_int_eq(nd, 1);
    /* gc refuses to guess what a damaged ref holds */
    size_t rr, orr;
    ck_assert_int_eq(vs_cache_gc(&rr, &orr, ctx, 1, &err), VS_E_INTEGRITY);
    ck_assert_int_eq(count_objects(), 6);
    unlink(path);

    /* keep 1: only 1.10 stays, with its two objects */
    ck_assert_int_eq(vs_cache_gc(&rr, &orr, ctx, 1, &err), VS_OK);
    ck_assert_int_eq(rr, 1);
    ck_assert_int_eq(orr, 4);
    ck_assert_int_eq(count_objects(), 2);
    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "agent@1.10", &err), VS_OK);
    vs_cache_entry_free(got);
    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "agent@1.10~rc1", &err), VS_E_USAGE);
    ck_assert_int_eq(vs_cache_fsck(&nd, ctx, NULL, NULL, &err), VS_OK);

    /* flip a byte of the package object: fsck names the entry */
    char *op = vs_cache_object_path(ctx, e1.sha256);
    chmod(op, 0644);
    f = fopen(op, "r+");
    fputc('X', f);
    fclose(f);
    free(op);
    seen = 0;
    ck_assert_int_eq(vs_cache_fsck(&nd, ctx, count_damage, &seen, &err), VS_E_INTEGRITY);
    ck_assert_int_eq(nd, 2); /* the object and the entry using it */
    ck_assert_int_eq(seen, 2);

    /* keep 0 removes everything */
    ck_assert_int_eq(vs_cache_gc(&rr, &orr, ctx, 0, &err), VS_OK);
    ck_assert_int_eq(count_objects(), 0);
    ck_assert_int_eq(vs_cache_list(&list, &n, ctx, &err), VS_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(list);
    vs_cache_entry_clear(&e1);
    vs_cache_entry_clear(&e2);
    vs_cache_entry_clear(&e3);
}
END_TEST

/* A URL of VS_MAX_URL bytes, which fetch accepts, is kept whole: into the ref
 * on disk and back out through vs_cache_lookup (it was cut at 4095 bytes when
 * the entry held fixed arrays). */
START_TEST(long_url_round_trip)
{
    vs_error err = VS_ERROR_INIT;
    char *url = malloc(VS_MAX_URL + 1), *surl = malloc(VS_MAX_URL + 1);
    ck_assert_ptr_nonnull(url);
    ck_assert_ptr_nonnull(surl);
    const char *head = "https://example.test/", *tail = "/agent-1.2.3.tgz";
    size_t hl = strlen(head), tl = strlen(tail);
    memcpy(url, head, hl);
    for (size_t i = hl; i < VS_MAX_URL - tl; i++)
        url[i] = (char)('a' + i % 26);
    memcpy(url + VS_MAX_URL - tl, tail, tl + 1);
    ck_assert_uint_eq(strlen(url), VS_MAX_URL);
    ck_assert_int_eq(vs_fetch_url_check(url, &err), VS_OK); /* fetch takes it */
    snprintf(surl, VS_MAX_URL + 1, "%.*s.asc", (int)(VS_MAX_URL - 4), url);
    ck_assert_uint_eq(strlen(surl), VS_MAX_URL);

    vs_cache_entry e = {0};
    sample(&e);
    free(e.url);
    e.url = strdup(url);
    free(e.sigs[0].url);
    e.sigs[0].url = strdup(surl);
    ck_assert_int_eq(vs_cache_mkdirs(ctx, &err), VS_OK);
    ck_assert_msg(vs_cache_ref_write(ctx, &e, &err) == VS_OK, "%s", err.message);
    vs_cache_entry *got = NULL;
    ck_assert_msg(vs_cache_lookup(&got, ctx, "agent@1.2.3", &err) == VS_OK, "%s", err.message);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(strlen(vs_cache_entry_url(got)), VS_MAX_URL);
    ck_assert_str_eq(vs_cache_entry_url(got), url);
    ck_assert_str_eq(vs_cache_entry_sig_url(got, 0), surl);
    assert_same_entry(&e, got);
    /* and in the JSON form cache show prints */
    char *json = vs_cache_entry_json(got);
    ck_assert_ptr_nonnull(json);
    ck_assert_ptr_nonnull(strstr(json, url));
    free(json);
    vs_cache_entry_free(got);
    vs_cache_entry_clear(&e);
    free(url);
    free(surl);
}
END_TEST

/* ---- option structs of a layout the library does not know ---------------- */

/* The refusal names the struct, hints at its _INIT macro, and nothing was
 * written below the home (no cache, no keys). */
static void assert_refused(vs_status st, const vs_error *err, const char *type)
{
    ck_assert_int_eq(st, VS_E_USAGE);
    ck_assert_str_eq(err->subject, type);
    ck_assert_msg(strstr(err->hint, "_INIT") != NULL, "hint: %s", err->hint);
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/cache/refs", home);
    ck_assert_int_ne(lstat(path, &sb), 0);
}

START_TEST(opts_versions)
{
    vs_error err = VS_ERROR_INIT;
    const char *file = "/nonexistent/agent-1.0.tgz";
    /* zero-initialised (no _INIT), and from a newer header */
    unsigned bad[] = { 0, VS_CACHE_FETCH_OPTS_VERSION + 1 };
    for (size_t b = 0; b < 2; b++) {
        vs_cache_fetch_opts fo = VS_CACHE_FETCH_OPTS_INIT;
        fo.url = "file:///nonexistent/agent-1.0.tgz";
        fo.opts_version = bad[b];
        vs_cache_entry *e = NULL;
        assert_refused(vs_cache_fetch(&e, NULL, NULL, ctx, &fo, &err), &err,
                       "vs_cache_fetch_opts");
        ck_assert_ptr_null(e);
        fo.opts_version = VS_CACHE_FETCH_OPTS_VERSION;
        fo.fetch.opts_version = bad[b];
        assert_refused(vs_cache_fetch(&e, NULL, NULL, ctx, &fo, &err), &err, "vs_fetch_opts");

        vs_fetch_opts fe = VS_FETCH_OPTS_INIT;
        fe.opts_version = bad[b];
        uint8_t *mem = NULL;
        size_t len = 0;
        assert_refused(vs_fetch_to_memory(&mem, &len, ctx, "file:///nonexistent", 0, &fe, &err),
                       &err, "vs_fetch_opts");

        vs_verify_opts vo = VS_VERIFY_OPTS_INIT;
        vo.opts_version = bad[b];
        vs_verdict *v = NULL;
        assert_refused(vs_verify_package(&v, ctx, file, &vo, &err), &err, "vs_verify_opts");
        ck_assert_ptr_null(v);

        vs_stage_opts so = VS_STAGE_OPTS_INIT;
        so.opts_version = bad[b];
        assert_refused(vs_stage_ref(NULL, ctx, "agent@1.0", "/nonexistent/dest", &so, &err), &err,
                       "vs_stage_opts");

        vs_keys_import_opts ko = VS_KEYS_IMPORT_OPTS_INIT;
        ko.opts_version = bad[b];
        vs_key_info *ki = NULL;
        size_t nki = 0;
        assert_refused(vs_keys_import(&ki, &nki, ctx, &file, 1, &ko, &err), &err,
                       "vs_keys_import_opts");

        vs_mirror_sync_opts ms = VS_MIRROR_SYNC_OPTS_INIT;
        ms.list = "/nonexistent/list";
        ms.dest = "/nonexistent/mirror";
        ms.opts_version = bad[b];
        assert_refused(vs_mirror_sync(NULL, NULL, ctx, &ms, &err), &err, "vs_mirror_sync_opts");
        ms.opts_version = VS_MIRROR_SYNC_OPTS_VERSION;
        ms.fetch.opts_version = bad[b];
        assert_refused(vs_mirror_sync(NULL, NULL, ctx, &ms, &err), &err, "vs_cache_fetch_opts");

        vs_mirror_import_opts mi = VS_MIRROR_IMPORT_OPTS_INIT;
        mi.opts_version = bad[b];
        assert_refused(vs_mirror_import(NULL, NULL, ctx, "/nonexistent/b.tar", &mi, &err), &err,
                       "vs_mirror_import_opts");

        vs_render_opts ro = VS_RENDER_OPTS_INIT;
        ro.layout = "/nonexistent/layout";
        ro.opts_version = bad[b];
        char *out = NULL;
        assert_refused(vs_render_dockerfile(&out, &ro, &err), &err, "vs_render_opts");
        ck_assert_ptr_null(out);

        vs_ecs_opts eo = VS_ECS_OPTS_INIT;
        eo.app_container = "app";
        eo.opts_version = bad[b];
        assert_refused(vs_render_ecs_task(&out, (const uint8_t *)"{}", 2, "t.json", &eo, &err),
                       &err, "vs_ecs_opts");
    }
}
END_TEST

/* ---- fetch into the cache and re-verify (file:// URLs, fixture keys) ------- */

static void flip(const char *path)
{
    chmod(path, 0644);
    FILE *f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    int c = fgetc(f);
    fseek(f, 0, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
}

START_TEST(fetch_and_reverify)
{
    vs_error err = VS_ERROR_INIT;
    const char *fix = vs_test_fixdir();
    char vendor[1200], org[1200], url[1200];
    snprintf(vendor, sizeof vendor, "%s/vendor.asc", fix);
    snprintf(org, sizeof org, "%s/org.pub.pem", fix);
    snprintf(url, sizeof url, "file://%s/pkg/agent-1.2.3.tgz", fix);
    const char *files[] = { vendor, org };
    vs_key_info *ki = NULL;
    size_t nki = 0;
    ck_assert_msg(vs_keys_import(&ki, &nki, ctx, files, 2, NULL, &err) == VS_OK, "%s", err.message);
    vs_key_info_free(ki);

    vs_cache_fetch_opts fo = VS_CACHE_FETCH_OPTS_INIT;
    fo.url = url;
    fo.fetch = (vs_fetch_opts)VS_FETCH_OPTS_INIT;
    vs_cache_entry *e = NULL;
    bool already = true;
    vs_verdict *v = NULL;
    ck_assert_msg(vs_cache_fetch(&e, &already, &v, ctx, &fo, &err) == VS_OK, "%s", err.message);
    ck_assert(!already);
    ck_assert_ptr_nonnull(v);
    ck_assert(v->trusted);
    vs_verdict_free(v);
    ck_assert_str_eq(vs_cache_entry_name(e), "agent");
    ck_assert_str_eq(vs_cache_entry_version(e), "1.2.3");
    ck_assert_int_eq(vs_cache_entry_nsigs(e), 2);
    ck_assert_int_eq(vs_cache_entry_nsigners(e), 2);
    ck_assert_str_eq(vs_cache_entry_url(e), url);

    /* second fetch: from the ref, no verdict */
    vs_cache_entry *again = NULL;
    ck_assert_int_eq(vs_cache_fetch(&again, &already, &v, ctx, &fo, &err), VS_OK);
    ck_assert(already);
    ck_assert_ptr_null(v);
    assert_same_entry(e, again);
    vs_cache_entry_free(again);

    ck_assert_msg(vs_cache_reverify(&v, ctx, e, &err) == VS_OK, "%s", err.message);
    ck_assert(v && v->trusted);
    vs_verdict_free(v);

    /* an altered package object */
    char *pkg = vs_cache_object_path(ctx, vs_cache_entry_sha256(e));
    flip(pkg);
    v = NULL;
    ck_assert_int_eq(vs_cache_reverify(&v, ctx, e, &err), VS_E_VERIFY);
    ck_assert_msg(strstr(err.message, "altered") && strstr(err.message, pkg), "%s", err.message);
    flip(pkg);
    ck_assert_int_eq(vs_cache_reverify(NULL, ctx, e, &err), VS_OK);

    /* an altered signature object */
    char *sig = vs_cache_object_path(ctx, vs_cache_entry_sig_sha256(e, 0));
    flip(sig);
    ck_assert_int_eq(vs_cache_reverify(NULL, ctx, e, &err), VS_E_VERIFY);
    ck_assert_ptr_nonnull(strstr(err.message, "altered"));
    flip(sig);

    /* the store as it is now: without the org key the RSA signature fails */
    char fpr[VS_FPR_MAX];
    char fprfile[1200];
    snprintf(fprfile, sizeof fprfile, "%s/org.fpr", fix);
    FILE *f = fopen(fprfile, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%79s", fpr), 1);
    fclose(f);
    ck_assert_int_eq(vs_keys_remove(ctx, fpr, &err), VS_OK);
    ck_assert_int_eq(vs_cache_reverify(NULL, ctx, e, &err), VS_E_VERIFY);
    free(pkg);
    free(sig);
    vs_cache_entry_free(e);
}
END_TEST

/* ---- key binding ------------------------------------------------------------- */

static void read_fpr(const char *name, char out[VS_FPR_MAX])
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.fpr", vs_test_fixdir(), name);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%79s", out), 1);
    fclose(f);
}

START_TEST(fetch_key_binding)
{
    vs_error err = VS_ERROR_INIT;
    const char *fix = vs_test_fixdir();
    char vendor[1200], org[1200], url[1200];
    snprintf(vendor, sizeof vendor, "%s/vendor.asc", fix);
    snprintf(org, sizeof org, "%s/org.pub.pem", fix);
    snprintf(url, sizeof url, "file://%s/pkg/agent-1.2.3.tgz", fix);
    const char *files[] = { vendor, org };
    vs_key_info *ki = NULL;
    size_t nki = 0;
    ck_assert_msg(vs_keys_import(&ki, &nki, ctx, files, 2, NULL, &err) == VS_OK, "%s", err.message);
    vs_key_info_free(ki);
    char vfpr[VS_FPR_MAX], ofpr[VS_FPR_MAX], spaced[VS_FPR_MAX * 2];
    read_fpr("vendor", vfpr);
    read_fpr("org", ofpr);
    /* as gpg --fingerprint prints it: groups of four */
    size_t k = 0;
    for (size_t i = 0; vfpr[i]; i++) {
        if (i && i % 4 == 0)
            spaced[k++] = ' ';
        spaced[k++] = vfpr[i];
    }
    spaced[k] = '\0';

    vs_cache_fetch_opts fo = VS_CACHE_FETCH_OPTS_INIT;
    fo.url = url;
    const char *bound[] = { spaced, ofpr, ofpr };
    fo.keys = bound;
    fo.nkeys = 3;
    vs_cache_entry *e = NULL, *got = NULL;
    bool already = true;
    ck_assert_msg(vs_cache_fetch(&e, &already, NULL, ctx, &fo, &err) == VS_OK, "%s", err.message);
    ck_assert(!already);
    /* recorded, normalised, once each, and read back */
    ck_assert_uint_eq(vs_cache_entry_nkeys(e), 2);
    ck_assert_ptr_null(vs_cache_entry_key(e, 2));
    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "agent@1.2.3", &err), VS_OK);
    ck_assert_uint_eq(vs_cache_entry_nkeys(got), 2);
    ck_assert_int_eq(strcasecmp(vs_cache_entry_key(got, 0), vfpr), 0);
    ck_assert_str_eq(vs_cache_entry_key(got, 1), ofpr);
    char *json = vs_cache_entry_json(got);
    ck_assert_ptr_nonnull(json);
    ck_assert_ptr_nonnull(strstr(json, "\"keys\":["));
    ck_assert_ptr_nonnull(strstr(json, "\"signatures\":["));
    free(json);
    /* the same binding again: from the cache */
    vs_cache_entry_free(e);
    ck_assert_int_eq(vs_cache_fetch(&e, &already, NULL, ctx, &fo, &err), VS_OK);
    ck_assert(already);
    assert_same_entry(e, got);
    vs_cache_entry_free(e);
    /* reverify applies the recorded binding: bound to another RSA key, the
     * organisation's signature does not count */
    ck_assert_int_eq(vs_cache_reverify(NULL, ctx, got, &err), VS_OK);
    snprintf(got->keys[1], VS_FPR_MAX, "sha256:%064d", 0);
    ck_assert_int_eq(vs_cache_reverify(NULL, ctx, got, &err), VS_E_VERIFY);
    /* a binding the store cannot meet is refused before the network */
    char other[VS_FPR_MAX];
    snprintf(other, sizeof other, "sha256:%064d", 0);
    const char *unmet[] = { vfpr, other };
    fo.keys = unmet;
    fo.nkeys = 2;
    fo.name = "agent";
    fo.version = "9";
    ck_assert_int_eq(vs_cache_fetch(&e, &already, NULL, ctx, &fo, &err), VS_E_VERIFY);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err.hint, "require"));
    vs_cache_entry_free(got);
    ck_assert_int_eq(vs_cache_lookup(&got, ctx, "agent@9", &err), VS_E_USAGE);
    ck_assert_int_eq(err.detail, VS_DETAIL_NOT_FOUND);
    /* not a fingerprint */
    const char *bad[] = { "0xnothex" };
    fo.keys = bad;
    fo.nkeys = 1;
    ck_assert_int_eq(vs_cache_fetch(&e, &already, NULL, ctx, &fo, &err), VS_E_USAGE);
    ck_assert_str_eq(err.subject, "0xnothex");
    ck_assert_ptr_null(e);
    ck_assert_ptr_null(got);
}
END_TEST

/* ---- the trust store the context holds ------------------------------------- */

static void count_loads(vs_log_level level, const char *msg, void *payload)
{
    (void)level;
    if (strstr(msg, "trust store loaded"))
        (*(int *)payload)++;
}

/* Loaded once per context; an import or remove through the context, or by
 * another context on the home, is seen by the next verify. */
START_TEST(trust_loaded_once)
{
    vs_error err = VS_ERROR_INIT;
    const char *fix = vs_test_fixdir();
    char vendor[1200], org[1200], pkg[1200], fpr[VS_FPR_MAX];
    snprintf(vendor, sizeof vendor, "%s/vendor.asc", fix);
    snprintf(org, sizeof org, "%s/org.pub.pem", fix);
    snprintf(pkg, sizeof pkg, "%s/pkg/agent-1.2.3.tgz", fix);
    read_fpr("org", fpr);
    const char *files[] = { vendor, org };
    vs_key_info *ki = NULL;
    size_t nki = 0;
    ck_assert_msg(vs_keys_import(&ki, &nki, ctx, files, 2, NULL, &err) == VS_OK, "%s",
                  err.message);
    vs_key_info_free(ki);
    int loads = 0;
    vs_ctx_set_log(ctx, count_loads, VS_LOG_DEBUG, &loads);
    for (int i = 0; i < 3; i++) {
        vs_verdict *v = NULL;
        ck_assert_msg(vs_verify_package(&v, ctx, pkg, NULL, &err) == VS_OK, "%s", err.message);
        ck_assert(v && v->trusted);
        vs_verdict_free(v);
    }
    ck_assert_int_eq(loads, 1);

    /* another context on the same home removes the RSA key: seen at once */
    vs_ctx *other = NULL;
    ck_assert_int_eq(vs_ctx_open(&other, home, &err), VS_OK);
    ck_assert_int_eq(vs_keys_remove(other, fpr, &err), VS_OK);
    vs_ctx_free(other);
    ck_assert_int_eq(vs_verify_package(NULL, ctx, pkg, NULL, &err), VS_E_VERIFY);
    ck_assert_int_eq(loads, 2);
    ck_assert_int_eq(vs_verify_package(NULL, ctx, pkg, NULL, &err), VS_E_VERIFY);
    ck_assert_int_eq(loads, 2);

    /* imported again through this context: the next verify counts it */
    const char *one[] = { org };
    ck_assert_int_eq(vs_keys_import(NULL, NULL, ctx, one, 1, NULL, &err), VS_OK);
    ck_assert_msg(vs_verify_package(NULL, ctx, pkg, NULL, &err) == VS_OK, "%s", err.message);
    ck_assert_int_eq(loads, 3);
    vs_ctx_set_log(ctx, NULL, VS_LOG_ERROR, NULL);
}
END_TEST

/* ---- the home boundary -------------------------------------------------------- */

START_TEST(home_boundary)
{
    vs_error err = VS_ERROR_INIT;
    char path[512], out[256];
    int fd = -1;
    /* creating: every level made, mode 0700 */
    ck_assert_int_eq(vs_home_dir(ctx, "a/b/c", VS_BENEATH_CREATE, &fd, &err), VS_OK);
    close(fd);
    struct stat sb;
    snprintf(path, sizeof path, "%s/a/b", home);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0700);
    /* missing without create: not found, the subject is the path below the home */
    ck_assert_int_eq(vs_home_dir(ctx, "a/x/y", 0, &fd, &err), VS_E_USAGE);
    ck_assert_int_eq(err.detail, VS_DETAIL_NOT_FOUND);
    ck_assert_str_eq(err.subject, "a/x");
    /* paths that are not below: refused before any system call */
    static const char *const bad[] = { "", "/etc", "../x", "a/../b", "a//b", "a/./b", "a/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(vs_home_dir(ctx, bad[i], VS_BENEATH_CREATE, &fd, &err) == VS_E_INTERNAL,
                      "%s", bad[i]);
    /* a link at any level: refused, named, with the hint, nothing made behind it */
    snprintf(out, sizeof out, "%s.outside", home);
    ck_assert_int_eq(mkdir(out, 0700), 0);
    snprintf(path, sizeof path, "%s/a/b/link", home);
    ck_assert_int_eq(symlink(out, path), 0);
    ck_assert_int_eq(vs_home_dir(ctx, "a/b/link/new", VS_BENEATH_CREATE, &fd, &err),
                     VS_E_INTEGRITY);
    ck_assert_str_eq(err.subject, "a/b/link");
    ck_assert_ptr_nonnull(strstr(err.reason, "symbolic link inside the home"));
    ck_assert_ptr_nonnull(strstr(err.hint, "mount it at HOME/cache"));
    snprintf(path, sizeof path, "%s/new", out);
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_eq(vs_home_open(ctx, "a/b/link/f", O_WRONLY | O_CREAT, 0600, &fd, &err),
                     VS_E_INTEGRITY);
    /* a link as the file itself */
    snprintf(path, sizeof path, "%s/f", out);
    ck_assert_int_eq(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
    snprintf(out, sizeof out, "%s/a/b/c/f", home);
    ck_assert_int_eq(symlink(path, out), 0);
    ck_assert_int_eq(vs_home_open(ctx, "a/b/c/f", O_RDONLY, 0, &fd, &err), VS_E_INTEGRITY);
    ck_assert_str_eq(err.subject, "a/b/c/f");
    ck_assert_int_eq(vs_home_open(ctx, "a/b/c/g", O_RDONLY, 0, &fd, &err), VS_E_USAGE);
    ck_assert_int_eq(err.detail, VS_DETAIL_NOT_FOUND);
    /* a file where a directory belongs */
    ck_assert_int_eq(vs_home_open(ctx, "a/b/c/h", O_WRONLY | O_CREAT, 0600, &fd, &err), VS_OK);
    close(fd);
    ck_assert_int_eq(vs_home_dir(ctx, "a/b/c/h/i", VS_BENEATH_CREATE, &fd, &err),
                     VS_E_INTEGRITY);
    ck_assert_str_eq(err.subject, "a/b/c/h");
    /* the cache's own directories refuse a link the same way */
    snprintf(out, sizeof out, "%s.outside", home);
    snprintf(path, sizeof path, "%s/cache", home);
    ck_assert_int_eq(symlink(out, path), 0);
    ck_assert_int_eq(vs_cache_mkdirs(ctx, &err), VS_E_INTEGRITY);
    ck_assert_str_eq(err.subject, "cache");
    size_t rr, orr;
    ck_assert_int_eq(vs_cache_gc(&rr, &orr, ctx, 0, &err), VS_E_INTEGRITY);
    int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    vs_remove_tree(dfd, out + 5, &err);
    close(dfd);
}
END_TEST

Suite *vs_suite_cache(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, version_order);
    tcase_add_test(tc, ref_round_trip);
    tcase_add_test(tc, ref_rejects);
    tcase_add_test(tc, split_refs);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("home");
    tcase_add_checked_fixture(th, home_setup, home_teardown);
    tcase_set_timeout(th, 120); /* real gpg and a real fetch, under sanitizers on a loaded machine */
    tcase_add_test(th, object_dedupe);
    tcase_add_test(th, lookup_list_fsck_gc);
    tcase_add_test(th, long_url_round_trip);
    tcase_add_test(th, opts_versions);
    tcase_add_test(th, fetch_and_reverify);
    tcase_add_test(th, home_boundary);
    tcase_add_test(th, fetch_key_binding);
    tcase_add_test(th, trust_loaded_once);
    suite_add_tcase(s, th);
    return s;
}
