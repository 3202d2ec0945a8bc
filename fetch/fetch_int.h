/* fetch/fetch_int.h - internals of the fetch component. */
#ifndef VS_FETCH_INT_H
#define VS_FETCH_INT_H

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
} vs_fetch_tee;

/* vs_fetch_to_file with a tee (NULL: none). */
vs_status vs_fetch_to_file_tee(vs_ctx *ctx, const char *url, int dirfd, const char *name,
                               const vs_fetch_opts *opts, vs_fetch_tee *tee,
                               vs_fetch_result *res, vs_error *err);

#endif
