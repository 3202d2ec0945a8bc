/*
 * fetch/batch.c - small files fetched side by side (vs_fetch_batch).
 *
 * One thread per file, each with its own libcurl easy handle through the
 * one transfer path (vs_fetch_to_memory_ex), rather than a curl multi
 * handle: the transfer's policy (retries with backoff, resume rules,
 * file:// read by us, every status judged in one place) stays one piece of
 * code, and a batch is a handful of files. A thread never calls the
 * caller's context: each transfer gets a context of its own whose log and
 * progress callbacks record, and vs_fetch_batch_replay hands the record to
 * the caller's context in the caller's thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/fetch_int.h"

/* What one transfer logged or reported, kept for the caller's thread.
 * Download updates of the same file replace each other (the last counts);
 * past REC_MAX entries only the last slot is overwritten. */
#define REC_MAX 64

typedef struct rec_entry {
    bool is_log;
    vs_log_level lvl;
    vs_progress_phase phase;
    vs_progress_kind kind;
    uint64_t done, total;
    char *text; /* the log line, or the progress event's `what` */
} rec_entry;

typedef struct slot {
    struct vs_fetch_batch *b;
    size_t i;
    vs_ctx own; /* the transfer's context: callbacks that record */
    rec_entry rec[REC_MAX];
    size_t nrec;
    bool threaded, finished, reported, replayed;
    pthread_t th;
} slot;

struct vs_fetch_batch {
    vs_ctx *ctx;
    const vs_fetch_opts *opts;
    vs_fetch_item *items;
    size_t n;
    uint64_t deadline_ms;
    atomic_bool cancel;
    bool stopped;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *slots;
};

static rec_entry *rec_next(slot *s)
{
    if (s->nrec == REC_MAX) {
        free(s->rec[REC_MAX - 1].text);
        s->rec[REC_MAX - 1].text = NULL;
        return &s->rec[REC_MAX - 1];
    }
    return &s->rec[s->nrec++];
}

static void rec_log(vs_log_level lvl, const char *msg, void *payload)
{
    slot *s = payload;
    rec_entry *e = rec_next(s);
    memset(e, 0, sizeof *e);
    e->is_log = true;
    e->lvl = lvl;
    e->text = strdup(msg);
}

static void rec_progress(const vs_progress_event *ev, void *payload)
{
    slot *s = payload;
    rec_entry *e = s->nrec ? &s->rec[s->nrec - 1] : NULL;
    bool same = e && !e->is_log && ev->kind == VS_PROGRESS_UPDATE &&
                e->kind == VS_PROGRESS_UPDATE && e->phase == ev->phase && e->text &&
                ev->what && strcmp(e->text, ev->what) == 0;
    if (!same) {
        e = rec_next(s);
        memset(e, 0, sizeof *e);
        e->text = ev->what ? strdup(ev->what) : NULL;
    }
    e->phase = ev->phase;
    e->kind = ev->kind;
    e->done = ev->done;
    e->total = ev->total;
}

static void run_item(slot *s)
{
    struct vs_fetch_batch *b = s->b;
    vs_fetch_item *it = &b->items[s->i];
    it->st = vs_fetch_to_memory_ex(&it->data, &it->len, &s->own, it->url, it->max, b->opts,
                                   &b->cancel, b->deadline_ms, &it->err);
}

static void *item_thread(void *arg)
{
    slot *s = arg;
    run_item(s);
    pthread_mutex_lock(&s->b->mu);
    s->finished = true;
    pthread_cond_broadcast(&s->b->cv);
    pthread_mutex_unlock(&s->b->mu);
    return NULL;
}

vs_status vs_fetch_batch_start(vs_fetch_batch **out, vs_ctx *ctx, vs_fetch_item *items, size_t n,
                               const vs_fetch_opts *opts, uint64_t deadline_ms, vs_error *err)
{
    *out = NULL;
    /* libcurl's global set-up happens once, here, not in n threads at once */
    vs_status st = vs_lib_init(err);
    if (st)
        return st;
    vs_fetch_batch *b = calloc(1, sizeof *b);
    slot *slots = calloc(n ? n : 1, sizeof *slots);
    if (!b || !slots) {
        free(b);
        free(slots);
        return vs_error_subj(err, VS_E_INTERNAL, "fetch", "out of memory");
    }
    b->ctx = ctx;
    b->opts = opts;
    b->items = items;
    b->n = n;
    b->deadline_ms = deadline_ms;
    b->slots = slots;
    atomic_init(&b->cancel, false);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    for (size_t i = 0; i < n; i++) {
        slot *s = &slots[i];
        vs_fetch_item *it = &items[i];
        it->data = NULL;
        it->len = 0;
        it->st = VS_OK;
        vs_error_clear(&it->err);
        s->b = b;
        s->i = i;
        s->own.home_fd = -1;
        s->own.log_cb = ctx && ctx->log_cb ? rec_log : NULL;
        s->own.log_level = ctx ? ctx->log_level : VS_LOG_ERROR;
        s->own.log_payload = s;
        s->own.progress_ev_cb = ctx && (ctx->progress_ev_cb || ctx->progress_cb) ? rec_progress
                                                                                 : NULL;
        s->own.progress_ev_payload = s;
        if (!it->url) {
            s->finished = s->reported = s->replayed = true;
            continue;
        }
        s->threaded = pthread_create(&s->th, NULL, item_thread, s) == 0;
        if (!s->threaded) { /* no thread to be had: this one in turn, here */
            run_item(s);
            s->finished = true;
        }
    }
    *out = b;
    return VS_OK;
}

size_t vs_fetch_batch_next(vs_fetch_batch *b)
{
    pthread_mutex_lock(&b->mu);
    size_t found = b->n;
    for (;;) {
        bool pending = false;
        for (size_t i = 0; i < b->n && found == b->n; i++) {
            slot *s = &b->slots[i];
            if (s->finished && !s->reported) {
                s->reported = true;
                found = i;
            }
            pending = pending || !s->finished;
        }
        if (found < b->n || !pending || b->stopped)
            break;
        pthread_cond_wait(&b->cv, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return found;
}

void vs_fetch_batch_stop(vs_fetch_batch *b)
{
    if (!b || b->stopped)
        return;
    atomic_store(&b->cancel, true);
    for (size_t i = 0; i < b->n; i++)
        if (b->slots[i].threaded)
            pthread_join(b->slots[i].th, NULL);
    pthread_mutex_lock(&b->mu);
    b->stopped = true;
    for (size_t i = 0; i < b->n; i++) {
        slot *s = &b->slots[i];
        if (s->reported)
            continue;
        /* finished after the caller stopped listening: void */
        vs_fetch_item *it = &b->items[i];
        free(it->data);
        it->data = NULL;
        it->len = 0;
        it->st = VS_E_FETCH;
        s->reported = s->replayed = true;
    }
    pthread_mutex_unlock(&b->mu);
}

void vs_fetch_batch_replay(vs_fetch_batch *b, size_t i)
{
    if (!b || i >= b->n || b->slots[i].replayed || !b->slots[i].finished)
        return;
    slot *s = &b->slots[i];
    s->replayed = true;
    for (size_t k = 0; k < s->nrec; k++) {
        rec_entry *e = &s->rec[k];
        if (e->is_log && e->text)
            vs_log(b->ctx, e->lvl, "%s", e->text);
        else if (!e->is_log)
            vs_progress_ev(b->ctx, e->phase, e->kind, e->text ? e->text : "", e->done, e->total);
    }
}

void vs_fetch_batch_free(vs_fetch_batch *b)
{
    if (!b)
        return;
    vs_fetch_batch_stop(b);
    for (size_t i = 0; i < b->n; i++)
        for (size_t k = 0; k < b->slots[i].nrec; k++)
            free(b->slots[i].rec[k].text);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b->slots);
    free(b);
}
