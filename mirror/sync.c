/* mirror/sync.c - `mirror sync`: fetch a URL list in parallel into the cache,
 * then write a static mirror tree from the cache objects. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mirror/mirror_int.h"

typedef struct item {
    const char *url;
    vs_status st;
    vs_error err;
    vs_cache_entry e;
} item;

typedef struct pool {
    vs_ctx *parent;
    const vs_mirror_sync_opts *opts;
    item *items;
    size_t n, next;
    pthread_mutex_t mu;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    vs_ctx *ctx = NULL;
    vs_error oerr = VS_ERROR_INIT;
    /* one context per thread: nothing in a context is shared between calls */
    vs_status ost = vs_ctx_open(&ctx, p->parent->home, &oerr);
    if (!ost)
        vs_ctx_set_log(ctx, p->parent->log_cb, p->parent->log_level, p->parent->log_payload);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            break;
        item *it = &p->items[i];
        if (ost) {
            it->st = ost;
            it->err = oerr;
            continue;
        }
        vs_cache_fetch_opts fo = p->opts->fetch;
        fo.url = it->url;
        vs_verdict *v = NULL;
        bool already = false;
        it->st = vs_cache_fetch(ctx, &fo, &it->e, &already, &v, &it->err);
        vs_verdict_free(v);
    }
    vs_ctx_free(ctx);
    return NULL;
}

typedef struct written {
    char file[256];
    char sha256[65];
} written;

/* Copy one entry's files into the tree; refuses a name another package of
 * this sync already wrote with other bytes. */
static vs_status place(vs_ctx *ctx, const vs_cache_entry *e, int dfd, written *w, size_t *nw,
                       vs_error *err)
{
    const char *files[1 + VS_CACHE_MAX_SIGS], *ids[1 + VS_CACHE_MAX_SIGS];
    size_t nf = 0;
    files[nf] = e->filename;
    ids[nf++] = e->sha256;
    for (size_t i = 0; i < e->nsigs && i < VS_CACHE_MAX_SIGS; i++) {
        files[nf] = e->sigs[i].filename;
        ids[nf++] = e->sigs[i].sha256;
    }
    for (size_t i = 0; i < nf; i++) {
        if (!vs_mirror_valid_file(files[i]))
            return vs_error_set(err, VS_E_USAGE, "%s: not a plain file name for a mirror tree",
                                files[i]);
        for (size_t k = 0; k < *nw; k++)
            if (!strcmp(w[k].file, files[i]) && strcmp(w[k].sha256, ids[i]))
                return vs_error_set(err, VS_E_USAGE,
                                    "%s: another package of this sync has a different %s",
                                    e->url, files[i]);
    }
    for (size_t i = 0; i < nf; i++) {
        bool done = false;
        for (size_t k = 0; k < *nw; k++)
            done = done || !strcmp(w[k].file, files[i]);
        if (done)
            continue;
        vs_status st = vs_mirror_copy_object(ctx, ids[i], dfd, files[i], err);
        if (st)
            return st;
        snprintf(w[*nw].file, sizeof w[*nw].file, "%s", files[i]);
        snprintf(w[*nw].sha256, sizeof w[*nw].sha256, "%s", ids[i]);
        (*nw)++;
    }
    return VS_OK;
}

static bool was_written(const written *w, size_t nw, const char *f)
{
    for (size_t k = 0; k < nw; k++)
        if (!strcmp(w[k].file, f))
            return true;
    return false;
}

/* index.json: the packages of this sync, then those of the old index whose
 * files are all still there and were not overwritten. */
static vs_status write_index(const item *items, size_t n, int dfd, const char *dest,
                             const written *w, size_t nw, vs_error *err)
{
    size_t nok = 0;
    vs_cache_entry *es = malloc((n ? n : 1) * sizeof *es);
    if (!es)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < nok && items[i].st == VS_OK; k++)
            dup = dup || (!strcmp(es[k].name, items[i].e.name) &&
                          !strcmp(es[k].version, items[i].e.version));
        if (items[i].st == VS_OK && !dup)
            es[nok++] = items[i].e;
    }
    char *text = NULL;
    size_t len = 0;
    vs_status st = vs_mirror_index_format(es, nok, &text, &len, err);
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
    if (pk && vs_read_file(dfd, VS_MIRROR_INDEX, VS_MAX_REF_FILE, &old, &oldlen, &e2) == VS_OK)
        oroot = json_loadb((const char *)old, oldlen, JSON_REJECT_DUPLICATES, NULL);
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
            keep = strcmp(es[k].name, nm) || strcmp(es[k].version, vr);
        for (size_t j = 0; keep && j <= json_array_size(fs); j++) {
            const char *f = j == 0 ? fn
                                   : json_string_value(json_object_get(
                                         json_array_get(fs, j - 1), "file"));
            struct stat sb;
            keep = vs_mirror_valid_file(f) && !was_written(w, nw, f) &&
                   fstatat(dfd, f, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
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
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    st = vs_write_file_atomic(dfd, VS_MIRROR_INDEX, text, strlen(text), 0644, err);
    free(text);
    (void)dest;
    return st;
}

vs_status vs_mirror_sync(vs_ctx *ctx, const vs_mirror_sync_opts *opts, size_t *nok,
                         size_t *nfailed, vs_error *err)
{
    if (nok)
        *nok = 0;
    if (nfailed)
        *nfailed = 0;
    if (!ctx || !opts || !opts->list || !*opts->list || !opts->dest || !*opts->dest)
        return vs_error_set(err, VS_E_USAGE, "mirror sync: a list and a destination are needed");
    const vs_cache_fetch_opts *t = &opts->fetch;
    if (t->url || t->name || t->version || t->gpg_sig_url || t->checksums_url || t->rsa_sig_url)
        return vs_error_set(err, VS_E_USAGE,
                            "mirror sync: per-package options (name, version, signature URLs) "
                            "do not apply to a list");
    unsigned jobs = opts->jobs ? opts->jobs : VS_MIRROR_DEFAULT_JOBS;
    if (jobs > VS_MIRROR_MAX_JOBS)
        return vs_error_set(err, VS_E_USAGE, "mirror sync: at most %u jobs", VS_MIRROR_MAX_JOBS);
    uint8_t *text = NULL;
    size_t len = 0;
    vs_status st = vs_read_file(AT_FDCWD, opts->list, VS_MAX_MIRROR_LIST, &text, &len, err);
    if (st) {
        if (err)
            err->status = VS_E_USAGE; /* an unreadable input file */
        return VS_E_USAGE;
    }
    char **urls = NULL;
    size_t n = 0;
    st = vs_mirror_list_parse(text, len, opts->list, &urls, &n, err);
    free(text);
    if (st)
        return st;
    int dfd = -1;
    if ((st = vs_mkdir_p(AT_FDCWD, opts->dest, 0755, err)) ||
        (st = vs_open_dir(AT_FDCWD, opts->dest, &dfd, err))) {
        vs_mirror_urls_free(urls, n);
        if (err)
            err->status = VS_E_USAGE;
        return VS_E_USAGE;
    }
    pool p;
    memset(&p, 0, sizeof p);
    p.parent = ctx;
    p.opts = opts;
    p.n = n;
    p.items = calloc(n, sizeof *p.items);
    written *w = calloc(n * (1 + VS_CACHE_MAX_SIGS), sizeof *w);
    if (!p.items || !w) {
        free(p.items);
        free(w);
        close(dfd);
        vs_mirror_urls_free(urls, n);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        p.items[i].url = urls[i];
    pthread_mutex_init(&p.mu, NULL);
    if (jobs > n)
        jobs = (unsigned)n;
    pthread_t th[VS_MIRROR_MAX_JOBS];
    unsigned started = 0;
    for (unsigned i = 0; i < jobs; i++) {
        if (pthread_create(&th[i], NULL, worker, &p) != 0)
            break;
        started++;
    }
    if (started == 0)
        worker(&p); /* no thread could start: do the work here */
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);

    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        if (p.items[i].st == VS_OK)
            p.items[i].st = place(ctx, &p.items[i].e, dfd, w, &nw, &p.items[i].err);
    vs_error ierr = VS_ERROR_INIT;
    vs_status ist = write_index(p.items, n, dfd, opts->dest, w, nw, &ierr);

    vs_status worst = VS_OK;
    size_t good = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        item *it = &p.items[i];
        if (opts->cb)
            opts->cb(it->url, it->st, it->st ? it->err.message : "", it->st ? NULL : &it->e,
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
            *err = ierr;
    }
    if (nok)
        *nok = good;
    if (nfailed)
        *nfailed = bad;
    free(p.items);
    free(w);
    close(dfd);
    vs_mirror_urls_free(urls, n);
    return worst;
}
