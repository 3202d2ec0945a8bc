/* common/sbuf.c - a growing NUL-terminated buffer with a maximum, for the
 * text renderers (manifest, Dockerfile, URLs) and the DER encoder. libc only
 * (linked into the static checker). */
#include <stdlib.h>
#include <string.h>

#include "common/common_int.h"

void vs_sbuf_init(vs_sbuf *b, size_t max)
{
    *b = (vs_sbuf)VS_SBUF_INIT(max);
}

void vs_sbuf_add(vs_sbuf *b, const void *s, size_t n)
{
    if (b->oom || b->toobig)
        return;
    if (n > b->max || b->len > b->max - n) {
        b->toobig = true;
        return;
    }
    if (n >= b->cap - b->len || !b->p) {
        size_t ncap = b->cap ? b->cap : 1024;
        while (ncap - b->len <= n) {
            if (ncap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            ncap *= 2;
        }
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void vs_sbuf_puts(vs_sbuf *b, const char *s)
{
    vs_sbuf_add(b, s, strlen(s));
}

bool vs_sbuf_failed(const vs_sbuf *b)
{
    return b->oom || b->toobig;
}

vs_status vs_sbuf_status(const vs_sbuf *b, const char *subject, vs_error *err)
{
    if (b->oom)
        return vs_error_subj(err, VS_E_INTERNAL, subject, "out of memory");
    if (b->toobig)
        return vs_error_subj(err, VS_E_USAGE, subject, "larger than the limit of %zu bytes",
                             b->max);
    return VS_OK;
}

void vs_sbuf_free(vs_sbuf *b)
{
    free(b->p);
    vs_sbuf_init(b, b->max);
}

void *vs_grow(void *v, size_t *cap, size_t n, size_t elsize, size_t first)
{
    if (n < *cap)
        return v;
    size_t ncap = *cap ? *cap : first;
    while (ncap <= n) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (elsize && ncap > SIZE_MAX / elsize)
        return NULL;
    void *nv = realloc(v, ncap * elsize);
    if (nv)
        *cap = ncap;
    return nv;
}
