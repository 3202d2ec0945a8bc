/* stage/layout_check.c - `layout check`: a staged tree against its manifest and
 * MODES file. libc + libgcrypt + common/{error,hash,cursor,fsutil}.c +
 * stage/{pathrules,manifest}.c only, so that the static vetstage-check links it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "stage/stage_int.h"

typedef struct checker {
    vs_pathset set;
    vs_layout_problem_cb cb;
    void *payload;
    size_t problems;
    vs_error *err;
    char path[2 * VS_MAX_ARCHIVE_PATH + 2];
} checker;

static void problem(checker *k, const char *path, const char *fmt, ...) VS_PRINTF(3, 4);
static void problem(checker *k, const char *path, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    k->problems++;
    if (k->cb)
        k->cb(path, reason, k->payload);
}

static const char *type_name(char t)
{
    switch (t) {
    case 'f':
        return "file";
    case 'd':
        return "directory";
    case 'l':
        return "symbolic link";
    default:
        return "special file";
    }
}

static char type_of(mode_t m)
{
    return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : '?';
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory (without . and ..); NULL on error (errno set). */
static char **list_dir(int dfd, size_t *count)
{
    int fd = dup(dfd);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return NULL;
    }
    rewinddir(d);
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (errno = 0, de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            char **nv = realloc(v, cap * 2 * sizeof *v);
            if (!nv)
                goto fail;
            v = nv;
            cap *= 2;
        }
        if (!(v[n] = strdup(de->d_name)))
            goto fail;
        n++;
    }
    if (!v || errno)
        goto fail;
    closedir(d);
    qsort(v, n, sizeof *v, cmp_name);
    *count = n;
    return v;
fail:
    if (v)
        for (size_t i = 0; i < n; i++)
            free(v[i]);
    free(v);
    closedir(d);
    if (!errno)
        errno = ENOMEM;
    return NULL;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static vs_status check_meta_dir(checker *k, int rootfd)
{
    int fd = openat(rootfd, VS_META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        problem(k, VS_META_DIR, "not a directory");
        return VS_OK;
    }
    struct stat msb;
    if (fstat(fd, &msb) == 0 && (msb.st_mode & 07777) != 0755)
        problem(k, VS_META_DIR, "mode %04o, must be 0755", (unsigned)(msb.st_mode & 07777));
    size_t n;
    char **names = list_dir(fd, &n);
    if (!names) {
        int e = errno;
        close(fd);
        return vs_error_subj_errno(k->err, VS_E_INTERNAL, e, VS_META_DIR, "read directory");
    }
    bool have_prov = false;
    for (size_t i = 0; i < n; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%.255s", VS_META_DIR, names[i]);
        struct stat sb;
        bool known = !strcmp(names[i], VS_META_MANIFEST) || !strcmp(names[i], VS_META_MODES) ||
                     !strcmp(names[i], VS_META_PROVENANCE);
        if (!known) {
            problem(k, p, "unexpected entry in the metadata folder");
            continue;
        }
        if (fstatat(fd, names[i], &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)) {
            problem(k, p, "not a regular file");
            continue;
        }
        if (sb.st_mode & 07022)
            problem(k, p, "mode %04o: writable by others or with special bits",
                    (unsigned)(sb.st_mode & 07777));
        if (!strcmp(names[i], VS_META_PROVENANCE))
            have_prov = true;
    }
    if (!have_prov)
        problem(k, VS_META_DIR "/" VS_META_PROVENANCE, "missing");
    free_list(names, n);
    close(fd);
    return VS_OK;
}

static vs_status check_file(checker *k, int dfd, const char *name, const vs_pathent *e,
                            const struct stat *sb)
{
    if ((sb->st_mode & 07777) != e->mode)
        problem(k, k->path, "mode %04o, recorded %04o", (unsigned)(sb->st_mode & 07777), e->mode);
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        problem(k, k->path, "cannot be read: %s", strerror(errno));
        return VS_OK;
    }
    /* file capabilities give privileges that no mode bit shows */
    if (fgetxattr(fd, "security.capability", NULL, 0) >= 0)
        problem(k, k->path, "carries file capabilities (security.capability), which vetstage "
                            "never sets");
    uint8_t d[VS_SHA256_LEN];
    uint64_t size = 0;
    vs_error herr = VS_ERROR_INIT;
    vs_status st = vs_sha256_fd(fd, k->path, d, &size, &herr);
    close(fd);
    if (st) {
        problem(k, k->path, "cannot be read: %s", herr.message);
        return VS_OK;
    }
    if (memcmp(d, e->sha256, VS_SHA256_LEN) != 0)
        problem(k, k->path, "content differs from the manifest");
    return VS_OK;
}

static vs_status walk(checker *k, int dfd, size_t plen, int depth)
{
    size_t n;
    char **names = list_dir(dfd, &n);
    if (!names)
        return vs_error_subj_errno(k->err, VS_E_INTERNAL, errno, plen ? k->path : ".",
                                   "read directory");
    vs_status st = VS_OK;
    for (size_t i = 0; i < n && st == VS_OK; i++) {
        const char *name = names[i];
        if (depth == 0 && !strcmp(name, VS_META_DIR)) {
            st = check_meta_dir(k, dfd);
            continue;
        }
        size_t nl = strlen(name);
        if (plen + 1 + nl >= sizeof k->path) {
            k->path[plen] = '\0';
            problem(k, k->path, "unexpected entry with an over-long name");
            continue;
        }
        size_t np = plen;
        if (np)
            k->path[np++] = '/';
        memcpy(k->path + np, name, nl + 1);
        np += nl;
        struct stat sb;
        if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            st = vs_error_subj_errno(k->err, VS_E_INTERNAL, errno, k->path, "stat");
            break;
        }
        char t = type_of(sb.st_mode);
        vs_pathent *e = vs_pathset_get(&k->set, k->path);
        if (!e || !e->type) {
            problem(k, k->path, "unexpected %s (not in the manifest)", type_name(t));
            k->path[plen] = '\0';
            continue;
        }
        e->seen = true;
        if (e->type != t) {
            problem(k, k->path, "is a %s, recorded as a %s", type_name(t), type_name(e->type));
        } else if (t == 'f') {
            st = check_file(k, dfd, name, e, &sb);
        } else if (t == 'l') {
            char buf[VS_MAX_ARCHIVE_PATH + 2];
            ssize_t r = readlinkat(dfd, name, buf, sizeof buf - 1);
            if (r < 0 || (size_t)r >= sizeof buf - 1) {
                problem(k, k->path, "symbolic link cannot be read");
            } else {
                buf[r] = '\0';
                if (!e->target || strcmp(buf, e->target) != 0)
                    problem(k, k->path, "symbolic link target differs from the record");
            }
        } else if (t == 'd') {
            if ((sb.st_mode & 07777) != e->mode)
                problem(k, k->path, "mode %04o, recorded %04o", (unsigned)(sb.st_mode & 07777),
                        e->mode);
            int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                problem(k, k->path, "directory cannot be opened: %s", strerror(errno));
            } else {
                st = walk(k, sub, np, depth + 1);
                close(sub);
            }
        }
        k->path[plen] = '\0';
    }
    free_list(names, n);
    return st;
}

/* Find the tree: DIR itself (flat) or DIR/current -> versions/VERSION. */
static vs_status open_root(const char *dir, int dfd, int *rootfd, vs_error *err)
{
    struct stat sb;
    if (fstatat(dfd, VS_META_DIR "/" VS_META_MANIFEST, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        *rootfd = dup(dfd);
        if (*rootfd < 0)
            return vs_error_subj_errno(err, VS_E_INTERNAL, errno, dir, "%s", "");
        return VS_OK;
    }
    char target[VS_MAX_VERSION + 32];
    ssize_t r = readlinkat(dfd, "current", target, sizeof target - 1);
    if (r < 0) {
        if (errno == ENOENT || errno == EINVAL)
            return vs_error_subj(err, VS_E_USAGE, dir,
                                 "not a layout (no .vetstage/MANIFEST.sha256 and no current)");
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, dir, "current");
    }
    if ((size_t)r >= sizeof target - 1)
        return vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/current", dir),
                             "target is not versions/VERSION");
    target[r] = '\0';
    if (strncmp(target, "versions/", 9) != 0 || !vs_valid_version(target + 9))
        return vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/current", dir),
                             "target is not versions/VERSION");
    int vfd = openat(dfd, "versions", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int fd = vfd < 0 ? -1 : openat(vfd, target + 9, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    if (vfd >= 0)
        close(vfd);
    if (fd < 0)
        return vs_error_subj_errno(err, VS_E_INTEGRITY, e, VS_SUBJ("%s/current", dir), "%s",
                                   target);
    if (fstatat(fd, VS_META_DIR "/" VS_META_MANIFEST, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        close(fd);
        return vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/%s", dir, target),
                             "missing .vetstage/MANIFEST.sha256");
    }
    *rootfd = fd;
    return VS_OK;
}

static vs_status load_meta(checker *k, int rootfd, const char *dir)
{
    int mfd = openat(rootfd, VS_META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (mfd < 0)
        return vs_error_subj_errno(k->err, VS_E_INTEGRITY, errno, VS_SUBJ("%s/.vetstage", dir),
                                   "%s", "");
    uint8_t *buf = NULL;
    size_t len = 0;
    vs_error rerr = VS_ERROR_INIT;
    vs_status st = vs_read_file(mfd, VS_META_MANIFEST, VS_MAX_MANIFEST_FILE, &buf, &len, &rerr);
    if (st) {
        close(mfd);
        return vs_error_subj(k->err, VS_E_INTEGRITY,
                             VS_SUBJ("%s/" VS_META_DIR "/%s", dir, rerr.subject), "%s",
                             rerr.reason);
    }
    st = vs_manifest_parse(buf, len, VS_META_DIR "/" VS_META_MANIFEST, &k->set, k->err);
    free(buf);
    if (st) {
        close(mfd);
        return st;
    }
    st = vs_read_file(mfd, VS_META_MODES, VS_MAX_MODES_FILE, &buf, &len, &rerr);
    close(mfd);
    if (st)
        return vs_error_subj(k->err, VS_E_INTEGRITY,
                             VS_SUBJ("%s/" VS_META_DIR "/%s", dir, rerr.subject), "%s",
                             rerr.reason);
    st = vs_modes_parse(buf, len, VS_META_DIR "/" VS_META_MODES, &k->set, k->err);
    free(buf);
    return st;
}

VS_EXTERN vs_status vs_layout_check(size_t *nproblems, const char *dir, vs_layout_problem_cb cb,
                                    void *payload, vs_error *err)
{
    if (nproblems)
        *nproblems = 0;
    if (!dir || !*dir)
        return vs_error_subj(err, VS_E_USAGE, "layout check", "no directory given");
    vs_status st = vs_gcrypt_init(err);
    if (st)
        return st;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, dir, "%s", "");
    int rootfd = -1;
    st = open_root(dir, dfd, &rootfd, err);
    close(dfd);
    if (st)
        return st;
    st = vs_layout_check_at(nproblems, rootfd, dir, cb, payload, err);
    close(rootfd);
    return st;
}

vs_status vs_layout_check_at(size_t *nproblems, int rootfd, const char *dir,
                             vs_layout_problem_cb cb, void *payload, vs_error *err)
{
    if (nproblems)
        *nproblems = 0;
    vs_status st = VS_OK;
    checker *k = calloc(1, sizeof *k);
    if (!k)
        return vs_error_subj(err, VS_E_INTERNAL, dir, "out of memory");
    vs_pathset_init(&k->set);
    k->cb = cb;
    k->payload = payload;
    k->err = err;
    st = load_meta(k, rootfd, dir);
    if (st == VS_OK) {
        /* the two records must agree before the disk is compared with them */
        for (size_t i = 0; i < k->set.cap; i++) {
            vs_pathent *e = k->set.slots[i];
            if (!e)
                continue;
            if (e->has_sha && e->type != 'f')
                problem(k, e->path, "in MANIFEST.sha256 but not recorded as a file in MODES");
            else if (!e->has_sha && e->type == 'f')
                problem(k, e->path, "recorded as a file in MODES but not in MANIFEST.sha256");
        }
        k->path[0] = '\0';
        struct stat rsb;
        if (fstat(rootfd, &rsb) == 0 && (rsb.st_mode & 07022))
            problem(k, ".", "mode %04o: the tree's top folder is writable by others or has "
                            "special bits",
                    (unsigned)(rsb.st_mode & 07777));
        st = walk(k, rootfd, 0, 0);
    }
    if (st == VS_OK) {
        vs_pathent **v = vs_pathset_sorted(&k->set);
        if (!v) {
            st = vs_error_subj(err, VS_E_INTERNAL, dir, "out of memory");
        } else {
            for (size_t i = 0; i < k->set.n; i++)
                if (v[i]->type && !v[i]->seen)
                    problem(k, v[i]->path, "missing (%s in the manifest)", type_name(v[i]->type));
            free(v);
        }
    }
    if (st == VS_OK && k->problems)
        st = vs_error_subj(err, VS_E_INTEGRITY, dir, "layout damaged: %zu problem%s found",
                           k->problems, k->problems == 1 ? "" : "s");
    if (nproblems)
        *nproblems = k->problems;
    vs_pathset_free(&k->set);
    free(k);
    return st;
}
