/* common/ctx.c - the context handle: one home, callbacks, no globals. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common_int.h"

vs_status vs_ctx_open(vs_ctx **out, const char *home, vs_error *err)
{
    *out = NULL;
    if (!home || !*home)
        return vs_error_subj(err, VS_E_USAGE, "--home", "no home directory given");
    vs_status st = vs_lib_init(err);
    if (st)
        return st;
    st = vs_mkdir_p(AT_FDCWD, home, 0700, err);
    if (st)
        return st;
    vs_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return vs_error_subj(err, VS_E_INTERNAL, home, "out of memory");
    c->home = realpath(home, NULL);
    if (!c->home) {
        st = vs_error_subj_errno(err, VS_E_USAGE, errno, home, "%s", "");
        free(c);
        return st;
    }
    c->home_fd = open(c->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->home_fd < 0) {
        st = vs_error_subj_errno(err, VS_E_USAGE, errno, c->home, "%s", "");
        free(c->home);
        free(c);
        return st;
    }
    c->log_level = VS_LOG_INFO;
    *out = c;
    return VS_OK;
}

void vs_ctx_free(vs_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->trust && ctx->trust_free)
        ctx->trust_free(ctx->trust);
    if (ctx->home_fd >= 0)
        close(ctx->home_fd);
    free(ctx->home);
    free(ctx);
}

const char *vs_ctx_home(const vs_ctx *ctx)
{
    return ctx->home;
}

void vs_ctx_set_log(vs_ctx *ctx, vs_log_cb cb, vs_log_level max_level, void *payload)
{
    ctx->log_cb = cb;
    ctx->log_level = max_level;
    ctx->log_payload = payload;
}

void vs_ctx_set_progress(vs_ctx *ctx, vs_progress_cb cb, void *payload)
{
    ctx->progress_cb = cb;
    ctx->progress_payload = payload;
}

vs_status vs_home_dir(vs_ctx *ctx, const char *rel, unsigned flags, int *out, vs_error *err)
{
    return vs_dir_beneath(ctx->home_fd, ctx->home, rel, flags, out, err);
}

vs_status vs_home_open(vs_ctx *ctx, const char *rel, int oflags, mode_t mode, int *out,
                       vs_error *err)
{
    return vs_open_beneath(ctx->home_fd, ctx->home, rel, oflags, mode, out, err);
}

void vs_log(const vs_ctx *ctx, vs_log_level lvl, const char *fmt, ...)
{
    if (!ctx || !ctx->log_cb || lvl > ctx->log_level)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *s = buf; *s; s++)
        if ((unsigned char)*s < 0x20)
            *s = '?';
    ctx->log_cb(lvl, buf, ctx->log_payload);
}

void vs_ctx_set_progress_events(vs_ctx *ctx, vs_progress_event_cb cb, void *payload)
{
    ctx->progress_ev_cb = cb;
    ctx->progress_ev_payload = payload;
}

void vs_progress_ev(const vs_ctx *ctx, vs_progress_phase phase, vs_progress_kind kind,
                    const char *what, uint64_t done, uint64_t total)
{
    if (!ctx)
        return;
    if (ctx->progress_ev_cb) {
        vs_progress_event ev = { phase, kind, what, done, total };
        ctx->progress_ev_cb(&ev, ctx->progress_ev_payload);
    } else if (ctx->progress_cb && kind == VS_PROGRESS_UPDATE) {
        ctx->progress_cb(what, done, total, ctx->progress_payload);
    }
}

void vs_progress(const vs_ctx *ctx, const char *what, uint64_t done, uint64_t total)
{
    vs_progress_ev(ctx, VS_PHASE_DOWNLOAD, VS_PROGRESS_UPDATE, what, done, total);
}

vs_status vs_home_lock(vs_ctx *ctx, const char *rel, int op, int *fd, vs_error *err)
{
    *fd = -1;
    int f;
    vs_status st = vs_home_open(ctx, rel, O_RDWR | O_CREAT, 0600, &f, err);
    if (st)
        return st;
    while (flock(f, op) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(f);
        return vs_error_subj_errno(err, VS_E_INTERNAL, e, rel, "lock");
    }
    *fd = f;
    return VS_OK;
}
