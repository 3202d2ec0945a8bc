/* stage/manifest.c - the .vetstage/MANIFEST.sha256 and .vetstage/MODES files:
 * parse (untrusted: read through the bounded cursor) and render.
 * libc + common only (linked into the static checker). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

/* Copy a line (not NUL-terminated) into a bounded buffer. */
static bool line_copy(char *dst, size_t dstsz, const char *src, size_t n)
{
    if (n >= dstsz || memchr(src, '\0', n))
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

static vs_status bad_line(vs_error *err, const char *name, size_t lineno, const char *why)
{
    return vs_error_subj(err, VS_E_INTEGRITY, name, "line %zu: %s", lineno, why);
}

/* Normalise and vet a path read from a metadata file. */
static const char *meta_path(const char *raw, char *norm, size_t normsz)
{
    const char *why = vs_stage_norm_path(raw, norm, normsz);
    if (why)
        return why;
    if (!*norm)
        return "empty path";
    if (vs_stage_reserved(norm))
        return "path inside .vetstage";
    return NULL;
}

/* One line of a metadata file, copied NUL-terminated into buf (n bytes);
 * norm is scratch for the normalised path. */
typedef vs_status (*line_fn)(char *buf, size_t n, char *norm, const char *name, size_t lineno,
                             vs_pathset *set, vs_error *err);

/* Read p line by line (each at most maxline bytes) through the bounded cursor
 * and hand every line to fn; stops at the first failure. */
static vs_status parse_lines(const uint8_t *p, size_t len, size_t maxline, const char *name,
                             vs_pathset *set, line_fn fn, vs_error *err)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *line;
    size_t n, lineno = 0;
    char *buf = malloc(maxline + 1);
    char *norm = malloc(VS_MAX_ARCHIVE_PATH + 1);
    vs_status st = VS_OK;
    if (!buf || !norm) {
        st = vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
        goto out;
    }
    while (vs_cursor_line(&c, maxline, &line, &n)) {
        lineno++;
        if (!line_copy(buf, maxline + 1, line, n)) {
            st = bad_line(err, name, lineno, "NUL byte or line too long");
            goto out;
        }
        st = fn(buf, n, norm, name, lineno, set, err);
        if (st)
            goto out;
    }
    if (c.bad)
        st = bad_line(err, name, lineno + 1, "line too long");
out:
    free(buf);
    free(norm);
    return st;
}

/* "<sha256>  path" */
static vs_status manifest_line(char *buf, size_t n, char *norm, const char *name, size_t lineno,
                               vs_pathset *set, vs_error *err)
{
    uint8_t d[VS_SHA256_LEN];
    if (n < 67 || !vs_unhex(d, VS_SHA256_LEN, buf, 64) || buf[64] != ' ' ||
        (buf[65] != ' ' && buf[65] != '*'))
        return bad_line(err, name, lineno, "not '<sha256>  path'");
    const char *why = meta_path(buf + 66, norm, VS_MAX_ARCHIVE_PATH + 1);
    if (why)
        return bad_line(err, name, lineno, why);
    vs_pathent *e = vs_pathset_get(set, norm);
    if (e && e->has_sha)
        return bad_line(err, name, lineno, "path listed twice");
    if (!e && !(e = vs_pathset_add(set, norm)))
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    memcpy(e->sha256, d, VS_SHA256_LEN);
    e->has_sha = true;
    return VS_OK;
}

vs_status vs_manifest_parse(const uint8_t *p, size_t len, const char *name, vs_pathset *set,
                            vs_error *err)
{
    return parse_lines(p, len, VS_MAX_MANIFEST_LINE, name, set, manifest_line, err);
}

static bool parse_mode(const char *s, unsigned *out)
{
    unsigned v = 0;
    if (strlen(s) != 4)
        return false;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '7')
            return false;
        v = v * 8 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* "T MMMM path[<TAB>target]"; '#' comments and empty lines skipped */
static vs_status modes_line(char *buf, size_t n, char *norm, const char *name, size_t lineno,
                            vs_pathset *set, vs_error *err)
{
    if (buf[0] == '#' || buf[0] == '\0')
        return VS_OK;
    char type = buf[0];
    unsigned mode = 0;
    if (n < 8 || (type != 'f' && type != 'd' && type != 'l') || buf[1] != ' ' || buf[6] != ' ')
        return bad_line(err, name, lineno, "not 'TYPE MODE path'");
    buf[6] = '\0';
    if (!parse_mode(buf + 2, &mode))
        return bad_line(err, name, lineno, "bad mode");
    char *path = buf + 7;
    char *tab = strchr(path, '\t');
    const char *target = NULL;
    if (type == 'l') {
        if (!tab)
            return bad_line(err, name, lineno, "symbolic link without a target");
        *tab = '\0';
        target = tab + 1;
    } else if (tab) {
        return bad_line(err, name, lineno, "tab in path");
    }
    const char *why = meta_path(path, norm, VS_MAX_ARCHIVE_PATH + 1);
    if (!why && target)
        why = vs_stage_check_link(norm, target);
    if (why)
        return bad_line(err, name, lineno, why);
    vs_pathent *e = vs_pathset_get(set, norm);
    if (e && e->type)
        return bad_line(err, name, lineno, "path listed twice");
    if (!e && !(e = vs_pathset_add(set, norm)))
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    e->type = type;
    e->mode = mode;
    if (target && !(e->target = strdup(target)))
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    return VS_OK;
}

vs_status vs_modes_parse(const uint8_t *p, size_t len, const char *name, vs_pathset *set,
                         vs_error *err)
{
    return parse_lines(p, len, VS_MAX_MODES_LINE, name, set, modes_line, err);
}

/* ---- rendering ------------------------------------------------------------ */

vs_status vs_manifest_render(const vs_pathset *set, char **manifest, size_t *mlen, char **modes,
                             size_t *modes_len, vs_error *err)
{
    *manifest = *modes = NULL;
    vs_pathent **v = vs_pathset_sorted(set);
    if (!v)
        return vs_error_subj(err, VS_E_INTERNAL, VS_META_MANIFEST, "out of memory");
    vs_sbuf m = VS_SBUF_INIT(VS_MAX_MANIFEST_FILE), d = VS_SBUF_INIT(VS_MAX_MANIFEST_FILE);
    vs_sbuf_puts(&m, "");
    vs_sbuf_puts(&d, "# vetstage MODES v1: TYPE MODE PATH[<TAB>SYMLINK-TARGET]\n");
    for (size_t i = 0; i < set->n; i++) {
        const vs_pathent *e = v[i];
        char head[16];
        if (e->type != 'f' && e->type != 'd' && e->type != 'l')
            continue;
        if (e->type == 'f') {
            char hex[VS_SHA256_HEX];
            vs_hex(hex, e->sha256, VS_SHA256_LEN);
            vs_sbuf_puts(&m, hex);
            vs_sbuf_puts(&m, "  ");
            vs_sbuf_puts(&m, e->path);
            vs_sbuf_puts(&m, "\n");
        }
        snprintf(head, sizeof head, "%c %04o ", e->type, e->mode & 07777u);
        vs_sbuf_puts(&d, head);
        vs_sbuf_puts(&d, e->path);
        if (e->type == 'l') {
            vs_sbuf_puts(&d, "\t");
            vs_sbuf_puts(&d, e->target ? e->target : "");
        }
        vs_sbuf_puts(&d, "\n");
    }
    free(v);
    if (vs_sbuf_failed(&m) || vs_sbuf_failed(&d)) {
        vs_status st = vs_sbuf_status(&m, VS_META_MANIFEST, err);
        if (st == VS_OK)
            st = vs_sbuf_status(&d, VS_META_MODES, err);
        free(m.p);
        free(d.p);
        return st;
    }
    *manifest = m.p;
    *mlen = m.len;
    *modes = d.p;
    *modes_len = d.len;
    return VS_OK;
}
