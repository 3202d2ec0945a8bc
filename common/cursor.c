/* common/cursor.c - bounded, sticky-failure reader for untrusted bytes. */
#include <string.h>

#include "common/common_int.h"

void vs_cursor_init(vs_cursor *c, const void *p, size_t len)
{
    c->p = p;
    c->len = p ? len : 0;
    c->pos = 0;
    c->bad = false;
}

size_t vs_cursor_left(const vs_cursor *c)
{
    return c->bad ? 0 : c->len - c->pos;
}

const uint8_t *vs_cursor_bytes(vs_cursor *c, size_t n)
{
    if (c->bad || n > c->len - c->pos) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *r = c->p + c->pos;
    c->pos += n;
    return r;
}

bool vs_cursor_u8(vs_cursor *c, uint8_t *out)
{
    const uint8_t *b = vs_cursor_bytes(c, 1);
    if (!b)
        return false;
    *out = *b;
    return true;
}

bool vs_cursor_line(vs_cursor *c, size_t max, const char **line, size_t *linelen)
{
    size_t left = vs_cursor_left(c);
    if (left == 0)
        return false;
    const uint8_t *start = c->p + c->pos;
    const uint8_t *nl = memchr(start, '\n', left);
    size_t n = nl ? (size_t)(nl - start) : left;
    if (n > max) {
        c->bad = true;
        return false;
    }
    c->pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *line = (const char *)start;
    *linelen = n;
    return true;
}

bool vs_cursor_text_line(vs_cursor *c, size_t max, const char *blanks, size_t *lineno,
                         const char **line, size_t *linelen)
{
    const char *l;
    size_t n;
    while (vs_cursor_line(c, max, &l, &n)) {
        (*lineno)++;
        while (n > 0 && strchr(blanks, l[0]) && l[0]) {
            l++;
            n--;
        }
        while (n > 0 && strchr(blanks, l[n - 1]) && l[n - 1])
            n--;
        if (n == 0 || l[0] == '#')
            continue;
        *line = l;
        *linelen = n;
        return true;
    }
    return false;
}
