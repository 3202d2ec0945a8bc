/*
 * vetstage/stage.h - a vetted package from the cache into a volume layout,
 * and the layout check.
 */
#ifndef VETSTAGE_STAGE_H
#define VETSTAGE_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "vetstage/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layout of vs_stage_opts this header describes (see common.h, "Option structs"). */
#define VS_STAGE_OPTS_VERSION 1u

typedef struct vs_stage_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    bool flat;             /* write the tree straight to an absent or empty dest */
    bool allow_downgrade;  /* allow a version lower than current */
    uint64_t max_unpacked; /* 0: VS_DEFAULT_MAX_UNPACKED */
    uint64_t max_entries;  /* 0: VS_DEFAULT_MAX_ENTRIES */
    unsigned strip_components; /* drop the first N path components of every entry */
    unsigned keep;         /* versioned: after `current` switched, remove all but the
                              `keep` newest versions (never the current one); 0: keep all */
    const char *arch;      /* "amd64" | "arm64": every ELF file must be for it; NULL: any */
    /* The key binding of the package's source as configured now (a source's
     * `keys`): when nkeys > 0 every signer the ref records must be one of
     * them, besides the binding recorded in the ref itself - a ref admitted
     * before its source was bound does not slip past the binding. */
    const char *const *keys;
    size_t nkeys;
} vs_stage_opts;

#define VS_STAGE_OPTS_INIT \
    { VS_STAGE_OPTS_VERSION, false, false, 0, 0, 0, 0, NULL, NULL, 0 }

typedef struct vs_stage_result {
    char path[4096];  /* the staged tree (DIR/versions/V or DIR) */
    uint64_t files;
    uint64_t bytes;
} vs_stage_result;

/*
 * Stage the cached "NAME@VERSION" into `dest`.
 *
 * 1. Re-check, before any byte is extracted: the package object still hashes
 *    to the SHA-256 its ref recorded when the signatures were verified (the
 *    bytes extracted are hashed again as they are read and must match), and
 *    no signer key recorded in the ref has since been revoked or removed from
 *    the store. A key that merely expired after admission does not block.
 *    Errors name NAME@VERSION, never the cache object path.
 * 2. `dest` must be outside the home and absent, empty, or a vetstage layout
 *    of the same kind (versioned: only `current` -> versions/VERSION and
 *    versions/ of staged trees; flat: never, --flat needs it absent or
 *    empty); anything else is VS_E_USAGE before any change, naming DEST and
 *    what was found. Then, versioned, the downgrade and rollback rules.
 * 3. Extract (the rules of the contract; see stage_int.h) into this run's
 *    work folder DEST/.vetstage-tmp-HEX/ (its `lock` file flock'ed while the
 *    run lives), and write .vetstage/MANIFEST.sha256, .vetstage/MODES and
 *    .vetstage/provenance.json (name, version, package, sha256, size, url,
 *    signatures [{kind, file, sha256, url}], signers [{type, fingerprint}],
 *    signed, verified, admitted, arch when given, tool).
 * 4. Versioned: DEST/versions/VERSION appears by one rename (an exchange
 *    when that version is staged already, which also repairs a damaged
 *    copy); DEST/current flips by renaming a fresh symlink over it; then
 *    opts->keep prunes all but the newest versions, never the current one.
 *    Flat: the tree's entries are renamed into DEST, .vetstage last.
 * 5. The layout digest of DEST is recorded in HOME/staged/ (see
 *    vs_layout_recorded_digest).
 * Concurrent stages into one destination are serialised (flock on DEST).
 * Work folders of runs that are gone (their lock can be taken) are removed
 * by the next run, after its checks; nothing else in DEST is ever removed.
 * On failure the work folder is removed and DEST is as before (a DEST
 * created by this call is removed again).
 *
 * Returns VS_OK; VS_E_USAGE (bad ref, not in the cache, DEST refused);
 * VS_E_VERIFY (package altered, signer revoked or removed); VS_E_INTEGRITY
 * (damaged cache ref, a symbolic link below the home); VS_E_UNSAFE (archive
 * refused); VS_E_POLICY (downgrade, rollback, ELF of another architecture);
 * VS_E_INTERNAL (I/O). `res` (may be NULL) receives the staged path and
 * counts.
 */
VS_EXTERN vs_status vs_stage_ref(vs_stage_result *res, vs_ctx *ctx, const char *ref,
                                 const char *dest, const vs_stage_opts *opts, vs_error *err);

/* Called by the layout check for each problem found. */
typedef void (*vs_layout_problem_cb)(const char *path, const char *reason, void *payload);

/*
 * Check a staged tree (flat: DIR/.vetstage/MANIFEST.sha256 exists; versioned:
 * DIR/current -> versions/VERSION) against its MANIFEST.sha256 and MODES:
 * every recorded file present with its hash and mode, directories with their
 * mode, symlinks with their target, nothing extra (files, directories,
 * symlinks, or files in .vetstage other than the three it holds). Each
 * problem is reported through `cb` (may be NULL) with the path relative to
 * the tree and a reason; *nproblems (may be NULL) gets their number.
 * Returns VS_OK (intact); VS_E_INTEGRITY (problems found: the message
 * summarises "DIR: layout damaged: N problems found"; or the metadata files
 * are missing or malformed, or current points nowhere); VS_E_USAGE (DIR
 * absent or not a layout); VS_E_INTERNAL.
 * Needs no context and depends only on libc + libgcrypt: the static
 * `vetstage-check` runs it too.
 */
VS_EXTERN vs_status vs_layout_check(size_t *nproblems, const char *dir, vs_layout_problem_cb cb,
                                    void *payload, vs_error *err);

/* ---- the layout digest (stage/layout_digest.c) ---------------------------- */

/* Hex characters of a layout digest plus the NUL. */
#define VS_LAYOUT_DIGEST_HEX 65

/*
 * The layout digest of `dir` (flat, a versions/VERSION tree, or versioned:
 * then DIR/current is used): one SHA-256 covering the tree's three metadata
 * files, and through the manifest and MODES every file, mode and link of it.
 * Exactly: the SHA-256 of the text
 *
 *     <sha256 of MANIFEST.sha256>  MANIFEST.sha256\n
 *     <sha256 of MODES>  MODES\n
 *     <sha256 of provenance.json>  provenance.json\n
 *
 * (lowercase hex, two spaces, in this order) - which is what
 *     cd TREE/.vetstage && sha256sum MANIFEST.sha256 MODES provenance.json | sha256sum
 * prints. The files are read without following symbolic links, must be
 * regular files within their limits (VS_MAX_MANIFEST_FILE, VS_MAX_MANIFEST_FILE,
 * VS_MAX_REF_FILE). The digest says nothing about whether the tree matches
 * its manifest: vs_layout_check does that; together they pin the layout.
 *
 * `hex` receives 64 lowercase hex digits and a NUL (empty on failure).
 * Returns VS_OK; VS_E_USAGE (dir missing or not a layout); VS_E_INTEGRITY
 * (a metadata file missing, not a regular file or too large; current not
 * pointing at versions/VERSION); VS_E_INTERNAL (I/O).
 * Needs no context and depends only on libc + libgcrypt (vetstage-check).
 */
VS_EXTERN vs_status vs_layout_digest(char hex[VS_LAYOUT_DIGEST_HEX], const char *dir,
                                     vs_error *err);

/* True when `hex` is 64 hex digits (either case; compare digests with
 * strcasecmp). */
VS_EXTERN bool vs_layout_digest_valid(const char *hex);

/*
 * The layout digest this home recorded when it staged into `dir` (the same
 * absolute path): `stage` writes HOME/staged/<sha256 of the path>.json after
 * each successful stage. `hex` receives 64 lower-case hex digits.
 * Returns VS_OK; VS_E_USAGE with detail VS_DETAIL_NOT_FOUND when this home
 * never staged there; VS_E_INTEGRITY when the record is damaged or a
 * symbolic link inside the home; VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_layout_recorded_digest(char hex[VS_LAYOUT_DIGEST_HEX], vs_ctx *ctx,
                                              const char *dir, vs_error *err);

/*
 * `layout check` with the digest: vs_layout_check, then the layout digest of
 * `dir` must equal `expect_hex` when given (64 hex, either case), else the
 * one this home recorded for `dir` (ctx may be NULL: no home, no record, the
 * manifest check alone). `digest` (may be NULL) receives the layout's digest.
 * Returns what vs_layout_check returns; VS_E_INTEGRITY naming both digests
 * when they differ; VS_E_USAGE for a malformed expect_hex.
 */
VS_EXTERN vs_status vs_layout_verify(size_t *nproblems, char digest[VS_LAYOUT_DIGEST_HEX],
                                     vs_ctx *ctx, const char *dir, const char *expect_hex,
                                     vs_layout_problem_cb cb, void *payload, vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
