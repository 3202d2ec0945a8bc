/*
 * vetstage/keys.h - the trust store.
 *
 * The store lives in the vetstage home: OpenPGP keys in a private GnuPG home
 * (HOME/trust/gnupg, driven through gpgme; never the user's ~/.gnupg, no
 * keyserver, no WKD, no automatic key retrieval) and RSA public keys as DER
 * SubjectPublicKeyInfo files with their bound signature scheme
 * (HOME/trust/rsa/). Trust is pinned: a key counts when its full fingerprint
 * is in the store and it is neither expired nor revoked. The GnuPG web of
 * trust is not used.
 *
 * The context owns the store as loaded: the RSA keys are read and parsed
 * once per vs_ctx (by its first verify, fetch, stage or import check) and
 * kept for every later one, and the gpgme context on the GnuPG home is
 * opened once (gpg reads the keyring on each operation). The store is
 * read again when it changed under the context: vs_keys_import and
 * vs_keys_remove drop what their context holds, and every use compares the
 * folder HOME/trust/rsa (inode, modification and change times - every key
 * added, replaced or removed is a rename or unlink there) with what it was
 * at load, so a change by another context or process on the home is seen
 * by the next call too.
 */
#ifndef VETSTAGE_KEYS_H
#define VETSTAGE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "vetstage/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vs_key_type { VS_KEY_OPENPGP = 1, VS_KEY_RSA = 2 } vs_key_type;

/* The one signature scheme an RSA key is bound to. PSS: MGF1 with the same
 * hash; salt length the hash length or the maximum. */
typedef enum vs_rsa_scheme {
    VS_RSA_PKCS1_SHA256 = 0, /* default */
    VS_RSA_PKCS1_SHA384,
    VS_RSA_PKCS1_SHA512,
    VS_RSA_PSS_SHA256,
    VS_RSA_PSS_SHA384,
    VS_RSA_PSS_SHA512
} vs_rsa_scheme;

/* "pkcs1-sha256" ... "pss-sha512". VS_E_USAGE for anything else. */
VS_EXTERN vs_status vs_rsa_scheme_parse(vs_rsa_scheme *out, const char *name, vs_error *err);
/* Name of a scheme; never NULL. */
VS_EXTERN const char *vs_rsa_scheme_name(vs_rsa_scheme scheme);

/* "sha256:" + 64 hex, or 40 hex: fits with room. */
#define VS_FPR_MAX 80

/* What an import did with one key it found (vs_key_info.status). */
typedef enum vs_key_status {
    VS_KEY_IMPORTED = 0, /* new in the store (also every key vs_keys_list returns) */
    VS_KEY_PRESENT,      /* already in the store and unchanged: "already present" */
    VS_KEY_UPDATED,      /* already in the store; new user ids, subkeys or signatures added */
    VS_KEY_REVOKED_NOW,  /* a revocation certificate applied to a stored key */
    VS_KEY_SKIPPED       /* in a file but not imported; `note` says why */
} vs_key_status;

/* "imported", "already present", "updated", "revoked", "skipped"; never NULL. */
VS_EXTERN const char *vs_key_status_name(vs_key_status status);

typedef struct vs_key_info {
    vs_key_type type;
    char fingerprint[VS_FPR_MAX]; /* OpenPGP: 40 upper-case hex; RSA: "sha256:" + lower hex */
    char algorithm[32];           /* "rsa", "ed25519", "dsa", ... */
    unsigned bits;
    char uid[256];                /* OpenPGP primary user id; "" for RSA */
    int64_t created;              /* unix time; 0 unknown */
    int64_t expires;              /* unix time; 0 never */
    bool revoked;
    bool expired;
    vs_rsa_scheme scheme;         /* RSA only */
    bool revocation_applied;      /* import result: this entry was a revocation certificate */
    /* import results only (zero from vs_keys_list): */
    vs_key_status status;
    size_t file;                  /* index into the import's files[] it was found in */
    char note[256];               /* SKIPPED: why ("not named", a weakness); imported:
                                     a warning ("expired ...: it can verify nothing"), or "" */
} vs_key_info;

/* The layout of vs_keys_import_opts this header describes (see common.h, "Option structs"). */
#define VS_KEYS_IMPORT_OPTS_VERSION 1u

typedef struct vs_keys_import_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    /* One named key (NULL: none). Kept for 0.1 callers; joins `expect`. */
    const char *expect_fingerprint;
    vs_rsa_scheme rsa_scheme;     /* scheme bound to RSA keys imported */
    /* The keys to import, by fingerprint, as `gpg --fingerprint` prints them
     * (groups of four hex digits separated by spaces) or without spaces, in
     * either case, with or without "0x"; RSA as "sha256:" + 64 hex. When any
     * is given, exactly these keys are imported (OpenPGP keys with their
     * subkeys) and every other key in the files is skipped; none given: every
     * key in the files is imported. */
    const char *const *expect;
    size_t nexpect;
} vs_keys_import_opts;

#define VS_KEYS_IMPORT_OPTS_INIT \
    { VS_KEYS_IMPORT_OPTS_VERSION, NULL, VS_RSA_PKCS1_SHA256, NULL, 0 }

/*
 * Import keys from `files` (OpenPGP armored/binary public keys, one or many
 * per file, or revocation certificates for stored keys; RSA PEM SPKI, PEM
 * PKCS#1, DER SPKI; each file at most VS_MAX_KEY_FILE bytes).
 *
 * All or nothing: if anything is refused, the store is unchanged. The phases:
 * every file is read and classified (secret keys and garbage never reach
 * gpg); the OpenPGP files are imported into an empty scratch GnuPG home to
 * learn which keys each holds; the keys to import are selected (the named
 * ones, or all) and the policy applied to them only; exactly those keys are
 * exported from the scratch home by gpg and imported into a scratch copy of
 * the store's keyring, RSA files are staged; then the store is committed.
 * Holds an exclusive lock on HOME/trust/lock throughout. The commit is
 * recorded in HOME/trust/commit before any rename and rolled forward by
 * the next opening of the store if the process dies in the middle, so a
 * kill -9 leaves either the old store or the new one.
 *
 * An RSA key is bound to opts->rsa_scheme; importing a stored RSA key again
 * with another scheme is refused (VS_E_USAGE: remove it first). Importing a
 * key that is already stored is not an error (VS_KEY_PRESENT or
 * VS_KEY_UPDATED). A key that is expired or revoked is imported with a
 * warning in `note` (it can verify nothing).
 *
 * Returns VS_OK; VS_E_USAGE for unreadable or oversized files, garbage,
 * secret keys (OpenPGP secret packets or PEM private keys), a revocation for
 * a key not in the store, a malformed fingerprint in expect or a scheme
 * conflict; VS_E_POLICY when a key being imported is an RSA key below
 * VS_MIN_RSA_BITS or with an even or small exponent, or an OpenPGP key whose
 * primary key or a signing subkey is RSA, DSA or ElGamal below
 * VS_MIN_RSA_BITS (without `expect`, a weak key in a file of several keys
 * refuses the import; the hint names --expect-fingerprint); VS_E_VERIFY
 * when a named fingerprint is in none of the files; VS_E_INTERNAL otherwise.
 * Every error's subject is the file or the fingerprint it concerns.
 * On VS_OK *out holds *nout entries in file order, one per key found
 * (skipped ones included, with status VS_KEY_SKIPPED; revocation
 * certificates give the revoked key with VS_KEY_REVOKED_NOW); caller frees
 * with vs_key_info_free(). out and nout may be NULL.
 */
VS_EXTERN vs_status vs_keys_import(vs_key_info **out, size_t *nout, vs_ctx *ctx,
                                   const char *const *files, size_t nfiles,
                                   const vs_keys_import_opts *opts, vs_error *err);

/* All keys in the store, OpenPGP first then RSA, each sorted by fingerprint.
 * Creates an empty store if there is none. Returns VS_OK, VS_E_INTEGRITY
 * when a stored RSA key file is damaged (the message names it), or
 * VS_E_INTERNAL. Caller frees *out with vs_key_info_free(). */
VS_EXTERN vs_status vs_keys_list(vs_key_info **out, size_t *nout, vs_ctx *ctx, vs_error *err);

/* Remove the key with this fingerprint (case-insensitive, spaces and "0x"
 * as for import; RSA with its "sha256:" prefix; OpenPGP by its primary key's
 * full fingerprint only).
 * One unlink (RSA) or one gpg keyring update (OpenPGP), under the store lock.
 * VS_E_USAGE when the text is not a fingerprint or no such key is stored. */
VS_EXTERN vs_status vs_keys_remove(vs_ctx *ctx, const char *fingerprint, vs_error *err);

/* Free an array returned by the functions above; NULL accepted. */
VS_EXTERN void vs_key_info_free(vs_key_info *keys);

#ifdef __cplusplus
}
#endif
#endif
