/* fetch/urlname.c - what a URL says about itself: scheme, file name, the
 * package name and version it implies, and where a mirror keeps it. Pure
 * string work on untrusted input: explicit lengths, no libcurl. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/fetch_int.h"

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_scheme_char(int c, size_t pos)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return pos > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.');
}

/* Length of the "scheme" before ':' or 0 when url does not start with one. */
static size_t scheme_len(const char *url)
{
    size_t n = 0;
    while (url[n] && url[n] != ':') {
        if (!is_scheme_char((unsigned char)url[n], n) || n >= 32)
            return 0;
        n++;
    }
    return url[n] == ':' ? n : 0;
}

static int scheme_is(const char *url, size_t n, const char *want)
{
    size_t i;
    for (i = 0; i < n && want[i]; i++)
        if (lower((unsigned char)url[i]) != want[i])
            return 0;
    return i == n && want[i] == '\0';
}

vs_url_scheme vs_fetch_scheme(const char *url)
{
    size_t n = url ? scheme_len(url) : 0;
    if (n == 0)
        return VS_SCHEME_NONE;
    if (scheme_is(url, n, "https"))
        return VS_SCHEME_HTTPS;
    if (scheme_is(url, n, "http"))
        return VS_SCHEME_HTTP;
    if (scheme_is(url, n, "file"))
        return VS_SCHEME_FILE;
    return VS_SCHEME_OTHER;
}

vs_status vs_fetch_check_url(const char *url, vs_url_scheme *scheme, vs_error *err)
{
    *scheme = VS_SCHEME_NONE;
    if (!url || !*url)
        return vs_error_set(err, VS_E_USAGE, "empty URL");
    size_t len = strnlen(url, VS_MAX_URL + 1);
    if (len > VS_MAX_URL)
        return vs_error_set(err, VS_E_USAGE, "%.80s...: URL longer than %u bytes", url,
                            VS_MAX_URL);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f)
            return vs_error_set(err, VS_E_USAGE,
                                "%s: URL holds a space or control character (encode it)", url);
    }
    vs_url_scheme s = vs_fetch_scheme(url);
    if (s == VS_SCHEME_NONE)
        return vs_error_set(err, VS_E_USAGE, "%s: not a URL (no https://, http:// or file://)",
                            url);
    if (s == VS_SCHEME_OTHER)
        return vs_error_set(err, VS_E_USAGE, "%s: scheme '%.*s' is not allowed", url,
                            (int)scheme_len(url), url);
    size_t n = scheme_len(url);
    if (strncmp(url + n, "://", 3) != 0)
        return vs_error_set(err, VS_E_USAGE, "%s: not a URL (expected '%.*s://')", url, (int)n,
                            url);
    *scheme = s;
    return VS_OK;
}

const char *vs_fetch_url_filename(const char *url, size_t *len, const char **dir, size_t *dirlen)
{
    *len = 0;
    if (dir) {
        *dir = url;
        *dirlen = 0;
    }
    if (!url)
        return url;
    const char *path = url;
    size_t sn = scheme_len(url);
    if (sn > 0 && strncmp(url + sn, "://", 3) == 0) {
        const char *auth = url + sn + 3;
        path = auth + strcspn(auth, "/?#");
        if (*path != '/')
            return url; /* no path at all */
    }
    const char *end = path + strcspn(path, "?#");
    const char *slash = NULL;
    for (const char *p = path; p < end; p++)
        if (*p == '/')
            slash = p;
    const char *file = slash ? slash + 1 : path;
    size_t flen = (size_t)(end - file);
    if (flen == 0 || (flen == 1 && file[0] == '.') || (flen == 2 && file[0] == '.' && file[1] == '.'))
        return url;
    *len = flen;
    if (dir && slash && slash > path) {
        const char *d = slash;
        while (d > path && d[-1] != '/')
            d--;
        *dir = d;
        *dirlen = (size_t)(slash - d);
    }
    return file;
}

void vs_fetch_url_shown(const char *url, char *out, size_t cap)
{
    size_t sn = scheme_len(url), n = strlen(url);
    const char *at = NULL;
    if (sn > 0 && strncmp(url + sn, "://", 3) == 0) {
        const char *auth = url + sn + 3;
        size_t alen = strcspn(auth, "/?#");
        at = memchr(auth, '@', alen);
        if (at) {
            snprintf(out, cap, "%.*s***%s", (int)(auth - url), url, at);
            return;
        }
    }
    snprintf(out, cap, "%.*s", (int)(n > (size_t)INT32_MAX ? INT32_MAX : n), url);
}

char *vs_fetch_mirror_url(const char *base, const char *url)
{
    if (!base || !url)
        return NULL;
    size_t flen;
    const char *file = vs_fetch_url_filename(url, &flen, NULL, NULL);
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if (flen == 0 || blen == 0)
        return NULL;
    if (blen > VS_MAX_URL || flen > VS_MAX_URL)
        return NULL;
    char *out = malloc(blen + 1 + flen + 1);
    if (!out)
        return NULL;
    memcpy(out, base, blen);
    out[blen] = '/';
    memcpy(out + blen + 1, file, flen);
    out[blen + 1 + flen] = '\0';
    return out;
}

static const char *const suffixes[] = { ".tar.gz", ".tgz", ".tar.xz", ".tar.zst" };

/* Copy [p, p+n) into out (size cap) and validate it. */
static int take(char *out, size_t cap, const char *p, size_t n, int is_name)
{
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, p, n);
    out[n] = '\0';
    return is_name ? vs_valid_name(out) : vs_valid_version(out);
}

/* First `sep` in [s, s+n) followed by a digit, not at position 0. */
static const char *split_at(const char *s, size_t n, char sep)
{
    for (size_t i = 1; i + 1 < n; i++)
        if (s[i] == sep && is_digit((unsigned char)s[i + 1]))
            return s + i;
    return NULL;
}

vs_status vs_fetch_name_version(const char *url, char name[VS_MAX_NAME + 1],
                                char version[VS_MAX_VERSION + 1], vs_error *err)
{
    name[0] = version[0] = '\0';
    size_t flen = 0, dlen = 0;
    const char *dir = NULL;
    const char *file = vs_fetch_url_filename(url, &flen, &dir, &dlen);
    size_t stem = 0;
    for (size_t i = 0; flen > 0 && i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (flen > sl && memcmp(file + flen - sl, suffixes[i], sl) == 0) {
            stem = flen - sl;
            break;
        }
    }
    int ok = 0;
    if (stem > 0 && is_digit((unsigned char)file[0])) {
        ok = take(version, VS_MAX_VERSION + 1, file, stem, 0) &&
             take(name, VS_MAX_NAME + 1, dir, dlen, 1);
    } else if (stem > 0) {
        const char *sep = split_at(file, stem, '-');
        if (!sep)
            sep = split_at(file, stem, '_');
        if (sep)
            ok = take(name, VS_MAX_NAME + 1, file, (size_t)(sep - file), 1) &&
                 take(version, VS_MAX_VERSION + 1, sep + 1, stem - (size_t)(sep - file) - 1, 0);
    }
    if (!ok) {
        name[0] = version[0] = '\0';
        return vs_error_set(err, VS_E_USAGE,
                            "%s: cannot tell name and version from the file name; give --name "
                            "and --version",
                            url ? url : "(null)");
    }
    return VS_OK;
}
