/*
 * keys/rsastore.c - RSA keys in the store: one file per key,
 * HOME/trust/rsa/<64 hex>.pem, holding the bound scheme and the canonical
 * SubjectPublicKeyInfo as PEM:
 *
 *     scheme: pkcs1-sha256
 *     -----BEGIN PUBLIC KEY-----
 *     ...
 *     -----END PUBLIC KEY-----
 *
 * One file per key makes adding or removing a key a single rename or unlink.
 * Loading re-parses the key strictly and checks that its fingerprint is the
 * file's name, so a damaged or swapped file is noticed, never trusted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys_int.h"

#define RSA_DIR "trust/rsa"
#define SCHEME_PREFIX "scheme: "

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The file text for a key; malloc'd, NUL-terminated. */
char *vs_keys_rsa_file_text(vs_rsa_scheme scheme, const uint8_t *spki, size_t len, size_t *outlen)
{
    size_t b64 = (len + 2) / 3 * 4;
    size_t cap = 64 + b64 + b64 / 64 + 1 + 64;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    int n = snprintf(s, cap, SCHEME_PREFIX "%s\n-----BEGIN PUBLIC KEY-----\n",
                     vs_rsa_scheme_name(scheme));
    size_t o = (size_t)n, col = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t w = (uint32_t)spki[i] << 16;
        if (i + 1 < len)
            w |= (uint32_t)spki[i + 1] << 8;
        if (i + 2 < len)
            w |= spki[i + 2];
        char q[4] = { b64chars[w >> 18 & 63], b64chars[w >> 12 & 63],
                      i + 1 < len ? b64chars[w >> 6 & 63] : '=', i + 2 < len ? b64chars[w & 63] : '=' };
        for (int k = 0; k < 4; k++) {
            s[o++] = q[k];
            if (++col == 64) {
                s[o++] = '\n';
                col = 0;
            }
        }
    }
    if (col)
        s[o++] = '\n';
    n = snprintf(s + o, cap - o, "-----END PUBLIC KEY-----\n");
    o += (size_t)n;
    *outlen = o;
    return s;
}

/* Parse one stored file (text of len bytes) named `fname` (for messages). */
static vs_status parse_stored(const uint8_t *p, size_t len, const char *path, vs_rsa_key *k,
                              vs_error *err)
{
    const uint8_t *nl = memchr(p, '\n', len);
    size_t pl = strlen(SCHEME_PREFIX);
    if (!nl || (size_t)(nl - p) <= pl || memcmp(p, SCHEME_PREFIX, pl) != 0)
        return vs_error_subj(err, VS_E_INTEGRITY, path, "damaged key file (no scheme line)");
    char scheme[32];
    size_t sl = (size_t)(nl - p) - pl;
    if (sl >= sizeof scheme)
        return vs_error_subj(err, VS_E_INTEGRITY, path, "damaged key file (bad scheme)");
    memcpy(scheme, p + pl, sl);
    scheme[sl] = '\0';
    if (vs_rsa_scheme_parse(&k->scheme, scheme, NULL) != VS_OK)
        return vs_error_subj(err, VS_E_INTEGRITY, path, "damaged key file (unknown scheme)");
    size_t off = (size_t)(nl - p) + 1;
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = vs_rsa_pubkey_parse(p + off, len - off, path, &k->pub, &k->bits,
                                       k->fingerprint, NULL, NULL, &e2);
    if (st)
        return vs_error_subj(err, VS_E_INTEGRITY, path, "damaged key file (%s)", e2.message);
    /* the name must be the fingerprint */
    const char *base = vs_basename(path);
    if (strlen(base) != 68 || memcmp(base, k->fingerprint + 7, 64) != 0 ||
        strcmp(base + 64, ".pem") != 0) {
        gcry_sexp_release(k->pub);
        k->pub = NULL;
        return vs_error_subj(err, VS_E_INTEGRITY, path,
                            "damaged key file (holds key %s, not the one in its name)",
                            k->fingerprint);
    }
    return VS_OK;
}

static bool is_key_name(const char *n)
{
    if (strlen(n) != 68 || strcmp(n + 64, ".pem") != 0)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return false;
    return true;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const vs_rsa_key *)a)->fingerprint, ((const vs_rsa_key *)b)->fingerprint);
}

vs_status vs_keys_rsa_load_one(vs_ctx *ctx, const char *hex64, vs_rsa_key *k, vs_error *err)
{
    memset(k, 0, sizeof *k);
    char rel[128];
    snprintf(rel, sizeof rel, RSA_DIR "/%.64s.pem", hex64);
    char *path = vs_path_join(ctx->home, rel);
    if (!path)
        return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd;
    vs_error oe = VS_ERROR_INIT;
    vs_status st = vs_home_open(ctx, rel, O_RDONLY | O_NONBLOCK, 0, &fd, &oe);
    if (st == VS_E_USAGE && oe.detail == VS_DETAIL_NOT_FOUND)
    {
        char subj[80];
        snprintf(subj, sizeof subj, "sha256:%.64s", hex64);
        st = vs_error_subj(err, VS_E_USAGE, subj, "no such key in the store");
    }
    else if (st && err)
        *err = oe;
    if (st == VS_OK) {
        st = vs_read_fd(fd, path, VS_MAX_KEY_FILE, &buf, &len, err);
        close(fd);
    }
    if (st == VS_OK)
        st = parse_stored(buf, len, path, k, err);
    free(buf);
    free(path);
    return st;
}

vs_status vs_keys_rsa_load_all(vs_ctx *ctx, vs_rsa_key **out, size_t *n, vs_error *err)
{
    *out = NULL;
    *n = 0;
    vs_status st0 = vs_keys_settle(ctx, err);
    if (st0)
        return st0;
    int dfd;
    vs_error oe = VS_ERROR_INIT;
    vs_status ost = vs_home_dir(ctx, RSA_DIR, 0, &dfd, &oe);
    if (ost == VS_E_USAGE && oe.detail == VS_DETAIL_NOT_FOUND)
        return VS_OK; /* empty store */
    if (ost) {
        if (err)
            *err = oe;
        return ost;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        int e = errno;
        close(dfd);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, ctx->home, RSA_DIR);
    }
    vs_rsa_key *keys = NULL;
    size_t nk = 0, cap = 0;
    vs_status st = VS_OK;
    struct dirent *de;
    while (st == VS_OK && (de = readdir(d)) != NULL) {
        if (!is_key_name(de->d_name))
            continue; /* temporary files, the lock */
        if (nk == cap) {
            size_t nc = cap ? cap * 2 : 8;
            vs_rsa_key *nkeys = realloc(keys, nc * sizeof *keys);
            if (!nkeys) {
                st = vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
                break;
            }
            keys = nkeys;
            cap = nc;
        }
        st = vs_keys_rsa_load_one(ctx, de->d_name, &keys[nk], err);
        if (st == VS_OK)
            nk++;
    }
    closedir(d);
    if (st) {
        vs_rsa_keys_free(keys, nk);
        return st;
    }
    if (nk > 1)
        qsort(keys, nk, sizeof *keys, cmp_key);
    *out = keys;
    *n = nk;
    return VS_OK;
}

void vs_rsa_keys_free(vs_rsa_key *keys, size_t n)
{
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        gcry_sexp_release(keys[i].pub);
    free(keys);
}
