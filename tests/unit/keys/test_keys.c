/* tests/unit/keys - RSA parser cases, fingerprints, schemes, OpenPGP scan,
 * Wycheproof keys, and a store round trip. Fixtures from $VS_FIXTURES
 * (default $BUILD/fixtures, else build/fixtures), test data from $VS_DATA
 * (default tests/data). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "keys/keys_int.h"
#include "unit.h"

static const char *datadir(void)
{
    const char *e = getenv("VS_DATA");
    return e && *e ? e : "tests/data";
}

/* Read a fixture (test fails if missing). Caller frees. */
static uint8_t *fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", vs_test_fixdir(), name);
    uint8_t *b = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(vs_read_file(AT_FDCWD, path, VS_MAX_KEY_FILE, &b, len, &e) == VS_OK,
                  "fixture %s: %s (run make fixtures; set VS_FIXTURES)", path, e.message);
    return b;
}

static void init(void)
{
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_lib_init(&e), VS_OK);
}

static vs_status parse(const void *p, size_t len, char fpr[VS_FPR_MAX], unsigned *bits,
                       vs_error *e)
{
    gcry_sexp_t pub = NULL;
    vs_status st = vs_rsa_pubkey_parse(p, len, "KEYFILE", &pub, bits, fpr, NULL, NULL, e);
    if (st == VS_OK) {
        ck_assert_ptr_nonnull(pub);
        gcry_sexp_release(pub);
    } else {
        ck_assert_ptr_null(pub);
    }
    return st;
}

static char *read_trim(const char *name)
{
    size_t n;
    char *s = (char *)fixture(name, &n);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static char *org_fpr(void)
{
    return read_trim("org.fpr");
}

START_TEST(good_forms_same_fingerprint)
{
    init();
    static const char *const files[] = { "org.pub.pem", "org.pub.rsa.pem", "org.pub.der" };
    char *want = org_fpr();
    for (size_t i = 0; i < 3; i++) {
        size_t n;
        uint8_t *b = fixture(files[i], &n);
        char fpr[VS_FPR_MAX];
        unsigned bits = 0;
        vs_error e = VS_ERROR_INIT;
        ck_assert_msg(parse(b, n, fpr, &bits, &e) == VS_OK, "%s: %s", files[i], e.message);
        ck_assert_str_eq(fpr, want); /* = openssl pkey -pubout -outform DER | sha256sum */
        ck_assert_uint_eq(bits, 3072);
        free(b);
    }
    free(want);
}
END_TEST

/* A mutation of org.pub.der and the status it must get. */
typedef struct der_case {
    const char *what;
    vs_status want;
    const char *msg; /* part of the message, or NULL */
} der_case;

static uint8_t *mutate(int which, const uint8_t *d, size_t n, size_t *outn)
{
    uint8_t *m = malloc(n + 16);
    memcpy(m, d, n);
    *outn = n;
    switch (which) {
    case 0: /* trailing garbage */
        m[n] = 0x00;
        *outn = n + 1;
        break;
    case 1: /* truncated */
        *outn = n - 10;
        break;
    case 2: /* wrong OID: ...1.1.10 (RSASSA-PSS) instead of ...1.1.1 */
        ck_assert_uint_eq(m[16], 0x01);
        m[16] = 0x0a;
        break;
    case 3: /* even exponent 65538 (last 3 bytes 01 00 01 -> 01 00 02) */
        ck_assert_uint_eq(m[n - 1], 0x01);
        m[n - 1] = 0x02;
        break;
    case 4: /* non-canonical length: 30 82 01 a2 -> 30 83 00 01 a2 */
        ck_assert_uint_eq(m[1], 0x82);
        m[0] = 0x30;
        m[1] = 0x83;
        m[2] = 0x00;
        memcpy(m + 3, d + 2, n - 2);
        *outn = n + 1;
        break;
    case 5: /* parameters not NULL: 05 00 -> 04 00 (empty OCTET STRING) */
        ck_assert_uint_eq(m[17], 0x05);
        m[17] = 0x04;
        break;
    case 6: /* BIT STRING with unused bits */
        ck_assert_uint_eq(m[19], 0x03);
        ck_assert_uint_eq(m[23], 0x00);
        m[23] = 0x01;
        break;
    case 7: /* not DER at all, starts like a SEQUENCE */
        *outn = 2;
        break;
    default:
        break;
    }
    return m;
}

static const der_case der_cases[] = {
    { "trailing garbage", VS_E_USAGE, "DER" },
    { "truncated DER", VS_E_USAGE, "KEYFILE: " },
    { "wrong OID", VS_E_USAGE, "not an RSA key" },
    { "even exponent", VS_E_POLICY, "even" },
    { "non-canonical length", VS_E_USAGE, "KEYFILE: " },
    { "non-NULL parameters", VS_E_USAGE, "parameters" },
    { "unused bits", VS_E_USAGE, "unused bits" },
    { "short", VS_E_USAGE, "KEYFILE: " },
};

START_TEST(der_refusals)
{
    init();
    size_t n;
    uint8_t *d = fixture("org.pub.der", &n);
    int i = _i;
    size_t mn;
    uint8_t *m = mutate(i, d, n, &mn);
    char fpr[VS_FPR_MAX];
    unsigned bits;
    vs_error e = VS_ERROR_INIT;
    vs_status st = parse(m, mn, fpr, &bits, &e);
    ck_assert_msg(st == der_cases[i].want, "%s: got %d (%s)", der_cases[i].what, st, e.message);
    ck_assert_msg(strstr(e.message, der_cases[i].msg) != NULL, "%s: message '%s'",
                  der_cases[i].what, e.message);
    ck_assert_msg(strncmp(e.message, "KEYFILE: ", 9) == 0, "message names the file: %s",
                  e.message);
    ck_assert_ptr_null(strchr(e.message, '\n'));
    free(m);
    free(d);
}
END_TEST

START_TEST(absent_params_same_fingerprint)
{
    init();
    size_t n;
    uint8_t *d = fixture("org.pub.der", &n);
    /* 30 82 01 a2 | 30 0d 06 09 <oid> 05 00 | 03 ... -> drop 05 00 */
    ck_assert_uint_eq(d[4], 0x30);
    ck_assert_uint_eq(d[5], 0x0d);
    uint8_t *m = malloc(n);
    size_t total = ((size_t)d[2] << 8 | d[3]) - 2;
    m[0] = 0x30;
    m[1] = 0x82;
    m[2] = (uint8_t)(total >> 8);
    m[3] = (uint8_t)total;
    m[4] = 0x30;
    m[5] = 0x0b;
    memcpy(m + 6, d + 6, 11);
    memcpy(m + 17, d + 19, n - 19);
    char fpr[VS_FPR_MAX];
    unsigned bits;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(parse(m, n - 2, fpr, &bits, &e) == VS_OK, "%s", e.message);
    char *want = org_fpr();
    ck_assert_str_eq(fpr, want);
    free(want);
    free(m);
    free(d);
}
END_TEST

/* PEM cases built from org.pub.pem */
static char *pem_variant(int which, size_t *outn)
{
    size_t n;
    char *p = (char *)fixture(which >= 5 ? "org.pub.rsa.pem" : "org.pub.pem", &n);
    char *out = malloc(n + 64);
    switch (which) {
    case 0: /* junk after END */
        *outn = (size_t)snprintf(out, n + 64, "%sjunk\n", p);
        break;
    case 1: /* junk before BEGIN */
        *outn = (size_t)snprintf(out, n + 64, "hello\n%s", p);
        break;
    case 2: { /* bad base64 character inside */
        memcpy(out, p, n + 1);
        char *body = strchr(out, '\n') + 1;
        body[5] = '*';
        *outn = n;
        break;
    }
    case 3: { /* wrong label */
        const char *b = "-----BEGIN CERTIFICATE-----";
        memcpy(out, b, strlen(b));
        memcpy(out + strlen(b), strchr(p, '\n'), strlen(strchr(p, '\n')) + 1);
        *outn = strlen(out);
        break;
    }
    case 4: { /* END label differs from BEGIN */
        memcpy(out, p, n + 1);
        char *end = strstr(out, "-----END PUBLIC KEY-----");
        memcpy(end, "-----END PUBLIC KEX-----", 24);
        *outn = n;
        break;
    }
    case 5: { /* PKCS#1 body with a blank line inside */
        char *nl = strchr(p, '\n');
        size_t head = (size_t)(nl - p) + 1;
        memcpy(out, p, head);
        char *nl2 = strchr(nl + 1, '\n');
        size_t l2 = (size_t)(nl2 - nl);
        memcpy(out + head, nl + 1, l2);
        out[head + l2] = '\n';
        memcpy(out + head + l2 + 1, nl2 + 1, n - (size_t)(nl2 + 1 - p) + 1);
        *outn = strlen(out);
        break;
    }
    default: { /* non-zero padding bits: last base64 char before '=' altered */
        memcpy(out, p, n + 1);
        char *eq = strchr(out, '=');
        *outn = n;
        if (eq) {
            char c = eq[-1];
            eq[-1] = c == 'A' ? 'B' : c == 'Q' ? 'R' : c == 'g' ? 'h' : c == 'w' ? 'x' : 'A';
            if (c != 'A' && c != 'Q' && c != 'g' && c != 'w')
                eq[-1] = (char)(c + 1);
        }
        break;
    }
    }
    free(p);
    return out;
}

START_TEST(pem_refusals)
{
    init();
    size_t n;
    char *v = pem_variant(_i, &n);
    char fpr[VS_FPR_MAX];
    unsigned bits;
    vs_error e = VS_ERROR_INIT;
    vs_status st = parse(v, n, fpr, &bits, &e);
    if (_i == 6 && !strchr(v, '=')) {
        /* no padding in this key's base64: nothing to test */
        free(v);
        return;
    }
    ck_assert_msg(st == VS_E_USAGE, "case %d: got %d (%s)", _i, st, e.message);
    ck_assert_msg(strncmp(e.message, "KEYFILE: ", 9) == 0, "%s", e.message);
    free(v);
}
END_TEST

/* ---- SPKI built by hand from INTEGER contents (allows bad encodings) ---- */

static size_t put_tl(uint8_t *p, uint8_t tag, size_t len)
{
    p[0] = tag;
    if (len < 0x80) {
        p[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xff) {
        p[1] = 0x81;
        p[2] = (uint8_t)len;
        return 3;
    }
    p[1] = 0x82;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    return 4;
}

static size_t tl_len(size_t len)
{
    return len < 0x80 ? 2 : len <= 0xff ? 3 : 4;
}

/* n and e are INTEGER contents exactly as they will appear */
static uint8_t *build_spki(const uint8_t *n, size_t nl, const uint8_t *e, size_t el, size_t *out)
{
    size_t seq = tl_len(nl) + nl + tl_len(el) + el;
    size_t bits = 1 + tl_len(seq) + seq;
    static const uint8_t alg[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                   0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
    size_t total = sizeof alg + tl_len(bits) + bits;
    uint8_t *b = malloc(tl_len(total) + total);
    size_t o = put_tl(b, 0x30, total);
    memcpy(b + o, alg, sizeof alg);
    o += sizeof alg;
    o += put_tl(b + o, 0x03, bits);
    b[o++] = 0;
    o += put_tl(b + o, 0x30, seq);
    o += put_tl(b + o, 0x02, nl);
    memcpy(b + o, n, nl);
    o += nl;
    o += put_tl(b + o, 0x02, el);
    memcpy(b + o, e, el);
    o += el;
    *out = o;
    return b;
}

typedef struct int_case {
    const char *what;
    size_t nbytes;   /* modulus magnitude bytes */
    int tweak;       /* 0 none, 1 leading 00 extra, 2 negative, 3 even n, 4 e >= n */
    uint32_t e;
    vs_status want;
    const char *msg;
} int_case;

static const int_case int_cases[] = {
    { "2048-bit, e=65537", 256, 0, 65537, VS_OK, NULL },
    { "16384-bit (the maximum)", 2048, 0, 65537, VS_OK, NULL },
    { "over VS_MAX_RSA_BITS", 2049, 0, 65537, VS_E_USAGE, "over the limit" },
    { "2040-bit", 255, 0, 65537, VS_E_POLICY, "below the minimum" },
    { "redundant leading zero", 256, 1, 65537, VS_E_USAGE, "canonical" },
    { "negative modulus", 256, 2, 65537, VS_E_USAGE, "negative" },
    { "even modulus", 256, 3, 65537, VS_E_USAGE, "even" },
    { "e = 1", 256, 0, 1, VS_E_POLICY, "below 65537" },
    { "e = 65535", 256, 0, 65535, VS_E_POLICY, "below 65537" },
    { "e = 65536 (even)", 256, 0, 65536, VS_E_POLICY, "even" },
    { "e = 2^32+1", 256, 0, 0, VS_OK, NULL },
    { "e >= n", 256, 4, 65537, VS_E_USAGE, "not smaller" },
};

START_TEST(integer_cases)
{
    init();
    const int_case *c = &int_cases[_i];
    uint8_t *n = malloc(c->nbytes + 2);
    size_t nl = 0;
    if (c->tweak == 1)
        n[nl++] = 0x00; /* a second, redundant zero below */
    n[nl++] = 0x00;     /* the sign byte: top bit of the magnitude is set */
    for (size_t i = 0; i < c->nbytes; i++)
        n[nl++] = (uint8_t)(i == 0 ? 0xc3 : 0x5a ^ (uint8_t)i);
    n[nl - 1] |= 1;
    if (c->tweak == 2)
        memmove(n, n + 1, --nl); /* drop the sign byte: negative */
    if (c->tweak == 3)
        n[nl - 1] &= 0xfe;
    uint8_t e[8];
    size_t el = 0;
    if (c->tweak == 4) {
        memcpy(e, "\x00\xff\xff\xff\xff\xff\xff\xff", 8);
        el = 8;
        /* e > n needs a tiny n: use 8-byte e against a modulus of nbytes... */
        free(n);
        n = malloc(4);
        memcpy(n, "\x00\xc3\x00\x01", 4);
        nl = 4;
    } else if (c->e == 0) {
        memcpy(e, "\x01\x00\x00\x00\x01", 5);
        el = 5;
    } else {
        uint32_t v = c->e;
        uint8_t tmp[5];
        size_t k = 0;
        while (v) {
            tmp[k++] = (uint8_t)v;
            v >>= 8;
        }
        if (tmp[k - 1] & 0x80)
            e[el++] = 0;
        while (k)
            e[el++] = tmp[--k];
    }
    size_t len;
    uint8_t *der = build_spki(n, nl, e, el, &len);
    char fpr[VS_FPR_MAX];
    unsigned bits = 0;
    vs_error err = VS_ERROR_INIT;
    vs_status st = parse(der, len, fpr, &bits, &err);
    ck_assert_msg(st == c->want, "%s: got %d (%s)", c->what, st, err.message);
    if (c->msg)
        ck_assert_msg(strstr(err.message, c->msg) != NULL, "%s: message '%s'", c->what,
                      err.message);
    else
        ck_assert_uint_eq(bits, c->nbytes * 8);
    free(der);
    free(n);
}
END_TEST

START_TEST(weak_keys_policy)
{
    init();
    static const char *const files[] = { "weak1024.pub.pem", "exp3.pub.pem" };
    static const char *const why[] = { "1024 bits", "below 65537" };
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        uint8_t *b = fixture(files[i], &n);
        char fpr[VS_FPR_MAX];
        unsigned bits;
        vs_error e = VS_ERROR_INIT;
        ck_assert_int_eq(parse(b, n, fpr, &bits, &e), VS_E_POLICY);
        ck_assert_msg(strstr(e.message, why[i]), "%s", e.message);
        /* the lax decoder reads it and says why it is weak */
        gcry_sexp_t pub = NULL;
        vs_rsa_weakness w;
        ck_assert_int_eq(vs_rsa_pubkey_decode(b, n, "x", &pub, &bits, fpr, NULL, NULL, &w, &e),
                         VS_OK);
        ck_assert_int_eq(w, i == 0 ? VS_RSA_WEAK_BITS : VS_RSA_WEAK_SMALL_EXPONENT);
        gcry_sexp_release(pub);
        free(b);
    }
}
END_TEST

START_TEST(garbage_and_limits)
{
    init();
    char fpr[VS_FPR_MAX];
    unsigned bits;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(parse("hello world\n", 12, fpr, &bits, &e), VS_E_USAGE);
    ck_assert_int_eq(parse("", 0, fpr, &bits, &e), VS_E_USAGE);
    ck_assert_int_eq(parse("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", 52, fpr,
                           &bits, &e),
                     VS_E_USAGE);
    size_t big = VS_MAX_KEY_FILE + 1;
    uint8_t *b = calloc(1, big);
    b[0] = 0x30;
    ck_assert_int_eq(parse(b, big, fpr, &bits, &e), VS_E_USAGE);
    free(b);
}
END_TEST

START_TEST(scheme_names)
{
    static const char *const names[] = { "pkcs1-sha256", "pkcs1-sha384", "pkcs1-sha512",
                                         "pss-sha256",   "pss-sha384",   "pss-sha512" };
    for (int i = 0; i < 6; i++) {
        vs_rsa_scheme s;
        vs_error e = VS_ERROR_INIT;
        ck_assert_int_eq(vs_rsa_scheme_parse(&s, names[i], &e), VS_OK);
        ck_assert_int_eq(s, i);
        ck_assert_str_eq(vs_rsa_scheme_name(s), names[i]);
    }
    vs_rsa_scheme s;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_rsa_scheme_parse(&s, "bogus", &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "bogus"));
    ck_assert_int_eq(vs_rsa_scheme_parse(&s, "PKCS1-SHA256", &e), VS_E_USAGE);
    ck_assert_int_eq(vs_rsa_scheme_parse(&s, NULL, &e), VS_E_USAGE);
    ck_assert_int_eq(VS_RSA_PKCS1_SHA256, 0); /* the default is zero */
}
END_TEST

START_TEST(pgp_scan_cases)
{
    init();
    vs_pgp_scan s;
    vs_error e = VS_ERROR_INIT;
    size_t n;
    uint8_t *b = fixture("vendor.asc", &n);
    ck_assert_int_eq(vs_keys_pgp_scan(b, n, "v", true, &s, &e), VS_OK);
    ck_assert_uint_eq(s.npublic, 1);
    ck_assert_uint_eq(s.nsecret, 0);
    free(b);
    b = fixture("vendor.gpg", &n);
    ck_assert_int_eq(vs_keys_pgp_scan(b, n, "v", false, &s, &e), VS_OK);
    ck_assert_uint_eq(s.npublic, 1);
    /* truncated binary */
    ck_assert_int_eq(vs_keys_pgp_scan(b, n - 3, "v.gpg", false, &s, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "v.gpg: not a public key"));
    free(b);
    b = fixture("vendor-secret.asc", &n);
    ck_assert_int_eq(vs_keys_pgp_scan(b, n, "sec", true, &s, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "secret"));
    free(b);
    b = fixture("revoked.rev", &n);
    ck_assert_int_eq(vs_keys_pgp_scan(b, n, "rev", true, &s, &e), VS_OK);
    ck_assert_uint_eq(s.npublic, 0);
    ck_assert_uint_eq(s.nrevocations, 1);
    free(b);
    char *rf = read_trim("revoked.fpr");
    ck_assert_str_eq(s.issuer, rf);
    free(rf);
    /* an armor whose checksum does not match */
    b = fixture("vendor.asc", &n);
    char *crc = strstr((char *)b, "\n=");
    ck_assert_ptr_nonnull(crc);
    crc[2] = crc[2] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(vs_keys_pgp_scan(b, n, "v", true, &s, &e), VS_E_USAGE);
    free(b);
    /* signatures that are not revocations */
    b = fixture("pkg/agent-1.2.3.tgz.gpgbin", &n);
    ck_assert_int_eq(vs_keys_pgp_scan(b, n, "sig", false, &s, &e), VS_E_USAGE);
    free(b);
}
END_TEST

/* Every Wycheproof group's key decodes; e = 65537 keys also pass the policy. */
START_TEST(wycheproof_keys)
{
    init();
    static const char *const files[] = {
        "rsa_pss_2048_sha256_mgf1_32_test.json", "rsa_pss_2048_sha384_mgf1_48_test.json",
        "rsa_pss_3072_sha256_mgf1_32_test.json", "rsa_pss_4096_sha256_mgf1_32_test.json",
        "rsa_pss_4096_sha512_mgf1_64_test.json", "rsa_signature_2048_sha256_test.json",
        "rsa_signature_2048_sha384_test.json",   "rsa_signature_2048_sha512_test.json",
        "rsa_signature_3072_sha256_test.json",   "rsa_signature_4096_sha256_test.json",
        "rsa_signature_4096_sha512_test.json",
    };
    size_t groups = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/wycheproof/%s", datadir(), files[f]);
        json_error_t je;
        json_t *root = json_load_file(path, 0, &je);
        ck_assert_msg(root != NULL, "%s: %s", path, je.text);
        json_t *tg = json_object_get(root, "testGroups");
        size_t gi;
        json_t *g;
        json_array_foreach(tg, gi, g)
        {
            const char *hex = json_string_value(json_object_get(g, "publicKeyDer"));
            const char *pem = json_string_value(json_object_get(g, "publicKeyPem"));
            ck_assert_ptr_nonnull(hex);
            size_t hl = strlen(hex);
            uint8_t *der = malloc(hl / 2 + 1);
            ck_assert(vs_unhex(der, hl / 2, hex, hl));
            gcry_sexp_t pub = NULL;
            unsigned bits;
            char fpr[VS_FPR_MAX], fpr2[VS_FPR_MAX];
            vs_rsa_weakness w;
            vs_error e = VS_ERROR_INIT;
            ck_assert_msg(vs_rsa_pubkey_decode(der, hl / 2, files[f], &pub, &bits, fpr, NULL,
                                               NULL, &w, &e) == VS_OK,
                          "%s group %zu: %s", files[f], gi, e.message);
            gcry_sexp_release(pub);
            ck_assert_uint_ge(bits, 2048);
            /* canonical input: the fingerprint is the hash of the input */
            uint8_t d[32];
            gcry_md_hash_buffer(GCRY_MD_SHA256, d, der, hl / 2);
            char want[VS_FPR_MAX] = "sha256:";
            vs_hex(want + 7, d, 32);
            ck_assert_str_eq(fpr, want);
            const char *ehex = json_string_value(
                json_object_get(json_object_get(g, "publicKey"), "publicExponent"));
            bool f4 = ehex && strcmp(ehex, "010001") == 0;
            vs_status st = vs_rsa_pubkey_parse(der, hl / 2, files[f], &pub, &bits, fpr2, NULL,
                                               NULL, &e);
            ck_assert_int_eq(st, f4 ? VS_OK : VS_E_POLICY);
            ck_assert_int_eq(w, f4 ? VS_RSA_STRONG : VS_RSA_WEAK_SMALL_EXPONENT);
            gcry_sexp_release(pub);
            if (pem) {
                ck_assert_int_eq(vs_rsa_pubkey_decode((const uint8_t *)pem, strlen(pem),
                                                      files[f], &pub, &bits, fpr2, NULL, NULL, &w,
                                                      &e),
                                 VS_OK);
                gcry_sexp_release(pub);
                ck_assert_str_eq(fpr2, fpr);
            }
            free(der);
            groups++;
        }
        json_decref(root);
    }
    ck_assert_uint_ge(groups, 11);
}
END_TEST

static void rm_rf(const char *path)
{
    vs_remove_tree(AT_FDCWD, path, NULL);
}

/* import -> list -> load_all -> remove, through the library, in a temp home */
START_TEST(store_round_trip)
{
    init();
    char home[] = "/tmp/vs-unit-keys-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(home));
    vs_ctx *ctx = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_ctx_open(&ctx, home, &e), VS_OK);
    char pem[1024], asc[1024], weak[1024];
    snprintf(pem, sizeof pem, "%s/org.pub.pem", vs_test_fixdir());
    snprintf(asc, sizeof asc, "%s/vendor.asc", vs_test_fixdir());
    snprintf(weak, sizeof weak, "%s/weak1024.pub.pem", vs_test_fixdir());
    const char *files[] = { asc, pem };
    vs_keys_import_opts o = VS_KEYS_IMPORT_OPTS_INIT;
    o.rsa_scheme = VS_RSA_PSS_SHA384;
    vs_key_info *v = NULL;
    size_t n = 0;
    ck_assert_msg(vs_keys_import(&v, &n, ctx, files, 2, &o, &e) == VS_OK, "%s", e.message);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(v[0].type, VS_KEY_OPENPGP);
    ck_assert_int_eq(v[1].type, VS_KEY_RSA);
    ck_assert_int_eq(v[1].scheme, VS_RSA_PSS_SHA384);
    vs_key_info_free(v);
    /* all or nothing: a weak key last refuses the whole import */
    const char *files2[] = { pem, weak };
    ck_assert_int_eq(vs_keys_import(&v, &n, ctx, files2, 2, NULL, &e), VS_E_POLICY);

    vs_rsa_key *rk = NULL;
    ck_assert_int_eq(vs_keys_rsa_load_all(ctx, &rk, &n, &e), VS_OK);
    ck_assert_uint_eq(n, 1);
    char *want = org_fpr();
    ck_assert_str_eq(rk[0].fingerprint, want);
    ck_assert_int_eq(rk[0].scheme, VS_RSA_PSS_SHA384);
    ck_assert_uint_eq(rk[0].bits, 3072);
    ck_assert_ptr_nonnull(rk[0].pub);
    vs_rsa_keys_free(rk, n);

    ck_assert_int_eq(vs_keys_list(&v, &n, ctx, &e), VS_OK);
    ck_assert_uint_eq(n, 2);
    vs_key_info_free(v);

    gpgme_ctx_t g = NULL;
    ck_assert_int_eq(vs_keys_gpgme_open(ctx, &g, &e), VS_OK);
    gpgme_release(g);
    char *gh = vs_keys_gnupg_home(ctx);
    ck_assert_ptr_nonnull(strstr(gh, "/trust/gnupg"));
    free(gh);

    /* a damaged RSA file is noticed (exit 6), never trusted */
    char path[1200];
    snprintf(path, sizeof path, "%s/trust/rsa/%s.pem", home, want + 7);
    FILE *f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    fseek(f, 60, SEEK_SET);
    fputc('Z', f);
    fputc('Z', f);
    fclose(f);
    ck_assert_int_eq(vs_keys_rsa_load_all(ctx, &rk, &n, &e), VS_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(e.message, path));

    ck_assert_int_eq(vs_keys_remove(ctx, want, &e), VS_OK);
    ck_assert_int_eq(vs_keys_remove(ctx, want, &e), VS_E_USAGE);
    ck_assert_int_eq(vs_keys_remove(ctx, "nonsense", &e), VS_E_USAGE);
    free(want);
    vs_ctx_free(ctx);
    rm_rf(home);
}
END_TEST

/* ---- fingerprints as people paste them (fpr.c) ------------------------------------ */

static const struct {
    const char *in;
    vs_key_type type;
    const char *out;
} fpr_cases[] = {
    { "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "27edeaf22f3abceb50db9a125cc908fdb71e12c2", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "0x27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "0X27edEAF22F3ABCEB50DB9A125CC908FDB71E12C2", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "27ED EAF2 2F3A BCEB 50DB  9A12 5CC9 08FD B71E 12C2", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "      27ED EAF2 2F3A BCEB 50DB  9A12 5CC9 08FD B71E 12C2\n", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "27ed eaf2 2f3a bceb 50db 9a12 5cc9 08fd b71e 12c2", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "0x27ED EAF2 2F3A BCEB 50DB  9A12 5CC9 08FD B71E 12C2", VS_KEY_OPENPGP, "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2" },
    { "sha256:2EA62D80D06C0671377860F45F7D5779E103B05D098F9D26EB4015DA6DA991A6", VS_KEY_RSA, "sha256:2ea62d80d06c0671377860f45f7d5779e103b05d098f9d26eb4015da6da991a6" },
    { "SHA256:2ea62d80d06c0671377860f45f7d5779e103b05d098f9d26eb4015da6da991a6", VS_KEY_RSA, "sha256:2ea62d80d06c0671377860f45f7d5779e103b05d098f9d26eb4015da6da991a6" },
    /* refused */
    { "", 0, "" },
    { "5CC908FDB71E12C2", 0, "" },                                  /* long key id */
    { "0x5CC908FDB71E12C2", 0, "" },
    { "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C", 0, "" },           /* 39 */
    { "27EDEAF22F3ABCEB50DB9A125CC908FDB71E12C2A", 0, "" },         /* 41 */
    { "27ED EAF2 2F3A BCEB 50DB   9A12 5CC9 08FD B71E 12C2", 0, "" }, /* three spaces */
    { "27E DEAF2 2F3A BCEB 50DB 9A12 5CC9 08FD B71E 12C2", 0, "" },  /* group split wrongly */
    { "27EDEAF2 2F3ABCEB 50DB9A12 5CC908FD B71E12C2", 0, "" },       /* groups of eight */
    { "27ED\tEAF2 2F3A BCEB 50DB 9A12 5CC9 08FD B71E 12C2", 0, "" }, /* tab inside */
    { "27ED EAF2 2F3A BCEB 50DB 9A12 5CC9 08FD B71E 12C2 0000", 0, "" },
    { "0x 27ED EAF2 2F3A BCEB 50DB 9A12 5CC9 08FD B71E 12C2", 0, "" },
    { "GGEDEAF22F3ABCEB50DB9A125CC908FDB71E12C2", 0, "" },
    { "sha256:2ea62d80", 0, "" },
    { "sha256: 2ea62d80d06c0671377860f45f7d5779e103b05d098f9d26eb4015da6da991a6", 0, "" },
    { "0xsha256:2ea62d80d06c0671377860f45f7d5779e103b05d098f9d26eb4015da6da991a6", 0, "" },
};

START_TEST(fingerprint_spellings)
{
    char out[VS_FPR_MAX];
    vs_key_type t = vs_keys_fpr_normalise(fpr_cases[_i].in, out);
    ck_assert_msg(t == fpr_cases[_i].type, "case %d '%s': type %d, want %d", _i, fpr_cases[_i].in,
                  (int)t, (int)fpr_cases[_i].type);
    ck_assert_str_eq(out, fpr_cases[_i].out);
    vs_error e = VS_ERROR_INIT;
    vs_key_type t2 = 0;
    vs_status st = vs_keys_fpr_parse(fpr_cases[_i].in, "--expect-fingerprint", out, &t2, &e);
    ck_assert_int_eq(st, t ? VS_OK : VS_E_USAGE);
    if (!t) {
        ck_assert_msg(e.hint[0] != '\0', "a refused fingerprint carries a hint");
        ck_assert_msg(strstr(e.reason, "--expect-fingerprint") != NULL, "%s", e.reason);
    }
}
END_TEST

START_TEST(fingerprint_key_id_told_apart)
{
    char out[VS_FPR_MAX];
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_keys_fpr_parse("5CC9 08FD B71E 12C2", "x", out, NULL, &e), VS_E_USAGE);
    ck_assert_msg(strstr(e.reason, "a key id, not a fingerprint") != NULL, "%s", e.reason);
    ck_assert_str_eq(e.subject, "5CC9 08FD B71E 12C2");
    ck_assert_int_eq(vs_keys_fpr_normalise(NULL, out), 0);
}
END_TEST

/* ---- which keys an import takes (select.c, no files) --------------------------------- */

#define FA "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define FB "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define FC "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
#define FS "5555555555555555555555555555555555555555"

static void cand(vs_key_cand *k, const char *fpr, size_t file, const char *weak)
{
    memset(k, 0, sizeof *k);
    k->info.type = VS_KEY_OPENPGP;
    snprintf(k->info.fingerprint, sizeof k->info.fingerprint, "%s", fpr);
    k->file = file;
    if (weak) {
        snprintf(k->refusal, sizeof k->refusal, "%s", weak);
        k->refusal_st = VS_E_POLICY;
    }
}

START_TEST(select_named_keys)
{
    static const char *const files[] = { "one.asc", "two.asc" };
    static char sub[1][41] = { FS };
    vs_key_cand c[4];
    cand(&c[0], FA, 0, "1024-bit DSA primary key");
    cand(&c[1], FB, 0, NULL);
    c[1].sub = sub;
    c[1].nsub = 1;
    cand(&c[2], FC, 1, NULL);
    cand(&c[3], FB, 1, NULL); /* the same key in the second file */
    vs_error e = VS_ERROR_INIT;
    /* nothing named: the weak key refuses, with a hint naming --expect-fingerprint */
    ck_assert_int_eq(vs_keys_select(c, 4, files, 2, NULL, 0, &e), VS_E_POLICY);
    ck_assert_str_eq(e.subject, "one.asc");
    ck_assert_msg(strstr(e.hint, "--expect-fingerprint") && strstr(e.hint, "2 keys"), "%s", e.hint);
    /* B named: B taken once, A and C skipped, A's note says both reasons */
    char ex[2][VS_FPR_MAX] = { FB, FC };
    vs_error_clear(&e);
    ck_assert_int_eq(vs_keys_select(c, 4, files, 2, (const char(*)[VS_FPR_MAX])ex, 1, &e), VS_OK);
    ck_assert(!c[0].selected && c[0].info.status == VS_KEY_SKIPPED);
    ck_assert_msg(strstr(c[0].info.note, "not named") && strstr(c[0].info.note, "DSA"), "%s",
                  c[0].info.note);
    ck_assert(c[1].selected && !c[1].dup);
    ck_assert(!c[2].selected && strcmp(c[2].info.note, "not named") == 0);
    ck_assert(c[3].dup && !c[3].selected);
    /* B and C named: both, across files */
    ck_assert_int_eq(vs_keys_select(c, 4, files, 2, (const char(*)[VS_FPR_MAX])ex, 2, &e), VS_OK);
    ck_assert(c[1].selected && c[2].selected && !c[0].selected);
    /* the weak key named: refused, no hint (the user asked for it) */
    char exa[1][VS_FPR_MAX] = { FA };
    vs_error_clear(&e);
    ck_assert_int_eq(vs_keys_select(c, 4, files, 2, (const char(*)[VS_FPR_MAX])exa, 1, &e),
                     VS_E_POLICY);
    ck_assert_str_eq(e.hint, "");
    /* a name in no file: exit 3, the subject is the fingerprint */
    char exn[1][VS_FPR_MAX] = { "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD" };
    ck_assert_int_eq(vs_keys_select(c, 4, files, 2, (const char(*)[VS_FPR_MAX])exn, 1, &e),
                     VS_E_VERIFY);
    ck_assert_str_eq(e.subject, exn[0]);
    ck_assert_msg(strstr(e.reason, "none of the 2 files"), "%s", e.reason);
    /* a subkey named: told apart, the hint names the primary key */
    char exs[1][VS_FPR_MAX] = { FS };
    ck_assert_int_eq(vs_keys_select(c, 4, files, 2, (const char(*)[VS_FPR_MAX])exs, 1, &e),
                     VS_E_VERIFY);
    ck_assert_msg(strstr(e.reason, "a subkey of " FB), "%s", e.reason);
    ck_assert_msg(strstr(e.hint, FB), "%s", e.hint);
}
END_TEST

START_TEST(select_without_names)
{
    static const char *const files[] = { "a.asc", "weak.pem" };
    vs_key_cand c[3];
    cand(&c[0], FA, 0, NULL);
    cand(&c[1], FB, 0, NULL);
    cand(&c[2], "sha256:0000000000000000000000000000000000000000000000000000000000000000", 1,
         "RSA key of 1024 bits is below the minimum of 2048");
    c[2].info.type = VS_KEY_RSA;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_keys_select(c, 2, files, 2, NULL, 0, &e), VS_OK);
    ck_assert(c[0].selected && c[1].selected);
    /* a single weak key: refused, no hint (one key in its file) */
    ck_assert_int_eq(vs_keys_select(c, 3, files, 2, NULL, 0, &e), VS_E_POLICY);
    ck_assert_str_eq(e.subject, "weak.pem");
    ck_assert_str_eq(e.hint, "");
    ck_assert_msg(strstr(e.message, "weak.pem: RSA key of 1024 bits"), "%s", e.message);
    /* a key gpg could not read: its own status */
    cand(&c[1], FB, 0, "gpg did not import it");
    c[1].refusal_st = VS_E_USAGE;
    ck_assert_int_eq(vs_keys_select(c, 2, files, 2, NULL, 0, &e), VS_E_USAGE);
    /* no key at all in the files and a name: not found */
    char ex[1][VS_FPR_MAX] = { FA };
    ck_assert_int_eq(vs_keys_select(c, 0, files, 1, (const char(*)[VS_FPR_MAX])ex, 1, &e),
                     VS_E_VERIFY);
    ck_assert_msg(strstr(e.reason, "it holds no key"), "%s", e.reason);
}
END_TEST

/* ---- the commit record (commit.c) ------------------------------------------------------- */

START_TEST(commit_record_parse)
{
    static const char good[] = "vetstage-trust-commit 1\n"
                               "rsa .tmp-0011223344556677 "
                               "2ea62d80d06c0671377860f45f7d5779e103b05d098f9d26eb4015da6da991a6.pem\n"
                               "gnupg tmp-0123456789ab\n";
    vs_keys_commit c;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_keys_commit_parse((const uint8_t *)good, sizeof good - 1, &c, &e), VS_OK);
    ck_assert_uint_eq(c.nrsa, 1);
    ck_assert_str_eq(c.rsa_tmp[0], ".tmp-0011223344556677");
    ck_assert_str_eq(c.gnupg_tmp, "tmp-0123456789ab");
    vs_keys_commit_free(&c);
    static const char *const bad[] = {
        "",
        "vetstage-trust-commit 2\n",
        "vetstage-trust-commit 1\nrsa ../x 2ea62d80d06c0671377860f45f7d5779e103b05d098f9d26eb4015da6da991a6.pem\n",
        "vetstage-trust-commit 1\nrsa .tmp-0011223344556677 ../../etc/passwd\n",
        "vetstage-trust-commit 1\ngnupg ../gnupg\n",
        "vetstage-trust-commit 1\ngnupg tmp-0123456789ab\ngnupg tmp-0123456789ab\n",
        "vetstage-trust-commit 1\nrm -rf /\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(vs_keys_commit_parse((const uint8_t *)bad[i], strlen(bad[i]), &c, &e) ==
                          VS_E_INTEGRITY,
                      "bad record %zu accepted", i);
        ck_assert_str_eq(e.subject, "trust/commit");
    }
}
END_TEST

/* The key-states file: only our exact form under the exact head counts. */
START_TEST(keystate_parse_cases)
{
    static const char head[] = "vetstage-keystate 1\nfile rsa 1 2 3 4.000000005 6.000000007 40700\n";
    const size_t hl = sizeof head - 1;
    static const char fpr[] = "0EB70907181FAFC1E665F77DD387CE6E066CE6EB";
    static const char rsa[] =
        "sha256:04fae88dfa75341e3d0e1035a16365f69a2b766ea0682608f16160ab5f5044e2";
    char text[1024];
    vs_key_state *v = NULL;
    size_t n = 99;
    /* good: two keys, one revoked; and no key at all */
    snprintf(text, sizeof text, "%skey %s valid\nkey %s revoked\n", head, fpr, rsa);
    ck_assert(vs_keystate_parse((const uint8_t *)text, strlen(text), head, hl, &v, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[0].fingerprint, fpr);
    ck_assert(!v[0].revoked);
    ck_assert_str_eq(v[1].fingerprint, rsa);
    ck_assert(v[1].revoked);
    free(v);
    /* a subkey line: the subkey, its key, its state; written back the same */
    static const char sub[] = "1111111111111111111111111111111111111111";
    snprintf(text, sizeof text, "%skey %s valid\nsub %s %s revoked\n", head, fpr, sub, fpr);
    ck_assert(vs_keystate_parse((const uint8_t *)text, strlen(text), head, hl, &v, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[1].fingerprint, sub);
    ck_assert_str_eq(v[1].primary, fpr);
    ck_assert(v[1].revoked);
    char line[256];
    ck_assert_int_gt(vs_keystate_line(line, sizeof line, &v[1]), 0);
    ck_assert_ptr_nonnull(strstr(text, line));
    free(v);
    /* refused: a subkey of itself, an RSA "subkey", a missing key field */
    snprintf(text, sizeof text, "%ssub %s %s valid\n", head, fpr, fpr);
    ck_assert(!vs_keystate_parse((const uint8_t *)text, strlen(text), head, hl, &v, &n));
    snprintf(text, sizeof text, "%ssub %s %s valid\n", head, rsa, fpr);
    ck_assert(!vs_keystate_parse((const uint8_t *)text, strlen(text), head, hl, &v, &n));
    snprintf(text, sizeof text, "%ssub %s valid\n", head, sub);
    ck_assert(!vs_keystate_parse((const uint8_t *)text, strlen(text), head, hl, &v, &n));
    ck_assert(vs_keystate_parse((const uint8_t *)head, hl, head, hl, &v, &n));
    ck_assert_uint_eq(n, 0);
    free(v);
    /* refused: another stamp, a cut line, lower-case OpenPGP hex, a key id,
     * another word, a blank, trailing text, a NUL, an empty file */
    static const char *const bad[] = {
        "vetstage-keystate 1\nfile rsa 1 2 3 4.000000005 6.000000008 40700\nkey %s valid\n",
        "%skey %s valid",
        "%skey 0eb70907181fafc1e665f77dd387ce6e066ce6eb valid\n",
        "%skey D387CE6E066CE6EB valid\n",
        "%skey %s trusted\n",
        "%skey %s valid \n",
        "%skey  %s valid\n",
        "%skey %s valid\nextra\n",
        "%s\n",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (i == 0)
            snprintf(text, sizeof text, bad[i], fpr);
        else if (i == 2 || i == 3 || i == 8)
            snprintf(text, sizeof text, bad[i], head);
        else if (i == 9)
            text[0] = '\0';
        else
            snprintf(text, sizeof text, bad[i], head, fpr);
        v = (vs_key_state *)&n; /* must come back NULL */
        n = 7;
        ck_assert_msg(!vs_keystate_parse((const uint8_t *)text, strlen(text), head, hl, &v, &n),
                      "case %zu accepted", i);
        ck_assert_ptr_null(v);
        ck_assert_uint_eq(n, 0);
    }
    /* a NUL inside a line */
    int k = snprintf(text, sizeof text, "%skey %s valid\n", head, fpr);
    text[hl + 6] = '\0';
    ck_assert(!vs_keystate_parse((const uint8_t *)text, (size_t)k, head, hl, &v, &n));
}
END_TEST

Suite *vs_suite_keys(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("rsa");
    tcase_add_test(tc, good_forms_same_fingerprint);
    tcase_add_loop_test(tc, der_refusals, 0, (int)(sizeof der_cases / sizeof der_cases[0]));
    tcase_add_test(tc, absent_params_same_fingerprint);
    tcase_add_loop_test(tc, pem_refusals, 0, 7);
    tcase_add_loop_test(tc, integer_cases, 0, (int)(sizeof int_cases / sizeof int_cases[0]));
    tcase_add_test(tc, weak_keys_policy);
    tcase_add_test(tc, garbage_and_limits);
    tcase_add_test(tc, scheme_names);
    tcase_add_test(tc, wycheproof_keys);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("import rules");
    tcase_add_loop_test(tf, fingerprint_spellings, 0, (int)(sizeof fpr_cases / sizeof fpr_cases[0]));
    tcase_add_test(tf, fingerprint_key_id_told_apart);
    tcase_add_test(tf, select_named_keys);
    tcase_add_test(tf, select_without_names);
    tcase_add_test(tf, commit_record_parse);
    tcase_add_test(tf, keystate_parse_cases);
    suite_add_tcase(s, tf);
    TCase *tp = tcase_create("store");
    tcase_set_timeout(tp, 30);
    tcase_add_test(tp, pgp_scan_cases);
    tcase_add_test(tp, store_round_trip);
    suite_add_tcase(s, tp);
    return s;
}
