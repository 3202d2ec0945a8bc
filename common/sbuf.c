/* common/sbuf.c - a growing NUL-terminated string for the text renderers
 * (manifest, Dockerfile). libc only (linked into the static checker). */
#include <stdlib.h>
#include <string.h>

#include "common/common_int.h"

void vs_sbuf_add(vs_sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
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
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void vs_sbuf_puts(vs_sbuf *b, const char *s)
{
    vs_sbuf_add(b, s, strlen(s));
}
