/*
 * keys/keylist.c - what the store holds: key information, list and remove.
 * Import is keys/import.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys_int.h"

/* ---- key information ------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Length of the valid UTF-8 sequence at p (0 if invalid). */
static size_t utf8_seq(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && p[0] < 0xc2) || (n == 4 && p[0] > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* A user id comes from the key's owner: no control characters (terminal
 * escapes) and valid UTF-8 (JSON), anything else becomes '?'. */
static void sanitise_uid(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

void vs_keys_info_from_gpgme(gpgme_key_t k, vs_key_info *ki)
{
    memset(ki, 0, sizeof *ki);
    ki->type = VS_KEY_OPENPGP;
    copy_str(ki->fingerprint, sizeof ki->fingerprint, k->fpr);
    if (k->uids) {
        copy_str(ki->uid, sizeof ki->uid, k->uids->uid);
        /* truncation may have cut a multi-byte character: sanitising fixes it */
        sanitise_uid(ki->uid);
    }
    ki->revoked = k->revoked;
    ki->expired = k->expired;
    gpgme_subkey_t sk = k->subkeys;
    if (sk) {
        ki->bits = sk->length;
        ki->created = sk->timestamp > 0 ? sk->timestamp : 0;
        ki->expires = sk->expires > 0 ? sk->expires : 0;
        char *a = gpgme_pubkey_algo_string(sk);
        if (a) {
            /* "rsa3072" -> "rsa"; curve names ("ed25519") stay whole */
            size_t l = strlen(a);
            if (!strncmp(a, "rsa", 3) || !strncmp(a, "dsa", 3) || !strncmp(a, "elg", 3))
                while (l > 3 && isdigit((unsigned char)a[l - 1]))
                    l--;
            snprintf(ki->algorithm, sizeof ki->algorithm, "%.*s", (int)l, a);
            gpgme_free(a);
        }
    }
}

void vs_keys_info_from_rsa(const char *fpr, unsigned bits, vs_rsa_scheme scheme, vs_key_info *ki)
{
    memset(ki, 0, sizeof *ki);
    ki->type = VS_KEY_RSA;
    copy_str(ki->fingerprint, sizeof ki->fingerprint, fpr);
    copy_str(ki->algorithm, sizeof ki->algorithm, "rsa");
    ki->bits = bits;
    ki->scheme = scheme;
}

vs_key_info *vs_key_infos_add(vs_key_infos *a)
{
    void *grown = vs_grow(a->v, &a->cap, a->n, sizeof *a->v, 8);
    if (!grown)
        return NULL;
    a->v = grown;
    memset(&a->v[a->n], 0, sizeof a->v[0]);
    return &a->v[a->n++];
}

void vs_key_info_free(vs_key_info *keys)
{
    free(keys);
}

const char *vs_key_status_name(vs_key_status status)
{
    switch (status) {
    case VS_KEY_IMPORTED:
        return "imported";
    case VS_KEY_PRESENT:
        return "already present";
    case VS_KEY_UPDATED:
        return "updated";
    case VS_KEY_REVOKED_NOW:
        return "revoked";
    case VS_KEY_SKIPPED:
        return "skipped";
    }
    return "?";
}

/* ---- list ----------------------------------------------------------------- */

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const vs_key_info *)a)->fingerprint, ((const vs_key_info *)b)->fingerprint);
}

vs_status vs_keys_gpg_each(vs_ctx *ctx, vs_keys_gpg_fn fn, void *ud, vs_error *err)
{
    gpgme_ctx_t g;
    vs_status st = vs_keys_gpgme_open(ctx, &g, err);
    if (st)
        return st;
    gpgme_error_t ge = gpgme_op_keylist_start(g, NULL, 0);
    gpgme_key_t k;
    while (!ge && !(ge = gpgme_op_keylist_next(g, &k))) {
        /* every key gpg lists has a v4 fingerprint; one without is no key
         * (a gpg that answers its version and then garbage) */
        char fpr[VS_FPR_MAX];
        const char *kf = k->fpr ? k->fpr : k->subkeys ? k->subkeys->fpr : NULL;
        if (!kf || strlen(kf) != 40 || vs_keys_fpr_normalise(kf, fpr) != VS_KEY_OPENPGP) {
            gpgme_key_unref(k);
            st = vs_error_subj(err, VS_E_INTERNAL, "trust/gnupg",
                               "gpg listed a key without a valid fingerprint");
            vs_error_hint(err, "check which gpg runs (gpgconf --list-components)");
            break;
        }
        bool ok = fn(k, ud);
        gpgme_key_unref(k);
        if (!ok) {
            st = vs_error_subj(err, VS_E_INTERNAL, "trust", "out of memory");
            break;
        }
    }
    gpgme_op_keylist_end(g);
    gpgme_release(g);
    if (st == VS_OK && gpgme_err_code(ge) != GPG_ERR_EOF)
        st = vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, "trust/gnupg", "listing keys");
    return st;
}

static bool add_info(gpgme_key_t k, void *ud)
{
    vs_key_info *ki = vs_key_infos_add(ud);
    if (ki)
        vs_keys_info_from_gpgme(k, ki);
    return ki != NULL;
}

vs_status vs_keys_list_now(vs_key_info **out, size_t *nout, vs_ctx *ctx, vs_error *err)
{
    *out = NULL;
    *nout = 0;
    vs_key_infos res = { 0 };
    vs_status st = vs_keys_gpg_each(ctx, add_info, &res, err);
    size_t npgp = res.n;
    vs_rsa_key *rk = NULL;
    size_t nr = 0;
    if (st == VS_OK)
        st = vs_keys_rsa_load_all(ctx, &rk, &nr, err);
    for (size_t i = 0; st == VS_OK && i < nr; i++) {
        vs_key_info *ki = vs_key_infos_add(&res);
        if (!ki)
            st = vs_error_subj(err, VS_E_INTERNAL, "trust", "out of memory");
        else
            vs_keys_info_from_rsa(rk[i].fingerprint, rk[i].bits, rk[i].scheme, ki);
    }
    vs_rsa_keys_free(rk, nr);
    if (st) {
        free(res.v);
        return st;
    }
    if (npgp > 1)
        qsort(res.v, npgp, sizeof *res.v, cmp_info);
    *out = res.v;
    *nout = res.n;
    return VS_OK;
}

/* The context's list (one gpg run per context while the store's files are
 * unchanged: keys/trust.c), as a copy the caller owns. */
vs_status vs_keys_list(vs_key_info **out, size_t *nout, vs_ctx *ctx, vs_error *err)
{
    *out = NULL;
    *nout = 0;
    const vs_key_info *keys = NULL;
    size_t n = 0;
    vs_status st = vs_trust_key_infos(&keys, &n, ctx, err);
    if (st)
        return st;
    vs_key_info *copy = calloc(n ? n : 1, sizeof *copy);
    if (!copy)
        return vs_error_subj(err, VS_E_INTERNAL, "trust", "out of memory");
    if (n)
        memcpy(copy, keys, n * sizeof *copy);
    *out = copy;
    *nout = n;
    return VS_OK;
}

/* ---- remove ----------------------------------------------------------------- */

static vs_status remove_rsa(vs_ctx *ctx, const char *fpr, vs_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "%s.pem", fpr + 7);
    int dfd;
    vs_error oe = VS_ERROR_INIT;
    vs_status st = vs_home_dir(ctx, "trust/rsa", 0, &dfd, &oe);
    if (st == VS_E_USAGE && oe.detail == VS_DETAIL_NOT_FOUND)
        return vs_error_subj(err, VS_E_USAGE, fpr, "no such key in the store");
    if (st) {
        if (err)
            *err = oe;
        return st;
    }
    struct stat sb;
    if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
        st = vs_error_subj(err, VS_E_USAGE, fpr, "no such key in the store");
    else if (unlinkat(dfd, name, 0) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, "trust/rsa", "remove %s", name);
    else
        st = vs_fsync_dir(dfd, "trust/rsa", err);
    close(dfd);
    return st;
}

static vs_status remove_pgp(vs_ctx *ctx, const char *fpr, vs_error *err)
{
    vs_status st = vs_keys_store_prepare(ctx, err);
    if (st)
        return st;
    char *home = vs_keys_gnupg_home(ctx);
    if (!home)
        return vs_error_subj(err, VS_E_INTERNAL, "trust", "out of memory");
    gpgme_ctx_t g;
    st = vs_keys_gpgme_open_home(home, &g, err);
    free(home);
    if (st)
        return st;
    gpgme_key_t key = NULL;
    gpgme_error_t ge = gpgme_get_key(g, fpr, &key, 0);
    /* a subkey fingerprint finds its primary key: only the primary's counts */
    if (ge || !key || !key->fpr || strcasecmp(key->fpr, fpr) != 0) {
        st = vs_error_subj(err, VS_E_USAGE, fpr, "no such key in the store");
    } else {
        ge = gpgme_op_delete_ext(g, key, GPGME_DELETE_FORCE);
        if (ge)
            st = vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, fpr, "removing it");
    }
    if (key)
        gpgme_key_unref(key);
    gpgme_release(g);
    return st;
}

vs_status vs_keys_remove(vs_ctx *ctx, const char *fingerprint, vs_error *err)
{
    char fpr[VS_FPR_MAX];
    vs_key_type t = 0;
    vs_status st = vs_keys_fpr_parse(fingerprint, "keys remove", fpr, &t, err);
    if (st)
        return st;
    int lock;
    st = vs_keys_lock(ctx, &lock, err);
    if (st)
        return st;
    st = t == VS_KEY_RSA ? remove_rsa(ctx, fpr, err) : remove_pgp(ctx, fpr, err);
    vs_keys_unlock(lock);
    vs_trust_forget(ctx); /* this context's verifies see the store as it is now */
    if (st == VS_OK)
        vs_trust_keystate_refresh(ctx); /* stage asks it, not gpg, until the next change */
    return st;
}
