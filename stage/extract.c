/* stage/extract.c - the safe extractor: libarchive reads (tar only; gzip,
 * bzip2, xz or zstd only), our own code writes, relative to directory fds,
 * after every rule has passed for the entry. Nothing is written outside
 * rootfd: parents are opened with O_NOFOLLOW and created by us, files with
 * O_EXCL.
 *
 * One read of the package, by two libarchive readers in a row: the first
 * (raw format, the four filters) decompresses on a thread of its own
 * (unpacker.c), the second (tar format, no filter) reads the entries from
 * its output on this thread, which checks and writes them. The package bytes
 * are hashed as the first reader pulls them (read_cb), to the end of the
 * file, each file is hashed for the manifest as it is written, both on
 * hashing threads (hashworker.c). Each large file is made durable
 * (fdatasync) on a thread of its own as soon as it is complete
 * (common/flusher.c), and the tree by one syncfs(2) at the end
 * (vs_stage_write_meta), which then finds little left to write.
 *
 * Names: libarchive is run under a thread-local C.UTF-8 locale, so that pax
 * names (UTF-8 by definition) reach us unchanged whatever the process locale;
 * every rule applies to the UTF-8 name, and a name that is not valid UTF-8 is
 * refused. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "stage/stage_int.h"

#define SHOWN_MAX 160 /* an entry name in a message */
#define ELF_HEAD 20   /* e_ident (16) + e_type (2) + e_machine (2) */
#define PROBE_MAX 4096 /* an uncompressed package's first bytes, to tell a tar archive */
/* What is not the files' data - the archive's headers (pax and GNU long-name
 * records too) and the padding after its end - has a limit of its own:
 * --max-unpacked, but never below this, so that a small limit never refuses
 * an ordinary archive's headers or a tar record (`tar -b 2048`: 1 MiB). */
#define META_FLOOR (16u << 20)

/* Buffers in flight: the package bytes read and hashed (libarchive holds
 * the last one returned until the next read), the unpacked bytes written and
 * hashed. A buffer is reused once the worker has hashed it. */
#define IN_BUFS 8
#define OUT_BUFS 8
/* A large file is handed to writeback every this many bytes (a hint). */
#define WRITEBACK_EVERY (8u << 20)

typedef struct reader {
    int fd;
    uint8_t *buf;             /* IN_BUFS x VS_IO_BUFSIZE */
    uint64_t seq[IN_BUFS];    /* the hash job of each buffer */
    unsigned next;
    uint64_t last;            /* the last hash job of the package */
    vs_hashworker *hw;
    vs_sha256 h;
    _Atomic uint64_t done; /* read by the unpacker's thread, shown by this one */
    uint64_t total;
    const void *replay; /* the first block, read to choose the decompressor, once more */
    la_ssize_t replay_n;
} reader;

typedef struct ex {
    struct archive *a;  /* the entries (tar), read from ... */
    struct archive *ua; /* ... the decompressed stream (raw), read from the package */
    vs_gunzip *gz;      /* ... or, for gzip, by igzip instead of ua */
    vs_unpacker *up;    /* ua's or gz's reads, on a thread of its own */
    reader r;
    vs_hashworker *hw;  /* the files' hashes */
    const vs_ctx *ctx;
    int rootfd;
    const vs_extract_opts *o;
    vs_pathset *set;
    vs_extract_result *res;
    vs_error *err;
    const char *label;
    vs_flusher *fl;           /* large files' fdatasync, on its own thread */
    uint8_t *buf;             /* OUT_BUFS x VS_IO_BUFSIZE */
    uint64_t oseq[OUT_BUFS];  /* the hash job of each buffer */
    unsigned onext;
    locale_t loc, oldloc;
    la_int64_t last_end; /* decompressed offset where the last entry's data ended */
    uint64_t skipped;    /* data of entries --strip-components dropped (counted, not written) */
    uint64_t headers;    /* the stream between entries' data: headers, pax records */
    bool digest_done;    /* the whole package was read and its digest compared */
    /* a cached parent directory: most entries share their parent */
    int pfd;
    char ppath[VS_MAX_ARCHIVE_PATH + 1];
    char shown[SHOWN_MAX]; /* the current entry's name, printable */
    char path[VS_MAX_ARCHIVE_PATH + 1]; /* ... normalised (and stripped) */
} ex;

/* One archive entry once its names are known. */
typedef struct entry {
    struct archive_entry *ae;
    char type;          /* 'f', 'd', 'l' */
    unsigned perm;
    const char *target; /* symlink target (UTF-8), else NULL */
} entry;

/* ---- the package stream --------------------------------------------------- */

static la_ssize_t read_cb(struct archive *a, void *cd, const void **out)
{
    reader *r = cd;
    if (r->replay) {
        *out = r->replay;
        r->replay = NULL;
        return r->replay_n;
    }
    unsigned i = r->next;
    uint8_t *buf = r->buf + (size_t)i * VS_IO_BUFSIZE;
    vs_hashworker_wait(r->hw, r->seq[i]);
    for (;;) {
        ssize_t n = read(r->fd, buf, VS_IO_BUFSIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (a)
                archive_set_error(a, errno, "read: %s", strerror(errno));
            return -1;
        }
        if (n > 0) {
            r->seq[i] = r->last = vs_hashworker_update(r->hw, &r->h, buf, (size_t)n);
            r->next = (i + 1) % IN_BUFS;
        }
        r->done += (uint64_t)n;
        *out = buf;
        return (la_ssize_t)n;
    }
}

/* igzip's input */
static ssize_t gz_in(void *ud, const uint8_t **out)
{
    const void *p = NULL;
    la_ssize_t n = read_cb(NULL, ud, &p);
    *out = p;
    return n;
}

/* The unpacker's work, one block: by igzip or by libarchive. */
static ssize_t unpack_gz(void *ud, uint8_t *buf, size_t cap, char *msg, size_t msgsize, int *code)
{
    ex *x = ud;
    ssize_t n = vs_gunzip_read(x->gz, buf, cap);
    if (n < 0)
        snprintf(msg, msgsize, "%s", vs_gunzip_error(x->gz, code));
    return n;
}

static ssize_t unpack_la(void *ud, uint8_t *buf, size_t cap, char *msg, size_t msgsize, int *code)
{
    ex *x = ud;
    la_ssize_t n = archive_read_data(x->ua, buf, cap);
    if (n < 0) {
        const char *m = archive_error_string(x->ua);
        snprintf(msg, msgsize, "%s", m ? m : "damaged or truncated data");
        *code = archive_errno(x->ua);
    }
    return n;
}

/* The tar reader's input: the unpacker's next block (its error, if it had
 * one, becomes this reader's, message and code unchanged). */
static la_ssize_t tar_read_cb(struct archive *a, void *cd, const void **out)
{
    ex *x = cd;
    ssize_t n = vs_unpacker_next(x->up, out);
    if (n < 0) {
        int code = 0;
        const char *m = vs_unpacker_error(x->up, &code);
        archive_set_error(a, code, "%s", m);
        return -1;
    }
    if (x->ctx)
        vs_progress_ev(x->ctx, VS_PHASE_EXTRACT, VS_PROGRESS_UPDATE, x->label,
                       atomic_load(&x->r.done), x->r.total);
    return (la_ssize_t)n;
}

/* ---- errors ----------------------------------------------------------------- */

/* "LABEL: entry 'NAME': reason", NAME in printable form. */
static vs_status refuse_st(ex *x, vs_status st, const char *fmt, ...) VS_PRINTF(3, 4);
static vs_status refuse_st(ex *x, vs_status st, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char subject[SHOWN_MAX + 300];
    snprintf(subject, sizeof subject, "%s: entry '%s'", x->label, x->shown);
    return vs_error_subj(x->err, st, subject, "%s", why);
}
#define refuse(x, ...) refuse_st((x), VS_E_UNSAFE, __VA_ARGS__)

static vs_status sys_fail(ex *x, const char *what, const char *path)
{
    char subject[VS_MAX_ARCHIVE_PATH + 300];
    snprintf(subject, sizeof subject, "%s: %.200s", x->label, path);
    return vs_error_subj_errno(x->err, VS_E_INTERNAL, errno, subject, "%s", what);
}

static vs_status oom(ex *x)
{
    return vs_error_subj(x->err, VS_E_INTERNAL, x->label, "out of memory");
}

typedef enum la_when {
    LA_OPEN,   /* archive_read_open: the first bytes */
    LA_HEADER, /* archive_read_next_header */
    LA_DATA    /* archive_read_data */
} la_when;

/*
 * The one place libarchive's errors become ours. Everything libarchive
 * reports while reading (a bad format, a damaged or truncated stream, a
 * failing read) is the archive's fault: VS_E_UNSAFE, nothing staged; the
 * backend code is kept. An unsupported compression gets the list of the
 * supported ones as a hint.
 */
static vs_status la_fail(ex *x, struct archive *a, la_when when)
{
    const char *m = archive_error_string(a);
    long code = archive_errno(a);
    if (!m)
        m = "damaged or truncated data";
    vs_status st;
    if (when == LA_DATA) {
        char subject[SHOWN_MAX + 300];
        snprintf(subject, sizeof subject, "%s: entry '%s'", x->label, x->shown);
        st = vs_error_subjb(x->err, VS_E_UNSAFE, "archive", code, subject,
                            "archive ends early or is damaged: %s", m);
    } else if (when == LA_OPEN || x->res->entries == 0) {
        st = vs_error_subjb(x->err, VS_E_UNSAFE, "archive", code, x->label,
                            "not an archive, or it ends early: %s", m);
        vs_error_hint(x->err, "vetstage stages tar archives compressed with gzip, bzip2, xz "
                              "or zstd");
    } else {
        st = vs_error_subjb(x->err, VS_E_UNSAFE, "archive", code, x->label,
                            "archive ends early or is damaged after %" PRIu64 " entries: %s",
                            x->res->entries, m);
    }
    return st;
}

/* What --max-unpacked leaves for files' data: the files written and the
 * data of the ones --strip-components drops share it. */
static uint64_t files_left(const ex *x)
{
    return x->o->max_unpacked - x->res->bytes - x->skipped;
}

/* ---- writing ------------------------------------------------------------------ */

static vs_status add_dir(ex *x, const char *path, bool explicit_dir)
{
    vs_pathent *e = vs_pathset_add(x->set, path);
    if (!e)
        return oom(x);
    e->type = 'd';
    e->mode = 0755;
    e->explicit_dir = explicit_dir;
    return VS_OK;
}

/* mkdir NAME in dfd, 0755 whatever the umask; a new fd on it or -1 */
static int make_dir(int dfd, const char *name)
{
    if (mkdirat(dfd, name, 0700) != 0)
        return -1;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && fchmod(fd, 0755) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * The directory that holds normalised `path` (created as needed, each one
 * recorded in the set), *base pointing at the last component. The fd is
 * cached in x->pfd and stays owned by x. Returns -1 with err set.
 */
static int open_parent(ex *x, const char *path, const char **base)
{
    const char *last = strrchr(path, '/');
    size_t plen = last ? (size_t)(last - path) : 0;
    *base = last ? last + 1 : path;
    if (x->pfd >= 0 && strlen(x->ppath) == plen && memcmp(x->ppath, path, plen) == 0)
        return x->pfd;
    if (x->pfd >= 0 && x->pfd != x->rootfd)
        close(x->pfd);
    x->pfd = -1;
    int cur = x->rootfd;
    char prefix[VS_MAX_ARCHIVE_PATH + 1];
    for (const char *p = path; p < path + plen;) {
        const char *slash = strchr(p, '/');
        memcpy(prefix, path, (size_t)(slash - path));
        prefix[slash - path] = '\0';
        char comp[VS_MAX_ARCHIVE_PATH + 1];
        memcpy(comp, p, (size_t)(slash - p));
        comp[slash - p] = '\0';
        int next;
        if (!vs_pathset_get(x->set, prefix)) {
            next = make_dir(cur, comp);
            if (next >= 0 && add_dir(x, prefix, false) != VS_OK) {
                close(next);
                next = -2;
            }
        } else {
            next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next == -1)
            sys_fail(x, "open directory", prefix);
        if (cur != x->rootfd)
            close(cur);
        if (next < 0)
            return -1;
        cur = next;
        p = slash + 1;
    }
    memcpy(x->ppath, path, plen);
    x->ppath[plen] = '\0';
    x->pfd = cur;
    return cur;
}

/* The machine of an ELF header (e_machine in the file's byte order), or 0. */
static uint16_t elf_machine(const uint8_t *h, size_t n)
{
    if (n < ELF_HEAD || memcmp(h, "\177ELF", 4) != 0)
        return 0;
    if (h[5] == 2) /* ELFDATA2MSB */
        return (uint16_t)((h[18] << 8) | h[19]);
    return (uint16_t)(h[18] | (h[19] << 8));
}

/* Record an ELF file's machine; refuse one that is not for opts->machine. */
static vs_status check_machine(ex *x, const uint8_t *h, size_t n)
{
    uint16_t m = elf_machine(h, n);
    if (!m)
        return VS_OK;
    if (x->o->machine && m != x->o->machine)
        return refuse_st(x, VS_E_POLICY, "ELF file for %s (machine %u), not for %s (machine %u)",
                         vs_elf_machine_name(m), m, vs_elf_machine_name(x->o->machine),
                         x->o->machine);
    vs_extract_result *r = x->res;
    for (unsigned i = 0; i < r->nmachines; i++)
        if (r->machines[i] == m)
            return VS_OK;
    if (r->nmachines < VS_EXTRACT_MAX_MACHINES)
        r->machines[r->nmachines++] = m;
    return VS_OK;
}

/* Copy the entry's data into fd, counting it against the limit; the worker
 * hashes it into e->sha256. The first bytes are kept to tell an ELF file's
 * machine. */
static vs_status copy_data(ex *x, int fd, vs_pathent *e)
{
    vs_sha256 h;
    vs_status st = vs_sha256_init(&h, x->err);
    if (st)
        return st;
    uint8_t head[ELF_HEAD];
    size_t nhead = 0;
    uint64_t size = 0, kicked = 0, synced = 0, flushing = 0;
    for (;;) {
        unsigned i = x->onext;
        uint8_t *buf = x->buf + (size_t)i * VS_IO_BUFSIZE;
        vs_hashworker_wait(x->hw, x->oseq[i]);
        la_ssize_t n = archive_read_data(x->a, buf, VS_IO_BUFSIZE);
        if (n == 0)
            break;
        if (n < 0) {
            st = la_fail(x, x->a, LA_DATA);
            goto out;
        }
        if ((uint64_t)n > files_left(x)) {
            st = refuse(x, "unpacks to more than the --max-unpacked limit of %" PRIu64 " bytes",
                        x->o->max_unpacked);
            goto out;
        }
        if (nhead < ELF_HEAD) {
            size_t k = (size_t)n < ELF_HEAD - nhead ? (size_t)n : ELF_HEAD - nhead;
            memcpy(head + nhead, buf, k);
            nhead += k;
        }
        if (vs_write_all(fd, buf, (size_t)n) != 0) {
            st = sys_fail(x, "write", e->path);
            goto out;
        }
        x->oseq[i] = vs_hashworker_update(x->hw, &h, buf, (size_t)n);
        x->onext = (i + 1) % OUT_BUFS;
        x->res->bytes += (uint64_t)n;
        size += (uint64_t)n;
#ifdef SYS_sync_file_range
        /* a large file starts on its way to the disk while it grows: the
         * kernel's own writeback would wait for far more dirty data, and the
         * one sync at the end would wait for all of it */
        if (size - kicked >= WRITEBACK_EVERY) {
            (void)syscall(SYS_sync_file_range, fd, (off_t)kicked, (off_t)(size - kicked),
                          2 /* SYNC_FILE_RANGE_WRITE */);
            kicked = size;
        }
#endif
        /* and made durable while it grows (write_file hands the fd to the
         * flusher, so it is never closed under a pending job) */
        if (size - synced >= WRITEBACK_EVERY && !vs_flusher_busy(x->fl, flushing)) {
            flushing = vs_flusher_sync(x->fl, fd, e->path);
            synced = size;
        }
    }
    st = check_machine(x, head, nhead);
    if (st)
        goto out;
    /* e stays where it is (the set holds pointers) until the worker stopped */
    vs_hashworker_final(x->hw, &h, e->sha256);
    e->size = size;
    return VS_OK;
out:
    e->size = size; /* write_file: a file the flusher may hold a job on goes to it */
    vs_hashworker_abort(x->hw, &h);
    return st;
}

static vs_status write_file(ex *x, int parent, const char *base, vs_pathent *e)
{
    int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return sys_fail(x, "create", e->path);
    vs_status st = copy_data(x, fd, e);
    if (!st && fchmod(fd, (mode_t)e->mode) != 0)
        st = sys_fail(x, "chmod", e->path);
    if (e->size >= VS_IO_BUFSIZE) {
        /* made durable now, on the flusher's thread (its write errors are
         * fdatasync's, reported by ex_finish); a small file is left to the
         * one sync at the end, which costs less than a flush each */
        char subject[VS_MAX_ARCHIVE_PATH + 300];
        snprintf(subject, sizeof subject, "%s: %.200s", x->label, e->path);
        vs_flusher_close(x->fl, fd, subject);
    } else if (close(fd) != 0 && st == VS_OK) {
        st = sys_fail(x, "close", e->path);
    }
    if (!st)
        x->res->files++;
    return st;
}

/* The rules passed: now, and only now, write the entry at x->path. */
static vs_status write_entry(ex *x, const entry *en)
{
    const char *path = x->path, *base = NULL;
    int parent = open_parent(x, path, &base);
    if (parent < 0)
        return x->err ? x->err->status : VS_E_INTERNAL;
    if (en->type == 'd') {
        vs_status st = add_dir(x, path, true);
        if (st)
            return st;
        int fd = make_dir(parent, base);
        if (fd < 0)
            return sys_fail(x, "mkdir", path);
        close(fd);
        return VS_OK;
    }
    vs_pathent *e = vs_pathset_add(x->set, path);
    if (!e)
        return oom(x);
    if (en->type == 'l') {
        e->type = 'l';
        e->mode = 0777;
        if (!(e->target = strdup(en->target)))
            return oom(x);
        if (symlinkat(en->target, parent, base) != 0)
            return sys_fail(x, "symlink", path);
        return VS_OK;
    }
    e->type = 'f';
    e->mode = (en->perm & 0111) ? 0755 : 0644;
    return write_file(x, parent, base, e);
}

/* ---- the rules for one entry ------------------------------------------------- */

/*
 * The entry's name in UTF-8, vetted as the archive has it (absolute, "..",
 * control characters, length, depth, UTF-8) and then stripped of
 * opts->strip_components leading components into x->path. *skip when the
 * entry vanishes whole.
 */
static vs_status entry_name(ex *x, struct archive_entry *ae, bool *skip)
{
    const char *name = archive_entry_pathname_utf8(ae);
    const char *raw = name ? name : archive_entry_pathname(ae);
    vs_stage_printable(raw, x->shown, sizeof x->shown);
    *skip = false;
    if (!raw)
        return refuse(x, "entry without a usable name");
    if (!name || !vs_utf8_valid(name))
        return refuse(x, "name is not valid UTF-8");
    const char *why = vs_stage_norm_path(name, x->path, sizeof x->path);
    if (why)
        return refuse(x, "%s", why);
    if (x->o->strip_components) {
        const char *rest = vs_stage_strip(name, x->o->strip_components);
        if (!rest) {
            *skip = true;
            return VS_OK;
        }
        if ((why = vs_stage_norm_path(rest, x->path, sizeof x->path)))
            return refuse(x, "%s", why);
        *skip = !x->path[0];
    }
    return VS_OK;
}

static vs_status entry_kind(ex *x, entry *en)
{
    if (archive_entry_hardlink(en->ae) || archive_entry_hardlink_utf8(en->ae))
        return refuse(x, "hard link");
    switch (archive_entry_filetype(en->ae)) {
    case AE_IFREG:
        en->type = 'f';
        break;
    case AE_IFDIR:
        en->type = 'd';
        break;
    case AE_IFLNK:
        en->type = 'l';
        break;
    case AE_IFCHR:
    case AE_IFBLK:
        return refuse(x, "device node");
    case AE_IFIFO:
        return refuse(x, "FIFO");
    case AE_IFSOCK:
        return refuse(x, "socket");
    default:
        return refuse(x, "unsupported entry type");
    }
    en->perm = (unsigned)archive_entry_perm(en->ae);
    if (en->perm & 07000)
        return refuse(x, "setuid, setgid or sticky bit (mode %04o)", en->perm & 07777);
    if (en->type == 'l') {
        en->target = archive_entry_symlink_utf8(en->ae);
        if (!en->target && archive_entry_symlink(en->ae))
            return refuse(x, "symbolic link target is not valid UTF-8");
    }
    return VS_OK;
}

/* Rules that depend on where the entry lands (x->path) and on what came before. */
static vs_status entry_place(ex *x, const entry *en, bool *done)
{
    const char *path = x->path, *why;
    *done = false;
    if (vs_stage_reserved(path))
        return refuse(x, "reserved name '.vetstage'");
    if (en->type == 'l' && (why = vs_stage_check_link(path, en->target)))
        return refuse(x, "%s", why);
    /* every parent must be a directory (never a file or a symlink) */
    char prefix[VS_MAX_ARCHIVE_PATH + 1];
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        size_t plen = (size_t)(s - path);
        memcpy(prefix, path, plen);
        prefix[plen] = '\0';
        vs_pathent *pe = vs_pathset_get(x->set, prefix);
        if (pe && pe->type != 'd') {
            char shown[SHOWN_MAX];
            vs_stage_printable(prefix, shown, sizeof shown);
            return refuse(x, "path goes through '%s', which is a %s", shown,
                          pe->type == 'l' ? "symbolic link" : "file");
        }
    }
    vs_pathent *e = vs_pathset_get(x->set, path);
    if (e) {
        if (en->type == 'd' && e->type == 'd' && !e->explicit_dir) {
            e->explicit_dir = true;
            *done = true;
            return VS_OK;
        }
        char shown[SHOWN_MAX];
        vs_stage_printable(path, shown, sizeof shown);
        return refuse(x, "duplicate entry for '%s'", shown);
    }
    if (en->type == 'f' && archive_entry_size_is_set(en->ae)) {
        la_int64_t declared = archive_entry_size(en->ae);
        if (declared < 0 || (uint64_t)declared > files_left(x))
            return refuse(x, "declared size %" PRId64 " exceeds the --max-unpacked limit of %" PRIu64
                             " bytes",
                          (int64_t)declared, x->o->max_unpacked);
    }
    return VS_OK;
}

/* The data of a file --strip-components drops: read through (libarchive
 * would inflate it anyway to reach the next header), counted against
 * --max-unpacked like the files written, so a dropped entry is no way
 * around the limit. */
static vs_status skip_data(ex *x)
{
    unsigned i = x->onext; /* a buffer the hashing thread is done with */
    uint8_t *buf = x->buf + (size_t)i * VS_IO_BUFSIZE;
    vs_hashworker_wait(x->hw, x->oseq[i]);
    for (;;) {
        la_ssize_t n = archive_read_data(x->a, buf, VS_IO_BUFSIZE);
        if (n == 0)
            return VS_OK;
        if (n < 0)
            return la_fail(x, x->a, LA_DATA);
        if ((uint64_t)n > files_left(x))
            return refuse(x, "unpacks to more than the --max-unpacked limit of %" PRIu64
                             " bytes (with the entries --strip-components drops)",
                          x->o->max_unpacked);
        x->skipped += (uint64_t)n;
    }
}

/* Every rule for one header, then its write. */
static vs_status one_entry(ex *x, struct archive_entry *ae)
{
    bool skip = false, done = false;
    vs_status st = entry_name(x, ae, &skip);
    if (st)
        return st;
    if (++x->res->entries > x->o->max_entries)
        return refuse(x, "archive has more than the --max-entries limit of %" PRIu64 " entries",
                      x->o->max_entries);
    entry en = { ae, 0, 0, NULL };
    if ((st = entry_kind(x, &en)))
        return st;
    if (skip || !x->path[0]) {
        if (skip && en.type == 'f')
            return skip_data(x);
        if (skip || en.type == 'd')
            return VS_OK; /* "./" is the root itself; stripped away whole */
        return refuse(x, "empty path");
    }
    if ((st = entry_place(x, &en, &done)) || done)
        return st;
    return write_entry(x, &en);
}

/* ---- the phases ------------------------------------------------------------------ */

static vs_status ex_init(ex *x, const vs_ctx *ctx, int infd, int rootfd, const vs_extract_opts *o,
                         vs_pathset *set, vs_extract_result *res, vs_error *err)
{
    memset(res, 0, sizeof *res);
    memset(x, 0, sizeof *x);
    x->ctx = ctx;
    x->rootfd = rootfd;
    x->pfd = -1;
    x->o = o;
    x->set = set;
    x->res = res;
    x->err = err;
    x->label = o->label ? o->label : "package";
    x->r.fd = infd;
    struct stat sb;
    if (fstat(infd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        x->r.total = (uint64_t)sb.st_size;
        posix_fadvise(infd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    vs_status st = vs_sha256_init(&x->r.h, err);
    if (st)
        return st;
    /* names as UTF-8 whatever the process locale (this thread only); a
     * system without any UTF-8 locale reads non-ASCII names as not UTF-8 */
    static const char *const utf8_locales[] = { "C.UTF-8", "C.utf8", "en_US.UTF-8" };
    for (size_t i = 0; i < sizeof utf8_locales / sizeof utf8_locales[0] && !x->loc; i++)
        x->loc = newlocale(LC_CTYPE_MASK, utf8_locales[i], (locale_t)0);
    if (x->loc)
        x->oldloc = uselocale(x->loc);
    x->r.buf = malloc((size_t)IN_BUFS * VS_IO_BUFSIZE);
    x->buf = malloc((size_t)OUT_BUFS * VS_IO_BUFSIZE);
    x->a = archive_read_new();
    x->ua = archive_read_new();
    x->r.hw = vs_hashworker_start();
    x->hw = vs_hashworker_start();
    x->fl = vs_flusher_start(); /* NULL: the final sync does it all */
    if (!x->r.buf || !x->buf || !x->a || !x->ua || !x->r.hw || !x->hw)
        return oom(x);
    return VS_OK;
}

/* The four filters, never "all", never an external program (a filter that
 * would need one is an error here). */
static int filters(struct archive *a)
{
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_filter_bzip2(a) != ARCHIVE_OK ||
        archive_read_support_filter_xz(a) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(a) != ARCHIVE_OK)
        return -1;
    return 0;
}

/* Not compressed by any of the four (or at all): a plain tar archive is told
 * to compress itself; anything else is not an archive, in libarchive's tar
 * reader's words, as for a compressed stream that holds no tar archive. */
static vs_status not_compressed(ex *x, const uint8_t *head, size_t n)
{
    struct archive *p = archive_read_new();
    if (!p)
        return oom(x);
    vs_status st;
    if (archive_read_support_format_tar(p) != ARCHIVE_OK ||
        archive_read_open_memory(p, head, n) != ARCHIVE_OK) {
        st = la_fail(x, p, LA_OPEN);
    } else {
        st = vs_error_subj(x->err, VS_E_UNSAFE, x->label,
                           "not a gzip, bzip2, xz or zstd compressed tar archive");
        vs_error_hint(x->err, "compress the tar archive with gzip, bzip2, xz or zstd");
    }
    archive_read_free(p);
    return st;
}

static vs_status open_gz(ex *x, const void *first, size_t n)
{
    if (!(x->gz = vs_gunzip_new(gz_in, &x->r, first, n)) ||
        !(x->up = vs_unpacker_start(unpack_gz, x)))
        return oom(x);
    return VS_OK;
}

/* ua over the package, its first block given back once more */
static vs_status open_la(ex *x, const void *first, la_ssize_t n)
{
    uint8_t head[PROBE_MAX]; /* for not_compressed: ua reads on from the first block */
    size_t nhead = (size_t)n < sizeof head ? (size_t)n : sizeof head;
    memcpy(head, first, nhead);
    x->r.replay = n > 0 ? first : NULL;
    x->r.replay_n = n;
    if (archive_read_open(x->ua, &x->r, NULL, read_cb, NULL) != ARCHIVE_OK)
        return la_fail(x, x->ua, LA_OPEN);
    /* libarchive always accepts uncompressed input; agent packages are not */
    int fcode = archive_filter_code(x->ua, 0);
    if (fcode != ARCHIVE_FILTER_GZIP && fcode != ARCHIVE_FILTER_BZIP2 &&
        fcode != ARCHIVE_FILTER_XZ && fcode != ARCHIVE_FILTER_ZSTD)
        return not_compressed(x, head, nhead);
    struct archive_entry *stream = NULL;
    if (archive_read_next_header(x->ua, &stream) != ARCHIVE_OK)
        return la_fail(x, x->ua, LA_OPEN);
    if (!(x->up = vs_unpacker_start(unpack_la, x)))
        return oom(x);
    return VS_OK;
}

/*
 * The decompression, chosen by the first block: a gzip member's start, by
 * igzip (gunzip.c); anything else by libarchive's filters and the raw
 * format, whose one entry is the decompressed stream. Then the entries: the
 * tar format (ustar, pax, gnutar), reading that stream from the unpacker's
 * thread, with the filters again for a compression inside the gzip one
 * (libarchive reads such layers within one reader, and so does ua).
 */
static vs_status ex_open(ex *x)
{
    if (archive_read_support_format_raw(x->ua) != ARCHIVE_OK || filters(x->ua) != 0 ||
        archive_read_support_format_tar(x->a) != ARCHIVE_OK || filters(x->a) != 0)
        return vs_error_subjb(x->err, VS_E_INTERNAL, "archive", archive_errno(x->ua), "libarchive",
                              "lacks built-in tar/gzip/bzip2/xz/zstd support");
    const void *first = NULL;
    la_ssize_t n = read_cb(NULL, &x->r, &first);
    if (n < 0)
        return vs_error_subj_errno(x->err, VS_E_INTERNAL, errno, x->label, "read");
    vs_status st = vs_gunzip_sniff(first, (size_t)n) ? open_gz(x, first, (size_t)n)
                                                     : open_la(x, first, n);
    if (st)
        return st;
    if (archive_read_open(x->a, x, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
        return la_fail(x, x->a, LA_OPEN);
    return VS_OK;
}

static uint64_t meta_limit(const ex *x)
{
    return x->o->max_unpacked > META_FLOOR ? x->o->max_unpacked : META_FLOOR;
}

static vs_status ex_entries(ex *x)
{
    for (;;) {
        struct archive_entry *ae = NULL;
        int rc = archive_read_next_header(x->a, &ae);
        if (rc == ARCHIVE_EOF)
            break;
        /* a warning (a name libarchive could not convert, an ignored
         * malformed pax record) leaves a usable entry: our own rules judge
         * its names; anything worse is damage */
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return la_fail(x, x->a, LA_HEADER);
        /* since the last entry's data: its padding, this entry's header and
         * any pax or long-name records (libarchive takes each up to 1 MB) */
        x->headers += (uint64_t)(archive_filter_bytes(x->a, 0) - x->last_end);
        if (x->headers > meta_limit(x))
            return vs_error_subj(x->err, VS_E_UNSAFE, x->label,
                                 "its headers unpack to more than the --max-unpacked limit of "
                                 "%" PRIu64 " bytes (after %" PRIu64 " entries)",
                                 meta_limit(x), x->res->entries);
        vs_status st = one_entry(x, ae);
        if (st)
            return st;
        x->last_end = archive_filter_bytes(x->a, 0);
    }
    if (x->res->entries == 0 || x->set->n == 0) {
        vs_status st = vs_error_subj(x->err, VS_E_UNSAFE, x->label, "not an archive (no entries%s)",
                                     x->res->entries ? " left after --strip-components" : "");
        if (!x->res->entries)
            vs_error_hint(x->err, "vetstage stages tar archives compressed with gzip, bzip2, xz "
                                  "or zstd");
        return st;
    }
    return VS_OK;
}

/* The package digest against the expected one: the message for a mismatch. */
static vs_status digest_mismatch(ex *x)
{
    const char *subject = x->o->digest_subject ? x->o->digest_subject : x->label;
    if (!x->o->expect_hex)
        return vs_error_subj(x->err, VS_E_VERIFY, subject,
                             "changed while it was being staged (sha256 differs)");
    vs_error_subj(x->err, VS_E_VERIFY, subject,
                  "the package in the cache was altered after admission (its sha256 is no "
                  "longer %s)",
                  x->o->expect_hex);
    vs_error_hint(x->err, "run `vetstage cache fsck`, then fetch the package again");
    return VS_E_VERIFY;
}

/* The rest of the bytes, to the end of the file (the digest covers all of
 * them, also past the archive's end), then the digest and its check. */
static vs_status ex_digest(ex *x)
{
    vs_unpacker_stop(x->up); /* the package's reader is this thread's again */
    for (;;) {
        const void *dummy;
        la_ssize_t n = read_cb(NULL, &x->r, &dummy);
        if (n < 0)
            return vs_error_subj_errno(x->err, VS_E_INTERNAL, errno, x->label, "read");
        if (n == 0)
            break;
    }
    vs_hashworker_wait(x->r.hw, x->r.last);
    vs_sha256_final(&x->r.h, x->res->sha256);
    x->res->insize = atomic_load(&x->r.done);
    x->digest_done = true;
    if (x->o->expect_sha256 && memcmp(x->o->expect_sha256, x->res->sha256, VS_SHA256_LEN) != 0)
        return digest_mismatch(x);
    return VS_OK;
}

/* The decompressed stream after the tar archive's end (its padding, usually
 * a few KiB, up to a record of `tar -b`), to the compressed stream's own
 * end: so its checks run whatever the package's size (for gzip, every
 * member's CRC-32 and length), not only when the decompression happened to
 * be ahead of the entries. It has a limit of its own (META_FLOOR): a package
 * whose files fit is not refused for its padding. */
static vs_status ex_drain(ex *x)
{
    uint64_t rest = 0;
    for (;;) {
        const void *p = NULL;
        /* the tar reader's own input, which it no longer asks for: an error
         * lands on it as if it had, and is reported the same way */
        la_ssize_t n = tar_read_cb(x->a, x, &p);
        if (n == 0)
            return VS_OK;
        if (n < 0)
            return la_fail(x, x->a, LA_HEADER);
        rest += (uint64_t)n;
        if (rest > meta_limit(x))
            return vs_error_subj(x->err, VS_E_UNSAFE, x->label,
                                 "unpacks to more than the --max-unpacked limit of %" PRIu64
                                 " bytes (after the archive's end)",
                                 meta_limit(x));
    }
}

/* The end-of-archive marker, the rest of the stream, then the digest. */
static vs_status ex_finish(ex *x)
{
    /* tar's end-of-archive marker (two zero blocks) must follow the last
     * entry, else the archive ends early (libarchive reports a clean EOF at
     * an entry boundary either way) */
    if (archive_filter_bytes(x->a, 0) - x->last_end < 1024)
        return vs_error_subj(x->err, VS_E_UNSAFE, x->label,
                             "archive ends early (no end-of-archive marker after %" PRIu64
                             " entries)",
                             x->res->entries);
    vs_status st = ex_drain(x);
    if (!st)
        st = ex_digest(x);
    if (!st) /* every large file is durable (the final sync does the rest) */
        st = vs_flusher_finish(x->fl, x->err);
    return st;
}

/* A failure before the digest was checked: with an expected digest, the
 * rest of the package is read, and bytes that do not match it are the
 * error to report (the damage or the refusal followed from them). */
static vs_status ex_failed(ex *x, vs_status st)
{
    if (!x->o->expect_sha256 || x->digest_done)
        return st;
    vs_error e2 = VS_ERROR_INIT;
    vs_error *keep = x->err;
    x->err = &e2;
    vs_status dst = ex_digest(x);
    x->err = keep;
    if (dst != VS_E_VERIFY)
        return st;
    if (keep)
        *keep = e2;
    return dst;
}

static void ex_free(ex *x)
{
    vs_unpacker_free(x->up); /* before ua and gz, whose reads it runs */
    vs_gunzip_free(x->gz);
    vs_hashworker_stop(x->r.hw); /* every job done: the buffers and digests are ours again */
    vs_hashworker_stop(x->hw);
    vs_flusher_stop(x->fl, true); /* on a failure, nothing is synced that is then removed */
    vs_sha256_abort(&x->r.h);
    if (x->a)
        archive_read_free(x->a);
    if (x->ua)
        archive_read_free(x->ua);
    if (x->pfd >= 0 && x->pfd != x->rootfd)
        close(x->pfd);
    if (x->loc) {
        uselocale(x->oldloc);
        freelocale(x->loc);
    }
    free(x->r.buf);
    free(x->buf);
}

vs_status vs_stage_extract(const vs_ctx *ctx, int infd, int rootfd, const vs_extract_opts *o,
                           vs_pathset *set, vs_extract_result *res, vs_error *err)
{
    ex x;
    vs_status st = ex_init(&x, ctx, infd, rootfd, o, set, res, err);
    if (!st) {
        st = ex_open(&x);
        if (!st)
            st = ex_entries(&x);
        if (!st)
            st = ex_finish(&x);

        if (st)
            st = ex_failed(&x, st);
    }
    ex_free(&x);
    return st;
}

/* ---- architectures ------------------------------------------------------------- */

const char *vs_elf_machine_name(unsigned machine)
{
    switch (machine) {
    case 3: return "i386";
    case 8: return "mips";
    case 20: return "ppc";
    case 21: return "ppc64";
    case 22: return "s390";
    case 40: return "arm";
    case 62: return "x86-64";
    case 183: return "aarch64";
    case 243: return "riscv";
    case 258: return "loongarch";
    default: return "unknown";
    }
}

bool vs_arch_machine(const char *arch, uint16_t *machine)
{
    if (arch && !strcmp(arch, "amd64"))
        *machine = VS_EM_X86_64;
    else if (arch && !strcmp(arch, "arm64"))
        *machine = VS_EM_AARCH64;
    else
        return false;
    return true;
}

/* ---- metadata and the one sync ---------------------------------------------------- */

/* Make everything below rootfd durable: one syncfs(2) of its file system. */
static vs_status sync_tree(int rootfd, vs_error *err)
{
#ifdef SYS_syncfs
    if (syscall(SYS_syncfs, rootfd) == 0)
        return VS_OK;
    if (errno != ENOSYS)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, "staged tree", "syncfs");
#else
    (void)rootfd;
    (void)err;
#endif
    sync();
    return VS_OK;
}

vs_status vs_stage_write_meta(int rootfd, const vs_pathset *set, const char *provenance,
                              char digest[VS_LAYOUT_DIGEST_HEX], vs_error *err)
{
    char *man = NULL, *modes = NULL;
    size_t mlen = 0, dlen = 0;
    vs_status st = vs_manifest_render(set, &man, &mlen, &modes, &dlen, err);
    if (st)
        return st;
    const char *files[3] = { VS_META_MANIFEST, VS_META_MODES, VS_META_PROVENANCE };
    const char *text[3] = { man, modes, provenance ? provenance : "{}\n" };
    size_t len[3] = { mlen, dlen, provenance ? strlen(provenance) : 3 };
    int mfd = make_dir(rootfd, VS_META_DIR);
    if (mfd < 0) {
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, VS_META_DIR, "create");
        goto out;
    }
    /* plain writes: the whole tree is still hidden, and is synced once below */
    for (int i = 0; i < 3 && !st; i++) {
        int fd = openat(mfd, files[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || vs_write_all(fd, text[i], len[i]) != 0 || fchmod(fd, 0644) != 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, files[i], "write");
        if (fd >= 0 && close(fd) != 0 && !st)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, files[i], "close");
    }
    if (!st)
        st = sync_tree(rootfd, err);
    if (!st && digest)
        st = vs_layout_digest_texts(digest, text, len, err);
out:
    if (mfd >= 0)
        close(mfd);
    free(man);
    free(modes);
    return st;
}
