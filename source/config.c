/*
 * source/config.c - the configuration file: [source NAME] sections.
 *
 * Our own parser over the bounded cursor rather than Debian's libinih:
 * inih cuts lines at INI_MAX_LINE (200 bytes by default) and a vendor's
 * release URL with a tag path is longer than that; it also accepts inline
 * `;` comments (a `;` can be part of a URL), continuation lines and
 * sections it knows nothing about, and calls back per pair so that the
 * line of a duplicate section or a missing `url` needs state of our own
 * anyway. The grammar we accept is small (comments, section headers,
 * key = value) and every rejection must name FILE:LINE, so a hundred
 * lines on vs_cursor, fuzzed, serve better than a dependency.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source_int.h"
#include "vetstage/verify.h"

static const char *const key_names[VS_K_COUNT] = {
    "url",           "gpg-sig-url",   "checksums-url", "rsa-sig-url",      "require",
    "keys",          "mirror",        "cacert",        "pinned-pubkey",    "max-size",
    "retries",       "timeout",       "strip-components", "max-sig-age",   "start-script",
};

#define KEYS_HINT                                                                          \
    "the keys are url, gpg-sig-url, checksums-url, rsa-sig-url, require, keys, mirror, "   \
    "cacert, pinned-pubkey, max-size, retries, timeout, strip-components, max-sig-age, "   \
    "start-script"

vs_src_key vs_src_key_lookup(const char *s, size_t len)
{
    for (int k = 0; k < VS_K_COUNT; k++)
        if (strlen(key_names[k]) == len && memcmp(key_names[k], s, len) == 0)
            return (vs_src_key)k;
    return VS_K_COUNT;
}

const char *vs_src_key_name(vs_src_key k)
{
    return k < VS_K_COUNT ? key_names[k] : "?";
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool vs_src_fingerprint(const char *s, size_t len, char out[VS_FPR_MAX])
{
    if (len > 7 && strncasecmp(s, "sha256:", 7) == 0) {
        if (len != 7 + 64)
            return false;
        memcpy(out, "sha256:", 7);
        for (size_t i = 7; i < len; i++) {
            if (!is_hex(s[i]))
                return false;
            char c = s[i];
            out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
        }
        out[len] = '\0';
        return true;
    }
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        len -= 2;
    }
    if (len != 40)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_hex(s[i]))
            return false;
        char c = s[i];
        out[i] = (c >= 'a' && c <= 'f') ? (char)(c - 'a' + 'A') : c;
    }
    out[len] = '\0';
    return true;
}

bool vs_src_template_ok(const char *t, char *why, size_t whylen)
{
    static const char *const schemes[] = { "https://", "http://", "file://" };
    bool scheme = false;
    for (size_t i = 0; i < 3; i++)
        scheme = scheme || strncasecmp(t, schemes[i], strlen(schemes[i])) == 0;
    if (!scheme) {
        snprintf(why, whylen, "not an https://, http:// or file:// URL");
        return false;
    }
    for (const char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f) {
            snprintf(why, whylen, "blank or control character in the URL");
            return false;
        }
        if (c == '}') {
            snprintf(why, whylen, "'}' without '{'");
            return false;
        }
        if (c != '{')
            continue;
        const char *end = strchr(p, '}');
        if (!end) {
            snprintf(why, whylen, "'{' without '}'");
            return false;
        }
        size_t n = (size_t)(end - p - 1);
        static const char *const ph[] = { "name", "version", "major", "minor", "patch" };
        bool known = false;
        for (size_t i = 0; i < 5; i++)
            known = known || (strlen(ph[i]) == n && memcmp(ph[i], p + 1, n) == 0);
        if (!known) {
            snprintf(why, whylen, "unknown placeholder {%.*s} (known: {name} {version} {major} "
                                  "{minor} {patch})",
                     (int)(n > 40 ? 40 : n), p + 1);
            return false;
        }
        p = end;
    }
    return true;
}

static void src_free(vs_src *s)
{
    for (int k = 0; k < VS_K_COUNT; k++)
        free(s->val[k]);
    for (size_t i = 0; i < s->nmirrors; i++)
        free(s->mirror[i]);
}

void vs_config_free(vs_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++)
        src_free(&cfg->src[i]);
    free(cfg->src);
    free(cfg->file);
    free(cfg);
}

size_t vs_config_count(const vs_config *cfg)
{
    return cfg ? cfg->n : 0;
}

const char *vs_config_source_name(const vs_config *cfg, size_t i)
{
    return cfg && i < cfg->n ? cfg->src[i].name : NULL;
}

const char *vs_config_file(const vs_config *cfg)
{
    return cfg && cfg->file ? cfg->file : "";
}

/* The parser's state: the file name and the line for messages. */
typedef struct pstate {
    const char *what;
    size_t line;
    char where[VS_ERROR_SUBJECT_MAX];
} pstate;

static const char *at(pstate *ps, size_t line)
{
    snprintf(ps->where, sizeof ps->where, "%s:%zu", ps->what, line);
    return ps->where;
}

/* A count up to max (vs_parse_u64: the command line's parser). */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v;
    if (!vs_parse_u64(s, &v) || v > max)
        return false;
    *out = v;
    return true;
}

/* A relative path inside a layout: no leading '/', no "." or ".." parts,
 * no empty parts, printable. */
static bool layout_path_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > VS_MAX_ARCHIVE_PATH || s[0] == '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    for (const char *p = s; *p;) {
        size_t l = strcspn(p, "/");
        if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += l;
        if (*p == '/')
            p++;
        if (!*p && p[-1] == '/')
            return false;
    }
    return true;
}

/* Validate and store one key = value of section s. */
static vs_status set_key(pstate *ps, vs_src *s, vs_src_key k, const char *v, vs_error *err)
{
    const char *where = at(ps, ps->line);
    const char *kn = key_names[k];
    char why[160];
    uint64_t u;
    if (k != VS_K_MIRROR && s->val[k])
        return vs_error_subj(err, VS_E_USAGE, where, "'%s' given twice in [source %s] (first at "
                             "line %zu)", kn, s->name, s->vline[k]);
    switch (k) {
    case VS_K_URL:
    case VS_K_GPG_SIG_URL:
    case VS_K_CHECKSUMS_URL:
    case VS_K_RSA_SIG_URL:
    case VS_K_MIRROR:
        if (!vs_src_template_ok(v, why, sizeof why))
            return vs_error_subj(err, VS_E_USAGE, where, "%s: %s", kn, why);
        break;
    case VS_K_REQUIRE: {
        vs_error e2 = VS_ERROR_INIT;
        if (vs_verify_require_parse(&s->require, v, &e2) != VS_OK)
            return vs_error_subj(err, VS_E_USAGE, where, "require: '%s' is not gpg,rsa, gpg or rsa",
                                 v);
        break;
    }
    case VS_K_KEYS:
        for (const char *p = v; *p;) {
            while (blank(*p) || *p == ',')
                p++;
            size_t l = 0;
            while (p[l] && !blank(p[l]) && p[l] != ',')
                l++;
            if (l == 0)
                break;
            if (s->nkeys >= VS_MAX_SOURCE_KEYS)
                return vs_error_subj(err, VS_E_USAGE, where, "keys: more than %u fingerprints",
                                     VS_MAX_SOURCE_KEYS);
            if (!vs_src_fingerprint(p, l, s->keys[s->nkeys]))
                return vs_error_subj(err, VS_E_USAGE, where,
                                     "keys: '%.*s' is not a fingerprint (40 hex digits, or "
                                     "sha256: and 64 hex digits)",
                                     (int)(l > 80 ? 80 : l), p);
            s->nkeys++;
            p += l;
        }
        if (s->nkeys == 0)
            return vs_error_subj(err, VS_E_USAGE, where, "keys: no fingerprint given");
        break;
    case VS_K_CACERT:
        if (v[0] != '/')
            return vs_error_subj(err, VS_E_USAGE, where, "cacert: '%s' is not an absolute path", v);
        break;
    case VS_K_PINNED_PUBKEY:
        if (strncmp(v, "sha256//", 8) != 0 || !v[8])
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "pinned-pubkey: expected sha256//BASE64, got '%s'", v);
        break;
    case VS_K_MAX_SIZE:
        if (!vs_parse_size(v, &u) || u == 0)
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "max-size: '%s' is not a size in bytes (digits, optionally K, M, "
                                 "G or T: 1G, 512MiB)", v);
        s->max_size = u;
        break;
    case VS_K_RETRIES:
        if (!parse_uint(v, 100, &u))
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "retries: '%s' is not a number from 0 to 100", v);
        s->retries = (int)u;
        break;
    case VS_K_TIMEOUT:
        if (!vs_parse_duration(v, &u) || u == 0 || u > 7 * 24 * 3600)
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "timeout: '%s' is not a duration up to 7d (seconds, or with s, m, "
                                 "h or d: 30s, 2m)", v);
        s->timeout = (unsigned)u;
        break;
    case VS_K_STRIP_COMPONENTS:
        if (!parse_uint(v, VS_MAX_STRIP_COMPONENTS, &u))
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "strip-components: '%s' is not a number from 0 to %u", v,
                                 VS_MAX_STRIP_COMPONENTS);
        s->strip = (unsigned)u;
        s->has_strip = true;
        break;
    case VS_K_MAX_SIG_AGE:
        if (!parse_uint(v, 100000, &u) || u == 0)
            return vs_error_subj(err, VS_E_USAGE, where, "max-sig-age: '%s' is not a number of days",
                                 v);
        s->max_sig_age = (unsigned)u;
        break;
    case VS_K_START_SCRIPT:
        if (!layout_path_ok(v))
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "start-script: '%s' is not a relative path inside the layout", v);
        break;
    default:
        return vs_error_subj(err, VS_E_INTERNAL, where, "unknown key");
    }
    char *copy = strdup(v);
    if (!copy)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    if (k == VS_K_MIRROR) {
        if (s->nmirrors >= VS_MAX_SOURCE_MIRRORS) {
            free(copy);
            return vs_error_subj(err, VS_E_USAGE, where, "more than %u mirror lines in [source %s]",
                                 VS_MAX_SOURCE_MIRRORS, s->name);
        }
        s->mirror_line[s->nmirrors] = ps->line;
        s->mirror[s->nmirrors++] = copy;
    } else {
        s->val[k] = copy;
        s->vline[k] = ps->line;
    }
    return VS_OK;
}

/* A section is complete: url is there, the signature pair is one choice. */
static vs_status finish_section(pstate *ps, const vs_src *s, vs_error *err)
{
    if (!s->val[VS_K_URL])
        return vs_error_subj(err, VS_E_USAGE, at(ps, s->line), "[source %s] has no url", s->name);
    if (s->val[VS_K_GPG_SIG_URL] && s->val[VS_K_CHECKSUMS_URL])
        return vs_error_subj(err, VS_E_USAGE, at(ps, s->vline[VS_K_CHECKSUMS_URL]),
                             "[source %s] gives both gpg-sig-url and checksums-url; keep one",
                             s->name);
    return VS_OK;
}

static vs_status add_section(pstate *ps, vs_config *cfg, const char *name, size_t nl,
                             vs_error *err)
{
    const char *where = at(ps, ps->line);
    char nm[VS_MAX_NAME + 1];
    if (nl == 0 || nl > VS_MAX_NAME)
        return vs_error_subj(err, VS_E_USAGE, where, "a source name of 1 to %u characters is "
                             "needed", VS_MAX_NAME);
    memcpy(nm, name, nl);
    nm[nl] = '\0';
    if (!vs_valid_name(nm))
        return vs_error_subj(err, VS_E_USAGE, where, "'%s' is not a valid source name "
                             "([A-Za-z0-9._+~-], not starting with '.' or '-')", nm);
    for (size_t i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->src[i].name, nm))
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "[source %s] given twice (first at line %zu)", nm,
                                 cfg->src[i].line);
    if (cfg->n >= VS_MAX_SOURCES)
        return vs_error_subj(err, VS_E_USAGE, where, "more than %u sources", VS_MAX_SOURCES);
    if (cfg->n == cfg->cap) {
        size_t nc = cfg->cap ? cfg->cap * 2 : 8;
        vs_src *v = realloc(cfg->src, nc * sizeof *v);
        if (!v)
            return vs_error_set(err, VS_E_INTERNAL, "out of memory");
        cfg->src = v;
        cfg->cap = nc;
    }
    vs_src *s = &cfg->src[cfg->n++];
    memset(s, 0, sizeof *s);
    memcpy(s->name, nm, nl + 1);
    s->line = ps->line;
    s->retries = -1;
    return VS_OK;
}

vs_status vs_config_parse(vs_config **out, const uint8_t *p, size_t len, const char *what,
                          vs_error *err)
{
    *out = NULL;
    pstate ps = { what && *what ? what : "config", 0, { 0 } };
    if (len > VS_MAX_CONFIG_FILE)
        return vs_error_subj(err, VS_E_USAGE, ps.what, "larger than %u bytes", VS_MAX_CONFIG_FILE);
    vs_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->file = strdup(ps.what))) {
        free(cfg);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    /* a UTF-8 byte order mark, as some editors write it */
    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        vs_cursor_bytes(&c, 3);
    const char *line;
    size_t ll;
    vs_status st = VS_OK;
    vs_src *cur = NULL;
    char *val = malloc(VS_MAX_CONFIG_LINE + 1);
    if (!val) {
        vs_config_free(cfg);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    while (!st && vs_cursor_line(&c, VS_MAX_CONFIG_LINE, &line, &ll)) {
        ps.line++;
        while (ll && blank(line[0])) {
            line++;
            ll--;
        }
        while (ll && blank(line[ll - 1]))
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        for (size_t i = 0; i < ll && !st; i++)
            if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
                st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line), "control character in the "
                                   "line");
        if (st)
            break;
        if (line[0] == '[') {
            if (line[ll - 1] != ']') {
                st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line),
                                   "malformed section header (expected [source NAME])");
                break;
            }
            const char *in = line + 1;
            size_t il = ll - 2;
            while (il && blank(in[0])) {
                in++;
                il--;
            }
            while (il && blank(in[il - 1]))
                il--;
            if (il < 7 || memcmp(in, "source", 6) != 0 || !blank(in[6])) {
                st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line),
                                   "unknown section [%.*s] (expected [source NAME])",
                                   (int)(il > 60 ? 60 : il), in);
                vs_error_hint(err, "every section of the configuration is [source NAME]");
                break;
            }
            in += 6;
            il -= 6;
            while (il && blank(in[0])) {
                in++;
                il--;
            }
            if (cur && (st = finish_section(&ps, cur, err)))
                break;
            if ((st = add_section(&ps, cfg, in, il, err)))
                break;
            cur = &cfg->src[cfg->n - 1];
            continue;
        }
        const char *eq = memchr(line, '=', ll);
        if (!eq) {
            st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line),
                               "malformed line (expected key = value, [source NAME] or # comment)");
            break;
        }
        size_t kl = (size_t)(eq - line);
        while (kl && blank(line[kl - 1]))
            kl--;
        const char *v = eq + 1;
        size_t vl = ll - (size_t)(v - line);
        while (vl && blank(v[0])) {
            v++;
            vl--;
        }
        vs_src_key k = vs_src_key_lookup(line, kl);
        if (kl == 0) {
            st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line), "malformed line (no key before "
                               "'=')");
            break;
        }
        if (k == VS_K_COUNT) {
            st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line), "unknown key '%.*s'",
                               (int)(kl > 60 ? 60 : kl), line);
            vs_error_hint(err, KEYS_HINT);
            break;
        }
        if (!cur) {
            st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line),
                               "'%s' outside a [source NAME] section", key_names[k]);
            break;
        }
        if (vl == 0) {
            st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line), "'%s' has no value",
                               key_names[k]);
            break;
        }
        memcpy(val, v, vl);
        val[vl] = '\0';
        st = set_key(&ps, cur, k, val, err);
    }
    free(val);
    if (!st && c.bad)
        st = vs_error_subj(err, VS_E_USAGE, at(&ps, ps.line + 1), "line longer than %u bytes",
                           VS_MAX_CONFIG_LINE);
    if (!st && cur)
        st = finish_section(&ps, cur, err);
    if (st) {
        vs_config_free(cfg);
        return st;
    }
    *out = cfg;
    return VS_OK;
}

/* The whole of an open file, at most VS_MAX_CONFIG_FILE bytes. */
static vs_status read_fd(int fd, const char *what, uint8_t **out, size_t *len, vs_error *err)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    for (;;) {
        if (n == cap) {
            if (cap > VS_MAX_CONFIG_FILE)
                break;
            size_t nc = cap * 2 > VS_MAX_CONFIG_FILE + 1 ? VS_MAX_CONFIG_FILE + 1 : cap * 2;
            uint8_t *nb = realloc(buf, nc + 1);
            if (!nb) {
                free(buf);
                return vs_error_set(err, VS_E_INTERNAL, "out of memory");
            }
            buf = nb;
            cap = nc;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return vs_error_subj_errno(err, VS_E_USAGE, e, what, "cannot read");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > VS_MAX_CONFIG_FILE) {
        free(buf);
        return vs_error_subj(err, VS_E_USAGE, what, "larger than %u bytes", VS_MAX_CONFIG_FILE);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return VS_OK;
}

vs_status vs_config_load(vs_ctx *ctx, const char *path, vs_config **out, vs_error *err)
{
    *out = NULL;
    if (!ctx)
        return vs_error_set(err, VS_E_USAGE, "config: no context");
    uint8_t *text = NULL;
    size_t len = 0;
    vs_status st;
    char *what = NULL;
    if (path) {
        if (!*path)
            return vs_error_subj(err, VS_E_USAGE, "config", "an empty file name");
        what = strdup(path);
        if (!what)
            return vs_error_set(err, VS_E_INTERNAL, "out of memory");
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) != 0) {
            st = vs_error_subj_errno(err, VS_E_USAGE, errno, path, "cannot open the configuration");
            if (fd >= 0)
                close(fd);
            free(what);
            return st;
        }
        if (!S_ISREG(sb.st_mode)) {
            close(fd);
            free(what);
            return vs_error_subj(err, VS_E_USAGE, path, "not a regular file");
        }
        st = read_fd(fd, path, &text, &len, err);
        close(fd);
        if (st) {
            free(what);
            return st;
        }
    } else {
        what = vs_path_join(ctx->home, VS_CONFIG_FILE);
        if (!what)
            return vs_error_set(err, VS_E_INTERNAL, "out of memory");
        /* below the home: never through a symbolic link */
        int fd = openat(ctx->home_fd, VS_CONFIG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == ENOENT) {
                vs_config *cfg = calloc(1, sizeof *cfg);
                if (cfg)
                    cfg->file = what;
                else
                    free(what);
                *out = cfg;
                return cfg ? VS_OK : vs_error_set(err, VS_E_INTERNAL, "out of memory");
            }
            st = e == ELOOP ? vs_error_subj(err, VS_E_USAGE, what,
                                            "a symbolic link below the home is not followed")
                            : vs_error_subj_errno(err, VS_E_USAGE, e, what, "cannot open");
            free(what);
            return st;
        }
        struct stat sb;
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            close(fd);
            st = vs_error_subj(err, VS_E_USAGE, what, "not a regular file");
            free(what);
            return st;
        }
        st = read_fd(fd, what, &text, &len, err);
        close(fd);
        if (st) {
            free(what);
            return st;
        }
    }
    st = vs_config_parse(out, text, len, what, err);
    free(text);
    free(what);
    return st;
}
