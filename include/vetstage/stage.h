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

typedef struct vs_stage_opts {
    bool flat;             /* write the tree straight to an absent or empty dest */
    bool allow_downgrade;  /* allow a version lower than current */
    uint64_t max_unpacked; /* 0: VS_DEFAULT_MAX_UNPACKED */
    uint64_t max_entries;  /* 0: VS_DEFAULT_MAX_ENTRIES */
    unsigned strip_components; /* drop the first N path components of every entry */
    unsigned keep;         /* versioned: after `current` switched, remove all but the
                              `keep` newest versions (never the current one); 0: keep all */
    const char *arch;      /* "amd64" | "arm64": every ELF file must be for it; NULL: any */
} vs_stage_opts;

#define VS_STAGE_OPTS_INIT { false, false, 0, 0, 0, 0, NULL }

typedef struct vs_stage_result {
    char path[4096];  /* the staged tree (DIR/versions/V or DIR) */
    uint64_t files;
    uint64_t bytes;
} vs_stage_result;

/*
 * Stage the cached "NAME@VERSION" into `dest`.
 *
 * 1. Look the ref up and open its package object; re-verify it
 *    (vs_cache_reverify: object hashes and signatures, with the store as it
 *    is now) before any byte is extracted. The bytes extracted are hashed
 *    again as they are read and must match the re-verified digest.
 * 2. Extract with libarchive (tar: ustar/pax/gnutar; filters gzip, xz, zstd
 *    only) into a hidden temporary directory (".vetstage-tmp-*"), refusing
 *    before anything of an entry is written: absolute paths, ".." components,
 *    empty paths or paths over VS_MAX_ARCHIVE_PATH bytes, control characters,
 *    the reserved top-level name ".vetstage", symbolic links with an absolute
 *    target or one that leaves the tree (".." only as leading components, no
 *    more of them than directories above the link), paths through a symbolic
 *    link or a file, hard links, devices, FIFOs, sockets, setuid/setgid/sticky
 *    bits, two entries for one path ("./a" = "a" = "a/"), more than
 *    max_entries entries, more than max_unpacked bytes (declared sizes and
 *    bytes actually written both count), non-archives and archives that end
 *    early. Files get 0755 if any execute bit was set, else 0644; directories
 *    0755; owner: the caller. Files and directories are fsynced.
 * 3. Write .vetstage/MANIFEST.sha256 (`sha256sum -c` format), .vetstage/MODES
 *    ("f|d|l MODE PATH[<TAB>TARGET]" for every file, directory and symlink)
 *    and .vetstage/provenance.json (name, version, package, sha256, size, url,
 *    signatures [{kind, file, sha256, url}], signers [{type, fingerprint,
 *    created}], verified, admitted, tool).
 * 4. Versioned (default): `dest` is created if absent (its parent must
 *    exist). DEST/versions/VERSION appears by one rename; then DEST/current
 *    (a symlink "versions/VERSION") is replaced by renaming a fresh symlink
 *    over it. A version that is already staged is replaced atomically
 *    (renameat2 RENAME_EXCHANGE, then the old copy is removed), which also
 *    repairs a damaged copy. A version lower than current (vs_version_cmp)
 *    is VS_E_POLICY unless opts->allow_downgrade.
 *    Flat: `dest` must be absent or an empty directory; the tree is built
 *    beside it (same parent) and renamed to `dest` (rename(2) replaces an
 *    empty directory atomically, so there is no window without `dest`).
 * Concurrent stages into one destination are serialised (flock on the
 * destination directory, or on the parent for --flat); temporary trees left
 * by a killed stage are removed by the next one. On failure the temporary
 * tree is removed and `dest` is as before (a `dest` created by this call is
 * removed again).
 *
 * Returns VS_OK; VS_E_USAGE (bad ref, not in the cache, bad dest, --flat dest
 * not empty, current not a vetstage link); VS_E_VERIFY (cache object altered,
 * signature no longer valid); VS_E_INTEGRITY (damaged cache ref);
 * VS_E_UNSAFE (archive refused; the message is "PACKAGE: entry 'NAME':
 * reason"); VS_E_POLICY (downgrade); VS_E_INTERNAL (I/O).
 * `res` (may be NULL) receives the staged path and counts.
 */
VS_EXTERN vs_status vs_stage_ref(vs_ctx *ctx, const char *ref, const char *dest,
                                 const vs_stage_opts *opts, vs_stage_result *res, vs_error *err);

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
VS_EXTERN vs_status vs_layout_check(const char *dir, vs_layout_problem_cb cb, void *payload,
                                    size_t *nproblems, vs_error *err);


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
VS_EXTERN vs_status vs_layout_digest(const char *dir, char hex[VS_LAYOUT_DIGEST_HEX],
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
VS_EXTERN vs_status vs_layout_recorded_digest(vs_ctx *ctx, const char *dir,
                                              char hex[VS_LAYOUT_DIGEST_HEX], vs_error *err);

/*
 * `layout check` with the digest: vs_layout_check, then the layout digest of
 * `dir` must equal `expect_hex` when given (64 hex, either case), else the
 * one this home recorded for `dir` (ctx may be NULL: no home, no record, the
 * manifest check alone). `digest` (may be NULL) receives the layout's digest.
 * Returns what vs_layout_check returns; VS_E_INTEGRITY naming both digests
 * when they differ; VS_E_USAGE for a malformed expect_hex.
 */
VS_EXTERN vs_status vs_layout_verify(vs_ctx *ctx, const char *dir, const char *expect_hex,
                                     vs_layout_problem_cb cb, void *payload, size_t *nproblems,
                                     char digest[VS_LAYOUT_DIGEST_HEX], vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
