/* tests/unit/verify/test_gpgpump.c - vs_gpg_pump_verify, the loop that
 * writes a package to the real gpg's pipe itself: whatever the pace and
 * the pieces the source gives, gpg reads exactly those bytes in order and
 * judges them (a good signature over the fixture blob, a bad one over the
 * blob with one byte changed); a source that fails mid-way ends the run
 * cancelled, without a verdict and without a hang; a gpg stopped while it
 * has bytes to read is given up after the stall time; nothing leaks. The
 * blob (3 MiB, more than a pipe holds) and its signatures are made by the
 * real gpg in tests/fixtures/mkfixtures.sh. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "keys/trust.h"
#include "verify/verify_int.h"
#include "unit.h"

static char home[64];
static vs_ctx *ctx;
static uint8_t *blob, *sigbin, *sigtext;
static size_t blob_len, sigbin_len, sigtext_len;
static char vendor_fpr[VS_FPR_MAX];

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", vs_test_fixdir(), name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s missing (run make fixtures; set VS_FIXTURES)", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *p = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void pump_setup(void)
{
    vs_error err = VS_ERROR_INIT;
    snprintf(home, sizeof home, "/tmp/vs-unit-pump-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(home));
    ck_assert_int_eq(vs_ctx_open(&ctx, home, &err), VS_OK);
    char path[1200];
    snprintf(path, sizeof path, "%s/vendor.asc", vs_test_fixdir());
    const char *files[] = { path };
    vs_key_info *ki = NULL;
    size_t n = 0;
    ck_assert_msg(vs_keys_import(&ki, &n, ctx, files, 1, NULL, &err) == VS_OK, "%s", err.message);
    ck_assert_uint_ge(n, 1);
    snprintf(vendor_fpr, sizeof vendor_fpr, "%s", ki[0].fingerprint);
    vs_key_info_free(ki);
    blob = slurp("pkg/blob-3m.bin", &blob_len);
    sigbin = slurp("pkg/blob-3m.bin.gpgbin", &sigbin_len);
    sigtext = slurp("pkg/blob-3m.bin.text.asc", &sigtext_len);
}

static void pump_teardown(void)
{
    vs_ctx_free(ctx);
    ctx = NULL;
    free(blob);
    free(sigbin);
    free(sigtext);
    vs_error err = VS_ERROR_INIT;
    int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    vs_remove_tree(fd, home + 5, &err);
    close(fd);
}

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* ---- a source fed by another thread, in odd pieces ------------------------- */

typedef struct {
    const uint8_t *data;
    size_t len, flip; /* flip < len: that byte is given changed */
    size_t fail_at;   /* fail once this many data bytes were given (or never) */
    size_t piece;     /* at most this many bytes per peek (0: no cap) */
    pthread_mutex_t mu;
    size_t avail, off; /* released by the producer; taken by gpg */
    int wake;
    uint8_t flipped;
    size_t mores;
    bool stop; /* the run is over: the producer no longer waits */
} src_t;

static int t_peek(void *payload, const uint8_t **p, size_t *n)
{
    src_t *s = payload;
    pthread_mutex_lock(&s->mu);
    size_t avail = s->avail;
    pthread_mutex_unlock(&s->mu);
    if (s->off >= s->fail_at)
        return VS_GPG_SRC_FAIL;
    if (s->off == s->len)
        return VS_GPG_SRC_END;
    if (s->off == avail) {
        s->mores++;
        return VS_GPG_SRC_MORE;
    }
    size_t k = avail - s->off;
    if (s->piece && k > s->piece)
        k = s->piece;
    if (s->off <= s->flip && s->flip < s->off + k) {
        if (s->flip == s->off) { /* the changed byte, on its own */
            s->flipped = (uint8_t)(s->data[s->flip] ^ 0x01);
            *p = &s->flipped;
            *n = 1;
            return VS_GPG_SRC_BYTES;
        }
        k = s->flip - s->off;
    }
    *p = s->data + s->off;
    *n = k;
    return VS_GPG_SRC_BYTES;
}

static void t_took(void *payload, size_t n)
{
    src_t *s = payload;
    pthread_mutex_lock(&s->mu);
    s->off += n;
    pthread_mutex_unlock(&s->mu);
}

/* The producer: releases the data in pieces of 1 byte to ~200 KiB, waking
 * the loop after each; every other time it waits until gpg took all it was
 * given, so that the loop also finds the source empty and waits. */
static void *producer(void *arg)
{
    src_t *s = arg;
    uint32_t x = 2463534242u;
    for (;;) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        size_t k = (x % 4 == 0) ? (size_t)(x % 7) + 1 : (size_t)(x % 200000);
        pthread_mutex_lock(&s->mu);
        size_t left = s->len - s->avail;
        if (k > left)
            k = left;
        s->avail += k;
        bool done = s->avail == s->len;
        pthread_mutex_unlock(&s->mu);
        uint64_t one = 1;
        ck_assert_int_eq(write(s->wake, &one, sizeof one), (ssize_t)sizeof one);
        if (done)
            return NULL;
        for (bool wait = x % 2 == 0; wait;) {
            pthread_mutex_lock(&s->mu);
            wait = s->off < s->avail && !s->stop;
            pthread_mutex_unlock(&s->mu);
            sched_yield();
        }
    }
}

typedef struct {
    const char *name;
    bool detached;  /* the text-mode armored signature beside the data; else the signed message */
    bool threaded;  /* a producer releases the data; else all of it is there */
    size_t piece;   /* cap per peek */
    bool flip;      /* one byte changed */
    bool fail_half; /* the source fails half-way */
    bool short_end; /* the source ends 1000 bytes early (message form) */
} pump_case;

static const pump_case cases[] = {
    { "message, all there", false, false, 0, false, false, false },
    { "message, 7-byte pieces", false, false, 7, false, false, false },
    { "message, producer", false, true, 0, false, false, false },
    { "message, producer, 4099-byte pieces", false, true, 4099, false, false, false },
    { "detached, all there", true, false, 0, false, false, false },
    { "detached, producer", true, true, 0, false, false, false },
    { "message, one byte changed", false, true, 0, true, false, false },
    { "detached, one byte changed", true, true, 0, true, false, false },
    { "message, source fails half-way", false, true, 0, false, true, false },
    { "detached, source fails half-way", true, true, 0, false, true, false },
    { "message, the end comes early", false, false, 0, false, false, true },
};

START_TEST(pump_table)
{
    const pump_case *c = &cases[_i];
    size_t fds_before = open_fds();
    vs_error err = VS_ERROR_INIT;
    gpgme_ctx_t g = NULL;
    ck_assert_int_eq(vs_trust_gpgme_new(&g, ctx, &err), VS_OK);
    gpgme_set_offline(g, 1);

    uint8_t head[4096];
    size_t hlen = 0;
    src_t s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.data = blob;
    s.len = c->short_end ? blob_len - 1000 : blob_len;
    s.flip = c->flip ? blob_len / 3 : SIZE_MAX;
    s.fail_at = c->fail_half ? blob_len / 2 : SIZE_MAX;
    s.piece = c->piece;
    s.avail = c->threaded ? 0 : s.len;
    s.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ck_assert_int_ge(s.wake, 0);
    gpgme_data_t sigd = NULL;
    if (c->detached) {
        ck_assert_int_eq(gpgme_data_new_from_mem(&sigd, (const char *)sigtext, sigtext_len, 0), 0);
    } else {
        ck_assert(sigbin_len + VS_PGP_LITERAL_HEADER <= sizeof head);
        ck_assert(vs_pgp_detached_binary(sigbin, sigbin_len, head, sizeof head, &hlen));
        size_t lh = vs_pgp_literal_header(blob_len, head + hlen);
        ck_assert_uint_gt(lh, 0);
        hlen += lh;
    }
    pthread_t th;
    if (c->threaded)
        ck_assert_int_eq(pthread_create(&th, NULL, producer, &s), 0);
    const vs_gpg_source src = { t_peek, t_took, &s };
    bool delivered = true;
    gpgme_error_t ge = vs_gpg_pump_verify(g, sigd, c->detached ? NULL : head, hlen, &src, s.wake, 60,
                                          &delivered);
    if (c->threaded) {
        pthread_mutex_lock(&s.mu);
        s.stop = true;
        pthread_mutex_unlock(&s.mu);
        pthread_join(th, NULL);
    }

    gpgme_verify_result_t res = ge ? NULL : gpgme_op_verify_result(g);
    gpgme_signature_t sig = res ? res->signatures : NULL;
    if (c->fail_half) {
        ck_assert_msg(gpgme_err_code(ge) == GPG_ERR_CANCELED, "%s: %s", c->name, gpgme_strerror(ge));
        ck_assert_msg(!delivered, "%s: delivered", c->name);
        ck_assert_uint_lt(s.off, blob_len);
    } else if (c->short_end) {
        /* the literal header declared more than came: never a good signature */
        ck_assert_msg(!sig || gpgme_err_code(sig->status) != GPG_ERR_NO_ERROR, "%s: good", c->name);
    } else {
        ck_assert_msg(!ge, "%s: %s", c->name, gpgme_strerror(ge));
        ck_assert_msg(delivered, "%s: not delivered", c->name);
        ck_assert_uint_eq(s.off, blob_len); /* gpg took every byte */
        ck_assert_msg(sig != NULL, "%s: no signature", c->name);
        ck_assert_ptr_null(sig->next);
        if (c->flip) {
            ck_assert_msg(gpgme_err_code(sig->status) == GPG_ERR_BAD_SIGNATURE, "%s: %s", c->name,
                          gpgme_strerror(sig->status));
        } else {
            ck_assert_msg(gpgme_err_code(sig->status) == GPG_ERR_NO_ERROR, "%s: %s", c->name,
                          gpgme_strerror(sig->status));
            ck_assert_msg(sig->fpr && strcasecmp(sig->fpr, vendor_fpr) == 0, "%s: signed by %s",
                          c->name, sig->fpr ? sig->fpr : "?");
        }
    }
    if (c->threaded && !c->fail_half)
        ck_assert_uint_gt(s.mores, 0); /* the loop did wait for the producer */
    gpgme_data_release(sigd);
    gpgme_release(g);
    close(s.wake);
    pthread_mutex_destroy(&s.mu);
    ck_assert_uint_eq(open_fds(), fds_before); /* gpg's pipes all closed */
}
END_TEST

/* ---- gpg stopped while it has work: the run is given up ---------------------- */

/* The pid of a gpg verifying in this test's home (found in /proc), or 0. */
static pid_t find_gpg(void)
{
    char want[128];
    snprintf(want, sizeof want, "%s/trust/gnupg", home);
    DIR *d = opendir("/proc");
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    pid_t found = 0;
    while (!found && (de = readdir(d)) != NULL) {
        char path[300], buf[4096];
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        bool home_seen = false, verify = false;
        for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
            buf[n] = '\0';
            home_seen = home_seen || strcmp(buf + i, want) == 0;
            verify = verify || strcmp(buf + i, "--verify") == 0;
        }
        if (home_seen && verify)
            found = (pid_t)strtol(de->d_name, NULL, 10);
    }
    closedir(d);
    return found;
}

typedef struct {
    src_t *s;
    pid_t gpg;
} stopper_t;

/* Release 512 KiB, stop gpg, then release the rest: the loop has bytes for
 * a gpg that takes none. */
static void *stopper(void *arg)
{
    stopper_t *st = arg;
    src_t *s = st->s;
    uint64_t one = 1;
    pthread_mutex_lock(&s->mu);
    s->avail = 512 * 1024;
    pthread_mutex_unlock(&s->mu);
    ck_assert_int_eq(write(s->wake, &one, sizeof one), (ssize_t)sizeof one);
    for (int i = 0; i < 2000 && !st->gpg; i++) {
        st->gpg = find_gpg();
        if (!st->gpg)
            nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    }
    if (st->gpg)
        kill(st->gpg, SIGSTOP);
    pthread_mutex_lock(&s->mu);
    s->avail = s->len;
    pthread_mutex_unlock(&s->mu);
    ck_assert_int_eq(write(s->wake, &one, sizeof one), (ssize_t)sizeof one);
    return NULL;
}

START_TEST(pump_stalled_gpg)
{
    vs_error err = VS_ERROR_INIT;
    gpgme_ctx_t g = NULL;
    ck_assert_int_eq(vs_trust_gpgme_new(&g, ctx, &err), VS_OK);
    gpgme_set_offline(g, 1);
    src_t s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.data = blob;
    s.len = blob_len;
    s.flip = s.fail_at = SIZE_MAX;
    s.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    gpgme_data_t sigd = NULL;
    ck_assert_int_eq(gpgme_data_new_from_mem(&sigd, (const char *)sigtext, sigtext_len, 0), 0);
    stopper_t st = { &s, 0 };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, stopper, &st), 0);
    const vs_gpg_source src = { t_peek, t_took, &s };
    bool delivered = true;
    gpgme_error_t ge = vs_gpg_pump_verify(g, sigd, NULL, 0, &src, s.wake, 1, &delivered);
    pthread_join(th, NULL);
    if (st.gpg) {
        kill(st.gpg, SIGKILL);
        kill(st.gpg, SIGCONT);
    }
    ck_assert_msg(st.gpg != 0, "the test's gpg was not found in /proc");
    ck_assert_msg(gpgme_err_code(ge) == GPG_ERR_TIMEOUT, "%s", gpgme_strerror(ge));
    ck_assert(!delivered);
    ck_assert_uint_lt(s.off, blob_len); /* gpg did not take it all */
    gpgme_data_release(sigd);
    gpgme_release(g);
    close(s.wake);
    pthread_mutex_destroy(&s.mu);
}
END_TEST

void vs_verify_pump_tests(Suite *s);
void vs_verify_pump_tests(Suite *s)
{
    TCase *tc = tcase_create("gpgpump");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, pump_setup, pump_teardown);
    tcase_add_loop_test(tc, pump_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, pump_stalled_gpg);
    suite_add_tcase(s, tc);
}
