/* tests/unit/stage/test_gunzip.c - stage's gzip reader (stage/gunzip.c):
 * members made by ISA-L's own compressor and by hand (stored blocks, every
 * optional header field), fed in blocks of every size from 1 byte up, then
 * the framing cases libarchive's gzip filter decides the same way (members
 * in a row, bytes after the last member) and the ones it refuses (damaged
 * checksum or length, truncation, a first header that is not one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

#include "stage/stage_int.h"

TCase *vs_tcase_stage_gunzip(void);

typedef struct src {
    const uint8_t *p;
    size_t n, off, step;
    int fail_errno; /* a read error once the input is used up */
} src;

static ssize_t src_in(void *ud, const uint8_t **out)
{
    src *s = ud;
    if (s->off >= s->n) {
        if (s->fail_errno) {
            errno = s->fail_errno;
            return -1;
        }
        return 0;
    }
    size_t k = s->n - s->off < s->step ? s->n - s->off : s->step;
    *out = s->p + s->off;
    s->off += k;
    return (ssize_t)k;
}

typedef struct result {
    uint8_t *out;
    size_t n;
    ssize_t last; /* 0 at a clean end, -1 on an error */
    char msg[200];
} result;

/* The whole stream in blocks of `step` bytes, read `cap` bytes at a time. */
static void run(const uint8_t *p, size_t n, size_t step, size_t cap, int fail_errno, result *r)
{
    memset(r, 0, sizeof *r);
    src s = { p, n, 0, step, fail_errno };
    size_t first = n < step ? n : step;
    s.off = first;
    vs_gunzip *g = vs_gunzip_new(src_in, &s, p, first);
    ck_assert_ptr_nonnull(g);
    size_t room = 1u << 16;
    r->out = malloc(room);
    uint8_t *buf = malloc(cap);
    ck_assert(r->out && buf);
    for (;;) {
        ssize_t k = vs_gunzip_read(g, buf, cap);
        if (k <= 0) {
            r->last = k;
            if (k < 0) {
                int code = 0;
                snprintf(r->msg, sizeof r->msg, "%s", vs_gunzip_error(g, &code));
                ck_assert_int_eq(vs_gunzip_read(g, buf, cap), -1); /* and stays failed */
            }
            break;
        }
        ck_assert_uint_le((size_t)k, cap);
        while (r->n + (size_t)k > room)
            ck_assert_ptr_nonnull(r->out = realloc(r->out, room *= 2));
        memcpy(r->out + r->n, buf, (size_t)k);
        r->n += (size_t)k;
    }
    free(buf);
    vs_gunzip_free(g);
}

/* Some bytes that compress (text with repeats) and some that do not. */
static uint8_t *sample(size_t n)
{
    uint8_t *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = i % 3000 < 2000 ? (uint8_t)("vetstage stages agents\n"[i % 23]) : (uint8_t)(x >> 24);
    }
    return p;
}

/* A gzip member by ISA-L's compressor (generic header, trailer). */
static size_t isal_member(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    struct isal_zstream z;
    isal_deflate_stateless_init(&z);
    z.gzip_flag = IGZIP_GZIP;
    z.next_in = (uint8_t *)(uintptr_t)in;
    z.avail_in = (uint32_t)n;
    z.next_out = out;
    z.avail_out = (uint32_t)cap;
    z.end_of_stream = 1;
    z.flush = NO_FLUSH;
    ck_assert_int_eq(isal_deflate_stateless(&z), COMP_OK);
    return z.total_out;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A member by hand: header with the given FLG (the optional fields filled
 * in: FEXTRA 5 bytes, FNAME, FCOMMENT, FHCRC), one stored block, trailer. */
static size_t hand_member(uint8_t flg, const char *payload, uint8_t *out)
{
    size_t n = strlen(payload), o = 0;
    static const uint8_t fixed[] = { 0x1f, 0x8b, 8 };
    memcpy(out, fixed, 3);
    o = 3;
    out[o++] = flg;
    memset(out + o, 0, 6); /* MTIME, XFL, OS */
    o += 6;
    if (flg & 4) {
        out[o++] = 5;
        out[o++] = 0;
        memcpy(out + o, "AB\x01\x00Z", 5);
        o += 5;
    }
    if (flg & 8) {
        memcpy(out + o, "agent.tar", 10);
        o += 10;
    }
    if (flg & 16) {
        memcpy(out + o, "a comment", 10);
        o += 10;
    }
    if (flg & 2) {
        out[o++] = 0x12;
        out[o++] = 0x34;
    }
    out[o++] = 1; /* BFINAL, stored */
    out[o++] = (uint8_t)n;
    out[o++] = (uint8_t)(n >> 8);
    out[o++] = (uint8_t)~n;
    out[o++] = (uint8_t)(~n >> 8);
    memcpy(out + o, payload, n);
    o += n;
    put_le32(out + o, crc32_gzip_refl(0, (const uint8_t *)payload, n));
    put_le32(out + o + 4, (uint32_t)n);
    return o + 8;
}

START_TEST(gunzip_isal_member_any_blocks)
{
    size_t n = 300000;
    uint8_t *in = sample(n);
    size_t cap = n + 4096;
    uint8_t *gz = malloc(cap);
    size_t gn = isal_member(in, n, gz, cap);
    static const size_t steps[] = { 1, 2, 7, 10, 11, 4096, 65536, (size_t)-1 };
    static const size_t caps[] = { 1, 13, 131072 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        for (size_t j = 0; j < sizeof caps / sizeof caps[0]; j++) {
            if (steps[i] == 1 && caps[j] == 1)
                continue; /* slow, and covered by its neighbours */
            result r;
            run(gz, gn, steps[i], caps[j], 0, &r);
            ck_assert_msg(r.last == 0, "step %zu cap %zu: %s", steps[i], caps[j], r.msg);
            ck_assert_uint_eq(r.n, n);
            ck_assert(memcmp(r.out, in, n) == 0);
            free(r.out);
        }
    free(gz);
    free(in);
}
END_TEST

START_TEST(gunzip_header_fields)
{
    /* every combination of the optional fields, fed a byte at a time too */
    for (unsigned flg = 0; flg < 32; flg++) {
        if (flg & 1)
            continue; /* FTEXT: a hint only, covered with the others below */
        uint8_t m[256];
        size_t mn = hand_member((uint8_t)(flg | (flg == 30 ? 1 : 0)), "hello, agent", m);
        for (size_t step = 1; step <= mn; step += mn - 1) {
            result r;
            run(m, mn, step, 64, 0, &r);
            ck_assert_msg(r.last == 0, "flg %u: %s", flg, r.msg);
            ck_assert_uint_eq(r.n, 12);
            ck_assert(memcmp(r.out, "hello, agent", 12) == 0);
            free(r.out);
        }
    }
}
END_TEST

START_TEST(gunzip_members_and_trailing_bytes)
{
    uint8_t buf[1024];
    size_t a = hand_member(8, "first ", buf);
    size_t b = hand_member(2 | 4 | 16, "second", buf + a);
    size_t n = a + b;
    for (size_t step = 1; step <= n; step++) {
        result r;
        run(buf, n, step, 5, 0, &r);
        ck_assert_msg(r.last == 0 && r.n == 12 && memcmp(r.out, "first second", 12) == 0,
                      "step %zu: %s", step, r.msg);
        free(r.out);
    }
    /* after the last member: bytes that are not a member's start are ignored
     * (libarchive's gzip filter ends there too) */
    static const char *const tails[] = { "junk", "\x1f", "\x1f\x8b", "\x1f\x8b\x09",
                                         "\x1f\x8b\x08\xe0", "\x00\x00\x00\x00" };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        size_t tn = strlen(tails[i]) ? strlen(tails[i]) : 4;
        memcpy(buf + n, tails[i], tn);
        for (size_t step = 1; step <= n + tn; step += 3) {
            result r;
            run(buf, n + tn, step, 64, 0, &r);
            ck_assert_msg(r.last == 0 && r.n == 12, "tail %zu step %zu: %s", i, step, r.msg);
            free(r.out);
        }
    }
    /* a second member's header that begins well but ends with the input */
    memcpy(buf + n, "\x1f\x8b\x08\x08\0\0\0\0\0\0agent", 15);
    result r;
    run(buf, n + 15, 7, 64, 0, &r);
    ck_assert_msg(r.last == 0 && r.n == 12, "%s", r.msg);
    free(r.out);
}
END_TEST

static void expect_error(const uint8_t *p, size_t n, const char *want)
{
    for (size_t step = 1; step <= n + 1; step = step * 2 + 1) {
        result r;
        run(p, n, step, 64, 0, &r);
        ck_assert_msg(r.last == -1, "step %zu: no error (want '%s')", step, want);
        ck_assert_msg(strstr(r.msg, want) != NULL, "step %zu: '%s' lacks '%s'", step, r.msg, want);
        free(r.out);
    }
}

START_TEST(gunzip_refusals)
{
    uint8_t m[256], bad[256];
    size_t n = hand_member(0, "payload bytes", m);
    /* the trailer's CRC-32, then its length */
    memcpy(bad, m, n);
    bad[n - 8] ^= 1;
    expect_error(bad, n, "CRC-32 or length");
    memcpy(bad, m, n);
    bad[n - 1] ^= 0x80;
    expect_error(bad, n, "CRC-32 or length");
    /* truncated: in the header, the data, the trailer */
    expect_error(m, 0, "truncated gzip input");
    expect_error(m, 6, "truncated gzip input");
    expect_error(m, 15, "truncated gzip input");
    for (size_t k = 1; k <= 8; k++) {
        result r;
        run(m, n - k, 3, 64, 0, &r);
        ck_assert_msg(r.last == -1, "trailer short by %zu: accepted", k);
        free(r.out);
    }
    /* a first header that is not one */
    memcpy(bad, m, n);
    bad[3] = 0x20; /* a reserved flag */
    expect_error(bad, n, "not a gzip stream");
    memcpy(bad, m, n);
    bad[2] = 9; /* not deflate */
    expect_error(bad, n, "not a gzip stream");
    /* a damaged deflate block: a stored block whose NLEN does not match */
    memcpy(bad, m, n);
    bad[13] ^= 0xff;
    expect_error(bad, n, "gzip decompression failed");
    /* a reserved block type (BTYPE 11) */
    memcpy(bad, m, n);
    bad[10] = 7;
    expect_error(bad, n, "gzip decompression failed");
    /* a read error, named */
    result r;
    run(m, 12, 4, 64, EIO, &r);
    ck_assert_int_eq(r.last, -1);
    ck_assert_msg(strstr(r.msg, "read:") != NULL, "%s", r.msg);
    free(r.out);
}
END_TEST

START_TEST(gunzip_long_name)
{
    /* FNAME over 1 MiB: not a header (libarchive's limit) */
    size_t len = (1u << 20) + 16;
    uint8_t *p = malloc(len + 64);
    ck_assert_ptr_nonnull(p);
    static const uint8_t h[] = { 0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3 };
    memcpy(p, h, sizeof h);
    memset(p + sizeof h, 'a', len);
    p[sizeof h + len] = 0;
    result r;
    run(p, sizeof h + len + 1, 65536, 64, 0, &r);
    ck_assert_int_eq(r.last, -1);
    ck_assert_msg(strstr(r.msg, "not a gzip stream") != NULL, "%s", r.msg);
    free(r.out);
    free(p);
}
END_TEST

START_TEST(gunzip_sniff)
{
    ck_assert(vs_gunzip_sniff((const uint8_t *)"\x1f\x8b\x08\x00", 4));
    ck_assert(vs_gunzip_sniff((const uint8_t *)"\x1f\x8b\x08\x1f", 4));
    ck_assert(!vs_gunzip_sniff((const uint8_t *)"\x1f\x8b\x08\x20", 4));
    ck_assert(!vs_gunzip_sniff((const uint8_t *)"\x1f\x8b\x09\x00", 4));
    ck_assert(!vs_gunzip_sniff((const uint8_t *)"\x1f\x8b\x08", 3));
    ck_assert(!vs_gunzip_sniff((const uint8_t *)"BZh9", 4));
}
END_TEST

TCase *vs_tcase_stage_gunzip(void)
{
    TCase *tc = tcase_create("gunzip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gunzip_isal_member_any_blocks);
    tcase_add_test(tc, gunzip_header_fields);
    tcase_add_test(tc, gunzip_members_and_trailing_bytes);
    tcase_add_test(tc, gunzip_refusals);
    tcase_add_test(tc, gunzip_long_name);
    tcase_add_test(tc, gunzip_sniff);
    return tc;
}
