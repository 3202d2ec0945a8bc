/* mirror/index.c - index.json of a mirror tree or bundle: strict parse and
 * canonical format (one owner of the format). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mirror/mirror_int.h"

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
        return vs_error_subj(err, VS_E_UNSAFE, what, "larger than %u bytes", VS_MAX_REF_FILE);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vs_error_subj(err, VS_E_UNSAFE, what, "not valid JSON (line %d)", jerr.line);
    vs_status st = VS_OK;
    const char *fmt = json_is_object(root) ? str_field(root, "format") : NULL;
    json_t *pk = json_object_get(root, "packages");
    if (!fmt || strcmp(fmt, VS_MIRROR_FORMAT) != 0 || !json_is_array(pk)) {
        st = vs_error_subj(err, VS_E_UNSAFE, what, "not a %s index", VS_MIRROR_FORMAT);
        goto done;
    }
    size_t cnt = json_array_size(pk);
    if (cnt > VS_MAX_BUNDLE_ENTRIES) {
        st = vs_error_subj(err, VS_E_UNSAFE, what, "more than %u packages", VS_MAX_BUNDLE_ENTRIES);
        goto done;
    }
    vs_mirror_pkg *v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) {
        st = vs_error_subj(err, VS_E_INTERNAL, what, "out of memory");
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
            st = vs_error_subj(err, VS_E_UNSAFE, what, "package %zu is malformed", i);
            break;
        }
        for (size_t k = 0; k < i; k++)
            if (!strcmp(v[k].name, m->name) && !strcmp(v[k].version, m->version))
                st = vs_error_subj(err, VS_E_UNSAFE, what, "%s@%s listed twice", m->name,
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
                st = vs_error_subj(err, VS_E_UNSAFE, what, "%s@%s: bad file entry %zu", m->name,
                                   m->version, j);
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

vs_status vs_mirror_index_format(char **out, size_t *len, const vs_cache_entry *const *e, size_t n,
                                 vs_error *err)
{
    *out = NULL;
    json_t *root = json_object(), *pk = json_array();
    bool oom = !root || !pk;
    for (size_t i = 0; i < n && !oom; i++) {
        json_t *o = json_object(), *signers = json_array(), *files = json_array();
        oom = !o || !signers || !files;
        if (!oom) {
            json_object_set_new(o, "name", json_string(vs_cache_entry_name(e[i])));
            json_object_set_new(o, "version", json_string(vs_cache_entry_version(e[i])));
            json_object_set_new(o, "file", json_string(vs_cache_entry_file(e[i])));
            json_object_set_new(o, "sha256", json_string(vs_cache_entry_sha256(e[i])));
            json_object_set_new(o, "size", json_integer((json_int_t)vs_cache_entry_size(e[i])));
            for (size_t k = 0; k < vs_cache_entry_nsigners(e[i]); k++)
                json_array_append_new(signers, json_string(vs_cache_entry_signer(e[i], k)));
            for (size_t k = 0; k < vs_cache_entry_nsigs(e[i]); k++) {
                json_t *f = json_object();
                if (!f) {
                    oom = true;
                    break;
                }
                json_object_set_new(f, "kind", json_string(vs_cache_entry_sig_kind(e[i], k)));
                json_object_set_new(f, "file", json_string(vs_cache_entry_sig_file(e[i], k)));
                json_object_set_new(f, "sha256", json_string(vs_cache_entry_sig_sha256(e[i], k)));
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
        return vs_error_subj(err, VS_E_INTERNAL, VS_MIRROR_INDEX, "out of memory");
    size_t l = strlen(s);
    char *r = malloc(l + 2);
    if (!r) {
        free(s);
        return vs_error_subj(err, VS_E_INTERNAL, VS_MIRROR_INDEX, "out of memory");
    }
    memcpy(r, s, l);
    r[l] = '\n';
    r[l + 1] = '\0';
    free(s);
    *out = r;
    *len = l + 1;
    return VS_OK;
}
