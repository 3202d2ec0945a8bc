/*
 * mirror/mirror_int.h - internals of mirror sync/export/import, shared by
 * the mirror sources, the unit tests and the bundle fuzz harness.
 */
#ifndef VS_MIRROR_INT_H
#define VS_MIRROR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/common_int.h"
#include "vetstage/mirror.h"

#define VS_MIRROR_INDEX "index.json"
#define VS_MIRROR_FORMAT "vetstage-mirror/1"
/* Temporary folders of imports, below the home. */
#define VS_MIRROR_TMP "tmp"

/* Severity order of item statuses: the worse of a and b. */
vs_status vs_mirror_worse(vs_status a, vs_status b);

/* A plain file name of a mirror tree or bundle: 1..255 chars of
 * [A-Za-z0-9._+~@=,-], not starting with '.' (so never "." or ".."). */
bool vs_mirror_valid_file(const char *s);

/* Kinds of bundle entries. */
typedef enum vs_bundle_kind {
    VS_BUNDLE_INDEX,
    VS_BUNDLE_FILE
} vs_bundle_kind;

/*
 * Check one bundle entry name (untrusted): "index.json", or
 * "NAME@VERSION/FILE" with valid parts (vs_valid_name, vs_valid_version,
 * vs_mirror_valid_file). Fills *kind, and for a file name/version/file and
 * *limit (the size bound for that entry). false on anything else.
 */
bool vs_mirror_entry_name(const char *path, vs_bundle_kind *kind, char name[VS_MAX_NAME + 1],
                          char version[VS_MAX_VERSION + 1], char file[256], uint64_t *limit);

/* One package as an index describes it. */
typedef struct vs_mirror_pkg {
    char name[VS_MAX_NAME + 1];
    char version[VS_MAX_VERSION + 1];
    char file[256];
    char gpg_sig[256];       /* "" when absent */
    char checksums[256];
    char checksums_sig[256];
    char rsa_sig[256];
} vs_mirror_pkg;

/*
 * Parse an index (untrusted, at most VS_MAX_REF_FILE): an object with
 * "format" VS_MIRROR_FORMAT and "packages": [{name, version, file,
 * files: [{kind, file}]}], every name checked as above, kinds known, no
 * NAME@VERSION twice. *out malloc'd (caller frees), *n entries.
 * VS_E_UNSAFE "what: reason" on anything malformed.
 */
vs_status vs_mirror_index_parse(const uint8_t *p, size_t len, const char *what,
                                vs_mirror_pkg **out, size_t *n, vs_error *err);

/* JSON text of an index of entries e[0..n) (each with sha256, size, signers
 * and its files). *out malloc'd; VS_E_INTERNAL on OOM. */
vs_status vs_mirror_index_format(char **out, size_t *len, const vs_cache_entry *const *e, size_t n,
                                 vs_error *err);

/* Parse a URL list (untrusted): lines trimmed of blanks, '#' comments and
 * blank lines skipped, each URL at most VS_MAX_URL bytes, at most
 * VS_MAX_MIRROR_URLS. *urls malloc'd array of malloc'd strings; free with
 * vs_mirror_urls_free. VS_E_USAGE "what:LINE: reason". */
vs_status vs_mirror_list_parse(const uint8_t *p, size_t len, const char *what, char ***urls,
                               size_t *n, vs_error *err);
void vs_mirror_urls_free(char **urls, size_t n);

/* Copy cache object `sha256hex` to `name` in dirfd atomically, re-hashing it
 * on the way (VS_E_INTEGRITY when missing or altered). */
vs_status vs_mirror_copy_object(vs_ctx *ctx, const char *sha256hex, int dirfd, const char *name,
                                vs_error *err);

#endif
