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
#include "vetstage/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layout of vs_fetch_opts this header describes (see common.h, "Option structs"). */
#define VS_FETCH_OPTS_VERSION 1u

typedef struct vs_fetch_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    const char *cacert;        /* CA bundle file; NULL: system default */
    const char *pinned_pubkey; /* "sha256//base64..." ; NULL: none */
    uint64_t max_size;         /* 0: VS_DEFAULT_MAX_DOWNLOAD */
    int retries;               /* -1: VS_DEFAULT_RETRIES */
    unsigned timeout_s;        /* whole-transfer deadline; 0: VS_DEFAULT_TIMEOUT */
    int resume;                /* non-zero: resume an existing partial file */
    /* Seconds below VS_LOW_SPEED_LIMIT bytes/s before a transfer is dropped;
     * 0: VS_LOW_SPEED_TIME. (Tests make it small.) */
    unsigned low_speed_time_s;
    /* First retry delay in milliseconds, doubled per retry (+-50% jitter,
     * capped at VS_FETCH_MAX_BACKOFF_MS); 0: VS_FETCH_RETRY_BASE_MS. */
    unsigned retry_base_ms;
    /* A netrc file (as curl reads it) with the login and password per host;
     * NULL: none. Credentials in the URL ("https://user:pw@host/") win over
     * it. Either way they are sent only to the host named, never stored or
     * shown (see vs_url_redact). */
    const char *netrc_file;
} vs_fetch_opts;

#define VS_FETCH_OPTS_INIT \
    { VS_FETCH_OPTS_VERSION, NULL, NULL, 0, -1, 0, 1, 0, 0, NULL }

/* First retry delay and the cap on any one delay, in milliseconds. */
#define VS_FETCH_RETRY_BASE_MS 250u
#define VS_FETCH_MAX_BACKOFF_MS 30000u

typedef struct vs_fetch_result {
    uint8_t sha256[32];
    uint64_t size;
    long http_status;      /* last HTTP status, 0 for file:// */
    char effective_url[4096];
    uint64_t resumed_from; /* bytes kept from an earlier partial file (0: none) */
    unsigned attempts;     /* requests made, retries and restarts included */
} vs_fetch_result;

/*
 * Download `url` into the file `name` inside directory fd `dirfd`
 * (overwritten, or resumed when opts->resume and it exists). The final
 * file holds exactly the body; res gets its SHA-256 (of the whole file,
 * resumed part included) and size. On failure the partial file is kept
 * only if it may be resumed (network errors), else removed.
 *
 * opts may be NULL (defaults); res may be NULL. Policy:
 *  - schemes https, http, file only (others: VS_E_USAGE "URL: scheme 'ftp'
 *    is not allowed"); redirects (at most VS_MAX_REDIRECTS) only to the
 *    scheme of `url`; file:// never redirects;
 *  - TLS peer and host verification always on; opts->cacert replaces the
 *    system CA store, opts->pinned_pubkey ("sha256//...") must match;
 *  - no content decoding: the file holds the bytes as served;
 *  - HTTP status 2xx is success (206 when resuming), anything else fails
 *    with "URL: HTTP 404";
 *  - over opts->max_size bytes (resumed part included; also refused early
 *    from Content-Length) fails and removes the file;
 *  - opts->timeout_s is one deadline for all attempts together; a transfer
 *    slower than VS_LOW_SPEED_LIMIT bytes/s for low_speed_time_s is dropped;
 *  - network errors (connect, send/receive, partial body, low speed) and
 *    HTTP 5xx/429 are retried opts->retries times with exponential backoff
 *    and jitter, each retry logged at VS_LOG_INFO; 4xx, TLS verification,
 *    scheme/redirect policy and the size limit are never retried;
 *  - resume: the partial file's bytes are re-hashed and "Range: bytes=N-"
 *    is sent; 206 appends, 200 (Range ignored) and 416 start over. file://
 *    URLs are always copied whole.
 * Progress goes to the context's progress callback (at most ~10 calls/s),
 * with `what` = url. The file is fsynced before VS_OK is returned; it is
 * not renamed (the caller owns quarantine and admission).
 *
 * Returns VS_OK, VS_E_USAGE (bad URL or scheme, unreadable CA file,
 * malformed pin), VS_E_FETCH (network, HTTP status, TLS, redirect policy,
 * size limit, timeout; err->backend "curl" with the CURLcode when libcurl
 * produced it), VS_E_INTERNAL (out of memory, local I/O error).
 */
VS_EXTERN vs_status vs_fetch_to_file(vs_fetch_result *res, vs_ctx *ctx, const char *url, int dirfd,
                                     const char *name, const vs_fetch_opts *opts, vs_error *err);

/*
 * Check that `url` may be fetched at all, before any byte moves: non-empty,
 * at most VS_MAX_URL bytes, valid UTF-8 without spaces or control
 * characters (C0, DEL, C1), scheme https, http or file followed by "://".
 * Returns VS_OK or VS_E_USAGE with the redacted URL as the subject (and a
 * hint: percent-encode the byte, or file:///abs/path for a local file).
 */
VS_EXTERN vs_status vs_fetch_url_check(const char *url, vs_error *err);

/* Same, for a small file (signature, checksum list) read into memory;
 * over `max` bytes is VS_E_FETCH (max 0: VS_MAX_CHECKSUM_FILE; opts->max_size
 * is ignored here, opts->resume too). *out NUL-terminated (not counted in
 * *len), caller frees with free(); *out is NULL on failure. */
VS_EXTERN vs_status vs_fetch_to_memory(uint8_t **out, size_t *len, vs_ctx *ctx, const char *url,
                                       size_t max, const vs_fetch_opts *opts, vs_error *err);

/*
 * `url` as it may be stored (cache refs, provenance) or shown (messages,
 * logs, JSON): the userinfo ("user:password@") removed from the authority,
 * and the value of every query or fragment parameter whose name says it
 * carries a credential replaced by "REDACTED". Names are compared
 * percent-decoded, case-insensitively and without '-' and '_': sig, key,
 * pwd, pass, auth, code, jwt, session, sas, and any name containing token,
 * secret, signature, password, passwd, credential, apikey, accesskey,
 * privatekey or authorization (X-Amz-Signature, X-Amz-Credential,
 * X-Amz-Security-Token, X-Goog-Signature, access_token, ...).
 *
 * Works like snprintf: writes at most cap-1 bytes and a NUL to out (nothing
 * when cap is 0), returns the length of the whole redacted URL (>= cap:
 * truncated). Redacting twice gives the same text; a NULL url is "". Never
 * fails. The full URL is only ever kept in memory for the transfer itself.
 */
VS_EXTERN size_t vs_url_redact(char *out, size_t cap, const char *url);

/* Mirror URL for `url` under `base`: base + "/" + the URL's file name
 * (trailing slashes of base dropped, so never a double slash; the query and
 * fragment of url are not part of its file name). malloc'd, caller frees;
 * NULL on OOM, an empty base, or a URL without a file name. */
VS_EXTERN char *vs_fetch_mirror_url(const char *base, const char *url);

/*
 * Default package name and version from the file name of `url` (query and
 * fragment ignored). Archive suffixes: .tar.gz .tgz .tar.bz2 .tbz2 .tbz
 * .tar.xz .txz .tar.zst .tzst.
 *  - "NAME-VERSION.tgz": the version starts after the first '-' that is
 *    followed by a digit ("agent-6.2.0.117_x86-64.tgz" -> agent,
 *    6.2.0.117_x86-64; "pkg-1.2-3.tar.gz" -> pkg, 1.2-3);
 *  - else "NAME_VERSION.tgz": after the first '_' followed by a digit;
 *  - "VERSION.tgz" (file name starts with a digit): the name is the path
 *    segment before it (".../datacollector/6.2.0.tgz" -> datacollector,
 *    6.2.0), never the host, and never a segment that itself looks like a
 *    version (an optional 'v', a digit, version characters: "v6.2.0",
 *    "6.2.1.2000" are release tags): then the name must be given.
 * Both must pass vs_valid_name / vs_valid_version.
 * Returns VS_OK, or VS_E_USAGE with the redacted URL as subject and the
 * reason ("cannot tell name and version from the file name; give --name
 * and --version", or why the folder is not a name).
 */
VS_EXTERN vs_status vs_fetch_name_version(char name[VS_MAX_NAME + 1],
                                          char version[VS_MAX_VERSION + 1], const char *url,
                                          vs_error *err);

/*
 * Same, when the caller already knows the name (`--name`, a source):
 * `given_name` (NULL: as vs_fetch_name_version) becomes `name`, and the
 * version is what the file name adds to it: "GIVEN-VERSION.tgz" or
 * "GIVEN_VERSION.tgz" -> VERSION; a file name that looks like a version
 * (".../v6.2.0/6.2.0.1234.tgz") -> itself; else the NAME-VERSION rules
 * above. VS_E_USAGE when given_name is not a valid name or no version can
 * be told ("...; give --version").
 */
VS_EXTERN vs_status vs_fetch_name_version_for(char name[VS_MAX_NAME + 1],
                                              char version[VS_MAX_VERSION + 1], const char *url,
                                              const char *given_name, vs_error *err);

/*
 * The file name of `url`: the last segment of its path, query and fragment
 * excluded, as it stands (not percent-decoded), into out (NUL-terminated).
 * The one rule for "the file name of a URL": "https://example.com" and
 * "https://h/dir/" name no file, nor do "." and "..".
 * Returns VS_OK, or VS_E_USAGE with the redacted URL as subject ("the URL
 * names no file", "the file name is too long" for cap, "control character
 * in the file name").
 */
VS_EXTERN vs_status vs_fetch_file_name(char *out, size_t cap, const char *url, vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
