/* verify/checksums.c - the sha256sum-format checksum list (untrusted bytes). */
#include <string.h>

#include "verify/verify_int.h"

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* One line: hex, then "  " (text) or " *" (binary), then a non-empty name. */
static bool parse_line(const char *l, size_t n, size_t *hexlen, const char **name,
                       size_t *namelen)
{
    size_t h = 0;
    while (h < n && is_hex(l[h]))
        h++;
    /* MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 lengths */
    if (h != 32 && h != 40 && h != 56 && h != 64 && h != 96 && h != 128)
        return false;
    if (n - h < 3 || l[h] != ' ' || (l[h + 1] != ' ' && l[h + 1] != '*'))
        return false;
    *hexlen = h;
    *name = l + h + 2;
    *namelen = n - h - 2;
    if (memchr(*name, '\0', *namelen))
        return false;
    return true;
}

static bool blank(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t')
            return false;
    return true;
}

vs_status vs_checksums_lookup(const uint8_t *p, size_t len, const char *file, const char *name,
                              uint8_t out[32], vs_error *err)
{
    if (len > VS_MAX_CHECKSUM_FILE)
        return vs_error_subj(err, VS_E_VERIFY, file, "larger than the limit of %u bytes", VS_MAX_CHECKSUM_FILE);
    size_t want = strlen(name);
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *l;
    size_t n;
    unsigned lineno = 0;
    bool found = false;
    uint8_t got[32];
    while (vs_cursor_line(&c, VS_MAX_CHECKSUM_LINE, &l, &n)) {
        lineno++;
        if (blank(l, n))
            continue;
        size_t hexlen, namelen;
        const char *ename;
        if (!parse_line(l, n, &hexlen, &ename, &namelen))
            return vs_error_subj(err, VS_E_VERIFY, file,
                                "line %u is not a sha256sum-format entry", lineno);
        if (namelen != want || memcmp(ename, name, want) != 0)
            continue;
        if (hexlen != 64)
            return vs_error_subj(err, VS_E_VERIFY, file,
                                "the entry for %s on line %u is not a SHA-256 hash", name, lineno);
        uint8_t d[32];
        if (!vs_unhex(d, 32, l, 64))
            return vs_error_subj(err, VS_E_VERIFY, file, "line %u: bad hex", lineno);
        if (found && memcmp(d, got, 32) != 0)
            return vs_error_subj(err, VS_E_VERIFY, file,
                                "two different SHA-256 entries for %s (line %u)", name,
                                lineno);
        memcpy(got, d, 32);
        found = true;
    }
    if (c.bad)
        return vs_error_subj(err, VS_E_VERIFY, file, "line %u longer than the limit of %u bytes",
                            lineno + 1, VS_MAX_CHECKSUM_LINE);
    if (!found)
        return vs_error_subj(err, VS_E_VERIFY, file, "no SHA-256 entry for %s", name);
    memcpy(out, got, 32);
    return VS_OK;
}
