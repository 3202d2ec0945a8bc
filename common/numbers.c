/* common/numbers.c - the one parser for counts, sizes and durations, on the
 * command line and in the configuration file alike. Digits and the
 * documented suffixes only: no sign, no blank (strtoull would skip "' -1'"
 * into "no limit"), no hex, no overflow. */
#include <stdint.h>

#include "common/common_int.h"

/* Leading decimal digits of s into *v (at least one); returns the rest, or
 * NULL on no digit or overflow. */
static const char *digits(const char *s, uint64_t *v)
{
    if (!s || *s < '0' || *s > '9')
        return NULL;
    uint64_t r = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (r > (UINT64_MAX - d) / 10)
            return NULL;
        r = r * 10 + d;
    }
    *v = r;
    return s;
}

static bool times(uint64_t v, uint64_t mul, uint64_t *out)
{
    if (mul != 0 && v > UINT64_MAX / mul)
        return false;
    *out = v * mul;
    return true;
}

bool vs_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v;
    const char *rest = digits(s, &v);
    if (!rest || *rest)
        return false;
    *out = v;
    return true;
}

bool vs_parse_size(const char *s, uint64_t *out)
{
    uint64_t v;
    const char *rest = digits(s, &v);
    if (!rest)
        return false;
    uint64_t mul = 1;
    switch (*rest) {
    case '\0':
        *out = v;
        return true;
    case 'k': case 'K': mul = 1ull << 10; break;
    case 'm': case 'M': mul = 1ull << 20; break;
    case 'g': case 'G': mul = 1ull << 30; break;
    case 't': case 'T': mul = 1ull << 40; break;
    default:
        return false;
    }
    rest++;
    if (rest[0] == 'i' && rest[1] == 'B')
        rest += 2;
    else if (rest[0] == 'B')
        rest++;
    return *rest == '\0' && times(v, mul, out);
}

bool vs_parse_duration(const char *s, uint64_t *seconds)
{
    uint64_t v;
    const char *rest = digits(s, &v);
    if (!rest)
        return false;
    uint64_t mul = 1;
    switch (*rest) {
    case '\0': break;
    case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    default:
        return false;
    }
    if (*rest && rest[1])
        return false;
    return times(v, mul, seconds);
}
