/* stage/extract.c - the safe extractor: libarchive reads (tar only; gzip, xz,
 * zstd only), our own code writes, relative to directory fds, after every
 * rule has passed for the entry. Nothing is written outside rootfd: parents
 * are opened with O_NOFOLLOW and created by us, files with O_EXCL. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "stage/stage_int.h"

typedef struct reader {
    int fd;
    uint8_t *buf;
    vs_sha256 h;
    uint64_t done;
    uint64_t total;
    const vs_ctx *ctx;
    const char *label;
} reader;

typedef struct ex {
    struct archive *a;
    int rootfd;
    const vs_extract_opts *o;
    vs_pathset *set;
    vs_extract_result *res;
    vs_error *err;
    const char *label;
    uint8_t *buf;
    char norm[VS_MAX_ARCHIVE_PATH + 1];
} ex;

static la_ssize_t read_cb(struct archive *a, void *cd, const void **out)
{
    reader *r = cd;
    for (;;) {
        ssize_t n = read(r->fd, r->buf, VS_IO_BUFSIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            archive_set_error(a, errno, "read: %s", strerror(errno));
            return -1;
        }
        vs_sha256_update(&r->h, r->buf, (size_t)n);
        r->done += (uint64_t)n;
        if (r->ctx)
            vs_progress_ev(r->ctx, VS_PHASE_EXTRACT, VS_PROGRESS_UPDATE, r->label, r->done,
                           r->total);
        *out = r->buf;
        return (la_ssize_t)n;
    }
}

/* "LABEL: entry 'NAME': reason" - long names shortened to keep one short line. */
static vs_status refuse(ex *x, const char *entry, const char *fmt, ...) VS_PRINTF(3, 4);
static vs_status refuse(ex *x, const char *entry, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    size_t n = entry ? strlen(entry) : 0;
    return vs_error_set(x->err, VS_E_UNSAFE, "%s: entry '%.100s%s': %s", x->label,
                        entry ? entry : "", n > 100 ? "..." : "", why);
}

static vs_status sys_fail(ex *x, const char *what, const char *path)
{
    return vs_error_errno(x->err, VS_E_INTERNAL, errno, "%s: %.200s: %s", x->label, path, what);
}

/* Open (creating as needed) the parent directory of normalised `path`.
 * *base points at the last component. Returns a new fd or -1 (err set). */
static int open_parent(ex *x, const char *path, const char **base)
{
    int cur = dup(x->rootfd);
    if (cur < 0) {
        sys_fail(x, "dup", path);
        return -1;
    }
    char prefix[VS_MAX_ARCHIVE_PATH + 1];
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        size_t plen = (size_t)(slash - path);
        memcpy(prefix, path, plen);
        prefix[plen] = '\0';
        char comp[VS_MAX_ARCHIVE_PATH + 1];
        size_t clen = (size_t)(slash - p);
        memcpy(comp, p, clen);
        comp[clen] = '\0';
        bool created = false;
        if (!vs_pathset_get(x->set, prefix)) {
            created = true;
            if (mkdirat(cur, comp, 0700) != 0) {
                sys_fail(x, "mkdir", prefix);
                close(cur);
                return -1;
            }
            vs_pathent *e = vs_pathset_add(x->set, prefix);
            if (!e) {
                vs_error_set(x->err, VS_E_INTERNAL, "%s: out of memory", x->label);
                close(cur);
                return -1;
            }
            e->type = 'd';
            e->mode = 0755;
        }
        int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            sys_fail(x, "open directory", prefix);
            close(cur);
            return -1;
        }
        if (created && fchmod(next, 0755) != 0) {
            sys_fail(x, "chmod", prefix);
            close(next);
            close(cur);
            return -1;
        }
        close(cur);
        cur = next;
        p = slash + 1;
    }
    *base = p;
    return cur;
}

static vs_status write_file(ex *x, struct archive_entry *ae, const char *raw, int parent,
                            const char *base, vs_pathent *e)
{
    int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return sys_fail(x, "create", e->path);
    vs_sha256 h;
    vs_status st = vs_sha256_init(&h, x->err);
    if (st) {
        close(fd);
        return st;
    }
    uint64_t size = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(x->a, x->buf, VS_IO_BUFSIZE);
        if (n == 0)
            break;
        if (n < 0) {
            const char *msg = archive_error_string(x->a);
            st = refuse(x, raw, "archive ends early or is damaged: %s", msg ? msg : "read error");
            goto out;
        }
        uint64_t total;
        if (!vs_add_u64(x->res->bytes, (uint64_t)n, &total) || total > x->o->max_unpacked) {
            st = refuse(x, raw, "unpacks to more than the --max-unpacked limit of %" PRIu64
                                " bytes",
                        x->o->max_unpacked);
            goto out;
        }
        if (vs_write_all(fd, x->buf, (size_t)n) != 0) {
            st = sys_fail(x, "write", e->path);
            goto out;
        }
        vs_sha256_update(&h, x->buf, (size_t)n);
        x->res->bytes = total;
        size += (uint64_t)n;
    }
    (void)ae;
    if (fchmod(fd, (mode_t)e->mode) != 0) {
        st = sys_fail(x, "chmod", e->path);
        goto out;
    }
    if (fsync(fd) != 0) {
        st = sys_fail(x, "fsync", e->path);
        goto out;
    }
    vs_sha256_final(&h, e->sha256);
    e->size = size;
    x->res->files++;
out:
    vs_sha256_abort(&h);
    if (close(fd) != 0 && st == VS_OK)
        st = sys_fail(x, "close", e->path);
    return st;
}

/* Every rule for one header, then its write. */
static vs_status one_entry(ex *x, struct archive_entry *ae)
{
    const char *raw = archive_entry_pathname(ae);
    if (!raw)
        return refuse(x, "", "entry without a usable name");
    if (++x->res->entries > x->o->max_entries)
        return refuse(x, raw, "archive has more than the --max-entries limit of %" PRIu64
                              " entries",
                      x->o->max_entries);
    const char *why = vs_stage_norm_path(raw, x->norm, sizeof x->norm);
    if (why)
        return refuse(x, raw, "%s", why);
    if (archive_entry_hardlink(ae))
        return refuse(x, raw, "hard link");
    char type;
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        type = 'f';
        break;
    case AE_IFDIR:
        type = 'd';
        break;
    case AE_IFLNK:
        type = 'l';
        break;
    case AE_IFCHR:
    case AE_IFBLK:
        return refuse(x, raw, "device node");
    case AE_IFIFO:
        return refuse(x, raw, "FIFO");
    case AE_IFSOCK:
        return refuse(x, raw, "socket");
    default:
        return refuse(x, raw, "unsupported entry type");
    }
    unsigned perm = (unsigned)archive_entry_perm(ae);
    if (perm & 07000)
        return refuse(x, raw, "setuid, setgid or sticky bit (mode %04o)", perm & 07777);
    const char *path = x->norm;
    if (!*path) {
        if (type == 'd')
            return VS_OK; /* "./": the root itself */
        return refuse(x, raw, "empty path");
    }
    if (vs_stage_reserved(path))
        return refuse(x, raw, "reserved name '.vetstage'");
    const char *target = NULL;
    if (type == 'l') {
        target = archive_entry_symlink(ae);
        if ((why = vs_stage_check_link(path, target)))
            return refuse(x, raw, "%s", why);
    }
    /* every parent must be a directory (never a file or a symlink) */
    char prefix[VS_MAX_ARCHIVE_PATH + 1];
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        size_t plen = (size_t)(s - path);
        memcpy(prefix, path, plen);
        prefix[plen] = '\0';
        vs_pathent *pe = vs_pathset_get(x->set, prefix);
        if (pe && pe->type != 'd')
            return refuse(x, raw, "path goes through '%.100s', which is a %s", prefix,
                          pe->type == 'l' ? "symbolic link" : "file");
    }
    vs_pathent *e = vs_pathset_get(x->set, path);
    if (e) {
        if (type == 'd' && e->type == 'd' && !e->explicit_dir) {
            e->explicit_dir = true;
            return VS_OK;
        }
        return refuse(x, raw, "duplicate entry for '%.100s'", path);
    }
    if (type == 'f' && archive_entry_size_is_set(ae)) {
        la_int64_t declared = archive_entry_size(ae);
        if (declared < 0 || (uint64_t)declared > x->o->max_unpacked - x->res->bytes)
            return refuse(x, raw, "declared size %" PRId64 " exceeds the --max-unpacked limit of %" PRIu64 " bytes",
                          (int64_t)declared, x->o->max_unpacked);
    }
    /* the rules passed: now, and only now, write */
    const char *base = NULL;
    int parent = open_parent(x, path, &base);
    if (parent < 0)
        return x->err ? x->err->status : VS_E_INTERNAL;
    e = vs_pathset_add(x->set, path);
    vs_status st = VS_OK;
    if (!e) {
        st = vs_error_set(x->err, VS_E_INTERNAL, "%s: out of memory", x->label);
    } else if (type == 'd') {
        e->type = 'd';
        e->mode = 0755;
        e->explicit_dir = true;
        int fd = -1;
        if (mkdirat(parent, base, 0700) != 0 ||
            (fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            fchmod(fd, 0755) != 0)
            st = sys_fail(x, "mkdir", path);
        if (fd >= 0)
            close(fd);
    } else if (type == 'l') {
        e->type = 'l';
        e->mode = 0777;
        if (!(e->target = strdup(target)))
            st = vs_error_set(x->err, VS_E_INTERNAL, "%s: out of memory", x->label);
        else if (symlinkat(target, parent, base) != 0)
            st = sys_fail(x, "symlink", path);
    } else {
        e->type = 'f';
        e->mode = (perm & 0111) ? 0755 : 0644;
        st = write_file(x, ae, raw, parent, base, e);
    }
    close(parent);
    return st;
}

static vs_status fsync_dirs(ex *x)
{
    for (size_t i = 0; i < x->set->cap; i++) {
        vs_pathent *e = x->set->slots[i];
        if (!e || e->type != 'd')
            continue;
        int fd = openat(x->rootfd, e->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return sys_fail(x, "open directory", e->path);
        int r = fsync(fd);
        close(fd);
        if (r != 0 && errno != EINVAL)
            return sys_fail(x, "fsync", e->path);
    }
    return vs_fsync_dir(x->rootfd, x->label, x->err);
}

vs_status vs_stage_extract(const vs_ctx *ctx, int infd, int rootfd, const vs_extract_opts *o,
                           vs_pathset *set, vs_extract_result *res, vs_error *err)
{
    memset(res, 0, sizeof *res);
    ex x = { 0 };
    x.rootfd = rootfd;
    x.o = o;
    x.set = set;
    x.res = res;
    x.err = err;
    x.label = o->label ? o->label : "package";
    reader r = { 0 };
    r.fd = infd;
    r.ctx = ctx;
    r.label = x.label;
    struct stat sb;
    if (fstat(infd, &sb) == 0 && S_ISREG(sb.st_mode))
        r.total = (uint64_t)sb.st_size;
    vs_status st = vs_sha256_init(&r.h, err);
    if (st)
        return st;
    r.buf = malloc(VS_IO_BUFSIZE);
    x.buf = malloc(VS_IO_BUFSIZE);
    x.a = archive_read_new();
    if (!r.buf || !x.buf || !x.a) {
        st = vs_error_set(err, VS_E_INTERNAL, "%s: out of memory", x.label);
        goto out;
    }
    /* tar only (ustar, pax, gnutar); three filters; never "all", never an
     * external program (a filter that would need one is an error here) */
    if (archive_read_support_format_tar(x.a) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(x.a) != ARCHIVE_OK ||
        archive_read_support_filter_xz(x.a) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(x.a) != ARCHIVE_OK) {
        st = vs_error_setb(err, VS_E_INTERNAL, "archive", archive_errno(x.a),
                           "libarchive lacks built-in tar/gzip/xz/zstd support");
        goto out;
    }
    if (archive_read_open(x.a, &r, NULL, read_cb, NULL) != ARCHIVE_OK) {
        const char *m = archive_error_string(x.a);
        st = vs_error_setb(err, VS_E_UNSAFE, "archive", archive_errno(x.a),
                           "%s: not an archive, or it ends early: %s", x.label,
                           m ? m : "damaged or truncated data");
        goto out;
    }
    /* libarchive always accepts uncompressed input; agent packages are not */
    int fcode = archive_filter_code(x.a, 0);
    if (fcode != ARCHIVE_FILTER_GZIP && fcode != ARCHIVE_FILTER_XZ && fcode != ARCHIVE_FILTER_ZSTD) {
        st = vs_error_set(err, VS_E_UNSAFE, "%s: not a gzip, xz or zstd compressed tar archive",
                          x.label);
        goto out;
    }
    /* where the last entry's data ended, in decompressed bytes: tar's
     * end-of-archive marker (two zero blocks) must follow it, else the
     * archive ends early (libarchive reports a clean EOF at an entry
     * boundary either way) */
    la_int64_t last_end = 0;
    for (;;) {
        struct archive_entry *ae = NULL;
        int rc = archive_read_next_header(x.a, &ae);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc != ARCHIVE_OK) {
            const char *m = archive_error_string(x.a);
            if (res->entries == 0)
                st = vs_error_setb(err, VS_E_UNSAFE, "archive", archive_errno(x.a),
                                   "%s: not a tar archive, or it ends early: %s", x.label,
                                   m ? m : "unreadable");
            else
                st = vs_error_setb(err, VS_E_UNSAFE, "archive", archive_errno(x.a),
                                   "%s: archive ends early or is damaged after %" PRIu64
                                   " entries: %s",
                                   x.label, res->entries, m ? m : "read error");
            goto out;
        }
        st = one_entry(&x, ae);
        if (st)
            goto out;
        last_end = archive_filter_bytes(x.a, 0);
    }
    if (res->entries == 0 || set->n == 0) {
        st = vs_error_set(err, VS_E_UNSAFE, "%s: not an archive (no entries)", x.label);
        goto out;
    }
    if (archive_filter_bytes(x.a, 0) - last_end < 1024) {
        st = vs_error_set(err, VS_E_UNSAFE,
                          "%s: archive ends early (no end-of-archive marker after %" PRIu64
                          " entries)",
                          x.label, res->entries);
        goto out;
    }
    /* hash what is left after the end of the archive too: the digest covers
     * exactly the bytes of the object */
    for (;;) {
        const void *dummy;
        la_ssize_t n = read_cb(x.a, &r, &dummy);
        if (n < 0) {
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s: read", x.label);
            goto out;
        }
        if (n == 0)
            break;
    }
    vs_sha256_final(&r.h, res->sha256);
    res->insize = r.done;
    if (o->expect_sha256 && memcmp(o->expect_sha256, res->sha256, VS_SHA256_LEN) != 0) {
        st = vs_error_set(err, VS_E_VERIFY, "%s: changed while it was being staged (sha256 differs)",
                          x.label);
        goto out;
    }
    st = fsync_dirs(&x);
out:
    vs_sha256_abort(&r.h);
    if (x.a)
        archive_read_free(x.a);
    free(r.buf);
    free(x.buf);
    return st;
}

vs_status vs_stage_write_meta(int rootfd, const vs_pathset *set, const char *provenance,
                              vs_error *err)
{
    char *man = NULL, *modes = NULL;
    size_t mlen = 0, dlen = 0;
    vs_status st = vs_manifest_render(set, &man, &mlen, &modes, &dlen, err);
    if (st)
        return st;
    int mfd = -1;
    if (mkdirat(rootfd, VS_META_DIR, 0700) != 0 ||
        (mfd = openat(rootfd, VS_META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        fchmod(mfd, 0755) != 0) {
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s: create", VS_META_DIR);
        goto out;
    }
    st = vs_write_file_atomic(mfd, VS_META_MANIFEST, man, mlen, 0644, err);
    if (!st)
        st = vs_write_file_atomic(mfd, VS_META_MODES, modes, dlen, 0644, err);
    if (!st)
        st = vs_write_file_atomic(mfd, VS_META_PROVENANCE, provenance ? provenance : "{}\n",
                                  provenance ? strlen(provenance) : 3, 0644, err);
    if (!st)
        st = vs_fsync_dir(rootfd, VS_META_DIR, err);
out:
    if (mfd >= 0)
        close(mfd);
    free(man);
    free(modes);
    return st;
}
