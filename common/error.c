/* common/error.c - the status table and the error object. libc only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/common_int.h"

/* The row of the status table for st (the internal row for an unknown one). */
typedef struct status_row {
    vs_status st;
    const char *name, *desc;
} status_row;

static const status_row *status_row_of(vs_status st)
{
    static const status_row rows[] = {
#define VS_X_ROW(name, val, str, desc) { name, str, desc },
        VS_STATUS_TABLE(VS_X_ROW)
#undef VS_X_ROW
    };
    static const status_row unknown = { VS_E_INTERNAL, "internal", "unexpected failure" };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].st == st)
            return &rows[i];
    return &unknown;
}

const char *vs_status_name(vs_status st)
{
    return status_row_of(st)->name;
}

const char *vs_status_describe(vs_status st)
{
    return status_row_of(st)->desc;
}

/* Keep the message on one line: control characters (from file names or
 * backend strings) become '?'. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* message = "subject: reason", or reason alone. */
static void compose(vs_error *err)
{
    /* Truncation is acceptable here: the message is for people, and the
     * structured fields keep the whole subject and reason. */
    size_t n = 0;
    err->message[0] = '\0';
    if (err->subject[0]) {
        n = strnlen(err->subject, sizeof err->message - 3);
        memcpy(err->message, err->subject, n);
        memcpy(err->message + n, ": ", 3);
        n += 2;
    }
    size_t r = strnlen(err->reason, sizeof err->message - 1 - n);
    memcpy(err->message + n, err->reason, r);
    err->message[n + r] = '\0';
    sanitize(err->message);
}

static void set_subject(vs_error *err, const char *subject)
{
    snprintf(err->subject, sizeof err->subject, "%s", subject ? subject : "");
    sanitize(err->subject);
}

static vs_status vset(vs_error *err, vs_status st, const char *backend, long code,
                      const char *subject, const char *fmt, va_list ap)
{
    if (!err)
        return st;
    err->status = st;
    err->backend = backend;
    err->backend_code = code;
    err->hint[0] = '\0';
    err->detail = VS_DETAIL_NONE;
    set_subject(err, subject);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    sanitize(err->reason);
    compose(err);
    return st;
}

vs_status vs_error_set(vs_error *err, vs_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, st, NULL, 0, NULL, fmt, ap);
    va_end(ap);
    return st;
}

vs_status vs_error_setb(vs_error *err, vs_status st, const char *backend, long code,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, st, backend, code, NULL, fmt, ap);
    va_end(ap);
    return st;
}

vs_status vs_error_subj(vs_error *err, vs_status st, const char *subject, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, st, NULL, 0, subject, fmt, ap);
    va_end(ap);
    return st;
}

vs_status vs_error_subjb(vs_error *err, vs_status st, const char *backend, long code,
                         const char *subject, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, st, backend, code, subject, fmt, ap);
    va_end(ap);
    return st;
}

static void append_strerror(vs_error *err, int errnum)
{
    /* an empty reason is the system's own ("FILE: No such file or directory") */
    size_t n = strlen(err->reason);
    if (n < sizeof err->reason)
        snprintf(err->reason + n, sizeof err->reason - n, "%s%s", n ? ": " : "",
                 strerror(errnum));
    sanitize(err->reason);
    compose(err);
}

vs_status vs_error_errno(vs_error *err, vs_status st, int errnum, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return st;
    va_start(ap, fmt);
    vset(err, st, "errno", errnum, NULL, fmt, ap);
    va_end(ap);
    append_strerror(err, errnum);
    return st;
}

vs_status vs_error_subj_errno(vs_error *err, vs_status st, int errnum, const char *subject,
                              const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return st;
    va_start(ap, fmt);
    vset(err, st, "errno", errnum, subject, fmt, ap);
    va_end(ap);
    append_strerror(err, errnum);
    return st;
}

const char *vs_subjf(char *buf, const char *fmt, ...)
{
    /* errno kept: it is read beside this call in the same argument list */
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, VS_ERROR_SUBJECT_MAX, fmt, ap);
    va_end(ap);
    errno = saved;
    return buf;
}

void vs_error_relabel(vs_error *err, const char *subject)
{
    if (!err)
        return;
    set_subject(err, subject);
    compose(err);
}

void vs_error_hint(vs_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
    sanitize(err->hint);
}

void vs_error_set_detail(vs_error *err, vs_error_detail d)
{
    if (err)
        err->detail = d;
}

void vs_error_clear(vs_error *err)
{
    if (!err)
        return;
    err->status = VS_OK;
    err->message[0] = '\0';
    err->backend = NULL;
    err->backend_code = 0;
    err->subject[0] = '\0';
    err->reason[0] = '\0';
    err->hint[0] = '\0';
    err->detail = VS_DETAIL_NONE;
}

vs_status vs_opts_check(unsigned version, unsigned known, const char *name, const char *init,
                        vs_error *err)
{
    if (version >= 1 && version <= known)
        return VS_OK;
    vs_error_subj(err, VS_E_USAGE, name,
                  "options of layout version %u, which this library does not know (it "
                  "knows 1 to %u)",
                  version, known);
    vs_error_hint(err, "initialise the options with %s, then set the fields", init);
    return VS_E_USAGE;
}
