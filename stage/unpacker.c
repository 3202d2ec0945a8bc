/* stage/unpacker.c - the package's decompression on a thread of its own.
 *
 * Stage reads a package in two steps (stage/extract.c): the decompression
 * (igzip for gzip, gunzip.c; libarchive's filters and raw format for the
 * others) turns the package into the tar stream, and libarchive's tar
 * reader takes the entries from that stream. This file runs the first step
 * on a thread, into a small ring of buffers, while the caller's thread
 * parses the entries and writes the files: inflating and writing, one core
 * each, instead of one after the other.
 *
 * The consumer takes the buffers in order (vs_unpacker_next); a buffer it
 * was given is handed back by its next call, since libarchive keeps using
 * the last block its read callback returned until it asks for another. A
 * decompression error is kept (message and code) and handed to the consumer
 * after the buffers filled before it, where a single reader would have met
 * it. Memory is the ring, whatever the package size.
 *
 * Without a thread (pthread_create failed) the consumer's call decompresses
 * the next block itself: the same results, one core. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

#define SLOTS 8u

typedef enum ustate { U_RUN, U_EOF, U_ERROR } ustate;

struct vs_unpacker {
    vs_unpack_fn fn;
    void *ud;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t filled; /* a slot was filled, or the producer ended */
    pthread_cond_t freed;  /* a slot was handed back, or stop */
    uint8_t *buf;          /* SLOTS x VS_IO_BUFSIZE */
    size_t len[SLOTS];
    uint64_t produced, consumed; /* slot k is (k % SLOTS) */
    bool held;                   /* the consumer holds slot consumed - 1 */
    ustate state;
    bool stop, threaded;
    int code;       /* the error's code (an errno, or libarchive's) */
    char msg[512];  /* ... and its message */
};

/* One block into slot i: its length, 0 at the end, -1 on an error (kept). */
static ssize_t fill(vs_unpacker *u, unsigned i)
{
    return u->fn(u->ud, u->buf + (size_t)i * VS_IO_BUFSIZE, VS_IO_BUFSIZE, u->msg, sizeof u->msg,
                 &u->code);
}

static void *producer(void *arg)
{
    vs_unpacker *u = arg;
    pthread_mutex_lock(&u->mu);
    for (;;) {
        /* every slot but the one the consumer holds may be filled */
        while (!u->stop && u->produced - u->consumed + (u->held ? 1u : 0u) >= SLOTS)
            pthread_cond_wait(&u->freed, &u->mu);
        if (u->stop)
            break;
        unsigned i = (unsigned)(u->produced % SLOTS);
        pthread_mutex_unlock(&u->mu);
        ssize_t n = fill(u, i);
        pthread_mutex_lock(&u->mu);
        if (n <= 0) {
            u->state = n == 0 ? U_EOF : U_ERROR;
            pthread_cond_signal(&u->filled);
            break;
        }
        u->len[i] = (size_t)n;
        u->produced++;
        pthread_cond_signal(&u->filled);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

vs_unpacker *vs_unpacker_start(vs_unpack_fn fn, void *ud)
{
    vs_unpacker *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->fn = fn;
    u->ud = ud;
    u->buf = malloc((size_t)SLOTS * VS_IO_BUFSIZE);
    if (!u->buf || pthread_mutex_init(&u->mu, NULL) != 0) {
        free(u->buf);
        free(u);
        return NULL;
    }
    if (pthread_cond_init(&u->filled, NULL) != 0 || pthread_cond_init(&u->freed, NULL) != 0) {
        pthread_mutex_destroy(&u->mu); /* a failed init leaves nothing to destroy on Linux */
        free(u->buf);
        free(u);
        return NULL;
    }
    u->threaded = pthread_create(&u->th, NULL, producer, u) == 0;
    return u;
}

/* Inline, without the thread: the next block straight into slot 0. */
static ssize_t next_inline(vs_unpacker *u, const void **out)
{
    if (u->state != U_RUN)
        return u->state == U_EOF ? 0 : -1;
    ssize_t n = fill(u, 0);
    if (n <= 0) {
        u->state = n == 0 ? U_EOF : U_ERROR;
        return n;
    }
    *out = u->buf;
    return n;
}

ssize_t vs_unpacker_next(vs_unpacker *u, const void **out)
{
    if (!u->threaded)
        return next_inline(u, out);
    pthread_mutex_lock(&u->mu);
    if (u->held) { /* libarchive is done with the block it had */
        u->held = false;
        pthread_cond_signal(&u->freed);
    }
    while (u->consumed == u->produced && u->state == U_RUN && !u->stop)
        pthread_cond_wait(&u->filled, &u->mu);
    ssize_t n;
    if (u->consumed < u->produced) {
        unsigned i = (unsigned)(u->consumed % SLOTS);
        *out = u->buf + (size_t)i * VS_IO_BUFSIZE;
        n = (ssize_t)u->len[i];
        u->consumed++;
        u->held = true;
    } else {
        n = u->state == U_ERROR ? -1 : 0;
    }
    pthread_mutex_unlock(&u->mu);
    return n;
}

const char *vs_unpacker_error(const vs_unpacker *u, int *code)
{
    *code = u->code;
    return u->msg[0] ? u->msg : "damaged or truncated data";
}

void vs_unpacker_stop(vs_unpacker *u)
{
    if (!u || !u->threaded)
        return;
    pthread_mutex_lock(&u->mu);
    u->stop = true;
    pthread_cond_signal(&u->freed);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->th, NULL);
    u->threaded = false;
    if (u->state == U_RUN)
        u->state = U_EOF; /* stopped: nothing more is decompressed */
}

void vs_unpacker_free(vs_unpacker *u)
{
    if (!u)
        return;
    vs_unpacker_stop(u);
    pthread_cond_destroy(&u->filled);
    pthread_cond_destroy(&u->freed);
    pthread_mutex_destroy(&u->mu);
    free(u->buf);
    free(u);
}
