/* stage/layout_digest.c - the layout digest: one SHA-256 over a staged tree's
 * .vetstage/MANIFEST.sha256, MODES and provenance.json (see stage.h for the
 * exact definition). libc + libgcrypt + common/{error,hash}.c only: the
 * static vetstage-check links it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/stage_int.h"

/* The three files, in the order they are listed, with their size limits. */
static const struct {
    const char *name;
    uint64_t max;
} meta_files[] = {
    { VS_META_MANIFEST, VS_MAX_MANIFEST_FILE },
    { VS_META_MODES, VS_MAX_MODES_FILE },
    { VS_META_PROVENANCE, VS_MAX_REF_FILE },
};

/* DIR itself when it holds .vetstage/MANIFEST.sha256 (flat, or a
 * versions/VERSION tree), else the tree DIR/current points at
 * (versions/VERSION, nothing else). */
static vs_status open_tree(const char *dir, int *out, vs_error *err)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, dir, "cannot open the layout");
    struct stat sb;
    if (fstatat(dfd, VS_META_DIR, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        *out = dfd;
        return VS_OK;
    }
    char target[VS_MAX_VERSION + 32];
    ssize_t r = readlinkat(dfd, "current", target, sizeof target - 1);
    if (r < 0) {
        int e = errno;
        close(dfd);
        if (e == ENOENT || e == EINVAL)
            return vs_error_subj(err, VS_E_USAGE, dir,
                                 "not a layout (no .vetstage and no current)");
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, dir, "read current");
    }
    target[r] = '\0';
    if ((size_t)r >= sizeof target - 1 || strncmp(target, "versions/", 9) != 0 ||
        !vs_valid_version(target + 9)) {
        close(dfd);
        return vs_error_subj(err, VS_E_INTEGRITY, dir,
                             "current does not point at versions/VERSION");
    }
    int vfd = openat(dfd, "versions", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int tfd = vfd < 0 ? -1
                      : openat(vfd, target + 9, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    if (vfd >= 0)
        close(vfd);
    close(dfd);
    if (tfd < 0)
        return vs_error_subj_errno(err, VS_E_INTEGRITY, e, dir, "current: %s", target);
    *out = tfd;
    return VS_OK;
}

/* sha256 of one metadata file: a regular file (not followed through a
 * symlink) of at most `max` bytes. */
static vs_status hash_meta(int mfd, const char *dir, const char *name, uint64_t max,
                           uint8_t d[VS_SHA256_LEN], vs_error *err)
{
    char subj[4200];
    snprintf(subj, sizeof subj, "%s/%s/%s", dir, VS_META_DIR, name);
    int fd = openat(mfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return vs_error_subj_errno(err, VS_E_INTEGRITY, errno, subj, "layout metadata missing");
    struct stat sb;
    vs_status st = VS_OK;
    if (fstat(fd, &sb) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, subj, "stat");
    else if (!S_ISREG(sb.st_mode))
        st = vs_error_subj(err, VS_E_INTEGRITY, subj, "layout metadata is not a regular file");
    else if ((uint64_t)sb.st_size > max)
        st = vs_error_subj(err, VS_E_INTEGRITY, subj, "larger than the limit of %llu bytes",
                           (unsigned long long)max);
    uint64_t size = 0;
    if (st == VS_OK)
        st = vs_sha256_fd(fd, subj, d, &size, err);
    if (st == VS_OK && size > max)
        st = vs_error_subj(err, VS_E_INTEGRITY, subj, "larger than the limit of %llu bytes",
                           (unsigned long long)max);
    close(fd);
    return st;
}

/* The digest from the three files' SHA-256: that of the listing
 * `sha256sum MANIFEST.sha256 MODES provenance.json` prints. */
static vs_status from_digests(char hex[VS_LAYOUT_DIGEST_HEX], uint8_t d[3][VS_SHA256_LEN],
                              vs_error *err)
{
    char listing[3 * (2 * VS_SHA256_LEN + 2 + 32)];
    size_t used = 0;
    for (size_t i = 0; i < 3; i++) {
        char h[VS_SHA256_HEX];
        vs_hex(h, d[i], VS_SHA256_LEN);
        int n = snprintf(listing + used, sizeof listing - used, "%s  %s\n", h,
                         meta_files[i].name);
        if (n < 0 || (size_t)n >= sizeof listing - used)
            return vs_error_subj(err, VS_E_INTERNAL, "layout digest", "listing too long");
        used += (size_t)n;
    }
    vs_sha256 h;
    vs_status st = vs_sha256_init(&h, err);
    if (st)
        return st;
    vs_sha256_update(&h, listing, used);
    uint8_t out[VS_SHA256_LEN];
    vs_sha256_final(&h, out);
    vs_hex(hex, out, sizeof out);
    return VS_OK;
}

VS_EXTERN vs_status vs_layout_digest(char hex[VS_LAYOUT_DIGEST_HEX], const char *dir, vs_error *err)
{
    if (hex)
        hex[0] = '\0';
    if (!dir || !*dir || !hex)
        return vs_error_subj(err, VS_E_USAGE, "layout digest", "no directory given");
    vs_status st = vs_gcrypt_init(err);
    if (st)
        return st;
    int tfd = -1;
    st = open_tree(dir, &tfd, err);
    if (st)
        return st;
    st = vs_layout_digest_at(hex, tfd, dir, err);
    close(tfd);
    return st;
}

vs_status vs_layout_open_tree(const char *dir, int *tfd, vs_error *err)
{
    *tfd = -1;
    vs_status st = vs_gcrypt_init(err);
    return st ? st : open_tree(dir, tfd, err);
}

vs_status vs_layout_digest_at(char hex[VS_LAYOUT_DIGEST_HEX], int tfd, const char *dir,
                              vs_error *err)
{
    hex[0] = '\0';
    int mfd = openat(tfd, VS_META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (mfd < 0)
        return vs_error_subj_errno(err, VS_E_INTEGRITY, errno, dir, "%s", VS_META_DIR);
    uint8_t d[3][VS_SHA256_LEN];
    vs_status st = VS_OK;
    for (size_t i = 0; st == VS_OK && i < 3; i++)
        st = hash_meta(mfd, dir, meta_files[i].name, meta_files[i].max, d[i], err);
    close(mfd);
    return st ? st : from_digests(hex, d, err);
}

vs_status vs_layout_digest_texts(char hex[VS_LAYOUT_DIGEST_HEX], const char *const text[3],
                                 const size_t len[3], vs_error *err)
{
    hex[0] = '\0';
    uint8_t d[3][VS_SHA256_LEN];
    for (size_t i = 0; i < 3; i++) {
        vs_sha256 h;
        vs_status st = vs_sha256_init(&h, err);
        if (st)
            return st;
        vs_sha256_update(&h, text[i], len[i]);
        vs_sha256_final(&h, d[i]);
    }
    return from_digests(hex, d, err);
}

VS_EXTERN bool vs_layout_digest_valid(const char *hex)
{
    if (!hex || strlen(hex) != 2 * VS_SHA256_LEN)
        return false;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            return false;
    return true;
}
