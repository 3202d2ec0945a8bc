/* cache/version.c - version ordering (dpkg's verrevcmp, without epochs). */
#include <string.h>

#include "cache/cache_int.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Weight of one character in a non-digit run: '~' before the end of the
 * run, the end before letters, letters before everything else. */
static int order(char c)
{
    if (c == '\0' || is_digit(c))
        return 0;
    if (c == '~')
        return -1;
    if (is_alpha(c))
        return (unsigned char)c;
    return (unsigned char)c + 256;
}

int vs_version_cmp(const char *a, const char *b)
{
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    while (*a || *b) {
        while ((*a && !is_digit(*a)) || (*b && !is_digit(*b))) {
            int d = order(*a) - order(*b);
            if (d)
                return d < 0 ? -1 : 1;
            if (*a && !is_digit(*a))
                a++;
            if (*b && !is_digit(*b))
                b++;
        }
        /* digit runs: numeric value, any length (no overflow) */
        while (*a == '0')
            a++;
        while (*b == '0')
            b++;
        size_t na = 0, nb = 0;
        while (is_digit(a[na]))
            na++;
        while (is_digit(b[nb]))
            nb++;
        if (na != nb)
            return na < nb ? -1 : 1;
        int d = memcmp(a, b, na);
        if (d)
            return d < 0 ? -1 : 1;
        a += na;
        b += nb;
    }
    return 0;
}
