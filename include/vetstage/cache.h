/*
 * vetstage/cache.h - the content-addressed cache of vetted packages.
 *
 * HOME/cache/objects/sha256/ab/cdef... hold read-only objects (packages,
 * signatures, checksum lists); HOME/cache/refs/NAME/VERSION.json map a
 * NAME@VERSION to its package object, its signature objects and its
 * provenance. Nothing enters the cache unverified: downloads land in
 * HOME/cache/quarantine first. Writes are atomic; several processes on one
 * home are safe (flock; a killed holder releases its lock).
 */
#ifndef VETSTAGE_CACHE_H
#define VETSTAGE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "vetstage/common.h"
#include "vetstage/fetch.h"
#include "vetstage/keys.h"
#include "vetstage/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_CACHE_MAX_SIGS 4
#define VS_CACHE_MAX_SIGNERS 4
/* Fingerprints a package's source is bound to (vs_cache_fetch_opts.keys). */
#define VS_CACHE_MAX_KEYS 16
/* Mirror bases accepted by one fetch (each --mirror BASE gives two:
 * BASE/NAME/VERSION and BASE, see vs_source_mirror_bases). */
#define VS_CACHE_MAX_MIRRORS 32

/*
 * A cached package: an opaque entry, read with the accessors below. Every
 * function that gives one allocates it; the caller frees it with
 * vs_cache_entry_free(). Strings returned by the accessors are borrowed
 * from the entry (valid until it is freed) and never NULL for an index in
 * range; URLs are kept whole (any length fetch accepts) and as stored, that
 * is without credentials (vs_url_redact).
 */
typedef struct vs_cache_entry vs_cache_entry;

/* Free an entry (NULL is fine). */
VS_EXTERN void vs_cache_entry_free(vs_cache_entry *e);
/* Free an array from vs_cache_list and every entry in it (NULL is fine). */
VS_EXTERN void vs_cache_entry_list_free(vs_cache_entry **list, size_t n);

VS_EXTERN const char *vs_cache_entry_name(const vs_cache_entry *e);
VS_EXTERN const char *vs_cache_entry_version(const vs_cache_entry *e);
/* The package's original file name. */
VS_EXTERN const char *vs_cache_entry_file(const vs_cache_entry *e);
/* The package object id (64 lower-case hex). */
VS_EXTERN const char *vs_cache_entry_sha256(const vs_cache_entry *e);
VS_EXTERN uint64_t vs_cache_entry_size(const vs_cache_entry *e);
/* Where the package came from ("" when imported from disk). */
VS_EXTERN const char *vs_cache_entry_url(const vs_cache_entry *e);
/* VS_REQUIRE_* policy the package was admitted under. */
VS_EXTERN unsigned vs_cache_entry_require(const vs_cache_entry *e);
/* Unix time of verification. */
VS_EXTERN int64_t vs_cache_entry_verified(const vs_cache_entry *e);
/* Newest counting OpenPGP signature at admission (unix time; 0: none or
 * unknown): the rollback rule at stage. */
VS_EXTERN int64_t vs_cache_entry_signed_at(const vs_cache_entry *e);
/* "vetstage VERSION" that admitted it ("" when unknown). */
VS_EXTERN const char *vs_cache_entry_tool(const vs_cache_entry *e);

/* The signature-side objects kept with the package (at most
 * VS_CACHE_MAX_SIGS), and of the i-th: its kind ("gpg-sig", "checksums",
 * "checksums-sig", "rsa-sig"), original file name, object id and URL ("" if
 * imported from disk). NULL when i is out of range. */
VS_EXTERN size_t vs_cache_entry_nsigs(const vs_cache_entry *e);
VS_EXTERN const char *vs_cache_entry_sig_kind(const vs_cache_entry *e, size_t i);
VS_EXTERN const char *vs_cache_entry_sig_file(const vs_cache_entry *e, size_t i);
VS_EXTERN const char *vs_cache_entry_sig_sha256(const vs_cache_entry *e, size_t i);
VS_EXTERN const char *vs_cache_entry_sig_url(const vs_cache_entry *e, size_t i);

/* The fingerprints whose signatures counted at admission (at most
 * VS_CACHE_MAX_SIGNERS); the i-th, NULL when out of range. */
VS_EXTERN size_t vs_cache_entry_nsigners(const vs_cache_entry *e);
VS_EXTERN const char *vs_cache_entry_signer(const vs_cache_entry *e, size_t i);

/* The key binding recorded in an entry (normalised fingerprints): how many
 * (0: none, any key in the store counts), and the i-th (NULL when i is out
 * of range). vs_cache_reverify applies it by itself; stage and import pass
 * it on as vs_verify_opts.keys / vs_cache_fetch_opts.keys. */
VS_EXTERN size_t vs_cache_entry_nkeys(const vs_cache_entry *e);
VS_EXTERN const char *vs_cache_entry_key(const vs_cache_entry *e, size_t i);

/* The JSON form of an entry, one object with the contract's key names
 * (name, version, file, sha256, size, url, signatures: [{kind, file, sha256,
 * url}], signers, require, keys, verified, tool, and signed when known) -
 * the form of the ref on disk and of `cache show` / `cache list`. malloc'd
 * compact JSON text, caller frees; NULL on OOM or invalid UTF-8. */
VS_EXTERN char *vs_cache_entry_json(const vs_cache_entry *e);

/*
 * Compare two version strings the way dpkg does (without epochs or
 * revisions): runs of digits compare numerically (any length), other runs
 * character by character with letters before non-letters, and `~` sorting
 * before everything, even the end of the string ("1.0~rc1" < "1.0" < "1.0a"
 * < "1.0.1"). Returns <0, 0 or >0. NULL sorts first.
 */
VS_EXTERN int vs_version_cmp(const char *a, const char *b);

/* Look up "NAME@VERSION" (shared lock): *out a new entry (vs_cache_entry_free),
 * NULL on failure. VS_E_USAGE if malformed, or not in
 * the cache (then with VS_DETAIL_NOT_FOUND); VS_E_INTEGRITY if its ref file
 * is damaged or a link is on its way below the home. */
VS_EXTERN vs_status vs_cache_lookup(vs_cache_entry **out, vs_ctx *ctx, const char *ref,
                                    vs_error *err);

/* Absolute path of an object by its hex id (64 lower-case hex; anything
 * else gives NULL); malloc'd, caller frees. The object may not exist. */
VS_EXTERN char *vs_cache_object_path(vs_ctx *ctx, const char *sha256hex);

/* Open the object `sha256hex` for reading, never through a symbolic link
 * below the home (*out: an fd on a regular file; caller closes). Returns
 * VS_OK; VS_E_INTEGRITY when it is missing (VS_DETAIL_NOT_FOUND), not a
 * regular file, or a link is on the way (subject: the path inside the
 * home); VS_E_INTERNAL on I/O errors. Readers of cache objects use this,
 * not vs_cache_object_path. */
VS_EXTERN vs_status vs_cache_open_object(int *out, vs_ctx *ctx, const char *sha256hex,
                                         vs_error *err);

/* All entries sorted by name then version (oldest first, vs_version_cmp):
 * *out an array of *n entries. Damaged refs are skipped with a warning
 * (cache fsck reports them). Caller frees with vs_cache_entry_list_free;
 * *out is NULL when *n is 0. */
VS_EXTERN vs_status vs_cache_list(vs_cache_entry ***out, size_t *n, vs_ctx *ctx, vs_error *err);

/* Called by fsck for each damaged entry or object (what: "NAME@VERSION" or an object id). */
typedef void (*vs_cache_damage_cb)(const char *what, const char *reason, void *payload);

/* Re-hash every object and check every ref. VS_E_INTEGRITY if anything is
 * damaged (each reported through cb), VS_OK if clean. */
VS_EXTERN vs_status vs_cache_fsck(size_t *ndamaged, vs_ctx *ctx, vs_cache_damage_cb cb,
                                  void *payload, vs_error *err);

/* Keep the `keep` newest versions per name (keep 0: remove all refs;
 * UINT_MAX: remove none), then remove unreferenced objects, leftover
 * temporary files and quarantine directories no fetch is using (their
 * partial downloads are lost). Exclusive lock. VS_E_INTEGRITY (nothing
 * removed) when a ref cannot be read, since its objects are unknown. */
VS_EXTERN vs_status vs_cache_gc(size_t *refs_removed, size_t *objects_removed, vs_ctx *ctx,
                                unsigned keep, vs_error *err);

/* Remove the refs "NAME@VERSION" (n of them) under the exclusive lock,
 * then every object they used that no remaining ref uses. Each ref goes
 * with one unlink, so a killed run leaves each ref whole or gone. All refs
 * are checked first: a malformed or unknown one is VS_E_USAGE naming it
 * (VS_DETAIL_NOT_FOUND when unknown) and nothing is removed. A damaged ref
 * named here is removed (its objects are unknown and stay for gc). When
 * another ref cannot be read, no object is removed (logged). *objects_removed
 * (may be NULL) counts the objects removed. */
VS_EXTERN vs_status vs_cache_rm(size_t *objects_removed, vs_ctx *ctx, const char *const *refs,
                                size_t n, vs_error *err);

/* ---- fetch into the cache ----------------------------------------------- */

/* The layout of vs_cache_fetch_opts this header describes (see common.h, "Option structs"). */
#define VS_CACHE_FETCH_OPTS_VERSION 1u

typedef struct vs_cache_fetch_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    const char *url;
    const char *name;          /* NULL: from the URL */
    const char *version;       /* NULL: from the URL */
    const char *gpg_sig_url;   /* NULL: URL.asc (unless checksums_url) */
    const char *checksums_url; /* signed checksum list; its signature at U.asc */
    const char *rsa_sig_url;   /* NULL: URL.sig */
    const char *const *mirrors; /* bases tried in order after the URL */
    size_t nmirrors;
    vs_fetch_opts fetch;       /* transport options */
    unsigned require;          /* VS_REQUIRE_*; 0: both */
    unsigned max_sig_age_days;
    /* Key binding (see vs_verify_opts.keys): recorded in the ref and applied
     * again at stage and import. NULL/0: any key in the store. */
    const char *const *keys;
    size_t nkeys;
} vs_cache_fetch_opts;
#define VS_CACHE_FETCH_OPTS_INIT \
    { VS_CACHE_FETCH_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, \
      VS_FETCH_OPTS_INIT, 0, 0, NULL, 0 }

/*
 * Download a package and its signatures into quarantine, verify with the
 * verify policy, and only then admit it as NAME@VERSION. In phases:
 *  - Resolve, before the network: the options; NAME/VERSION from opts
 *    (validated) or vs_fetch_name_version(url); the key binding (each a
 *    fingerprint, VS_E_USAGE naming one that is not); the policy against
 *    the store (vs_verify_policy_check: VS_E_VERIFY with a hint naming
 *    --require when the store cannot meet it - nothing is downloaded); the
 *    cache's directories (a symbolic link: VS_E_INTEGRITY).
 *  - Reuse: when the ref exists with the same key binding and its objects
 *    are there, nothing is downloaded (*already = true, *out read from the
 *    ref, *verdict NULL). This is said only after the arguments were checked.
 *  - Sources: the URL, then each mirror (vs_fetch_mirror_url of every
 *    file). The package is fetched first (streamed and hashed once), so a
 *    package that cannot be had fails naming the package's URL, never a
 *    signature's. Then the signature files (VS_MAX_SIG_FILE /
 *    VS_MAX_CHECKSUM_FILE): one the policy requires that cannot be fetched
 *    (404, ...) fails the source with VS_E_FETCH naming its URL (and drops
 *    the downloaded package); one it does not require may be absent. The
 *    verdict applies the key binding; errors and the verdict name URLs, not
 *    quarantine files (subjects relabelled). A source failing to download or
 *    to verify passes to the next; when all fail, the first source's error
 *    is returned (the others logged at VS_LOG_WARN) and *verdict holds the
 *    first source's verdict if it got that far.
 *  - Quarantine: HOME/cache/quarantine/<sha256(url)>/, flock'ed, so a
 *    second fetch of the same URL waits and then finds the ref (already).
 *    A failed package download keeps the partial package there and the next
 *    fetch of the URL resumes it; every other failure leaves no quarantine.
 *  - Admission under the exclusive lock: the replay rule (the same bytes
 *    as another version of NAME: VS_E_POLICY), objects, then the ref, which
 *    records the key binding.
 * A failure leaves refs and objects as they were.
 * Returns VS_OK, VS_E_USAGE (bad URL/scheme, name, version, options),
 * VS_E_FETCH, VS_E_VERIFY, VS_E_POLICY, VS_E_INTEGRITY (a link below the
 * home), VS_E_INTERNAL. *out (may be NULL) a new entry on success
 * (vs_cache_entry_free), NULL otherwise; *verdict (may be NULL) freed by
 * the caller with vs_verdict_free.
 */
VS_EXTERN vs_status vs_cache_fetch(vs_cache_entry **out, bool *already, vs_verdict **verdict,
                                   vs_ctx *ctx, const vs_cache_fetch_opts *opts, vs_error *err);

/* Re-verify a cached entry under a shared lock: re-hash the package and
 * signature objects (VS_E_VERIFY "cache object ... altered" on a mismatch
 * or a missing object), then vs_verify_package on the objects with the
 * entry's policy and the trust store as it is now (VS_E_VERIFY /
 * VS_E_POLICY when a signature no longer passes). *verdict as in
 * vs_verify_package. */
VS_EXTERN vs_status vs_cache_reverify(vs_verdict **verdict, vs_ctx *ctx, const vs_cache_entry *e,
                                      vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
