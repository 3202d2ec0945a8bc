/* stage/stage.c - the volume layout as a transaction: a complete tree is
 * built in this run's work folder inside DIR, then appears by one rename;
 * `current` flips by one rename of a fresh symlink. Each run reads as its
 * phases: open and classify DIR (refusals first, nothing changed yet), the
 * rules, build, place, switch, prune; one exit undoes what is not committed
 * and removes only what this run created. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "stage/stage_int.h"
#include "vetstage/cache.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define WORK_TREE "tree"
#define WORK_CURRENT "current"

static int rename_exchange(int olddir, const char *oldname, int newdir, const char *newname)
{
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, olddir, oldname, newdir, newname, RENAME_EXCHANGE);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/* ---- build: extract and describe the package in WORK/tree ------------------ */

static vs_status write_tree_meta(const vs_stage_source *src, const vs_stage_opts *opts,
                                 const vs_extract_result *xr, int rootfd, const vs_pathset *set,
                                 char digest[VS_LAYOUT_DIGEST_HEX], vs_error *err)
{
    char *prov = vs_provenance_format(src->entry, opts->arch, xr->machines, xr->nmachines,
                                      (int64_t)time(NULL));
    if (!prov)
        return vs_error_subj(err, VS_E_INTERNAL, src->label, "out of memory");
    vs_status st = vs_stage_write_meta(rootfd, set, prov, digest, err);
    free(prov);
    return st;
}

static vs_status build_tree(vs_ctx *ctx, const vs_stage_source *src, const vs_work *w,
                            const vs_stage_opts *opts, vs_stage_result *res,
                            char digest[VS_LAYOUT_DIGEST_HEX], vs_error *err)
{
    uint16_t machine = 0; /* --arch: every ELF file must be for it */
    if (opts->arch && !vs_arch_machine(opts->arch, &machine))
        return vs_error_subj(err, VS_E_USAGE, opts->arch, "unknown architecture (amd64 or arm64)");
    int rootfd = -1;
    if (mkdirat(w->fd, WORK_TREE, 0700) != 0 ||
        (rootfd = openat(w->fd, WORK_TREE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, w->name, "create the tree");
    vs_log(ctx, VS_LOG_DEBUG, "extracting %s into %s/" WORK_TREE, src->label, w->name);
    vs_pathset set;
    vs_pathset_init(&set);
    vs_extract_opts xo = {
        .max_unpacked = opts->max_unpacked ? opts->max_unpacked : VS_DEFAULT_MAX_UNPACKED,
        .max_entries = opts->max_entries ? opts->max_entries : VS_DEFAULT_MAX_ENTRIES,
        .label = src->label,
        .expect_sha256 = src->sha256,
        .digest_subject = src->ref,
        .expect_hex = vs_cache_entry_sha256(src->entry),
        .strip_components = opts->strip_components,
        .machine = machine,
    };
    vs_extract_result xr;
    vs_status st = vs_stage_extract(ctx, src->fd, rootfd, &xo, &set, &xr, err);
    if (!st)
        st = write_tree_meta(src, opts, &xr, rootfd, &set, digest, err);
    vs_pathset_free(&set);
    if (!st && fchmod(rootfd, 0755) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, w->name, "chmod");
    if (!st && fsync(rootfd) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, w->name, "fsync");
    close(rootfd);
    if (!st) {
        res->files = xr.files;
        res->bytes = xr.bytes;
    }
    return st;
}

/* ---- versioned ------------------------------------------------------------- */

typedef struct vrun {
    vs_ctx *ctx;
    const vs_stage_source *src;
    const vs_stage_opts *opts;
    vs_dest d;
    vs_work w;
    int vfd;            /* DIR/versions */
    bool made_versions;
    bool placed;        /* versions/V is the new tree, current not switched yet */
    bool committed;     /* current switched */
    bool exchanged;     /* ... and the copy it replaced waits in WORK/tree */
} vrun;

/* The downgrade and rollback rules against what DIR/current holds. */
static vs_status apply_rules(vrun *r, vs_error *err)
{
    const vs_cache_entry *e = r->src->entry;
    if (!r->d.current[0] || r->opts->allow_downgrade)
        return VS_OK;
    vs_status st =
        vs_stage_downgrade_rule(r->d.path, r->d.current, vs_cache_entry_version(e), false, err);
    if (st)
        return st;
    char tree[VS_MAX_VERSION + 16];
    snprintf(tree, sizeof tree, "versions/%s", r->d.current);
    vs_provenance p;
    int tfd = openat(r->d.fd, tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    bool known = tfd >= 0 && vs_provenance_read(tfd, tree, &p, NULL) == VS_OK;
    if (tfd >= 0)
        close(tfd);
    if (!known)
        return VS_OK; /* a tree without readable provenance tells no signature time */
    vs_stage_facts now = {vs_cache_entry_name(e), vs_cache_entry_version(e),
                          vs_cache_entry_signed_at(e)};
    vs_stage_facts cur = { p.name, p.version, p.signed_at };
    return vs_stage_rollback_rule(r->d.path, &now, &cur, false, err);
}

/* WORK/tree becomes DIR/versions/V: a rename, or an exchange with a copy
 * staged before (which also repairs a damaged one). */
static vs_status place_version(vrun *r, vs_error *err)
{
    const char *v = vs_cache_entry_version(r->src->entry);
    if (mkdirat(r->d.fd, "versions", 0755) == 0)
        r->made_versions = true;
    else if (errno != EEXIST)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, r->d.path, "create versions");
    r->vfd = openat(r->d.fd, "versions", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (r->vfd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, r->d.path, "open versions");
    if (r->made_versions)
        fchmod(r->vfd, 0755);
    struct stat sb;
    if (fstatat(r->vfd, v, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        /* vs_dest_classify saw a staged tree there */
        if (rename_exchange(r->w.fd, WORK_TREE, r->vfd, v) != 0)
            return vs_error_subj_errno(err, VS_E_INTERNAL, errno, r->d.path,
                                       "replace versions/%s", v);
        r->exchanged = true;
        vs_log(r->ctx, VS_LOG_INFO, "%s/versions/%s was staged before: replaced", r->d.path, v);
    } else if (renameat(r->w.fd, WORK_TREE, r->vfd, v) != 0) {
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, r->d.path,
                                   "move the tree to versions/%s", v);
    }
    r->placed = true;
    vs_status st = vs_fsync_dir(r->vfd, "versions", err);
    return st ? st : vs_fsync_dir(r->d.fd, r->d.path, err);
}

/* DIR/current -> versions/V: a fresh symlink in WORK renamed over it. */
static vs_status switch_current(vrun *r, vs_error *err)
{
    char link[VS_MAX_VERSION + 16];
    snprintf(link, sizeof link, "versions/%s", vs_cache_entry_version(r->src->entry));
    if (symlinkat(link, r->w.fd, WORK_CURRENT) != 0 ||
        renameat(r->w.fd, WORK_CURRENT, r->d.fd, "current") != 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, r->d.path, "switch current");
    r->placed = false; /* committed: nothing to take back from here */
    r->committed = true;
    return vs_fsync_dir(r->d.fd, r->d.path, err);
}

/* --keep N, after the switch: old versions move into WORK and go with it. */
static void prune_versions(vrun *r)
{
    char names[VS_MAX_KEEP_SCAN][VS_MAX_VERSION + 1];
    const char *v[VS_MAX_KEEP_SCAN];
    bool remove[VS_MAX_KEEP_SCAN];
    size_t n = 0;
    int fd = openat(r->vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    while (dir && n < VS_MAX_KEEP_SCAN && (de = readdir(dir)) != NULL)
        if (vs_valid_version(de->d_name) && strlen(de->d_name) <= VS_MAX_VERSION) {
            snprintf(names[n], sizeof names[n], "%s", de->d_name);
            v[n] = names[n];
            n++;
        }
    if (dir)
        closedir(dir);
    else if (fd >= 0)
        close(fd);
    vs_stage_prune_select(v, n, vs_cache_entry_version(r->src->entry), r->opts->keep, remove);
    for (size_t i = 0; i < n; i++) {
        char old[VS_MAX_VERSION + 8];
        snprintf(old, sizeof old, "old-%s", v[i]);
        if (!remove[i])
            continue;
        if (renameat(r->vfd, v[i], r->w.fd, old) != 0)
            vs_log(r->ctx, VS_LOG_WARN, "%s/versions/%s: not removed: %s", r->d.path, v[i],
                   strerror(errno));
        else
            vs_log(r->ctx, VS_LOG_INFO, "%s/versions/%s: removed (--keep %u)", r->d.path, v[i],
                   r->opts->keep);
    }
}

/* Take back what is not committed: true when DIR is as before this run. */
static bool take_back_versioned(vrun *r, vs_status st)
{
    const char *v = vs_cache_entry_version(r->src->entry);
    bool back = !r->placed;
    if (st && r->placed) {
        if (r->exchanged)
            back = rename_exchange(r->w.fd, WORK_TREE, r->vfd, v) == 0 &&
                   vs_fsync_dir(r->vfd, "versions", NULL) == VS_OK;
        else {
            vs_remove_tree(r->vfd, v, NULL); /* current never pointed there */
            back = true;
        }
        r->placed = false;
    }
    return back;
}

/* The one exit: remove what this run made. */
static void finish_versioned(vrun *r, vs_status st)
{
    vs_work_remove(r->ctx, &r->w);
    if (r->vfd >= 0)
        close(r->vfd);
    if (st && r->made_versions)
        unlinkat(r->d.fd, "versions", AT_REMOVEDIR);
    vs_dest_close(&r->d, st != VS_OK);
}

static vs_status run_versioned(vs_ctx *ctx, const vs_stage_source *src, const char *dest,
                               const vs_stage_opts *opts, vs_stage_result *res, vs_error *err)
{
    vrun r = { ctx, src, opts, { .fd = -1 }, { .fd = -1, .lockfd = -1 }, -1, false, false, false,
               false };
    char digest[VS_LAYOUT_DIGEST_HEX] = "";
    vs_staged_undo undo = { "", NULL, 0 };
    vs_status st = vs_dest_open(ctx, dest, &r.d, err);
    if (!st)
        st = vs_dest_classify(&r.d, false, err);
    if (!st)
        st = apply_rules(&r, err);
    if (!st)
        st = vs_work_open(&r.d, &r.w, err);
    if (!st)
        st = build_tree(ctx, src, &r.w, opts, res, digest, err);
    /* the new tree's digest joins the home's record before anything in DIR
     * changes (replacing versions/V of the current version is a change) */
    if (!st && src->record)
        st = vs_staged_pend(ctx, dest, digest, &undo, err);
    if (!st)
        st = place_version(&r, err);
    if (!st)
        st = switch_current(&r, err);
    /* the record right after the switch, under DIR's lock: the digest of
     * what this run wrote, never read back from DIR */
    if (!st && src->record)
        st = vs_staged_record(ctx, dest, src->record, digest, err);
    if (!st) {
        /* committed: now, and never on a refusal, what killed runs left */
        vs_dest_remove_stale(ctx, &r.d);
        prune_versions(&r);
        snprintf(res->path, sizeof res->path, "%s/versions/%s", dest,
                 vs_cache_entry_version(src->entry));
    }
    /* the record goes back only once DIR is the old tree again (under DIR's lock) */
    if (take_back_versioned(&r, st) && st && !r.committed)
        vs_staged_unpend(ctx, &undo);
    vs_staged_undo_free(&undo);
    finish_versioned(&r, st);
    return st;
}

/* ---- flat ------------------------------------------------------------------
 * The tree goes straight into DIR (absent or empty). It is built in the work
 * folder inside DIR, so that nothing is written outside DIR and DIR may be a
 * mount point, then its entries are renamed into DIR, .vetstage (the
 * manifest) last: until that last rename DIR is not a layout, so `layout
 * check` and `render` refuse a tree a kill interrupted. */

static vs_status move_entries(const vs_work *w, const vs_dest *d, vs_error *err)
{
    int tfd = openat(w->fd, WORK_TREE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dd = tfd >= 0 ? fdopendir(tfd) : NULL;
    if (!dd) {
        if (tfd >= 0)
            close(tfd);
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, d->path, "read the new tree");
    }
    vs_status st = VS_OK;
    struct dirent *de;
    while (!st && (de = readdir(dd)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, VS_META_DIR))
            continue;
        if (renameat(tfd, de->d_name, d->fd, de->d_name) != 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, d->path, "move %s into place",
                                     de->d_name);
    }
    if (!st && renameat(tfd, VS_META_DIR, d->fd, VS_META_DIR) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, d->path,
                                 "move " VS_META_DIR " into place");
    closedir(dd);
    return st;
}

/* DIR held nothing but work folders (vs_dest_classify): what else is there
 * now was moved in by this run. */
static void take_back(const vs_dest *d)
{
    int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dd = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    while (dd && (de = readdir(dd)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            strncmp(de->d_name, VS_STAGE_TMP_PREFIX, sizeof VS_STAGE_TMP_PREFIX - 1) != 0)
            vs_remove_tree(d->fd, de->d_name, NULL);
    if (dd)
        closedir(dd);
    else if (fd >= 0)
        close(fd);
}

static vs_status run_flat(vs_ctx *ctx, const vs_stage_source *src, const char *dest,
                          const vs_stage_opts *opts, vs_stage_result *res, vs_error *err)
{
    vs_dest d;
    vs_work w = { .fd = -1, .lockfd = -1 };
    bool moving = false, committed = false;
    char digest[VS_LAYOUT_DIGEST_HEX] = "";
    vs_staged_undo undo = { "", NULL, 0 };
    vs_status st = vs_dest_open(ctx, dest, &d, err);
    if (!st)
        st = vs_dest_classify(&d, true, err);
    if (!st)
        st = vs_work_open(&d, &w, err);
    if (!st)
        st = build_tree(ctx, src, &w, opts, res, digest, err);
    if (!st && src->record)
        st = vs_staged_pend(ctx, dest, digest, &undo, err);
    if (!st) {
        moving = true;
        st = move_entries(&w, &d, err);
    }
    if (!st && d.made)
        fchmod(d.fd, 0755);
    if (!st)
        st = vs_fsync_dir(d.fd, dest, err);
    if (st && moving)
        take_back(&d);
    committed = !st;
    /* the work folder goes first: a kill after this leaves a complete flat
     * layout, never one with the folder in it (which no later run removes:
     * a flat layout is not staged into again) */
    vs_work_remove(ctx, &w);
    if (!st && src->record) /* in place: recorded under DIR's lock */
        st = vs_staged_record(ctx, dest, src->record, digest, err);
    if (!st) {
        vs_dest_remove_stale(ctx, &d); /* committed: what killed runs left */
        snprintf(res->path, sizeof res->path, "%s", dest);
    }
    if (st && !committed)
        vs_staged_unpend(ctx, &undo);
    vs_staged_undo_free(&undo);
    vs_dest_close(&d, st != VS_OK);
    return st;
}

vs_status vs_stage_source_run(vs_ctx *ctx, const vs_stage_source *src, const char *dest,
                              const vs_stage_opts *opts, vs_stage_result *res, vs_error *err)
{
    vs_stage_opts defaults = VS_STAGE_OPTS_INIT;
    if (!opts)
        opts = &defaults;
    memset(res, 0, sizeof *res);
    if (!dest || !*dest)
        return vs_error_subj(err, VS_E_USAGE, "--dest", "no destination directory given");
    if (!src->entry || !vs_valid_version(vs_cache_entry_version(src->entry)))
        return vs_error_subj(err, VS_E_USAGE, src->label, "invalid version");
    vs_status st = vs_gcrypt_init(err);
    if (st)
        return st;
    if (opts->flat && opts->keep)
        return vs_error_subj(err, VS_E_USAGE, dest, "--keep applies to versioned layouts only");
    return opts->flat ? run_flat(ctx, src, dest, opts, res, err)
                      : run_versioned(ctx, src, dest, opts, res, err);
}
