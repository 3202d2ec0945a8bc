/* common/jobq.c - one worker thread that runs jobs in the order they were
 * given, from a small ring of fixed-size jobs (copied in). The one place
 * where vetstage hands work to another core: stage's hashing
 * (stage/hashworker.c) and the background fdatasync (common/flusher.c) are
 * both jobs of their own kind on it.
 *
 * Without a thread (pthread_create failed) every job runs at once in the
 * caller: the same results, one core. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/common_int.h"

struct vs_jobq {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t more; /* a job was added, or stop */
    pthread_cond_t done; /* a job was done: room in the ring */
    vs_job_fn run;
    void *ud;
    size_t jobsize;
    unsigned ring;
    uint8_t *jobs;     /* ring x jobsize */
    uint8_t *scratch;  /* the job being run, copied out of the ring */
    uint64_t added;    /* jobs given so far; job k is slot (k - 1) % ring */
    uint64_t finished; /* jobs done so far, in order */
    bool stop;
    bool threaded;
};

static void *worker(void *arg)
{
    vs_jobq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->finished == q->added && !q->stop)
            pthread_cond_wait(&q->more, &q->mu);
        if (q->finished == q->added)
            break; /* stop, and nothing left */
        memcpy(q->scratch, q->jobs + (size_t)(q->finished % q->ring) * q->jobsize, q->jobsize);
        pthread_mutex_unlock(&q->mu);
        q->run(q->scratch, q->ud);
        pthread_mutex_lock(&q->mu);
        q->finished++;
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

vs_jobq *vs_jobq_start(size_t jobsize, unsigned ring, vs_job_fn run, void *ud)
{
    vs_jobq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->run = run;
    q->ud = ud;
    q->jobsize = jobsize;
    q->ring = ring ? ring : 1;
    q->jobs = calloc(q->ring, jobsize);
    q->scratch = malloc(jobsize);
    if (!q->jobs || !q->scratch || pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q->jobs);
        free(q->scratch);
        free(q);
        return NULL;
    }
    if (pthread_cond_init(&q->more, NULL) != 0 || pthread_cond_init(&q->done, NULL) != 0) {
        /* a failed init leaves nothing to destroy on Linux */
        pthread_mutex_destroy(&q->mu);
        free(q->jobs);
        free(q->scratch);
        free(q);
        return NULL;
    }
    q->threaded = pthread_create(&q->th, NULL, worker, q) == 0;
    return q;
}

bool vs_jobq_threaded(const vs_jobq *q)
{
    return q && q->threaded;
}

uint64_t vs_jobq_add(vs_jobq *q, const void *job)
{
    if (!q->threaded) {
        memcpy(q->scratch, job, q->jobsize);
        q->run(q->scratch, q->ud);
        return ++q->added;
    }
    pthread_mutex_lock(&q->mu);
    while (q->added - q->finished >= q->ring)
        pthread_cond_wait(&q->done, &q->mu);
    memcpy(q->jobs + (size_t)(q->added % q->ring) * q->jobsize, job, q->jobsize);
    uint64_t seq = ++q->added;
    pthread_cond_signal(&q->more);
    pthread_mutex_unlock(&q->mu);
    return seq;
}

bool vs_jobq_done(vs_jobq *q, uint64_t seq)
{
    if (!q->threaded)
        return true;
    pthread_mutex_lock(&q->mu);
    bool done = q->finished >= seq;
    pthread_mutex_unlock(&q->mu);
    return done;
}

void vs_jobq_wait(vs_jobq *q, uint64_t seq)
{
    if (!q->threaded)
        return;
    pthread_mutex_lock(&q->mu);
    while (q->finished < seq)
        pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void vs_jobq_drain(vs_jobq *q)
{
    if (!q->threaded)
        return;
    pthread_mutex_lock(&q->mu);
    while (q->finished < q->added)
        pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void vs_jobq_stop(vs_jobq *q)
{
    if (!q)
        return;
    if (q->threaded) {
        pthread_mutex_lock(&q->mu);
        q->stop = true;
        pthread_cond_signal(&q->more);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->th, NULL); /* runs every job still in the ring first */
    }
    pthread_cond_destroy(&q->more);
    pthread_cond_destroy(&q->done);
    pthread_mutex_destroy(&q->mu);
    free(q->jobs);
    free(q->scratch);
    free(q);
}
