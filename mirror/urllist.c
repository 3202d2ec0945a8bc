/* mirror/urllist.c - the URL list `mirror sync` reads: one URL a line,
 * comments and blank lines ignored, bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

vs_status vs_mirror_list_parse(const uint8_t *p, size_t len, const char *what, char ***urls,
                               size_t *n, vs_error *err)
{
    *urls = NULL;
    *n = 0;
    if (len > VS_MAX_MIRROR_LIST)
        return vs_error_subj(err, VS_E_USAGE, what, "larger than %u bytes", VS_MAX_MIRROR_LIST);
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *line;
    size_t ll, lineno = 0, cap = 0;
    char **v = NULL;
    vs_status st = VS_OK;
    char where[VS_ERROR_SUBJECT_MAX];
    while (vs_cursor_text_line(&c, VS_MAX_URL + 256, " \t\r", &lineno, &line, &ll)) {
        snprintf(where, sizeof where, "%s:%zu", what, lineno);
        if (memchr(line, '\0', ll) || ll > VS_MAX_URL) {
            st = vs_error_subj(err, VS_E_USAGE, where, "not a URL");
            break;
        }
        for (size_t i = 0; i < ll && !st; i++)
            if ((unsigned char)line[i] <= 0x20 || line[i] == 0x7f)
                st = vs_error_subj(err, VS_E_USAGE, where, "blank or control character in URL");
        if (st)
            break;
        if (*n >= VS_MAX_MIRROR_URLS) {
            st = vs_error_subj(err, VS_E_USAGE, what, "more than %u URLs", VS_MAX_MIRROR_URLS);
            break;
        }
        char **grown = vs_grow(v, &cap, *n, sizeof *v, 16);
        if (grown)
            v = grown;
        if (!grown || !(v[*n] = strndup(line, ll))) {
            st = vs_error_subj(err, VS_E_INTERNAL, where, "out of memory");
            break;
        }
        (*n)++;
    }
    if (!st && c.bad) {
        snprintf(where, sizeof where, "%s:%zu", what, lineno + 1);
        st = vs_error_subj(err, VS_E_USAGE, where, "line too long");
    }
    if (!st && *n == 0)
        st = vs_error_subj(err, VS_E_USAGE, what, "no URLs");
    if (st) {
        vs_mirror_urls_free(v, *n);
        *n = 0;
        return st;
    }
    *urls = v;
    return VS_OK;
}
