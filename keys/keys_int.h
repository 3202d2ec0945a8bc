/* keys/keys_int.h - what verify (and tests) use of the trust store. */
#ifndef VS_KEYS_INT_H
#define VS_KEYS_INT_H

#include <gcrypt.h>
#include <gpgme.h>

#include "common/common_int.h"
#include "vetstage/keys.h"

/* One stored RSA key, ready for libgcrypt. */
typedef struct vs_rsa_key {
    char fingerprint[VS_FPR_MAX];
    vs_rsa_scheme scheme;
    unsigned bits;
    gcry_sexp_t pub; /* (public-key (rsa (n ..) (e ..))) */
} vs_rsa_key;

/*
 * Parse an RSA public key (PEM "PUBLIC KEY", PEM "RSA PUBLIC KEY", or DER
 * SubjectPublicKeyInfo) from untrusted bytes, strictly. `name` is used in
 * messages. On success fills *pub (caller releases with gcry_sexp_release),
 * *bits, fpr ("sha256:" + hex of the DER SPKI), and optionally the DER SPKI
 * (*spki malloc'd, caller frees; pass NULL to skip).
 * Returns VS_E_USAGE for malformed input, VS_E_POLICY for weak keys.
 */
vs_status vs_rsa_pubkey_parse(const uint8_t *p, size_t len, const char *name, gcry_sexp_t *pub,
                              unsigned *bits, char fpr[VS_FPR_MAX], uint8_t **spki,
                              size_t *spki_len, vs_error *err);

/* Every RSA key in the store. Caller frees with vs_rsa_keys_free. */
vs_status vs_keys_rsa_load_all(vs_ctx *ctx, vs_rsa_key **out, size_t *n, vs_error *err);
void vs_rsa_keys_free(vs_rsa_key *keys, size_t n);

/*
 * A gpgme context bound to the store's private GnuPG home (created on first
 * use with a gpg.conf that disables auto key retrieval and uses
 * trust-model always), OpenPGP protocol, no keyserver.
 * Caller releases with gpgme_release.
 */
vs_status vs_keys_gpgme_open(vs_ctx *ctx, gpgme_ctx_t *out, vs_error *err);

/* Path of the private GnuPG home (malloc'd; caller frees). */
char *vs_keys_gnupg_home(vs_ctx *ctx);

#endif
