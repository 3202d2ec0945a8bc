/* stage/hashworker.c - SHA-256 on the second core while the extractor
 * inflates and writes: hash jobs (update a context with a buffer, finish it
 * into a digest, or drop it) run in the order given on a job queue
 * (common/jobq.c). The caller owns the buffers and reuses one only after
 * vs_hashworker_wait() on the job that used it; memory is the ring (a few
 * dozen bytes a job), whatever the package size. */
#include <stdlib.h>

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

static void run_job(void *arg, void *ud)
{
    job *j = arg;
    (void)ud;
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

vs_hashworker *vs_hashworker_start(void)
{
    return vs_jobq_start(sizeof(job), RING, run_job, NULL);
}

uint64_t vs_hashworker_update(vs_hashworker *w, const vs_sha256 *h, const void *p, size_t n)
{
    job j = { JOB_UPDATE, *h, p, n, NULL };
    return vs_jobq_add(w, &j);
}

uint64_t vs_hashworker_final(vs_hashworker *w, const vs_sha256 *h, uint8_t out[VS_SHA256_LEN])
{
    job j = { JOB_FINAL, *h, NULL, 0, out };
    return vs_jobq_add(w, &j);
}

uint64_t vs_hashworker_abort(vs_hashworker *w, const vs_sha256 *h)
{
    job j = { JOB_ABORT, *h, NULL, 0, NULL };
    return vs_jobq_add(w, &j);
}

void vs_hashworker_wait(vs_hashworker *w, uint64_t seq)
{
    vs_jobq_wait(w, seq);
}

void vs_hashworker_stop(vs_hashworker *w)
{
    vs_jobq_stop(w);
}
