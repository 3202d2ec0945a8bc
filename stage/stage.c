/* stage/stage.c - the volume layout: a complete tree is built in a hidden
 * temporary directory, then appears by one rename; `current` flips by one
 * rename of a fresh symlink. A failure removes the temporary tree and leaves
 * the destination as it was. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#include "stage/stage_int.h"
#include "vetstage/cache.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int rename_exchange(int olddir, const char *oldname, int newdir, const char *newname)
{
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, olddir, oldname, newdir, newname, RENAME_EXCHANGE);
#else
    errno = ENOSYS;
    return -1;
#endif
}

static void random_name(char *buf, size_t n, const char *prefix)
{
    uint8_t rnd[8];
    char hex[17];
    gcry_create_nonce(rnd, sizeof rnd);
    vs_hex(hex, rnd, sizeof rnd);
    snprintf(buf, n, "%s%s", prefix, hex);
}

/* Remove what a killed earlier run left behind (we hold the lock on dirfd). */
static void remove_stale(const vs_ctx *ctx, int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own read position */
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char names[16][64];
    size_t n = 0;
    struct dirent *de;
    while (n < 16 && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, VS_STAGE_TMP_PREFIX, sizeof VS_STAGE_TMP_PREFIX - 1) == 0 &&
            strlen(de->d_name) < sizeof names[0]) {
            snprintf(names[n], sizeof names[0], "%s", de->d_name);
            n++;
        }
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        vs_error e = VS_ERROR_INIT;
        vs_log(ctx, VS_LOG_INFO, "removing %s left by an interrupted stage", names[i]);
        if (vs_remove_tree(dirfd, names[i], &e) != VS_OK)
            vs_log(ctx, VS_LOG_WARN, "%s", e.message);
    }
}

/* Extract and describe the package in a new hidden directory inside parentfd. */
static vs_status build_tree(vs_ctx *ctx, const vs_stage_source *src, int parentfd,
                            const vs_stage_opts *opts, char tmpname[64], vs_stage_result *res,
                            vs_error *err)
{
    vs_status st = VS_OK;
    int tries = 0;
    for (;;) {
        random_name(tmpname, 64, VS_STAGE_TMP_PREFIX);
        if (mkdirat(parentfd, tmpname, 0700) == 0)
            break;
        if (errno != EEXIST || ++tries > 50)
            return vs_error_errno(err, VS_E_INTERNAL, errno, "%s: create temporary directory",
                                  tmpname);
    }
    int rootfd = openat(parentfd, tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rootfd < 0) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s: open", tmpname);
        goto fail;
    }
    vs_log(ctx, VS_LOG_DEBUG, "extracting %s into %s", src->label, tmpname);
    vs_pathset set;
    vs_pathset_init(&set);
    vs_extract_opts xo = { opts->max_unpacked ? opts->max_unpacked : VS_DEFAULT_MAX_UNPACKED,
                           opts->max_entries ? opts->max_entries : VS_DEFAULT_MAX_ENTRIES,
                           src->label, src->sha256 };
    vs_extract_result xr;
    st = vs_stage_extract(ctx, src->fd, rootfd, &xo, &set, &xr, err);
    if (!st)
        st = vs_stage_write_meta(rootfd, &set, src->provenance, err);
    vs_pathset_free(&set);
    if (!st && fchmod(rootfd, 0755) != 0)
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s: chmod", tmpname);
    if (!st && fsync(rootfd) != 0)
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s: fsync", tmpname);
    close(rootfd);
    if (st)
        goto fail;
    res->files = xr.files;
    res->bytes = xr.bytes;
    return VS_OK;
fail:
    vs_remove_tree(parentfd, tmpname, NULL);
    return st;
}

/* Newest OpenPGP signature time recorded in a staged tree's provenance for
 * package `name`, 0 when there is none, it cannot be read, or the tree holds
 * another package. */
static int64_t provenance_signed_at(int dfd, const char *tree, const char *name)
{
    int tfd = openat(dfd, tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0)
        return 0;
    vs_provenance p;
    vs_status st = vs_provenance_read(tfd, tree, &p, NULL);
    close(tfd);
    if (st || strcmp(p.name, name) != 0)
        return 0;
    return p.signed_at;
}

static void iso(char buf[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    buf[0] = '\0';
    if (gmtime_r(&tt, &tm))
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The rollback rule: a detached signature covers the bytes, not the version
 * in the file name, so an old signed release could be served under a newer
 * name. Refuse a package whose newest OpenPGP signature is older than the one
 * the current version of the same package was staged with. `current` is
 * "versions/VERSION".
 */
static vs_status rollback_rule(int dfd, const char *dest, const char *current,
                               const vs_stage_source *src, vs_error *err)
{
    if (src->signed_at <= 0)
        return VS_OK;
    int64_t cur = provenance_signed_at(dfd, current, src->name);
    if (cur <= 0 || src->signed_at >= cur)
        return VS_OK;
    char a[32], b[32];
    iso(a, src->signed_at);
    iso(b, cur);
    return vs_error_set(err, VS_E_POLICY,
                        "%s: %s %s was signed %s, before the current %s (signed %s): "
                        "rollback refused (--allow-downgrade to force)",
                        dest, src->name, src->version, a, current + 9, b);
}

static vs_status lock_dir(int fd, const char *name, vs_error *err)
{
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return vs_error_errno(err, VS_E_INTERNAL, errno, "%s: lock", name);
    }
    return VS_OK;
}

/* Open DIR, creating it (mode 0755) when absent; *made tells whether we did.
 * Another vetstage creating it at the same moment is fine. */
static vs_status open_dest(const char *dest, int *dfd, bool *made, vs_error *err)
{
    *dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dfd < 0 && errno == ENOENT) {
        if (mkdir(dest, 0755) == 0)
            *made = true;
        else if (errno != EEXIST)
            return vs_error_errno(err, errno == ENOENT ? VS_E_USAGE : VS_E_INTERNAL, errno,
                                  "%s: create", dest);
        *dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (*dfd < 0)
        return vs_error_errno(err, errno == ENOTDIR ? VS_E_USAGE : VS_E_INTERNAL, errno, "%s",
                              dest);
    return VS_OK;
}

static vs_status run_versioned(vs_ctx *ctx, const vs_stage_source *src, const char *dest,
                               const vs_stage_opts *opts, vs_stage_result *res, vs_error *err)
{
    bool made_dest = false, made_versions = false;
    int dfd;
    vs_status ost = open_dest(dest, &dfd, &made_dest, err);
    if (ost)
        return ost;
    int vfd = -1;
    char tmp[64] = "", cur[64] = "";
    bool exchanged = false, placed = false;
    vs_status st = lock_dir(dfd, dest, err);
    if (st)
        goto out;
    remove_stale(ctx, dfd);

    /* the downgrade rule, before any work */
    char target[VS_MAX_VERSION + 32];
    ssize_t r = readlinkat(dfd, "current", target, sizeof target - 1);
    if (r >= 0) {
        target[r < (ssize_t)sizeof target ? r : 0] = '\0';
        if (strncmp(target, "versions/", 9) != 0 || !vs_valid_version(target + 9)) {
            st = vs_error_set(err, VS_E_USAGE, "%s/current: not a vetstage layout link", dest);
            goto out;
        }
        if (vs_version_cmp(target + 9, src->version) > 0 && !opts->allow_downgrade) {
            st = vs_error_set(err, VS_E_POLICY,
                              "%s: %s is older than the current %s (downgrade refused; "
                              "--allow-downgrade to force)",
                              dest, src->version, target + 9);
            goto out;
        }
        if (!opts->allow_downgrade) {
            st = rollback_rule(dfd, dest, target, src, err);
            if (st)
                goto out;
        }
    } else if (errno == EINVAL) {
        st = vs_error_set(err, VS_E_USAGE, "%s/current: exists but is not a symbolic link", dest);
        goto out;
    } else if (errno != ENOENT) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/current", dest);
        goto out;
    }

    st = build_tree(ctx, src, dfd, opts, tmp, res, err);
    if (st) {
        tmp[0] = '\0';
        goto out;
    }
    if (mkdirat(dfd, "versions", 0755) == 0)
        made_versions = true;
    else if (errno != EEXIST) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/versions: create", dest);
        goto out;
    }
    vfd = openat(dfd, "versions", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (vfd < 0) {
        st = vs_error_errno(err, VS_E_USAGE, errno, "%s/versions", dest);
        goto out;
    }
    if (made_versions)
        fchmod(vfd, 0755);
    struct stat sb;
    if (fstatat(vfd, src->version, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        /* already staged: replace it in one step; the old tree is removed after */
        if (!S_ISDIR(sb.st_mode) || rename_exchange(dfd, tmp, vfd, src->version) != 0) {
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/versions/%s: replace", dest,
                                src->version);
            goto out;
        }
        exchanged = true;
        vs_log(ctx, VS_LOG_INFO, "%s/versions/%s was staged before: replaced", dest,
               src->version);
    } else if (renameat(dfd, tmp, vfd, src->version) != 0) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/versions/%s: rename", dest,
                            src->version);
        goto out;
    } else {
        tmp[0] = '\0';
    }
    placed = true;
    if ((st = vs_fsync_dir(vfd, "versions", err)) || (st = vs_fsync_dir(dfd, dest, err)))
        goto out;

    /* flip current */
    char link[VS_MAX_VERSION + 32];
    snprintf(link, sizeof link, "versions/%s", src->version);
    for (int tries = 0;; tries++) {
        random_name(cur, sizeof cur, VS_STAGE_TMP_PREFIX "cur-");
        if (symlinkat(link, dfd, cur) == 0)
            break;
        if (errno != EEXIST || tries > 50) {
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/current: symlink", dest);
            cur[0] = '\0';
            goto out;
        }
    }
    if (renameat(dfd, cur, dfd, "current") != 0) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/current: rename", dest);
        goto out;
    }
    cur[0] = '\0';
    st = vs_fsync_dir(dfd, dest, err);
    placed = false; /* committed: no rollback from here */
    if (exchanged) {
        vs_error e2 = VS_ERROR_INIT;
        if (vs_remove_tree(dfd, tmp, &e2) != VS_OK)
            vs_log(ctx, VS_LOG_WARN, "%s", e2.message);
        tmp[0] = '\0';
    }
    snprintf(res->path, sizeof res->path, "%s/versions/%s", dest, src->version);
out:
    if (st && placed) {
        /* the new version appeared but current could not follow: take it back */
        if (exchanged)
            rename_exchange(dfd, tmp, vfd, src->version);
        else
            vs_remove_tree(vfd, src->version, NULL);
    }
    if (cur[0])
        unlinkat(dfd, cur, 0);
    if (tmp[0])
        vs_remove_tree(dfd, tmp, NULL);
    if (vfd >= 0)
        close(vfd);
    if (st && made_versions)
        unlinkat(dfd, "versions", AT_REMOVEDIR);
    if (st && made_dest)
        rmdir(dest);
    close(dfd);
    return st;
}

/*
 * --flat: the tree goes straight into DIR (absent or empty). It is built in a
 * hidden temporary directory inside DIR, so that nothing is written outside
 * DIR and DIR may be a mount point, then its entries are renamed into DIR,
 * .vetstage (the manifest) last: until that last rename DIR is not a layout,
 * so `layout check` and `render` refuse a tree a kill interrupted. A refusal
 * removes the temporary tree and leaves DIR as it was (absent if it was).
 */
static vs_status move_entries(int tfd, int dfd, const char *dest, vs_error *err)
{
    DIR *dd = fdopendir(openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dd)
        return vs_error_errno(err, VS_E_INTERNAL, errno, "%s: read temporary tree", dest);
    vs_status st = VS_OK;
    struct dirent *de;
    while (!st && (de = readdir(dd)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, VS_META_DIR))
            continue;
        if (renameat(tfd, de->d_name, dfd, de->d_name) != 0)
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/%s: move into place", dest,
                                de->d_name);
    }
    closedir(dd);
    if (!st && renameat(tfd, VS_META_DIR, dfd, VS_META_DIR) != 0)
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/" VS_META_DIR ": move into place",
                            dest);
    return st;
}

static vs_status run_flat(vs_ctx *ctx, const vs_stage_source *src, const char *dest,
                          const vs_stage_opts *opts, vs_stage_result *res, vs_error *err)
{
    bool made = false;
    int dfd;
    vs_status ost = open_dest(dest, &dfd, &made, err);
    if (ost)
        return ost;
    char tmp[64] = "";
    int tfd = -1;
    vs_status st = lock_dir(dfd, dest, err);
    if (st)
        goto out;
    remove_stale(ctx, dfd);
    /* a fresh open of DIR: a dup would share the read position remove_stale left */
    DIR *dd = fdopendir(openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dd) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s", dest);
        goto out;
    }
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(dd)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = false;
    closedir(dd);
    if (!empty) {
        st = vs_error_set(err, VS_E_USAGE, "%s: not empty (--flat needs an absent or empty DIR)",
                          dest);
        goto out;
    }
    if ((st = build_tree(ctx, src, dfd, opts, tmp, res, err))) {
        tmp[0] = '\0';
        goto out;
    }
    tfd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/%s: open", dest, tmp);
        goto out;
    }
    if ((st = move_entries(tfd, dfd, dest, err)))
        goto out;
    if (unlinkat(dfd, tmp, AT_REMOVEDIR) != 0) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/%s: remove", dest, tmp);
        goto out;
    }
    tmp[0] = '\0';
    if (made)
        fchmod(dfd, 0755);
    st = vs_fsync_dir(dfd, dest, err);
    snprintf(res->path, sizeof res->path, "%s", dest);
out:
    if (tfd >= 0)
        close(tfd);
    if (st && tmp[0]) {
        /* entries already moved are taken back out: DIR was empty before */
        vs_remove_tree(dfd, tmp, NULL);
        DIR *cd = fdopendir(openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct dirent *ce;
        while (cd && (ce = readdir(cd)) != NULL)
            if (strcmp(ce->d_name, ".") && strcmp(ce->d_name, ".."))
                vs_remove_tree(dfd, ce->d_name, NULL);
        if (cd)
            closedir(cd);
    }
    close(dfd);
    if (st && made)
        rmdir(dest);
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
        return vs_error_set(err, VS_E_USAGE, "stage: no destination directory given");
    if (!src->version || !vs_valid_version(src->version))
        return vs_error_set(err, VS_E_USAGE, "stage: invalid version '%s'",
                            src->version ? src->version : "");
    vs_status st = vs_gcrypt_init(err);
    if (st)
        return st;
    if (opts->flat)
        return run_flat(ctx, src, dest, opts, res, err);
    return run_versioned(ctx, src, dest, opts, res, err);
}
