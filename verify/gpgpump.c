/*
 * verify/gpgpump.c - gpgme's verify operation on an event loop of our own,
 * with the package's bytes written to gpg's pipe by us.
 *
 * gpgme hands an outbound data object to gpg through its data handler,
 * which calls _gpgme_io_write; in gpgme 1.18 that formats every byte it
 * writes as hex for the trace log even when tracing is off (about 0.25 s of
 * CPU for a 128 MiB package, more than gpg's own SHA-512). gpgme's external
 * event loop (gpgme_set_io_cbs, "Using External Event Loops" in its manual)
 * gives us the file descriptors gpgme wants watched. The one whose handler
 * reads the package's data object (seen the first time that handler runs
 * it) is from then on written by this loop, straight from the source, in
 * large non-blocking writes; gpgme's handler runs on it once more at the
 * end, to read the end of the data (or a failure) and close its pipe the
 * way it expects. Every other descriptor (gpg's status, the signature) is
 * gpgme's as usual. gpg still reads, and decides on, exactly the bytes the
 * source gives, in order; nothing here looks at them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "verify/verify_int.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031 /* Linux's fcntl, declared only under _GNU_SOURCE */
#endif

#define PUMP_REGS 16
/* gpg's pipe for the package: 1 MiB instead of 64 KiB (best effort; Linux
 * lets an unprivileged process grow a pipe up to /proc/sys/fs/pipe-max-size,
 * 1 MiB by default), so gpg and the loop wake each other far less often */
#define PUMP_PIPE_SIZE (1024 * 1024)
/* The first handover through gpgme's handler: at most one atomic pipe write,
 * so that its handler never keeps a part of it back for later */
#define PUMP_FIRST 4096u

typedef struct {
    int fd, dir; /* dir: 1 gpgme reads the descriptor, 0 it writes it */
    gpgme_io_cb_t fnc;
    void *fnc_data;
    bool live;
} reg;

typedef struct {
    const uint8_t *head; /* the signed message's start, before the source */
    size_t head_len, head_off;
    const vs_gpg_source *src;
    gpgme_ctx_t g;
    reg regs[PUMP_REGS];
    int cur_fd; /* the descriptor whose gpgme handler runs now */
    int pkg_fd; /* the package's pipe, once known */
    bool done, failed_src;
    bool delivered; /* gpgme's handler read the end of the source */
    bool stalled;   /* gpg showed no sign of life for stall_s: cancelled */
    bool gone;      /* gpg closed the package's pipe before its end */
    bool tuned;     /* the package's pipe is non-blocking (and grown) */
    unsigned stall_s;
    struct timespec alive; /* gpg's last sign of life, or since when it has had work */
    gpgme_error_t err;
} pump;

/* What gpg reads: the head, then the source. */
static int peek(pump *p, const uint8_t **b, size_t *n)
{
    if (p->head_off < p->head_len) {
        *b = p->head + p->head_off;
        *n = p->head_len - p->head_off;
        return VS_GPG_SRC_BYTES;
    }
    return p->src->peek(p->src->payload, b, n);
}

static void took(pump *p, size_t n)
{
    if (p->head_off < p->head_len)
        p->head_off += n;
    else
        p->src->took(p->src->payload, n);
}

static gpgme_error_t add_cb(void *data, int fd, int dir, gpgme_io_cb_t fnc, void *fnc_data,
                            void **tag)
{
    pump *p = data;
    for (size_t i = 0; i < PUMP_REGS; i++)
        if (!p->regs[i].live) {
            p->regs[i] = (reg){ fd, dir, fnc, fnc_data, true };
            *tag = &p->regs[i];
            return 0;
        }
    return gpg_error(GPG_ERR_GENERAL);
}

static void remove_cb(void *tag)
{
    reg *r = tag;
    r->live = false;
}

static void event_cb(void *data, gpgme_event_io_t type, void *type_data)
{
    pump *p = data;
    if (type != GPGME_EVENT_DONE)
        return;
    p->done = true;
    gpgme_io_event_done_data_t d = type_data;
    if (d)
        p->err = d->err ? d->err : d->op_err;
}

/* The package's data object, read by gpgme's handler: the first time (which
 * also tells us the descriptor) and at the end. */
static ssize_t read_cb(void *handle, void *buffer, size_t size)
{
    pump *p = handle;
    bool first = p->pkg_fd < 0;
    /* Only this loop runs gpgme's handlers, so the data is read from inside
     * one, for its descriptor. After the first handover the loop writes the
     * package itself and runs the handler only for the end: anything else
     * would put gpgme's bytes behind the loop's. */
    if (p->cur_fd < 0 || (!first && p->cur_fd != p->pkg_fd)) {
        p->failed_src = true;
        errno = EIO;
        return -1;
    }
    if (first)
        p->pkg_fd = p->cur_fd;
    const uint8_t *b = NULL;
    size_t n = 0;
    int st = peek(p, &b, &n);
    if (st == VS_GPG_SRC_END) {
        p->delivered = true; /* every byte before it was written whole */
        return 0;
    }
    if (st != VS_GPG_SRC_BYTES || !first) {
        p->failed_src = true;
        errno = EIO; /* gpg must not judge what came so far */
        return -1;
    }
    if (n > size)
        n = size;
    if (n > PUMP_FIRST)
        n = PUMP_FIRST;
    memcpy(buffer, b, n);
    took(p, n);
    return (ssize_t)n;
}

static void run_handler(pump *p, reg *r)
{
    clock_gettime(CLOCK_MONOTONIC, &p->alive);
    p->cur_fd = r->fd;
    gpgme_error_t e = r->fnc(r->fnc_data, r->fd);
    p->cur_fd = -1;
    if (e && !p->done) /* gpgme's wrapper around its handlers never does */
        gpgme_cancel(p->g);
}

/* Our turn on the package's pipe: as much of the source as gpg takes now.
 * False when the pipe failed (gpg gone): nothing more is written, and what
 * gpg said on its status descriptor (read to its end) is the outcome, else
 * GPG_ERR_EPIPE. */
static bool pump_write(pump *p)
{
    const uint8_t *b = NULL;
    size_t n = 0;
    while (peek(p, &b, &n) == VS_GPG_SRC_BYTES) {
        ssize_t w = write(p->pkg_fd, b, n);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR;
        clock_gettime(CLOCK_MONOTONIC, &p->alive);
        took(p, (size_t)w);
        if ((size_t)w < n)
            return true; /* the pipe is full: wait for POLLOUT */
    }
    return true;
}

/* How long poll may wait: forever while the source has nothing for gpg
 * (the download's pace is not gpg's), else what is left of stall_s since
 * gpg's last sign of life; 0 when that is over. */
static int poll_wait(pump *p, int st)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (st == VS_GPG_SRC_MORE) {
        p->alive = now;
        return -1;
    }
    int64_t ms = (int64_t)p->stall_s * 1000 - ((int64_t)(now.tv_sec - p->alive.tv_sec) * 1000 +
                                               (now.tv_nsec - p->alive.tv_nsec) / 1000000);
    return ms > 0 ? (int)ms : 0;
}

/* The package's pipe is writable (or failed): the first time, made
 * non-blocking and grown; then as much as gpg takes. False when the pipe
 * cannot be set up (the run is cancelled). */
static bool serve_pkg(pump *p, reg *r)
{
    if (!p->tuned) {
        p->tuned = true;
        (void)fcntl(r->fd, F_SETPIPE_SZ, PUMP_PIPE_SIZE);
        int fl = fcntl(r->fd, F_GETFL);
        if (fl < 0 || fcntl(r->fd, F_SETFL, fl | O_NONBLOCK) < 0)
            return false;
    }
    if (!pump_write(p))
        p->gone = true; /* gpg's status, read to its end, says why */
    return true;
}

/* One poll's ready descriptors, in order. False: cancelled. */
static bool dispatch(pump *p, const struct pollfd *pf, reg *const *who, nfds_t n, int wake_fd)
{
    for (nfds_t i = 0; i < n && !p->done; i++) {
        reg *r = who[i];
        if (!pf[i].revents)
            continue;
        if (!r) {
            uint64_t v;
            while (read(wake_fd, &v, sizeof v) > 0) {
            }
        } else if (!r->live || r->fd != pf[i].fd) {
            /* removed by an earlier handler in this round */
        } else if (r->fd != p->pkg_fd) {
            run_handler(p, r);
        } else if (!serve_pkg(p, r)) {
            gpgme_cancel(p->g);
            return false;
        }
    }
    return true;
}

static void pump_loop(pump *p, int wake_fd)
{
    while (!p->done) {
        struct pollfd pf[PUMP_REGS + 1];
        reg *who[PUMP_REGS + 1];
        nfds_t n = 0;
        const uint8_t *b = NULL;
        size_t len = 0;
        int st = peek(p, &b, &len);
        if (st == VS_GPG_SRC_FAIL) {
            p->failed_src = true;
            gpgme_cancel(p->g);
            break;
        }
        reg *end = NULL;
        size_t others = 0; /* descriptors other than the package's */
        for (size_t i = 0; i < PUMP_REGS && !end; i++) {
            reg *r = &p->regs[i];
            if (!r->live)
                continue;
            bool pkg = r->fd == p->pkg_fd;
            if (pkg && p->gone)
                continue; /* gpg closed it: gpgme closes it with the rest */
            others += !pkg;
            if (pkg && st == VS_GPG_SRC_END)
                end = r;
            else if (r->dir == 0 && (pkg || p->pkg_fd < 0) && st == VS_GPG_SRC_MORE)
                continue; /* nothing to give gpg yet */
            pf[n] = (struct pollfd){ r->fd, (short)(r->dir ? POLLIN : POLLOUT), 0 };
            who[n++] = r;
        }
        if (end) {
            run_handler(p, end); /* gpgme reads the end and closes the pipe */
            continue;
        }
        if (wake_fd >= 0) {
            pf[n] = (struct pollfd){ wake_fd, POLLIN, 0 };
            who[n++] = NULL;
        }
        /* gpg's status read to its end after it closed its pipe, or gpgme
         * watching nothing without having said it is done */
        if ((p->gone && others == 0) || n == 0) {
            gpgme_cancel(p->g);
            break;
        }
        int wait = poll_wait(p, st);
        int ready = wait == 0 ? 0 : poll(pf, n, wait);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0 || (ready == 0 && poll_wait(p, st) == 0)) {
            p->stalled = ready == 0; /* gpg took nothing and said nothing */
            gpgme_cancel(p->g);
            break;
        }
        if (!dispatch(p, pf, who, n, wake_fd))
            break;
    }
}

gpgme_error_t vs_gpg_pump_verify(gpgme_ctx_t g, gpgme_data_t sig, const uint8_t *head,
                                 size_t head_len, const vs_gpg_source *src, int wake_fd,
                                 unsigned stall_s, bool *delivered)
{
    *delivered = false;
    static struct gpgme_data_cbs cbs = { read_cb, NULL, NULL, NULL };
    pump p = { .head = head, .head_len = head ? head_len : 0, .src = src, .g = g, .cur_fd = -1,
               .pkg_fd = -1, .stall_s = stall_s };
    clock_gettime(CLOCK_MONOTONIC, &p.alive);
    gpgme_data_t pkg = NULL;
    gpgme_error_t ge = gpgme_data_new_from_cbs(&pkg, &cbs, &p);
    if (ge)
        return ge;
    struct gpgme_io_cbs io = { add_cb, &p, remove_cb, event_cb, &p };
    gpgme_set_io_cbs(g, &io);
    ge = head ? gpgme_op_verify_start(g, pkg, NULL, NULL) /* the signed message */
              : gpgme_op_verify_start(g, sig, pkg, NULL); /* the detached pair */
    if (!ge) {
        /* A write to a pipe gpg has closed fails with EPIPE here, not with
         * a signal to the process (a thread-directed SIGPIPE, blocked on
         * this thread). Blocked only now: gpg, started above, inherits the
         * mask as it was. */
        sigset_t pipe_sig, old;
        sigemptyset(&pipe_sig);
        sigaddset(&pipe_sig, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
        pump_loop(&p, wake_fd);
        if (!sigismember(&old, SIGPIPE)) { /* one our write raised: not the caller's */
            const struct timespec now = { 0, 0 };
            while (sigtimedwait(&pipe_sig, NULL, &now) == SIGPIPE) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        ge = p.err;
        if (p.stalled)
            ge = gpg_error(GPG_ERR_TIMEOUT);
        else if (p.gone && (!ge || gpgme_err_code(ge) == GPG_ERR_CANCELED))
            ge = gpg_error(GPG_ERR_EPIPE); /* gpg said nothing of its own */
        else if (!ge && p.failed_src)
            ge = gpg_error(GPG_ERR_CANCELED);
        *delivered = p.delivered && !p.failed_src && !p.stalled && !p.gone;
    }
    struct gpgme_io_cbs none = { NULL, NULL, NULL, NULL, NULL };
    gpgme_set_io_cbs(g, &none);
    gpgme_data_release(pkg);
    return ge;
}
