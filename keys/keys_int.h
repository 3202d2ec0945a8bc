/* keys/keys_int.h - what verify (and tests) use of the trust store. */
#ifndef VS_KEYS_INT_H
#define VS_KEYS_INT_H

#include <gcrypt.h>
#include <gpgme.h>

#include "common/common_int.h"
#include "vetstage/keys.h"

#include <stdbool.h>

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

/* Why a well-formed RSA key is refused by policy (vs_rsa_pubkey_decode). */
typedef enum vs_rsa_weakness {
    VS_RSA_STRONG = 0,
    VS_RSA_WEAK_BITS,           /* modulus below VS_MIN_RSA_BITS */
    VS_RSA_WEAK_EVEN_EXPONENT,  /* even public exponent */
    VS_RSA_WEAK_SMALL_EXPONENT  /* exponent below VS_MIN_RSA_EXPONENT */
} vs_rsa_weakness;

/*
 * Same parser without the strength policy: a well-formed key is returned
 * (VS_OK) whatever its strength, and *weak says whether vs_rsa_pubkey_parse
 * would refuse it. For tests and test vectors (Wycheproof has e = 3 keys);
 * never use it to admit keys into the store.
 */
vs_status vs_rsa_pubkey_decode(const uint8_t *p, size_t len, const char *name, gcry_sexp_t *pub,
                               unsigned *bits, char fpr[VS_FPR_MAX], uint8_t **spki,
                               size_t *spki_len, vs_rsa_weakness *weak, vs_error *err);

/* Strict base64 of exactly len characters (no whitespace; padding only at the
 * end; unused bits zero). out needs len / 4 * 3 bytes. */
bool vs_keys_b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *outlen);

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

/* ---- used inside keys/ ------------------------------------------------------ */

/* Exclusive flock on HOME/trust/lock (created). Release with vs_keys_unlock. */
vs_status vs_keys_lock(vs_ctx *ctx, int *fd, vs_error *err);
void vs_keys_unlock(int fd);
/* Create HOME/trust/{gnupg,rsa} and the GnuPG home's gpg.conf and trustdb;
 * _prepare needs the lock held, _ensure takes it when something is missing. */
vs_status vs_keys_store_prepare(vs_ctx *ctx, vs_error *err);
vs_status vs_keys_store_ensure(vs_ctx *ctx, vs_error *err);
/* gpg.conf and trustdb.gpg in a GnuPG home (homefd is the open directory). */
vs_status vs_keys_gnupg_prepare(const char *home, int homefd, vs_error *err);
/* A gpgme context on any GnuPG home path (offline, local keylist, no pinentry). */
vs_status vs_keys_gpgme_open_home(const char *home, gpgme_ctx_t *out, vs_error *err);
/* Fill err from a gpgme error: "what: gpgme message". */
vs_status vs_keys_gpgme_error(vs_error *err, vs_status st, gpgme_error_t ge, const char *what);

/* HOME/trust/rsa/<hex64>.pem: the stored file's text (malloc'd) and one key
 * loaded from it (VS_E_USAGE when absent, VS_E_INTEGRITY when damaged). */
char *vs_keys_rsa_file_text(vs_rsa_scheme scheme, const uint8_t *spki, size_t len, size_t *outlen);
vs_status vs_keys_rsa_load_one(vs_ctx *ctx, const char *hex64, vs_rsa_key *k, vs_error *err);

/* What an OpenPGP file holds, found by walking its packets. */
typedef struct vs_pgp_scan {
    unsigned npublic;      /* primary public keys */
    unsigned nsecret;      /* secret (sub)keys or a PRIVATE KEY BLOCK */
    unsigned nsigs;        /* signature packets */
    unsigned nrevocations; /* key revocation signatures seen before any key */
    char issuer[41];       /* revocation issuer: 40-hex fingerprint or 16-hex key id */
    bool issuer_is_fpr;
} vs_pgp_scan;

/* Scan armored or binary OpenPGP data. VS_E_USAGE when it is not public key
 * material (garbage, other packets, secret keys, signatures that are not a
 * key revocation). A file with no key but only key revocations is accepted
 * (s->npublic == 0, s->issuer names the key). */
vs_status vs_keys_pgp_scan(const uint8_t *p, size_t len, const char *name, bool armored,
                           vs_pgp_scan *s, vs_error *err);

#endif
