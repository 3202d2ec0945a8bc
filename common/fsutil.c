/* common/fsutil.c - atomic files and directory-fd helpers. libc + hash.c only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define VS_HAVE_OPENAT2 1
#endif
#endif
#endif

#include <gcrypt.h>

#include "common/common_int.h"

int vs_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

vs_status vs_tmpfile_open(vs_tmpfile *t, int dirfd, mode_t mode, bool hash, vs_error *err)
{
    t->dirfd = dirfd;
    t->fd = -1;
    t->tmpname[0] = '\0';
    t->hashing = hash;
    t->h.hd = NULL;
    t->written = 0;
    for (int tries = 0; tries < 100; tries++) {
        uint8_t rnd[8];
        gcry_create_nonce(rnd, sizeof rnd);
        char hex[17];
        vs_hex(hex, rnd, sizeof rnd);
        snprintf(t->tmpname, sizeof t->tmpname, ".tmp-%s", hex);
        t->fd = openat(dirfd, t->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                       mode);
        if (t->fd >= 0)
            break;
        if (errno != EEXIST)
            return vs_error_subj_errno(err, VS_E_INTERNAL, errno, t->tmpname,
                                       "create temporary file");
    }
    if (t->fd < 0)
        return vs_error_subj(err, VS_E_INTERNAL, t->tmpname,
                             "cannot create a unique temporary file");
    /* umask must not weaken or strengthen what the caller asked for */
    if (fchmod(t->fd, mode) != 0) {
        int e = errno;
        char name[sizeof t->tmpname];
        memcpy(name, t->tmpname, sizeof name);
        vs_tmpfile_abort(t);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, name, "chmod temporary file");
    }
    if (hash) {
        vs_status st = vs_sha256_init(&t->h, err);
        if (st) {
            vs_tmpfile_abort(t);
            return st;
        }
    }
    return VS_OK;
}

vs_status vs_tmpfile_write(vs_tmpfile *t, const void *p, size_t len, vs_error *err)
{
    if (vs_write_all(t->fd, p, len) != 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, t->tmpname, "write");
    if (t->hashing)
        vs_sha256_update(&t->h, p, len);
    t->written += len;
    return VS_OK;
}

vs_status vs_tmpfile_commit(vs_tmpfile *t, const char *name, uint8_t digest[VS_SHA256_LEN],
                            vs_error *err)
{
    if (fsync(t->fd) != 0) {
        int e = errno;
        vs_tmpfile_abort(t);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, name, "fsync");
    }
    if (close(t->fd) != 0) {
        int e = errno;
        t->fd = -1;
        vs_tmpfile_abort(t);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, name, "close");
    }
    t->fd = -1;
    if (renameat(t->dirfd, t->tmpname, t->dirfd, name) != 0) {
        int e = errno;
        vs_tmpfile_abort(t);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, name, "rename");
    }
    t->tmpname[0] = '\0';
    if (t->hashing) {
        if (digest)
            vs_sha256_final(&t->h, digest);
        else
            vs_sha256_abort(&t->h);
    }
    return vs_fsync_dir(t->dirfd, name, err);
}

void vs_tmpfile_abort(vs_tmpfile *t)
{
    if (t->fd > 0)
        close(t->fd);
    t->fd = -1;
    if (t->tmpname[0])
        unlinkat(t->dirfd, t->tmpname, 0);
    t->tmpname[0] = '\0';
    if (t->hashing)
        vs_sha256_abort(&t->h);
}

vs_status vs_write_file_atomic(int dirfd, const char *name, const void *p, size_t len, mode_t mode,
                               vs_error *err)
{
    vs_tmpfile t;
    vs_status st = vs_tmpfile_open(&t, dirfd, mode, false, err);
    if (st)
        return st;
    st = vs_tmpfile_write(&t, p, len, err);
    if (st) {
        vs_tmpfile_abort(&t);
        return st;
    }
    return vs_tmpfile_commit(&t, name, NULL, err);
}

vs_status vs_read_fd(int fd, const char *name, size_t max, uint8_t **out, size_t *len,
                     vs_error *err)
{
    *out = NULL;
    *len = 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, name, "stat");
    if (!S_ISREG(sb.st_mode))
        return vs_error_subj(err, VS_E_USAGE, name, "not a regular file");
    size_t cap = (size_t)sb.st_size < max ? (size_t)sb.st_size + 1 : max + 1;
    uint8_t *buf = malloc(cap + 1);
    if (!buf)
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > max)
                break;
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            return vs_error_subj_errno(err, VS_E_USAGE, e, name, "read");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        free(buf);
        return vs_error_subj(err, VS_E_USAGE, name, "larger than the limit of %zu bytes", max);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return VS_OK;
}

vs_status vs_read_file(int dirfd, const char *path, size_t max, uint8_t **out, size_t *len,
                       vs_error *err)
{
    *out = NULL;
    *len = 0;
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, path, "open");
    vs_status st = vs_read_fd(fd, path, max, out, len, err);
    close(fd);
    return st;
}

vs_status vs_mkdir_p(int dirfd, const char *path, mode_t mode, vs_error *err)
{
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p)
        return vs_error_subj(err, VS_E_INTERNAL, path, "out of memory");
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdirat(dirfd, p, mode) != 0 && errno != EEXIST) {
            int e = errno;
            vs_status st = vs_error_subj_errno(err, VS_E_INTERNAL, e, p, "mkdir");
            free(p);
            return st;
        }
        p[i] = saved;
    }
    struct stat sb;
    if (fstatat(dirfd, p, &sb, 0) != 0 || !S_ISDIR(sb.st_mode)) {
        vs_status st = vs_error_subj(err, VS_E_USAGE, p, "not a directory");
        free(p);
        return st;
    }
    free(p);
    return VS_OK;
}

vs_status vs_open_dir(int dirfd, const char *path, int *out, vs_error *err)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vs_error_subj_errno(err,
                                   errno == ENOENT || errno == ENOTDIR ? VS_E_USAGE : VS_E_INTERNAL,
                                   errno, path, "%s", "");
    *out = fd;
    return VS_OK;
}

static vs_status remove_at(int parent, const char *name, int depth, vs_error *err)
{
    if (depth > 4096)
        return vs_error_subj(err, VS_E_INTERNAL, name, "directory tree too deep");
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
        return VS_OK;
    if (errno != EISDIR && errno != EPERM)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "remove");
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "open");
    /* a read-only directory cannot be emptied */
    fchmod(fd, 0700);
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, name, "opendir");
    }
    vs_status st = VS_OK;
    struct dirent *de;
    while (st == VS_OK && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        st = remove_at(dirfd(d), de->d_name, depth + 1, err);
        if (st == VS_OK)
            rewinddir(d);
    }
    closedir(d);
    if (st)
        return st;
    if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "rmdir");
    return VS_OK;
}

vs_status vs_remove_tree(int dirfd, const char *name, vs_error *err)
{
    return remove_at(dirfd, name, 0, err);
}

vs_status vs_fsync_dir(int dirfd, const char *name_for_errors, vs_error *err)
{
    if (fsync(dirfd) != 0 && errno != EINVAL && errno != EROFS)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno,
                                   name_for_errors ? name_for_errors : ".", "fsync directory");
    return VS_OK;
}

char *vs_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    bool slash = la > 0 && a[la - 1] != '/';
    char *r = malloc(la + slash + lb + 1);
    if (!r)
        return NULL;
    memcpy(r, a, la);
    if (slash)
        r[la] = '/';
    memcpy(r + la + slash, b, lb + 1);
    return r;
}

const char *vs_basename(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

/* ---- the home boundary ------------------------------------------------------ */

/* Components of a path below a boundary: relative, no empty, "." or ".."
 * component, bounded. */
static bool beneath_path_ok(const char *rel)
{
    size_t n = strlen(rel);
    if (n == 0 || n >= PATH_MAX || rel[0] == '/')
        return false;
    for (const char *c = rel; *c;) {
        size_t l = strcspn(c, "/");
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += l;
        if (*c == '/')
            c++;
        if (*c == '\0' && c[-1] == '/')
            return false;
    }
    return true;
}

/* One syscall when the kernel can refuse links itself; -1 (errno) otherwise. */
static int open_beneath_fast(int basefd, const char *rel)
{
#if defined(VS_HAVE_OPENAT2) && defined(SYS_openat2)
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, basefd, rel, &how, sizeof how);
#else
    (void)basefd;
    (void)rel;
    errno = ENOSYS;
    return -1;
#endif
}

vs_status vs_link_refusal(vs_error *err, const char *sub, const char *home)
{
    vs_error_subj(err, VS_E_INTEGRITY, sub,
                  "a symbolic link inside the home %s; refusing to follow it",
                  home ? home : "directory");
    vs_error_hint(err, "the home must not contain symbolic links; to put the cache on another "
                       "disk, mount it at HOME/cache or point --home there");
    return VS_E_INTEGRITY;
}

/* Why `comp` (the last component of `sub`) in `dirfd` could not be opened
 * as a directory, from what is there. */
static vs_status beneath_refusal(int dirfd, const char *comp, int e, const char *sub,
                                 const char *home, vs_error *err)
{
    struct stat sb;
    const char *where = home ? home : "the home";
    if (fstatat(dirfd, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(sb.st_mode))
            return vs_link_refusal(err, sub, home);
        if (!S_ISDIR(sb.st_mode))
            return vs_error_subj(err, VS_E_INTEGRITY, sub, "not a directory (inside the home %s)",
                                 where);
    }
    if (e == ENOENT) {
        vs_error_subj(err, VS_E_USAGE, sub, "does not exist (inside the home %s)", where);
        vs_error_set_detail(err, VS_DETAIL_NOT_FOUND);
        return VS_E_USAGE;
    }
    return vs_error_subj_errno(err, VS_E_INTERNAL, e, sub, "open (inside the home %s)", where);
}

vs_status vs_dir_beneath(int basefd, const char *home, const char *rel, unsigned flags,
                         int *out, vs_error *err)
{
    *out = -1;
    if (!rel || !beneath_path_ok(rel))
        return vs_error_subj(err, VS_E_INTERNAL, rel ? rel : "", "not a path below the home");
    int fd = open_beneath_fast(basefd, rel);
    if (fd >= 0) {
        *out = fd;
        return VS_OK;
    }
    /* component by component: to create what is missing, and to name the
     * link or the file that stopped the kernel */
    char *sub = strdup(rel);
    if (!sub)
        return vs_error_subj(err, VS_E_INTERNAL, rel, "out of memory");
    int cur = basefd;
    vs_status st = VS_OK;
    size_t pos = 0, n = strlen(rel);
    while (pos < n) {
        size_t l = strcspn(rel + pos, "/");
        char comp[NAME_MAX + 1];
        if (l > NAME_MAX) {
            st = vs_error_subj(err, VS_E_INTERNAL, rel, "path component too long");
            break;
        }
        memcpy(comp, rel + pos, l);
        comp[l] = '\0';
        sub[pos + l] = '\0';
        int nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && (flags & VS_BENEATH_CREATE)) {
            if (mkdirat(cur, comp, 0700) != 0 && errno != EEXIST) {
                st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, sub, "mkdir");
                break;
            }
            nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (nfd < 0) {
            st = beneath_refusal(cur, comp, errno, sub, home, err);
            break;
        }
        if (cur != basefd)
            close(cur);
        cur = nfd;
        sub[pos + l] = rel[pos + l];
        pos += l + (rel[pos + l] == '/');
    }
    free(sub);
    if (st) {
        if (cur != basefd)
            close(cur);
        return st;
    }
    *out = cur;
    return VS_OK;
}

vs_status vs_open_beneath(int basefd, const char *home, const char *rel, int oflags, mode_t mode,
                          int *out, vs_error *err)
{
    *out = -1;
    if (!rel || !beneath_path_ok(rel))
        return vs_error_subj(err, VS_E_INTERNAL, rel ? rel : "", "not a path below the home");
    const char *slash = strrchr(rel, '/');
    int dfd = basefd;
    vs_status st = VS_OK;
    if (slash) {
        char *dir = strndup(rel, (size_t)(slash - rel));
        if (!dir)
            return vs_error_subj(err, VS_E_INTERNAL, rel, "out of memory");
        st = vs_dir_beneath(basefd, home, dir, (oflags & O_CREAT) ? VS_BENEATH_CREATE : 0, &dfd,
                            err);
        free(dir);
        if (st)
            return st;
    }
    const char *name = slash ? slash + 1 : rel;
    int fd = openat(dfd, name, oflags | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        int e = errno;
        struct stat sb;
        if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
            st = beneath_refusal(dfd, name, e, rel, home, err);
        else if (e == ENOENT)
            st = beneath_refusal(dfd, name, e, rel, home, err);
        else
            st = vs_error_subj_errno(err, VS_E_INTERNAL, e, rel, "open");
    }
    if (dfd != basefd)
        close(dfd);
    if (!st)
        *out = fd;
    return st;
}

bool vs_path_resolve(const char *path, char *out)
{
    if (realpath(path, out))
        return true;
    if (errno != ENOENT)
        return false;
    char parent[PATH_MAX];
    int w = snprintf(parent, sizeof parent, "%s", path);
    if (w <= 0 || w >= (int)sizeof parent)
        return false;
    size_t n = (size_t)w;
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    const char *base = parent, *dir = ".";
    if (slash) {
        base = slash + 1;
        *slash = '\0';
        dir = slash == parent ? "/" : parent;
    }
    char rp[PATH_MAX];
    if (!realpath(dir, rp))
        return false;
    w = snprintf(out, PATH_MAX, "%s/%s", strcmp(rp, "/") ? rp : "", base);
    return w > 0 && w < PATH_MAX;
}

bool vs_path_within(const char *path, const char *dir)
{
    char p[PATH_MAX], d[PATH_MAX];
    if (!path || !dir || !vs_path_resolve(path, p) || !realpath(dir, d))
        return false;
    size_t dl = strlen(d);
    if (dl == 1) /* "/" holds everything */
        return true;
    return strncmp(p, d, dl) == 0 && (p[dl] == '\0' || p[dl] == '/');
}
