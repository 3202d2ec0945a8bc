/* mirror/copy.c - a cached object copied out to a file below a directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror/mirror_int.h"

vs_status vs_mirror_copy_object(vs_ctx *ctx, const char *sha256hex, int dirfd, const char *name,
                                vs_error *err)
{
    char *path = vs_cache_object_path(ctx, sha256hex);
    if (!path)
        return vs_error_subj(err, VS_E_INTERNAL, sha256hex, "out of memory");
    int fd;
    vs_status ost = vs_cache_open_object(&fd, ctx, sha256hex, err);
    if (ost) {
        free(path);
        return ost;
    }
    uint8_t *buf = malloc(VS_IO_BUFSIZE);
    vs_tmpfile t;
    memset(&t, 0, sizeof t);
    t.fd = -1;
    vs_sha256 h;
    memset(&h, 0, sizeof h);
    vs_status st = buf ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    if (!st)
        st = vs_tmpfile_open(&t, dirfd, 0644, false, err);
    if (!st)
        st = vs_sha256_init(&h, err);
    while (!st) {
        ssize_t r = read(fd, buf, VS_IO_BUFSIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, path, "%s", "");
            break;
        }
        if (r == 0)
            break;
        vs_sha256_update(&h, buf, (size_t)r);
        st = vs_tmpfile_write(&t, buf, (size_t)r, err);
    }
    if (!st) {
        uint8_t d[VS_SHA256_LEN];
        char hex[VS_SHA256_HEX];
        vs_sha256_final(&h, d);
        vs_hex(hex, d, sizeof d);
        if (strcmp(hex, sha256hex) != 0)
            st = vs_error_subj(err, VS_E_INTEGRITY, path, "cache object altered");
        else
            st = vs_tmpfile_commit(&t, name, NULL, err);
    } else {
        vs_sha256_abort(&h);
    }
    if (st)
        vs_tmpfile_abort(&t);
    close(fd);
    free(buf);
    free(path);
    return st;
}
