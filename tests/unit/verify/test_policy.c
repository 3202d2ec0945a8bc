/* tests/unit/verify/test_policy.c - which signatures count (pure, table
 * driven), key binding, and the store pre-check on a real home with the
 * fixture keys (made by the real gpg and openssl, tests/fixtures). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verify/verify_int.h"
#include "unit.h"

#define FPR_A "27EDEAF22F3ABCEDE2D0A5F2DA9C0C8A6F1B5D2C"
#define FPR_B "1111222233334444555566667777888899990000"
#define RSA_A "sha256:2c8b0000000000000000000000000000000000000000000000000000000000ff"

/* ---- fingerprints and binding --------------------------------------------- */

START_TEST(fpr_forms)
{
    char n[VS_FPR_MAX];
    ck_assert(vs_fpr_normalize(FPR_A, n));
    ck_assert_str_eq(n, "27edeaf22f3abcede2d0a5f2da9c0c8a6f1b5d2c");
    ck_assert(vs_fpr_normalize("0x27ED EAF2 2F3A BCED E2D0  A5F2 DA9C 0C8A 6F1B 5D2C", n));
    ck_assert_str_eq(n, "27edeaf22f3abcede2d0a5f2da9c0c8a6f1b5d2c");
    ck_assert(vs_fpr_normalize("SHA256:2C8B0000000000000000000000000000000000000000000000000000000000FF", n));
    ck_assert_str_eq(n, RSA_A);
    static const char *bad[] = { "", "DA9C0C8A6F1B5D2C" /* a key id is not a fingerprint */,
                                 FPR_A "00", "sha256:2c8b", "sha1:" FPR_A,
                                 "27EDEAF22F3ABCEDE2D0A5F2DA9C0C8A6F1B5D2G", "0x", NULL };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!vs_fpr_normalize(bad[i], n), "accepted %s", bad[i] ? bad[i] : "NULL");
}
END_TEST

START_TEST(fpr_binding)
{
    const char *keys[] = { "27ed eaf2 2f3a bced e2d0 a5f2 da9c 0c8a 6f1b 5d2c", RSA_A };
    ck_assert(vs_fpr_bound(FPR_A, NULL, 0)); /* no binding: every key */
    ck_assert(vs_fpr_bound(FPR_B, NULL, 0));
    ck_assert(vs_fpr_bound(FPR_A, keys, 2));
    ck_assert(vs_fpr_bound(RSA_A, keys, 2));
    ck_assert(!vs_fpr_bound(FPR_B, keys, 2));
    ck_assert(!vs_fpr_bound("DA9C0C8A6F1B5D2C", keys, 2)); /* key id: never */
    ck_assert(!vs_fpr_bound("", keys, 2));
    ck_assert(vs_fpr_bound(FPR_A, keys, 1));
    const char *one[] = { FPR_B };
    ck_assert(!vs_fpr_bound(FPR_A, one, 1));
}
END_TEST

/* ---- the counting rule ------------------------------------------------------ */

#define G(e, st) { VS_SIG_GPG, e, st }
#define R(e, st) { VS_SIG_RSA, e, st }
#define OK_ VS_OK
#define V3 VS_E_VERIFY
#define P7 VS_E_POLICY

struct sig_spec {
    vs_sig_kind kind;
    vs_sig_effect effect;
    vs_status status;
};

struct decide_case {
    const char *desc;
    unsigned require;
    struct sig_spec sigs[6];
    size_t n;
    vs_status want;
    size_t want_why; /* index, or n for "no signature of the kind" */
    vs_sig_kind want_kind;
};

static const struct decide_case decide_cases[] = {
    { "one good of each", VS_REQUIRE_BOTH, { G(VS_SIG_COUNTS, OK_), R(VS_SIG_COUNTS, OK_) }, 2,
      VS_OK, 0, 0 },
    { "unknown signer beside a good one", VS_REQUIRE_GPG,
      { G(VS_SIG_IGNORED, V3), G(VS_SIG_COUNTS, OK_) }, 2, VS_OK, 0, 0 },
    { "good one beside an expired and an unbound one", VS_REQUIRE_GPG,
      { G(VS_SIG_COUNTS, OK_), G(VS_SIG_IGNORED, V3), G(VS_SIG_IGNORED, V3) }, 3, VS_OK, 0, 0 },
    { "pinned key, bad bytes, beside a good one: rejects", VS_REQUIRE_GPG,
      { G(VS_SIG_COUNTS, OK_), G(VS_SIG_REJECTS, V3) }, 2, V3, 1, VS_SIG_GPG },
    { "too old by a pinned key: policy status", VS_REQUIRE_GPG,
      { G(VS_SIG_COUNTS, OK_), G(VS_SIG_REJECTS, P7) }, 2, P7, 1, VS_SIG_GPG },
    { "only ignored ones: the first explains", VS_REQUIRE_GPG,
      { G(VS_SIG_IGNORED, V3), G(VS_SIG_IGNORED, V3) }, 2, V3, 0, VS_SIG_GPG },
    { "missing file", VS_REQUIRE_BOTH, { G(VS_SIG_MISSING, V3), R(VS_SIG_COUNTS, OK_) }, 2, V3, 0,
      VS_SIG_GPG },
    { "no result of a required kind", VS_REQUIRE_BOTH, { G(VS_SIG_COUNTS, OK_) }, 1, V3, 1,
      VS_SIG_RSA },
    { "nothing at all", VS_REQUIRE_GPG, { G(0, 0) }, 0, V3, 0, VS_SIG_GPG },
    { "kind not required cannot fail", VS_REQUIRE_GPG,
      { G(VS_SIG_COUNTS, OK_), R(VS_SIG_REJECTS, V3) }, 2, VS_OK, 0, 0 },
    { "0 means both", 0, { G(VS_SIG_COUNTS, OK_) }, 1, V3, 1, VS_SIG_RSA },
    { "OpenPGP decides before RSA", VS_REQUIRE_BOTH,
      { R(VS_SIG_REJECTS, V3), G(VS_SIG_IGNORED, V3) }, 2, V3, 1, VS_SIG_GPG },
    { "RSA rejects", VS_REQUIRE_BOTH, { G(VS_SIG_COUNTS, OK_), R(VS_SIG_REJECTS, V3) }, 2, V3, 1,
      VS_SIG_RSA },
    { "inconsistent rejecting result with VS_OK fails closed", VS_REQUIRE_GPG,
      { G(VS_SIG_REJECTS, OK_), G(VS_SIG_COUNTS, OK_) }, 2, V3, 0, VS_SIG_GPG },
    { "a rejecting one after several counting ones", VS_REQUIRE_GPG,
      { G(VS_SIG_COUNTS, OK_), G(VS_SIG_COUNTS, OK_), G(VS_SIG_IGNORED, V3),
        G(VS_SIG_REJECTS, V3) },
      4, V3, 3, VS_SIG_GPG },
};

START_TEST(decide_table)
{
    const struct decide_case *tc = &decide_cases[_i];
    vs_sig_result sigs[6];
    memset(sigs, 0, sizeof sigs);
    for (size_t i = 0; i < tc->n; i++) {
        sigs[i].kind = tc->sigs[i].kind;
        sigs[i].effect = tc->sigs[i].effect;
        sigs[i].status = tc->sigs[i].status;
        sigs[i].valid = tc->sigs[i].effect == VS_SIG_COUNTS;
    }
    size_t why = 99;
    vs_sig_kind kind = 0;
    vs_status st = vs_sig_decide(sigs, tc->n, tc->require, &why, &kind);
    ck_assert_msg(st == tc->want, "%s: status %d, want %d", tc->desc, st, tc->want);
    if (st != VS_OK) {
        ck_assert_msg(why == tc->want_why, "%s: why %zu, want %zu", tc->desc, why, tc->want_why);
        ck_assert_msg(kind == tc->want_kind, "%s: kind %d", tc->desc, kind);
    }
}
END_TEST

/* ---- a real home with the fixture keys ---------------------------------------- */

static char home[64];
static vs_ctx *ctx;

static void fix(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", vs_test_fixdir(), name);
}

/* The fingerprint written beside a fixture key (NAME.fpr), without newline. */
static void fpr_of(char out[VS_FPR_MAX], const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.fpr", vs_test_fixdir(), name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    ck_assert_ptr_nonnull(fgets(out, VS_FPR_MAX, f));
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

/* Import one fixture key file; *fpr (may be NULL) gets its first key's fingerprint. */
static void import_fpr(const char *name, char *fpr)
{
    char path[1200];
    fix(path, sizeof path, name);
    const char *files[] = { path };
    vs_error err = VS_ERROR_INIT;
    vs_key_info *ki = NULL;
    size_t n = 0;
    ck_assert_msg(vs_keys_import(&ki, &n, ctx, files, 1, NULL, &err) == VS_OK, "%s: %s", name,
                  err.message);
    ck_assert_uint_ge(n, 1);
    if (fpr)
        snprintf(fpr, VS_FPR_MAX, "%s", ki[0].fingerprint);
    vs_key_info_free(ki);
}

static void import(const char *name)
{
    import_fpr(name, NULL);
}

static void home_setup(void)
{
    vs_error err = VS_ERROR_INIT;
    snprintf(home, sizeof home, "/tmp/vs-unit-policy-XXXXXX");
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

START_TEST(policy_check_store)
{
    vs_error err = VS_ERROR_INIT;
    /* empty store: nothing can be met */
    ck_assert_int_eq(vs_verify_policy_check(ctx, 0, NULL, 0, &err), VS_E_VERIFY);
    ck_assert_str_eq(err.subject, "OpenPGP and RSA signatures");
    ck_assert_ptr_nonnull(strstr(err.hint, "keys import"));
    ck_assert_int_eq(vs_verify_policy_check(ctx, VS_REQUIRE_RSA, NULL, 0, &err), VS_E_VERIFY);
    ck_assert_str_eq(err.subject, "RSA signature");
    ck_assert_ptr_nonnull(strstr(err.reason, "holds no RSA key"));
    ck_assert_ptr_nonnull(strstr(err.hint, "--require"));

    import("vendor.asc");
    ck_assert_int_eq(vs_verify_policy_check(ctx, VS_REQUIRE_GPG, NULL, 0, &err), VS_OK);
    ck_assert_int_eq(vs_verify_policy_check(ctx, VS_REQUIRE_BOTH, NULL, 0, &err), VS_E_VERIFY);
    ck_assert_str_eq(err.subject, "RSA signature");
    ck_assert_msg(strstr(err.hint, "--require gpg") != NULL, "%s", err.hint);
    ck_assert_msg(strstr(err.message, "RSA signature: required, but") == err.message, "%s",
                  err.message);

    import("org.pub.pem");
    ck_assert_int_eq(vs_verify_policy_check(ctx, 0, NULL, 0, &err), VS_OK);

    /* binding: the source's keys must be among the stored ones */
    char vendor[VS_FPR_MAX], org[VS_FPR_MAX], other[VS_FPR_MAX], expired[VS_FPR_MAX];
    fpr_of(vendor, "vendor");
    fpr_of(org, "org");
    fpr_of(other, "other");
    fpr_of(expired, "expired");
    const char *both[] = { vendor, org };
    ck_assert_int_eq(vs_verify_policy_check(ctx, 0, both, 2, &err), VS_OK);
    const char *gpg_only[] = { vendor };
    ck_assert_int_eq(vs_verify_policy_check(ctx, 0, gpg_only, 1, &err), VS_E_VERIFY);
    ck_assert_str_eq(err.subject, "RSA signature");
    ck_assert_ptr_nonnull(strstr(err.reason, "bound"));
    ck_assert_msg(strstr(err.hint, "--require gpg") != NULL, "%s", err.hint);
    ck_assert_int_eq(vs_verify_policy_check(ctx, VS_REQUIRE_GPG, gpg_only, 1, &err), VS_OK);
    const char *unstored[] = { other, org };
    ck_assert_int_eq(vs_verify_policy_check(ctx, 0, unstored, 2, &err), VS_E_VERIFY);
    ck_assert_str_eq(err.subject, "OpenPGP signature");
    ck_assert_msg(strstr(err.hint, "--require rsa") != NULL, "%s", err.hint);

    /* a bound key that has expired cannot sign anything now */
    import("expired.asc");
    const char *exp_only[] = { expired, org };
    ck_assert_int_eq(vs_verify_policy_check(ctx, 0, exp_only, 2, &err), VS_E_VERIFY);
    ck_assert_msg(strstr(err.reason, "expired or revoked") != NULL, "%s", err.message);

    /* a malformed binding is a usage error naming it */
    const char *bad[] = { "DA9C0C8A6F1B5D2C" };
    ck_assert_int_eq(vs_verify_policy_check(ctx, VS_REQUIRE_GPG, bad, 1, &err), VS_E_USAGE);
    ck_assert_str_eq(err.subject, "DA9C0C8A6F1B5D2C");
    ck_assert_int_eq(vs_verify_policy_check(ctx, 8, NULL, 0, &err), VS_E_USAGE);
}
END_TEST

static void count_listings(vs_log_level level, const char *msg, void *payload)
{
    (void)level;
    if (strstr(msg, "trust store listed"))
        (*(int *)payload)++;
}

/* The check asks the context's trust store: listed once for many checks,
 * listed again when the store's files changed - here a key removed through
 * another context, as `vetstage keys remove` in another process does. */
START_TEST(policy_check_sees_removal)
{
    char vendor[VS_FPR_MAX], org[VS_FPR_MAX];
    import_fpr("vendor.asc", vendor);
    import_fpr("org.pub.pem", org);
    int listed = 0;
    vs_ctx_set_log(ctx, count_listings, VS_LOG_DEBUG, &listed);
    vs_error err = VS_ERROR_INIT;
    ck_assert_msg(vs_verify_policy_check(ctx, 0, NULL, 0, &err) == VS_OK, "%s", err.message);
    ck_assert_msg(vs_verify_policy_check(ctx, 0, NULL, 0, &err) == VS_OK, "%s", err.message);
    ck_assert_int_eq(listed, 1); /* the second check used what the context holds */

    vs_ctx *other = NULL;
    ck_assert_int_eq(vs_ctx_open(&other, home, &err), VS_OK);
    ck_assert_msg(vs_keys_remove(other, org, &err) == VS_OK, "%s", err.message);
    ck_assert_int_eq(vs_verify_policy_check(ctx, VS_REQUIRE_RSA, NULL, 0, &err), VS_E_VERIFY);
    ck_assert_msg(strstr(err.reason, "holds no RSA key") != NULL, "%s", err.message);
    ck_assert_int_eq(listed, 2);
    ck_assert_msg(vs_verify_policy_check(ctx, VS_REQUIRE_GPG, NULL, 0, &err) == VS_OK, "%s",
                  err.message);
    ck_assert_int_eq(listed, 2);

    /* an OpenPGP key removed: gpg rewrites the keyring, the stamp differs */
    ck_assert_msg(vs_keys_remove(other, vendor, &err) == VS_OK, "%s", err.message);
    ck_assert_int_eq(vs_verify_policy_check(ctx, VS_REQUIRE_GPG, NULL, 0, &err), VS_E_VERIFY);
    ck_assert_msg(strstr(err.reason, "holds no OpenPGP key") != NULL, "%s", err.message);
    ck_assert_int_eq(listed, 3);
    vs_ctx_free(other);
    vs_ctx_set_log(ctx, NULL, VS_LOG_ERROR, NULL);
}
END_TEST

static const vs_sig_result *first_of(const vs_verdict *v, vs_sig_kind k)
{
    for (size_t i = 0; v && i < v->nsigs; i++)
        if (v->sigs[i].kind == k)
            return &v->sigs[i];
    return NULL;
}

START_TEST(binding_in_verify)
{
    import("vendor.asc");
    import("org.pub.pem");
    import("other.asc");
    char vendor[VS_FPR_MAX], org[VS_FPR_MAX], other[VS_FPR_MAX], other_org[VS_FPR_MAX];
    import_fpr("other-org.pub.pem", other_org);
    fpr_of(vendor, "vendor");
    fpr_of(org, "org");
    fpr_of(other, "other");
    char pkg[1200];
    fix(pkg, sizeof pkg, "pkg/agent-1.2.3.tgz");
    vs_error err = VS_ERROR_INIT;
    vs_verdict *v = NULL;

    /* bound to the signers: trusted */
    const char *good[] = { vendor, org };
    vs_verify_opts o = VS_VERIFY_OPTS_INIT;
    o.keys = good;
    o.nkeys = 2;
    ck_assert_msg(vs_verify_package(&v, ctx, pkg, &o, &err) == VS_OK, "%s", err.message);
    ck_assert(v->trusted);
    vs_verdict_free(v);

    /* the vendor key is stored but the source is bound to another one */
    const char *wrong_gpg[] = { other, org };
    o.keys = wrong_gpg;
    v = NULL;
    ck_assert_int_eq(vs_verify_package(&v, ctx, pkg, &o, &err), VS_E_VERIFY);
    ck_assert_ptr_nonnull(v);
    ck_assert(!v->trusted);
    const vs_sig_result *g = first_of(v, VS_SIG_GPG);
    ck_assert_ptr_nonnull(g);
    ck_assert(!g->valid);
    ck_assert_int_eq(g->effect, VS_SIG_IGNORED);
    ck_assert_str_eq(g->fingerprint, vendor);
    ck_assert_msg(strstr(g->reason, "not bound to this source") != NULL, "%s", g->reason);
    ck_assert_msg(strstr(err.message, "not bound to this source") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.subject, "agent-1.2.3.tgz.asc") != NULL, "%s", err.subject);
    vs_verdict_free(v);

    /* the RSA approval made by a stored key the source is not bound to */
    const char *wrong_rsa[] = { vendor, other_org };
    o.keys = wrong_rsa;
    v = NULL;
    ck_assert_int_eq(vs_verify_package(&v, ctx, pkg, &o, &err), VS_E_VERIFY);
    const vs_sig_result *rr = first_of(v, VS_SIG_RSA);
    ck_assert_ptr_nonnull(rr);
    ck_assert_int_eq(rr->effect, VS_SIG_IGNORED);
    ck_assert_str_eq(rr->fingerprint, org);
    ck_assert_msg(strstr(rr->reason, "not bound to this source") != NULL, "%s", rr->reason);
    ck_assert(first_of(v, VS_SIG_GPG)->valid);
    vs_verdict_free(v);

    /* ... and with --require gpg the RSA one is only reported */
    o.require = VS_REQUIRE_GPG;
    v = NULL;
    ck_assert_msg(vs_verify_package(&v, ctx, pkg, &o, &err) == VS_OK, "%s", err.message);
    ck_assert(v->trusted);
    vs_verdict_free(v);
}
END_TEST

void vs_verify_policy_tests(Suite *s);
void vs_verify_policy_tests(Suite *s)
{
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, fpr_forms);
    tcase_add_test(tc, fpr_binding);
    tcase_add_loop_test(tc, decide_table, 0,
                        (int)(sizeof decide_cases / sizeof decide_cases[0]));
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("policy-home");
    tcase_set_timeout(th, 120);
    tcase_add_checked_fixture(th, home_setup, home_teardown);
    tcase_add_test(th, policy_check_store);
    tcase_add_test(th, policy_check_sees_removal);
    tcase_add_test(th, binding_in_verify);
    suite_add_tcase(s, th);
}
