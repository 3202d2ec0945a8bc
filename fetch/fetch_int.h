/* fetch/fetch_int.h - internals of the fetch component. */
#ifndef VS_FETCH_INT_H
#define VS_FETCH_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common_int.h"
#include "vetstage/fetch.h"

typedef enum vs_url_scheme {
    VS_SCHEME_NONE = 0, /* no "scheme:" prefix */
    VS_SCHEME_OTHER,    /* some scheme we refuse */
    VS_SCHEME_HTTPS,
    VS_SCHEME_HTTP,
    VS_SCHEME_FILE
} vs_url_scheme;

/* The scheme of url (case-insensitive). */
vs_url_scheme vs_fetch_scheme(const char *url);

/*
 * Check that url is one we may fetch: non-empty, at most VS_MAX_URL bytes,
 * no control characters or spaces, scheme https/http/file. Fills *scheme.
 * VS_OK or VS_E_USAGE ("URL: scheme 'ftp' is not allowed").
 */
vs_status vs_fetch_check_url(const char *url, vs_url_scheme *scheme, vs_error *err);

/*
 * The file name of url: the last segment of its path, query and fragment
 * excluded. Returns a borrowed pointer into url and its length in *len;
 * *len is 0 when the URL has no file name (no path, or path ends in '/').
 * When dir/dirlen are non-NULL they receive the path segment before the
 * file name (length 0 if there is none).
 */
const char *vs_fetch_url_filename(const char *url, size_t *len, const char **dir, size_t *dirlen);

/*
 * A second reader of a download (cache: gpg checks the package while it
 * arrives). begin is called once, on the first body byte of the first
 * response accepted, or when a file:// file is opened, with the whole
 * file's size when known; returning false stops the transfer with st and
 * err (set by begin; never retried, the partial file is removed). Then put
 * gets every byte of the file in order from its first byte: the bytes of a
 * resumed partial file first, then each body chunk as it is written. reset:
 * the file starts over, the bytes given so far are void. no_fsync: the
 * caller makes the file durable itself (the cache: once, at admission), so
 * the download only starts writeback as it goes and does not wait for it.
 */
typedef struct vs_fetch_tee {
    bool (*begin)(void *ud, uint64_t total, bool total_known);
    void (*put)(void *ud, const void *p, size_t n);
    void (*reset)(void *ud);
    void *ud;
    bool no_fsync;
    vs_status st;
    vs_error err;
    /* Set by the download before begin: the vs_fetch_clock_ms() time its
     * --timeout runs out (what begin does meanwhile must end by then). */
    uint64_t deadline_ms;
} vs_fetch_tee;

/* vs_fetch_to_file with a tee (NULL: none). */
vs_status vs_fetch_to_file_tee(vs_ctx *ctx, const char *url, int dirfd, const char *name,
                               const vs_fetch_opts *opts, vs_fetch_tee *tee,
                               vs_fetch_result *res, vs_error *err);

/* The monotonic clock deadlines are measured in, in milliseconds. */
uint64_t vs_fetch_clock_ms(void);

/*
 * vs_fetch_to_memory, stoppable from another thread: when *cancel becomes
 * true (cancel may be NULL) the transfer ends soon, even while the server
 * sends nothing, with VS_E_FETCH "cancelled". deadline_ms (vs_fetch_clock_ms
 * time; 0: none) caps opts->timeout_s: no attempt runs past it.
 */
vs_status vs_fetch_to_memory_ex(uint8_t **out, size_t *len, vs_ctx *ctx, const char *url,
                                size_t max, const vs_fetch_opts *opts, const atomic_bool *cancel,
                                uint64_t deadline_ms, vs_error *err);

/*
 * Small files (signatures, checksum lists) fetched side by side: one
 * thread with its own libcurl easy handle per file, each through
 * vs_fetch_to_memory_ex with the same options (TLS, credentials, proxy,
 * redirect rules, retries), its own size cap and the caller's deadline.
 * What a transfer logs or reports as progress is recorded and given to the
 * caller's context only by vs_fetch_batch_replay, in the caller's thread
 * (a context's callbacks run in the thread that made the call).
 */
typedef struct vs_fetch_item {
    const char *url; /* NULL: nothing to fetch (never reported by next) */
    size_t max;      /* size cap; 0: VS_MAX_CHECKSUM_FILE */
    /* the outcome, once vs_fetch_batch_next reported the item */
    uint8_t *data; /* VS_OK: the bytes, NUL-terminated; the caller frees */
    size_t len;
    vs_status st;
    vs_error err;
} vs_fetch_item;

typedef struct vs_fetch_batch vs_fetch_batch;

/* Start fetching every item with a URL. items must outlive the batch. */
vs_status vs_fetch_batch_start(vs_fetch_batch **out, vs_ctx *ctx, vs_fetch_item *items, size_t n,
                               const vs_fetch_opts *opts, uint64_t deadline_ms, vs_error *err);
/* Wait for the next item to finish; its index, or n once every started
 * item was reported. */
size_t vs_fetch_batch_next(vs_fetch_batch *b);
/* Cancel the transfers still running and wait for all of them. Items not
 * reported by next before stop are void (their data freed, st VS_E_FETCH). */
void vs_fetch_batch_stop(vs_fetch_batch *b);
/* Give item i's recorded logs and progress to the context, once. */
void vs_fetch_batch_replay(vs_fetch_batch *b, size_t i);
/* Stop (if not yet) and free the batch; the items' data stays the caller's. */
void vs_fetch_batch_free(vs_fetch_batch *b);

#endif
