/*
 * vetstage/fetch.h - URLs to bytes on disk, with libcurl.
 *
 * Only https, http and file; redirects may not change scheme; TLS
 * verification always on; no content decoding. Bytes are hashed (SHA-256)
 * and counted as they stream; over max_size aborts. Retries with exponential
 * backoff and jitter on network errors and 5xx. Partial downloads resume with
 * a Range request.
 */
#ifndef VETSTAGE_FETCH_H
#define VETSTAGE_FETCH_H

#include <stdint.h>

#include "vetstage/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_fetch_opts {
    const char *cacert;        /* CA bundle file; NULL: system default */
    const char *pinned_pubkey; /* "sha256//base64..." ; NULL: none */
    uint64_t max_size;         /* 0: VS_DEFAULT_MAX_DOWNLOAD */
    int retries;               /* -1: VS_DEFAULT_RETRIES */
    unsigned timeout_s;        /* whole-transfer deadline; 0: VS_DEFAULT_TIMEOUT */
    int resume;                /* non-zero: resume an existing partial file */
} vs_fetch_opts;

#define VS_FETCH_OPTS_INIT { NULL, NULL, 0, -1, 0, 1 }

typedef struct vs_fetch_result {
    uint8_t sha256[32];
    uint64_t size;
    long http_status;      /* last HTTP status, 0 for file:// */
    char effective_url[4096];
} vs_fetch_result;

/*
 * Download `url` into the file `name` inside directory fd `dirfd`
 * (overwritten, or resumed when opts->resume and it exists). The final
 * file holds exactly the body; res gets its SHA-256 (of the whole file,
 * resumed part included) and size. On failure the partial file is kept
 * only if it may be resumed (network errors), else removed.
 * Returns VS_OK, VS_E_USAGE (bad URL or scheme, unreadable CA file),
 * VS_E_FETCH (network, HTTP status, TLS, redirect policy, size limit,
 * timeout), VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_fetch_to_file(vs_ctx *ctx, const char *url, int dirfd, const char *name,
                                     const vs_fetch_opts *opts, vs_fetch_result *res,
                                     vs_error *err);

/* Same, for a small file (signature, checksum list) read into memory;
 * over `max` bytes is VS_E_FETCH. *out NUL-terminated, caller frees. */
VS_EXTERN vs_status vs_fetch_to_memory(vs_ctx *ctx, const char *url, size_t max,
                                       const vs_fetch_opts *opts, uint8_t **out, size_t *len,
                                       vs_error *err);

/* Mirror URL for `url` under `base`: base + "/" + the URL's file name.
 * malloc'd; NULL on OOM or a URL without a file name. */
VS_EXTERN char *vs_fetch_mirror_url(const char *base, const char *url);

#ifdef __cplusplus
}
#endif
#endif
