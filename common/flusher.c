/* common/flusher.c - making written files durable on a thread of their
 * own, while the writer goes on writing the next ones.
 *
 * Why: a virtual disk with a write-back cache is flushed in proportion to
 * what was written since the last flush, so one sync at the end of a large
 * write waits for all of it (about 0.2 s for 128 MiB here), however early the
 * writeback was started. fdatasync(2) of each large file as soon as it is
 * complete, on another thread, spreads that wait over the time the writer
 * spends inflating and writing; the sync at the end then finds almost
 * nothing left. The writer never waits for the disk unless it is more than
 * RING files ahead.
 *
 * Several threads (LANES), each with its own queue: one fdatasync waits for
 * a journal commit and a cache flush of the disk, a few at once share them
 * (the file system batches concurrent commits), so the flushes keep up with
 * the writer (one lane fell about 0.1 s behind a 128 MiB stage here, three
 * finish with it). A file's jobs all go to one lane (chosen by its fd), so
 * its periodic syncs and its final sync-and-close run in order.
 *
 * The flusher only ever adds durability: whatever it does not get to (a
 * thread that could not be started, a job dropped on abort) is left to the
 * caller's final sync, which stays the one that makes the whole tree
 * durable. A failed fdatasync is kept and reported by vs_flusher_finish.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common_int.h"

#define RING 64u
#define LANES 3u
#define SUBJECT_MAX 256

typedef struct fjob {
    int fd;
    bool close_after; /* a complete file: fdatasync, then close */
    char subject[SUBJECT_MAX];
} fjob;

struct vs_flusher {
    vs_jobq *q[LANES];
    pthread_mutex_t mu;  /* guards what follows (set on the worker, read by the owner) */
    bool discard;        /* stopping on a failure: close, never sync */
    int failed_errno;    /* the first fdatasync that failed */
    char failed_subject[SUBJECT_MAX];
};

static void run(void *arg, void *ud)
{
    fjob *j = arg;
    vs_flusher *f = ud;
    pthread_mutex_lock(&f->mu);
    bool discard = f->discard;
    pthread_mutex_unlock(&f->mu);
    int rc = 0, e = 0;
    if (!discard) {
        while ((rc = fdatasync(j->fd)) != 0 && errno == EINTR)
            ;
        e = errno;
    }
    if (j->close_after)
        close(j->fd);
    if (rc != 0 && e != EINVAL && e != EROFS) {
        pthread_mutex_lock(&f->mu);
        if (!f->failed_errno) {
            f->failed_errno = e;
            memcpy(f->failed_subject, j->subject, sizeof f->failed_subject);
        }
        pthread_mutex_unlock(&f->mu);
    }
}

vs_flusher *vs_flusher_start(void)
{
    vs_flusher *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        return NULL;
    }
    bool ok = true;
    for (unsigned i = 0; i < LANES; i++) {
        f->q[i] = vs_jobq_start(sizeof(fjob), RING, run, f);
        ok = ok && vs_jobq_threaded(f->q[i]);
    }
    if (!ok) { /* a thread short: the caller's final sync does it all */
        for (unsigned i = 0; i < LANES; i++)
            vs_jobq_stop(f->q[i]);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return NULL;
    }
    return f;
}

static uint64_t add(vs_flusher *f, int fd, bool close_after, const char *subject)
{
    if (!f) {
        if (close_after)
            close(fd);
        return 0;
    }
    fjob j;
    memset(&j, 0, sizeof j);
    j.fd = fd;
    j.close_after = close_after;
    snprintf(j.subject, sizeof j.subject, "%s", subject ? subject : "file");
    /* the job's number in its lane, and the lane: (seq - 1) % LANES */
    unsigned lane = (unsigned)fd % LANES;
    return (vs_jobq_add(f->q[lane], &j) - 1) * LANES + lane + 1;
}

void vs_flusher_close(vs_flusher *f, int fd, const char *subject)
{
    (void)add(f, fd, true, subject);
}

uint64_t vs_flusher_sync(vs_flusher *f, int fd, const char *subject)
{
    return add(f, fd, false, subject);
}

bool vs_flusher_busy(vs_flusher *f, uint64_t seq)
{
    if (!f || seq == 0)
        return false;
    return !vs_jobq_done(f->q[(seq - 1) % LANES], (seq - 1) / LANES + 1);
}

vs_status vs_flusher_finish(vs_flusher *f, vs_error *err)
{
    if (!f)
        return VS_OK;
    for (unsigned i = 0; i < LANES; i++)
        vs_jobq_drain(f->q[i]);
    pthread_mutex_lock(&f->mu);
    int e = f->failed_errno;
    char subject[SUBJECT_MAX];
    memcpy(subject, f->failed_subject, sizeof subject);
    pthread_mutex_unlock(&f->mu);
    if (e)
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, subject,
                                   "cannot make it durable (fdatasync)");
    return VS_OK;
}

void vs_flusher_stop(vs_flusher *f, bool discard)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->discard = f->discard || discard;
    pthread_mutex_unlock(&f->mu);
    for (unsigned i = 0; i < LANES; i++)
        vs_jobq_stop(f->q[i]); /* every file still queued is closed first */
    pthread_mutex_destroy(&f->mu);
    free(f);
}
