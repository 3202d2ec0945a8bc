/*
 * verify/issuers.c - a signature file that cannot be trusted, told before
 * the package it signs is downloaded (cache: fetch refuses early).
 *
 * Reads what the file says of itself: its form (vs_pgp_sig_sniff, as
 * verify reads it) and the issuers its signature packets name
 * (vs_pgp_sig_issuers), looked up in the store's keyring through the
 * context's gpgme. Unverified claims can only ever make us refuse - a file
 * that lies about its issuer fails gpg's check anyway - so nothing here
 * accepts anything: every acceptance is gpg's, over the whole package.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keys/trust.h"
#include "verify/verify_int.h"

#define MAX_ISSUERS 8
#define ALLOWED_TEXT 1024

/* What the store says of one issuer (hex fingerprint or key ID): 1 an
 * allowed key has it, 0 no stored key has that (sub)key, -1 a stored key
 * the binding leaves out (its fingerprint into fpr), 2 cannot tell. */
static int issuer_judge(vs_ctx *ctx, const char *id, const char *const *keys, size_t nkeys,
                        char fpr[VS_FPR_MAX])
{
    /* a primary key's fingerprint: the context's key list answers, no gpg run */
    const vs_key_info *ki = NULL;
    size_t nki = 0;
    if (strlen(id) == 40 && vs_trust_key_infos(&ki, &nki, ctx, NULL) == VS_OK) {
        for (size_t k = 0; k < nki; k++) {
            if (ki[k].type != VS_KEY_OPENPGP || strcasecmp(ki[k].fingerprint, id) != 0)
                continue;
            snprintf(fpr, VS_FPR_MAX, "%s", ki[k].fingerprint);
            return vs_fpr_bound(id, keys, nkeys) ? 1 : -1;
        }
    }
    /* a subkey, or a key ID: gpg finds the key that holds it */
    gpgme_ctx_t g = NULL;
    if (vs_trust_gpgme(&g, ctx, NULL) != VS_OK)
        return 2;
    gpgme_key_t key = NULL;
    gpgme_error_t ge = gpgme_get_key(g, id, &key, 0);
    if (gpgme_err_code(ge) == GPG_ERR_EOF)
        return 0;
    if (ge || !key || !key->subkeys || !key->subkeys->fpr) {
        gpgme_key_unref(key);
        return 2;
    }
    int r = 2;
    char norm[VS_FPR_MAX];
    if (vs_fpr_normalize(key->subkeys->fpr, norm)) {
        snprintf(fpr, VS_FPR_MAX, "%s", key->subkeys->fpr);
        r = vs_fpr_bound(norm, keys, nkeys) ? 1 : -1;
    }
    gpgme_key_unref(key);
    return r;
}

static void upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'f')
            *s = (char)(*s - 'a' + 'A');
}

/* The first signature's issuer as it names itself (fingerprint, else key ID). */
static void issuer_id(const vs_pgp_issuer *is, char id[41])
{
    id[0] = '\0';
    if (is->has_fpr)
        vs_hex(id, is->fpr, 20);
    else if (is->has_keyid)
        vs_hex(id, is->keyid, 8);
    upper(id);
}

vs_status vs_pgp_sig_unmeetable(vs_ctx *ctx, const uint8_t *p, size_t len,
                                const char *const *keys, size_t nkeys, const char *file,
                                vs_error *err)
{
    vs_pgp_form form = vs_pgp_sig_sniff(p, len);
    if (form == VS_PGP_NONE && vs_clearsign_present(p, len))
        form = VS_PGP_CLEARSIGNED;
    if (form == VS_PGP_CLEARSIGNED) {
        vs_error_subj(err, VS_E_VERIFY, file, "a clearsigned file, not a detached signature");
        vs_error_hint(err, "a clearsigned checksum list is given as the checksum list itself");
        return VS_E_VERIFY;
    }
    if (form == VS_PGP_NONE)
        return vs_error_subj(err, VS_E_VERIFY, file, "not an OpenPGP signature");
    vs_pgp_issuer is[MAX_ISSUERS];
    size_t n = 0;
    if (!vs_pgp_sig_issuers(p, len, is, MAX_ISSUERS, &n))
        return VS_OK;
    int first = 2;
    char id0[41] = "", fpr0[VS_FPR_MAX] = "";
    for (size_t k = 0; k < n; k++) {
        char id[41], fpr[VS_FPR_MAX] = "";
        issuer_id(&is[k], id);
        int r = id[0] ? issuer_judge(ctx, id, keys, nkeys, fpr) : 2;
        if (r > 0) /* an allowed key, or nothing to tell: gpg decides */
            return VS_OK;
        if (k == 0) {
            first = r;
            memcpy(id0, id, sizeof id0);
            memcpy(fpr0, fpr, sizeof fpr0);
        }
    }
    if (first == 0) {
        vs_error_subj(err, VS_E_VERIFY, file, "signed by unknown key %s (not in the trust store)",
                      id0);
        vs_error_hint(err, "if you trust the signer, import its key: vetstage keys import FILE");
        return VS_E_VERIFY;
    }
    char allowed[ALLOWED_TEXT] = "", norm[VS_FPR_MAX];
    size_t o = 0;
    for (size_t k = 0; k < nkeys && o < sizeof allowed; k++) {
        if (!vs_fpr_normalize(keys[k], norm) || strlen(norm) != 40)
            continue; /* an RSA key: no OpenPGP signature can be by it */
        upper(norm);
        o += (size_t)snprintf(allowed + o, sizeof allowed - o, "%s%s", o ? ", " : "", norm);
    }
    if (!allowed[0])
        snprintf(allowed, sizeof allowed, "no OpenPGP key");
    vs_error_subj(err, VS_E_VERIFY, file,
                  "signed by key %s, which is not bound to this source (bound: %s)", fpr0, allowed);
    vs_error_hint(err, "if it is the vendor's key, add it to the source's keys (vetstage keys "
                       "import FILE first when it is not in the store)");
    return VS_E_VERIFY;
}
