/* stage/stage_ref.c - vs_stage_ref: a cached NAME@VERSION, re-checked, into a
 * layout, with its provenance.
 *
 * The re-check is not a second verification: the signatures were judged at
 * admission, while the keys were valid, and the ref binds them to the
 * package's SHA-256. Stage checks that no signer key has since been revoked
 * or removed from the store (before anything is written), and that the bytes
 * still hash to that digest: hashed as the extraction reads them, to the end
 * of the file, the new tree placed only when they matched. A key that merely
 * expired after admission does not block. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/stage_int.h"

/* signatures named in a ref's OpenPGP signature files that the re-check looks at */
#define VS_MAX_REF_ISSUERS 1024
#include "keys/trust.h"
#include "verify/verify_int.h"
#include "vetstage/cache.h"

static bool in_list(const char *fpr, const char *const *keys, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (keys[j] && strcasecmp(keys[j], fpr) == 0)
            return true;
    return false;
}

/* With a key binding recorded in the ref (a source's `keys`), every signer
 * must be one of the bound keys; so too with the binding the source has now
 * (opts->keys). */
static vs_status recheck_binding(const vs_cache_entry *e, const vs_stage_opts *o, const char *ref,
                                 vs_error *err)
{
    size_t nb = vs_cache_entry_nkeys(e);
    for (size_t i = 0; i < vs_cache_entry_nsigners(e); i++) {
        bool bound = nb == 0;
        for (size_t k = 0; k < nb && !bound; k++) {
            const char *key = vs_cache_entry_key(e, k);
            bound = key && strcasecmp(key, vs_cache_entry_signer(e, i)) == 0;
        }
        if (!bound) {
            vs_error_subj(err, VS_E_VERIFY, ref,
                          "signer key %s is not one of the keys its source is bound to",
                          vs_cache_entry_signer(e, i));
            vs_error_hint(err, "see the ref's keys with `vetstage cache show %s`", ref);
            return VS_E_VERIFY;
        }
        if (o && o->nkeys && !in_list(vs_cache_entry_signer(e, i), o->keys, o->nkeys)) {
            vs_error_subj(err, VS_E_VERIFY, ref,
                          "signer key %s is not one of the keys its source is bound to now",
                          vs_cache_entry_signer(e, i));
            vs_error_hint(err, "fetch it again through its source (vetstage fetch %s), or "
                               "bind the source to that key",
                          ref);
            return VS_E_VERIFY;
        }
    }
    return VS_OK;
}

/* The issuers named in the ref's OpenPGP signatures, as they say (gpg
 * verified them at admission; only the keys they name matter here): the
 * package's .asc, the checksum list's .asc, and the signature block of a
 * clearsigned list. *complete is false when one of them cannot be read or
 * parsed whole, or names more than `cap` keys: then nothing may be
 * concluded from what is missing. */
static size_t ref_issuers(vs_ctx *ctx, const vs_cache_entry *e, vs_pgp_issuer *iss, size_t cap,
                          bool *complete)
{
    size_t n = 0;
    *complete = true;
    for (size_t i = 0; i < vs_cache_entry_nsigs(e); i++) {
        const char *kind = vs_cache_entry_sig_kind(e, i);
        bool list = strcmp(kind, "checksums") == 0;
        if (!list && strcmp(kind, "gpg-sig") != 0 && strcmp(kind, "checksums-sig") != 0)
            continue;
        int fd = -1;
        vs_error ignored = VS_ERROR_INIT;
        uint8_t *buf = NULL;
        size_t len = 0, k = 0;
        bool ok = vs_cache_open_object(&fd, ctx, vs_cache_entry_sig_sha256(e, i), &ignored) ==
                      VS_OK &&
                  vs_read_fd(fd, kind, list ? VS_MAX_CHECKSUM_FILE : VS_MAX_SIG_FILE, &buf, &len,
                             &ignored) == VS_OK;
        bool skip = ok && list && !vs_clearsign_present(buf, len); /* no signature in it */
        if (ok && list && !skip)
            ok = vs_clearsign_check(buf, len, kind, &ignored) == VS_OK;
        if (ok && !skip) {
            ok = vs_pgp_sig_issuers_any(buf, len, iss + n, cap - n, &k);
            n += ok ? k : 0;
        }
        if (!ok)
            *complete = false;
        free(buf);
        if (fd >= 0)
            close(fd);
    }
    return n;
}

static bool issued_by(const vs_pgp_issuer *iss, size_t n, const char *fpr)
{
    uint8_t raw[20];
    if (strlen(fpr) != 40 || !vs_unhex(raw, sizeof raw, fpr, 40))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((iss[i].has_fpr && memcmp(iss[i].fpr, raw, 20) == 0) ||
            (!iss[i].has_fpr && iss[i].has_keyid && memcmp(iss[i].keyid, raw + 12, 8) == 0))
            return true;
    return false;
}

/*
 * The key that made OpenPGP signer `primary`'s signature may be one of its
 * subkeys. The signatures name it (gpg found it by that name at admission):
 * when none of the keys they name is a key of the signer any more, the key
 * that signed was removed; when every one named is revoked, it was revoked
 * (the signer's primary key may be neither). Signatures that cannot be read
 * whole leave this undecidable: refused, never assumed good.
 */
static vs_status recheck_signing_keys(const vs_key_state *keys, size_t nkeys,
                                      const vs_pgp_issuer *iss, size_t niss, bool complete,
                                      const char *primary, const char *ref, vs_error *err)
{
    if (!complete) {
        vs_error_subj(err, VS_E_VERIFY, ref,
                      "signer key %s: its cached signature file cannot be read whole, so which "
                      "of its keys made the signature cannot be re-checked",
                      primary);
        vs_error_hint(err, "remove it (vetstage cache rm) and fetch the package again");
        return VS_E_VERIFY;
    }
    const char *revoked = NULL;
    size_t named = 0;
    for (size_t j = 0; j < nkeys; j++) {
        const vs_key_state *k = &keys[j];
        bool of_primary = strcasecmp(k->primary[0] ? k->primary : k->fingerprint, primary) == 0;
        if (!of_primary || !issued_by(iss, niss, k->fingerprint))
            continue;
        named++;
        if (!k->revoked)
            return VS_OK; /* a key of the signer that made it is still good */
        revoked = k->fingerprint;
    }
    if (!named) {
        vs_error_subj(err, VS_E_VERIFY, ref,
                      "signer key %s: the key that made its signature was removed from the trust "
                      "store after the package was admitted",
                      primary);
        vs_error_hint(err, "import the key again with that subkey if it is still trusted "
                           "(vetstage keys import), or fetch a release signed by a stored key");
        return VS_E_VERIFY;
    }
    vs_error_subj(err, VS_E_VERIFY, ref,
                  "signer key %s: its signing subkey %s has been revoked since the package was "
                  "admitted",
                  primary, revoked);
    vs_error_hint(err, "fetch a release signed by a key that is not revoked");
    return VS_E_VERIFY;
}

/* Every signer recorded in the ref is still in the store and not revoked. */
static vs_status recheck_signers(vs_ctx *ctx, const vs_cache_entry *e, const char *ref,
                                 vs_error *err)
{
    if (vs_cache_entry_nsigners(e) == 0)
        return vs_error_subj(err, VS_E_VERIFY, ref, "the cache records no signer for it");
    vs_key_state *keys = NULL;
    size_t nkeys = 0;
    vs_status st = vs_trust_key_states(&keys, &nkeys, ctx, err);
    if (st)
        return st;
    vs_pgp_issuer *iss = calloc(VS_MAX_REF_ISSUERS, sizeof *iss);
    if (!iss) {
        free(keys);
        return vs_error_subj(err, VS_E_INTERNAL, ref, "out of memory");
    }
    bool complete;
    size_t niss = ref_issuers(ctx, e, iss, VS_MAX_REF_ISSUERS, &complete);
    for (size_t i = 0; i < vs_cache_entry_nsigners(e) && st == VS_OK; i++) {
        const vs_key_state *k = NULL;
        for (size_t j = 0; j < nkeys && !k; j++)
            if (strcasecmp(keys[j].fingerprint, vs_cache_entry_signer(e, i)) == 0)
                k = &keys[j];
        if (!k) {
            st = vs_error_subj(err, VS_E_VERIFY, ref,
                               "signer key %s was removed from the trust store after the "
                               "package was admitted",
                               vs_cache_entry_signer(e, i));
            vs_error_hint(err, "import the key again if it is still trusted "
                               "(vetstage keys import), or fetch a release signed by a stored key");
        } else if (k->revoked) {
            st = vs_error_subj(err, VS_E_VERIFY, ref,
                               "signer key %s has been revoked since the package was admitted",
                               vs_cache_entry_signer(e, i));
            vs_error_hint(err, "fetch a release signed by a key that is not revoked");
        } else if (!k->primary[0] && strlen(k->fingerprint) == 40) {
            st = recheck_signing_keys(keys, nkeys, iss, niss, complete, k->fingerprint, ref, err);
        }
    }
    free(iss);
    free(keys);
    return st;
}

/* The package object's size is still what the ref recorded (cheap, before
 * anything is written). Its bytes are hashed once, as the extraction reads
 * them: the tree is placed only when they match the ref's digest. */
static vs_status recheck_size(int fd, const vs_cache_entry *e, const char *ref, vs_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, ref,
                                   "cannot read the package in the cache");
    if ((uint64_t)sb.st_size != vs_cache_entry_size(e)) {
        vs_error_subj(err, VS_E_VERIFY, ref,
                      "the package in the cache was altered after admission (its sha256 is "
                      "no longer %s)",
                      vs_cache_entry_sha256(e));
        vs_error_hint(err, "run `vetstage cache fsck`, then fetch the package again");
        return VS_E_VERIFY;
    }
    return VS_OK;
}

static vs_status open_object(vs_ctx *ctx, const vs_cache_entry *e, const char *ref,
                             uint8_t digest[VS_SHA256_LEN], int *fd, vs_error *err)
{
    if (!vs_unhex(digest, VS_SHA256_LEN, vs_cache_entry_sha256(e),
                  strlen(vs_cache_entry_sha256(e))))
        return vs_error_subj(err, VS_E_INTEGRITY, ref, "bad object id in the cache");
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = vs_cache_open_object(fd, ctx, vs_cache_entry_sha256(e), &e2);
    if (st && e2.detail == VS_DETAIL_NOT_FOUND) {
        vs_error_subj(err, VS_E_VERIFY, ref, "package object %s in the cache: missing",
                      vs_cache_entry_sha256(e));
        vs_error_hint(err, "run `vetstage cache fsck`, then fetch the package again");
        return VS_E_VERIFY;
    }
    if (st) {
        if (err)
            *err = e2; /* a link below the home, or an I/O error: said as it is */
        return st;
    }
    return VS_OK;
}

VS_EXTERN vs_status vs_stage_ref(vs_stage_result *res, vs_ctx *ctx, const char *ref,
                                 const char *dest, const vs_stage_opts *opts, vs_error *err)
{
    vs_stage_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    if (!ctx || !ref)
        return vs_error_subj(err, VS_E_USAGE, "stage", "no package (NAME@VERSION) given");
    if (opts && VS_CHECK_OPTS(opts, vs_stage_opts, STAGE_OPTS, err))
        return VS_E_USAGE;
    vs_cache_entry *e = NULL;
    int fd = -1;
    uint8_t digest[VS_SHA256_LEN];
    vs_status st = vs_cache_lookup(&e, ctx, ref, err);
    if (!st)
        st = open_object(ctx, e, ref, digest, &fd, err);
    if (!st)
        st = recheck_binding(e, opts, ref, err);
    if (!st)
        st = recheck_signers(ctx, e, ref, err);
    if (!st)
        st = recheck_size(fd, e, ref, err);
    if (!st)
        st = vs_staged_prepare(ctx, err);
    if (!st) {
        char nv[VS_MAX_NAME + VS_MAX_VERSION + 2];
        snprintf(nv, sizeof nv, "%s@%s", vs_cache_entry_name(e), vs_cache_entry_version(e));
        vs_stage_source src = {fd, e, vs_cache_entry_file(e)[0] ? vs_cache_entry_file(e) : ref,
                               digest, ref, nv};
        st = vs_stage_source_run(ctx, &src, dest, opts, res, err);
    }
    if (fd >= 0)
        close(fd);
    vs_cache_entry_free(e);
    return st;
}
