/* cache/ref_file.c - refs: NAME@VERSION -> objects + provenance, as strict JSON. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cache/cache_int.h"
#include "verify/verify_int.h" /* vs_fpr_normalize: one owner of fingerprint syntax */

static const char *const sig_kinds[] = { "gpg-sig", "checksums", "checksums-sig", "rsa-sig" };

bool vs_cache_valid_hex(const char *s)
{
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i]; i++) {
        if (i >= 64 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return i == 64;
}

void vs_cache_time_format(char buf[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    buf[0] = '\0';
    if (gmtime_r(&tt, &tm))
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool vs_cache_time_parse(const char *s, int64_t *out)
{
    /* exactly YYYY-MM-DDTHH:MM:SSZ */
    if (!s || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return false;
    int y, mo, d, h, mi, se;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return false;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out = (int64_t)t;
    return true;
}

/* ---- parsing -------------------------------------------------------------- */

static bool plain_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* A file name we may show and use as a checksum-list key: no path, no
 * control characters, not "." or "..". */
static bool plain_filename(const char *s)
{
    return *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/') && plain_text(s);
}

/* The member `key`, or its name in refs written before the keys followed
 * the contract (`legacy`): NULL when absent; *both when a ref has the two. */
static json_t *member(json_t *obj, const char *key, const char *legacy, bool *both)
{
    json_t *v = json_object_get(obj, key), *old = json_object_get(obj, legacy);
    *both = *both || (v && old);
    return v ? v : old;
}

/* Copy string member `key` into buf (size n). Missing, non-string, too
 * long, embedded control characters: error. */
static vs_status get_str(json_t *obj, const char *key, char *buf, size_t n, const char *what,
                         bool allow_empty, vs_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || !json_is_string(v))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"%s\" missing or not a string", key);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len >= n || strlen(s) != len)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"%s\" too long", key);
    if ((!allow_empty && len == 0) || !plain_text(s))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"%s\" is not valid", key);
    memcpy(buf, s, len + 1);
    return VS_OK;
}

static vs_status get_hex(json_t *obj, const char *key, char out[65], const char *what,
                         vs_error *err)
{
    vs_status st = get_str(obj, key, out, 65, what, false, err);
    if (st)
        return st;
    if (!vs_cache_valid_hex(out))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"%s\" is not a SHA-256 object id", key);
    return VS_OK;
}

char *vs_cache_url_dup(const char *url)
{
    size_t n = vs_url_redact(NULL, 0, url);
    char *r = n < SIZE_MAX ? malloc(n + 1) : NULL;
    if (r)
        vs_url_redact(r, n + 1, url);
    return r;
}

/* String member `key` (may be empty) as a URL, as it may be shown
 * (redacted: refs written before redaction), into a new string. */
static vs_status get_url(json_t *obj, const char *key, char **out, const char *what, vs_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || !json_is_string(v))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"%s\" missing or not a string", key);
    const char *s = json_string_value(v);
    if (json_string_length(v) > 2 * VS_MAX_URL || strlen(s) != json_string_length(v))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"%s\" too long", key);
    if (!plain_text(s))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"%s\" is not valid", key);
    free(*out);
    *out = vs_cache_url_dup(s);
    return *out ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, what, "out of memory");
}

static vs_status parse_sigs(json_t *arr, vs_cache_entry *e, const char *what, vs_error *err)
{
    if (!json_is_array(arr))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"signatures\" missing or not an array");
    if (json_array_size(arr) > VS_CACHE_MAX_SIGS)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "more than %d signature objects",
                             VS_CACHE_MAX_SIGS);
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        vs_cache_sig *sig = &e->sigs[i];
        if (!json_is_object(s))
            return vs_error_subj(err, VS_E_INTEGRITY, what, "signature %zu is not an object", i);
        vs_status st = get_str(s, "kind", sig->kind, sizeof sig->kind, what, false, err);
        if (st)
            return st;
        bool known = false;
        for (size_t k = 0; k < sizeof sig_kinds / sizeof sig_kinds[0]; k++)
            known = known || strcmp(sig->kind, sig_kinds[k]) == 0;
        if (!known)
            return vs_error_subj(err, VS_E_INTEGRITY, what, "unknown signature kind \"%s\"",
                                 sig->kind);
        for (size_t k = 0; k < i; k++)
            if (strcmp(e->sigs[k].kind, sig->kind) == 0)
                return vs_error_subj(err, VS_E_INTEGRITY, what, "two signatures of kind \"%s\"",
                                     sig->kind);
        bool both = false;
        const char *fkey = json_object_get(s, "file") ? "file" : "filename";
        member(s, "file", "filename", &both);
        if (both)
            return vs_error_subj(err, VS_E_INTEGRITY, what, "signature %zu has \"file\" twice", i);
        if ((st = get_str(s, fkey, sig->filename, sizeof sig->filename, what, false, err)))
            return st;
        if (!plain_filename(sig->filename))
            return vs_error_subj(err, VS_E_INTEGRITY, what, "signature file name is not plain");
        if ((st = get_hex(s, "sha256", sig->sha256, what, err)))
            return st;
        if ((st = get_url(s, "url", &sig->url, what, err)))
            return st;
    }
    e->nsigs = json_array_size(arr);
    return VS_OK;
}

static vs_status parse_signers(json_t *arr, vs_cache_entry *e, const char *what, vs_error *err)
{
    if (!json_is_array(arr))
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"signers\" missing or not an array");
    if (json_array_size(arr) > VS_CACHE_MAX_SIGNERS)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "more than %d signers",
                             VS_CACHE_MAX_SIGNERS);
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        if (!json_is_string(s) || json_string_length(s) == 0 ||
            json_string_length(s) >= VS_FPR_MAX)
            return vs_error_subj(err, VS_E_INTEGRITY, what, "signer %zu is not a fingerprint", i);
        const char *f = json_string_value(s);
        for (const char *c = f; *c; c++)
            if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= 'A' && *c <= 'Z') || *c == ':'))
                return vs_error_subj(err, VS_E_INTEGRITY, what, "signer %zu is not a fingerprint",
                                     i);
        if (strlen(f) != json_string_length(s))
            return vs_error_subj(err, VS_E_INTEGRITY, what, "signer %zu is not a fingerprint", i);
        memcpy(e->signers[i], f, strlen(f) + 1);
    }
    e->nsigners = json_array_size(arr);
    return VS_OK;
}

/* "keys": optional (refs written before key binding have none); each a
 * fingerprint in its normalised form, no duplicates. */
static vs_status parse_keys(json_t *arr, vs_cache_entry *e, const char *what, vs_error *err)
{
    e->nkeys = 0;
    if (!arr)
        return VS_OK;
    if (!json_is_array(arr) || json_array_size(arr) > VS_CACHE_MAX_KEYS)
        return vs_error_subj(err, VS_E_INTEGRITY, what,
                             "\"keys\" must be an array of at most %d fingerprints",
                             VS_CACHE_MAX_KEYS);
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        char norm[VS_FPR_MAX];
        const char *f = json_is_string(s) ? json_string_value(s) : NULL;
        if (!f || strlen(f) != json_string_length(s) || !vs_fpr_normalize(f, norm) ||
            strcmp(norm, f) != 0)
            return vs_error_subj(err, VS_E_INTEGRITY, what, "key %zu is not a fingerprint", i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(e->keys[k], f) == 0)
                return vs_error_subj(err, VS_E_INTEGRITY, what, "key %s named twice", f);
        memcpy(e->keys[i], norm, strlen(norm) + 1);
    }
    e->nkeys = json_array_size(arr);
    return VS_OK;
}

static vs_status parse_require(json_t *arr, unsigned *out, const char *what, vs_error *err)
{
    *out = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 2)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"require\" must list gpg and/or rsa");
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        const char *v = json_is_string(s) ? json_string_value(s) : "";
        unsigned bit = strcmp(v, "gpg") == 0 ? VS_REQUIRE_GPG
                       : strcmp(v, "rsa") == 0 ? VS_REQUIRE_RSA
                                               : 0;
        if (!bit || (*out & bit))
            return vs_error_subj(err, VS_E_INTEGRITY, what, "\"require\" must list gpg and/or rsa");
        *out |= bit;
    }
    return VS_OK;
}

vs_status vs_cache_ref_parse(const uint8_t *p, size_t len, const char *what, vs_cache_entry *out,
                             vs_error *err)
{
    vs_cache_entry_clear(out);
    if (len > VS_MAX_REF_FILE)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "larger than the limit of %u bytes",
                             VS_MAX_REF_FILE);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "not valid JSON (line %d: %s)", jerr.line,
                             jerr.text);
    vs_status st = VS_OK;
    if (!json_is_object(root)) {
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "not a JSON object");
        goto out;
    }
    if ((st = get_str(root, "name", out->name, sizeof out->name, what, false, err)) ||
        (st = get_str(root, "version", out->version, sizeof out->version, what, false, err)))
        goto out;
    if (!vs_valid_name(out->name) || !vs_valid_version(out->version)) {
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "invalid name or version");
        goto out;
    }
    bool both = false;
    const char *fkey = json_object_get(root, "file") ? "file" : "filename";
    json_t *sigs = member(root, "signatures", "sigs", &both);
    member(root, "file", "filename", &both);
    if (both) {
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "a key under its old and its new name");
        goto out;
    }
    if ((st = get_str(root, fkey, out->filename, sizeof out->filename, what, false, err)))
        goto out;
    if (!plain_filename(out->filename)) {
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "package file name is not plain");
        goto out;
    }
    if ((st = get_hex(root, "sha256", out->sha256, what, err)))
        goto out;
    json_t *size = json_object_get(root, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0) {
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "\"size\" missing or not a size");
        goto out;
    }
    out->size = (uint64_t)json_integer_value(size);
    if ((st = get_url(root, "url", &out->url, what, err)) ||
        (st = parse_sigs(sigs, out, what, err)) ||
        (st = parse_signers(json_object_get(root, "signers"), out, what, err)) ||
        (st = parse_require(json_object_get(root, "require"), &out->require, what, err)) ||
        (st = parse_keys(json_object_get(root, "keys"), out, what, err)))
        goto out;
    char tbuf[32];
    if ((st = get_str(root, "verified", tbuf, sizeof tbuf, what, false, err)))
        goto out;
    if (!vs_cache_time_parse(tbuf, &out->verified)) {
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "\"verified\" is not an ISO-8601 UTC time");
        goto out;
    }
    if (json_object_get(root, "tool") &&
        (st = get_str(root, "tool", out->tool, sizeof out->tool, what, true, err)))
        goto out;
    /* optional (refs written before it was recorded have none) */
    if (json_object_get(root, "signed")) {
        if ((st = get_str(root, "signed", tbuf, sizeof tbuf, what, false, err)))
            goto out;
        if (!vs_cache_time_parse(tbuf, &out->signed_at)) {
            st = vs_error_subj(err, VS_E_INTEGRITY, what, "\"signed\" is not an ISO-8601 UTC time");
            goto out;
        }
    }
out:
    json_decref(root);
    if (st)
        vs_cache_entry_clear(out);
    return st;
}

/* ---- formatting ------------------------------------------------------------ */

/* The one JSON form of an entry, in the contract's key names: the ref on
 * disk, `cache show` and `cache list` (which add "ref" and "path"). */
static json_t *entry_to_json(const vs_cache_entry *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(e->name));
    json_object_set_new(o, "version", json_string(e->version));
    json_object_set_new(o, "file", json_string(e->filename));
    json_object_set_new(o, "sha256", json_string(e->sha256));
    json_object_set_new(o, "size", json_integer((json_int_t)e->size));
    char *url = vs_cache_url_dup(e->url); /* never a password on disk */
    json_object_set_new(o, "url", url ? json_string(url) : NULL);
    free(url);
    json_t *sigs = json_array();
    for (size_t i = 0; i < e->nsigs && i < VS_CACHE_MAX_SIGS; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "kind", json_string(e->sigs[i].kind));
        json_object_set_new(s, "file", json_string(e->sigs[i].filename));
        json_object_set_new(s, "sha256", json_string(e->sigs[i].sha256));
        url = vs_cache_url_dup(e->sigs[i].url);
        json_object_set_new(s, "url", url ? json_string(url) : NULL);
        free(url);
        json_array_append_new(sigs, s);
    }
    json_object_set_new(o, "signatures", sigs);
    json_t *signers = json_array();
    for (size_t i = 0; i < e->nsigners && i < VS_CACHE_MAX_SIGNERS; i++)
        json_array_append_new(signers, json_string(e->signers[i]));
    json_object_set_new(o, "signers", signers);
    json_t *req = json_array();
    if (e->require & VS_REQUIRE_GPG)
        json_array_append_new(req, json_string("gpg"));
    if (e->require & VS_REQUIRE_RSA)
        json_array_append_new(req, json_string("rsa"));
    json_object_set_new(o, "require", req);
    json_t *keys = json_array();
    for (size_t i = 0; i < e->nkeys && i < VS_CACHE_MAX_KEYS; i++)
        json_array_append_new(keys, json_string(e->keys[i]));
    json_object_set_new(o, "keys", keys);
    char tbuf[32];
    vs_cache_time_format(tbuf, e->verified);
    json_object_set_new(o, "verified", json_string(tbuf));
    json_object_set_new(o, "tool", json_string(e->tool));
    if (e->signed_at > 0) {
        vs_cache_time_format(tbuf, e->signed_at);
        json_object_set_new(o, "signed", json_string(tbuf));
    }
    return o;
}

char *vs_cache_entry_json(const vs_cache_entry *e)
{
    if (!e)
        return NULL;
    json_t *o = entry_to_json(e);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

vs_status vs_cache_ref_format(const vs_cache_entry *e, char **out, size_t *len, vs_error *err)
{
    *out = NULL;
    *len = 0;
    if (!vs_valid_name(e->name) || !vs_valid_version(e->version) ||
        !vs_cache_valid_hex(e->sha256) ||
        !plain_filename(e->filename) || e->nsigs > VS_CACHE_MAX_SIGS ||
        e->nsigners > VS_CACHE_MAX_SIGNERS || e->nkeys > VS_CACHE_MAX_KEYS ||
        !(e->require & VS_REQUIRE_BOTH) ||
        e->size > (uint64_t)INT64_MAX)
        return vs_error_subj(err, VS_E_INTERNAL, VS_SUBJ("%s@%s", e->name, e->version),
                             "refusing to write an invalid ref");
    json_t *o = entry_to_json(e);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    /* json_string() returns NULL for invalid UTF-8, which drops the member */
    if (!s)
        return vs_error_subj(err, VS_E_INTERNAL, VS_SUBJ("%s@%s", e->name, e->version),
                             "cannot serialise the ref");
    size_t n = strlen(s);
    char *r = realloc(s, n + 2);
    if (!r) {
        free(s);
        return vs_error_subj(err, VS_E_INTERNAL, VS_SUBJ("%s@%s", e->name, e->version),
                             "out of memory");
    }
    r[n] = '\n';
    r[n + 1] = '\0';
    *out = r;
    *len = n + 1;
    /* round trip: what we write must be what we read back */
    vs_cache_entry back = {0};
    vs_status st = vs_cache_ref_parse((const uint8_t *)r, n + 1, "ref", &back, err);
    vs_cache_entry_clear(&back);
    if (st) {
        free(r);
        *out = NULL;
        *len = 0;
        return vs_error_subj(err, VS_E_INTERNAL, VS_SUBJ("%s@%s", e->name, e->version),
                             "refusing to write an invalid ref");
    }
    return VS_OK;
}

/* ---- files ---------------------------------------------------------------- */

vs_status vs_cache_mkdirs(vs_ctx *ctx, vs_error *err)
{
    static const char *const dirs[] = { VS_CACHE_OBJECTS, VS_CACHE_REFS, VS_CACHE_QUARANTINE };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        int fd;
        vs_status st = vs_home_dir(ctx, dirs[i], VS_BENEATH_CREATE, &fd, err);
        if (st)
            return st;
        close(fd);
    }
    return VS_OK;
}

vs_status vs_cache_opendir(vs_ctx *ctx, const char *rel, DIR **out, vs_error *err)
{
    int fd;
    *out = NULL;
    vs_status st = vs_home_dir(ctx, rel, 0, &fd, err);
    return st ? st : vs_cache_fdopendir(fd, rel, out, err);
}

vs_status vs_cache_lock(vs_ctx *ctx, int op, int *fd, vs_error *err)
{
    *fd = -1;
    vs_status st = vs_cache_mkdirs(ctx, err);
    if (st)
        return st;
    return vs_home_lock(ctx, VS_CACHE_LOCK, op, fd, err);
}

void vs_cache_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

static int ref_path(char *buf, size_t n, const char *name, const char *version)
{
    int r = snprintf(buf, n, "%s/%s/%s.json", VS_CACHE_REFS, name, version);
    return r > 0 && (size_t)r < n ? 0 : -1;
}

vs_status vs_cache_ref_dir(vs_ctx *ctx, const char *name, bool create, int *out, vs_error *err)
{
    char dir[VS_MAX_NAME + 64];
    *out = -1;
    if (!vs_valid_name(name))
        return vs_error_subj(err, VS_E_USAGE, name, "invalid package name");
    snprintf(dir, sizeof dir, "%s/%s", VS_CACHE_REFS, name);
    return vs_home_dir(ctx, dir, create ? VS_BENEATH_CREATE : 0, out, err);
}

/* Open refs/NAME/VERSION.json for reading: VS_E_USAGE + VS_DETAIL_NOT_FOUND
 * when absent, VS_E_INTEGRITY when a link or not a regular file. */
static vs_status ref_open(vs_ctx *ctx, const char *name, const char *version, const char *path,
                          int *fd, vs_error *err)
{
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = vs_home_open(ctx, path, O_RDONLY | O_NONBLOCK, 0, fd, &e2);
    if (st == VS_E_USAGE && e2.detail == VS_DETAIL_NOT_FOUND) {
        char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
        snprintf(ref, sizeof ref, "%s@%s", name, version);
        vs_error_subj(err, VS_E_USAGE, ref, "not in the cache");
        vs_error_set_detail(err, VS_DETAIL_NOT_FOUND);
        return VS_E_USAGE;
    }
    if (st) {
        if (err)
            *err = e2;
        return st;
    }
    struct stat sb;
    if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(*fd);
        *fd = -1;
        return vs_error_subj(err, VS_E_INTEGRITY, path, "not a regular file (inside the home %s)",
                             ctx->home);
    }
    return VS_OK;
}

vs_status vs_cache_ref_read(vs_ctx *ctx, const char *name, const char *version,
                            vs_cache_entry *out, vs_error *err)
{
    char path[VS_MAX_NAME + VS_MAX_VERSION + 64];
    vs_cache_entry_clear(out);
    if (!vs_valid_name(name) || !vs_valid_version(version) ||
        ref_path(path, sizeof path, name, version))
        return vs_error_subj(err, VS_E_USAGE, VS_SUBJ("%s@%s", name, version),
                             "invalid name or version");
    int fd;
    vs_status st = ref_open(ctx, name, version, path, &fd, err);
    if (st)
        return st;
    uint8_t *buf;
    size_t len;
    char what[sizeof path + 4096];
    snprintf(what, sizeof what, "%s/%s", ctx->home, path);
    vs_error e2 = VS_ERROR_INIT;
    st = vs_read_fd(fd, what, VS_MAX_REF_FILE, &buf, &len, &e2);
    close(fd);
    if (st)
        return vs_error_subj(err, VS_E_INTEGRITY, e2.subject, "%s", e2.reason);
    st = vs_cache_ref_parse(buf, len, what, out, err);
    free(buf);
    if (st)
        return st;
    if (strcmp(out->name, name) != 0 || strcmp(out->version, version) != 0) {
        vs_cache_entry_clear(out);
        return vs_error_subj(err, VS_E_INTEGRITY, what, "names another package than %s@%s", name,
                             version);
    }
    return VS_OK;
}

vs_status vs_cache_ref_write(vs_ctx *ctx, const vs_cache_entry *e, vs_error *err)
{
    char *json;
    size_t len;
    vs_status st = vs_cache_ref_format(e, &json, &len, err);
    if (st)
        return st;
    char file[VS_MAX_VERSION + 8];
    snprintf(file, sizeof file, "%s.json", e->version);
    int dfd = -1;
    st = vs_cache_ref_dir(ctx, e->name, true, &dfd, err);
    if (!st)
        st = vs_write_file_atomic(dfd, file, json, len, 0644, err);
    if (dfd >= 0)
        close(dfd);
    free(json);
    return st;
}

/* ---- the entry --------------------------------------------------------------- */

vs_cache_entry *vs_cache_entry_new(void)
{
    return calloc(1, sizeof(vs_cache_entry));
}

void vs_cache_entry_clear(vs_cache_entry *e)
{
    if (!e)
        return;
    free(e->url);
    for (size_t i = 0; i < VS_CACHE_MAX_SIGS; i++)
        free(e->sigs[i].url);
    memset(e, 0, sizeof *e);
}

void vs_cache_entry_free(vs_cache_entry *e)
{
    vs_cache_entry_clear(e);
    free(e);
}

void vs_cache_entry_list_free(vs_cache_entry **list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        vs_cache_entry_free(list[i]);
    free(list);
}

const char *vs_cache_entry_name(const vs_cache_entry *e)
{
    return e ? e->name : "";
}

const char *vs_cache_entry_version(const vs_cache_entry *e)
{
    return e ? e->version : "";
}

const char *vs_cache_entry_file(const vs_cache_entry *e)
{
    return e ? e->filename : "";
}

const char *vs_cache_entry_sha256(const vs_cache_entry *e)
{
    return e ? e->sha256 : "";
}

uint64_t vs_cache_entry_size(const vs_cache_entry *e)
{
    return e ? e->size : 0;
}

const char *vs_cache_entry_url(const vs_cache_entry *e)
{
    return e && e->url ? e->url : "";
}

unsigned vs_cache_entry_require(const vs_cache_entry *e)
{
    return e ? e->require : 0;
}

int64_t vs_cache_entry_verified(const vs_cache_entry *e)
{
    return e ? e->verified : 0;
}

int64_t vs_cache_entry_signed_at(const vs_cache_entry *e)
{
    return e ? e->signed_at : 0;
}

const char *vs_cache_entry_tool(const vs_cache_entry *e)
{
    return e ? e->tool : "";
}

size_t vs_cache_entry_nsigs(const vs_cache_entry *e)
{
    return e && e->nsigs <= VS_CACHE_MAX_SIGS ? e->nsigs : 0;
}

static const vs_cache_sig *sig_at(const vs_cache_entry *e, size_t i)
{
    return i < vs_cache_entry_nsigs(e) ? &e->sigs[i] : NULL;
}

const char *vs_cache_entry_sig_kind(const vs_cache_entry *e, size_t i)
{
    const vs_cache_sig *s = sig_at(e, i);
    return s ? s->kind : NULL;
}

const char *vs_cache_entry_sig_file(const vs_cache_entry *e, size_t i)
{
    const vs_cache_sig *s = sig_at(e, i);
    return s ? s->filename : NULL;
}

const char *vs_cache_entry_sig_sha256(const vs_cache_entry *e, size_t i)
{
    const vs_cache_sig *s = sig_at(e, i);
    return s ? s->sha256 : NULL;
}

const char *vs_cache_entry_sig_url(const vs_cache_entry *e, size_t i)
{
    const vs_cache_sig *s = sig_at(e, i);
    return s ? (s->url ? s->url : "") : NULL;
}

size_t vs_cache_entry_nsigners(const vs_cache_entry *e)
{
    return e && e->nsigners <= VS_CACHE_MAX_SIGNERS ? e->nsigners : 0;
}

const char *vs_cache_entry_signer(const vs_cache_entry *e, size_t i)
{
    return i < vs_cache_entry_nsigners(e) ? e->signers[i] : NULL;
}

size_t vs_cache_entry_nkeys(const vs_cache_entry *e)
{
    return e && e->nkeys <= VS_CACHE_MAX_KEYS ? e->nkeys : 0;
}

const char *vs_cache_entry_key(const vs_cache_entry *e, size_t i)
{
    return i < vs_cache_entry_nkeys(e) ? e->keys[i] : NULL;
}

/* ---- public lookups ---------------------------------------------------------- */

vs_status vs_cache_lookup(vs_cache_entry **out, vs_ctx *ctx, const char *ref, vs_error *err)
{
    char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1];
    *out = NULL;
    vs_status st = vs_ref_split(ref, name, version, err);
    if (st)
        return st;
    vs_cache_entry *e = vs_cache_entry_new();
    if (!e)
        return vs_error_subj(err, VS_E_INTERNAL, ref, "out of memory");
    int lk;
    if (!(st = vs_cache_lock(ctx, LOCK_SH, &lk, err))) {
        st = vs_cache_ref_read(ctx, name, version, e, err);
        vs_cache_unlock(lk);
    }
    if (st)
        vs_cache_entry_free(e);
    else
        *out = e;
    return st;
}

char *vs_cache_object_path(vs_ctx *ctx, const char *sha256hex)
{
    if (!ctx || !vs_cache_valid_hex(sha256hex))
        return NULL;
    size_t n = strlen(ctx->home) + sizeof "/" VS_CACHE_OBJECTS "/ab/" + 64;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s/%.2s/%s", ctx->home, VS_CACHE_OBJECTS, sha256hex, sha256hex + 2);
    return p;
}

static int entry_cmp(const void *a, const void *b)
{
    const vs_cache_entry *x = *(vs_cache_entry *const *)a, *y = *(vs_cache_entry *const *)b;
    int d = strcmp(x->name, y->name);
    return d ? d : vs_version_cmp(x->version, y->version);
}

typedef struct ref_walk {
    vs_ctx *ctx;
    vs_cache_ref_fn fn;
    void *arg;
    const char *name; /* the refs/NAME folder being walked */
} ref_walk;

static vs_status ref_file(int dfd, const char *file, void *arg, vs_error *err)
{
    (void)dfd;
    ref_walk *w = arg;
    if (file[0] == '.')
        return VS_OK; /* temporary files of a writer */
    size_t l = strlen(file);
    char version[VS_MAX_VERSION + 8];
    bool json = l > 5 && l - 5 <= VS_MAX_VERSION && strcmp(file + l - 5, ".json") == 0;
    if (json) {
        memcpy(version, file, l - 5);
        version[l - 5] = '\0';
    }
    bool ok = json && vs_valid_name(w->name) && vs_valid_version(version);
    return w->fn(w->ctx, w->name, ok ? version : NULL, file, w->arg, err);
}

static vs_status ref_dir(int dfd, const char *name, void *arg, vs_error *err)
{
    ref_walk *w = arg;
    if (name[0] == '.')
        return VS_OK;
    w->name = name;
    bool opened;
    const char *shown = VS_SUBJ("%s/%s/%s", w->ctx->home, VS_CACHE_REFS, name);
    vs_status st = vs_cache_walk_at(dfd, name, shown, &opened, ref_file, w, err);
    if (st || opened)
        return st;
    return w->fn(w->ctx, name, NULL, NULL, w->arg, err);
}

vs_status vs_cache_each_ref(vs_ctx *ctx, vs_cache_ref_fn fn, void *arg, vs_error *err)
{
    DIR *d;
    vs_status st = vs_cache_opendir(ctx, VS_CACHE_REFS, &d, err);
    if (st)
        return st;
    ref_walk w = { ctx, fn, arg, NULL };
    return vs_cache_walk(d, ref_dir, &w, err);
}

struct list_acc {
    vs_cache_entry **v;
    size_t n, cap;
};

static vs_status list_one(vs_ctx *ctx, const char *name, const char *version, const char *file,
                          void *arg, vs_error *err)
{
    struct list_acc *acc = arg;
    vs_error e2 = VS_ERROR_INIT;
    if (!version) {
        vs_log(ctx, VS_LOG_WARN, "%s/%s/%s%s%s: not a ref (run cache fsck)", ctx->home,
               VS_CACHE_REFS, name, file ? "/" : "", file ? file : "");
        return VS_OK;
    }
    void *grown = vs_grow(acc->v, &acc->cap, acc->n, sizeof *acc->v, 16);
    if (!grown)
        return vs_error_subj(err, VS_E_INTERNAL, VS_CACHE_REFS, "out of memory");
    acc->v = grown;
    vs_cache_entry *e = vs_cache_entry_new();
    if (!e)
        return vs_error_subj(err, VS_E_INTERNAL, VS_SUBJ("%s@%s", name, version), "out of memory");
    vs_status st = vs_cache_ref_read(ctx, name, version, e, &e2);
    if (st) {
        vs_cache_entry_free(e);
        if (st == VS_E_INTERNAL) {
            *err = e2;
            return st;
        }
        vs_log(ctx, VS_LOG_WARN, "%s (run cache fsck)", e2.message);
        return VS_OK;
    }
    acc->v[acc->n++] = e;
    return VS_OK;
}

vs_status vs_cache_list(vs_cache_entry ***out, size_t *n, vs_ctx *ctx, vs_error *err)
{
    *out = NULL;
    *n = 0;
    int lk;
    vs_status st = vs_cache_lock(ctx, LOCK_SH, &lk, err);
    if (st)
        return st;
    struct list_acc acc = { NULL, 0, 0 };
    st = vs_cache_each_ref(ctx, list_one, &acc, err);
    vs_cache_unlock(lk);
    if (st) {
        vs_cache_entry_list_free(acc.v, acc.n);
        return st;
    }
    if (acc.n)
        qsort(acc.v, acc.n, sizeof *acc.v, entry_cmp);
    else {
        free(acc.v);
        acc.v = NULL;
    }
    *out = acc.v;
    *n = acc.n;
    return VS_OK;
}
