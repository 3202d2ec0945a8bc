/*
 * vetstage/mirror.h - air-gapped and large-scale distribution.
 *
 *  - sync: fetch and verify every package of a list (URLs, or NAME@VERSION
 *    of a configured source) in parallel (each through vs_cache_fetch, so
 *    into the cache of the context), then write a static mirror tree that
 *    `fetch --mirror BASE` and a source's `mirror` read:
 *        DIR/index.json, DIR/NAME/VERSION/<package file and signature files>
 *    so that releases whose files share names (two checksum_sha256.txt)
 *    never collide.
 *  - export: packages of the cache, their signature files and an index in
 *    one gzip-compressed tar (the "bundle").
 *  - import: a bundle is untrusted input. It is read with strict rules
 *    (regular files only, names "index.json" or "NAME@VERSION/FILE",
 *    bounded sizes and counts), extracted into a private temporary folder
 *    under HOME/tmp, and every package goes through vs_cache_fetch with
 *    file:// URLs, so it is verified against the LOCAL trust store before it
 *    enters the cache. Nothing the bundle says decides trust.
 *
 * Every file written (mirror tree files, index.json, the bundle) is written
 * under a temporary name in its target folder, fsynced and renamed.
 */
#ifndef VETSTAGE_MIRROR_H
#define VETSTAGE_MIRROR_H

#include <stddef.h>

#include "vetstage/cache.h"
#include "vetstage/common.h"
#include "vetstage/source.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Worker threads of a sync: default and maximum. */
#define VS_MIRROR_DEFAULT_JOBS 4u
#define VS_MIRROR_MAX_JOBS 32u
/* The URL list given to sync. */
#define VS_MAX_MIRROR_LIST (1024u * 1024u)
/* URLs in one list. */
#define VS_MAX_MIRROR_URLS 10000u
/* Entries (files) in one bundle, index included. */
#define VS_MAX_BUNDLE_ENTRIES 4096u
/* Bytes one bundle may unpack to, all files together (a gzip bomb cannot
 * fill the home before any signature is checked). */
#define VS_MAX_BUNDLE_BYTES (4ull * 1024u * 1024u * 1024u)
/* Files in one NAME@VERSION folder of a bundle (package + signatures). */
#define VS_MAX_BUNDLE_PKG_FILES (1u + VS_CACHE_MAX_SIGS)

/*
 * The outcome of one item: `what` is the list line, a URL or NAME@VERSION
 * (sync), or "NAME@VERSION" (export, import); st VS_OK or the failure, with
 * err its structured error (subject, reason, hint; NULL on success, except
 * for an import whose package was in the cache already: then err->detail is
 * VS_DETAIL_EXISTS and st VS_OK); e the
 * cache entry on success, NULL otherwise. All borrowed for the call. Called
 * from the calling thread, in list order.
 */
typedef void (*vs_mirror_item_cb)(const char *what, vs_status st, const vs_error *err,
                                  const vs_cache_entry *e, void *payload);

/* The layout of vs_mirror_sync_opts this header describes (see common.h, "Option structs"). */
#define VS_MIRROR_SYNC_OPTS_VERSION 1u

typedef struct vs_mirror_sync_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    /* file: one item a line - a URL, or NAME@VERSION of a source of
     * `config` - blank lines and '#' comments */
    const char *list;
    const char *dest;       /* mirror folder (created if absent) */
    unsigned jobs;          /* worker threads; 0: VS_MIRROR_DEFAULT_JOBS */
    /* Template for every item, as command-line options: transport options,
     * require, max_sig_age_days and mirror bases (each as BASE/NAME/VERSION
     * then BASE) are used, and win over a source's; url, name, version and
     * the signature URLs must be NULL. */
    vs_cache_fetch_opts fetch;
    vs_mirror_item_cb cb;   /* may be NULL */
    void *payload;
    /* The sources for NAME@VERSION lines (borrowed); NULL: HOME/vetstage.conf,
     * loaded only when the list has such a line. */
    const vs_config *config;
} vs_mirror_sync_opts;

#define VS_MIRROR_SYNC_OPTS_INIT                                                          \
    { VS_MIRROR_SYNC_OPTS_VERSION, NULL, NULL, 0, VS_CACHE_FETCH_OPTS_INIT, NULL, NULL, NULL }

/*
 * Sync: read the list (at most VS_MAX_MIRROR_LIST bytes, VS_MAX_MIRROR_URLS
 * lines) and resolve every NAME@VERSION line with its source (an unknown
 * source fails the whole sync before anything is fetched), fetch every item
 * with vs_cache_fetch on `jobs` threads (each with its own context on the
 * home of ctx; ctx's log callback is shared and must be thread-safe;
 * their download progress is reported to ctx's progress callback as one
 * aggregate line, VS_PHASE_DOWNLOAD with `what` "mirror sync (N packages)",
 * the bytes of all items and their total once known, at most ~10 times a
 * second from one thread at a time, then VS_PROGRESS_END), then copy each fetched package and its
 * signature files from the cache into dest/NAME/VERSION/ under their
 * original file names (re-hashed on the way) and write dest/index.json:
 * the packages of this sync, and those of earlier syncs whose files are
 * still in place. The folders below dest are created and opened without
 * following symbolic links. Successful items land even when others fail;
 * each item is reported through opts->cb, in list order. *nok / *nfailed
 * (may be NULL) count the items (a line listed twice counts twice).
 * Returns VS_OK when every item was mirrored and the index written; else
 * the worst status (VS_E_INTERNAL > VS_E_VERIFY > VS_E_UNSAFE >
 * VS_E_INTEGRITY > VS_E_POLICY > VS_E_FETCH > VS_E_USAGE) among the items
 * and the index, with err holding the first failure of that status;
 * VS_E_USAGE for a bad list, options, source or dest (nothing fetched,
 * *nok and *nfailed 0).
 */
VS_EXTERN vs_status vs_mirror_sync(size_t *nok, size_t *nfailed, vs_ctx *ctx,
                                   const vs_mirror_sync_opts *opts, vs_error *err);

/*
 * Export: write `out` (a gzip-compressed tar, written beside it under a
 * temporary name, fsynced, renamed) holding index.json and, for every ref
 * "NAME@VERSION" of refs[0..n), NAME@VERSION/<package file> and its
 * signature files under their original names, copied from the cache
 * objects (each re-hashed while copied). Returns VS_OK; VS_E_USAGE for a
 * malformed or unknown ref, a ref given twice, or no refs (nothing
 * written); VS_E_INTEGRITY when a cache object is missing or altered;
 * VS_E_INTERNAL on I/O or libarchive errors. The bundle exists only on
 * VS_OK.
 */
VS_EXTERN vs_status vs_mirror_export(vs_ctx *ctx, const char *const *refs, size_t n,
                                     const char *out, vs_error *err);

/* The layout of vs_mirror_import_opts this header describes (see common.h, "Option structs"). */
#define VS_MIRROR_IMPORT_OPTS_VERSION 1u

typedef struct vs_mirror_import_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    unsigned require;          /* VS_REQUIRE_*; 0: the source's, else both */
    unsigned max_sig_age_days; /* 0: the source's, else none */
    vs_mirror_item_cb cb;      /* may be NULL */
    void *payload;
    /* The sources (borrowed); NULL: HOME/vetstage.conf. A package NAME with
     * a [source NAME] is admitted under that source's key binding (`keys`),
     * and its require/max-sig-age when the options above are 0. */
    const vs_config *config;
} vs_mirror_import_opts;

#define VS_MIRROR_IMPORT_OPTS_INIT \
    { VS_MIRROR_IMPORT_OPTS_VERSION, 0, 0, NULL, NULL, NULL }

/*
 * Import: read `bundle` (a gzip-compressed tar only) as
 * untrusted input. Entries must be regular files named "index.json" or
 * "NAME@VERSION/FILE" (NAME and VERSION valid, FILE of [A-Za-z0-9._+~@=,-]
 * not starting with '.'), no duplicates, at most VS_MAX_BUNDLE_ENTRIES,
 * VS_MAX_BUNDLE_PKG_FILES per folder; index.json at most VS_MAX_REF_FILE,
 * files ending .asc or .sig at most VS_MAX_SIG_FILE, other files at most
 * VS_DEFAULT_MAX_DOWNLOAD (counted while extracting). A file that is not a
 * gzip-compressed tar at all: VS_E_USAGE. Anything else, a truncated
 * archive, a missing or malformed index: VS_E_UNSAFE naming the entry,
 * nothing admitted. The index only says which file of a
 * folder is the package and which the signatures; then each package is
 * admitted with vs_cache_fetch (file:// URLs of the extracted files, name
 * and version from the folder), i.e. verified against the local trust
 * store with opts' policy (and the key binding of its source). A signature
 * the policy requires that the bundle lacks is VS_E_VERIFY, not a download
 * error. Errors name the bundle and the member, "BUNDLE(NAME@VERSION/FILE)",
 * never the temporary folder HOME/tmp/import-XXXXXX, which is removed
 * whatever happens. opts may be NULL.
 * Returns VS_OK when every package was admitted (or already cached), else
 * the worst item status as for sync (err: the first failure of it); each
 * package reported through opts->cb; VS_E_USAGE when bundle is unreadable.
 */
VS_EXTERN vs_status vs_mirror_import(size_t *nok, size_t *nfailed, vs_ctx *ctx, const char *bundle,
                                     const vs_mirror_import_opts *opts, vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
