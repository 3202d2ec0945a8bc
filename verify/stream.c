/*
 * verify/stream.c - gpg checks a package's detached signature while the
 * package is still arriving.
 *
 * The download's bytes are handed over (vs_gpg_stream_put) through a
 * bounded buffer (VS_GPG_STREAM_BUF) to a thread that runs gpgme_op_verify
 * and reads them from it, so gpg ends shortly after the last byte. The
 * outcome is only an input to vs_verify_package_streamed, which takes it
 * only when exactly the package's bytes went through (and the signature
 * file is the one given here); otherwise gpg is run over the file as usual.
 * Nothing is decided here.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "keys/trust.h"
#include "verify/verify_int.h"

#define VS_GPG_STREAM_BUF (256u * 1024u)
/* A gpg that takes nothing for this long no longer holds the download up:
 * the stream is given up and gpg checks the file afterwards (the download
 * keeps its own --timeout). */
#define VS_GPG_STREAM_STALL_S 5

struct vs_gpg_stream {
    gpgme_ctx_t g;
    uint8_t *sig; /* the signature file as given */
    size_t sig_len;
    uint8_t *head; /* signed-message form: signature packet + literal header */
    size_t head_len;
    uint64_t lit_len; /* the package length the literal header declares */
    pthread_t th;
    bool running;
    int wake_fd; /* eventfd: the loop waits on it while the ring is empty */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf; /* ring */
    size_t rd, fill;
    bool eof, voided, reader_done;
    bool drained; /* gpg read up to the end of the package */
    uint64_t fed; /* package bytes put */
    gpgme_error_t ge;
};

/* The loop's view of the stream: the ring. */
static int src_peek(void *payload, const uint8_t **p, size_t *n)
{
    vs_gpg_stream *s = payload;
    int st;
    pthread_mutex_lock(&s->mu);
    if (s->voided) {
        st = VS_GPG_SRC_FAIL;
    } else if (s->fill > 0) {
        size_t first = VS_GPG_STREAM_BUF - s->rd;
        *p = s->buf + s->rd;
        *n = s->fill < first ? s->fill : first;
        st = VS_GPG_SRC_BYTES;
    } else if (s->eof) {
        st = VS_GPG_SRC_END;
    } else {
        st = VS_GPG_SRC_MORE;
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void src_took(void *payload, size_t n)
{
    vs_gpg_stream *s = payload;
    pthread_mutex_lock(&s->mu);
    s->rd = (s->rd + n) % VS_GPG_STREAM_BUF;
    s->fill -= n;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Tell the loop that peek may say something new (mu held). */
static void wake_locked(vs_gpg_stream *s)
{
    uint64_t one = 1;
    if (s->wake_fd >= 0 && write(s->wake_fd, &one, sizeof one) < 0) {
        /* a full eventfd counter is already readable */
    }
}

static void *stream_thread(void *arg)
{
    vs_gpg_stream *s = arg;
    const vs_gpg_source src = { src_peek, src_took, s };
    gpgme_data_t sigd = NULL;
    gpgme_error_t ge = 0;
    bool delivered = false;
    if (!s->head)
        ge = gpgme_data_new_from_mem(&sigd, (const char *)s->sig, s->sig_len, 0);
    if (!ge)
        ge = vs_gpg_pump_verify(s->g, sigd, s->head, s->head_len, &src, s->wake_fd,
                                VS_GPG_STREAM_STALL_S, &delivered);
    gpgme_data_release(sigd);
    pthread_mutex_lock(&s->mu);
    s->ge = ge;
    s->drained = delivered; /* gpg read up to the end of the package */
    s->reader_done = true; /* put() no longer waits for room */
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

vs_status vs_gpg_stream_start(vs_ctx *ctx, const uint8_t *sig, size_t len, uint64_t total,
                              bool total_known, vs_gpg_stream **out, vs_error *err)
{
    *out = NULL;
    vs_gpg_stream *s = calloc(1, sizeof *s);
    if (!s)
        return vs_error_subj(err, VS_E_INTERNAL, "gpg", "out of memory");
    s->wake_fd = -1;
    s->sig = malloc(len + 1);
    s->buf = malloc(VS_GPG_STREAM_BUF);
    s->head = malloc(len + VS_PGP_LITERAL_HEADER);
    if (!s->sig || !s->buf || !s->head) {
        vs_gpg_stream_free(s);
        return vs_error_subj(err, VS_E_INTERNAL, "gpg", "out of memory");
    }
    memcpy(s->sig, sig, len);
    s->sig_len = len;
    size_t hlen = 0, lh = 0;
    if (total_known && vs_pgp_detached_binary(sig, len, s->head, len, &hlen))
        lh = vs_pgp_literal_header(total, s->head + hlen);
    if (lh) {
        s->head_len = hlen + lh;
        s->lit_len = total;
    } else {
        free(s->head);
        s->head = NULL;
    }
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0) {
        vs_gpg_stream_free(s);
        return vs_error_subj(err, VS_E_INTERNAL, "gpg", "cannot make an eventfd: %s",
                             strerror(errno));
    }
    vs_status st = vs_trust_gpgme_new(&s->g, ctx, err);
    if (st) {
        vs_gpg_stream_free(s);
        return st;
    }
    gpgme_set_offline(s->g, 1);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, stream_thread, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        gpgme_release(s->g);
        s->g = NULL;
        vs_gpg_stream_free(s);
        return vs_error_subj(err, VS_E_INTERNAL, "gpg", "cannot start a thread");
    }
    s->running = true;
    *out = s;
    return VS_OK;
}

/* Give the stream up (mu held): the loop stops gpg (gpgme_cancel) when it
 * sees this, and the stream's outcome is never used. */
static void void_locked(vs_gpg_stream *s)
{
    s->voided = true; /* the loop stops gpg when it sees this */
    pthread_cond_broadcast(&s->cv);
    wake_locked(s);
}

/* Wait for room in the ring (mu held); false when gpg took nothing for
 * VS_GPG_STREAM_STALL_S seconds. */
static bool wait_room(vs_gpg_stream *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += VS_GPG_STREAM_STALL_S;
    while (s->fill == VS_GPG_STREAM_BUF && !s->reader_done && !s->voided)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT &&
            s->fill == VS_GPG_STREAM_BUF)
            return false;
    return true;
}

void vs_gpg_stream_put(vs_gpg_stream *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    pthread_mutex_lock(&s->mu);
    s->fed += n;
    /* more bytes than the literal header declared (a resumed download with
     * another length): gpg would read the rest as further packets */
    if (s->head && s->fed > s->lit_len)
        void_locked(s);
    while (n > 0 && !s->voided && !s->reader_done) {
        if (!wait_room(s)) {
            void_locked(s);
            break;
        }
        if (s->reader_done || s->voided)
            break;
        size_t wr = (s->rd + s->fill) % VS_GPG_STREAM_BUF;
        size_t k = VS_GPG_STREAM_BUF - s->fill;
        if (k > VS_GPG_STREAM_BUF - wr)
            k = VS_GPG_STREAM_BUF - wr;
        if (k > n)
            k = n;
        memcpy(s->buf + wr, b, k);
        s->fill += k;
        b += k;
        n -= k;
        if (s->fill == k)
            wake_locked(s); /* the ring was empty: the loop may be waiting */
    }
    pthread_mutex_unlock(&s->mu);
}

void vs_gpg_stream_void(vs_gpg_stream *s)
{
    pthread_mutex_lock(&s->mu);
    void_locked(s);
    pthread_mutex_unlock(&s->mu);
}

void vs_gpg_stream_end(vs_gpg_stream *s)
{
    if (!s || !s->running)
        return;
    pthread_mutex_lock(&s->mu);
    s->eof = true;
    pthread_cond_broadcast(&s->cv);
    wake_locked(s);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    s->running = false;
}

bool vs_gpg_stream_result(const vs_gpg_stream *s, const uint8_t *sig, size_t len, uint64_t size,
                          gpgme_ctx_t *g, gpgme_error_t *ge)
{
    /* Only a complete, undisturbed run counts: exactly the package's bytes
     * went through (and exactly the length the literal header declared),
     * the signature file is the one gpg got, gpg read them to the end, and
     * gpgme finished without an error of its own (gpg killed or failing:
     * its outcome is no verdict, and gpg checks the file instead). */
    if (!s || s->running || s->voided || !s->g || s->fed != size || len != s->sig_len ||
        memcmp(sig, s->sig, len) != 0 || s->ge != 0 || !s->drained ||
        (s->head && s->fed != s->lit_len))
        return false;
    *g = s->g;
    *ge = s->ge;
    return true;
}

void vs_gpg_stream_free(vs_gpg_stream *s)
{
    if (!s)
        return;
    if (s->running) {
        vs_gpg_stream_void(s);
        vs_gpg_stream_end(s);
    }
    if (s->g) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        gpgme_release(s->g);
    }
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    free(s->sig);
    free(s->buf);
    free(s->head);
    free(s);
}
