/*
 * keys/store.c - import, list and remove, all or nothing.
 *
 * An import is checked completely before the store changes: every file is
 * read and classified first (RSA keys parsed strictly, OpenPGP files walked
 * packet by packet so secret keys and garbage never reach gpg), then the
 * OpenPGP files are imported into a scratch copy of the GnuPG home
 * (HOME/trust/tmp-XXXX) where gpg's verdict on each is read back. Only when
 * every file passed are the new RSA files renamed into HOME/trust/rsa and the
 * scratch keyring renamed over the store's. All of it under HOME/trust/lock.
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

/* ---- fingerprints --------------------------------------------------------- */

/*
 * Normalise a fingerprint given by a user: 40 hex (OpenPGP, upper-cased) or
 * "sha256:" + 64 hex (RSA, lower-cased). Returns the type, or 0 if neither.
 */
static vs_key_type fpr_normalise(const char *in, char out[VS_FPR_MAX])
{
    size_t n = in ? strlen(in) : 0;
    if (n == 40) {
        for (size_t i = 0; i < 40; i++) {
            if (!isxdigit((unsigned char)in[i]))
                return 0;
            out[i] = (char)toupper((unsigned char)in[i]);
        }
        out[40] = '\0';
        return VS_KEY_OPENPGP;
    }
    if (n == 71 && strncasecmp(in, "sha256:", 7) == 0) {
        memcpy(out, "sha256:", 7);
        for (size_t i = 7; i < 71; i++) {
            if (!isxdigit((unsigned char)in[i]))
                return 0;
            out[i] = (char)tolower((unsigned char)in[i]);
        }
        out[71] = '\0';
        return VS_KEY_RSA;
    }
    return 0;
}

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

static void info_from_gpgme(gpgme_key_t k, vs_key_info *ki)
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

static void info_from_rsa(const char *fpr, unsigned bits, vs_rsa_scheme scheme, vs_key_info *ki)
{
    memset(ki, 0, sizeof *ki);
    ki->type = VS_KEY_RSA;
    copy_str(ki->fingerprint, sizeof ki->fingerprint, fpr);
    copy_str(ki->algorithm, sizeof ki->algorithm, "rsa");
    ki->bits = bits;
    ki->scheme = scheme;
}

typedef struct infos {
    vs_key_info *v;
    size_t n, cap;
} infos;

static vs_key_info *infos_add(infos *a)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 8;
        vs_key_info *nv = realloc(a->v, nc * sizeof *nv);
        if (!nv)
            return NULL;
        a->v = nv;
        a->cap = nc;
    }
    return &a->v[a->n++];
}

void vs_key_info_free(vs_key_info *keys)
{
    free(keys);
}

/* ---- import ----------------------------------------------------------------- */

typedef struct item {
    const char *path;
    bool pgp;
    uint8_t *data;
    size_t len;
    /* RSA */
    char fpr[VS_FPR_MAX];
    unsigned bits;
    uint8_t *spki;
    size_t spki_len;
    bool present; /* already in the store (or earlier in this import) */
    vs_tmpfile tf;
    bool staged, renamed;
    /* OpenPGP */
    vs_pgp_scan scan;
} item;

static bool has_line_prefix(const uint8_t *p, size_t len, const char *pre)
{
    size_t k = strlen(pre);
    for (size_t i = 0; i + k <= len; i++) {
        if ((i == 0 || p[i - 1] == '\n') && memcmp(p + i, pre, k) == 0)
            return true;
        const uint8_t *nl = memchr(p + i, '\n', len - i);
        if (!nl)
            break;
        i = (size_t)(nl - p); /* loop adds one: next line start */
    }
    return false;
}

static bool text_starts(const uint8_t *p, size_t len, const char *s)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    size_t k = strlen(s);
    return len - i >= k && memcmp(p + i, s, k) == 0;
}

/* Read and classify one file; nothing in the store is looked at yet. */
static vs_status classify(item *it, const vs_keys_import_opts *o, const char *expect,
                          vs_error *err)
{
    vs_status st = vs_read_file(AT_FDCWD, it->path, VS_MAX_KEY_FILE, &it->data, &it->len, err);
    if (st)
        return st;
    const uint8_t *p = it->data;
    size_t len = it->len;
    if (len == 0)
        return vs_error_set(err, VS_E_USAGE, "%s: not a public key (empty file)", it->path);
    if (has_line_prefix(p, len, "-----BEGIN PGP ")) {
        it->pgp = true;
        return vs_keys_pgp_scan(p, len, it->path, true, &it->scan, err);
    }
    if (text_starts(p, len, "-----BEGIN PUBLIC KEY-----") ||
        text_starts(p, len, "-----BEGIN RSA PUBLIC KEY-----") || p[0] == 0x30) {
        gcry_sexp_t pub = NULL;
        st = vs_rsa_pubkey_parse(p, len, it->path, &pub, &it->bits, it->fpr, &it->spki,
                                 &it->spki_len, err);
        gcry_sexp_release(pub);
        if (st)
            return st;
        if (expect && strcmp(expect, it->fpr) != 0)
            return vs_error_set(err, VS_E_VERIFY, "%s: key %s is not the expected %s", it->path,
                                it->fpr, expect);
        (void)o;
        return VS_OK;
    }
    if (text_starts(p, len, "-----BEGIN ")) {
        if (has_line_prefix(p, len, "-----BEGIN PRIVATE KEY") ||
            has_line_prefix(p, len, "-----BEGIN RSA PRIVATE KEY") ||
            has_line_prefix(p, len, "-----BEGIN ENCRYPTED PRIVATE KEY"))
            return vs_error_set(err, VS_E_USAGE, "%s: holds a private key; refusing it", it->path);
        return vs_error_set(err, VS_E_USAGE, "%s: not a public key (unsupported PEM label)",
                            it->path);
    }
    if (p[0] & 0x80) {
        it->pgp = true;
        return vs_keys_pgp_scan(p, len, it->path, false, &it->scan, err);
    }
    return vs_error_set(err, VS_E_USAGE,
                        "%s: not a public key (neither OpenPGP nor an RSA PEM or DER key)",
                        it->path);
}

/* Copy a small store file into the scratch home (missing source is fine). */
static vs_status copy_file(int sfd, int dfd, const char *name, const char *what, vs_error *err)
{
    int in = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) {
        if (errno == ENOENT)
            return VS_OK;
        return vs_error_errno(err, VS_E_INTERNAL, errno, "%s/%s", what, name);
    }
    int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        return vs_error_errno(err, VS_E_INTERNAL, e, "scratch copy of %s", name);
    }
    static const size_t bufsz = 64 * 1024;
    uint8_t *buf = malloc(bufsz);
    vs_status st = buf ? VS_OK : vs_error_set(err, VS_E_INTERNAL, "out of memory");
    while (st == VS_OK) {
        ssize_t r = read(in, buf, bufsz);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/%s: read", what, name);
            break;
        }
        if (r == 0)
            break;
        if (vs_write_all(out, buf, (size_t)r) != 0)
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "scratch copy of %s: write", name);
    }
    free(buf);
    close(in);
    if (close(out) != 0 && st == VS_OK)
        st = vs_error_errno(err, VS_E_INTERNAL, errno, "scratch copy of %s: close", name);
    return st;
}

typedef struct scratch {
    char name[64];  /* tmp-XXXX inside HOME/trust */
    char *path;     /* absolute */
    int fd;
    gpgme_ctx_t g;
} scratch;

static void scratch_close(vs_ctx *ctx, scratch *s)
{
    if (s->g)
        gpgme_release(s->g);
    s->g = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->name[0]) {
        int tfd;
        if (vs_open_dir(ctx->home_fd, "trust", &tfd, NULL) == VS_OK) {
            vs_remove_tree(tfd, s->name, NULL);
            close(tfd);
        }
    }
    s->name[0] = '\0';
    free(s->path);
    s->path = NULL;
}

static vs_status scratch_open(vs_ctx *ctx, scratch *s, vs_error *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    int tfd, gfd;
    vs_status st = vs_open_dir(ctx->home_fd, "trust", &tfd, err);
    if (st)
        return st;
    for (int tries = 0; tries < 16; tries++) {
        uint8_t rnd[6];
        char hex[13];
        gcry_create_nonce(rnd, sizeof rnd);
        vs_hex(hex, rnd, sizeof rnd);
        snprintf(s->name, sizeof s->name, "tmp-%s", hex);
        if (mkdirat(tfd, s->name, 0700) == 0)
            break;
        if (errno != EEXIST) {
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/trust/%s: mkdir", ctx->home,
                                s->name);
            s->name[0] = '\0';
            break;
        }
        s->name[0] = '\0';
    }
    if (st == VS_OK && !s->name[0])
        st = vs_error_set(err, VS_E_INTERNAL, "%s/trust: cannot create a scratch directory",
                          ctx->home);
    if (st) {
        close(tfd);
        return st;
    }
    st = vs_open_dir(tfd, s->name, &s->fd, err);
    close(tfd);
    if (st == VS_OK)
        st = vs_open_dir(ctx->home_fd, "trust/gnupg", &gfd, err);
    else
        gfd = -1;
    static const char *const files[] = { "gpg.conf", "pubring.kbx", "trustdb.gpg" };
    for (size_t i = 0; st == VS_OK && i < sizeof files / sizeof files[0]; i++)
        st = copy_file(gfd, s->fd, files[i], "trust/gnupg", err);
    if (gfd >= 0)
        close(gfd);
    if (st == VS_OK) {
        char rel[80];
        snprintf(rel, sizeof rel, "trust/%s", s->name);
        s->path = vs_path_join(ctx->home, rel);
        if (!s->path)
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    if (st == VS_OK)
        st = vs_keys_gnupg_prepare(s->path, s->fd, err);
    if (st == VS_OK)
        st = vs_keys_gpgme_open_home(s->path, &s->g, err);
    if (st)
        scratch_close(ctx, s);
    return st;
}

/* The same floor as for RSA keys: an OpenPGP primary key or signing subkey
 * of a finite-field algorithm (RSA, DSA, ElGamal) below VS_MIN_RSA_BITS. */
static vs_status weak_pgp_key(gpgme_key_t key, const char *path, vs_error *err)
{
    for (gpgme_subkey_t sk = key->subkeys; sk; sk = sk->next) {
        if (sk != key->subkeys && !sk->can_sign)
            continue;
        switch (sk->pubkey_algo) {
        case GPGME_PK_RSA:
        case GPGME_PK_RSA_S:
        case GPGME_PK_RSA_E:
        case GPGME_PK_DSA:
        case GPGME_PK_ELG:
        case GPGME_PK_ELG_E:
            if (sk->length < VS_MIN_RSA_BITS)
                return vs_error_set(err, VS_E_POLICY,
                                    "%s: OpenPGP key %s has a %u-bit %s %s, below the minimum of "
                                    "%u bits",
                                    path, key->fpr, sk->length,
                                    gpgme_pubkey_algo_name(sk->pubkey_algo)
                                        ? gpgme_pubkey_algo_name(sk->pubkey_algo)
                                        : "?",
                                    sk == key->subkeys ? "primary key" : "signing subkey",
                                    VS_MIN_RSA_BITS);
            break;
        default:
            break;
        }
    }
    return VS_OK;
}

/* Import one checked OpenPGP file into the scratch home; collect its keys. */
static vs_status import_pgp(scratch *s, item *it, const char *expect, infos *out, vs_error *err)
{
    gpgme_ctx_t g = s->g;
    gpgme_key_t key = NULL;
    gpgme_error_t ge;
    bool revocation = it->scan.npublic == 0;
    if (revocation) {
        ge = gpgme_get_key(g, it->scan.issuer, &key, 0);
        if (ge || !key) {
            if (key)
                gpgme_key_unref(key);
            return vs_error_set(err, VS_E_USAGE,
                                "%s: revocation certificate for key %s, which is not in the store",
                                it->path, it->scan.issuer);
        }
        if (expect && strcmp(expect, key->fpr) != 0) {
            vs_status st = vs_error_set(err, VS_E_VERIFY,
                                        "%s: revocation is for key %s, not the expected %s",
                                        it->path, key->fpr, expect);
            gpgme_key_unref(key);
            return st;
        }
        gpgme_key_unref(key);
        key = NULL;
    }
    gpgme_data_t d = NULL;
    ge = gpgme_data_new_from_mem(&d, (const char *)it->data, it->len, 0);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, it->path);
    ge = gpgme_op_import(g, d);
    gpgme_data_release(d);
    if (ge)
        return vs_error_setb(err, VS_E_USAGE, "gpgme", (long)ge, "%s: gpg refused it: %s",
                             it->path, gpgme_strerror(ge));
    gpgme_import_result_t r = gpgme_op_import_result(g);
    if (!r)
        return vs_error_set(err, VS_E_INTERNAL, "%s: gpg gave no import result", it->path);
    if (r->secret_read > 0 || r->secret_imported > 0)
        return vs_error_set(err, VS_E_USAGE, "%s: holds secret key material; refusing it",
                            it->path);
    if (revocation) {
        /* gpg reports a revocation only through the key it changed */
        ge = gpgme_get_key(g, it->scan.issuer, &key, 0);
        if (ge || !key || !key->revoked) {
            if (key)
                gpgme_key_unref(key);
            return vs_error_set(err, VS_E_USAGE,
                                "%s: revocation certificate did not apply to key %s (bad "
                                "signature?)",
                                it->path, it->scan.issuer);
        }
        vs_key_info *ki = infos_add(out);
        if (!ki) {
            gpgme_key_unref(key);
            return vs_error_set(err, VS_E_INTERNAL, "out of memory");
        }
        info_from_gpgme(key, ki);
        ki->revocation_applied = true;
        gpgme_key_unref(key);
        return VS_OK;
    }
    if (r->not_imported > 0 || r->imported + r->unchanged == 0) {
        const char *why = "no key accepted";
        for (gpgme_import_status_t i = r->imports; i; i = i->next)
            if (i->result)
                why = gpgme_strerror(i->result);
        return vs_error_set(err, VS_E_USAGE, "%s: gpg did not import the key (%s)", it->path,
                            why);
    }
    for (gpgme_import_status_t i = r->imports; i; i = i->next) {
        if (i->result)
            return vs_error_setb(err, VS_E_USAGE, "gpgme", (long)i->result,
                                 "%s: gpg did not import key %s: %s", it->path,
                                 i->fpr ? i->fpr : "?", gpgme_strerror(i->result));
        if (!i->fpr)
            continue;
        if (expect && strcasecmp(expect, i->fpr) != 0)
            return vs_error_set(err, VS_E_VERIFY, "%s: key %s is not the expected %s", it->path,
                                i->fpr, expect);
        bool dup = false;
        for (size_t k = 0; k < out->n; k++)
            if (!strcasecmp(out->v[k].fingerprint, i->fpr) && !out->v[k].revocation_applied)
                dup = true;
        if (dup)
            continue; /* gpg lists a key once per status line */
        ge = gpgme_get_key(g, i->fpr, &key, 0);
        if (ge || !key)
            return vs_error_set(err, VS_E_INTERNAL, "%s: imported key %s not found afterwards",
                                it->path, i->fpr);
        vs_status ws = weak_pgp_key(key, it->path, err);
        if (ws) {
            gpgme_key_unref(key);
            return ws;
        }
        vs_key_info *ki = infos_add(out);
        if (!ki) {
            gpgme_key_unref(key);
            return vs_error_set(err, VS_E_INTERNAL, "out of memory");
        }
        info_from_gpgme(key, ki);
        gpgme_key_unref(key);
    }
    return VS_OK;
}

static vs_status fsync_file_at(int dfd, const char *name, vs_error *err)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? VS_OK : vs_error_errno(err, VS_E_INTERNAL, errno, "%s", name);
    int r = fsync(fd);
    int e = errno;
    close(fd);
    return r == 0 ? VS_OK : vs_error_errno(err, VS_E_INTERNAL, e, "%s: fsync", name);
}

/* The scratch keyring and trustdb replace the store's (each one rename). */
static vs_status install_gnupg(vs_ctx *ctx, scratch *s, vs_error *err)
{
    int gfd;
    vs_status st = vs_open_dir(ctx->home_fd, "trust/gnupg", &gfd, err);
    if (st)
        return st;
    static const char *const files[] = { "trustdb.gpg", "pubring.kbx" };
    for (size_t i = 0; st == VS_OK && i < 2; i++) {
        st = fsync_file_at(s->fd, files[i], err);
        if (st == VS_OK && renameat(s->fd, files[i], gfd, files[i]) != 0 && errno != ENOENT)
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s/trust/gnupg/%s: rename",
                                ctx->home, files[i]);
    }
    if (st == VS_OK)
        st = vs_fsync_dir(gfd, "trust/gnupg", err);
    close(gfd);
    return st;
}

vs_status vs_keys_import(vs_ctx *ctx, const char *const *files, size_t nfiles,
                         const vs_keys_import_opts *opts, vs_key_info **out, size_t *nout,
                         vs_error *err)
{
    vs_keys_import_opts defaults = VS_KEYS_IMPORT_OPTS_INIT;
    const vs_keys_import_opts *o = opts ? opts : &defaults;
    if (out)
        *out = NULL;
    if (nout)
        *nout = 0;
    if (nfiles == 0)
        return vs_error_set(err, VS_E_USAGE, "no key files given");
    if ((unsigned)o->rsa_scheme > VS_RSA_PSS_SHA512)
        return vs_error_set(err, VS_E_USAGE, "unknown RSA scheme");
    char expect[VS_FPR_MAX];
    const char *exp = NULL;
    if (o->expect_fingerprint) {
        if (!fpr_normalise(o->expect_fingerprint, expect))
            return vs_error_set(err, VS_E_USAGE,
                                "expected fingerprint %.100s: not a fingerprint (40 hex digits "
                                "for OpenPGP, sha256: and 64 hex digits for RSA)",
                                o->expect_fingerprint);
        exp = expect;
    }
    item *items = calloc(nfiles, sizeof *items);
    if (!items)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    infos res = { 0 };
    scratch sc = { .fd = -1 };
    int lock = -1, rsafd = -1;
    bool any_pgp = false;
    vs_status st = VS_OK;

    /* 1. every file read and checked on its own */
    for (size_t i = 0; st == VS_OK && i < nfiles; i++) {
        items[i].path = files[i];
        items[i].tf.fd = -1;
        st = classify(&items[i], o, exp, err);
        any_pgp |= items[i].pgp;
    }
    /* 2. against the store, in a scratch copy */
    if (st == VS_OK)
        st = vs_keys_lock(ctx, &lock, err);
    if (st == VS_OK)
        st = vs_keys_store_prepare(ctx, err);
    if (st == VS_OK)
        st = vs_open_dir(ctx->home_fd, "trust/rsa", &rsafd, err);
    if (st == VS_OK && any_pgp)
        st = scratch_open(ctx, &sc, err);
    for (size_t i = 0; st == VS_OK && i < nfiles; i++) {
        item *it = &items[i];
        if (it->pgp) {
            st = import_pgp(&sc, it, exp, &res, err);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (!items[j].pgp && !strcmp(items[j].fpr, it->fpr))
                it->present = true; /* staged once, by the first file */
        vs_rsa_key old;
        vs_error e2 = VS_ERROR_INIT;
        vs_status s2 = vs_keys_rsa_load_one(ctx, it->fpr + 7, &old, &e2);
        if (s2 == VS_OK) {
            gcry_sexp_release(old.pub);
            if (old.scheme != o->rsa_scheme) {
                st = vs_error_set(err, VS_E_USAGE,
                                  "%s: key %s is already in the store with scheme %s; remove it "
                                  "first",
                                  it->path, it->fpr, vs_rsa_scheme_name(old.scheme));
                break;
            }
            it->present = true;
        } else if (s2 != VS_E_USAGE) {
            /* a damaged file of that name: replace it with the good key */
            vs_log(ctx, VS_LOG_WARN, "%s", e2.message);
        }
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            if (!items[j].pgp && !strcmp(items[j].fpr, it->fpr))
                dup = true;
        if (dup)
            continue; /* the same key twice (PEM and DER): reported once */
        vs_key_info *ki = infos_add(&res);
        if (!ki) {
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
            break;
        }
        info_from_rsa(it->fpr, it->bits, o->rsa_scheme, ki);
    }
    /* 3. stage the new RSA files */
    for (size_t i = 0; st == VS_OK && i < nfiles; i++) {
        item *it = &items[i];
        if (it->pgp || it->present)
            continue;
        size_t tl = 0;
        char *text = vs_keys_rsa_file_text(o->rsa_scheme, it->spki, it->spki_len, &tl);
        if (!text) {
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
            break;
        }
        st = vs_tmpfile_open(&it->tf, rsafd, 0644, false, err);
        if (st == VS_OK) {
            it->staged = true;
            st = vs_tmpfile_write(&it->tf, text, tl, err);
        }
        free(text);
    }
    /* 4. commit: RSA renames, then the keyring; undo the renames on failure */
    for (size_t i = 0; st == VS_OK && i < nfiles; i++) {
        item *it = &items[i];
        if (!it->staged)
            continue;
        char name[80];
        snprintf(name, sizeof name, "%s.pem", it->fpr + 7);
        st = vs_tmpfile_commit(&it->tf, name, NULL, err);
        it->staged = false;
        if (st == VS_OK)
            it->renamed = true;
    }
    if (st == VS_OK && any_pgp)
        st = install_gnupg(ctx, &sc, err);
    if (st) {
        for (size_t i = 0; i < nfiles; i++) {
            item *it = &items[i];
            if (it->staged)
                vs_tmpfile_abort(&it->tf);
            if (it->renamed) {
                char name[80];
                snprintf(name, sizeof name, "%s.pem", it->fpr + 7);
                unlinkat(rsafd, name, 0);
            }
        }
        if (rsafd >= 0)
            vs_fsync_dir(rsafd, "trust/rsa", NULL);
    }
    scratch_close(ctx, &sc);
    if (rsafd >= 0)
        close(rsafd);
    vs_keys_unlock(lock);
    for (size_t i = 0; i < nfiles; i++) {
        free(items[i].data);
        free(items[i].spki);
    }
    free(items);
    if (st == VS_OK && out) {
        *out = res.v;
        *nout = res.n;
    } else {
        free(res.v);
    }
    return st;
}

/* ---- list ----------------------------------------------------------------- */

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const vs_key_info *)a)->fingerprint, ((const vs_key_info *)b)->fingerprint);
}

vs_status vs_keys_list(vs_ctx *ctx, vs_key_info **out, size_t *nout, vs_error *err)
{
    *out = NULL;
    *nout = 0;
    gpgme_ctx_t g;
    vs_status st = vs_keys_gpgme_open(ctx, &g, err);
    if (st)
        return st;
    infos res = { 0 };
    gpgme_error_t ge = gpgme_op_keylist_start(g, NULL, 0);
    gpgme_key_t k;
    while (!ge && !(ge = gpgme_op_keylist_next(g, &k))) {
        vs_key_info *ki = infos_add(&res);
        if (ki)
            info_from_gpgme(k, ki);
        gpgme_key_unref(k);
        if (!ki) {
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
            break;
        }
    }
    gpgme_op_keylist_end(g);
    gpgme_release(g);
    if (st == VS_OK && gpgme_err_code(ge) != GPG_ERR_EOF)
        st = vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, "trust/gnupg: listing keys");
    size_t npgp = res.n;
    vs_rsa_key *rk = NULL;
    size_t nr = 0;
    if (st == VS_OK)
        st = vs_keys_rsa_load_all(ctx, &rk, &nr, err);
    for (size_t i = 0; st == VS_OK && i < nr; i++) {
        vs_key_info *ki = infos_add(&res);
        if (!ki)
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
        else
            info_from_rsa(rk[i].fingerprint, rk[i].bits, rk[i].scheme, ki);
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

/* ---- remove ----------------------------------------------------------------- */

static vs_status remove_rsa(vs_ctx *ctx, const char *fpr, vs_error *err)
{
    char rel[96];
    snprintf(rel, sizeof rel, "trust/rsa/%s.pem", fpr + 7);
    struct stat sb;
    if (fstatat(ctx->home_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) != 0)
        return vs_error_set(err, VS_E_USAGE, "%s: no such key in the store", fpr);
    if (unlinkat(ctx->home_fd, rel, 0) != 0)
        return vs_error_errno(err, VS_E_INTERNAL, errno, "%s/%s: remove", ctx->home, rel);
    int dfd;
    vs_status st = vs_open_dir(ctx->home_fd, "trust/rsa", &dfd, err);
    if (st == VS_OK) {
        st = vs_fsync_dir(dfd, "trust/rsa", err);
        close(dfd);
    }
    return st;
}

static vs_status remove_pgp(vs_ctx *ctx, const char *fpr, vs_error *err)
{
    vs_status st = vs_keys_store_prepare(ctx, err);
    if (st)
        return st;
    char *home = vs_keys_gnupg_home(ctx);
    if (!home)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    gpgme_ctx_t g;
    st = vs_keys_gpgme_open_home(home, &g, err);
    free(home);
    if (st)
        return st;
    gpgme_key_t key = NULL;
    gpgme_error_t ge = gpgme_get_key(g, fpr, &key, 0);
    /* a subkey fingerprint finds its primary key: only the primary's counts */
    if (ge || !key || !key->fpr || strcasecmp(key->fpr, fpr) != 0) {
        st = vs_error_set(err, VS_E_USAGE, "%s: no such key in the store", fpr);
    } else {
        ge = gpgme_op_delete_ext(g, key, GPGME_DELETE_FORCE);
        if (ge)
            st = vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, fpr);
    }
    if (key)
        gpgme_key_unref(key);
    gpgme_release(g);
    return st;
}

vs_status vs_keys_remove(vs_ctx *ctx, const char *fingerprint, vs_error *err)
{
    char fpr[VS_FPR_MAX];
    vs_key_type t = fpr_normalise(fingerprint, fpr);
    if (!t)
        return vs_error_set(err, VS_E_USAGE,
                            "%.100s: not a fingerprint (40 hex digits for OpenPGP, sha256: and 64 "
                            "hex digits for RSA)",
                            fingerprint ? fingerprint : "");
    int lock;
    vs_status st = vs_keys_lock(ctx, &lock, err);
    if (st)
        return st;
    st = t == VS_KEY_RSA ? remove_rsa(ctx, fpr, err) : remove_pgp(ctx, fpr, err);
    vs_keys_unlock(lock);
    return st;
}
