/* tests/unit/stage/test_policy.c - the rules of a versioned stage as pure
 * functions (downgrade, rollback, --keep), and the provenance parser: tables,
 * no files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "stage/stage_int.h"

TCase *vs_tcase_stage_policy(void);

START_TEST(downgrade_rule)
{
    static const struct {
        const char *current, *version;
        bool allow;
        vs_status want;
    } t[] = {
        { NULL, "1.0", false, VS_OK },         /* nothing staged yet */
        { "1.0", "1.0", false, VS_OK },        /* the same version again */
        { "1.0", "1.1", false, VS_OK },        /* upgrade */
        { "1.10", "1.9", false, VS_E_POLICY }, /* numeric, not text */
        { "1.9", "1.10", false, VS_OK },
        { "2.0", "2.0~rc1", false, VS_E_POLICY },
        { "1.1", "1.0", true, VS_OK },         /* --allow-downgrade */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vs_error e = VS_ERROR_INIT;
        vs_status st = vs_stage_downgrade_rule("D", t[i].current, t[i].version, t[i].allow, &e);
        ck_assert_msg(st == t[i].want, "case %zu: %d", i, st);
        if (st) {
            ck_assert_str_eq(e.subject, "D");
            ck_assert_msg(strstr(e.reason, "older than the current") != NULL, "%s", e.reason);
        }
    }
}
END_TEST

START_TEST(rollback_rule)
{
    static const struct {
        const char *name;
        int64_t now, cur;
        const char *cur_name;
        bool allow;
        vs_status want;
    } t[] = {
        { "agent", 100, 200, "agent", false, VS_E_POLICY }, /* signed before current: replay */
        { "agent", 200, 200, "agent", false, VS_OK },       /* same second */
        { "agent", 300, 200, "agent", false, VS_OK },
        { "agent", 0, 200, "agent", false, VS_OK },         /* unknown time decides nothing */
        { "agent", 100, 0, "agent", false, VS_OK },
        { "agent", 100, 200, "other", false, VS_OK },       /* another package's tree */
        { "agent", 100, 200, "agent", true, VS_OK },        /* --allow-downgrade */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vs_stage_facts now = { t[i].name, "9.9", t[i].now };
        vs_stage_facts cur = { t[i].cur_name, "1.3.0", t[i].cur };
        vs_error e = VS_ERROR_INIT;
        vs_status st = vs_stage_rollback_rule("D", &now, &cur, t[i].allow, &e);
        ck_assert_msg(st == t[i].want, "case %zu: %d", i, st);
        if (st)
            ck_assert_msg(strstr(e.reason, "rollback refused") &&
                              strstr(e.reason, "before the current 1.3.0"),
                          "%s", e.reason);
    }
    vs_stage_facts now = { "agent", "9.9", 1 };
    ck_assert_int_eq(vs_stage_rollback_rule("D", &now, NULL, false, NULL), VS_OK);
}
END_TEST

START_TEST(prune_select)
{
    static const struct {
        const char *versions[6];
        size_t n;
        const char *current;
        unsigned keep;
        const char *removed; /* the versions marked, in input order, space-separated */
    } t[] = {
        { { "1.0", "1.1", "1.2" }, 3, "1.2", 2, "1.0" },
        { { "1.2", "1.10", "1.9" }, 3, "1.10", 1, "1.2 1.9" },
        { { "1.0", "1.1", "1.2" }, 3, "1.0", 1, "1.1" }, /* never the current one */
        { { "1.0", "1.1", "1.2" }, 3, "1.2", 0, "" },    /* 0: keep all */
        { { "1.0", "1.1" }, 2, "1.1", 5, "" },
        { { "2.0~rc1", "2.0", "1.9" }, 3, "2.0", 2, "1.9" },
        { { "1.0" }, 1, NULL, 1, "" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        bool rm[6];
        size_t count = vs_stage_prune_select(t[i].versions, t[i].n, t[i].current, t[i].keep, rm);
        char got[64] = "";
        size_t marked = 0;
        for (size_t k = 0; k < t[i].n; k++) {
            if (!rm[k])
                continue;
            if (marked++)
                strcat(got, " ");
            strcat(got, t[i].versions[k]);
        }
        ck_assert_msg(strcmp(got, t[i].removed) == 0, "case %zu: removed '%s'", i, got);
        ck_assert_uint_eq(count, marked);
    }
}
END_TEST

START_TEST(provenance_parser)
{
    static const char sha[] = "bbc617e65cee1c0e9f9eefbaf6cb553818f0ecbe4789857015c62d25b7946a81";
    static const struct {
        const char *json;
        vs_status want;
        int64_t signed_at;
    } t[] = {
        { "{\"name\":\"agent\",\"version\":\"1.0\",\"sha256\":\"%s\",\"signed\":"
          "\"2020-06-01T00:00:00Z\",\"signers\":[{\"type\":\"gpg\",\"fingerprint\":\"AB12\"}]}",
          VS_OK, 1590969600 },
        /* files that predate "signed": the newest gpg signer's time */
        { "{\"name\":\"agent\",\"version\":\"1.0\",\"sha256\":\"%s\",\"signers\":[{\"type\":"
          "\"gpg\",\"fingerprint\":\"AB\",\"created\":\"2020-06-01T00:00:00Z\"},{\"type\":"
          "\"rsa\",\"fingerprint\":\"sha256:ab\",\"created\":\"2021-01-01T00:00:00Z\"}]}",
          VS_OK, 1590969600 },
        { "{\"name\":\"agent\",\"version\":\"1.0\",\"sha256\":\"%s\",\"signed\":null}", VS_OK, 0 },
        /* what the old sscanf reader took and the strict time parser refuses */
        { "{\"name\":\"agent\",\"version\":\"1.0\",\"sha256\":\"%s\",\"signed\":"
          "\"2020-6-1T0:0:0Z\"}",
          VS_E_INTEGRITY, 0 },
        { "{\"name\":\"agent\",\"version\":\"1.0\",\"sha256\":\"%s\",\"signers\":[{\"type\":"
          "\"gpg\",\"fingerprint\":\"AB\",\"created\":\"2020-06-01T00:00:00+01\"}]}",
          VS_E_INTEGRITY, 0 },
        { "{\"name\":\"../x\",\"version\":\"1.0\",\"sha256\":\"%s\"}", VS_E_INTEGRITY, 0 },
        { "{\"name\":\"agent\",\"version\":\"1.0\",\"sha256\":\"zz\"}", VS_E_INTEGRITY, 0 },
        { "{\"name\":\"agent\",\"version\":\"1.0\",\"sha256\":\"%s\",\"signers\":[\"a b\"]}",
          VS_E_INTEGRITY, 0 },
        { "{\"name\":\"agent\",\"name\":\"b\",\"version\":\"1.0\",\"sha256\":\"%s\"}",
          VS_E_INTEGRITY, 0 },
        { "[1]", VS_E_INTEGRITY, 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, t[i].json, sha);
        vs_provenance p;
        vs_error e = VS_ERROR_INIT;
        vs_status st = vs_provenance_parse((const uint8_t *)buf, strlen(buf), "P", &p, &e);
        ck_assert_msg(st == t[i].want, "case %zu: %d %s", i, st, e.message);
        if (st == VS_OK) {
            ck_assert_str_eq(p.name, "agent");
            ck_assert_int_eq(p.signed_at, t[i].signed_at);
        } else {
            ck_assert_str_eq(e.subject, "P");
        }
    }
}
END_TEST

TCase *vs_tcase_stage_policy(void)
{
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, downgrade_rule);
    tcase_add_test(tc, rollback_rule);
    tcase_add_test(tc, prune_select);
    tcase_add_test(tc, provenance_parser);
    return tc;
}
