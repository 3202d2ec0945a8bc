/* mirror/sync.c - `mirror sync`: fetch a URL list in parallel into the cache,
 * then write a static mirror tree from the cache objects. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mirror/mirror_int.h"

typedef struct item {
    const char *line;          /* as listed: a URL or NAME@VERSION */
    vs_cache_fetch_opts fo;    /* what to fetch, options resolved */
    vs_source_release *rel;    /* the source's release for NAME@VERSION */
    char **bases;              /* the template's mirror bases for this item */
    size_t nbases;
    vs_status st;
    vs_error err;
    vs_cache_entry *e; /* what the fetch admitted (or found) */
    /* progress (under the pool's lock): bytes of finished transfers, and
     * of the one under way with its total (0: unknown) */
    uint64_t ended, cur, cur_total;
    bool started, finished;
} item;

typedef struct pool {
    vs_ctx *parent;
    item *items;
    size_t n, next;
    pthread_mutex_t mu;
    char what[64];         /* the aggregate progress line's name */
    struct timespec last;  /* when it was last reported */
    uint64_t reported;     /* bytes in its last report */
} pool;

/* One worker's item, for its context's progress events. */
typedef struct worker_state {
    pool *p;
    item *it;
} worker_state;

/* Bytes so far of all items, and their total once every item has started
 * and every transfer under way has told its size (else 0: unknown). */
static void pool_bytes(const pool *p, uint64_t *done, uint64_t *total)
{
    uint64_t d = 0, t = 0;
    bool known = true;
    for (size_t i = 0; i < p->n; i++) {
        const item *it = &p->items[i];
        d += it->ended + it->cur;
        if (it->finished)
            t += it->ended;
        else if (it->started && it->cur_total)
            t += it->ended + it->cur_total;
        else
            known = false;
    }
    *done = d;
    *total = known ? t : 0;
}

/* Called with the lock held: one aggregate line for the parent's progress
 * callback, at most ~10 times a second (always when `end`). */
static void pool_report(pool *p, bool end)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - p->last.tv_sec) +
                (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
    if (!end && dt < 0.1)
        return;
    uint64_t done, total;
    pool_bytes(p, &done, &total);
    if (end && done == 0)
        return;
    p->last = now;
    p->reported = done;
    vs_progress_ev(p->parent, VS_PHASE_DOWNLOAD, end ? VS_PROGRESS_END : VS_PROGRESS_UPDATE,
                   p->what, done, end ? done : total);
}

/* A worker context's download events, folded into its item. */
static void on_progress(const vs_progress_event *ev, void *payload)
{
    worker_state *w = payload;
    if (ev->phase != VS_PHASE_DOWNLOAD || !w->it)
        return;
    pthread_mutex_lock(&w->p->mu);
    item *it = w->it;
    if (ev->kind == VS_PROGRESS_END) {
        it->ended += ev->done;
        it->cur = it->cur_total = 0;
    } else {
        it->cur = ev->done;
        it->cur_total = ev->total;
    }
    pool_report(w->p, false);
    pthread_mutex_unlock(&w->p->mu);
}

static void *worker(void *arg)
{
    pool *p = arg;
    vs_ctx *ctx = NULL;
    vs_error oerr = VS_ERROR_INIT;
    worker_state w = { p, NULL };
    /* one context per thread: nothing in a context is shared between calls */
    vs_status ost = vs_ctx_open(&ctx, p->parent->home, &oerr);
    if (!ost) {
        vs_ctx_set_log(ctx, p->parent->log_cb, p->parent->log_level, p->parent->log_payload);
        if (p->parent->progress_ev_cb || p->parent->progress_cb)
            vs_ctx_set_progress_events(ctx, on_progress, &w);
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next < p->n ? p->next++ : p->n;
        if (i < p->n)
            p->items[i].started = true;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            break;
        item *it = &p->items[i];
        if (ost) {
            it->st = ost;
            it->err = oerr;
            continue;
        }
        w.it = it;
        vs_verdict *v = NULL;
        bool already = false;
        it->st = vs_cache_fetch(&it->e, &already, &v, ctx, &it->fo, &it->err);
        vs_verdict_free(v);
        pthread_mutex_lock(&p->mu);
        it->ended += it->cur;
        it->cur = it->cur_total = 0;
        it->finished = true;
        w.it = NULL;
        pthread_mutex_unlock(&p->mu);
    }
    vs_ctx_free(ctx);
    return NULL;
}

/* dfd/NAME, created if absent, never through a symbolic link. */
static vs_status subdir(int dfd, const char *name, const char *shown, int *out, vs_error *err)
{
    if (mkdirat(dfd, name, 0755) != 0 && errno != EEXIST)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "cannot create the folder");
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, shown,
                                   "not a folder of the mirror tree (a symbolic link is not "
                                   "followed)");
    *out = fd;
    return VS_OK;
}

/* Copy one entry's files into DIR/NAME/VERSION/. */
static vs_status place(vs_ctx *ctx, const vs_cache_entry *e, int dfd, const char *dest,
                       vs_error *err)
{
    const char *files[1 + VS_CACHE_MAX_SIGS], *ids[1 + VS_CACHE_MAX_SIGS];
    size_t nf = 0;
    files[nf] = vs_cache_entry_file(e);
    ids[nf++] = vs_cache_entry_sha256(e);
    for (size_t i = 0; i < vs_cache_entry_nsigs(e); i++) {
        files[nf] = vs_cache_entry_sig_file(e, i);
        ids[nf++] = vs_cache_entry_sig_sha256(e, i);
    }
    char shown[VS_ERROR_SUBJECT_MAX];
    for (size_t i = 0; i < nf; i++)
        if (!vs_mirror_valid_file(files[i])) {
            snprintf(shown, sizeof shown, "%s@%s", vs_cache_entry_name(e),
                     vs_cache_entry_version(e));
            return vs_error_subj(err, VS_E_USAGE, shown,
                                 "'%s' is not a plain file name for a mirror tree", files[i]);
        }
    int nfd = -1, vfd = -1;
    snprintf(shown, sizeof shown, "%s/%s", dest, vs_cache_entry_name(e));
    vs_status st = subdir(dfd, vs_cache_entry_name(e), shown, &nfd, err);
    snprintf(shown, sizeof shown, "%s/%s/%s", dest, vs_cache_entry_name(e),
             vs_cache_entry_version(e));
    if (!st)
        st = subdir(nfd, vs_cache_entry_version(e), shown, &vfd, err);
    for (size_t i = 0; !st && i < nf; i++)
        st = vs_mirror_copy_object(ctx, ids[i], vfd, files[i], err);
    if (!st)
        st = vs_fsync_dir(vfd, shown, err);
    if (vfd >= 0)
        close(vfd);
    if (nfd >= 0)
        close(nfd);
    return st;
}

/* Is NAME/VERSION/FILE a regular file below dfd (no symbolic links)? */
static bool in_tree(int dfd, const char *name, const char *version, const char *file)
{
    if (!vs_valid_name(name) || !vs_valid_version(version) || !vs_mirror_valid_file(file))
        return false;
    int nfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (nfd < 0)
        return false;
    int vfd = openat(nfd, version, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(nfd);
    if (vfd < 0)
        return false;
    struct stat sb;
    bool ok = fstatat(vfd, file, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
    close(vfd);
    return ok;
}

/* index.json: the packages of this sync, then those of the old index whose
 * files are all still in place. */
static vs_status write_index(const item *items, size_t n, int dfd, const char *dest,
                             vs_error *err)
{
    size_t nok = 0;
    const vs_cache_entry **es = malloc((n ? n : 1) * sizeof *es);
    if (!es)
        return vs_error_subj(err, VS_E_INTERNAL, dest, "out of memory");
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < nok && items[i].st == VS_OK; k++)
            dup =
                dup || (!strcmp(vs_cache_entry_name(es[k]), vs_cache_entry_name(items[i].e)) &&
                        !strcmp(vs_cache_entry_version(es[k]), vs_cache_entry_version(items[i].e)));
        if (items[i].st == VS_OK && !dup)
            es[nok++] = items[i].e;
    }
    char *text = NULL;
    size_t len = 0;
    vs_status st = vs_mirror_index_format(&text, &len, es, nok, err);
    if (st) {
        free(es);
        return st;
    }
    json_t *root = json_loadb(text, len, 0, NULL);
    free(text);
    text = NULL;
    json_t *pk = root ? json_object_get(root, "packages") : NULL;
    uint8_t *old = NULL;
    size_t oldlen = 0;
    vs_error e2 = VS_ERROR_INIT;
    json_t *oroot = NULL;
    int ofd = openat(dfd, VS_MIRROR_INDEX, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (ofd >= 0) {
        close(ofd);
        if (pk && vs_read_file(dfd, VS_MIRROR_INDEX, VS_MAX_REF_FILE, &old, &oldlen, &e2) == VS_OK)
            oroot = json_loadb((const char *)old, oldlen, JSON_REJECT_DUPLICATES, NULL);
    }
    free(old);
    json_t *opk = json_is_object(oroot) ? json_object_get(oroot, "packages") : NULL;
    for (size_t i = 0; json_is_array(opk) && i < json_array_size(opk); i++) {
        json_t *o = json_array_get(opk, i);
        json_t *fs = json_is_object(o) ? json_object_get(o, "files") : NULL;
        const char *nm = json_string_value(json_object_get(o, "name"));
        const char *vr = json_string_value(json_object_get(o, "version"));
        const char *fn = json_string_value(json_object_get(o, "file"));
        if (!nm || !vr || !json_is_array(fs))
            continue;
        bool keep = true;
        for (size_t k = 0; k < nok && keep; k++)
            keep =
                strcmp(vs_cache_entry_name(es[k]), nm) || strcmp(vs_cache_entry_version(es[k]), vr);
        for (size_t j = 0; keep && j <= json_array_size(fs); j++) {
            const char *f = j == 0 ? fn
                                   : json_string_value(json_object_get(
                                         json_array_get(fs, j - 1), "file"));
            keep = f && in_tree(dfd, nm, vr, f);
        }
        if (keep)
            json_array_append(pk, o);
    }
    json_decref(oroot);
    free(es);
    if (pk)
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return vs_error_subj(err, VS_E_INTERNAL, dest, "out of memory");
    st = vs_write_file_atomic(dfd, VS_MIRROR_INDEX, text, strlen(text), 0644, err);
    free(text);
    if (st && err)
        vs_error_relabel(err, dest);
    return st;
}

/* What one line means: its fetch options (the template's win over a
 * source's) and its mirror bases. */
static vs_status prepare(vs_ctx *ctx, const vs_mirror_sync_opts *opts, const vs_config **cfg,
                         vs_config **owned, item *it, vs_error *err)
{
    it->fo = opts->fetch;
    const char *name = NULL, *version = NULL;
    char n[VS_MAX_NAME + 1], v[VS_MAX_VERSION + 1];
    vs_status st;
    if (vs_source_is_ref(it->line)) {
        if (!*cfg) {
            if ((st = vs_config_load(owned, ctx, NULL, err)))
                return st;
            *cfg = *owned;
        }
        if ((st = vs_source_resolve(&it->rel, *cfg, it->line, err)))
            return st;
        vs_source_apply(&it->fo, it->rel);
        name = it->rel->fetch.name;
        version = it->rel->fetch.version;
    } else {
        it->fo.url = it->line;
        vs_error e2 = VS_ERROR_INIT;
        if (vs_fetch_name_version(n, v, it->line, &e2) == VS_OK) {
            name = n;
            version = v;
        }
    }
    if (opts->fetch.nmirrors && name) {
        if ((st = vs_source_mirror_bases(&it->bases, &it->nbases, opts->fetch.mirrors,
                                         opts->fetch.nmirrors, name, version, err)))
            return st;
        it->fo.mirrors = (const char *const *)it->bases;
        it->fo.nmirrors = it->nbases;
    }
    return VS_OK;
}

static void items_free(item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        vs_source_release_free(items[i].rel);
        vs_source_mirror_bases_free(items[i].bases, items[i].nbases);
        vs_cache_entry_free(items[i].e);
    }
    free(items);
}

/* The options a list cannot take, and the number of threads. */
static vs_status sync_check_opts(const vs_mirror_sync_opts *opts, unsigned *jobs, vs_error *err)
{
    if (!opts || !opts->list || !*opts->list || !opts->dest || !*opts->dest)
        return vs_error_subj(err, VS_E_USAGE, "mirror sync", "a list and a destination are needed");
    if (VS_CHECK_OPTS(opts, vs_mirror_sync_opts, MIRROR_SYNC_OPTS, err) ||
        VS_CHECK_OPTS(&opts->fetch, vs_cache_fetch_opts, CACHE_FETCH_OPTS, err) ||
        VS_CHECK_OPTS(&opts->fetch.fetch, vs_fetch_opts, FETCH_OPTS, err))
        return VS_E_USAGE;
    const vs_cache_fetch_opts *t = &opts->fetch;
    if (t->url || t->name || t->version || t->gpg_sig_url || t->checksums_url || t->rsa_sig_url)
        return vs_error_subj(err, VS_E_USAGE, "mirror sync",
                             "per-package options (name, version, signature URLs) "
                             "do not apply to a list");
    if (t->nmirrors > VS_CACHE_MAX_MIRRORS / 2 || (t->nmirrors && !t->mirrors))
        return vs_error_subj(err, VS_E_USAGE, "--mirror", "more than %d mirrors",
                             VS_CACHE_MAX_MIRRORS / 2);
    *jobs = opts->jobs ? opts->jobs : VS_MIRROR_DEFAULT_JOBS;
    if (*jobs > VS_MIRROR_MAX_JOBS)
        return vs_error_subj(err, VS_E_USAGE, "--jobs", "at most %u jobs", VS_MIRROR_MAX_JOBS);
    return VS_OK;
}

/* Read the list, resolve every line (before anything is fetched or
 * created), then create and open dest. On failure everything is freed. */
static vs_status sync_prepare(vs_ctx *ctx, const vs_mirror_sync_opts *opts, pool *p,
                              char ***urls, vs_config **owned, int *dfd, vs_error *err)
{
    uint8_t *text = NULL;
    size_t len = 0;
    vs_status st = vs_read_file(AT_FDCWD, opts->list, VS_MAX_MIRROR_LIST, &text, &len, err);
    if (st) {
        if (err)
            err->status = VS_E_USAGE; /* an unreadable input file */
        return VS_E_USAGE;
    }
    st = vs_mirror_list_parse(text, len, opts->list, urls, &p->n, err);
    free(text);
    if (st)
        return st;
    p->items = calloc(p->n, sizeof *p->items);
    if (!p->items)
        st = vs_error_subj(err, VS_E_INTERNAL, opts->list, "out of memory");
    const vs_config *cfg = opts->config;
    for (size_t i = 0; i < p->n && !st; i++) {
        p->items[i].line = (*urls)[i];
        st = prepare(ctx, opts, &cfg, owned, &p->items[i], err);
    }
    if (!st && ((st = vs_mkdir_p(AT_FDCWD, opts->dest, 0755, err)) ||
                (st = vs_open_dir(AT_FDCWD, opts->dest, dfd, err)))) {
        if (err)
            err->status = VS_E_USAGE;
        st = VS_E_USAGE;
    }
    if (st) {
        items_free(p->items, p->n);
        p->items = NULL;
        vs_config_free(*owned);
        *owned = NULL;
        vs_mirror_urls_free(*urls, p->n);
        *urls = NULL;
    }
    return st;
}

/* Fetch every item on `jobs` threads; one aggregate progress line. */
static void sync_fetch_all(pool *p, unsigned jobs)
{
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->what, sizeof p->what, "mirror sync (%zu package%s)", p->n, p->n == 1 ? "" : "s");
    if (jobs > p->n)
        jobs = (unsigned)p->n;
    pthread_t th[VS_MIRROR_MAX_JOBS];
    unsigned started = 0;
    for (unsigned i = 0; i < jobs; i++) {
        if (pthread_create(&th[i], NULL, worker, p) != 0)
            break;
        started++;
    }
    if (started == 0)
        worker(p); /* no thread could start: do the work here */
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pool_report(p, true);
    pthread_mutex_destroy(&p->mu);
}

/* Report every item in list order; the worst status, err its first failure. */
static vs_status sync_report(const vs_mirror_sync_opts *opts, const pool *p, vs_status ist,
                             const vs_error *ierr, size_t *nok, size_t *nfailed, vs_error *err)
{
    vs_status worst = VS_OK;
    size_t good = 0, bad = 0;
    for (size_t i = 0; i < p->n; i++) {
        const item *it = &p->items[i];
        if (opts->cb)
            opts->cb(it->line, it->st, it->st ? &it->err : NULL, it->st ? NULL : it->e,
                     opts->payload);
        if (it->st == VS_OK) {
            good++;
            continue;
        }
        bad++;
        if (vs_mirror_worse(worst, it->st) != worst) {
            worst = it->st;
            if (err)
                *err = it->err;
        }
    }
    if (ist && vs_mirror_worse(worst, ist) != worst) {
        worst = ist;
        if (err)
            *err = *ierr;
    }
    if (nok)
        *nok = good;
    if (nfailed)
        *nfailed = bad;
    return worst;
}

vs_status vs_mirror_sync(size_t *nok, size_t *nfailed, vs_ctx *ctx, const vs_mirror_sync_opts *opts,
                         vs_error *err)
{
    if (nok)
        *nok = 0;
    if (nfailed)
        *nfailed = 0;
    unsigned jobs = 0;
    vs_status st = ctx ? sync_check_opts(opts, &jobs, err)
                       : vs_error_subj(err, VS_E_USAGE, "mirror sync", "no context");
    if (st)
        return st;
    pool p;
    memset(&p, 0, sizeof p);
    p.parent = ctx;
    char **urls = NULL;
    vs_config *owned = NULL;
    int dfd = -1;
    if ((st = sync_prepare(ctx, opts, &p, &urls, &owned, &dfd, err)))
        return st;
    sync_fetch_all(&p, jobs);
    for (size_t i = 0; i < p.n; i++)
        if (p.items[i].st == VS_OK)
            p.items[i].st = place(ctx, p.items[i].e, dfd, opts->dest, &p.items[i].err);
    vs_error ierr = VS_ERROR_INIT;
    vs_status ist = write_index(p.items, p.n, dfd, opts->dest, &ierr);
    vs_status worst = sync_report(opts, &p, ist, &ierr, nok, nfailed, err);
    items_free(p.items, p.n);
    vs_config_free(owned);
    close(dfd);
    vs_mirror_urls_free(urls, p.n);
    return worst;
}
