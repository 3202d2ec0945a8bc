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

/* keys = FPR[, FPR...]: the fingerprints the source's packages must be signed by. */
static vs_status set_keys(vs_src *s, const char *v, const char *where, vs_error *err)
{
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
    return VS_OK;
}

/* The numeric keys: their parser (the command line's), bounds, and whether
 * 0 is a value. */
static const struct num_key {
    vs_src_key k;
    bool (*parse)(const char *s, uint64_t *out);
    uint64_t max;
    bool zero_ok;
    const char *what; /* NULL: "a number from 0 to MAX" */
} num_keys[] = {
    { VS_K_MAX_SIZE, vs_parse_size, UINT64_MAX, false,
      "a size in bytes (digits, optionally K, M, G or T: 1G, 512MiB)" },
    { VS_K_RETRIES, vs_parse_u64, 100, true, NULL },
    { VS_K_TIMEOUT, vs_parse_duration, 7 * 24 * 3600, false,
      "a duration up to 7d (seconds, or with s, m, h or d: 30s, 2m)" },
    { VS_K_STRIP_COMPONENTS, vs_parse_u64, VS_MAX_STRIP_COMPONENTS, true, NULL },
    { VS_K_MAX_SIG_AGE, vs_parse_u64, 100000, false, "a number of days" },
};

static const struct num_key *num_key(vs_src_key k)
{
    for (size_t i = 0; i < sizeof num_keys / sizeof num_keys[0]; i++)
        if (num_keys[i].k == k)
            return &num_keys[i];
    return NULL;
}

/* A numeric key: parsed within its bounds and kept in s. */
static vs_status set_number(vs_src *s, const struct num_key *nk, const char *v,
                            const char *where, vs_error *err)
{
    uint64_t u;
    if (!nk->parse(v, &u) || u > nk->max || (u == 0 && !nk->zero_ok)) {
        if (nk->what)
            return vs_error_subj(err, VS_E_USAGE, where, "%s: '%s' is not %s",
                                 key_names[nk->k], v, nk->what);
        return vs_error_subj(err, VS_E_USAGE, where, "%s: '%s' is not a number from 0 to %llu",
                             key_names[nk->k], v, (unsigned long long)nk->max);
    }
    if (nk->k == VS_K_MAX_SIZE)
        s->max_size = u;
    else if (nk->k == VS_K_RETRIES)
        s->retries = (int)u;
    else if (nk->k == VS_K_TIMEOUT)
        s->timeout = (unsigned)u;
    else if (nk->k == VS_K_MAX_SIG_AGE)
        s->max_sig_age = (unsigned)u;
    else {
        s->strip = (unsigned)u;
        s->has_strip = true;
    }
    return VS_OK;
}

/* A key whose value is text kept as given (a URL template, a path, a
 * policy): is it well-formed? */
static vs_status check_text(vs_src *s, vs_src_key k, const char *v, const char *where,
                            vs_error *err)
{
    const char *kn = key_names[k];
    char why[160];
    switch (k) {
    case VS_K_URL:
    case VS_K_GPG_SIG_URL:
    case VS_K_CHECKSUMS_URL:
    case VS_K_RSA_SIG_URL:
    case VS_K_MIRROR:
        if (!vs_src_template_ok(v, why, sizeof why))
            return vs_error_subj(err, VS_E_USAGE, where, "%s: %s", kn, why);
        return VS_OK;
    case VS_K_REQUIRE:
        if (vs_verify_require_parse(&s->require, v, NULL) != VS_OK)
            return vs_error_subj(err, VS_E_USAGE, where, "require: '%s' is not gpg,rsa, gpg or rsa",
                                 v);
        return VS_OK;
    case VS_K_CACERT:
        if (v[0] != '/')
            return vs_error_subj(err, VS_E_USAGE, where, "cacert: '%s' is not an absolute path", v);
        return VS_OK;
    case VS_K_PINNED_PUBKEY:
        if (strncmp(v, "sha256//", 8) != 0 || !v[8])
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "pinned-pubkey: expected sha256//BASE64, got '%s'", v);
        return VS_OK;
    case VS_K_START_SCRIPT:
        if (!layout_path_ok(v))
            return vs_error_subj(err, VS_E_USAGE, where,
                                 "start-script: '%s' is not a relative path inside the layout", v);
        return VS_OK;
    default:
        return vs_error_subj(err, VS_E_INTERNAL, where, "unknown key");
    }
}

/* Keep the value's text and line (every mirror line; any other key once). */
static vs_status keep_value(pstate *ps, vs_src *s, vs_src_key k, const char *v,
                            const char *where, vs_error *err)
{
    if (k == VS_K_MIRROR && s->nmirrors >= VS_MAX_SOURCE_MIRRORS)
        return vs_error_subj(err, VS_E_USAGE, where, "more than %u mirror lines in [source %s]",
                             VS_MAX_SOURCE_MIRRORS, s->name);
    char *copy = strdup(v);
    if (!copy)
        return vs_error_subj(err, VS_E_INTERNAL, where, "out of memory");
    if (k == VS_K_MIRROR) {
        s->mirror_line[s->nmirrors] = ps->line;
        s->mirror[s->nmirrors++] = copy;
    } else {
        s->val[k] = copy;
        s->vline[k] = ps->line;
    }
    return VS_OK;
}

/* Validate and store one key = value of section s. */
static vs_status set_key(pstate *ps, vs_src *s, vs_src_key k, const char *v, vs_error *err)
{
    const char *where = at(ps, ps->line);
    if (k != VS_K_MIRROR && s->val[k])
        return vs_error_subj(err, VS_E_USAGE, where, "'%s' given twice in [source %s] (first at "
                             "line %zu)", key_names[k], s->name, s->vline[k]);
    const struct num_key *nk = num_key(k);
    vs_status st = nk ? set_number(s, nk, v, where, err)
                   : k == VS_K_KEYS ? set_keys(s, v, where, err)
                                    : check_text(s, k, v, where, err);
    return st ? st : keep_value(ps, s, k, v, where, err);
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
    void *grown = vs_grow(cfg->src, &cfg->cap, cfg->n, sizeof *cfg->src, 8);
    if (!grown)
        return vs_error_subj(err, VS_E_INTERNAL, where, "out of memory");
    cfg->src = grown;
    vs_src *s = &cfg->src[cfg->n++];
    memset(s, 0, sizeof *s);
    memcpy(s->name, nm, nl + 1);
    s->line = ps->line;
    s->retries = -1;
    return VS_OK;
}

/* The name in a "[source NAME]" line (ll bytes, brackets included). */
static vs_status section_line(pstate *ps, vs_config *cfg, vs_src **cur, const char *line,
                              size_t ll, vs_error *err)
{
    if (line[ll - 1] != ']')
        return vs_error_subj(err, VS_E_USAGE, at(ps, ps->line),
                             "malformed section header (expected [source NAME])");
    const char *in = line + 1;
    size_t il = ll - 2;
    while (il && blank(in[0])) {
        in++;
        il--;
    }
    while (il && blank(in[il - 1]))
        il--;
    if (il < 7 || memcmp(in, "source", 6) != 0 || !blank(in[6])) {
        vs_status st = vs_error_subj(err, VS_E_USAGE, at(ps, ps->line),
                                     "unknown section [%.*s] (expected [source NAME])",
                                     (int)(il > 60 ? 60 : il), in);
        vs_error_hint(err, "every section of the configuration is [source NAME]");
        return st;
    }
    in += 6;
    il -= 6;
    while (il && blank(in[0])) {
        in++;
        il--;
    }
    vs_status st = *cur ? finish_section(ps, *cur, err) : VS_OK;
    if (st == VS_OK)
        st = add_section(ps, cfg, in, il, err);
    if (st == VS_OK)
        *cur = &cfg->src[cfg->n - 1];
    return st;
}

/* A "key = value" line of section cur; val holds VS_MAX_CONFIG_LINE + 1 bytes. */
static vs_status key_line(pstate *ps, vs_src *cur, const char *line, size_t ll, char *val,
                          vs_error *err)
{
    const char *where = at(ps, ps->line);
    const char *eq = memchr(line, '=', ll);
    if (!eq)
        return vs_error_subj(err, VS_E_USAGE, where,
                             "malformed line (expected key = value, [source NAME] or # comment)");
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
    if (kl == 0)
        return vs_error_subj(err, VS_E_USAGE, where, "malformed line (no key before '=')");
    if (k == VS_K_COUNT) {
        vs_status st = vs_error_subj(err, VS_E_USAGE, where, "unknown key '%.*s'",
                                     (int)(kl > 60 ? 60 : kl), line);
        vs_error_hint(err, KEYS_HINT);
        return st;
    }
    if (!cur)
        return vs_error_subj(err, VS_E_USAGE, where, "'%s' outside a [source NAME] section",
                             key_names[k]);
    if (vl == 0)
        return vs_error_subj(err, VS_E_USAGE, where, "'%s' has no value", key_names[k]);
    memcpy(val, v, vl);
    val[vl] = '\0';
    return set_key(ps, cur, k, val, err);
}

/* One line that is not blank or a comment. */
static vs_status parse_line(pstate *ps, vs_config *cfg, vs_src **cur, const char *line, size_t ll,
                            char *val, vs_error *err)
{
    for (size_t i = 0; i < ll; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            return vs_error_subj(err, VS_E_USAGE, at(ps, ps->line),
                                 "control character in the line");
    if (line[0] == '[')
        return section_line(ps, cfg, cur, line, ll, err);
    return key_line(ps, *cur, line, ll, val, err);
}

vs_status vs_config_parse(vs_config **out, const uint8_t *p, size_t len, const char *what,
                          vs_error *err)
{
    *out = NULL;
    pstate ps = { what && *what ? what : "config", 0, { 0 } };
    if (len > VS_MAX_CONFIG_FILE)
        return vs_error_subj(err, VS_E_USAGE, ps.what, "larger than %u bytes", VS_MAX_CONFIG_FILE);
    vs_config *cfg = calloc(1, sizeof *cfg);
    char *val = malloc(VS_MAX_CONFIG_LINE + 1);
    if (!cfg || !val || !(cfg->file = strdup(ps.what))) {
        free(cfg);
        free(val);
        return vs_error_subj(err, VS_E_INTERNAL, ps.what, "out of memory");
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
    while (!st && vs_cursor_text_line(&c, VS_MAX_CONFIG_LINE, " \t", &ps.line, &line, &ll))
        st = parse_line(&ps, cfg, &cur, line, ll, val, err);
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

/* The configuration a --config names: a regular file, followed as given. */
static vs_status open_named(const char *path, int *fd, vs_error *err)
{
    if (!*path)
        return vs_error_subj(err, VS_E_USAGE, "config", "an empty file name");
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, path, "cannot open the configuration");
    return VS_OK;
}

/* HOME/vetstage.conf: never through a symbolic link; *fd -1 when absent. */
static vs_status open_in_home(vs_ctx *ctx, const char *what, int *fd, vs_error *err)
{
    *fd = openat(ctx->home_fd, VS_CONFIG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd >= 0 || errno == ENOENT)
        return VS_OK;
    if (errno == ELOOP)
        return vs_error_subj(err, VS_E_USAGE, what,
                             "a symbolic link below the home is not followed");
    return vs_error_subj_errno(err, VS_E_USAGE, errno, what, "cannot open");
}

vs_status vs_config_load(vs_config **out, vs_ctx *ctx, const char *path, vs_error *err)
{
    *out = NULL;
    if (!ctx)
        return vs_error_subj(err, VS_E_USAGE, "config", "no context");
    char *what = path ? strdup(path) : vs_path_join(ctx->home, VS_CONFIG_FILE);
    if (!what)
        return vs_error_subj(err, VS_E_INTERNAL, path ? path : VS_CONFIG_FILE, "out of memory");
    int fd = -1;
    vs_status st = path ? open_named(path, &fd, err) : open_in_home(ctx, what, &fd, err);
    if (st == VS_OK && fd < 0) {
        /* no configuration file in the home: no sources */
        vs_config *cfg = calloc(1, sizeof *cfg);
        if (!cfg) {
            st = vs_error_subj(err, VS_E_INTERNAL, what, "out of memory");
            free(what);
            return st;
        }
        cfg->file = what;
        *out = cfg;
        return VS_OK;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    if (st == VS_OK)
        st = vs_read_fd(fd, what, VS_MAX_CONFIG_FILE, &text, &len, err);
    if (fd >= 0)
        close(fd);
    if (st == VS_OK)
        st = vs_config_parse(out, text, len, what, err);
    free(text);
    free(what);
    return st;
}
