/* common/error.c - the status table and the error object. libc only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/common_int.h"

const char *vs_status_name(vs_status st)
{
    switch (st) {
#define VS_X_NAME(name, val, str, desc) \
    case name:                          \
        return str;
        VS_STATUS_TABLE(VS_X_NAME)
#undef VS_X_NAME
    }
    return "internal";
}

const char *vs_status_describe(vs_status st)
{
    switch (st) {
#define VS_X_DESC(name, val, str, desc) \
    case name:                          \
        return desc;
        VS_STATUS_TABLE(VS_X_DESC)
#undef VS_X_DESC
    }
    return "unexpected failure";
}

/* Keep the message on one line: control characters (from file names or
 * backend strings) become '?'. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static vs_status vset(vs_error *err, vs_status st, const char *backend, long code, const char *fmt,
                      va_list ap)
{
    if (!err)
        return st;
    err->status = st;
    err->backend = backend;
    err->backend_code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    sanitize(err->message);
    return st;
}

vs_status vs_error_set(vs_error *err, vs_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, st, NULL, 0, fmt, ap);
    va_end(ap);
    return st;
}

vs_status vs_error_setb(vs_error *err, vs_status st, const char *backend, long code,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, st, backend, code, fmt, ap);
    va_end(ap);
    return st;
}

vs_status vs_error_errno(vs_error *err, vs_status st, int errnum, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return st;
    va_start(ap, fmt);
    vset(err, st, "errno", errnum, fmt, ap);
    va_end(ap);
    size_t n = strlen(err->message);
    if (n < sizeof err->message)
        snprintf(err->message + n, sizeof err->message - n, ": %s", strerror(errnum));
    sanitize(err->message);
    return st;
}

void vs_error_clear(vs_error *err)
{
    if (!err)
        return;
    err->status = VS_OK;
    err->message[0] = '\0';
    err->backend = NULL;
    err->backend_code = 0;
}
