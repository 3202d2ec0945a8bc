/* mirror/util.c - names, the index, the URL list and object copies shared by
 * sync, export and import. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mirror/mirror_int.h"

static int rank(vs_status s)
{
    switch (s) {
    case VS_OK: return 0;
    case VS_E_USAGE: return 1;
    case VS_E_FETCH: return 2;
    case VS_E_POLICY: return 3;
    case VS_E_INTEGRITY: return 4;
    case VS_E_UNSAFE: return 5;
    case VS_E_VERIFY: return 6;
    default: return 7; /* internal */
    }
}

vs_status vs_mirror_worse(vs_status a, vs_status b)
{
    return rank(b) > rank(a) ? b : a;
}

bool vs_mirror_valid_file(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 255 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("._+~@=,-", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

bool vs_mirror_entry_name(const char *path, vs_bundle_kind *kind, char name[VS_MAX_NAME + 1],
                          char version[VS_MAX_VERSION + 1], char file[256], uint64_t *limit)
{
    if (!path)
        return false;
    if (strcmp(path, VS_MIRROR_INDEX) == 0) {
        *kind = VS_BUNDLE_INDEX;
        *limit = VS_MAX_REF_FILE;
        return true;
    }
    const char *slash = strchr(path, '/');
    if (!slash || strchr(slash + 1, '/'))
        return false;
    const char *at = memchr(path, '@', (size_t)(slash - path));
    if (!at)
        return false;
    size_t nl = (size_t)(at - path), vl = (size_t)(slash - at - 1), fl = strlen(slash + 1);
    if (nl == 0 || nl > VS_MAX_NAME || vl == 0 || vl > VS_MAX_VERSION || fl == 0 || fl > 255)
        return false;
    memcpy(name, path, nl);
    name[nl] = '\0';
    memcpy(version, at + 1, vl);
    version[vl] = '\0';
    memcpy(file, slash + 1, fl);
    file[fl] = '\0';
    if (!vs_valid_name(name) || !vs_valid_version(version) || !vs_mirror_valid_file(file))
        return false;
    *kind = VS_BUNDLE_FILE;
    *limit = has_suffix(file, ".asc") || has_suffix(file, ".sig") ? VS_MAX_SIG_FILE
                                                                   : VS_DEFAULT_MAX_DOWNLOAD;
    return true;
}

/* ---- index ------------------------------------------------------------------ */

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool set_name(char *dst, size_t cap, const char *s)
{
    if (!s || strlen(s) >= cap)
        return false;
    memcpy(dst, s, strlen(s) + 1);
    return true;
}

vs_status vs_mirror_index_parse(const uint8_t *p, size_t len, const char *what,
                                vs_mirror_pkg **out, size_t *n, vs_error *err)
{
    *out = NULL;
    *n = 0;
    if (len > VS_MAX_REF_FILE)
        return vs_error_set(err, VS_E_UNSAFE, "%s: larger than %u bytes", what, VS_MAX_REF_FILE);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vs_error_set(err, VS_E_UNSAFE, "%s: not valid JSON (line %d)", what, jerr.line);
    vs_status st = VS_OK;
    const char *fmt = json_is_object(root) ? str_field(root, "format") : NULL;
    json_t *pk = json_object_get(root, "packages");
    if (!fmt || strcmp(fmt, VS_MIRROR_FORMAT) != 0 || !json_is_array(pk)) {
        st = vs_error_set(err, VS_E_UNSAFE, "%s: not a %s index", what, VS_MIRROR_FORMAT);
        goto done;
    }
    size_t cnt = json_array_size(pk);
    if (cnt > VS_MAX_BUNDLE_ENTRIES) {
        st = vs_error_set(err, VS_E_UNSAFE, "%s: more than %u packages", what,
                          VS_MAX_BUNDLE_ENTRIES);
        goto done;
    }
    vs_mirror_pkg *v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) {
        st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < cnt && !st; i++) {
        json_t *o = json_array_get(pk, i);
        vs_mirror_pkg *m = &v[i];
        json_t *files = json_is_object(o) ? json_object_get(o, "files") : NULL;
        if (!json_is_object(o) || !set_name(m->name, sizeof m->name, str_field(o, "name")) ||
            !set_name(m->version, sizeof m->version, str_field(o, "version")) ||
            !set_name(m->file, sizeof m->file, str_field(o, "file")) || !vs_valid_name(m->name) ||
            !vs_valid_version(m->version) || !vs_mirror_valid_file(m->file) ||
            !json_is_array(files) || json_array_size(files) > VS_CACHE_MAX_SIGS) {
            st = vs_error_set(err, VS_E_UNSAFE, "%s: package %zu is malformed", what, i);
            break;
        }
        for (size_t k = 0; k < i; k++)
            if (!strcmp(v[k].name, m->name) && !strcmp(v[k].version, m->version))
                st = vs_error_set(err, VS_E_UNSAFE, "%s: %s@%s listed twice", what, m->name,
                                  m->version);
        for (size_t j = 0; j < json_array_size(files) && !st; j++) {
            json_t *f = json_array_get(files, j);
            const char *kind = json_is_object(f) ? str_field(f, "kind") : NULL;
            const char *fn = json_is_object(f) ? str_field(f, "file") : NULL;
            char *dst = NULL;
            if (kind && !strcmp(kind, "gpg-sig"))
                dst = m->gpg_sig;
            else if (kind && !strcmp(kind, "checksums"))
                dst = m->checksums;
            else if (kind && !strcmp(kind, "checksums-sig"))
                dst = m->checksums_sig;
            else if (kind && !strcmp(kind, "rsa-sig"))
                dst = m->rsa_sig;
            if (!dst || dst[0] || !vs_mirror_valid_file(fn) || !strcmp(fn, m->file))
                st = vs_error_set(err, VS_E_UNSAFE, "%s: %s@%s: bad file entry %zu", what,
                                  m->name, m->version, j);
            else
                set_name(dst, 256, fn);
        }
    }
    if (st) {
        free(v);
        goto done;
    }
    *out = v;
    *n = cnt;
done:
    json_decref(root);
    return st;
}

vs_status vs_mirror_index_format(const vs_cache_entry *e, size_t n, char **out, size_t *len,
                                 vs_error *err)
{
    *out = NULL;
    json_t *root = json_object(), *pk = json_array();
    bool oom = !root || !pk;
    for (size_t i = 0; i < n && !oom; i++) {
        json_t *o = json_object(), *signers = json_array(), *files = json_array();
        oom = !o || !signers || !files;
        if (!oom) {
            json_object_set_new(o, "name", json_string(e[i].name));
            json_object_set_new(o, "version", json_string(e[i].version));
            json_object_set_new(o, "file", json_string(e[i].filename));
            json_object_set_new(o, "sha256", json_string(e[i].sha256));
            json_object_set_new(o, "size", json_integer((json_int_t)e[i].size));
            for (size_t k = 0; k < e[i].nsigners && k < VS_CACHE_MAX_SIGNERS; k++)
                json_array_append_new(signers, json_string(e[i].signers[k]));
            for (size_t k = 0; k < e[i].nsigs && k < VS_CACHE_MAX_SIGS; k++) {
                json_t *f = json_object();
                if (!f) {
                    oom = true;
                    break;
                }
                json_object_set_new(f, "kind", json_string(e[i].sigs[k].kind));
                json_object_set_new(f, "file", json_string(e[i].sigs[k].filename));
                json_object_set_new(f, "sha256", json_string(e[i].sigs[k].sha256));
                json_array_append_new(files, f);
            }
        }
        if (o) {
            json_object_set_new(o, "signers", signers ? signers : json_null());
            json_object_set_new(o, "files", files ? files : json_null());
            json_array_append_new(pk, o);
        } else {
            json_decref(signers);
            json_decref(files);
        }
    }
    char *s = NULL;
    if (!oom) {
        json_object_set_new(root, "format", json_string(VS_MIRROR_FORMAT));
        json_object_set(root, "packages", pk);
        s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    json_decref(pk);
    json_decref(root);
    if (!s)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    size_t l = strlen(s);
    char *r = malloc(l + 2);
    if (!r) {
        free(s);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    memcpy(r, s, l);
    r[l] = '\n';
    r[l + 1] = '\0';
    free(s);
    *out = r;
    *len = l + 1;
    return VS_OK;
}

/* ---- URL list ------------------------------------------------------------- */

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

/* ---- copies ----------------------------------------------------------------- */

vs_status vs_mirror_copy_object(vs_ctx *ctx, const char *sha256hex, int dirfd, const char *name,
                                vs_error *err)
{
    char *path = vs_cache_object_path(ctx, sha256hex);
    if (!path)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    int fd;
    vs_status ost = vs_cache_open_object(ctx, sha256hex, &fd, err);
    if (ost) {
        free(path);
        return ost;
    }
    uint8_t *buf = malloc(VS_IO_BUFSIZE);
    vs_tmpfile t;
    memset(&t, 0, sizeof t);
    t.fd = -1;
    vs_sha256 h;
    memset(&h, 0, sizeof h);
    vs_status st = buf ? VS_OK : vs_error_set(err, VS_E_INTERNAL, "out of memory");
    if (!st)
        st = vs_tmpfile_open(&t, dirfd, 0644, false, err);
    if (!st)
        st = vs_sha256_init(&h, err);
    while (!st) {
        ssize_t r = read(fd, buf, VS_IO_BUFSIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = vs_error_errno(err, VS_E_INTERNAL, errno, "%s", path);
            break;
        }
        if (r == 0)
            break;
        vs_sha256_update(&h, buf, (size_t)r);
        st = vs_tmpfile_write(&t, buf, (size_t)r, err);
    }
    if (!st) {
        uint8_t d[VS_SHA256_LEN];
        char hex[VS_SHA256_HEX];
        vs_sha256_final(&h, d);
        vs_hex(hex, d, sizeof d);
        if (strcmp(hex, sha256hex) != 0)
            st = vs_error_set(err, VS_E_INTEGRITY, "%s: cache object altered", path);
        else
            st = vs_tmpfile_commit(&t, name, NULL, err);
    } else {
        vs_sha256_abort(&h);
    }
    if (st)
        vs_tmpfile_abort(&t);
    close(fd);
    free(buf);
    free(path);
    return st;
}
