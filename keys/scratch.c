/*
 * keys/scratch.c - scratch GnuPG homes inside HOME/trust (tmp-XXXX).
 *
 * An import works in two: an empty one where the files are imported to learn
 * which keys they hold, and a copy of the store's keyring that receives
 * exactly the keys chosen and then replaces the store's keyring. Both exist
 * only while the import holds the store lock; any found later were left by a
 * process that died and are removed (gnupg.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys_int.h"

/* Copy a small store file into the scratch home (missing source is fine). */
static vs_status copy_file(int sfd, int dfd, const char *name, const char *subject,
                           vs_error *err)
{
    int in = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return errno == ENOENT ? VS_OK
                               : vs_error_subj_errno(err, VS_E_INTERNAL, errno, subject, "open");
    int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, subject, "scratch copy");
    }
    static const size_t bufsz = 64 * 1024;
    uint8_t *buf = malloc(bufsz);
    vs_status st = buf ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, subject, "out of memory");
    while (st == VS_OK) {
        ssize_t r = read(in, buf, bufsz);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, subject, "read");
        if (r <= 0)
            break;
        if (vs_write_all(out, buf, (size_t)r) != 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, subject, "scratch copy: write");
    }
    free(buf);
    close(in);
    if (close(out) != 0 && st == VS_OK)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, subject, "scratch copy: close");
    return st;
}

void vs_keys_scratch_close(vs_ctx *ctx, vs_keys_scratch *s)
{
    if (s->g)
        gpgme_release(s->g);
    s->g = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->name[0]) {
        int tfd;
        if (vs_home_dir(ctx, "trust", 0, &tfd, NULL) == VS_OK) {
            vs_remove_tree(tfd, s->name, NULL);
            close(tfd);
        }
    }
    s->name[0] = '\0';
    free(s->path);
    s->path = NULL;
}

/* mkdir HOME/trust/tmp-<random>; s->name set on success. */
static vs_status make_dir(vs_ctx *ctx, int tfd, vs_keys_scratch *s, vs_error *err)
{
    for (int tries = 0; tries < 16; tries++) {
        uint8_t rnd[6];
        char hex[13];
        gcry_create_nonce(rnd, sizeof rnd);
        vs_hex(hex, rnd, sizeof rnd);
        snprintf(s->name, sizeof s->name, "tmp-%s", hex);
        if (mkdirat(tfd, s->name, 0700) == 0)
            return VS_OK;
        s->name[0] = '\0';
        if (errno != EEXIST)
            return vs_error_subj_errno(err, VS_E_INTERNAL, errno, ctx->home,
                                       "trust: cannot create a scratch directory");
    }
    return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "trust: cannot create a scratch directory");
}

static vs_status copy_store(vs_ctx *ctx, vs_keys_scratch *s, vs_error *err)
{
    int gfd;
    vs_status st = vs_home_dir(ctx, "trust/gnupg", 0, &gfd, err);
    if (st)
        return st;
    static const char *const files[] = { "gpg.conf", "pubring.kbx", "trustdb.gpg" };
    for (size_t i = 0; st == VS_OK && i < sizeof files / sizeof files[0]; i++)
        st = copy_file(gfd, s->fd, files[i], "trust/gnupg", err);
    close(gfd);
    return st;
}

vs_status vs_keys_scratch_open(vs_ctx *ctx, vs_keys_scratch *s, bool copy, vs_error *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    int tfd;
    vs_status st = vs_home_dir(ctx, "trust", 0, &tfd, err);
    if (st)
        return st;
    st = make_dir(ctx, tfd, s, err);
    if (st == VS_OK)
        st = vs_open_dir(tfd, s->name, &s->fd, err);
    close(tfd);
    if (st == VS_OK && copy)
        st = copy_store(ctx, s, err);
    if (st == VS_OK) {
        char rel[80];
        snprintf(rel, sizeof rel, "trust/%s", s->name);
        s->path = vs_path_join(ctx->home, rel);
        if (!s->path)
            st = vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    }
    if (st == VS_OK)
        st = vs_keys_gnupg_prepare(s->path, s->fd, err);
    if (st == VS_OK)
        st = vs_keys_gpgme_open_home(s->path, &s->g, err);
    if (st)
        vs_keys_scratch_close(ctx, s);
    return st;
}
