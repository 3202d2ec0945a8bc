/*
 * vetstage/verify.h - one package and its signatures in, one verdict out.
 *
 * Two kinds of signature, two roles: OpenPGP is the vendor's (a detached
 * signature of the package, or a signed sha256sum-format checksum list whose
 * entry names the package); RSA is the organisation's release approval (a
 * raw signature over the package, raw bytes or base64, in the scheme its key
 * was bound to at import). The default policy requires both. A verdict
 * starts "rejected" and becomes "trusted" only when every required check
 * passed.
 */
#ifndef VETSTAGE_VERIFY_H
#define VETSTAGE_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "vetstage/common.h"
#include "vetstage/keys.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_REQUIRE_GPG 1u
#define VS_REQUIRE_RSA 2u
#define VS_REQUIRE_BOTH (VS_REQUIRE_GPG | VS_REQUIRE_RSA)

/* "gpg,rsa", "rsa,gpg", "gpg", "rsa" -> mask. VS_E_USAGE otherwise. */
VS_EXTERN vs_status vs_verify_require_parse(unsigned *out, const char *s, vs_error *err);

/* The layout of vs_verify_opts this header describes (see common.h, "Option structs"). */
#define VS_VERIFY_OPTS_VERSION 1u

typedef struct vs_verify_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    const char *gpg_sig;      /* detached OpenPGP signature; NULL: PACKAGE.asc if it exists */
    const char *checksums;    /* signed checksum list; its signature is CHECKSUMS.asc */
    const char *checksums_sig; /* NULL: checksums + ".asc" */
    const char *rsa_sig;      /* NULL: PACKAGE.sig if it exists */
    unsigned require;         /* VS_REQUIRE_* mask; 0 means VS_REQUIRE_BOTH */
    unsigned max_sig_age_days; /* 0: no limit; older signatures -> VS_E_POLICY */
    const char *package_name; /* name looked up in the checksum list; NULL: basename(package) */
    const uint8_t *known_sha256; /* 32 bytes if the caller already hashed the package, else NULL */
    /* Key binding (a source's `keys`, like apt's signed-by): when nkeys > 0
     * only signatures by these fingerprints count (OpenPGP: the primary
     * key's 40-hex fingerprint, case and spaces ignored, optional "0x"; RSA:
     * "sha256:HEX"). Signatures by other stored keys are reported with the
     * reason that the key is not bound to this source, and never counted. */
    const char *const *keys;
    size_t nkeys;
} vs_verify_opts;

#define VS_VERIFY_OPTS_INIT \
    { VS_VERIFY_OPTS_VERSION, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }

typedef enum vs_sig_kind { VS_SIG_GPG = 1, VS_SIG_RSA = 2 } vs_sig_kind;

/* What one signature does to the verdict (apt's rule for several signatures). */
typedef enum vs_sig_effect {
    VS_SIG_REJECTS = 0, /* by a stored, bound, current key, but not acceptable (bad bytes,
                         * weak digest, too old, ...): the package is rejected */
    VS_SIG_COUNTS = 1,  /* valid, by a stored, bound key neither expired nor revoked */
    VS_SIG_IGNORED = 2, /* by a key not in the store, not bound, expired or revoked:
                         * reported, not counted */
    VS_SIG_MISSING = 3  /* the signature file does not exist */
} vs_sig_effect;

typedef struct vs_sig_result {
    vs_sig_kind kind;
    bool valid;
    char fingerprint[VS_FPR_MAX]; /* signer, when known ("" otherwise) */
    int64_t created;              /* signature time (OpenPGP); 0 for RSA */
    char file[1024];              /* the signature (or checksum list) file */
    char reason[512];             /* why not valid, or "good signature" */
    vs_status status;             /* VS_OK when valid, else the status this failure maps to */
    vs_sig_effect effect;         /* valid == (effect == VS_SIG_COUNTS) */
    char hint[256];               /* the next step, when there is one ("" otherwise) */
} vs_sig_result;

typedef struct vs_verdict {
    char package[1024];
    uint64_t size;
    char sha256[65];
    bool trusted;
    vs_sig_result *sigs;
    size_t nsigs;
} vs_verdict;

/*
 * Verify `package` with the store of ctx under `opts` (NULL: defaults).
 *
 * The package is read once for every digest needed (SHA-256, plus SHA-384 /
 * SHA-512 when a stored RSA key's scheme uses them) on a second thread while
 * gpg checks the OpenPGP signature; memory stays flat whatever its size.
 * OpenPGP: each signature in the file is judged from gpgme's structured
 * result (status, full 40-hex fingerprint of a key in the store, key neither
 * expired nor revoked, digest SHA-224/256/384/512, RSA/DSA keys >= 2048
 * bits, age within max_sig_age_days). With a checksum list, its signature is
 * checked the same way and the list must then name package_name with the
 * package's SHA-256 (one entry, or duplicates that agree). RSA: the
 * signature (raw, or base64 of exactly the modulus length) is tried with
 * every RSA key in the store, each in the one scheme it was imported with
 * (the keys the context loaded once; see keys.h for when it reloads them).
 * Policy (apt's rule, see vs_sig_effect): signatures by keys not in the
 * store, not bound (opts->keys), expired or revoked do not count and are
 * reported; any other failing signature of a required kind rejects the
 * package; every required kind needs at least one counting signature. A
 * signature of a kind that is not required is still checked and reported
 * but cannot fail the verdict. With several failures the first failing
 * required kind (OpenPGP, then RSA) gives the status and err, whose subject
 * is the signature (or checksum list) file. A missing file's result has
 * effect VS_SIG_MISSING. A package changed during verification is refused.
 *
 * Returns VS_OK only when the verdict is trusted. Otherwise: VS_E_USAGE for
 * unreadable inputs or bad options; VS_E_VERIFY for bad, missing, untrusted,
 * expired, revoked or weak signatures and hash mismatches; VS_E_POLICY for a
 * signature older than max_sig_age_days or a key below minimum strength.
 * err names the file and reason of the first failure.
 * *out (may be NULL) receives the verdict whenever the package could be read,
 * trusted or not; caller frees with vs_verdict_free().
 */
VS_EXTERN vs_status vs_verify_package(vs_verdict **out, vs_ctx *ctx, const char *package,
                                      const vs_verify_opts *opts, vs_error *err);

VS_EXTERN void vs_verdict_free(vs_verdict *v);

/*
 * Can the store, as it is, meet `require` (VS_REQUIRE_*, 0 = both) for a
 * package bound to `keys` (NULL/0: any key)? Called before any download or
 * hashing. VS_OK when every required kind has at least one usable key
 * (present, bound when a binding is given, neither expired nor revoked);
 * otherwise VS_E_VERIFY with the subject naming the missing kind and a hint
 * naming --require (or the source's `require`).
 */
VS_EXTERN vs_status vs_verify_policy_check(vs_ctx *ctx, unsigned require, const char *const *keys,
                                           size_t nkeys, vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
