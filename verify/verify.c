/* verify/verify.c - one package and its signatures in, one verdict out. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keys/trust.h" /* the store as the context holds it */
#include "verify/verify_int.h"

VS_EXTERN vs_status vs_verify_require_parse(unsigned *out, const char *s, vs_error *err)
{
    static const struct {
        const char *s;
        unsigned mask;
    } forms[] = {
        { "gpg,rsa", VS_REQUIRE_BOTH },
        { "rsa,gpg", VS_REQUIRE_BOTH },
        { "gpg", VS_REQUIRE_GPG },
        { "rsa", VS_REQUIRE_RSA },
    };
    for (size_t i = 0; s && i < sizeof forms / sizeof forms[0]; i++) {
        if (strcmp(s, forms[i].s) == 0) {
            *out = forms[i].mask;
            return VS_OK;
        }
    }
    return vs_error_subj(err, VS_E_USAGE, "--require", "'%s' is not gpg,rsa, gpg or rsa",
                         s ? s : "");
}

VS_EXTERN void vs_verdict_free(vs_verdict *v)
{
    if (!v)
        return;
    free(v->sigs);
    free(v);
}

/* ---- one verification run -------------------------------------------------- */

typedef struct run {
    vs_ctx *ctx;
    const vs_verify_opts *opts;
    const char *package;
    const char *package_name;
    unsigned require;         /* VS_REQUIRE_* mask, never 0 */
    int fd;
    struct stat sb;           /* the package when opened */
    const char *rsapath;      /* the RSA signature file, or NULL */
    char *rsa_default;        /* PACKAGE.sig */
    const vs_rsa_key *keys;   /* stored RSA keys, borrowed from the context */
    size_t nkeys;
    unsigned need;            /* NEED_* digests of the one pass */
    vs_verdict *v;
    size_t cap;
    bool oom;
    uint8_t sha256[32];
    uint8_t sha384[48];
    uint8_t sha512[64];
    /* checksum-list mode: the list, kept until the package hash is known */
    uint8_t *list;
    size_t list_len;
    const char *list_path;
    size_t list_first, list_end; /* results of the list's signature file */
    bool list_signed;
    struct pkg_feed *feed; /* the one read of the package, while gpg runs */
    vs_gpg_stream *stream; /* gpg's run while the package arrived, or NULL */
} run;

/* A new result slot (zeroed), or NULL on OOM (recorded in r->oom). */
static vs_sig_result *add_result(run *r, vs_sig_kind kind, const char *file)
{
    if (r->v->nsigs == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 4;
        vs_sig_result *n = realloc(r->v->sigs, ncap * sizeof *n);
        if (!n) {
            r->oom = true;
            return NULL;
        }
        r->v->sigs = n;
        r->cap = ncap;
    }
    vs_sig_result *s = &r->v->sigs[r->v->nsigs++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->valid = false;
    s->status = VS_E_VERIFY;
    snprintf(s->file, sizeof s->file, "%s", file ? file : "");
    return s;
}

/* The reason, on one line. */
static void vreason(vs_sig_result *s, const char *fmt, va_list ap) VS_PRINTF(2, 0);
static void vreason(vs_sig_result *s, const char *fmt, va_list ap)
{
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    for (char *p = s->reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static void set_reason(vs_sig_result *s, vs_status st, const char *fmt, ...) VS_PRINTF(3, 4);
static void set_reason(vs_sig_result *s, vs_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(s, fmt, ap);
    va_end(ap);
    s->status = st;
    s->valid = st == VS_OK;
    s->effect = st == VS_OK ? VS_SIG_COUNTS : VS_SIG_REJECTS;
}

/* Does not count, does not reject: a key not in the store, not bound,
 * expired or revoked (reported in the verdict). */
static void set_ignored(vs_sig_result *s, const char *fmt, ...) VS_PRINTF(2, 3);
static void set_ignored(vs_sig_result *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(s, fmt, ap);
    va_end(ap);
    s->status = VS_E_VERIFY;
    s->valid = false;
    s->effect = VS_SIG_IGNORED;
}

/* A signature file that does not exist: its own result, effect MISSING. */
static void add_missing(run *r, vs_sig_kind kind, const char *path)
{
    vs_sig_result *s = add_result(r, kind, path);
    if (!s)
        return;
    snprintf(s->reason, sizeof s->reason, "no %s signature: the file does not exist",
             kind == VS_SIG_GPG ? "OpenPGP" : "RSA");
    s->status = VS_E_VERIFY;
    s->valid = false;
    s->effect = VS_SIG_MISSING;
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", path, suffix);
    return p;
}

/*
 * Read a small untrusted file. Missing -> VS_E_VERIFY ("not found"), over
 * `max` -> VS_E_VERIFY, unreadable -> VS_E_USAGE. The reason goes to `s`.
 */
static vs_status read_small(const char *path, size_t max, uint8_t **out, size_t *len,
                            vs_sig_result *s)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            set_reason(s, VS_E_VERIFY, "not found");
            s->effect = VS_SIG_MISSING;
            return VS_E_VERIFY;
        }
        set_reason(s, VS_E_USAGE, "cannot open: %s", strerror(errno));
        return VS_E_USAGE;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        set_reason(s, VS_E_USAGE, "not a regular file");
        return VS_E_USAGE;
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        set_reason(s, VS_E_VERIFY, "larger than the limit of %zu bytes", max);
        return VS_E_VERIFY;
    }
    uint8_t *buf = malloc(max + 1);
    if (!buf) {
        close(fd);
        set_reason(s, VS_E_INTERNAL, "out of memory");
        return VS_E_INTERNAL;
    }
    size_t n = 0;
    for (;;) {
        ssize_t k = read(fd, buf + n, max + 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            free(buf);
            set_reason(s, VS_E_USAGE, "read: %s", strerror(e));
            return VS_E_USAGE;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > max) { /* grew while we read */
            close(fd);
            free(buf);
            set_reason(s, VS_E_VERIFY, "larger than the limit of %zu bytes", max);
            return VS_E_VERIFY;
        }
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return VS_OK;
}

/* ---- hashing: one pass, every digest needed -------------------------------------- */

#define NEED_SHA256 1u
#define NEED_SHA384 2u
#define NEED_SHA512 4u

/* The one read of the package: the bytes given to gpg are hashed on the way
 * (SHA-256 for the ref, the digests the RSA schemes need), so the RSA check
 * costs no second pass. What gpg did not read is read and hashed after it. */
typedef struct pkg_feed {
    run *r;
    gcry_md_hd_t md;     /* NULL when the caller knows the SHA-256 already */
    uint64_t off;        /* package bytes read so far */
    uint64_t reported;   /* progress */
} pkg_feed;

static vs_status feed_open(run *r, pkg_feed *f, vs_error *err)
{
    memset(f, 0, sizeof *f);
    f->r = r;
    if (r->opts->known_sha256 && r->need == NEED_SHA256)
        return VS_OK;
    gcry_error_t ge = gcry_md_open(&f->md, 0, 0);
    if (!ge && (r->need & NEED_SHA256))
        ge = gcry_md_enable(f->md, GCRY_MD_SHA256);
    if (!ge && (r->need & NEED_SHA384))
        ge = gcry_md_enable(f->md, GCRY_MD_SHA384);
    if (!ge && (r->need & NEED_SHA512))
        ge = gcry_md_enable(f->md, GCRY_MD_SHA512);
    if (ge) {
        gcry_md_close(f->md);
        f->md = NULL;
        return vs_error_subjb(err, VS_E_INTERNAL, "gcrypt", (long)ge, r->package, "hash: %s",
                              gcry_strerror(ge));
    }
    return VS_OK;
}

/* Up to `size` package bytes at the feed's offset, never past the size the
 * package had when opened; hashed and counted. 0 at the end, -1 (errno). */
static ssize_t feed_read(pkg_feed *f, void *buf, size_t size)
{
    run *r = f->r;
    uint64_t left = r->v->size - f->off;
    if (size > left)
        size = (size_t)left;
    if (size == 0)
        return 0;
    ssize_t n;
    do
        n = pread(r->fd, buf, size, (off_t)f->off);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n;
    if (f->md)
        gcry_md_write(f->md, buf, (size_t)n);
    f->off += (uint64_t)n;
    if (f->off - f->reported >= VS_IO_BUFSIZE || f->off == r->v->size) {
        f->reported = f->off;
        vs_progress_ev(r->ctx, VS_PHASE_VERIFY, VS_PROGRESS_UPDATE, r->package_name, f->off,
                       r->v->size);
    }
    return n;
}

/* What gpg reads of the package (through vs_gpg_pump_verify), a buffer at a
 * time from feed_read. */
typedef struct {
    pkg_feed *f;
    uint8_t *buf;
    size_t len, pos;
} feed_src;

static int feed_peek(void *payload, const uint8_t **p, size_t *n)
{
    feed_src *fs = payload;
    if (fs->pos == fs->len) {
        ssize_t got = feed_read(fs->f, fs->buf, VS_IO_BUFSIZE);
        if (got < 0)
            return VS_GPG_SRC_FAIL;
        if (got == 0)
            return VS_GPG_SRC_END;
        fs->len = (size_t)got;
        fs->pos = 0;
    }
    *p = fs->buf + fs->pos;
    *n = fs->len - fs->pos;
    return VS_GPG_SRC_BYTES;
}

static void feed_took(void *payload, size_t n)
{
    feed_src *fs = payload;
    fs->pos += n;
}

/* Hash what gpg did not read (all of it without an OpenPGP signature),
 * then the digests. */
static vs_status feed_finish(run *r, pkg_feed *f, vs_error *err)
{
    vs_status st = VS_OK;
    bool rest = f->md && f->off < r->v->size; /* no digest wanted: nothing to read */
    uint8_t *buf = rest ? malloc(VS_IO_BUFSIZE) : NULL;
    if (rest && !buf)
        st = vs_error_subj(err, VS_E_INTERNAL, r->package, "out of memory");
    while (st == VS_OK && rest && f->off < r->v->size) {
        ssize_t n = feed_read(f, buf, VS_IO_BUFSIZE);
        if (n < 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, r->package, "read");
        else if (n == 0)
            st = vs_error_subj(err, VS_E_VERIFY, r->package, "changed while being verified");
    }
    free(buf);
    if (st == VS_OK && f->md) {
        if (r->need & NEED_SHA256)
            memcpy(r->sha256, gcry_md_read(f->md, GCRY_MD_SHA256), 32);
        if (r->need & NEED_SHA384)
            memcpy(r->sha384, gcry_md_read(f->md, GCRY_MD_SHA384), 48);
        if (r->need & NEED_SHA512)
            memcpy(r->sha512, gcry_md_read(f->md, GCRY_MD_SHA512), 64);
    }
    gcry_md_close(f->md);
    f->md = NULL;
    return st;
}

/* ---- OpenPGP --------------------------------------------------------------------- */

/*
 * The one place a gpgme error becomes ours: into a signature's result (s)
 * and/or err with `subject`. Data gpg cannot read as OpenPGP is "not an
 * OpenPGP signature" (VS_E_VERIFY); anything else keeps gpgme's text, as a
 * verification failure in a result and an internal error in err.
 */
static vs_status gpgme_failure(gpgme_error_t ge, const char *subject, vs_sig_result *s,
                               vs_error *err)
{
    gpgme_err_code_t c = gpgme_err_code(ge);
    bool not_pgp = !ge || c == GPG_ERR_NO_DATA || c == GPG_ERR_BAD_DATA || c == GPG_ERR_INV_PACKET;
    char stalled[96];
    snprintf(stalled, sizeof stalled,
             "gpg stopped answering (it read nothing and reported nothing for %u s)",
             VS_GPG_STALL_S);
    const char *text = not_pgp                 ? "not an OpenPGP signature"
                       : c == GPG_ERR_TIMEOUT ? stalled
                       : c == GPG_ERR_EPIPE   ? "gpg stopped reading before the end of the package"
                                              : gpgme_strerror(ge);
    if (s) {
        if (not_pgp || c == GPG_ERR_BAD_SIGNATURE)
            set_reason(s, VS_E_VERIFY, "%s", c == GPG_ERR_BAD_SIGNATURE ? "bad signature" : text);
        else
            set_reason(s, VS_E_VERIFY, "gpg cannot verify it: %s", text);
    }
    vs_status st = not_pgp || s ? VS_E_VERIFY : VS_E_INTERNAL;
    if (err)
        vs_error_subjb(err, st, "gpgme", (long)ge, subject, "%s", text);
    return st;
}

static bool strong_digest(gpgme_hash_algo_t h)
{
    return h == GPGME_MD_SHA256 || h == GPGME_MD_SHA384 || h == GPGME_MD_SHA512 ||
           h == GPGME_MD_SHA224;
}

static bool is_fpr40(const char *s)
{
    if (!s || strlen(s) != 40)
        return false;
    for (size_t i = 0; i < 40; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

/* The subkey that made the signature: sig fpr is a fingerprint or a key id. */
static gpgme_subkey_t signing_subkey(gpgme_key_t key, const char *sigfpr)
{
    size_t n = sigfpr ? strlen(sigfpr) : 0;
    for (gpgme_subkey_t sk = key->subkeys; sk && n; sk = sk->next) {
        size_t m = sk->fpr ? strlen(sk->fpr) : 0;
        if (m >= n && strcasecmp(sk->fpr + (m - n), sigfpr) == 0)
            return sk;
    }
    return NULL;
}

/* True (with the reason in s) when a signature does not count: its key is
 * unknown, not bound, revoked or expired, or the signature expired. */
static bool ignore_signature(run *r, gpgme_signature_t sig, gpgme_key_t key, gpgme_subkey_t sk,
                             vs_sig_result *s)
{
    gpgme_err_code_t code = gpgme_err_code(sig->status);
    const char *hint = sig->fpr ? sig->fpr : "?";
    if (!key || !key->subkeys || !is_fpr40(key->subkeys->fpr)) {
        set_ignored(s, "signed by unknown key %s (not in the trust store)", hint);
        return true;
    }
    const char *fpr = key->subkeys->fpr;
    if (!vs_fpr_bound(fpr, r->opts->keys, r->opts->nkeys)) {
        set_ignored(s, "signed by key %s, which is not bound to this source", fpr);
        return true;
    }
    if (code == GPG_ERR_CERT_REVOKED || key->revoked || (sk && sk->revoked) ||
        (sig->summary & GPGME_SIGSUM_KEY_REVOKED)) {
        set_ignored(s, "signed with revoked key %s", fpr);
        return true;
    }
    if (code == GPG_ERR_KEY_EXPIRED || key->expired || (sk && sk->expired) ||
        (sig->summary & GPGME_SIGSUM_KEY_EXPIRED)) {
        set_ignored(s, "signed with expired key %s", fpr);
        return true;
    }
    if (code == GPG_ERR_SIG_EXPIRED || (sig->summary & GPGME_SIGSUM_SIG_EXPIRED)) {
        set_ignored(s, "signature expired");
        return true;
    }
    return false;
}

/* Decide one gpgme signature from its structured result. */
static void judge_signature(run *r, gpgme_ctx_t g, gpgme_signature_t sig, vs_sig_result *s)
{
    s->created = (int64_t)sig->timestamp;
    gpgme_err_code_t code = gpgme_err_code(sig->status);
    gpgme_key_t key = NULL;
    if (sig->fpr && gpgme_get_key(g, sig->fpr, &key, 0) != 0)
        key = NULL;
    if (key && key->subkeys && is_fpr40(key->subkeys->fpr))
        snprintf(s->fingerprint, sizeof s->fingerprint, "%s", key->subkeys->fpr);
    gpgme_subkey_t sk = key ? signing_subkey(key, sig->fpr) : NULL;
    if (ignore_signature(r, sig, key, sk, s))
        goto out;

    /* a stored, bound, current key: from here on every failure rejects */
    if (code != GPG_ERR_NO_ERROR) {
        gpgme_failure(sig->status, NULL, s, NULL);
        goto out;
    }
    if (key->disabled || key->invalid || !sk || sk->disabled || sk->invalid ||
        (sig->summary & (GPGME_SIGSUM_KEY_MISSING | GPGME_SIGSUM_RED | GPGME_SIGSUM_SYS_ERROR))) {
        set_reason(s, VS_E_VERIFY, "key %s is not usable for this signature",
                   key->subkeys->fpr);
        goto out;
    }
    if (sig->wrong_key_usage || !sk->can_sign) {
        set_reason(s, VS_E_VERIFY, "key %s is not allowed to make signatures", key->subkeys->fpr);
        goto out;
    }
    /* a date in the future would also defeat the rollback rule, which
     * compares signature times; an hour of clock skew is tolerated */
    if ((int64_t)sig->timestamp > (int64_t)time(NULL) + VS_MAX_CLOCK_SKEW) {
        set_reason(s, VS_E_VERIFY, "signature is dated in the future");
        goto out;
    }
    if (!strong_digest(sig->hash_algo)) {
        const char *hn = gpgme_hash_algo_name(sig->hash_algo);
        set_reason(s, VS_E_VERIFY, "signature made with %s, a weak digest", hn ? hn : "an unknown hash");
        goto out;
    }
    switch (sig->pubkey_algo) {
    case GPGME_PK_RSA:
    case GPGME_PK_RSA_S:
    case GPGME_PK_DSA:
        if (sk->length < VS_MIN_RSA_BITS) {
            set_reason(s, VS_E_POLICY, "signing key %s has %u bits, below the minimum of %u",
                       key->subkeys->fpr, sk->length, VS_MIN_RSA_BITS);
            goto out;
        }
        break;
    case GPGME_PK_ECC:
    case GPGME_PK_ECDSA:
    case GPGME_PK_EDDSA:
        break;
    default:
        set_reason(s, VS_E_VERIFY, "signature algorithm %s is not accepted",
                   gpgme_pubkey_algo_name(sig->pubkey_algo) ? gpgme_pubkey_algo_name(sig->pubkey_algo) : "?");
        goto out;
    }
    unsigned days = r->opts->max_sig_age_days;
    if (days) {
        int64_t now = (int64_t)time(NULL);
        if (sig->timestamp == 0 || now - (int64_t)sig->timestamp > (int64_t)days * 86400) {
            set_reason(s, VS_E_POLICY, "signature is older than the allowed %u days", days);
            goto out;
        }
    }
    set_reason(s, VS_OK, "good signature");
out:
    gpgme_key_unref(key);
}

/* The counting results of a checksum list's signatures [first, end) reject
 * instead: the list they vouch for does not vouch for the package. */
static void reject_range(run *r, size_t first, size_t end, vs_status st, const char *reason)
{
    for (size_t i = first; i < end; i++) {
        vs_sig_result *s = &r->v->sigs[i];
        if (s->effect != VS_SIG_COUNTS)
            continue;
        snprintf(s->file, sizeof s->file, "%s", r->list_path);
        set_reason(s, st, "%s", reason);
    }
}

/* Whether the results from `first` on let the OpenPGP kind pass: one
 * counts and none rejects. */
static bool range_passes(const run *r, size_t first)
{
    size_t why;
    vs_sig_kind k;
    return !r->oom && vs_sig_decide(r->v->sigs + first, r->v->nsigs - first, VS_REQUIRE_GPG,
                                    &why, &k) == VS_OK;
}

/* gpg checks `sigd` (over signed_data, or a clearsigned message whose
 * signed text goes to plain); one result per signature, named `path`. */
static void gpg_results(run *r, gpgme_ctx_t g, const char *path, gpgme_error_t ge);

static void gpg_judge(run *r, gpgme_ctx_t g, const char *path, gpgme_data_t sigd,
                      gpgme_data_t signed_data, gpgme_data_t plain)
{
    gpg_results(r, g, path, gpgme_op_verify(g, sigd, signed_data, plain));
}

/* One result per signature of the verify op that ended with `ge` on g. */
static void gpg_results(run *r, gpgme_ctx_t g, const char *path, gpgme_error_t ge)
{
    gpgme_verify_result_t res = ge ? NULL : gpgme_op_verify_result(g);
    if (ge || !res || !res->signatures) {
        vs_sig_result *s = add_result(r, VS_SIG_GPG, path);
        if (s)
            gpgme_failure(ge, path, s, NULL);
        return;
    }
    for (gpgme_signature_t sig = res->signatures; sig; sig = sig->next) {
        vs_sig_result *s = add_result(r, VS_SIG_GPG, path);
        if (!s)
            return;
        judge_signature(r, g, sig, s);
    }
}

/* Read a detached signature file and sniff it. False (with one result for
 * the file) when it is missing, unreadable or no detached signature. */
static bool sig_load(run *r, const char *sigpath, uint8_t **out, size_t *outlen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    vs_sig_result tmp;
    memset(&tmp, 0, sizeof tmp);
    vs_status st = read_small(sigpath, VS_MAX_SIG_FILE, &buf, &len, &tmp);
    if (st != VS_OK) {
        if (tmp.effect == VS_SIG_MISSING) {
            add_missing(r, VS_SIG_GPG, sigpath);
            return false;
        }
        vs_sig_result *s = add_result(r, VS_SIG_GPG, sigpath);
        if (s)
            set_reason(s, tmp.status, "%s", tmp.reason);
        return false;
    }
    vs_pgp_form form = vs_pgp_sig_sniff(buf, len);
    if (form == VS_PGP_NONE && vs_clearsign_present(buf, len))
        form = VS_PGP_CLEARSIGNED;
    if (form == VS_PGP_NONE || form == VS_PGP_CLEARSIGNED) {
        free(buf);
        vs_sig_result *s = add_result(r, VS_SIG_GPG, sigpath);
        if (s && form == VS_PGP_CLEARSIGNED) {
            set_reason(s, VS_E_VERIFY, "a clearsigned file, not a detached signature");
            snprintf(s->hint, sizeof s->hint,
                     "a clearsigned checksum list is given with --checksums FILE");
        } else if (s) {
            set_reason(s, VS_E_VERIFY, "not an OpenPGP signature");
        }
        return false;
    }
    *out = buf;
    *outlen = len;
    return true;
}

/* Verify a detached signature file over `signed_data`; adds one result per
 * signature (or one for the file when it cannot be read). Returns true
 * when at least one signature counts and none rejects. */
static bool gpg_verify_file(run *r, gpgme_ctx_t g, const char *sigpath,
                            gpgme_data_t signed_data, size_t *first_result)
{
    *first_result = r->v->nsigs;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!sig_load(r, sigpath, &buf, &len))
        return false;
    gpgme_data_t sigd = NULL;
    gpgme_error_t ge = gpgme_data_new_from_mem(&sigd, (const char *)buf, len, 0);
    if (ge) {
        vs_sig_result *s = add_result(r, VS_SIG_GPG, sigpath);
        if (s)
            gpgme_failure(ge, sigpath, s, NULL);
    } else {
        gpg_judge(r, g, sigpath, sigd, signed_data, NULL);
    }
    gpgme_data_release(sigd);
    free(buf);
    return range_passes(r, *first_result);
}

/* A clearsigned checksum list: its framing checked, then gpg verifies it
 * and returns the signed text, the only text the lookup ever reads. */
static void gpg_clearsigned(run *r, gpgme_ctx_t g, const char *list, const uint8_t *buf,
                            size_t len)
{
    size_t first = r->v->nsigs;
    vs_error ce = VS_ERROR_INIT;
    if (vs_clearsign_check(buf, len, list, &ce) != VS_OK) {
        vs_sig_result *s = add_result(r, VS_SIG_GPG, list);
        if (s)
            set_reason(s, VS_E_VERIFY, "%s", ce.reason);
        return;
    }
    gpgme_data_t sigd = NULL, plain = NULL;
    gpgme_error_t ge = gpgme_data_new_from_mem(&sigd, (const char *)buf, len, 0);
    if (!ge)
        ge = gpgme_data_new(&plain);
    if (!ge)
        gpg_judge(r, g, list, sigd, NULL, plain);
    gpgme_data_release(sigd);
    size_t plen = 0;
    char *text = plain ? gpgme_data_release_and_get_mem(plain, &plen) : NULL;
    if (ge) {
        vs_sig_result *s = add_result(r, VS_SIG_GPG, list);
        if (s)
            gpgme_failure(ge, list, s, NULL);
    }
    r->list_path = list;
    r->list_first = first;
    r->list_end = r->v->nsigs;
    r->list_signed = !ge && range_passes(r, first);
    if (r->list_signed && plen <= VS_MAX_CHECKSUM_FILE && (text || plen == 0))
        r->list = malloc(plen + 1);
    if (!r->list) {
        /* fail closed: no signed text to compare, so nothing signed counts */
        reject_range(r, first, r->v->nsigs, VS_E_VERIFY,
                     plen > VS_MAX_CHECKSUM_FILE ? "the signed text is larger than the limit"
                                                 : "the signed text could not be read");
        gpgme_free(text);
        return;
    }
    if (plen)
        memcpy(r->list, text, plen);
    r->list[plen] = 0;
    gpgme_free(text);
    r->list_len = plen;
}

static void gpg_missing(run *r, const char *path)
{
    add_missing(r, VS_SIG_GPG, path);
}

/*
 * The package's detached signature. gpg reads the package from a pipe that
 * vs_gpg_pump_verify writes (not gpgme's data handler, see gpgpump.c), fed
 * by feed_read, which hashes every byte it hands over (the one read).
 * In the canonical case (vs_pgp_detached_binary: signature packets of class
 * 0x00 only) gpg gets the equivalent signed message - the signature packets,
 * a literal data packet header, the package - which gpg 2.2 hashes in 32 KiB
 * blocks instead of byte by byte: gpg's CPU for a 128 MiB package drops
 * from 0.9 s to 0.4 s. gpg decides either way, over the same bytes.
 */
static vs_status gpg_detached(run *r, gpgme_ctx_t g, const char *sigpath, vs_error *err)
{
    uint8_t *buf = NULL, *head = NULL;
    size_t len = 0, hlen = 0;
    if (!sig_load(r, sigpath, &buf, &len))
        return VS_OK;
    gpgme_ctx_t sg = NULL;
    gpgme_error_t sge = 0;
    /* the run while the package arrived counts only when it gave a verdict
     * on signatures; anything else (gpg killed at the end) is no verdict */
    if (vs_gpg_stream_result(r->stream, buf, len, r->v->size, &sg, &sge) &&
        gpgme_op_verify_result(sg) && gpgme_op_verify_result(sg)->signatures) {
        gpg_results(r, sg, sigpath, sge); /* gpg read the package as it arrived */
        free(buf);
        return VS_OK;
    }
    head = malloc(len + VS_PGP_LITERAL_HEADER);
    feed_src fs = { r->feed, malloc(VS_IO_BUFSIZE), 0, 0 };
    if (!fs.buf || !head) {
        free(fs.buf);
        free(head);
        free(buf);
        return vs_error_subj(err, VS_E_INTERNAL, r->package, "out of memory");
    }
    const uint8_t *msg = NULL; /* the signed message's head, or none: the detached pair */
    if (vs_pgp_detached_binary(buf, len, head, len, &hlen)) {
        size_t lh = vs_pgp_literal_header(r->v->size, head + hlen);
        msg = lh ? head : NULL;
        hlen += lh;
    }
    gpgme_data_t sigd = NULL;
    gpgme_error_t ge = 0;
    if (!msg)
        ge = gpgme_data_new_from_mem(&sigd, (const char *)buf, len, 0);
    if (ge) {
        vs_sig_result *s = add_result(r, VS_SIG_GPG, sigpath);
        if (s)
            gpgme_failure(ge, sigpath, s, NULL);
    } else {
        const vs_gpg_source src = { feed_peek, feed_took, &fs };
        bool delivered; /* gpg's verdict is over what it read, whatever that was */
        gpg_results(r, g, sigpath,
                    vs_gpg_pump_verify(g, sigd, msg, hlen, &src, -1, VS_GPG_STALL_S, &delivered));
    }
    gpgme_data_release(sigd);
    free(fs.buf);
    free(head);
    free(buf);
    return VS_OK;
}

static vs_status gpg_checksums(run *r, gpgme_ctx_t g, const char *list, const char *sigpath,
                               vs_error *err)
{
    (void)err;
    uint8_t *buf = NULL;
    size_t len = 0;
    vs_sig_result tmp;
    memset(&tmp, 0, sizeof tmp);
    if (read_small(list, VS_MAX_CHECKSUM_FILE, &buf, &len, &tmp) != VS_OK) {
        vs_sig_result *s = add_result(r, VS_SIG_GPG, list);
        if (s)
            set_reason(s, tmp.status, "%s",
                       tmp.effect == VS_SIG_MISSING ? "no checksum list: the file does not exist"
                                                    : tmp.reason);
        return VS_OK;
    }
    if (vs_clearsign_present(buf, len)) {
        if (r->opts->checksums_sig)
            vs_log(r->ctx, VS_LOG_INFO, "%s: clearsigned; %s is not used", list,
                   r->opts->checksums_sig);
        gpg_clearsigned(r, g, list, buf, len);
        free(buf);
        return VS_OK;
    }
    gpgme_data_t d = NULL;
    gpgme_error_t ge = gpgme_data_new_from_mem(&d, (const char *)buf, len, 0);
    if (ge) {
        free(buf);
        return gpgme_failure(ge, list, NULL, err);
    }
    size_t first;
    bool ok = gpg_verify_file(r, g, sigpath, d, &first);
    gpgme_data_release(d);
    /* the entry is checked once the package hash is known (checksums_compare) */
    r->list = buf;
    r->list_len = len;
    r->list_path = list;
    r->list_first = first;
    r->list_end = r->v->nsigs;
    r->list_signed = ok;
    return VS_OK;
}

/* The list is validly signed: now it must name the package with its hash. */
static void checksums_compare(run *r)
{
    const char *list = r->list_path;
    if (!r->list || !r->list_signed)
        return;
    vs_error le = VS_ERROR_INIT;
    uint8_t want[32];
    vs_status st = vs_checksums_lookup(r->list, r->list_len, list, r->package_name, want, &le);
    if (st == VS_OK && memcmp(want, r->sha256, 32) != 0) {
        char lhex[65], phex[65];
        vs_hex(lhex, want, 32);
        vs_hex(phex, r->sha256, 32);
        st = vs_error_subj(&le, VS_E_VERIFY, list,
                           "SHA-256 of %s does not match the list (list %.16s..., package "
                           "%.16s...)",
                           r->package_name, lhex, phex);
    }
    if (st == VS_OK)
        return;
    /* a list signed by a counting key that does not vouch for these bytes rejects */
    reject_range(r, r->list_first, r->list_end, st, le.reason);
}

static vs_status check_gpg(run *r, bool required, vs_error *err)
{
    const vs_verify_opts *o = r->opts;
    char *defsig = NULL, *csig = NULL;
    const char *sigpath = o->gpg_sig;
    if (!sigpath && !o->checksums) {
        defsig = with_suffix(r->package, ".asc");
        if (!defsig)
            return vs_error_subj(err, VS_E_INTERNAL, r->package, "out of memory");
        if (file_exists(defsig))
            sigpath = defsig;
        else if (required)
            gpg_missing(r, defsig);
    }
    const char *csigpath = NULL;
    if (o->checksums) {
        csigpath = o->checksums_sig;
        if (!csigpath) {
            csig = with_suffix(o->checksums, ".asc");
            if (!csig) {
                free(defsig);
                return vs_error_subj(err, VS_E_INTERNAL, r->package, "out of memory");
            }
            csigpath = csig;
        }
    }
    vs_status st = VS_OK;
    if (sigpath || o->checksums) {
        gpgme_ctx_t g = NULL;
        st = vs_trust_gpgme(&g, r->ctx, err); /* the context's: loaded once */
        if (st == VS_OK) {
            gpgme_set_offline(g, 1);
            if (sigpath)
                st = gpg_detached(r, g, sigpath, err);
            if (st == VS_OK && o->checksums)
                st = gpg_checksums(r, g, o->checksums, csigpath, err);
        }
    }
    free(defsig);
    free(csig);
    return st;
}

/* ---- RSA ------------------------------------------------------------------------ */

static unsigned scheme_need(vs_rsa_scheme sc)
{
    int md = vs_rsa_scheme_md(sc);
    return md == GCRY_MD_SHA384 ? NEED_SHA384 : md == GCRY_MD_SHA512 ? NEED_SHA512 : NEED_SHA256;
}

static const uint8_t *digest_for(const run *r, vs_rsa_scheme sc)
{
    unsigned n = scheme_need(sc);
    return n == NEED_SHA384 ? r->sha384 : n == NEED_SHA512 ? r->sha512 : r->sha256;
}

/* What trying every stored RSA key on one signature file found. */
typedef struct rsa_try {
    const vs_rsa_key *good;    /* a bound key that verifies it */
    const vs_rsa_key *unbound; /* a stored key, not bound to the source, that verifies it */
    size_t fitting;            /* bound keys of the signature's length that do not verify it */
    size_t weak;               /* keys below the minimum strength */
    size_t mods[8];            /* distinct modulus lengths of the usable keys */
    size_t nmods;
} rsa_try;

static void add_mod(rsa_try *t, size_t m)
{
    for (size_t i = 0; i < t->nmods; i++)
        if (t->mods[i] == m)
            return;
    if (t->nmods < sizeof t->mods / sizeof t->mods[0])
        t->mods[t->nmods++] = m;
}

/* One key on the signature bytes (sig holds VS_MAX_RSA_BITS / 8). */
static void rsa_try_key(run *r, const vs_rsa_key *k, const uint8_t *buf, size_t len,
                        uint8_t *sig, rsa_try *t)
{
    size_t modlen = 0;
    vs_error ke = VS_ERROR_INIT;
    if (vs_rsa_key_check(k->pub, k->fingerprint, &modlen, NULL, &ke) != VS_OK) {
        t->weak++;
        return;
    }
    add_mod(t, modlen);
    if (!vs_rsa_sig_decode(buf, len, modlen, sig))
        return;
    bool bound = vs_fpr_bound(k->fingerprint, r->opts->keys, r->opts->nkeys);
    vs_error ve = VS_ERROR_INIT;
    if (vs_rsa_verify_digest(k->pub, k->scheme, digest_for(r, k->scheme),
                             vs_rsa_scheme_hlen(k->scheme), sig, modlen, k->fingerprint,
                             &ve) != VS_OK) {
        t->fitting += bound;
        return;
    }
    if (bound)
        t->good = k;
    else
        t->unbound = k;
}

static void check_rsa(run *r, const char *sigpath, const vs_rsa_key *keys, size_t nkeys)
{
    vs_sig_result *s = add_result(r, VS_SIG_RSA, sigpath);
    if (!s)
        return;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (read_small(sigpath, VS_MAX_SIG_FILE, &buf, &len, s) != VS_OK) {
        if (s->effect == VS_SIG_MISSING) {
            r->v->nsigs--; /* replaced by the MISSING result */
            add_missing(r, VS_SIG_RSA, sigpath);
        }
        return;
    }
    uint8_t *sig = len && nkeys ? malloc(VS_MAX_RSA_BITS / 8) : NULL;
    rsa_try t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; sig && i < nkeys && !t.good; i++)
        rsa_try_key(r, &keys[i], buf, len, sig, &t);
    free(sig);
    if (len && nkeys && !sig) {
        set_reason(s, VS_E_INTERNAL, "out of memory");
    } else if (len == 0) {
        set_reason(s, VS_E_VERIFY, "not an RSA signature (empty file)");
    } else if (nkeys == 0) {
        set_reason(s, VS_E_VERIFY, "no RSA key in the trust store");
    } else if (t.good) {
        snprintf(s->fingerprint, sizeof s->fingerprint, "%s", t.good->fingerprint);
        set_reason(s, VS_OK, "good signature");
        vs_log(r->ctx, VS_LOG_DEBUG, "%s: verified with %s (%s)", sigpath, t.good->fingerprint,
               vs_rsa_scheme_name(t.good->scheme));
    } else if (t.unbound) {
        snprintf(s->fingerprint, sizeof s->fingerprint, "%s", t.unbound->fingerprint);
        set_ignored(s, "made by RSA key %s, which is not bound to this source",
                    t.unbound->fingerprint);
    } else if (t.fitting > 0) {
        set_reason(s, VS_E_VERIFY, "bad signature (no RSA key in the trust store verifies it)");
    } else if (t.weak == nkeys) {
        set_reason(s, VS_E_POLICY, "every RSA key in the trust store is below the minimum strength");
    } else {
        char why[sizeof s->reason];
        vs_rsa_sig_explain(buf, len, t.mods, t.nmods, why, sizeof why);
        set_reason(s, VS_E_VERIFY, "%s", why);
    }
    free(buf);
}

/* ---- the verdict ------------------------------------------------------------------- */

static const char *kind_name(vs_sig_kind k)
{
    return k == VS_SIG_GPG ? "OpenPGP" : "RSA";
}

/* err from the result that decided a rejection (or the kind that had none). */
static void verdict_error(const run *r, size_t why, vs_sig_kind kind, vs_error *err)
{
    const char *other = kind == VS_SIG_GPG ? "rsa" : "gpg";
    if (why >= r->v->nsigs) {
        vs_error_subj(err, VS_E_VERIFY, r->package, "no %s signature", kind_name(kind));
        vs_error_hint(err, "give one with %s, or use --require %s if the %s signature is enough",
                      kind == VS_SIG_GPG ? "--gpg-sig or --checksums" : "--rsa-sig", other,
                      kind == VS_SIG_GPG ? "RSA" : "OpenPGP");
        return;
    }
    const vs_sig_result *s = &r->v->sigs[why];
    vs_error_subj(err, s->status, s->file, "%s", s->reason);
    if (s->hint[0])
        vs_error_hint(err, "%s", s->hint);
    if (s->effect == VS_SIG_MISSING)
        vs_error_hint(err, "give the %s signature with %s, or use --require %s if the %s "
                           "signature is enough",
                      kind_name(kind), kind == VS_SIG_GPG ? "--gpg-sig or --checksums" : "--rsa-sig",
                      other, kind == VS_SIG_GPG ? "RSA" : "OpenPGP");
}

/* ---- the phases of one verification ------------------------------------------ */

/* Open the package and start the verdict (rejected until the end). */
static vs_status phase_open(run *r, vs_error *err)
{
    if (!r->ctx || !r->package || !*r->package)
        return vs_error_subj(err, VS_E_USAGE, "verify", "no package given");
    if (r->require & ~VS_REQUIRE_BOTH)
        return vs_error_subj(err, VS_E_USAGE, "--require", "bad policy mask %u", r->require);
    vs_status st = vs_gcrypt_init(err);
    if (st)
        return st;
    r->fd = open(r->package, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return vs_error_subj_errno(err,
                                   errno == ENOENT || errno == EACCES ? VS_E_USAGE : VS_E_INTERNAL,
                                   errno, r->package, "cannot open");
    if (fstat(r->fd, &r->sb) != 0 || !S_ISREG(r->sb.st_mode))
        return vs_error_subj(err, VS_E_USAGE, r->package, "not a regular file");
    r->v = calloc(1, sizeof *r->v);
    if (!r->v)
        return vs_error_subj(err, VS_E_INTERNAL, r->package, "out of memory");
    snprintf(r->v->package, sizeof r->v->package, "%s", r->package);
    r->v->size = (uint64_t)r->sb.st_size;
    r->v->trusted = false; /* fail closed */
    return VS_OK;
}

/* The RSA signature file and the stored keys: their schemes decide which
 * digests the one hash pass computes. */
static vs_status phase_rsa_keys(run *r, vs_error *err)
{
    r->rsapath = r->opts->rsa_sig;
    r->need = NEED_SHA256;
    if (!r->rsapath) {
        r->rsa_default = with_suffix(r->package, ".sig");
        if (!r->rsa_default)
            return vs_error_subj(err, VS_E_INTERNAL, r->package, "out of memory");
        if (file_exists(r->rsa_default))
            r->rsapath = r->rsa_default;
    }
    if (!r->rsapath)
        return VS_OK;
    vs_status st = vs_trust_rsa_keys(&r->keys, &r->nkeys, r->ctx, err);
    for (size_t i = 0; st == VS_OK && i < r->nkeys; i++)
        r->need |= scheme_need(r->keys[i].scheme);
    return st;
}

/* OpenPGP (the vendor), hashing the package as gpg reads it. */
static vs_status phase_hash_and_openpgp(run *r, vs_error *err)
{
    pkg_feed feed;
    vs_status st = feed_open(r, &feed, err);
    if (st != VS_OK)
        return st;
    if (!feed.md)
        memcpy(r->sha256, r->opts->known_sha256, 32);
    r->feed = &feed;
    vs_error gerr = VS_ERROR_INIT;
    vs_status gst = check_gpg(r, (r->require & VS_REQUIRE_GPG) != 0, &gerr);
    r->feed = NULL;
    st = feed_finish(r, &feed, err);
    if (st != VS_OK)
        return st;
    if (gst != VS_OK) {
        if (err)
            *err = gerr;
        return gst;
    }
    if (r->opts->known_sha256 && memcmp(r->opts->known_sha256, r->sha256, 32) != 0)
        return vs_error_subj(err, VS_E_VERIFY, r->package,
                             "SHA-256 differs from the expected one");
    vs_hex(r->v->sha256, r->sha256, 32);
    checksums_compare(r);
    return VS_OK;
}

/* RSA (the organisation), from the digests of the one pass. */
static vs_status phase_rsa(run *r, vs_error *err)
{
    if (r->rsapath)
        check_rsa(r, r->rsapath, r->keys, r->nkeys);
    else if (r->require & VS_REQUIRE_RSA)
        add_missing(r, VS_SIG_RSA, r->rsa_default);
    if (r->oom)
        return vs_error_subj(err, VS_E_INTERNAL, r->package, "out of memory");
    return VS_OK;
}

/* Every check must have seen the same bytes: refuse a file changed meanwhile. */
static vs_status phase_unchanged(run *r, vs_error *err)
{
    struct stat b;
    const struct stat *a = &r->sb;
    if (fstat(r->fd, &b) != 0 || b.st_size != a->st_size || b.st_ino != a->st_ino ||
        b.st_dev != a->st_dev || b.st_mtim.tv_sec != a->st_mtim.tv_sec ||
        b.st_mtim.tv_nsec != a->st_mtim.tv_nsec || b.st_ctim.tv_sec != a->st_ctim.tv_sec ||
        b.st_ctim.tv_nsec != a->st_ctim.tv_nsec)
        return vs_error_subj(err, VS_E_VERIFY, r->package, "changed while being verified");
    return VS_OK;
}

/* Trusted only when every required kind has a counting signature and none rejects. */
static vs_status phase_policy(run *r, vs_error *err)
{
    size_t why = 0;
    vs_sig_kind kind = VS_SIG_GPG;
    vs_status st = vs_sig_decide(r->v->sigs, r->v->nsigs, r->require, &why, &kind);
    if (st != VS_OK) {
        verdict_error(r, why, kind, err);
        return st;
    }
    r->v->trusted = true;
    vs_error_clear(err);
    return VS_OK;
}

VS_EXTERN vs_status vs_verify_package(vs_verdict **out, vs_ctx *ctx, const char *package,
                                      const vs_verify_opts *opts, vs_error *err)
{
    return vs_verify_package_streamed(ctx, package, opts, NULL, out, err);
}

vs_status vs_verify_package_streamed(vs_ctx *ctx, const char *package, const vs_verify_opts *opts,
                                     vs_gpg_stream *stream, vs_verdict **out, vs_error *err)
{
    static const vs_verify_opts defaults = VS_VERIFY_OPTS_INIT;
    if (out)
        *out = NULL;
    run r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    r.opts = opts ? opts : &defaults;
    r.package = package;
    r.package_name = r.opts->package_name && *r.opts->package_name ? r.opts->package_name
                                                                   : vs_basename(package ? package : "");
    r.require = r.opts->require ? r.opts->require : VS_REQUIRE_BOTH;
    r.fd = -1;
    r.stream = stream;
    if (VS_CHECK_OPTS(r.opts, vs_verify_opts, VERIFY_OPTS, err))
        return VS_E_USAGE;

    vs_status st = phase_open(&r, err);
    if (st == VS_OK)
        st = phase_rsa_keys(&r, err);
    if (st == VS_OK)
        st = phase_hash_and_openpgp(&r, err);
    if (st == VS_OK)
        st = phase_rsa(&r, err);
    if (st == VS_OK)
        st = phase_unchanged(&r, err);
    if (st == VS_OK)
        st = phase_policy(&r, err);

    free(r.list);
    free(r.rsa_default);
    if (r.fd >= 0)
        close(r.fd);
    if (!r.v)
        return st;
    if (st != VS_OK)
        r.v->trusted = false;
    /* the verdict goes out whenever the package could be read, trusted or not */
    if (out && (st == VS_OK || r.v->sha256[0]))
        *out = r.v;
    else
        vs_verdict_free(r.v);
    return st;
}
