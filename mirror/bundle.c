/* mirror/bundle.c - `mirror export` and `mirror import`: air-gap bundles.
 * A bundle is written from cache objects and read as untrusted input: what
 * it says only tells which file is which; trust comes from vs_cache_fetch
 * verifying every package against the local store. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "mirror/mirror_int.h"

/* ---- export ----------------------------------------------------------------- */

static vs_status ar_fail(struct archive *a, const char *what, vs_error *err)
{
    return vs_error_subjb(err, VS_E_INTERNAL, "archive", archive_errno(a), what, "%s",
                          archive_error_string(a) ? archive_error_string(a) : "archive error");
}

static vs_status ar_header(struct archive *a, const char *path, uint64_t size, int64_t mtime,
                           const char *out, vs_error *err)
{
    struct archive_entry *ae = archive_entry_new();
    if (!ae)
        return vs_error_subj(err, VS_E_INTERNAL, out, "out of memory");
    archive_entry_set_pathname(ae, path);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, (la_int64_t)size);
    archive_entry_set_mtime(ae, (time_t)mtime, 0);
    int r = archive_write_header(a, ae);
    archive_entry_free(ae);
    return r == ARCHIVE_OK ? VS_OK : ar_fail(a, out, err);
}

/* One cache object into the archive, re-hashed on the way. */
static vs_status ar_object(vs_ctx *ctx, struct archive *a, const char *path, const char *id,
                           int64_t mtime, const char *out, uint8_t *buf, vs_error *err)
{
    char *opath = vs_cache_object_path(ctx, id);
    if (!opath)
        return vs_error_subj(err, VS_E_INTERNAL, out, "out of memory");
    int fd = -1;
    struct stat sb;
    vs_status st = vs_cache_open_object(&fd, ctx, id, err);
    if (st)
        goto out;
    if (fstat(fd, &sb) != 0) {
        st = vs_error_subj_errno(err, VS_E_INTEGRITY, errno, opath, "the cache object of %s",
                                 path);
        goto out;
    }
    if ((st = ar_header(a, path, (uint64_t)sb.st_size, mtime, out, err)))
        goto out;
    vs_sha256 h;
    if ((st = vs_sha256_init(&h, err)))
        goto out;
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, VS_IO_BUFSIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, opath, "read");
            break;
        }
        if (r == 0)
            break;
        total += (uint64_t)r;
        vs_sha256_update(&h, buf, (size_t)r);
        if (archive_write_data(a, buf, (size_t)r) != r) {
            st = ar_fail(a, out, err);
            break;
        }
    }
    if (st) {
        vs_sha256_abort(&h);
        goto out;
    }
    uint8_t d[VS_SHA256_LEN];
    char hex[VS_SHA256_HEX];
    vs_sha256_final(&h, d);
    vs_hex(hex, d, sizeof d);
    if (strcmp(hex, id) != 0 || total != (uint64_t)sb.st_size)
        st = vs_error_subj(err, VS_E_INTEGRITY, opath, "cache object altered (%s)", path);
out:
    if (fd >= 0)
        close(fd);
    free(opath);
    return st;
}

static vs_status export_entries(vs_ctx *ctx, struct archive *a, vs_cache_entry *const *es, size_t n,
                                const char *out, vs_error *err)
{
    char *idx = NULL;
    size_t len = 0;
    vs_status st = vs_mirror_index_format(&idx, &len, (const vs_cache_entry *const *)es, n, err);
    if (st)
        return st;
    int64_t now = n ? vs_cache_entry_verified(es[0]) : 0;
    st = ar_header(a, VS_MIRROR_INDEX, len, now, out, err);
    if (!st && archive_write_data(a, idx, len) != (la_ssize_t)len)
        st = ar_fail(a, out, err);
    free(idx);
    uint8_t *buf = malloc(VS_IO_BUFSIZE);
    if (!st && !buf)
        st = vs_error_subj(err, VS_E_INTERNAL, out, "out of memory");
    for (size_t i = 0; i < n && !st; i++) {
        const vs_cache_entry *e = es[i];
        char path[VS_MAX_NAME + VS_MAX_VERSION + 260];
        snprintf(path, sizeof path, "%s@%s/%s", vs_cache_entry_name(e), vs_cache_entry_version(e),
                 vs_cache_entry_file(e));
        st = ar_object(ctx, a, path, vs_cache_entry_sha256(e), vs_cache_entry_verified(e), out, buf,
                       err);
        for (size_t k = 0; k < vs_cache_entry_nsigs(e) && !st; k++) {
            snprintf(path, sizeof path, "%s@%s/%s", vs_cache_entry_name(e),
                     vs_cache_entry_version(e), vs_cache_entry_sig_file(e, k));
            st = ar_object(ctx, a, path, vs_cache_entry_sig_sha256(e, k),
                           vs_cache_entry_verified(e), out, buf, err);
        }
    }
    free(buf);
    return st;
}

/* The cache entries of refs[0..n) into es: each once, with file names a
 * bundle can hold. */
static vs_status export_lookup(vs_ctx *ctx, const char *const *refs, size_t n,
                               vs_cache_entry **es, vs_error *err)
{
    vs_status st = VS_OK;
    for (size_t i = 0; i < n && !st; i++) {
        st = vs_cache_lookup(&es[i], ctx, refs[i], err);
        for (size_t k = 0; k < i && !st; k++)
            if (!strcmp(vs_cache_entry_name(es[k]), vs_cache_entry_name(es[i])) &&
                !strcmp(vs_cache_entry_version(es[k]), vs_cache_entry_version(es[i])))
                st = vs_error_subj(err, VS_E_USAGE, refs[i], "given twice");
        if (!st && !vs_mirror_valid_file(vs_cache_entry_file(es[i])))
            st = vs_error_subj(err, VS_E_USAGE, refs[i], "file name %s cannot go in a bundle",
                               vs_cache_entry_file(es[i]));
        for (size_t k = 0; !st && k < vs_cache_entry_nsigs(es[i]); k++)
            if (!vs_mirror_valid_file(vs_cache_entry_sig_file(es[i], k)))
                st = vs_error_subj(err, VS_E_USAGE, refs[i], "file name %s cannot go in a bundle",
                                   vs_cache_entry_sig_file(es[i], k));
    }
    return st;
}

vs_status vs_mirror_export(vs_ctx *ctx, const char *const *refs, size_t n, const char *out,
                           vs_error *err)
{
    if (!ctx || !out || !*out)
        return vs_error_subj(err, VS_E_USAGE, "mirror export", "no output file given");
    if (n == 0 || !refs)
        return vs_error_subj(err, VS_E_USAGE, "mirror export", "no NAME@VERSION given");
    if (n > VS_MAX_BUNDLE_ENTRIES / (1 + VS_CACHE_MAX_SIGS))
        return vs_error_subj(err, VS_E_USAGE, "mirror export", "too many packages");
    vs_cache_entry **es = calloc(n, sizeof *es);
    if (!es)
        return vs_error_subj(err, VS_E_INTERNAL, out, "out of memory");
    vs_status st = export_lookup(ctx, refs, n, es, err);
    if (st) {
        vs_cache_entry_list_free(es, n);
        return st;
    }
    /* the temporary file goes beside `out`, so that the rename is atomic */
    char *dir = strdup(out);
    if (!dir) {
        vs_cache_entry_list_free(es, n);
        return vs_error_subj(err, VS_E_INTERNAL, out, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : out;
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    int dfd = -1;
    struct stat sb;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        st = vs_error_subj(err, VS_E_USAGE, out, "not a file name");
    } else if ((st = vs_open_dir(AT_FDCWD, slash ? dir : ".", &dfd, err))) {
        st = VS_E_USAGE;
        if (err)
            err->status = st;
    } else if (fstatat(dfd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode)) {
        /* checked before anything is written; the rename would fail late */
        st = vs_error_subj(err, VS_E_USAGE, out, "is a directory; the bundle is one file");
        vs_error_hint(err, "name the file to write, e.g. --out %s/bundle.tgz", out);
    }
    vs_tmpfile t;
    memset(&t, 0, sizeof t);
    t.fd = -1;
    struct archive *a = NULL;
    if (!st)
        st = vs_tmpfile_open(&t, dfd, 0644, false, err);
    if (!st) {
        a = archive_write_new();
        if (!a)
            st = vs_error_subj(err, VS_E_INTERNAL, out, "out of memory");
        else if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
                 archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
                 archive_write_open_fd(a, t.fd) != ARCHIVE_OK)
            st = ar_fail(a, out, err);
    }
    if (!st)
        st = export_entries(ctx, a, es, n, out, err);
    if (!st && archive_write_close(a) != ARCHIVE_OK)
        st = ar_fail(a, out, err);
    if (a)
        archive_write_free(a);
    if (!st)
        st = vs_tmpfile_commit(&t, base, NULL, err);
    if (st)
        vs_tmpfile_abort(&t);
    if (dfd >= 0)
        close(dfd);
    free(dir);
    vs_cache_entry_list_free(es, n);
    return st;
}

/* ---- import ----------------------------------------------------------------- */

typedef struct folder {
    char name[VS_MAX_NAME + 1];
    char version[VS_MAX_VERSION + 1];
    char files[VS_MAX_BUNDLE_PKG_FILES][256];
    size_t nfiles;
} folder;

typedef struct reader {
    const char *bundle;
    struct archive *a;
    int tmpfd;
    folder *folders;
    size_t nfolders, cap;
    bool have_index;
    uint8_t *buf;
    uint64_t total; /* bytes extracted so far, all entries */
} reader;

/* An entry name fit for a one-line message. */
static void printable(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap && i < 200; i++)
        dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    dst[i] = '\0';
}

/* "BUNDLE(MEMBER)": how messages name a part of a bundle (as ar(1) and
 * ld(1) name a member of an archive), never by a temporary path. */
static const char *member(char *out, size_t cap, const char *bundle, const char *name,
                          const char *version, const char *file)
{
    if (file)
        snprintf(out, cap, "%s(%s@%s/%s)", bundle, name, version, file);
    else if (name)
        snprintf(out, cap, "%s(%s@%s)", bundle, name, version);
    else
        snprintf(out, cap, "%s", bundle);
    return out;
}

/* "BUNDLE(ENTRY)" for an entry as the archive names it. */
static const char *entry_subj(char subj[VS_ERROR_SUBJECT_MAX], const reader *r, const char *entry)
{
    char p[256];
    printable(p, sizeof p, entry ? entry : "");
    snprintf(subj, VS_ERROR_SUBJECT_MAX, "%s(%s)", r->bundle, p);
    return subj;
}

static vs_status refuse(reader *r, const char *entry, const char *why, vs_error *err)
{
    char subj[VS_ERROR_SUBJECT_MAX];
    return vs_error_subj(err, VS_E_UNSAFE, entry_subj(subj, r, entry), "%s", why);
}

/* A local failure while an entry is written out (the disk, not the bundle). */
static vs_status extract_fail(const reader *r, const char *entry, int errnum, vs_error *err)
{
    char subj[VS_ERROR_SUBJECT_MAX];
    return vs_error_subj_errno(err, VS_E_INTERNAL, errnum, entry_subj(subj, r, entry),
                               "extracting");
}

static folder *get_folder(reader *r, const char *name, const char *version)
{
    for (size_t i = 0; i < r->nfolders; i++)
        if (!strcmp(r->folders[i].name, name) && !strcmp(r->folders[i].version, version))
            return &r->folders[i];
    if (r->nfolders == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 8;
        folder *nf = realloc(r->folders, nc * sizeof *nf);
        if (!nf)
            return NULL;
        r->folders = nf;
        r->cap = nc;
    }
    folder *f = &r->folders[r->nfolders++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->version, sizeof f->version, "%s", version);
    return f;
}

/* Write the current entry's data to `fd`, at most `limit` bytes. */
static vs_status copy_data(reader *r, const char *entry, int fd, uint64_t limit, vs_error *err)
{
    uint64_t total = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(r->a, r->buf, VS_IO_BUFSIZE);
        if (n == 0)
            return VS_OK;
        if (n < 0)
            return refuse(r, entry, archive_error_string(r->a) ? archive_error_string(r->a)
                                                               : "truncated",
                          err);
        if (!vs_add_u64(total, (uint64_t)n, &total) || total > limit) {
            char why[96];
            snprintf(why, sizeof why, "larger than %llu bytes", (unsigned long long)limit);
            return refuse(r, entry, why, err);
        }
        if (!vs_add_u64(r->total, (uint64_t)n, &r->total) || r->total > VS_MAX_BUNDLE_BYTES) {
            char why[96];
            snprintf(why, sizeof why, "the bundle unpacks to more than %llu bytes",
                     (unsigned long long)VS_MAX_BUNDLE_BYTES);
            return refuse(r, entry, why, err);
        }
        if (vs_write_all(fd, r->buf, (size_t)n) != 0)
            return extract_fail(r, entry, errno, err);
    }
}

static vs_status extract_one(reader *r, struct archive_entry *ae, vs_error *err)
{
    const char *path = archive_entry_pathname(ae);
    if (!path)
        return refuse(r, "", "entry without a name", err);
    if (archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae) ||
        archive_entry_symlink(ae))
        return refuse(r, path, "not a regular file", err);
    vs_bundle_kind kind;
    char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1], file[256], rel[VS_MAX_NAME + VS_MAX_VERSION + 260];
    uint64_t limit;
    if (!vs_mirror_entry_name(path, &kind, name, version, file, &limit))
        return refuse(r, path, "not index.json or NAME@VERSION/FILE", err);
    if (archive_entry_size_is_set(ae) && archive_entry_size(ae) >= 0 &&
        (uint64_t)archive_entry_size(ae) > limit) {
        char why[96];
        snprintf(why, sizeof why, "larger than %llu bytes", (unsigned long long)limit);
        return refuse(r, path, why, err);
    }
    if (kind == VS_BUNDLE_INDEX) {
        if (r->have_index)
            return refuse(r, path, "duplicate entry", err);
        r->have_index = true;
        snprintf(rel, sizeof rel, "%s", VS_MIRROR_INDEX);
    } else {
        folder *f = get_folder(r, name, version);
        if (!f)
            return vs_error_subj(err, VS_E_INTERNAL, r->bundle, "out of memory");
        for (size_t i = 0; i < f->nfiles; i++)
            if (!strcmp(f->files[i], file))
                return refuse(r, path, "duplicate entry", err);
        if (f->nfiles >= VS_MAX_BUNDLE_PKG_FILES)
            return refuse(r, path, "too many files for one package", err);
        snprintf(f->files[f->nfiles++], 256, "%s", file);
        snprintf(rel, sizeof rel, "%s@%s", name, version);
        if (mkdirat(r->tmpfd, rel, 0700) != 0 && errno != EEXIST)
            return extract_fail(r, path, errno, err);
        snprintf(rel, sizeof rel, "%s@%s/%s", name, version, file);
    }
    int fd = openat(r->tmpfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? refuse(r, path, "duplicate entry", err)
                               : extract_fail(r, path, errno, err);
    vs_status st = copy_data(r, path, fd, limit, err);
    if (close(fd) != 0 && !st)
        st = extract_fail(r, path, errno, err);
    return st;
}

static int read_fd_open(int fd, struct archive *a)
{
    return archive_read_open_fd(a, fd, 64 * 1024);
}

static vs_status extract_all(reader *r, int bfd, vs_error *err)
{
    r->a = archive_read_new();
    if (!r->a)
        return vs_error_subj(err, VS_E_INTERNAL, r->bundle, "out of memory");
    vs_status st = VS_OK;
    if (archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(r->a) != ARCHIVE_OK)
        st = ar_fail(r->a, r->bundle, err);
    else if (read_fd_open(bfd, r->a) != ARCHIVE_OK)
        st = vs_error_subj(err, VS_E_USAGE, r->bundle, "not a gzip-compressed tar archive (%s)",
                           archive_error_string(r->a) ? archive_error_string(r->a) : "");
    size_t count = 0;
    while (!st) {
        struct archive_entry *ae;
        int rc = archive_read_next_header(r->a, &ae);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            /* nothing readable at all: not a bundle (a usage error); cut
             * short after some entries: a damaged or hostile one */
            const char *why = archive_error_string(r->a) ? archive_error_string(r->a) : "";
            if (count == 0)
                st = vs_error_subj(err, VS_E_USAGE, r->bundle,
                                   "not a gzip-compressed tar archive (%s)", why);
            else
                st = vs_error_subj(err, VS_E_UNSAFE, r->bundle,
                                   "cut short after %zu entries (%s)", count, why);
            break;
        }
        if (++count > VS_MAX_BUNDLE_ENTRIES) {
            st = refuse(r, archive_entry_pathname(ae), "too many entries", err);
            break;
        }
        int fc = archive_filter_code(r->a, 0);
        if (fc != ARCHIVE_FILTER_GZIP) {
            st = vs_error_subj(err, VS_E_UNSAFE, r->bundle, "not gzip-compressed");
            break;
        }
        st = extract_one(r, ae, err);
    }
    archive_read_free(r->a);
    r->a = NULL;
    if (!st && count == 0)
        st = vs_error_subj(err, VS_E_UNSAFE, r->bundle, "an empty bundle");
    if (!st && !r->have_index)
        st = vs_error_subj(err, VS_E_UNSAFE, r->bundle, "no index.json");
    return st;
}

static bool folder_has(const folder *f, const char *file)
{
    for (size_t i = 0; i < f->nfiles; i++)
        if (!strcmp(f->files[i], file))
            return true;
    return false;
}

/* Every folder is described by the index and the index names only files
 * that are there; nothing else is admitted. */
static vs_status match_index(reader *r, const vs_mirror_pkg *pk, size_t npk, vs_error *err)
{
    char subj[VS_ERROR_SUBJECT_MAX];
    for (size_t i = 0; i < npk; i++) {
        const vs_mirror_pkg *m = &pk[i];
        const folder *f = NULL;
        for (size_t k = 0; k < r->nfolders && !f; k++)
            if (!strcmp(r->folders[k].name, m->name) && !strcmp(r->folders[k].version, m->version))
                f = &r->folders[k];
        const char *need[] = { m->file, m->gpg_sig, m->checksums, m->checksums_sig, m->rsa_sig };
        size_t used = 0;
        for (size_t k = 0; f && k < sizeof need / sizeof need[0]; k++) {
            if (!need[k][0])
                continue;
            for (size_t j = 0; j < k; j++)
                if (!strcmp(need[j], need[k]))
                    return vs_error_subj(err, VS_E_UNSAFE,
                                         member(subj, sizeof subj, r->bundle, m->name, m->version,
                                                need[k]),
                                         "index.json names it twice");
            if (!folder_has(f, need[k]))
                return vs_error_subj(err, VS_E_UNSAFE,
                                     member(subj, sizeof subj, r->bundle, m->name, m->version,
                                            need[k]),
                                     "named by index.json, but not in the bundle");
            used++;
        }
        member(subj, sizeof subj, r->bundle, m->name, m->version, NULL);
        if (!f)
            return vs_error_subj(err, VS_E_UNSAFE, subj,
                                 "named by index.json, but not in the bundle");
        if (used != f->nfiles)
            return vs_error_subj(err, VS_E_UNSAFE, subj, "holds files index.json does not name");
        if ((m->checksums[0] != 0) != (m->checksums_sig[0] != 0) ||
            (m->checksums[0] && m->gpg_sig[0]))
            return vs_error_subj(err, VS_E_UNSAFE, subj, "inconsistent signature files");
        if (m->checksums[0]) {
            char want[300];
            snprintf(want, sizeof want, "%s.asc", m->checksums);
            if (strcmp(want, m->checksums_sig) != 0)
                return vs_error_subj(err, VS_E_UNSAFE, subj,
                                     "the checksum list's signature must be %s", want);
        }
    }
    for (size_t k = 0; k < r->nfolders; k++) {
        bool found = false;
        for (size_t i = 0; i < npk && !found; i++)
            found = !strcmp(r->folders[k].name, pk[i].name) &&
                    !strcmp(r->folders[k].version, pk[i].version);
        if (!found)
            return vs_error_subj(err, VS_E_UNSAFE,
                                 member(subj, sizeof subj, r->bundle, r->folders[k].name,
                                        r->folders[k].version, NULL),
                                 "entry '%s@%s/' not described by index.json", r->folders[k].name,
                                 r->folders[k].version);
    }
    return VS_OK;
}

/* file:// URL of an extracted file: the temporary folder's path
 * percent-encoded, then the (already URL-safe) folder and file names. */
static char *file_url(const char *dir, const vs_mirror_pkg *m, const char *file)
{
    vs_sbuf b = VS_SBUF_INIT(3 * PATH_MAX + VS_MAX_URL);
    vs_sbuf_puts(&b, "file://");
    for (const char *p = dir; *p; p++) {
        char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/-._~", c)) {
            vs_sbuf_add(&b, p, 1);
        } else {
            char hx[4];
            snprintf(hx, sizeof hx, "%%%02X", (unsigned char)c);
            vs_sbuf_puts(&b, hx);
        }
    }
    vs_sbuf_puts(&b, "/");
    vs_sbuf_puts(&b, m->name);
    vs_sbuf_puts(&b, "@");
    vs_sbuf_puts(&b, m->version);
    vs_sbuf_puts(&b, "/");
    vs_sbuf_puts(&b, file);
    if (vs_sbuf_failed(&b)) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* An error from the cache about an extracted file names the bundle and the
 * member instead: file://TMPDIR/NAME@VERSION/FILE -> BUNDLE(NAME@VERSION/FILE). */
static void name_member(vs_error *err, const char *bundle, const char *dir,
                        const vs_mirror_pkg *m)
{
    if (!err)
        return;
    char subj[VS_ERROR_SUBJECT_MAX];
    char *prefix = file_url(dir, m, "");
    size_t pl = prefix ? strlen(prefix) : 0;
    const char *file = NULL;
    if (prefix && pl > 0 && strncmp(err->subject, prefix, pl) == 0 && err->subject[pl]) {
        file = err->subject + pl; /* the URL of a member we handed over */
    } else {
        /* a quarantine file is named by its kind; anything else (a key, an
         * empty subject) is the package as a whole */
        const char *b = vs_basename(err->subject);
        static const char *const kinds[] = { "gpg-sig", "checksums", "checksums-sig", "rsa-sig" };
        const char *files[] = { m->gpg_sig, m->checksums, m->checksums_sig, m->rsa_sig };
        for (size_t i = 0; i < 4 && !file; i++)
            if (!strcmp(b, kinds[i]) && files[i][0])
                file = files[i];
        if (!file && !strcmp(b, m->file))
            file = m->file;
    }
    member(subj, sizeof subj, bundle, m->name, m->version, file);
    free(prefix);
    vs_error_relabel(err, subj);
}

/* The file:// URLs of a package's files in the extracted bundle: u[0] the
 * package, then its OpenPGP signature, checksum list and RSA signature
 * (NULL where the bundle carries none). */
static vs_status member_urls(char *u[4], const char *dir, const vs_mirror_pkg *m,
                             const char *subj, vs_error *err)
{
    const char *files[4] = { m->file, m->gpg_sig, m->checksums, m->rsa_sig };
    vs_status st = VS_OK;
    for (size_t i = 0; i < 4; i++) {
        u[i] = files[i][0] ? file_url(dir, m, files[i]) : NULL;
        if (files[i][0] && !u[i])
            st = vs_error_subj(err, VS_E_INTERNAL, subj, "out of memory");
    }
    return st;
}

/* The name and version come from the package's file name, as for a fetch
 * of file:///NAME/FILE, never from the bundle's own words: a signature
 * covers the bytes, not a label, so a bundle that relabels an old release
 * as a newer version is refused. */
static vs_status check_label(const vs_mirror_pkg *m, const char *subj, vs_error *err)
{
    char url[VS_MAX_NAME + 300], dn[VS_MAX_NAME + 1], dv[VS_MAX_VERSION + 1];
    vs_error e2 = VS_ERROR_INIT;
    snprintf(url, sizeof url, "file:///%s/%s", m->name, m->file);
    if (vs_fetch_name_version(dn, dv, url, &e2) != VS_OK)
        return vs_error_subj(err, VS_E_POLICY, subj, "the file name does not tell the package's "
                             "name and version, and a bundle cannot set them");
    if (strcmp(dn, m->name) != 0 || strcmp(dv, m->version) != 0)
        return vs_error_subj(err, VS_E_POLICY, subj, "the package file %s is %s@%s by its name; "
                             "a bundle cannot relabel a package", m->file, dn, dv);
    return VS_OK;
}

/* The policy a package is admitted under: the options, else the package's
 * source, else both signatures. */
typedef struct admit_policy {
    unsigned require, age;
    const char *keys[VS_MAX_SOURCE_KEYS];
    size_t nkeys;
} admit_policy;

static void admit_policy_of(admit_policy *p, const vs_mirror_import_opts *o,
                            const vs_config *cfg, const char *name)
{
    memset(p, 0, sizeof *p);
    vs_source_policy(&p->require, &p->age, p->keys, &p->nkeys, cfg, name);
    if (o->require)
        p->require = o->require;
    if (o->max_sig_age_days)
        p->age = o->max_sig_age_days;
}

/* A signature the policy needs and the bundle does not carry is missing
 * (a verify failure), not a download error. */
static vs_status check_sigs_present(const vs_mirror_pkg *m, const admit_policy *p,
                                    const char *bundle, vs_error *err)
{
    char subj[VS_ERROR_SUBJECT_MAX];
    unsigned need = p->require ? p->require : VS_REQUIRE_BOTH;
    member(subj, sizeof subj, bundle, m->name, m->version, NULL);
    if ((need & VS_REQUIRE_GPG) && !m->gpg_sig[0] && !m->checksums[0]) {
        vs_error_subj(err, VS_E_VERIFY, subj, "no OpenPGP signature in the bundle");
        vs_error_hint(err, "the policy needs one; --require rsa (or the source's require) "
                           "accepts the RSA approval alone");
        return VS_E_VERIFY;
    }
    if ((need & VS_REQUIRE_RSA) && !m->rsa_sig[0]) {
        vs_error_subj(err, VS_E_VERIFY, subj, "no RSA signature in the bundle");
        vs_error_hint(err, "the policy needs one; --require gpg (or the source's require) "
                           "accepts the vendor's signature alone");
        return VS_E_VERIFY;
    }
    return VS_OK;
}

/* Into the cache through the one admission path (verified against the
 * local store); errors name the bundle's member, never the temporary
 * folder. */
static vs_status admit_fetch(vs_ctx *ctx, const char *bundle, const char *dir,
                             const vs_mirror_pkg *m, char *const u[4], const admit_policy *p,
                             vs_cache_entry **e, vs_error *err)
{
    vs_cache_fetch_opts fo = VS_CACHE_FETCH_OPTS_INIT;
    fo.fetch.retries = 0;
    fo.fetch.resume = 0;
    fo.url = u[0];
    fo.name = m->name;
    fo.version = m->version;
    fo.gpg_sig_url = u[1];
    fo.checksums_url = u[2];
    fo.rsa_sig_url = u[3];
    fo.require = p->require;
    fo.max_sig_age_days = p->age;
    fo.keys = p->nkeys ? p->keys : NULL;
    fo.nkeys = p->nkeys;
    vs_verdict *v = NULL;
    bool already = false;
    vs_status st = vs_cache_fetch(e, &already, &v, ctx, &fo, err);
    vs_verdict_free(v);
    if (st == VS_OK && already && err)
        vs_error_set_detail(err, VS_DETAIL_EXISTS); /* reported "already present" */
    if (st) {
        name_member(err, bundle, dir, m);
        /* every file is on this disk: a "download" failure is a file that
         * could not be read, not the network */
        if (st == VS_E_FETCH && err)
            err->status = VS_E_VERIFY;
        if (st == VS_E_FETCH)
            st = VS_E_VERIFY;
    }
    return st;
}

/* One package of the bundle: its URLs, its label, its policy, then the
 * cache. */
static vs_status admit_one(vs_ctx *ctx, const char *bundle, const char *dir, const vs_mirror_pkg *m,
                           const vs_mirror_import_opts *o, const vs_config *cfg, vs_cache_entry **e,
                           vs_error *err)
{
    char subj[VS_ERROR_SUBJECT_MAX];
    member(subj, sizeof subj, bundle, m->name, m->version, m->file);
    char *u[4];
    admit_policy pol;
    admit_policy_of(&pol, o, cfg, m->name);
    vs_status st = member_urls(u, dir, m, subj, err);
    if (!st)
        st = check_label(m, subj, err);
    if (!st)
        st = check_sigs_present(m, &pol, bundle, err);
    if (!st)
        st = admit_fetch(ctx, bundle, dir, m, u, &pol, e, err);
    for (int i = 0; i < 4; i++)
        free(u[i]);
    return st;
}

static vs_status make_tmp(vs_ctx *ctx, int *rootfd, char **dir, vs_error *err)
{
    vs_status st = vs_home_dir(ctx, VS_MIRROR_TMP, VS_BENEATH_CREATE, rootfd, err);
    if (st)
        return st;
    char *base = vs_path_join(ctx->home, VS_MIRROR_TMP);
    char *tmpl = base ? vs_path_join(base, "import-XXXXXX") : NULL;
    free(base);
    if (!tmpl) {
        close(*rootfd);
        return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    }
    if (!mkdtemp(tmpl)) {
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, tmpl, "cannot create the folder");
        free(tmpl);
        close(*rootfd);
        return st;
    }
    *dir = tmpl;
    return VS_OK;
}

/* The bundle as a regular file, open for reading. */
static vs_status import_open(const char *bundle, int *bfd, vs_error *err)
{
    *bfd = open(bundle, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (*bfd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, bundle, "cannot open the bundle");
    if (fstat(*bfd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(*bfd);
        *bfd = -1;
        return vs_error_subj(err, VS_E_USAGE, bundle, "not a regular file");
    }
    return VS_OK;
}

/* Extract the whole bundle into a fresh HOME/tmp/import-XXXXXX (*dir, below
 * *rootfd) and read its index, checked against what was extracted. */
static vs_status import_read(vs_ctx *ctx, reader *r, int bfd, int *rootfd, char **dir,
                             vs_mirror_pkg **pk, size_t *npk, vs_error *err)
{
    vs_status st = make_tmp(ctx, rootfd, dir, err);
    if (!st)
        st = vs_open_dir(AT_FDCWD, *dir, &r->tmpfd, err);
    if (!st)
        st = extract_all(r, bfd, err);
    if (!st) {
        uint8_t *idx = NULL;
        size_t len = 0;
        st = vs_read_file(r->tmpfd, VS_MIRROR_INDEX, VS_MAX_REF_FILE, &idx, &len, err);
        if (!st) {
            char what[512];
            snprintf(what, sizeof what, "%s: index.json", r->bundle);
            st = vs_mirror_index_parse(idx, len, what, pk, npk, err);
        }
        free(idx);
    }
    if (!st)
        st = match_index(r, *pk, *npk, err);
    return st;
}

/* Admit every package of the index, each reported through o->cb; the worst
 * status, err holding its first failure. */
static vs_status import_admit_all(vs_ctx *ctx, const vs_mirror_import_opts *o,
                                  const vs_config *cfg, const char *bundle, const char *dir,
                                  const vs_mirror_pkg *pk, size_t npk, size_t *good, size_t *bad,
                                  vs_error *err)
{
    vs_status worst = VS_OK;
    for (size_t i = 0; i < npk; i++) {
        vs_error ie = VS_ERROR_INIT;
        vs_cache_entry *e = NULL;
        vs_status s = admit_one(ctx, bundle, dir, &pk[i], o, cfg, &e, &ie);
        char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
        snprintf(ref, sizeof ref, "%s@%s", pk[i].name, pk[i].version);
        if (o->cb)
            o->cb(ref, s, s || ie.detail == VS_DETAIL_EXISTS ? &ie : NULL, s ? NULL : e,
                  o->payload);
        vs_cache_entry_free(e);
        if (s == VS_OK) {
            (*good)++;
            continue;
        }
        (*bad)++;
        if (vs_mirror_worse(worst, s) != worst) {
            worst = s;
            if (err)
                *err = ie;
        }
    }
    return worst;
}

/* Remove the temporary folder (and HOME/tmp when it is empty). */
static void import_cleanup(vs_ctx *ctx, int rootfd, const char *dir)
{
    if (dir) {
        vs_error ce = VS_ERROR_INIT;
        if (vs_remove_tree(rootfd, vs_basename(dir), &ce) != VS_OK)
            vs_log(ctx, VS_LOG_WARN, "%s", ce.message);
    }
    if (rootfd >= 0) {
        close(rootfd);
        unlinkat(ctx->home_fd, VS_MIRROR_TMP, AT_REMOVEDIR); /* only when empty */
    }
}

vs_status vs_mirror_import(size_t *nok, size_t *nfailed, vs_ctx *ctx, const char *bundle,
                           const vs_mirror_import_opts *opts, vs_error *err)
{
    vs_mirror_import_opts defaults = VS_MIRROR_IMPORT_OPTS_INIT;
    const vs_mirror_import_opts *o = opts ? opts : &defaults;
    if (nok)
        *nok = 0;
    if (nfailed)
        *nfailed = 0;
    if (VS_CHECK_OPTS(o, vs_mirror_import_opts, MIRROR_IMPORT_OPTS, err))
        return VS_E_USAGE;
    if (!ctx || !bundle || !*bundle)
        return vs_error_subj(err, VS_E_USAGE, "mirror import", "no bundle given");
    int bfd = -1;
    vs_status st = import_open(bundle, &bfd, err);
    if (st)
        return st;
    reader r;
    memset(&r, 0, sizeof r);
    r.bundle = bundle;
    r.tmpfd = -1;
    int rootfd = -1;
    char *dir = NULL;
    vs_mirror_pkg *pk = NULL;
    size_t npk = 0, good = 0, bad = 0;
    const vs_config *cfg = o->config;
    vs_config *owned = NULL;
    r.buf = malloc(VS_IO_BUFSIZE);
    st = r.buf ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, bundle, "out of memory");
    /* the sources' key bindings apply here as at fetch */
    if (!st && !cfg && !(st = vs_config_load(&owned, ctx, NULL, err)))
        cfg = owned;
    if (!st)
        st = import_read(ctx, &r, bfd, &rootfd, &dir, &pk, &npk, err);
    /* only now, with the whole bundle read and checked, does anything reach the cache */
    if (!st)
        st = import_admit_all(ctx, o, cfg, bundle, dir, pk, npk, &good, &bad, err);
    if (r.tmpfd >= 0)
        close(r.tmpfd);
    import_cleanup(ctx, rootfd, dir);
    free(dir);
    free(pk);
    vs_config_free(owned);
    free(r.folders);
    free(r.buf);
    close(bfd);
    if (nok)
        *nok = good;
    if (nfailed)
        *nfailed = bad;
    return st;
}
