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
    const char *line;          /* as listed: a URL or NAME@VERSION */
    vs_cache_fetch_opts fo;    /* what to fetch, options resolved */
    vs_source_release *rel;    /* the source's release for NAME@VERSION */
    char **bases;              /* the template's mirror bases for this item */
    size_t nbases;
    vs_status st;
    vs_error err;
    vs_cache_entry *e; /* what the fetch admitted (or found) */
} item;

typedef struct pool {
    vs_ctx *parent;
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
        vs_verdict *v = NULL;
        bool already = false;
        it->st = vs_cache_fetch(&it->e, &already, &v, ctx, &it->fo, &it->err);
        vs_verdict_free(v);
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
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
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
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
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
            if ((st = vs_config_load(ctx, NULL, owned, err)))
                return st;
            *cfg = *owned;
        }
        if ((st = vs_source_resolve(*cfg, it->line, &it->rel, err)))
            return st;
        vs_source_apply(it->rel, &it->fo);
        name = it->rel->fetch.name;
        version = it->rel->fetch.version;
    } else {
        it->fo.url = it->line;
        vs_error e2 = VS_ERROR_INIT;
        if (vs_fetch_name_version(it->line, n, v, &e2) == VS_OK) {
            name = n;
            version = v;
        }
    }
    if (opts->fetch.nmirrors && name) {
        if ((st = vs_source_mirror_bases(opts->fetch.mirrors, opts->fetch.nmirrors, name, version,
                                         &it->bases, &it->nbases, err)))
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
    if (t->nmirrors > VS_CACHE_MAX_MIRRORS / 2 || (t->nmirrors && !t->mirrors))
        return vs_error_set(err, VS_E_USAGE, "mirror sync: more than %d mirrors",
                            VS_CACHE_MAX_MIRRORS / 2);
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
    pool p;
    memset(&p, 0, sizeof p);
    p.parent = ctx;
    p.n = n;
    p.items = calloc(n, sizeof *p.items);
    if (!p.items) {
        vs_mirror_urls_free(urls, n);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    /* every line resolved before anything is fetched or created */
    const vs_config *cfg = opts->config;
    vs_config *owned = NULL;
    for (size_t i = 0; i < n && !st; i++) {
        p.items[i].line = urls[i];
        st = prepare(ctx, opts, &cfg, &owned, &p.items[i], err);
    }
    int dfd = -1;
    if (!st && ((st = vs_mkdir_p(AT_FDCWD, opts->dest, 0755, err)) ||
                (st = vs_open_dir(AT_FDCWD, opts->dest, &dfd, err)))) {
        if (err)
            err->status = VS_E_USAGE;
        st = VS_E_USAGE;
    }
    if (st) {
        items_free(p.items, n);
        vs_config_free(owned);
        vs_mirror_urls_free(urls, n);
        return st;
    }
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

    for (size_t i = 0; i < n; i++)
        if (p.items[i].st == VS_OK)
            p.items[i].st = place(ctx, p.items[i].e, dfd, opts->dest, &p.items[i].err);
    vs_error ierr = VS_ERROR_INIT;
    vs_status ist = write_index(p.items, n, dfd, opts->dest, &ierr);

    vs_status worst = VS_OK;
    size_t good = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        item *it = &p.items[i];
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
            *err = ierr;
    }
    if (nok)
        *nok = good;
    if (nfailed)
        *nfailed = bad;
    items_free(p.items, n);
    vs_config_free(owned);
    close(dfd);
    vs_mirror_urls_free(urls, n);
    return worst;
}
