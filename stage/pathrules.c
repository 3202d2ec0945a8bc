/* stage/pathrules.c - archive path normalisation, symlink containment and the
 * path set. libc only (linked into the static checker). */
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

/* Length of the UTF-8 sequence at p (at most `left` bytes), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    unsigned cp = c & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool vs_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (left) {
        size_t n = utf8_seq(p, left);
        if (!n)
            return false;
        p += n;
        left -= n;
    }
    return true;
}

void vs_stage_printable(const char *s, char *out, size_t outsz)
{
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p), o = 0;
    if (outsz == 0)
        return;
    while (left) {
        size_t n = utf8_seq(p, left);
        char esc[5];
        const char *piece = (const char *)p;
        size_t plen = n;
        if (!n || p[0] < 0x20 || p[0] == 0x7f || p[0] == '\\') {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hexd[p[0] >> 4];
            esc[3] = hexd[p[0] & 15];
            piece = esc;
            plen = 4;
            n = 1;
        }
        if (o + plen + 4 > outsz) { /* room for "..." and the NUL */
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        p += n;
        left -= n;
    }
    out[o] = '\0';
}

const char *vs_stage_strip(const char *name, unsigned n)
{
    const char *p = name;
    while (*p == '/')
        p++;
    while (n > 0) {
        const char *slash = strchr(p, '/');
        if (!slash)
            return NULL;
        p = slash;
        while (*p == '/')
            p++;
        n--;
    }
    return *p ? p : NULL;
}

_Static_assert(VS_MAX_PATH_DEPTH == 513u, "the depth message names 513");

const char *vs_stage_norm_path(const char *in, char *out, size_t outsz)
{
    if (!in || !*in)
        return "empty path";
    size_t inlen = strlen(in);
    if (inlen > VS_MAX_ARCHIVE_PATH)
        return "path longer than 1024 bytes";
    if (in[0] == '/')
        return "absolute path";
    for (size_t i = 0; i < inlen; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return "control character in path";
    if (!vs_utf8_valid(in))
        return "path is not valid UTF-8";
    size_t o = 0, depth = 0;
    const char *p = in;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return "'..' component in path";
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            size_t need = o + (o ? 1 : 0) + n + 1;
            if (need > outsz)
                return "path longer than 1024 bytes";
            if (++depth > VS_MAX_PATH_DEPTH)
                return "path deeper than 513 levels";
            if (o)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    if (outsz == 0)
        return "path longer than 1024 bytes";
    out[o] = '\0';
    return NULL;
}

const char *vs_stage_check_link(const char *path, const char *target)
{
    if (!target || !*target)
        return "symbolic link with an empty target";
    size_t tlen = strlen(target);
    if (tlen > VS_MAX_ARCHIVE_PATH)
        return "symbolic link target longer than 1024 bytes";
    if (target[0] == '/')
        return "symbolic link target is absolute";
    for (size_t i = 0; i < tlen; i++)
        if ((unsigned char)target[i] < 0x20 || target[i] == 0x7f)
            return "control character in symbolic link target";
    if (!vs_utf8_valid(target))
        return "symbolic link target is not valid UTF-8";
    /* directories above the link: the number of '/' in its normalised path */
    size_t depth = 0;
    for (const char *q = path; *q; q++)
        if (*q == '/')
            depth++;
    size_t ups = 0;
    bool named = false;
    const char *p = target;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (named)
                return "symbolic link target has '..' after a name";
            if (++ups > depth)
                return "symbolic link target leaves the tree";
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            named = true;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    return NULL;
}

bool vs_stage_reserved(const char *path)
{
    size_t n = sizeof VS_META_DIR - 1;
    return strncmp(path, VS_META_DIR, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* ---- path set: open addressing, FNV-1a -------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void vs_pathset_init(vs_pathset *s)
{
    s->slots = NULL;
    s->cap = 0;
    s->n = 0;
}

void vs_pathset_free(vs_pathset *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i]) {
            free(s->slots[i]->path);
            free(s->slots[i]->target);
            free(s->slots[i]);
        }
    }
    free(s->slots);
    vs_pathset_init(s);
}

vs_pathent *vs_pathset_get(const vs_pathset *s, const char *path)
{
    if (s->cap == 0)
        return NULL;
    size_t mask = s->cap - 1;
    for (size_t i = (size_t)hash_str(path) & mask;; i = (i + 1) & mask) {
        vs_pathent *e = s->slots[i];
        if (!e)
            return NULL;
        if (strcmp(e->path, path) == 0)
            return e;
    }
}

static bool grow(vs_pathset *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 64;
    if (ncap < s->cap || ncap > SIZE_MAX / sizeof(vs_pathent *))
        return false;
    vs_pathent **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < s->cap; i++) {
        vs_pathent *e = s->slots[i];
        if (!e)
            continue;
        size_t j = (size_t)hash_str(e->path) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = e;
    }
    free(s->slots);
    s->slots = ns;
    s->cap = ncap;
    return true;
}

vs_pathent *vs_pathset_add(vs_pathset *s, const char *path)
{
    /* keep the load factor at most one half */
    if ((s->n + 1) * 2 > s->cap && !grow(s))
        return NULL;
    vs_pathent *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->path = strdup(path);
    if (!e->path) {
        free(e);
        return NULL;
    }
    size_t mask = s->cap - 1;
    size_t i = (size_t)hash_str(path) & mask;
    while (s->slots[i])
        i = (i + 1) & mask;
    s->slots[i] = e;
    s->n++;
    return e;
}

static int cmp_ent(const void *a, const void *b)
{
    const vs_pathent *x = *(vs_pathent *const *)a;
    const vs_pathent *y = *(vs_pathent *const *)b;
    return strcmp(x->path, y->path);
}

vs_pathent **vs_pathset_sorted(const vs_pathset *s)
{
    vs_pathent **v = malloc((s->n ? s->n : 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            v[k++] = s->slots[i];
    qsort(v, k, sizeof *v, cmp_ent);
    return v;
}
