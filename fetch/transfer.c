/* fetch/transfer.c - one URL to a file or a buffer with a libcurl easy handle.
 *
 * The policy (schemes, redirects, TLS, size, retries, resume) is decided
 * here and nowhere else; libcurl is told as little as possible and every
 * status it reports is judged in map_error(). HTTP statuses are checked on
 * the first body byte (FAILONERROR stays off so that we know the status and
 * can tell "416: start over" from "404: give up"). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fetch/fetch_int.h"

/* A connection that cannot be made in this time is a (retryable) network error. */
#define CONNECT_TIMEOUT_S 30L
/* Times in a row a server may answer a Range request badly before we give up. */
#define MAX_RESTARTS 2u
/* Writeback of a download is started every this many bytes, so that the
 * final fsync has little left to wait for. */
#define WRITEBACK_STEP (8u * 1024u * 1024u)
/* Progress callback at most every this many milliseconds. */
#define PROGRESS_MS 100

enum stop_reason {
    STOP_NONE,
    STOP_STATUS,
    STOP_TOO_BIG,
    STOP_IO,
    STOP_RANGE,
    STOP_OOM,
    STOP_HEADERS,
    STOP_TEE,
    STOP_CANCEL
};

typedef struct xfer {
    vs_ctx *ctx;
    const char *url;
    char shown[VS_MAX_URL + 1]; /* url for messages and logs: vs_url_redact */
    vs_url_scheme scheme;
    CURL *curl;
    /* the sink: a file (fd >= 0, hashed) or memory */
    int fd;
    const char *name; /* file name, for messages */
    vs_sha256 h;
    bool hashing;
    uint8_t *mem;
    size_t memcap;
    uint64_t max;
    uint64_t have;       /* bytes in the sink */
    uint64_t asked_from; /* Range start of this attempt; 0: whole body */
    uint64_t flushed;    /* writeback started up to here */
    vs_flusher *fl;      /* fdatasync on its own thread while the download goes on */
    uint64_t fl_job;     /* its last job */
    vs_fetch_tee *tee;   /* a second reader of the file's bytes, or NULL */
    bool tee_begun;
    const atomic_bool *cancel; /* set by another thread: stop (vs_fetch_batch); or NULL */
    uint64_t deadline_cap;     /* now_ms() time no attempt may pass; 0: only --timeout */
    /* per attempt */
    bool started;
    long status;
    int64_t range_start; /* first byte of the final response's Content-Range; -1 none */
    uint64_t total;
    uint64_t header_bytes; /* of the current response */
    enum stop_reason stop;
    int io_errno;
    struct timespec last_progress;
    char errbuf[CURL_ERROR_SIZE];
    char range[48]; /* CURLOPT_RANGE of the current attempt */
} xfer;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t vs_fetch_clock_ms(void)
{
    return now_ms();
}

static bool cancelled(const xfer *x)
{
    return x->cancel && atomic_load(x->cancel);
}

/* Sleep ms, in short steps when another thread may cancel the transfer. */
static void sleep_ms(const xfer *x, uint64_t ms)
{
    uint64_t step = x->cancel ? 50u : ms;
    for (uint64_t left = ms; left > 0 && !cancelled(x);) {
        uint64_t d = left < step ? left : step;
        struct timespec ts = { (time_t)(d / 1000u), (long)(d % 1000u) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        left -= d;
    }
}

/* Empty the sink: the server is sending the whole body again. */
static bool sink_reset(xfer *x)
{
    x->have = 0;
    x->flushed = 0;
    if (x->tee_begun && x->tee->reset)
        x->tee->reset(x->tee->ud);
    if (x->fd < 0)
        return true;
    if (ftruncate(x->fd, 0) != 0 || lseek(x->fd, 0, SEEK_SET) != 0) {
        x->stop = STOP_IO;
        x->io_errno = errno;
        return false;
    }
    vs_sha256_abort(&x->h);
    x->hashing = false;
    if (vs_sha256_init(&x->h, NULL) != VS_OK) {
        x->stop = STOP_OOM;
        return false;
    }
    x->hashing = true;
    return true;
}

static void progress(xfer *x, bool force)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long ms = (long)(ts.tv_sec - x->last_progress.tv_sec) * 1000L +
              (ts.tv_nsec - x->last_progress.tv_nsec) / 1000000L;
    if (!force && ms < PROGRESS_MS)
        return;
    x->last_progress = ts;
    vs_progress(x->ctx, x->shown, x->have, x->total);
}

/* Best effort: start writing back [flushed, upto) without waiting for it
 * (Linux sync_file_range with SYNC_FILE_RANGE_WRITE; the build's feature
 * macros hide its declaration, hence the system call). */
static void writeback(xfer *x, uint64_t upto)
{
#if defined(__linux__) && defined(SYS_sync_file_range) && defined(__LP64__)
    (void)syscall(SYS_sync_file_range, x->fd, (off_t)x->flushed, (off_t)(upto - x->flushed),
                  2u /* SYNC_FILE_RANGE_WRITE */);
#endif
    /* and made durable meanwhile (one job at a time), so that the fsync at
     * admission does not wait for a flush of the whole package */
    if (x->fl && !vs_flusher_busy(x->fl, x->fl_job))
        x->fl_job = vs_flusher_sync(x->fl, x->fd, x->shown);
    x->flushed = upto;
}

/* The file's first bytes are known to come: the tee begins, then gets the
 * bytes a resumed partial file already holds. */
static bool tee_begin(xfer *x, bool known)
{
    if (!x->tee || x->tee_begun || x->fd < 0)
        return true;
    x->tee_begun = true;
    if (!x->tee->begin(x->tee->ud, x->total, known)) {
        x->stop = STOP_TEE;
        return false;
    }
    uint8_t *buf = x->have ? malloc(VS_IO_BUFSIZE) : NULL;
    if (x->have && !buf) {
        x->stop = STOP_OOM;
        return false;
    }
    for (uint64_t off = 0; off < x->have;) {
        uint64_t want = x->have - off < VS_IO_BUFSIZE ? x->have - off : VS_IO_BUFSIZE;
        ssize_t n = pread(x->fd, buf, (size_t)want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            x->stop = STOP_IO;
            x->io_errno = n < 0 ? errno : EIO;
            free(buf);
            return false;
        }
        x->tee->put(x->tee->ud, buf, (size_t)n);
        off += (uint64_t)n;
    }
    free(buf);
    return true;
}

/* The response's status is known: decide whether its body is ours. */
static bool begin_body(xfer *x)
{
    x->started = true;
    long code = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
    x->status = code;
    if (x->scheme != VS_SCHEME_FILE) {
        if (code == 206 && x->asked_from > 0) {
            if (x->range_start < 0 || (uint64_t)x->range_start != x->asked_from) {
                x->stop = STOP_RANGE;
                return false;
            }
        } else if (code >= 200 && code < 300 && code != 206) {
            if (x->asked_from > 0) {
                vs_log(x->ctx, VS_LOG_INFO, "%s: server ignored the Range request; starting over",
                       x->shown);
                x->asked_from = 0;
                if (!sink_reset(x))
                    return false;
            }
        } else {
            x->stop = STOP_STATUS;
            return false;
        }
    }
    curl_off_t cl = -1;
    if (curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
        cl >= 0) {
        uint64_t t;
        if (!vs_add_u64(x->have, (uint64_t)cl, &t) || t > x->max) {
            x->stop = STOP_TOO_BIG;
            return false;
        }
        x->total = t;
    }
    return tee_begin(x, cl >= 0);
}

/* Append len bytes to the sink (file: written and hashed; memory: grown).
 * false with x->stop set when the bytes cannot be taken. */
static bool sink_put(xfer *x, const char *p, size_t len)
{
    uint64_t next;
    if (!vs_add_u64(x->have, len, &next) || next > x->max) {
        x->stop = STOP_TOO_BIG;
        return false;
    }
    if (x->fd >= 0) {
        if (vs_write_all(x->fd, p, len) != 0) {
            x->stop = STOP_IO;
            x->io_errno = errno;
            return false;
        }
        vs_sha256_update(&x->h, p, len);
        if (x->tee_begun)
            x->tee->put(x->tee->ud, p, len);
        if (next - x->flushed >= WRITEBACK_STEP)
            writeback(x, next);
    } else {
        /* memory sink */
        if (next + 1 > x->memcap) { /* next <= max, and max + 1 fits */
            size_t cap = x->memcap ? x->memcap : 16384;
            while (cap < next + 1)
                cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (cap > x->max + 1)
                cap = (size_t)x->max + 1;
            uint8_t *nm = realloc(x->mem, cap);
            if (!nm) {
                x->stop = STOP_OOM;
                return false;
            }
            x->mem = nm;
            x->memcap = cap;
        }
        memcpy(x->mem + x->have, p, len);
    }
    x->have = next;
    progress(x, false);
    return true;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (!x->started && !begin_body(x))
        return 0;
    return sink_put(x, p, len) ? len : 0;
}

/* libcurl's progress hook, only for a transfer another thread may cancel:
 * it runs even while no byte arrives, so a stalled server is left too. */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    xfer *x = ud;
    if (!cancelled(x))
        return 0;
    x->stop = STOP_CANCEL;
    return 1;
}

/* Headers of every response (redirects included): remember the final Content-Range. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        x->range_start = -1;
        x->header_bytes = 0; /* a new response (after a redirect or a 100) */
    }
    if (!vs_add_u64(x->header_bytes, len, &x->header_bytes) ||
        x->header_bytes > VS_MAX_RESPONSE_HEADERS) {
        x->stop = STOP_HEADERS;
        return 0;
    }
    if (len > 14 && strncasecmp(p, "content-range:", 14) == 0) {
        size_t i = 14;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (len - i > 6 && strncasecmp(p + i, "bytes ", 6) == 0) {
            i += 6;
            uint64_t v = 0;
            bool digits = false;
            while (i < len && p[i] >= '0' && p[i] <= '9') {
                if (v > (UINT64_MAX - 9) / 10 || v > (uint64_t)INT64_MAX / 10) {
                    digits = false;
                    break;
                }
                v = v * 10 + (uint64_t)(p[i] - '0');
                digits = true;
                i++;
            }
            if (digits && i < len && p[i] == '-')
                x->range_start = (int64_t)v;
        }
    }
    return len;
}

/* Why we stopped the transfer ourselves (x->stop != STOP_NONE). */
static vs_status map_stop(const xfer *x, bool *retry, vs_error *err)
{
    const char *u = x->shown;
    switch (x->stop) {
    case STOP_STATUS:
        *retry = x->status >= 500 || x->status == 429;
        return vs_error_subj(err, VS_E_FETCH, u, "HTTP %ld", x->status);
    case STOP_TOO_BIG:
        if (x->fd >= 0)
            return vs_error_subj(err, VS_E_FETCH, u, "larger than --max-size %" PRIu64 " bytes",
                                 x->max);
        return vs_error_subj(err, VS_E_FETCH, u, "larger than the limit of %" PRIu64 " bytes",
                             x->max);
    case STOP_IO:
        return vs_error_subj_errno(err, VS_E_INTERNAL, x->io_errno, x->name, "writing");
    case STOP_OOM:
        return vs_error_subj(err, VS_E_INTERNAL, u, "out of memory");
    case STOP_RANGE:
        return vs_error_subj(err, VS_E_FETCH, u, "server answered the Range request wrongly");
    case STOP_HEADERS:
        return vs_error_subj(err, VS_E_FETCH, u, "response headers larger than %u bytes",
                             VS_MAX_RESPONSE_HEADERS);
    case STOP_TEE:
        if (err)
            *err = x->tee->err;
        return x->tee->st ? x->tee->st : VS_E_INTERNAL;
    case STOP_CANCEL:
        return vs_error_subj(err, VS_E_FETCH, u, "cancelled");
    case STOP_NONE:
        break;
    }
    return vs_error_subj(err, VS_E_INTERNAL, u, "transfer stopped");
}

/* What a redirect to a scheme we refuse looks like. */
static vs_status map_redirect(const xfer *x, CURLcode rc, const char *why, vs_error *err)
{
    const char *to = NULL;
    char shown_to[512];
    curl_easy_getinfo(x->curl, CURLINFO_EFFECTIVE_URL, &to);
    if (to && strcmp(to, x->url) != 0) {
        vs_url_redact(shown_to, sizeof shown_to, to);
        return vs_error_subjb(err, VS_E_FETCH, "curl", rc, x->shown,
                              "redirect to another scheme refused (to %s)", shown_to);
    }
    return vs_error_subjb(err, VS_E_FETCH, "curl", rc, x->shown,
                          "redirect to another scheme refused (%s)", why);
}

/* libcurl's code for an attempt we did not stop ourselves. */
static vs_status map_curl(const xfer *x, CURLcode rc, const vs_fetch_opts *o, bool deadline,
                          bool *retry, bool *keep, vs_error *err)
{
    const char *u = x->shown;
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    vs_status st = VS_E_FETCH;
    switch (rc) {
    case CURLE_OK:
        return VS_OK;
    case CURLE_UNSUPPORTED_PROTOCOL: /* the first URL's scheme was checked: a redirect */
        return map_redirect(x, rc, why, err);
    case CURLE_TOO_MANY_REDIRECTS:
        return vs_error_subjb(err, st, "curl", rc, u, "more than %ld redirects",
                              VS_MAX_REDIRECTS);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        return vs_error_subjb(err, st, "curl", rc, u, "TLS: %s", why);
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return vs_error_subjb(err, st, "curl", rc, u,
                              "TLS: the server's public key does not match --pinned-pubkey");
    case CURLE_SSL_CACERT_BADFILE:
        return vs_error_subjb(err, VS_E_USAGE, "curl", rc,
                              o->cacert ? o->cacert : "system CA store",
                              "cannot load CA certificates: %s", why);
    case CURLE_URL_MALFORMAT:
        return vs_error_subjb(err, VS_E_USAGE, "curl", rc, u, "%s", why);
    case CURLE_OUT_OF_MEMORY:
        if (!x->started) /* libcurl's own limit on one header line (100 KiB) */
            return vs_error_subjb(err, st, "curl", rc, u, "response headers larger than %u bytes",
                                  VS_MAX_RESPONSE_HEADERS);
        return vs_error_subjb(err, VS_E_INTERNAL, "curl", rc, u, "out of memory");
    case CURLE_OPERATION_TIMEDOUT:
        *keep = true; /* a later run may resume */
        if (deadline)
            return vs_error_subjb(err, st, "curl", rc, u, "timed out after %u s (--timeout)",
                                  o->timeout_s ? o->timeout_s : VS_DEFAULT_TIMEOUT);
        *retry = *keep = true;
        return vs_error_subjb(err, st, "curl", rc, u, "timed out: %s", why);
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_AGAIN:
        *retry = *keep = true;
        return vs_error_subjb(err, st, "curl", rc, u, "%s", why);
    default:
        return vs_error_subjb(err, st, "curl", rc, u, "%s", why);
    }
}

/*
 * The one place where a failed attempt is judged: why we stopped the
 * transfer ourselves, else libcurl's code. Fills err; tells whether another
 * attempt may help and whether the bytes so far are worth keeping.
 */
static vs_status map_error(const xfer *x, CURLcode rc, const vs_fetch_opts *o, bool deadline,
                           bool *retry, bool *keep, vs_error *err)
{
    *retry = false;
    *keep = false;
    if (x->stop != STOP_NONE)
        return map_stop(x, retry, err);
    return map_curl(x, rc, o, deadline, retry, keep, err);
}

static uint64_t backoff_ms(const vs_fetch_opts *o, unsigned retry)
{
    uint64_t base = o->retry_base_ms ? o->retry_base_ms : VS_FETCH_RETRY_BASE_MS;
    uint64_t d = base;
    for (unsigned i = 0; i < retry && d < VS_FETCH_MAX_BACKOFF_MS; i++)
        d *= 2;
    if (d > VS_FETCH_MAX_BACKOFF_MS)
        d = VS_FETCH_MAX_BACKOFF_MS;
    uint32_t r = 0;
    gcry_create_nonce(&r, sizeof r);
    d = d / 2 + (uint64_t)r % (d + 1); /* 50% .. 150% */
    return d > VS_FETCH_MAX_BACKOFF_MS ? VS_FETCH_MAX_BACKOFF_MS : d;
}

static const char *scheme_str(vs_url_scheme s)
{
    return s == VS_SCHEME_HTTPS ? "https" : s == VS_SCHEME_HTTP ? "http" : "file";
}

#define SETOPT(opt, val)                                                                    \
    do {                                                                                    \
        CURLcode setrc_ = curl_easy_setopt(x->curl, opt, val);                              \
        if (setrc_ != CURLE_OK)                                                             \
            return vs_error_subjb(err, VS_E_INTERNAL, "curl", setrc_, x->shown,             \
                                  "libcurl refused option %s: %s", #opt,                    \
                                  curl_easy_strerror(setrc_));                              \
    } while (0)

static vs_status set_options(xfer *x, const vs_fetch_opts *o, vs_error *err)
{
    SETOPT(CURLOPT_URL, x->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "https,http,file");
    if (x->scheme == VS_SCHEME_FILE) {
        SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    } else {
        SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
        SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, scheme_str(x->scheme));
        SETOPT(CURLOPT_MAXREDIRS, VS_MAX_REDIRECTS);
    }
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->cacert)
        SETOPT(CURLOPT_CAINFO, o->cacert);
    if (o->pinned_pubkey)
        SETOPT(CURLOPT_PINNEDPUBLICKEY, o->pinned_pubkey);
    if (o->netrc_file) {
        /* optional: a login in the URL wins, hosts absent from the file get none */
        SETOPT(CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
        SETOPT(CURLOPT_NETRC_FILE, o->netrc_file);
    }
    SETOPT(CURLOPT_HTTP_CONTENT_DECODING, 0L);
    SETOPT(CURLOPT_USERAGENT, "vetstage/" VS_VERSION);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, x);
    SETOPT(CURLOPT_LOW_SPEED_LIMIT, VS_LOW_SPEED_LIMIT);
    SETOPT(CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s ? (long)o->low_speed_time_s
                                                        : VS_LOW_SPEED_TIME);
    SETOPT(CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_BUFFERSIZE, (long)VS_IO_BUFSIZE); /* fewer, larger writes and hash updates */
    if (x->cancel) {
        SETOPT(CURLOPT_XFERINFOFUNCTION, on_xferinfo);
        SETOPT(CURLOPT_XFERINFODATA, x);
        SETOPT(CURLOPT_NOPROGRESS, 0L);
    }
    return VS_OK;
}

/* Before one attempt: its state reset, the Range for a resume, the time
 * left until the deadline. */
static vs_status attempt_setup(xfer *x, const vs_fetch_opts *o, bool may_resume,
                               uint64_t deadline, bool *keep, vs_error *err)
{
    x->started = false;
    x->stop = STOP_NONE;
    x->status = 0;
    x->range_start = -1;
    x->total = 0;
    x->errbuf[0] = '\0';
    if (x->have > 0 && !may_resume && !sink_reset(x))
        return map_error(x, CURLE_OK, o, false, &(bool){ false }, keep, err);
    x->asked_from = x->have;
    if (x->asked_from > 0) {
        snprintf(x->range, sizeof x->range, "%" PRIu64 "-", x->asked_from);
        SETOPT(CURLOPT_RANGE, x->range);
        vs_log(x->ctx, VS_LOG_INFO, "%s: resuming after %" PRIu64 " bytes", x->shown,
               x->asked_from);
        vs_progress_ev(x->ctx, VS_PHASE_DOWNLOAD, VS_PROGRESS_RESUME, x->shown, x->asked_from, 0);
    } else {
        SETOPT(CURLOPT_RANGE, (char *)NULL);
    }
    uint64_t now = now_ms();
    if (now >= deadline)
        return vs_error_subj(err, VS_E_FETCH, x->shown, "timed out after %u s (--timeout)",
                             o->timeout_s ? o->timeout_s : VS_DEFAULT_TIMEOUT);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)(deadline - now));
    clock_gettime(CLOCK_MONOTONIC, &x->last_progress);
    return VS_OK;
}

/* A successful attempt: the last progress and the result. */
static void attempt_done(xfer *x, vs_fetch_result *res, unsigned attempts)
{
    progress(x, true);
    vs_progress_ev(x->ctx, VS_PHASE_DOWNLOAD, VS_PROGRESS_END, x->shown, x->have, x->have);
    if (!res)
        return;
    res->http_status = x->status;
    res->size = x->have;
    res->resumed_from = x->asked_from;
    res->attempts = attempts;
    const char *eff = NULL;
    curl_easy_getinfo(x->curl, CURLINFO_EFFECTIVE_URL, &eff);
    vs_url_redact(res->effective_url, sizeof res->effective_url, eff ? eff : x->url);
}

/* The time (now_ms) --timeout runs out for this transfer: the options'
 * deadline, or the caller's when that comes first. */
static uint64_t timeout_at(const xfer *x, const vs_fetch_opts *o)
{
    uint64_t d = now_ms() + 1000u * (uint64_t)(o->timeout_s ? o->timeout_s : VS_DEFAULT_TIMEOUT);
    return x->deadline_cap && x->deadline_cap < d ? x->deadline_cap : d;
}

/* Attempts until success, a final failure, or the deadline. */
static vs_status run(xfer *x, const vs_fetch_opts *o, bool resume, vs_fetch_result *res,
                     bool *keep, vs_error *caller_err)
{
    vs_error local = VS_ERROR_INIT;
    vs_error *err = caller_err ? caller_err : &local; /* retries log the message */
    *keep = false;
    vs_status st = set_options(x, o, err);
    if (st)
        return st;
    unsigned retries = o->retries < 0 ? VS_DEFAULT_RETRIES : (unsigned)o->retries;
    uint64_t deadline = timeout_at(x, o);
    if (x->tee)
        x->tee->deadline_ms = deadline;
    unsigned retry = 0, restarts = 0, attempts = 0;
    bool may_resume = resume && x->scheme != VS_SCHEME_FILE && x->fd >= 0;
    for (;;) {
        attempts++;
        if (cancelled(x)) {
            x->stop = STOP_CANCEL;
            return map_error(x, CURLE_OK, o, false, &(bool){ false }, keep, err);
        }
        st = attempt_setup(x, o, may_resume, deadline, keep, err);
        if (st)
            return st;
        CURLcode rc = curl_easy_perform(x->curl);
        if (rc == CURLE_OK && !x->started && !begin_body(x))
            rc = CURLE_WRITE_ERROR; /* empty body: judge its status now */
        if (rc == CURLE_OK) {
            attempt_done(x, res, attempts);
            return VS_OK;
        }
        bool restart = x->stop == STOP_RANGE ||
                       (x->stop == STOP_STATUS && x->status == 416 && x->asked_from > 0);
        if (restart && restarts < MAX_RESTARTS) {
            restarts++;
            vs_log(x->ctx, VS_LOG_INFO, "%s: cannot resume (HTTP %ld); starting over", x->shown,
                   x->status);
            if (!sink_reset(x))
                return map_error(x, CURLE_OK, o, false, &(bool){ false }, keep, err);
            continue;
        }
        bool again;
        bool at_deadline = now_ms() + 50u >= deadline;
        st = map_error(x, rc, o, at_deadline, &again, keep, err);
        if (!again || retry >= retries)
            return st;
        uint64_t wait = backoff_ms(o, retry);
        if (now_ms() + wait >= deadline)
            return st;
        retry++;
        vs_log(x->ctx, VS_LOG_INFO, "%s; retry %u of %u in %" PRIu64 " ms", err->message, retry,
               retries, wait);
        sleep_ms(x, wait);
    }
}

/* ---- file:// --------------------------------------------------------------
 * Read by us, not by libcurl, which opens the path blocking: a FIFO named as
 * a package or a signature would hang for ever, --timeout or not. */

/* The local path of a file:// URL ("file:///p" or "file://localhost/p"),
 * percent-decoded, query and fragment dropped. malloc'd into *out. */
static vs_status file_path(const xfer *x, char **out, vs_error *err)
{
    *out = NULL;
    const char *auth = strstr(x->url, "://");
    if (!auth)
        return vs_error_subj(err, VS_E_USAGE, x->shown, "not a file:// URL");
    auth += 3;
    size_t alen = strcspn(auth, "/?#");
    if (alen != 0 && !(alen == 9 && strncasecmp(auth, "localhost", 9) == 0)) {
        vs_error_subj(err, VS_E_USAGE, x->shown, "a file:// URL may not name a host");
        vs_error_hint(err, "pass file:///abs/path for a local file");
        return VS_E_USAGE;
    }
    const char *path = auth + alen;
    size_t plen = strcspn(path, "?#");
    if (plen == 0)
        return vs_error_subj(err, VS_E_USAGE, x->shown, "the URL names no file");
    char *r = malloc(plen + 1);
    if (!r)
        return vs_error_subj(err, VS_E_INTERNAL, x->shown, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < plen; i++) {
        int c = vs_pct_at(path, plen, &i);
        if (c == 0) {
            free(r);
            return vs_error_subj(err, VS_E_USAGE, x->shown, "the path holds a NUL byte (%%00)");
        }
        r[k++] = (char)c;
    }
    r[k] = '\0';
    *out = r;
    return VS_OK;
}

static const char *file_kind(mode_t m)
{
    return S_ISFIFO(m)  ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
                         : "not a regular file";
}

/* A file:// URL's file, opened without blocking: only a regular file, then
 * blocking again. */
static vs_status file_open(xfer *x, int *out, struct stat *sb, vs_error *err)
{
    char *path = NULL;
    vs_status st = file_path(x, &path, err);
    if (st)
        return st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    free(path);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return vs_error_subj(err, VS_E_FETCH, x->shown, "no such file");
        return vs_error_subj_errno(err, VS_E_USAGE, e, x->shown, "cannot open");
    }
    if (fstat(fd, sb) != 0) {
        int e = errno;
        close(fd);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, x->shown, "fstat");
    }
    if (S_ISDIR(sb->st_mode)) {
        close(fd);
        vs_error_subj(err, VS_E_USAGE, x->shown, "is a directory, not a file");
        vs_error_hint(err, "name the file inside it");
        return VS_E_USAGE;
    }
    if (!S_ISREG(sb->st_mode)) {
        close(fd);
        return vs_error_subj(err, VS_E_USAGE, x->shown, "%s, not a regular file",
                             file_kind(sb->st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, x->shown, "fcntl");
    }
    *out = fd;
    return VS_OK;
}

/* The whole file into the sink. */
static vs_status file_copy(xfer *x, const vs_fetch_opts *o, int fd, vs_error *err)
{
    uint8_t *buf = malloc(VS_IO_BUFSIZE);
    if (!buf)
        return vs_error_subj(err, VS_E_INTERNAL, x->shown, "out of memory");
    clock_gettime(CLOCK_MONOTONIC, &x->last_progress);
    vs_status st = VS_OK;
    for (;;) {
        ssize_t n = read(fd, buf, VS_IO_BUFSIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = vs_error_subj_errno(err, VS_E_USAGE, errno, x->shown, "reading");
            break;
        }
        if (n == 0)
            break;
        if (!sink_put(x, (const char *)buf, (size_t)n)) {
            bool r, k;
            st = map_error(x, CURLE_OK, o, false, &r, &k, err);
            break;
        }
    }
    free(buf);
    return st;
}

/* A file:// URL: opened without blocking, only a regular file, read whole. */
static vs_status run_file(xfer *x, const vs_fetch_opts *o, vs_fetch_result *res, vs_error *err)
{
    bool r, k;
    if (x->have > 0 && !sink_reset(x)) /* file:// is always copied whole */
        return map_error(x, CURLE_OK, o, false, &r, &k, err);
    int fd = -1;
    struct stat sb;
    vs_status st = file_open(x, &fd, &sb, err);
    if (st)
        return st;
    x->stop = STOP_NONE;
    x->total = (uint64_t)sb.st_size;
    if (x->tee)
        x->tee->deadline_ms = timeout_at(x, o);
    if (x->total > x->max)
        x->stop = STOP_TOO_BIG;
    if (x->stop != STOP_NONE || !tee_begin(x, true)) {
        close(fd);
        return map_error(x, CURLE_OK, o, false, &r, &k, err);
    }
    st = file_copy(x, o, fd, err);
    close(fd);
    if (st)
        return st;
    progress(x, true);
    vs_progress_ev(x->ctx, VS_PHASE_DOWNLOAD, VS_PROGRESS_END, x->shown, x->have, x->have);
    if (res) {
        res->http_status = 0;
        res->size = x->have;
        res->resumed_from = 0;
        res->attempts = 1;
        vs_url_redact(res->effective_url, sizeof res->effective_url, x->url);
    }
    return VS_OK;
}

/* Checks shared by both entry points, before any byte moves. */
static vs_status precheck(const char *url, const vs_fetch_opts *o, vs_url_scheme *scheme,
                          vs_error *err)
{
    vs_status st = vs_fetch_check_url(url, scheme, err);
    if (st)
        return st;
    if (o->cacert) {
        int fd = open(o->cacert, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return vs_error_subj_errno(err, VS_E_USAGE, errno, o->cacert, "cannot read the CA file");
        close(fd);
    }
    if (o->netrc_file) {
        int fd = open(o->netrc_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            return vs_error_subj_errno(err, VS_E_USAGE, errno, o->netrc_file,
                                       "cannot read the netrc file");
        struct stat sb;
        bool reg = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
        close(fd);
        if (!reg)
            return vs_error_subj(err, VS_E_USAGE, o->netrc_file,
                                 "the netrc file is not a regular file");
    }
    if (o->pinned_pubkey && strncmp(o->pinned_pubkey, "sha256//", 8) != 0)
        return vs_error_subj(err, VS_E_USAGE, o->pinned_pubkey,
                             "--pinned-pubkey must look like sha256//BASE64[;sha256//...]");
    return vs_lib_init(err);
}

/* Hash the bytes of a partial file kept from an earlier run; position at its end. */
static vs_status rehash_partial(xfer *x, vs_error *err)
{
    uint8_t *buf = malloc(VS_IO_BUFSIZE);
    if (!buf)
        return vs_error_subj(err, VS_E_INTERNAL, x->shown, "out of memory");
    for (;;) {
        ssize_t n = read(x->fd, buf, VS_IO_BUFSIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return vs_error_subj_errno(err, VS_E_INTERNAL, e, x->name, "reading");
        }
        if (n == 0)
            break;
        vs_sha256_update(&x->h, buf, (size_t)n);
        x->have += (uint64_t)n;
    }
    free(buf);
    if (x->have > x->max) { /* cannot be a prefix of an acceptable file */
        x->stop = STOP_NONE;
        if (!sink_reset(x))
            return vs_error_subj_errno(err, VS_E_INTERNAL, x->io_errno, x->name, "truncating");
    }
    return VS_OK;
}

/* A transfer of url into a sink called `name` in messages, of at most max
 * bytes; no sink open yet. */
static void xfer_init(xfer *x, vs_ctx *ctx, const char *url, const char *name, uint64_t max)
{
    memset(x, 0, sizeof *x);
    x->ctx = ctx;
    x->url = url;
    vs_url_redact(x->shown, sizeof x->shown, url);
    x->fd = -1;
    x->name = name;
    x->max = max;
}

vs_status vs_fetch_to_file(vs_fetch_result *res, vs_ctx *ctx, const char *url, int dirfd,
                           const char *name, const vs_fetch_opts *opts, vs_error *err)
{
    return vs_fetch_to_file_tee(ctx, url, dirfd, name, opts, NULL, res, err);
}

vs_status vs_fetch_to_file_tee(vs_ctx *ctx, const char *url, int dirfd, const char *name,
                               const vs_fetch_opts *opts, vs_fetch_tee *tee,
                               vs_fetch_result *res, vs_error *err)
{
    vs_fetch_opts defaults = VS_FETCH_OPTS_INIT;
    const vs_fetch_opts *o = opts ? opts : &defaults;
    if (res)
        memset(res, 0, sizeof *res);
    if (VS_CHECK_OPTS(o, vs_fetch_opts, FETCH_OPTS, err))
        return VS_E_USAGE;
    xfer x;
    xfer_init(&x, ctx, url, name, o->max_size ? o->max_size : VS_DEFAULT_MAX_DOWNLOAD);
    x.tee = tee;
    vs_status st = precheck(url, o, &x.scheme, err);
    if (st)
        return st;
    if (!name || !*name)
        return vs_error_subj(err, VS_E_USAGE, x.shown, "no file name to download into");
    bool resume = o->resume != 0;
    x.fd = openat(dirfd, name,
                  O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (resume ? 0 : O_TRUNC), 0600);
    if (x.fd < 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "cannot open");
    struct stat sb;
    if (fstat(x.fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(x.fd); /* not ours to remove */
        return vs_error_subj(err, VS_E_INTERNAL, name, "not a regular file");
    }
    st = vs_sha256_init(&x.h, err);
    if (st) {
        close(x.fd);
        unlinkat(dirfd, name, 0);
        return st;
    }
    x.hashing = true;
    x.fl = vs_flusher_start(); /* NULL: the fsync at the end does it all */
    bool keep = false;
    if (resume)
        st = rehash_partial(&x, err);
    if (st == VS_OK && x.scheme == VS_SCHEME_FILE) {
        st = run_file(&x, o, res, err);
    } else if (st == VS_OK) {
        x.curl = curl_easy_init();
        if (!x.curl)
            st = vs_error_subj(err, VS_E_INTERNAL, x.shown, "cannot create a libcurl handle");
        if (st == VS_OK)
            st = run(&x, o, resume, res, &keep, err);
    }
    if (st == VS_OK)
        st = vs_flusher_finish(x.fl, err);
    vs_flusher_stop(x.fl, st != VS_OK); /* before the fd is closed */
    if (st == VS_OK && !(tee && tee->no_fsync) && fsync(x.fd) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, name, "fsync");
    if (st == VS_OK) {
        uint8_t d[VS_SHA256_LEN];
        vs_sha256_final(&x.h, d);
        x.hashing = false;
        if (res)
            memcpy(res->sha256, d, sizeof d);
    } else if (x.hashing) {
        vs_sha256_abort(&x.h);
    }
    if (x.curl)
        curl_easy_cleanup(x.curl);
    close(x.fd);
    if (st != VS_OK && !(keep && resume && x.have > 0))
        unlinkat(dirfd, name, 0);
    return st;
}

vs_status vs_fetch_to_memory(uint8_t **out, size_t *len, vs_ctx *ctx, const char *url, size_t max,
                             const vs_fetch_opts *opts, vs_error *err)
{
    return vs_fetch_to_memory_ex(out, len, ctx, url, max, opts, NULL, 0, err);
}

vs_status vs_fetch_to_memory_ex(uint8_t **out, size_t *len, vs_ctx *ctx, const char *url,
                                size_t max, const vs_fetch_opts *opts, const atomic_bool *cancel,
                                uint64_t deadline_ms, vs_error *err)
{
    vs_fetch_opts defaults = VS_FETCH_OPTS_INIT;
    const vs_fetch_opts *o = opts ? opts : &defaults;
    *out = NULL;
    *len = 0;
    if (VS_CHECK_OPTS(o, vs_fetch_opts, FETCH_OPTS, err))
        return VS_E_USAGE;
    xfer x;
    xfer_init(&x, ctx, url, NULL, max ? max : VS_MAX_CHECKSUM_FILE);
    x.name = x.shown;
    x.cancel = cancel;
    x.deadline_cap = deadline_ms;
    if (x.max > SIZE_MAX - 1)
        x.max = SIZE_MAX - 1;
    vs_status st = precheck(url, o, &x.scheme, err);
    if (st)
        return st;
    if (x.scheme == VS_SCHEME_FILE) {
        st = run_file(&x, o, NULL, err);
    } else {
        x.curl = curl_easy_init();
        if (!x.curl)
            return vs_error_subj(err, VS_E_INTERNAL, x.shown, "cannot create a libcurl handle");
        bool keep;
        st = run(&x, o, false, NULL, &keep, err);
        curl_easy_cleanup(x.curl);
    }
    if (st == VS_OK && !x.mem) {
        x.mem = malloc(1);
        if (!x.mem)
            st = vs_error_subj(err, VS_E_INTERNAL, x.shown, "out of memory");
    }
    if (st != VS_OK) {
        free(x.mem);
        return st;
    }
    x.mem[x.have] = '\0';
    *out = x.mem;
    *len = (size_t)x.have;
    return VS_OK;
}
