/* cache/objects.c - the object store, fsck and gc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache_int.h"

/* "cache/objects/sha256/ab" and "cdef..." for an id. */
static void obj_names(const char *hex, char dir[64], char file[64])
{
    snprintf(dir, 64, "%s/%.2s", VS_CACHE_OBJECTS, hex);
    snprintf(file, 64, "%s", hex + VS_CACHE_OBJ_DIRLEN);
}

vs_status vs_cache_object_open(vs_ctx *ctx, const char *hex, int *fd, struct stat *sb,
                               vs_error *err)
{
    char dir[64], file[64], path[128];
    *fd = -1;
    if (!vs_cache_valid_hex(hex))
        return vs_error_subj(err, VS_E_INTEGRITY, hex, "not an object id");
    obj_names(hex, dir, file);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    vs_error e2 = VS_ERROR_INIT;
    /* O_NONBLOCK: a FIFO planted as an object must not hang us */
    vs_status st = vs_home_open(ctx, path, O_RDONLY | O_NONBLOCK, 0, fd, &e2);
    if (st == VS_E_USAGE && e2.detail == VS_DETAIL_NOT_FOUND) {
        vs_error_subj(err, VS_E_INTEGRITY, path, "object missing (inside the home %s)",
                      ctx->home);
        vs_error_hint(err, "run `vetstage cache fsck`; fetch the package again to repair it");
        vs_error_set_detail(err, VS_DETAIL_NOT_FOUND);
        return VS_E_INTEGRITY;
    }
    if (st) {
        if (err)
            *err = e2;
        return st;
    }
    if (fstat(*fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
        close(*fd);
        *fd = -1;
        return vs_error_subj(err, VS_E_INTEGRITY, path,
                             "object is not a regular file (inside the home %s)", ctx->home);
    }
    return VS_OK;
}

vs_status vs_cache_open_object(int *out, vs_ctx *ctx, const char *sha256hex, vs_error *err)
{
    struct stat sb;
    vs_status st = vs_cache_object_open(ctx, sha256hex, out, &sb, err);
    if (st)
        return st;
    int fl = fcntl(*out, F_GETFL);
    if (fl >= 0)
        fcntl(*out, F_SETFL, fl & ~O_NONBLOCK); /* a regular file: plain blocking reads */
    return VS_OK;
}

vs_status vs_cache_object_check(vs_ctx *ctx, const char *hex, uint64_t *size, vs_error *err)
{
    int fd;
    struct stat sb;
    vs_status st = vs_cache_object_open(ctx, hex, &fd, &sb, err);
    if (st)
        return st;
    uint8_t d[VS_SHA256_LEN];
    char got[VS_SHA256_HEX];
    uint64_t n = 0;
    st = vs_sha256_fd(fd, hex, d, &n, err);
    close(fd);
    if (st)
        return st;
    vs_hex(got, d, sizeof d);
    if (strcmp(got, hex) != 0)
        return vs_error_subj(err, VS_E_INTEGRITY,
                             VS_SUBJ("%s/%s/%.2s/%s", ctx->home, VS_CACHE_OBJECTS, hex, hex + 2),
                             "object content does not match its name (sha256 %s)", got);
    if (size)
        *size = n;
    return VS_OK;
}

/* The id of digest d into out_hex, its names, and its folder opened (created
 * if absent) into *fd. */
static vs_status open_obj_dir(vs_ctx *ctx, const uint8_t d[VS_SHA256_LEN],
                              char out_hex[VS_SHA256_HEX], char dir[64], char file[64], int *fd,
                              vs_error *err)
{
    vs_hex(out_hex, d, VS_SHA256_LEN);
    obj_names(out_hex, dir, file);
    return vs_home_dir(ctx, dir, VS_BENEATH_CREATE, fd, err);
}

/* Give the object written at srcdir/name its name dfd/file. The dedupe
 * rule: link it; when the name is taken, keep a sound existing object and
 * replace a damaged one. srcdir/name is left for the caller to remove. */
static vs_status name_object(vs_ctx *ctx, int srcdir, const char *name, int dfd, const char *dir,
                             const char *file, const char *hex, vs_error *err)
{
    if (linkat(srcdir, name, dfd, file, 0) == 0)
        return VS_OK;
    if (errno != EEXIST)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno,
                                   VS_SUBJ("%s/%s/%s", ctx->home, dir, file), "link");
    vs_error e2 = VS_ERROR_INIT;
    if (vs_cache_object_check(ctx, hex, NULL, &e2) == VS_OK)
        return VS_OK;
    vs_log(ctx, VS_LOG_WARN, "%s; replacing it", e2.message);
    if (renameat(srcdir, name, dfd, file) != 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno,
                                   VS_SUBJ("%s/%s/%s", ctx->home, dir, file), "rename");
    return VS_OK;
}

vs_status vs_cache_object_put_file(vs_ctx *ctx, int srcdir, const char *name,
                                   const uint8_t *digest, char out_hex[VS_SHA256_HEX],
                                   vs_error *err)
{
    int fd = openat(srcdir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "%s", "");
    uint8_t d[VS_SHA256_LEN];
    vs_status st = VS_OK;
    if (digest)
        memcpy(d, digest, sizeof d);
    else
        st = vs_sha256_fd(fd, name, d, NULL, err);
    /* objects are read-only and durable before they get their name */
    if (!st && (fchmod(fd, 0444) != 0 || fsync(fd) != 0))
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "chmod/fsync");
    close(fd);
    if (st)
        return st;
    char dir[64], file[64];
    int dfd;
    if ((st = open_obj_dir(ctx, d, out_hex, dir, file, &dfd, err)))
        return st;
    st = name_object(ctx, srcdir, name, dfd, dir, file, out_hex, err);
    if (!st) {
        unlinkat(srcdir, name, 0);
        st = vs_fsync_dir(dfd, dir, err);
    }
    close(dfd);
    return st;
}

vs_status vs_cache_object_put_mem(vs_ctx *ctx, const void *p, size_t len,
                                  char out_hex[VS_SHA256_HEX], vs_error *err)
{
    uint8_t d[VS_SHA256_LEN];
    vs_sha256 h;
    vs_status st = vs_sha256_init(&h, err);
    if (st)
        return st;
    vs_sha256_update(&h, p, len);
    vs_sha256_final(&h, d);
    char dir[64], file[64];
    int dfd;
    if ((st = open_obj_dir(ctx, d, out_hex, dir, file, &dfd, err)))
        return st;
    vs_tmpfile t;
    if ((st = vs_tmpfile_open(&t, dfd, 0444, false, err))) {
        close(dfd);
        return st;
    }
    if ((st = vs_tmpfile_write(&t, p, len, err))) {
        vs_tmpfile_abort(&t);
        close(dfd);
        return st;
    }
    if (fsync(t.fd) != 0) {
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, VS_SUBJ("%s/%s", ctx->home, dir),
                                 "fsync");
        vs_tmpfile_abort(&t);
        close(dfd);
        return st;
    }
    st = name_object(ctx, dfd, t.tmpname, dfd, dir, file, out_hex, err);
    vs_tmpfile_abort(&t); /* removes the temporary name if still there */
    if (!st)
        st = vs_fsync_dir(dfd, dir, err);
    close(dfd);
    return st;
}

/* ---- object walk -------------------------------------------------------------- */

/* fn(hex, dirfd, filename) for every entry below objects/sha256/XX/; hex is
 * NULL for an entry whose name is not an object id (temporary or stray). */
typedef vs_status (*obj_fn)(vs_ctx *ctx, const char *hex, int dfd, const char *file,
                            void *arg, vs_error *err);

typedef struct obj_walk {
    vs_ctx *ctx;
    obj_fn fn;
    void *arg;
    const char *dir; /* the XX folder being walked */
} obj_walk;

static vs_status obj_file(int dfd, const char *name, void *arg, vs_error *err)
{
    obj_walk *w = arg;
    char hex[VS_SHA256_HEX + 8];
    int r = snprintf(hex, sizeof hex, "%s%s", w->dir, name);
    bool ok = r == 64 && strlen(w->dir) == VS_CACHE_OBJ_DIRLEN && vs_cache_valid_hex(hex);
    return w->fn(w->ctx, ok ? hex : NULL, dfd, name, w->arg, err);
}

static vs_status obj_dir(int dfd, const char *name, void *arg, vs_error *err)
{
    obj_walk *w = arg;
    w->dir = name;
    bool opened;
    const char *shown = VS_SUBJ("%s/%s/%s", w->ctx->home, VS_CACHE_OBJECTS, name);
    vs_status st = vs_cache_walk_at(dfd, name, shown, &opened, obj_file, w, err);
    if (st || opened)
        return st;
    /* a link is never followed: it stops gc and fsck alike */
    struct stat sb;
    if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode)) {
        char rel[64 + NAME_MAX];
        snprintf(rel, sizeof rel, "%s/%s", VS_CACHE_OBJECTS, name);
        return vs_link_refusal(err, rel, w->ctx->home);
    }
    return w->fn(w->ctx, NULL, dfd, name, w->arg, err);
}

static vs_status each_object(vs_ctx *ctx, obj_fn fn, void *arg, vs_error *err)
{
    DIR *d;
    vs_status st = vs_cache_opendir(ctx, VS_CACHE_OBJECTS, &d, err);
    if (st)
        return st;
    obj_walk w = { ctx, fn, arg, NULL };
    return vs_cache_walk(d, obj_dir, &w, err);
}

/* A sorted set of object ids. */
typedef struct idset {
    char (*v)[VS_SHA256_HEX];
    size_t n, cap;
} idset;

static vs_status idset_add(idset *s, const char *hex, vs_error *err)
{
    void *grown = vs_grow(s->v, &s->cap, s->n, sizeof *s->v, 64);
    if (!grown)
        return vs_error_subj(err, VS_E_INTERNAL, hex, "out of memory");
    s->v = grown;
    memcpy(s->v[s->n++], hex, VS_SHA256_HEX);
    return VS_OK;
}

static int idcmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void idset_sort(idset *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, idcmp);
}

static bool idset_has(const idset *s, const char *hex)
{
    return s->n && bsearch(hex, s->v, s->n, sizeof *s->v, idcmp) != NULL;
}

/* ---- fsck ------------------------------------------------------------------- */

struct fsck_state {
    vs_cache_damage_cb cb;
    void *payload;
    size_t ndamaged;
    idset bad;     /* objects whose content does not match */
};

static void damage(struct fsck_state *s, const char *what, const char *reason)
{
    s->ndamaged++;
    if (s->cb)
        s->cb(what, reason, s->payload);
}

static vs_status fsck_object(vs_ctx *ctx, const char *hex, int dfd, const char *file, void *arg,
                             vs_error *err)
{
    (void)dfd;
    struct fsck_state *s = arg;
    if (!hex) {
        if (file[0] == '.')
            return VS_OK; /* a writer's temporary file; gc removes leftovers */
        damage(s, file, "stray entry in the object store");
        return VS_OK;
    }
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = vs_cache_object_check(ctx, hex, NULL, &e2);
    if (st == VS_E_INTEGRITY) {
        damage(s, hex, "object content does not match its name");
        return idset_add(&s->bad, hex, err);
    }
    if (st) {
        *err = e2;
        return st;
    }
    return VS_OK;
}

static vs_status fsck_ref(vs_ctx *ctx, const char *name, const char *version, const char *file,
                          void *arg, vs_error *err)
{
    struct fsck_state *s = arg;
    char what[VS_MAX_NAME + VS_MAX_VERSION + 512];
    if (!version) {
        snprintf(what, sizeof what, "refs/%s%s%s", name, file ? "/" : "", file ? file : "");
        damage(s, what, "not a NAME/VERSION.json ref");
        return VS_OK;
    }
    snprintf(what, sizeof what, "%s@%s", name, version);
    vs_cache_entry e = {0};
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = vs_cache_ref_read(ctx, name, version, &e, &e2);
    if (st == VS_E_INTERNAL) {
        *err = e2;
        return st;
    }
    if (st) {
        damage(s, what, e2.message);
        return VS_OK;
    }
    char reason[512];
    struct stat sb;
    for (size_t i = 0; i <= e.nsigs; i++) {
        const char *id = i == 0 ? e.sha256 : e.sigs[i - 1].sha256;
        const char *kind = i == 0 ? "package" : e.sigs[i - 1].kind;
        int ofd;
        vs_status os = vs_cache_object_open(ctx, id, &ofd, &sb, NULL);
        if (os == VS_OK)
            close(ofd);
        if (os != VS_OK) {
            snprintf(reason, sizeof reason, "%s object %s is missing", kind, id);
            damage(s, what, reason);
        } else if (idset_has(&s->bad, id)) {
            snprintf(reason, sizeof reason, "%s object %s is damaged (content does not match)",
                     kind, id);
            damage(s, what, reason);
        } else if (i == 0 && (uint64_t)sb.st_size != e.size) {
            snprintf(reason, sizeof reason, "package object %s has %lld bytes, the ref says %llu",
                     id, (long long)sb.st_size, (unsigned long long)e.size);
            damage(s, what, reason);
        }
    }
    vs_cache_entry_clear(&e);
    return VS_OK;
}

vs_status vs_cache_fsck(size_t *ndamaged, vs_ctx *ctx, vs_cache_damage_cb cb, void *payload,
                        vs_error *err)
{
    if (ndamaged)
        *ndamaged = 0;
    int lk;
    vs_status st = vs_cache_lock(ctx, LOCK_SH, &lk, err);
    if (st)
        return st;
    struct fsck_state s = { cb, payload, 0, { NULL, 0, 0 } };
    st = each_object(ctx, fsck_object, &s, err);
    idset_sort(&s.bad);
    if (!st)
        st = vs_cache_each_ref(ctx, fsck_ref, &s, err);
    vs_cache_unlock(lk);
    free(s.bad.v);
    if (st)
        return st;
    if (ndamaged)
        *ndamaged = s.ndamaged;
    if (s.ndamaged)
        return vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/%s", ctx->home, VS_CACHE_DIR),
                             "%zu damaged %s", s.ndamaged, s.ndamaged == 1 ? "entry" : "entries");
    return VS_OK;
}

/* ---- gc --------------------------------------------------------------------- */

typedef struct gc_ref {
    char name[VS_MAX_NAME + 1];
    char version[VS_MAX_VERSION + 1];
} gc_ref;

struct gc_state {
    gc_ref *refs;
    size_t n, cap;
    idset live;
    size_t objects_removed;
};

static vs_status gc_collect(vs_ctx *ctx, const char *name, const char *version, const char *file,
                            void *arg, vs_error *err)
{
    (void)ctx;
    struct gc_state *s = arg;
    if (!version)
        return vs_error_subj(err, VS_E_INTEGRITY,
                             VS_SUBJ("%s/%s/%s%s%s", ctx->home, VS_CACHE_REFS, name,
                                     file ? "/" : "", file ? file : ""),
                             "not a ref; run cache fsck (gc removed nothing)");
    void *grown = vs_grow(s->refs, &s->cap, s->n, sizeof *s->refs, 16);
    if (!grown)
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    s->refs = grown;
    snprintf(s->refs[s->n].name, sizeof s->refs[s->n].name, "%s", name);
    snprintf(s->refs[s->n].version, sizeof s->refs[s->n].version, "%s", version);
    s->n++;
    return VS_OK;
}

/* Remove refs/NAME/VERSION.json through the directory, never a link. */
static vs_status gc_unlink_ref(vs_ctx *ctx, const gc_ref *r, vs_error *err)
{
    int dfd;
    vs_status st = vs_cache_ref_dir(ctx, r->name, false, &dfd, err);
    if (st)
        return st;
    char file[VS_MAX_VERSION + 8];
    snprintf(file, sizeof file, "%s.json", r->version);
    if (unlinkat(dfd, file, 0) != 0 && errno != ENOENT)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, file, "remove");
    else
        st = vs_fsync_dir(dfd, r->name, err);
    close(dfd);
    if (!st)
        vs_log(ctx, VS_LOG_INFO, "removed %s@%s", r->name, r->version);
    return st;
}

/* Nothing in the object store is a link (each_object refuses one). */
static vs_status gc_precheck(vs_ctx *ctx, const char *hex, int dfd, const char *file, void *arg,
                             vs_error *err)
{
    (void)ctx, (void)hex, (void)dfd, (void)file, (void)arg, (void)err;
    return VS_OK;
}

static int gc_ref_cmp(const void *a, const void *b)
{
    const gc_ref *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : vs_version_cmp(x->version, y->version);
}

static vs_status gc_object(vs_ctx *ctx, const char *hex, int dfd, const char *file, void *arg,
                           vs_error *err)
{
    struct gc_state *s = arg;
    if (hex && idset_has(&s->live, hex))
        return VS_OK;
    if (!hex && file[0] != '.')
        return VS_OK; /* stray non-temporary entry: fsck reports it, gc leaves it */
    if (unlinkat(dfd, file, 0) != 0 && errno != ENOENT)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno,
                                   VS_SUBJ("%s/%s/.../%s", ctx->home, VS_CACHE_OBJECTS, file),
                                   "remove");
    if (hex) {
        s->objects_removed++;
        vs_log(ctx, VS_LOG_DEBUG, "removed unreferenced object %s", hex);
    }
    return VS_OK;
}

static vs_status ref_tmpfile(int dfd, const char *name, void *arg, vs_error *err)
{
    (void)arg;
    (void)err;
    if (strncmp(name, ".tmp-", 5) == 0)
        unlinkat(dfd, name, 0);
    return VS_OK;
}

static vs_status ref_dir_tmpfiles(int dfd, const char *name, void *arg, vs_error *err)
{
    (void)err;
    if (name[0] != '.') {
        vs_error ignored = VS_ERROR_INIT;
        vs_cache_walk_at(dfd, name, name, NULL, ref_tmpfile, arg, &ignored);
    }
    return VS_OK;
}

/* Remove temporary files a killed writer left in refs/NAME/ (writers hold
 * the exclusive lock, so none is being written now). */
static void gc_ref_tmpfiles(vs_ctx *ctx)
{
    DIR *d;
    if (vs_cache_opendir(ctx, VS_CACHE_REFS, &d, NULL) == VS_OK)
        vs_cache_walk(d, ref_dir_tmpfiles, NULL, NULL);
}

/* One quarantine folder removed, unless a fetch holds it locked. */
static vs_status quarantine_dir(int dfd, const char *name, void *arg, vs_error *err)
{
    vs_ctx *ctx = arg;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd); /* a fetch is using it */
        return VS_OK;
    }
    vs_status st = vs_remove_tree(dfd, name, err);
    if (fd >= 0)
        close(fd);
    if (!st)
        vs_log(ctx, VS_LOG_DEBUG, "removed stale quarantine %s", name);
    return st;
}

/* Remove quarantine directories that no fetch holds locked. */
static vs_status gc_quarantine(vs_ctx *ctx, vs_error *err)
{
    DIR *d;
    vs_status st = vs_cache_opendir(ctx, VS_CACHE_QUARANTINE, &d, err);
    return st ? st : vs_cache_walk(d, quarantine_dir, ctx, err);
}

vs_status vs_cache_gc(size_t *refs_removed, size_t *objects_removed, vs_ctx *ctx, unsigned keep,
                      vs_error *err)
{
    if (refs_removed)
        *refs_removed = 0;
    if (objects_removed)
        *objects_removed = 0;
    int lk;
    vs_status st = vs_cache_lock(ctx, LOCK_EX, &lk, err);
    if (st)
        return st;
    struct gc_state s = { NULL, 0, 0, { NULL, 0, 0 }, 0 };
    size_t nrefs_removed = 0;
    st = vs_cache_each_ref(ctx, gc_collect, &s, err);
    /* every ref must be readable, and no link in the store, before anything is removed */
    if (!st)
        st = each_object(ctx, gc_precheck, NULL, err);
    vs_cache_entry *e = st ? NULL : vs_cache_entry_new();
    if (!st && !e)
        st = vs_error_subj(err, VS_E_INTERNAL, VS_CACHE_REFS, "out of memory");
    for (size_t i = 0; !st && i < s.n; i++) {
        vs_error e2 = VS_ERROR_INIT;
        if (vs_cache_ref_read(ctx, s.refs[i].name, s.refs[i].version, e, &e2) != VS_OK)
            st = vs_error_subj(err, VS_E_INTEGRITY, e2.subject, "%s; run cache fsck (gc removed "
                               "nothing)", e2.reason);
    }
    if (!st && s.n)
        qsort(s.refs, s.n, sizeof *s.refs, gc_ref_cmp);
    for (size_t i = 0; !st && i < s.n;) {
        size_t j = i;
        while (j < s.n && strcmp(s.refs[j].name, s.refs[i].name) == 0)
            j++;
        size_t count = j - i, drop = count > keep ? count - keep : 0;
        for (size_t k = i; !st && k < j; k++) {
            if (k < i + drop) {
                st = gc_unlink_ref(ctx, &s.refs[k], err);
                if (!st)
                    nrefs_removed++;
                continue;
            }
            vs_error e2 = VS_ERROR_INIT;
            if (vs_cache_ref_read(ctx, s.refs[k].name, s.refs[k].version, e, &e2) != VS_OK) {
                st = vs_error_subj(err, VS_E_INTEGRITY, e2.subject, "%s", e2.reason);
                break;
            }
            st = idset_add(&s.live, e->sha256, err);
            for (size_t m = 0; !st && m < e->nsigs; m++)
                st = idset_add(&s.live, e->sigs[m].sha256, err);
        }
        if (!st && drop == count) {
            int rfd;
            if (vs_home_dir(ctx, VS_CACHE_REFS, 0, &rfd, NULL) == VS_OK) {
                unlinkat(rfd, s.refs[i].name, AT_REMOVEDIR); /* fails harmlessly if not empty */
                fsync(rfd);
                close(rfd);
            }
        }
        i = j;
    }
    idset_sort(&s.live);
    if (!st)
        st = each_object(ctx, gc_object, &s, err);
    if (!st)
        gc_ref_tmpfiles(ctx);
    if (!st)
        st = gc_quarantine(ctx, err);
    vs_cache_unlock(lk);
    vs_cache_entry_free(e);
    free(s.refs);
    free(s.live.v);
    if (refs_removed)
        *refs_removed = nrefs_removed;
    if (objects_removed)
        *objects_removed = s.objects_removed;
    return st;
}

/* ---- rm --------------------------------------------------------------------- */

struct rm_state {
    idset doomed; /* objects of the removed refs */
    idset live;   /* objects of every remaining ref */
    bool unknown; /* a remaining ref could not be read */
    size_t objects_removed;
};

static vs_status rm_live(vs_ctx *ctx, const char *name, const char *version, const char *file,
                         void *arg, vs_error *err)
{
    (void)file;
    struct rm_state *s = arg;
    vs_cache_entry *e = vs_cache_entry_new();
    if (!e)
        return vs_error_subj(err, VS_E_INTERNAL, VS_SUBJ("%s@%s", name, version), "out of memory");
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = VS_OK;
    if (!version || vs_cache_ref_read(ctx, name, version, e, &e2) != VS_OK) {
        vs_log(ctx, VS_LOG_WARN, "%s%s%s: cannot be read, so no object is removed (run cache fsck)",
               name, version ? "@" : "", version ? version : "");
        s->unknown = true;
    } else {
        st = idset_add(&s->live, e->sha256, err);
        for (size_t i = 0; !st && i < e->nsigs; i++)
            st = idset_add(&s->live, e->sigs[i].sha256, err);
    }
    vs_cache_entry_free(e);
    return st;
}

static vs_status rm_object(vs_ctx *ctx, const char *hex, int dfd, const char *file, void *arg,
                           vs_error *err)
{
    struct rm_state *s = arg;
    if (!hex || !idset_has(&s->doomed, hex) || idset_has(&s->live, hex))
        return VS_OK;
    if (unlinkat(dfd, file, 0) != 0 && errno != ENOENT)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, hex, "remove object");
    s->objects_removed++;
    vs_log(ctx, VS_LOG_DEBUG, "removed object %s", hex);
    return VS_OK;
}

/* Every ref named exists: read what it uses into s->doomed. */
static vs_status rm_check(vs_ctx *ctx, const char *const *refs, size_t n, gc_ref *parts,
                          struct rm_state *s, vs_error *err)
{
    vs_cache_entry *e = vs_cache_entry_new();
    if (!e)
        return vs_error_subj(err, VS_E_INTERNAL, VS_CACHE_REFS, "out of memory");
    vs_status st = VS_OK;
    for (size_t i = 0; !st && i < n; i++) {
        st = vs_ref_split(refs[i], parts[i].name, parts[i].version, err);
        if (st)
            break;
        vs_error e2 = VS_ERROR_INIT;
        vs_status rs = vs_cache_ref_read(ctx, parts[i].name, parts[i].version, e, &e2);
        if (rs == VS_E_USAGE || rs == VS_E_INTERNAL) {
            if (err)
                *err = e2;
            st = rs;
        } else if (rs == VS_OK) {
            st = idset_add(&s->doomed, e->sha256, err);
            for (size_t k = 0; !st && k < e->nsigs; k++)
                st = idset_add(&s->doomed, e->sigs[k].sha256, err);
        } else {
            /* damaged, but its folder must be one we may write in */
            int dfd;
            st = vs_cache_ref_dir(ctx, parts[i].name, false, &dfd, err);
            if (!st) {
                close(dfd);
                vs_log(ctx, VS_LOG_WARN, "%s; removing the damaged ref, its objects stay for gc",
                       e2.message);
            }
        }
    }
    vs_cache_entry_free(e);
    return st;
}

vs_status vs_cache_rm(size_t *objects_removed, vs_ctx *ctx, const char *const *refs, size_t n,
                      vs_error *err)
{
    if (objects_removed)
        *objects_removed = 0;
    if (n == 0 || !refs)
        return vs_error_subj(err, VS_E_USAGE, "cache rm", "give at least one NAME@VERSION");
    gc_ref *parts = calloc(n, sizeof *parts);
    if (!parts)
        return vs_error_subj(err, VS_E_INTERNAL, VS_CACHE_REFS, "out of memory");
    struct rm_state s = { { NULL, 0, 0 }, { NULL, 0, 0 }, false, 0 };
    int lk = -1;
    vs_status st = vs_cache_lock(ctx, LOCK_EX, &lk, err);
    if (!st)
        st = rm_check(ctx, refs, n, parts, &s, err);
    /* nothing was removed so far; from here on each ref goes whole */
    for (size_t i = 0; !st && i < n; i++) {
        st = gc_unlink_ref(ctx, &parts[i], err);
        int rfd;
        if (!st && vs_home_dir(ctx, VS_CACHE_REFS, 0, &rfd, NULL) == VS_OK) {
            unlinkat(rfd, parts[i].name, AT_REMOVEDIR); /* only when empty */
            close(rfd);
        }
    }
    if (!st)
        st = vs_cache_each_ref(ctx, rm_live, &s, err);
    idset_sort(&s.doomed);
    idset_sort(&s.live);
    if (!st && !s.unknown && s.doomed.n)
        st = each_object(ctx, rm_object, &s, err);
    vs_cache_unlock(lk);
    if (objects_removed)
        *objects_removed = s.objects_removed;
    free(parts);
    free(s.doomed.v);
    free(s.live.v);
    return st;
}
