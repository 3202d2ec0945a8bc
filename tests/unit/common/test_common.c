/* tests/unit/common - error table, cursor, hashing, atomic files. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common_int.h"

START_TEST(status_names)
{
    ck_assert_str_eq(vs_status_name(VS_E_VERIFY), "verify");
    ck_assert_str_eq(vs_status_name(VS_E_POLICY), "policy");
    ck_assert_int_eq(VS_E_UNSAFE, 5);
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_error_set(&e, VS_E_FETCH, "%s: bad\nthing", "u"), VS_E_FETCH);
    ck_assert_str_eq(e.message, "u: bad?thing");
}
END_TEST

START_TEST(cursor_bounds)
{
    const char data[] = "ab\r\ncd\nlonglongline";
    vs_cursor c;
    vs_cursor_init(&c, data, strlen(data));
    const char *l;
    size_t n;
    ck_assert(vs_cursor_line(&c, 10, &l, &n));
    ck_assert_int_eq(n, 2);
    ck_assert(vs_cursor_line(&c, 10, &l, &n));
    ck_assert(!vs_cursor_line(&c, 5, &l, &n));
    ck_assert(c.bad);
    ck_assert(vs_cursor_bytes(&c, 1) == NULL); /* sticky */
}
END_TEST

START_TEST(sha256_known)
{
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_lib_init(&e), VS_OK);
    vs_sha256 h;
    ck_assert_int_eq(vs_sha256_init(&h, &e), VS_OK);
    vs_sha256_update(&h, "abc", 3);
    uint8_t d[32];
    vs_sha256_final(&h, d);
    char hex[65];
    vs_hex(hex, d, 32);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uint8_t back[32];
    ck_assert(vs_unhex(back, 32, hex, 64));
    ck_assert_mem_eq(back, d, 32);
    ck_assert(!vs_unhex(back, 32, "zz", 2));
}
END_TEST

START_TEST(atomic_write_and_limits)
{
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_lib_init(&e), VS_OK);
    char dir[] = "/tmp/vs-unit-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(dfd, 0);
    ck_assert_int_eq(vs_write_file_atomic(dfd, "f", "hello", 5, 0644, &e), VS_OK);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(vs_read_file(dfd, "f", 5, &buf, &len, &e), VS_OK);
    ck_assert_int_eq(len, 5);
    free(buf);
    ck_assert_int_eq(vs_read_file(dfd, "f", 4, &buf, &len, &e), VS_E_USAGE);
    ck_assert(strstr(e.message, "limit") != NULL);
    /* an aborted temporary file leaves nothing */
    vs_tmpfile t;
    ck_assert_int_eq(vs_tmpfile_open(&t, dfd, 0600, true, &e), VS_OK);
    ck_assert_int_eq(vs_tmpfile_write(&t, "x", 1, &e), VS_OK);
    vs_tmpfile_abort(&t);
    ck_assert_int_eq(vs_mkdir_p(dfd, "a/b/c", 0755, &e), VS_OK);
    ck_assert_int_eq(vs_remove_tree(dfd, "a", &e), VS_OK);
    ck_assert_int_eq(vs_remove_tree(dfd, "f", &e), VS_OK);
    close(dfd);
    ck_assert_int_eq(rmdir(dir), 0); /* empty: nothing left behind */
}
END_TEST

START_TEST(names)
{
    ck_assert(vs_valid_name("datacollector"));
    ck_assert(vs_valid_version("6.2.0.117_x86-64"));
    ck_assert(!vs_valid_name("../x"));
    ck_assert(!vs_valid_name(".hidden"));
    ck_assert(!vs_valid_version("1/2"));
    ck_assert(!vs_valid_version(""));
}
END_TEST

START_TEST(numbers)
{
    uint64_t v = 0;
    ck_assert(vs_parse_u64("42", &v) && v == 42);
    ck_assert(!vs_parse_u64("", &v) && !vs_parse_u64(" 1", &v) && !vs_parse_u64("-1", &v));
    ck_assert(!vs_parse_u64("0x10", &v) && !vs_parse_u64("18446744073709551616", &v));
    ck_assert(vs_parse_size("1G", &v) && v == 1ull << 30);
    ck_assert(vs_parse_size("512MiB", &v) && v == 512ull << 20);
    ck_assert(vs_parse_size("2kB", &v) && v == 2048);
    ck_assert(!vs_parse_size("1X", &v) && !vs_parse_size("1GiBs", &v));
    ck_assert(!vs_parse_size("17179869184T", &v)); /* overflows */
    ck_assert(vs_parse_duration("2m", &v) && v == 120);
    ck_assert(vs_parse_duration("30", &v) && v == 30);
    ck_assert(vs_parse_duration("1d", &v) && v == 86400);
    ck_assert(!vs_parse_duration("2M", &v) && !vs_parse_duration("1h30m", &v));
}
END_TEST

/* The one base64 decoder: strict by default (PEM keys, OpenPGP armor). */
START_TEST(base64_strict)
{
    uint8_t out[16];
    size_t n = 99;
    ck_assert(vs_base64_decode((const uint8_t *)"aGk=", 4, 0, out, sizeof out, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(out, "hi", 2);
    ck_assert(vs_base64_decode((const uint8_t *)"aGk+", 4, 0, out, sizeof out, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert(!vs_base64_decode((const uint8_t *)"aGl=", 4, 0, out, sizeof out, &n)); /* unused bits */
    ck_assert(!vs_base64_decode((const uint8_t *)"aGk/aA=A", 8, 0, out, sizeof out, &n));
    ck_assert(!vs_base64_decode((const uint8_t *)"aG=k", 4, 0, out, sizeof out, &n)); /* pad inside */
    ck_assert(!vs_base64_decode((const uint8_t *)"a===", 4, 0, out, sizeof out, &n));
    ck_assert(!vs_base64_decode((const uint8_t *)"aGk", 3, 0, out, sizeof out, &n));
    ck_assert(!vs_base64_decode((const uint8_t *)"aGk=aGk=", 8, 0, out, sizeof out, &n));
    ck_assert(!vs_base64_decode((const uint8_t *)"aGk=\n", 5, 0, out, sizeof out, &n));
    ck_assert(!vs_base64_decode((const uint8_t *)"a k=", 4, 0, out, sizeof out, &n)); /* space */
    ck_assert(!vs_base64_decode((const uint8_t *)"aGk-", 4, 0, out, sizeof out, &n)); /* url-safe */
    /* RFC 4648: the empty string is the encoding of nothing */
    ck_assert(vs_base64_decode((const uint8_t *)"", 0, 0, out, sizeof out, &n));
    ck_assert_uint_eq(n, 0);
    /* white space only where the caller asks for it (line-wrapped files) */
    ck_assert(vs_base64_decode((const uint8_t *)" aG\nk=\r\n", 8, VS_BASE64_SKIP_SPACE, out,
                               sizeof out, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(!vs_base64_decode((const uint8_t *)"aGk=\naA==", 9, VS_BASE64_SKIP_SPACE, out,
                                sizeof out, &n)); /* data after the padding */
    /* never more than cap bytes */
    ck_assert(!vs_base64_decode((const uint8_t *)"Zm9vYmFy", 8, 0, out, 5, &n));
    ck_assert(vs_base64_decode((const uint8_t *)"Zm9vYmFy", 8, 0, out, 6, &n));
    ck_assert(!vs_base64_decode((const uint8_t *)"Zm9vYg==", 8, 0, out, 3, &n));
}
END_TEST

/* The growing buffer refuses to pass its maximum, and says so. */
START_TEST(sbuf_max)
{
    vs_sbuf b = VS_SBUF_INIT(8);
    vs_sbuf_puts(&b, "");
    ck_assert_ptr_nonnull(b.p);
    ck_assert_str_eq(b.p, "");
    vs_sbuf_puts(&b, "12345678");
    ck_assert(!vs_sbuf_failed(&b));
    ck_assert_str_eq(b.p, "12345678");
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_sbuf_status(&b, "thing", &e), VS_OK);
    vs_sbuf_puts(&b, "9");
    ck_assert(b.toobig);
    ck_assert_str_eq(b.p, "12345678"); /* nothing of a refused add */
    vs_sbuf_puts(&b, "");              /* sticky */
    ck_assert(vs_sbuf_failed(&b));
    ck_assert_int_eq(vs_sbuf_status(&b, "thing", &e), VS_E_USAGE);
    ck_assert_str_eq(e.subject, "thing");
    ck_assert_str_eq(e.message, "thing: larger than the limit of 8 bytes");
    vs_sbuf_free(&b);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.max, 8);
    /* growth past the first allocation */
    vs_sbuf big;
    vs_sbuf_init(&big, 100000);
    for (int i = 0; i < 5000; i++)
        vs_sbuf_add(&big, "0123456789", 10);
    ck_assert(!vs_sbuf_failed(&big));
    ck_assert_uint_eq(big.len, 50000);
    ck_assert_uint_eq(strlen(big.p), 50000);
    vs_sbuf_free(&big);
    /* a zeroed buffer has no room at all */
    vs_sbuf z = { 0 };
    vs_sbuf_add(&z, "x", 1);
    ck_assert(z.toobig);
    ck_assert_ptr_null(z.p);
}
END_TEST

/* The one array growth: doubling, the array kept on failure. */
START_TEST(grow_array)
{
    int *v = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 100; n++) {
        int *g = vs_grow(v, &cap, n, sizeof *v, 4);
        ck_assert_ptr_nonnull(g);
        v = g;
        v[n] = (int)n;
        ck_assert_uint_gt(cap, n);
    }
    ck_assert_uint_eq(cap, 128);
    ck_assert_int_eq(v[99], 99);
    ck_assert_ptr_eq(vs_grow(v, &cap, 100, sizeof *v, 4), v); /* room left: unchanged */
    size_t huge = SIZE_MAX / 2 + 1;
    ck_assert_ptr_null(vs_grow(v, &huge, huge, sizeof *v, 4)); /* overflow: refused */
    ck_assert_int_eq(v[99], 99);
    free(v);
}
END_TEST

/* Text lines: blanks trimmed, empty and comment lines skipped, counted. */
START_TEST(text_lines)
{
    static const char text[] = "# c\n\n  a b \t\n\t#x\n\r\nlast";
    vs_cursor c;
    vs_cursor_init(&c, text, sizeof text - 1);
    size_t lineno = 0, n;
    const char *l;
    ck_assert(vs_cursor_text_line(&c, 64, " \t", &lineno, &l, &n));
    ck_assert_uint_eq(lineno, 3);
    ck_assert_uint_eq(n, 3);
    ck_assert(memcmp(l, "a b", 3) == 0);
    ck_assert(vs_cursor_text_line(&c, 64, " \t\r", &lineno, &l, &n));
    ck_assert_uint_eq(lineno, 6);
    ck_assert(n == 4 && memcmp(l, "last", 4) == 0);
    ck_assert(!vs_cursor_text_line(&c, 64, " \t", &lineno, &l, &n));
}
END_TEST

/* The flusher syncs and closes what it is given, in order, many more files
 * than its ring holds; a failed fdatasync is reported with its subject. */
START_TEST(flusher_jobs)
{
    char dir[] = "/tmp/vs-flusher-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(dfd, 0);
    vs_flusher *f = vs_flusher_start();
    ck_assert_ptr_nonnull(f);
    int fds[200];
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        fds[i] = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
        ck_assert_int_ge(fds[i], 0);
        ck_assert_int_eq(vs_write_all(fds[i], "data", 4), 0);
        if (i % 50 == 0) /* a file still growing: synced, kept open */
            vs_flusher_sync(f, fds[i], name);
        vs_flusher_close(f, fds[i], name);
    }
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_flusher_finish(f, &e), VS_OK);
    for (int i = 0; i < 200; i++) /* every fd was closed by the flusher */
        ck_assert(fcntl(fds[i], F_GETFD) == -1);
    /* a descriptor that is not open: fdatasync fails, and says which */
    int bad = open("/dev/null", O_RDONLY);
    close(bad);
    vs_flusher_close(f, bad, "the-bad-one");
    ck_assert_int_eq(vs_flusher_finish(f, &e), VS_E_INTERNAL);
    ck_assert_str_eq(e.subject, "the-bad-one");
    ck_assert_ptr_nonnull(strstr(e.message, "fdatasync"));
    vs_flusher_stop(f, false);
    /* discard: queued files are closed without a sync; NULL is a no-op flusher */
    f = vs_flusher_start();
    int fd = openat(dfd, "last", O_WRONLY | O_CREAT | O_EXCL, 0600);
    vs_flusher_close(f, fd, "last");
    vs_flusher_stop(f, true);
    ck_assert(fcntl(fd, F_GETFD) == -1);
    fd = openat(dfd, "none", O_WRONLY | O_CREAT | O_EXCL, 0600);
    vs_flusher_close(NULL, fd, "none");
    ck_assert(fcntl(fd, F_GETFD) == -1);
    ck_assert_int_eq(vs_flusher_finish(NULL, &e), VS_OK);
    vs_flusher_stop(NULL, true);
    close(dfd);
    ck_assert_int_eq(vs_remove_tree(AT_FDCWD, dir, NULL), VS_OK);
}
END_TEST

Suite *vs_suite_common(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, status_names);
    tcase_add_test(tc, cursor_bounds);
    tcase_add_test(tc, sha256_known);
    tcase_add_test(tc, atomic_write_and_limits);
    tcase_add_test(tc, names);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, base64_strict);
    tcase_add_test(tc, sbuf_max);
    tcase_add_test(tc, grow_array);
    tcase_add_test(tc, text_lines);
    tcase_add_test(tc, flusher_jobs);
    suite_add_tcase(s, tc);
    return s;
}
