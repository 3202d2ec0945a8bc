/* stage/hashworker.c - SHA-256 on the second core while the extractor
 * inflates and writes: a worker thread takes hash jobs (update a context
 * with a buffer, finish it into a digest, or drop it) from a small ring, in
 * the order they were given. The caller owns the buffers and reuses one only
 * after vs_hashworker_wait() on the job that used it; memory is the ring
 * (a few dozen bytes a job), whatever the package size.
 *
 * Without a thread (pthread_create failed) every job runs at once in the
 * caller: the same results, one core. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

typedef enum job_kind { JOB_UPDATE, JOB_FINAL, JOB_ABORT } job_kind;

typedef struct job {
    job_kind kind;
    vs_sha256 h; /* a copy of the handle: the job owns nothing else */
    const void *p;
    size_t n;
    uint8_t *out; /* JOB_FINAL: VS_SHA256_LEN bytes */
} job;

#define RING 32u

struct vs_hashworker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t more;  /* a job was added, or stop */
    pthread_cond_t done;  /* a job was done, or room in the ring */
    job ring[RING];
    uint64_t added;       /* jobs given so far; job k is ring[(k - 1) % RING] */
    uint64_t finished;    /* jobs done so far (in order) */
    bool stop;
    bool threaded;
};

static void run_job(job *j)
{
    switch (j->kind) {
    case JOB_UPDATE:
        vs_sha256_update(&j->h, j->p, j->n);
        break;
    case JOB_FINAL:
        vs_sha256_final(&j->h, j->out);
        break;
    case JOB_ABORT:
        vs_sha256_abort(&j->h);
        break;
    }
}

static void *worker(void *arg)
{
    vs_hashworker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->finished == w->added && !w->stop)
            pthread_cond_wait(&w->more, &w->mu);
        if (w->finished == w->added)
            break; /* stop, and nothing left */
        job j = w->ring[w->finished % RING];
        pthread_mutex_unlock(&w->mu);
        run_job(&j);
        pthread_mutex_lock(&w->mu);
        w->finished++;
        pthread_cond_signal(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

vs_hashworker *vs_hashworker_start(void)
{
    vs_hashworker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_cond_init(&w->more, NULL) != 0 || pthread_cond_init(&w->done, NULL) != 0) {
        /* a failed init leaves nothing to destroy on Linux; keep it simple */
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    w->threaded = pthread_create(&w->th, NULL, worker, w) == 0;
    return w;
}

static uint64_t add(vs_hashworker *w, const job *j)
{
    if (!w->threaded) {
        job copy = *j;
        run_job(&copy);
        return ++w->added;
    }
    pthread_mutex_lock(&w->mu);
    while (w->added - w->finished >= RING)
        pthread_cond_wait(&w->done, &w->mu);
    w->ring[w->added % RING] = *j;
    uint64_t seq = ++w->added;
    pthread_cond_signal(&w->more);
    pthread_mutex_unlock(&w->mu);
    return seq;
}

uint64_t vs_hashworker_update(vs_hashworker *w, const vs_sha256 *h, const void *p, size_t n)
{
    job j = { JOB_UPDATE, *h, p, n, NULL };
    return add(w, &j);
}

uint64_t vs_hashworker_final(vs_hashworker *w, const vs_sha256 *h, uint8_t out[VS_SHA256_LEN])
{
    job j = { JOB_FINAL, *h, NULL, 0, out };
    return add(w, &j);
}

uint64_t vs_hashworker_abort(vs_hashworker *w, const vs_sha256 *h)
{
    job j = { JOB_ABORT, *h, NULL, 0, NULL };
    return add(w, &j);
}

void vs_hashworker_wait(vs_hashworker *w, uint64_t seq)
{
    if (!w->threaded)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->finished < seq)
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void vs_hashworker_stop(vs_hashworker *w)
{
    if (!w)
        return;
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->more);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL); /* runs every job still in the ring first */
    }
    pthread_cond_destroy(&w->more);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
