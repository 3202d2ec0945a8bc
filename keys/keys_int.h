/* keys/keys_int.h - the trust store inside keys/ (and its tests); verify uses keys/trust.h. */
#ifndef VS_KEYS_INT_H
#define VS_KEYS_INT_H

#include <gcrypt.h>
#include <gpgme.h>

#include "common/common_int.h"
#include "vetstage/keys.h"

#include <stdbool.h>

#include "keys/trust.h" /* vs_rsa_key, the store as a context holds it */

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

/* Why the policy refuses a key of this weakness ("" for VS_RSA_STRONG). */
void vs_rsa_weakness_text(vs_rsa_weakness weak, unsigned bits, char *out, size_t cap);

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
/* gpg's and the RSA store's list as it is now (one gpg run); vs_keys_list
 * gives the context's copy of it instead (keys/trust.c). */
/* The stamp of the store's keyring files as they are now (the size and
 * SHA-256 of trust/gnupg/pubring.kbx and pubring.gpg; keys/keystate.c),
 * appended to out. Takes no lock and finishes nothing. */
vs_status vs_keys_keyring_stamp(vs_ctx *ctx, vs_sbuf *out, vs_error *err);
/* Each key of the store's GnuPG home, as gpg lists it, to fn (which keeps
 * what it needs; false: out of memory, which ends the listing). */
typedef bool (*vs_keys_gpg_fn)(gpgme_key_t key, void *ud);
vs_status vs_keys_gpg_each(vs_ctx *ctx, vs_keys_gpg_fn fn, void *ud, vs_error *err);
vs_status vs_keys_list_now(vs_key_info **out, size_t *nout, vs_ctx *ctx, vs_error *err);
/* gpg.conf and trustdb.gpg in a GnuPG home (homefd is the open directory). */
vs_status vs_keys_gnupg_prepare(const char *home, int homefd, vs_error *err);
/* A gpgme context on any GnuPG home path (offline, local keylist, no pinentry). */
vs_status vs_keys_gpgme_open_home(const char *home, gpgme_ctx_t *out, vs_error *err);
/* The one translation of gpgme errors: err gets `subject` (the file, the
 * fingerprint or the GnuPG home concerned), the reason "what: gpgme's text"
 * (or gpgme's text alone when what is NULL), backend "gpgme" and its code. */
vs_status vs_keys_gpgme_error(vs_error *err, vs_status st, gpgme_error_t ge, const char *subject,
                              const char *what);
/* A pending commit (HOME/trust/commit, left by an import that died between
 * its renames) is rolled forward, under the lock. Cheap when there is none;
 * every reader of the store calls it first. */
vs_status vs_keys_settle(vs_ctx *ctx, vs_error *err);

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

/* ---- fingerprints (fpr.c) ------------------------------------------------------ */

/*
 * Normalise a fingerprint given by a user: OpenPGP 40 hex (upper-cased),
 * also as `gpg --fingerprint` prints it (ten groups of four separated by one
 * space, two in the middle), with or without "0x", surrounding blanks
 * ignored; RSA "sha256:" + 64 hex (lower-cased). Returns the type, or 0 when
 * it is neither (out is then "").
 */
vs_key_type vs_keys_fpr_normalise(const char *in, char out[VS_FPR_MAX]);
/* Same, as an error (VS_E_USAGE, subject the text given, a hint) when it is
 * neither; `what` says where it came from ("--expect-fingerprint"). */
vs_status vs_keys_fpr_parse(const char *in, const char *what, char out[VS_FPR_MAX],
                            vs_key_type *type, vs_error *err);

/* ---- key information (keylist.c) -------------------------------------------------- */

typedef struct vs_key_infos {
    vs_key_info *v;
    size_t n, cap;
} vs_key_infos;

/* A new zeroed entry at the end (NULL when out of memory). */
vs_key_info *vs_key_infos_add(vs_key_infos *a);
void vs_keys_info_from_gpgme(gpgme_key_t k, vs_key_info *ki);
void vs_keys_info_from_rsa(const char *fpr, unsigned bits, vs_rsa_scheme scheme, vs_key_info *ki);

/* ---- choosing what to import (select.c; pure, no files) --------------------------- */

/* One key found in the files of an import. */
typedef struct vs_key_cand {
    vs_key_info info;     /* type, fingerprint, algorithm, ...; status and note set by select */
    size_t file;          /* index into the files */
    bool revocation;      /* a revocation certificate for info.fingerprint */
    char refusal[192];    /* "" or why it cannot be imported (a sentence without subject) */
    vs_status refusal_st; /* VS_E_POLICY (weak) or VS_E_USAGE (gpg could not read it) */
    char (*sub)[41];      /* OpenPGP subkey fingerprints (borrowed) */
    size_t nsub;
    bool selected;        /* out: to be imported */
    bool dup;             /* out: the same key found earlier; not reported again */
} vs_key_cand;

/*
 * Decide which keys an import takes. With named fingerprints (expect, already
 * normalised): exactly those, every other key skipped with a note; a name
 * found in no file is VS_E_VERIFY (subject the fingerprint; a subkey's
 * fingerprint is told apart). Without: every key. A selected key with a
 * weakness is VS_E_POLICY (subject its file; when its file holds several
 * keys the hint names --expect-fingerprint). The same key found twice is
 * kept once (the first). files[] names the files for messages.
 */
vs_status vs_keys_select(vs_key_cand *c, size_t n, const char *const *files, size_t nfiles,
                         const char (*expect)[VS_FPR_MAX], size_t nexpect, vs_error *err);

/* ---- the commit record (commit.c) ------------------------------------------------ */

/* What an import renames into the store once everything is staged. */
typedef struct vs_keys_commit {
    char (*rsa_tmp)[64];   /* staged names in trust/rsa */
    char (*rsa_name)[72];  /* their final names (<hex64>.pem) */
    size_t nrsa;
    char gnupg_tmp[64];    /* scratch home in trust whose keyring replaces the store's; "" none */
} vs_keys_commit;

/* Write HOME/trust/commit (the commit point), apply every rename, remove it.
 * Caller holds the lock and has fsynced everything staged. *recorded tells
 * whether the record was written: then, even on an error, the staged files
 * must stay for the next lock holder to finish the commit. */
vs_status vs_keys_commit_apply(vs_ctx *ctx, const vs_keys_commit *c, bool *recorded,
                               vs_error *err);
/* Under the lock: finish a commit record left by a process that died. */
vs_status vs_keys_commit_recover(vs_ctx *ctx, vs_error *err);
/* Parse a commit record (untrusted bytes: it lives in the home). Names are
 * checked to be ours (".tmp-" + hex, "tmp-" + hex, <hex64>.pem). Caller frees
 * with vs_keys_commit_free. VS_E_INTEGRITY when malformed. */
vs_status vs_keys_commit_parse(const uint8_t *p, size_t len, vs_keys_commit *c, vs_error *err);
void vs_keys_commit_free(vs_keys_commit *c);

/* ---- scratch GnuPG homes (scratch.c) ------------------------------------------------ */

typedef struct vs_keys_scratch {
    char name[64];  /* tmp-XXXX inside HOME/trust */
    char *path;     /* absolute */
    int fd;
    gpgme_ctx_t g;
} vs_keys_scratch;

/* A new GnuPG home HOME/trust/tmp-XXXX, empty or (copy_store) holding a copy
 * of the store's keyring; caller holds the lock. */
vs_status vs_keys_scratch_open(vs_ctx *ctx, vs_keys_scratch *s, bool copy_store, vs_error *err);
/* Release the context and remove the directory (keep: leave it, for a commit). */
void vs_keys_scratch_close(vs_ctx *ctx, vs_keys_scratch *s);

#endif
