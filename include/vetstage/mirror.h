/*
 * vetstage/mirror.h - air-gapped and large-scale distribution.
 *
 *  - sync: fetch and verify every package of a URL list in parallel (each
 *    through vs_cache_fetch, so into the cache of the context), then write
 *    a static mirror tree that `fetch --mirror BASE` can use:
 *        DIR/<package file>, DIR/<signature files>, DIR/index.json
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
 * The outcome of one item: `what` is the URL (sync) or "NAME@VERSION"
 * (export, import); st VS_OK or the failure with its one-line message
 * (message "" on success); e the cache entry on success, NULL otherwise.
 * All borrowed for the call. Called from the calling thread, in list order.
 */
typedef void (*vs_mirror_item_cb)(const char *what, vs_status st, const char *message,
                                  const vs_cache_entry *e, void *payload);

typedef struct vs_mirror_sync_opts {
    const char *list;       /* file: one URL a line, blank lines and '#' comments */
    const char *dest;       /* mirror folder (created if absent) */
    unsigned jobs;          /* worker threads; 0: VS_MIRROR_DEFAULT_JOBS */
    /* Template for every URL: transport options, require, max_sig_age_days and
     * mirrors are used; url, name, version and the signature URLs must be
     * NULL (names and versions come from each URL's file name). */
    vs_cache_fetch_opts fetch;
    vs_mirror_item_cb cb;   /* may be NULL */
    void *payload;
} vs_mirror_sync_opts;

#define VS_MIRROR_SYNC_OPTS_INIT                                                          \
    { NULL, NULL, 0,                                                                   \
      VS_CACHE_FETCH_OPTS_INIT, NULL,                                                  \
      NULL }

/*
 * Sync: read the list (at most VS_MAX_MIRROR_LIST bytes, VS_MAX_MIRROR_URLS
 * URLs), fetch every URL with vs_cache_fetch on `jobs` threads (each with
 * its own context on the home of ctx; ctx's log callback is shared and must
 * be thread-safe; progress is not reported), then copy each fetched
 * package and its signature files from the cache into dest under their
 * original file names and write dest/index.json (entries of earlier syncs
 * whose files are still there are kept). Two packages wanting one file
 * name with different contents: the later one fails (VS_E_USAGE).
 * Successful items land even when others fail; each item is reported
 * through opts->cb. *nok / *nfailed (may be NULL) count them.
 * Returns VS_OK when every URL was mirrored, else the worst item status
 * (VS_E_INTERNAL > VS_E_VERIFY > VS_E_POLICY > VS_E_FETCH > VS_E_USAGE),
 * with err holding the first failure of that status; VS_E_USAGE for a bad
 * list, options or dest (nothing fetched); VS_E_INTERNAL on I/O errors.
 */
VS_EXTERN vs_status vs_mirror_sync(vs_ctx *ctx, const vs_mirror_sync_opts *opts, size_t *nok,
                                   size_t *nfailed, vs_error *err);

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

typedef struct vs_mirror_import_opts {
    unsigned require;          /* VS_REQUIRE_*; 0: both */
    unsigned max_sig_age_days; /* 0: none */
    vs_mirror_item_cb cb;      /* may be NULL */
    void *payload;
} vs_mirror_import_opts;

#define VS_MIRROR_IMPORT_OPTS_INIT { 0, 0, NULL, NULL }

/*
 * Import: read `bundle` (gzip-compressed tar or plain tar only) as
 * untrusted input. Entries must be regular files named "index.json" or
 * "NAME@VERSION/FILE" (NAME and VERSION valid, FILE of [A-Za-z0-9._+~@=,-]
 * not starting with '.'), no duplicates, at most VS_MAX_BUNDLE_ENTRIES,
 * VS_MAX_BUNDLE_PKG_FILES per folder; index.json at most VS_MAX_REF_FILE,
 * files ending .asc or .sig at most VS_MAX_SIG_FILE, other files at most
 * VS_DEFAULT_MAX_DOWNLOAD (counted while extracting). Anything else, a
 * truncated or non-archive file, a missing or malformed index: VS_E_UNSAFE
 * naming the entry, nothing admitted. The index only says which file of a
 * folder is the package and which the signatures; then each package is
 * admitted with vs_cache_fetch (file:// URLs of the extracted files, name
 * and version from the folder), i.e. verified against the local trust
 * store with opts' policy. The temporary folder HOME/tmp/import-XXXXXX is
 * removed whatever happens. opts may be NULL.
 * Returns VS_OK when every package was admitted (or already cached), else
 * the worst item status as for sync (err: the first failure of it); each
 * package reported through opts->cb; VS_E_USAGE when bundle is unreadable.
 */
VS_EXTERN vs_status vs_mirror_import(vs_ctx *ctx, const char *bundle,
                                     const vs_mirror_import_opts *opts, size_t *nok,
                                     size_t *nfailed, vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
