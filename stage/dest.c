/* stage/dest.c - the destination of a stage: where it may be (never inside
 * the home), what it may already hold (nothing, or a layout of the same
 * kind), and the private work folder each run builds in.
 *
 * A run works in DIR/.vetstage-tmp-HEX/, which holds `lock` (flock'ed for
 * the run's whole life) and `tree/`. A later run removes such a folder only
 * when it can take that lock: then its owner is gone, and the lock file
 * proves the folder was a vetstage run's. The one other such folder removed
 * is an empty one: a run killed between creating the folder and its lock
 * leaves it, and the lock is the last thing a removal takes away, so a run
 * killed while removing leaves either the lock or nothing. Every run holds
 * DIR's own lock meanwhile, so no live run can be at either moment. Only a
 * folder with the exact name a run gives (the prefix and 16 hex digits)
 * qualifies. Nothing else is ever removed, and leftovers only once the
 * run has committed its layout: a refused run changes nothing. */
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

#include <gcrypt.h>

#include "stage/stage_int.h"

#define WORK_LOCK "lock"

/* ---- the home is not a destination ---------------------------------------- */

static vs_status outside_home(const vs_ctx *ctx, const char *dest, vs_error *err)
{
    char d[PATH_MAX], h[PATH_MAX];
    if (!realpath(vs_ctx_home(ctx), h) || !vs_path_resolve(dest, d))
        return VS_OK; /* an unresolvable DEST fails when it is opened */
    size_t hl = strlen(h);
    if (strncmp(d, h, hl) != 0 || (d[hl] != '\0' && d[hl] != '/'))
        return VS_OK;
    vs_error_subj(err, VS_E_USAGE, dest, "is inside the vetstage home %s", h);
    vs_error_hint(err, "stage into a folder outside the home (--dest)");
    return VS_E_USAGE;
}

/* A folder above DEST that is a vetstage layout (it has .vetstage/, or
 * versions/ beside a current link): staging inside it would damage it. */
static vs_status outside_layouts(const char *dest, vs_error *err)
{
    char d[PATH_MAX];
    if (!vs_path_resolve(dest, d))
        return VS_OK;
    for (char *slash = strrchr(d, '/'); slash && slash != d; slash = strrchr(d, '/')) {
        *slash = '\0';
        char probe[PATH_MAX];
        struct stat sb;
        bool layout = false;
        if (snprintf(probe, sizeof probe, "%s/.vetstage", d) < (int)sizeof probe &&
            lstat(probe, &sb) == 0 && S_ISDIR(sb.st_mode))
            layout = true;
        if (!layout && snprintf(probe, sizeof probe, "%s/current", d) < (int)sizeof probe &&
            lstat(probe, &sb) == 0 && S_ISLNK(sb.st_mode) &&
            snprintf(probe, sizeof probe, "%s/versions", d) < (int)sizeof probe &&
            lstat(probe, &sb) == 0 && S_ISDIR(sb.st_mode))
            layout = true;
        if (layout) {
            vs_error_subj(err, VS_E_USAGE, dest, "is inside the vetstage layout %s", d);
            vs_error_hint(err, "stage into a folder outside every layout (--dest)");
            return VS_E_USAGE;
        }
    }
    return VS_OK;
}

/* ---- open and lock --------------------------------------------------------- */

vs_status vs_dest_open(const vs_ctx *ctx, const char *path, vs_dest *d, vs_error *err)
{
    memset(d, 0, sizeof *d);
    d->path = path;
    d->fd = -1;
    vs_status st = outside_home(ctx, path, err);
    if (st == VS_OK)
        st = outside_layouts(path, err);
    if (st)
        return st;
    d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->fd < 0 && errno == ENOENT) {
        if (mkdir(path, 0755) == 0)
            d->made = true;
        else if (errno != EEXIST) /* another vetstage creating it is fine */
            return vs_error_subj_errno(err, errno == ENOENT ? VS_E_USAGE : VS_E_INTERNAL, errno,
                                       path, "create");
        d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (d->fd < 0) {
        int e = errno;
        struct stat sb;
        if (e == ENOENT && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
            vs_error_subj(err, VS_E_USAGE, path, "a symbolic link to nothing");
            vs_error_hint(err, "give an absent or empty folder, or a layout vetstage staged");
            return VS_E_USAGE;
        }
        return vs_error_subj_errno(err, e == ENOTDIR || e == ENOENT ? VS_E_USAGE : VS_E_INTERNAL,
                                   e, path, "open");
    }
    while (flock(d->fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return vs_error_subj_errno(err, VS_E_INTERNAL, errno, path, "lock");
    return VS_OK;
}

void vs_dest_close(vs_dest *d, bool failed)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    if (failed && d->made)
        rmdir(d->path);
}

/* ---- work folders ---------------------------------------------------------- */

static bool work_name(const char *name)
{
    return strncmp(name, VS_STAGE_TMP_PREFIX, sizeof VS_STAGE_TMP_PREFIX - 1) == 0;
}

/* Nothing in the folder fd (which this consumes). */
static bool empty_dir(int fd)
{
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return false;
    }
    bool empty = true;
    struct dirent *de;
    while (empty && (de = readdir(dir)) != NULL)
        empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
    closedir(dir);
    return empty;
}

/* The exact name a run gives its work folder: the prefix and 16 hex digits. */
static bool run_name(const char *name)
{
    const char *h = name + sizeof VS_STAGE_TMP_PREFIX - 1;
    if (!work_name(name) || strlen(h) != 16)
        return false;
    for (; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
            return false;
    return true;
}

enum { WORK_NOT = -1, WORK_BUSY = 0, WORK_STALE = 1, WORK_EMPTY = 2 };

/* WORK_STALE: a work folder whose owner is gone; WORK_EMPTY: an empty folder
 * with a run's exact name and no lock (what a kill right after its mkdir
 * leaves); WORK_BUSY: one in use; WORK_NOT: not a work folder. */
static int work_state(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (!run_name(name)) { /* a run's exact name, or not a run's at all */
        close(fd);
        return WORK_NOT;
    }
    int lk = openat(fd, WORK_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (lk < 0) {
        if (errno == ENOENT) /* no lock: only if empty */
            return empty_dir(fd) ? WORK_EMPTY : WORK_NOT;
        close(fd);
        return WORK_NOT;
    }
    close(fd);
    int state = WORK_NOT;
    if (fstat(lk, &sb) == 0 && S_ISREG(sb.st_mode))
        state = flock(lk, LOCK_EX | LOCK_NB) == 0 ? WORK_STALE : WORK_BUSY;
    close(lk); /* releases the lock we may have taken */
    return state;
}

/* A work folder: everything in it, then its lock, then the folder. */
static vs_status remove_work(int dfd, const char *name, vs_error *err)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? VS_OK : vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "open");
    int rd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own read position */
    DIR *dir = rd >= 0 ? fdopendir(rd) : NULL;
    vs_status st = VS_OK;
    if (!dir) {
        if (rd >= 0)
            close(rd);
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "read");
    }
    struct dirent *de;
    while (!st && dir && (de = readdir(dir)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, WORK_LOCK))
            continue;
        if ((st = vs_remove_tree(fd, de->d_name, err)) == VS_OK)
            rewinddir(dir);
    }
    if (dir)
        closedir(dir);
    if (!st && unlinkat(fd, WORK_LOCK, 0) != 0 && errno != ENOENT)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "remove its lock");
    close(fd);
    if (!st && unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "rmdir");
    return st;
}

void vs_dest_remove_stale(const vs_ctx *ctx, const vs_dest *d)
{
    int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own read position */
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char names[16][64];
    int state[16];
    size_t n = 0;
    struct dirent *de;
    while (n < 16 && (de = readdir(dir)) != NULL) {
        if (!work_name(de->d_name) || strlen(de->d_name) >= sizeof names[0])
            continue;
        int s = work_state(d->fd, de->d_name);
        if (s == WORK_STALE || s == WORK_EMPTY) {
            state[n] = s;
            snprintf(names[n++], sizeof names[0], "%s", de->d_name);
        }
    }
    closedir(dir);
    for (size_t i = 0; i < n; i++) {
        vs_error e = VS_ERROR_INIT;
        vs_log(ctx, VS_LOG_INFO, "%s/%s: removing what an interrupted stage left", d->path,
               names[i]);
        if (state[i] == WORK_EMPTY) {
            /* only ever rmdir: whatever appeared in it since makes it stay */
            if (unlinkat(d->fd, names[i], AT_REMOVEDIR) != 0 && errno != ENOENT)
                vs_log(ctx, VS_LOG_WARN, "%s/%s: not removed: %s", d->path, names[i],
                       strerror(errno));
        } else if (remove_work(d->fd, names[i], &e) != VS_OK) {
            vs_log(ctx, VS_LOG_WARN, "%s", e.message);
        }
    }
}

vs_status vs_work_open(const vs_dest *d, vs_work *w, vs_error *err)
{
    memset(w, 0, sizeof *w);
    w->dfd = d->fd;
    w->fd = w->lockfd = -1;
    for (int tries = 0;; tries++) {
        uint8_t rnd[8];
        char hex[17];
        gcry_create_nonce(rnd, sizeof rnd);
        vs_hex(hex, rnd, sizeof rnd);
        snprintf(w->name, sizeof w->name, VS_STAGE_TMP_PREFIX "%s", hex);
        if (mkdirat(d->fd, w->name, 0700) == 0)
            break;
        if (errno != EEXIST || tries > 50) {
            w->name[0] = '\0';
            return vs_error_subj_errno(err, VS_E_INTERNAL, errno, d->path,
                                       "create a temporary folder");
        }
    }
    w->fd = openat(d->fd, w->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (w->fd >= 0)
        w->lockfd = openat(w->fd, WORK_LOCK, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0600);
    if (w->lockfd < 0 || flock(w->lockfd, LOCK_EX | LOCK_NB) != 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, d->path,
                                   "set up the temporary folder %s", w->name);
    return VS_OK;
}

void vs_work_remove(const vs_ctx *ctx, vs_work *w)
{
    if (w->name[0]) {
        vs_error e = VS_ERROR_INIT;
        if (remove_work(w->dfd, w->name, &e) != VS_OK)
            vs_log(ctx, VS_LOG_WARN, "%s", e.message);
    }
    if (w->fd >= 0)
        close(w->fd);
    if (w->lockfd >= 0)
        close(w->lockfd);
    w->fd = w->lockfd = -1;
    w->name[0] = '\0';
}

/* ---- what DIR holds --------------------------------------------------------- */

static vs_status foreign(const vs_dest *d, bool flat, const char *what, vs_error *err)
{
    vs_error_subj(err, VS_E_USAGE, d->path, "not empty and not a vetstage %slayout (found %s)",
                  flat ? "" : "versioned ", what);
    vs_error_hint(err, "%s", flat ? "--flat needs an absent or empty DIR"
                                  : "choose an absent or empty DIR, or one vetstage staged");
    return VS_E_USAGE;
}

/* Each versions/V is a directory holding a staged tree. */
static vs_status check_versions(const vs_dest *d, vs_error *err)
{
    int fd = openat(d->fd, "versions", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return foreign(d, false, "'versions', which is not a directory", err);
    }
    vs_status st = VS_OK;
    struct dirent *de;
    while (!st && (de = readdir(dir)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat sb;
        const char *why = NULL;
        if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            why = "unreadable";
        else if (!S_ISDIR(sb.st_mode))
            why = S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a directory";
        else if (!vs_valid_version(de->d_name))
            why = "not named as a version";
        if (!why) {
            int vfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (vfd < 0 || fstatat(vfd, VS_META_DIR "/" VS_META_MANIFEST, &sb,
                                   AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
                why = "a folder without " VS_META_DIR "/" VS_META_MANIFEST;
            if (vfd >= 0)
                close(vfd);
        }
        if (why) {
            char subj[PATH_MAX];
            snprintf(subj, sizeof subj, "%s/versions/%s", d->path, de->d_name);
            st = vs_error_subj(err, VS_E_USAGE, subj, "is %s, not a version vetstage staged", why);
            vs_error_hint(err, "move it out of %s/versions", d->path);
        }
    }
    closedir(dir);
    return st;
}

/* DIR/current: a symbolic link "versions/VERSION"; the version goes to d. */
static vs_status read_current(vs_dest *d, vs_error *err)
{
    char subj[PATH_MAX];
    snprintf(subj, sizeof subj, "%s/current", d->path);
    char target[VS_MAX_VERSION + 32];
    ssize_t r = readlinkat(d->fd, "current", target, sizeof target - 1);
    if (r < 0 && errno == EINVAL)
        return vs_error_subj(err, VS_E_USAGE, subj, "exists but is not a symbolic link");
    if (r < 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, subj, "read");
    target[r] = '\0';
    if (strncmp(target, "versions/", 9) != 0 || !vs_valid_version(target + 9))
        return vs_error_subj(err, VS_E_USAGE, subj, "not a vetstage layout link");
    memcpy(d->current, target + 9, strlen(target + 9) + 1); /* valid: <= VS_MAX_VERSION */
    return VS_OK;
}

static vs_status classify_entry(vs_dest *d, bool flat, const char *name, bool *layout,
                                vs_error *err)
{
    if (work_name(name)) {
        if (work_state(d->fd, name) != WORK_NOT)
            return VS_OK;
        char what[300];
        snprintf(what, sizeof what, "'%.255s', which no vetstage run left", name);
        return foreign(d, flat, what, err);
    }
    if (!strcmp(name, "current")) {
        *layout = true;
        return read_current(d, err);
    }
    if (!strcmp(name, "versions")) {
        *layout = true;
        return check_versions(d, err);
    }
    char what[300];
    snprintf(what, sizeof what, "'%.255s'", name);
    return foreign(d, flat, what, err);
}

vs_status vs_dest_classify(vs_dest *d, bool flat, vs_error *err)
{
    struct stat sb;
    d->kind = VS_DEST_EMPTY;
    d->current[0] = '\0';
    if (fstatat(d->fd, VS_META_DIR "/" VS_META_MANIFEST, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        d->kind = VS_DEST_FLAT;
        vs_error_subj(err, VS_E_USAGE, d->path, "is a --flat layout already");
        vs_error_hint(err, "%s", flat ? "--flat needs an absent or empty DIR: remove it first"
                                      : "a versioned stage needs an absent or empty DIR, or "
                                        "a versioned layout");
        return VS_E_USAGE;
    }
    int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own read position */
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, d->path, "read");
    }
    bool layout = false;
    vs_status st = VS_OK;
    struct dirent *de;
    while (!st && (de = readdir(dir)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            st = classify_entry(d, flat, de->d_name, &layout, err);
    closedir(dir);
    if (!st && layout)
        d->kind = VS_DEST_VERSIONED;
    if (!st && layout && flat) {
        st = vs_error_subj(err, VS_E_USAGE, d->path, "is a versioned layout");
        vs_error_hint(err, "--flat needs an absent or empty DIR");
    }
    return st;
}
