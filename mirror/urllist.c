/* mirror/urllist.c - the URL list `mirror sync` reads: one URL a line,
 * comments and blank lines ignored, bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror/mirror_int.h"

void vs_mirror_urls_free(char **urls, size_t n)
{
    for (size_t i = 0; urls && i < n; i++)
        free(urls[i]);
    free(urls);
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

vs_status vs_mirror_list_parse(const uint8_t *p, size_t len, const char *what, char ***urls,
                               size_t *n, vs_error *err)
{
    *urls = NULL;
    *n = 0;
    if (len > VS_MAX_MIRROR_LIST)
        return vs_error_set(err, VS_E_USAGE, "%s: larger than %u bytes", what,
                            VS_MAX_MIRROR_LIST);
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *line;
    size_t ll, lineno = 0, cap = 0;
    char **v = NULL;
    vs_status st = VS_OK;
    while (vs_cursor_line(&c, VS_MAX_URL + 256, &line, &ll)) {
        lineno++;
        while (ll && blank(line[0])) {
            line++;
            ll--;
        }
        while (ll && blank(line[ll - 1]))
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        if (memchr(line, '\0', ll) || ll > VS_MAX_URL) {
            st = vs_error_set(err, VS_E_USAGE, "%s:%zu: not a URL", what, lineno);
            break;
        }
        for (size_t i = 0; i < ll && !st; i++)
            if ((unsigned char)line[i] <= 0x20 || line[i] == 0x7f)
                st = vs_error_set(err, VS_E_USAGE, "%s:%zu: blank or control character in URL",
                                  what, lineno);
        if (st)
            break;
        if (*n >= VS_MAX_MIRROR_URLS) {
            st = vs_error_set(err, VS_E_USAGE, "%s: more than %u URLs", what,
                              VS_MAX_MIRROR_URLS);
            break;
        }
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        v[*n] = strndup(line, ll);
        if (!v[*n]) {
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
            break;
        }
        (*n)++;
    }
    if (!st && c.bad)
        st = vs_error_set(err, VS_E_USAGE, "%s:%zu: line too long", what, lineno + 1);
    if (!st && *n == 0)
        st = vs_error_set(err, VS_E_USAGE, "%s: no URLs", what);
    if (st) {
        vs_mirror_urls_free(v, *n);
        *n = 0;
        return st;
    }
    *urls = v;
    return VS_OK;
}
