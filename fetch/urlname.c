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

/* Length of a valid UTF-8 sequence at p (n bytes left) that is neither a
 * control character (C1) nor a surrogate nor past U+10FFFF; 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    uint32_t cp;
    size_t len;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        cp = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        cp = p[0] & 0x0fu;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return len;
}

/* A URL for an error message about its own bytes: redacted, then every byte
 * that is not printable ASCII shown as '?'. */
static void shown_bytes(char *out, size_t cap, const char *url)
{
    vs_url_redact(out, cap, url);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
}

vs_status vs_fetch_check_url(const char *url, vs_url_scheme *scheme, vs_error *err)
{
    *scheme = VS_SCHEME_NONE;
    if (!url || !*url)
        return vs_error_subj(err, VS_E_USAGE, "URL", "empty");
    char shown[VS_MAX_URL + 1];
    size_t len = strnlen(url, VS_MAX_URL + 1);
    if (len > VS_MAX_URL) {
        shown_bytes(shown, 84, url);
        memcpy(shown + strlen(shown), "...", 4);
        return vs_error_subj(err, VS_E_USAGE, shown, "URL longer than %u bytes", VS_MAX_URL);
    }
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)url[i];
        size_t n = utf8_len((const unsigned char *)url + i, len - i);
        if (c <= 0x20 || c == 0x7f || n == 0) {
            shown_bytes(shown, sizeof shown, url);
            vs_error_subj(err, VS_E_USAGE, shown,
                          "byte %zu of the URL is %s (0x%02x); nothing was downloaded", i + 1,
                          c == 0x20 ? "a space" : c < 0x20 || c == 0x7f ? "a control character"
                                                                         : "not valid UTF-8",
                          c);
            vs_error_hint(err, "percent-encode it (%%%02X)", c);
            return VS_E_USAGE;
        }
        i += n;
    }
    vs_url_redact(shown, sizeof shown, url);
    vs_url_scheme s = vs_fetch_scheme(url);
    if (s == VS_SCHEME_NONE) {
        vs_error_subj(err, VS_E_USAGE, shown, "not a URL (no https://, http:// or file://)");
        vs_error_hint(err, "pass file:///abs/path for a local file");
        return VS_E_USAGE;
    }
    if (s == VS_SCHEME_OTHER)
        return vs_error_subj(err, VS_E_USAGE, shown, "scheme '%.*s' is not allowed",
                             (int)scheme_len(url), url);
    size_t n = scheme_len(url);
    if (strncmp(url + n, "://", 3) != 0)
        return vs_error_subj(err, VS_E_USAGE, shown, "not a URL (expected '%.*s://')", (int)n,
                             url);
    *scheme = s;
    return VS_OK;
}

vs_status vs_fetch_url_check(const char *url, vs_error *err)
{
    vs_url_scheme s;
    return vs_fetch_check_url(url, &s, err);
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

/* ---- redaction ----------------------------------------------------------- */

/* Bounded output of vs_url_redact: counts everything, stores what fits. */
typedef struct emit {
    char *out;
    size_t cap, len;
} emit;

static void put(emit *e, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++, e->len++)
        if (e->cap > 0 && e->len < e->cap - 1)
            e->out[e->len] = p[i];
}

/* Does a query parameter called [p, p+n) carry a credential? The name is
 * compared percent-decoded, lower-cased, without '-' and '_':
 * X-Amz-Signature, x_amz_signature and X%2DAmz-Signature are one name. */
static int secret_param(const char *p, size_t n)
{
    static const char *const exact[] = { "sig", "key", "pwd", "pass", "auth", "code",
                                         "jwt", "session", "sessionid", "sas" };
    static const char *const part[] = { "token", "secret", "signature", "password", "passwd",
                                        "credential", "apikey", "accesskey", "privatekey",
                                        "authorization" };
    char norm[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = lower(vs_pct_at(p, n, &i));
        if (c == '-' || c == '_')
            continue;
        if (k + 1 >= sizeof norm)
            return 1; /* a 60-character parameter name: better hidden than shown */
        norm[k++] = (char)c;
    }
    norm[k] = '\0';
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(norm, exact[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
        if (strstr(norm, part[i]))
            return 1;
    return 0;
}

/* Parameters "a=1&b=2" (or ';'-separated) in [p, end), secret values replaced. */
static void put_params(emit *e, const char *p, const char *end)
{
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '&' && *q != ';')
            q++;
        const char *eq = memchr(p, '=', (size_t)(q - p));
        if (eq && secret_param(p, (size_t)(eq - p))) {
            put(e, p, (size_t)(eq - p) + 1);
            put(e, "REDACTED", 8);
        } else {
            put(e, p, (size_t)(q - p));
        }
        if (q < end)
            put(e, q, 1);
        p = q + (q < end);
    }
}

size_t vs_url_redact(char *out, size_t cap, const char *url)
{
    emit e = { out, cap, 0 };
    if (!url)
        url = "";
    const char *p = url;
    size_t sn = scheme_len(url);
    if (sn > 0 && strncmp(url + sn, "://", 3) == 0) {
        const char *auth = url + sn + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *host = auth;
        for (const char *q = auth; q < auth + alen; q++)
            if (*q == '@')
                host = q + 1; /* the last '@': a password may hold one */
        put(&e, url, (size_t)(auth - url));
        put(&e, host, (size_t)(auth + alen - host));
        p = auth + alen;
    }
    size_t plen = strcspn(p, "?#");
    put(&e, p, plen);
    p += plen;
    if (*p == '?') {
        const char *end = p + 1 + strcspn(p + 1, "#");
        put(&e, p, 1);
        put_params(&e, p + 1, end);
        p = end;
    }
    if (*p == '#') {
        put(&e, p, 1);
        put_params(&e, p + 1, p + strlen(p));
    }
    if (cap > 0)
        out[e.len < cap ? e.len : cap - 1] = '\0';
    return e.len;
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

/* Archive suffixes a package file name may end in (what stage can read). */
static const char *const suffixes[] = { ".tar.gz", ".tgz",  ".tar.bz2", ".tbz2", ".tbz",
                                        ".tar.xz", ".txz",  ".tar.zst", ".tzst" };

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

/* "6.2.1.2000", "v6.2.0", "V2", "2024": an optional 'v', a digit, then
 * only characters a version may hold. Such a folder is a release tag, never
 * a package name. */
static int looks_like_version(const char *s, size_t n)
{
    size_t i = n > 0 && (s[0] == 'v' || s[0] == 'V') ? 1 : 0;
    if (i >= n || !is_digit((unsigned char)s[i]))
        return 0;
    for (; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
              c == '_' || c == '+' || c == '~' || c == '-'))
            return 0;
    }
    return 1;
}

/* Length of the file name without its archive suffix; 0 when it has none. */
static size_t stem_len(const char *file, size_t flen)
{
    for (size_t i = 0; flen > 0 && i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (flen > sl && memcmp(file + flen - sl, suffixes[i], sl) == 0)
            return flen - sl;
    }
    return 0;
}

vs_status vs_fetch_name_version_for(char name[VS_MAX_NAME + 1], char version[VS_MAX_VERSION + 1],
                                    const char *url, const char *given_name, vs_error *err)
{
    name[0] = version[0] = '\0';
    size_t flen = 0, dlen = 0;
    const char *dir = NULL;
    const char *file = vs_fetch_url_filename(url, &flen, &dir, &dlen);
    size_t stem = stem_len(file, flen);
    size_t gl = given_name ? strlen(given_name) : 0;
    const char *why = "cannot tell name and version from the file name; give --name and "
                      "--version";
    int ok = 0;
    if (stem == 0) {
        why = flen == 0 ? "the URL names no file; give --name and --version"
                        : "the file name does not end in .tar.gz, .tgz, .tar.bz2, .tar.xz or "
                          ".tar.zst; give --name and --version";
    } else if (given_name) {
        /* the name is the caller's; the version is what the file name adds */
        ok = take(name, VS_MAX_NAME + 1, given_name, gl, 1);
        if (!ok) {
            why = "invalid package name";
        } else if (stem > gl + 1 && memcmp(file, given_name, gl) == 0 &&
                   (file[gl] == '-' || file[gl] == '_')) {
            ok = take(version, VS_MAX_VERSION + 1, file + gl + 1, stem - gl - 1, 0); /* N-V */
        } else if (looks_like_version(file, stem)) {
            ok = take(version, VS_MAX_VERSION + 1, file, stem, 0); /* VERSION.tgz */
        } else {
            const char *sep = split_at(file, stem, '-');
            if (!sep)
                sep = split_at(file, stem, '_');
            ok = sep && take(version, VS_MAX_VERSION + 1, sep + 1,
                             stem - (size_t)(sep - file) - 1, 0);
        }
        if (!ok && given_name && vs_valid_name(name))
            why = "cannot tell the version from the file name; give --version";
    } else if (is_digit((unsigned char)file[0])) {
        /* VERSION.tgz: the name is the folder, unless that is a version too */
        if (dlen == 0) {
            why = "the file name is a version and no folder names the package; give --name";
        } else if (looks_like_version(dir, dlen)) {
            why = "the file name is a version and its folder looks like a version (a release "
                  "tag), not a package name; give --name";
        } else {
            ok = take(version, VS_MAX_VERSION + 1, file, stem, 0) &&
                 take(name, VS_MAX_NAME + 1, dir, dlen, 1);
        }
    } else {
        const char *sep = split_at(file, stem, '-');
        if (!sep)
            sep = split_at(file, stem, '_');
        if (sep)
            ok = take(name, VS_MAX_NAME + 1, file, (size_t)(sep - file), 1) &&
                 take(version, VS_MAX_VERSION + 1, sep + 1, stem - (size_t)(sep - file) - 1, 0);
    }
    if (!ok) {
        name[0] = version[0] = '\0';
        char shown[VS_MAX_URL + 1];
        vs_url_redact(shown, sizeof shown, url);
        return vs_error_subj(err, VS_E_USAGE, shown[0] ? shown : "URL", "%s", why);
    }
    return VS_OK;
}

vs_status vs_fetch_name_version(char name[VS_MAX_NAME + 1], char version[VS_MAX_VERSION + 1],
                                const char *url, vs_error *err)
{
    return vs_fetch_name_version_for(name, version, url, NULL, err);
}

vs_status vs_fetch_file_name(char *out, size_t cap, const char *url, vs_error *err)
{
    if (cap > 0)
        out[0] = '\0';
    size_t flen = 0;
    const char *file = vs_fetch_url_filename(url, &flen, NULL, NULL);
    const char *why = NULL;
    if (flen == 0)
        why = "the URL names no file";
    else if (flen >= cap)
        why = "the file name is too long";
    for (size_t i = 0; !why && i < flen; i++)
        if ((unsigned char)file[i] < 0x20 || file[i] == 0x7f)
            why = "control character in the file name";
    if (why) {
        char shown[VS_MAX_URL + 1];
        vs_url_redact(shown, sizeof shown, url);
        return vs_error_subj(err, VS_E_USAGE, shown[0] ? shown : "URL", "%s", why);
    }
    memcpy(out, file, flen);
    out[flen] = '\0';
    return VS_OK;
}
