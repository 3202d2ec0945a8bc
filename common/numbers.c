/* common/numbers.c - the one parser for counts, sizes and durations, on the
 * command line and in the configuration file alike. Digits and the
 * documented suffixes only: no sign, no blank (strtoull would skip "' -1'"
 * into "no limit"), no hex, no overflow. */
#include <stdint.h>
#include <string.h>

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

/* A unit letter after the digits and what it multiplies by. */
typedef struct unit {
    char letter;
    uint64_t mul;
} unit;

/* Digits, then optionally one of `units` followed by exactly one of `tails`
 * (a NULL-terminated list; "" for nothing more). */
static bool scaled(const char *s, const unit *units, const char *const *tails, uint64_t *out)
{
    uint64_t v;
    const char *rest = digits(s, &v);
    if (!rest)
        return false;
    uint64_t mul = 1;
    if (*rest) {
        const unit *u = units;
        while (u->letter && u->letter != *rest)
            u++;
        if (!u->letter)
            return false;
        mul = u->mul;
        rest++;
        const char *const *t = tails;
        while (*t && strcmp(*t, rest) != 0)
            t++;
        if (!*t)
            return false;
    }
    return times(v, mul, out);
}

bool vs_parse_size(const char *s, uint64_t *out)
{
    static const unit units[] = {
        { 'k', 1ull << 10 }, { 'K', 1ull << 10 }, { 'm', 1ull << 20 }, { 'M', 1ull << 20 },
        { 'g', 1ull << 30 }, { 'G', 1ull << 30 }, { 't', 1ull << 40 }, { 'T', 1ull << 40 },
        { 0, 0 },
    };
    static const char *const tails[] = { "", "iB", "B", NULL };
    return scaled(s, units, tails, out);
}

bool vs_parse_duration(const char *s, uint64_t *seconds)
{
    static const unit units[] = {
        { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 0, 0 },
    };
    static const char *const tails[] = { "", NULL };
    return scaled(s, units, tails, seconds);
}
