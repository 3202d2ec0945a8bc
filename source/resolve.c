/* source/resolve.c - NAME@VERSION -> fetch options, stage options and the
 * key binding of its source; templates expanded; mirror bases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source_int.h"

bool vs_source_is_ref(const char *arg)
{
    char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1];
    return arg && !strstr(arg, "://") && vs_ref_split(arg, name, version, NULL) == VS_OK;
}

/* The i-th dot-separated part of version (i < 3): pointer and length;
 * false when the version has fewer parts or the part is empty. */
static bool version_part(const char *version, int i, const char **p, size_t *n)
{
    const char *s = version;
    for (int k = 0; k < i; k++) {
        s = strchr(s, '.');
        if (!s)
            return false;
        s++;
    }
    *p = s;
    *n = strcspn(s, ".");
    return *n > 0;
}

vs_status vs_src_expand(const char *tmpl, const char *name, const char *version,
                        const char *where, char **out, vs_error *err)
{
    *out = NULL;
    vs_sbuf b = VS_SBUF_INIT(VS_MAX_URL);
    vs_sbuf_add(&b, "", 0);
    for (const char *p = tmpl; *p;) {
        if (*p != '{') {
            size_t n = strcspn(p, "{");
            vs_sbuf_add(&b, p, n);
            p += n;
            continue;
        }
        const char *end = strchr(p, '}');
        size_t n = end ? (size_t)(end - p - 1) : 0;
        const char *val = NULL;
        size_t vl = 0;
        static const char *const parts[] = { "major", "minor", "patch" };
        if (end && n == 4 && !memcmp(p + 1, "name", 4)) {
            val = name;
            vl = strlen(name);
        } else if (end && n == 7 && !memcmp(p + 1, "version", 7)) {
            val = version;
            vl = strlen(version);
        } else {
            int i = 0;
            while (i < 3 && !(end && n == 5 && !memcmp(p + 1, parts[i], 5)))
                i++;
            if (i == 3) {
                free(b.p);
                return vs_error_subj(err, VS_E_USAGE, where, "unknown placeholder in '%s'", tmpl);
            }
            if (!version_part(version, i, &val, &vl)) {
                free(b.p);
                vs_status st = vs_error_subj(err, VS_E_USAGE, where,
                                             "version '%s' has no %s part for {%s}", version,
                                             parts[i], parts[i]);
                vs_error_hint(err, "{major}, {minor} and {patch} are the first three "
                                   "dot-separated parts of the version");
                return st;
            }
        }
        vs_sbuf_add(&b, val, vl);
        p = end + 1;
    }
    if (b.oom) {
        free(b.p);
        return vs_error_subj(err, VS_E_INTERNAL, where, "out of memory");
    }
    if (b.toobig) {
        free(b.p);
        return vs_error_subj(err, VS_E_USAGE, where, "the expanded URL is longer than %u bytes",
                             VS_MAX_URL);
    }
    *out = b.p;
    return VS_OK;
}

/* The release and the storage its pointers borrow. */
typedef struct release_full {
    vs_source_release pub; /* first: the public part */
    char *owned[VS_K_COUNT];
    char **mirrors;
    size_t nmirrors;
    char name[VS_MAX_NAME + 1];
    char version[VS_MAX_VERSION + 1];
    char keys[VS_MAX_SOURCE_KEYS][VS_FPR_MAX];
    const char *keyp[VS_MAX_SOURCE_KEYS];
} release_full;

void vs_source_release_free(vs_source_release *rel)
{
    if (!rel)
        return;
    release_full *r = (release_full *)rel;
    for (int k = 0; k < VS_K_COUNT; k++)
        free(r->owned[k]);
    vs_source_mirror_bases_free(r->mirrors, r->nmirrors);
    free(r);
}

static const vs_src *find(const vs_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && i < cfg->n; i++)
        if (!strcmp(cfg->src[i].name, name))
            return &cfg->src[i];
    return NULL;
}

/* The source's URL templates and mirror lines expanded for this release;
 * the plain text options copied. */
static vs_status expand_all(release_full *r, const vs_src *s, const char *file, vs_error *err)
{
    vs_status st = VS_OK;
    char where[VS_ERROR_SUBJECT_MAX];
    static const vs_src_key urls[] = { VS_K_URL, VS_K_GPG_SIG_URL, VS_K_CHECKSUMS_URL,
                                       VS_K_RSA_SIG_URL };
    for (size_t i = 0; i < 4 && !st; i++) {
        vs_src_key k = urls[i];
        if (!s->val[k])
            continue;
        snprintf(where, sizeof where, "%s:%zu", file, s->vline[k]);
        st = vs_src_expand(s->val[k], r->name, r->version, where, &r->owned[k], err);
    }
    char *mx[VS_MAX_SOURCE_MIRRORS] = { 0 };
    for (size_t i = 0; i < s->nmirrors && !st; i++) {
        snprintf(where, sizeof where, "%s:%zu", file, s->mirror_line[i]);
        st = vs_src_expand(s->mirror[i], r->name, r->version, where, &mx[i], err);
    }
    if (!st && s->nmirrors)
        st = vs_source_mirror_bases(&r->mirrors, &r->nmirrors, (const char *const *)mx, s->nmirrors,
                                    r->name, r->version, err);
    for (size_t i = 0; i < s->nmirrors; i++)
        free(mx[i]);
    static const vs_src_key plain[] = { VS_K_CACERT, VS_K_PINNED_PUBKEY, VS_K_START_SCRIPT };
    for (size_t i = 0; i < 3 && !st; i++)
        if (s->val[plain[i]] && !(r->owned[plain[i]] = strdup(s->val[plain[i]])))
            st = vs_error_subj(err, VS_E_INTERNAL, s->name, "out of memory");
    return st;
}

/* The fetch and stage options of the release, pointing into r. */
static void fill_options(release_full *r, const vs_src *s)
{
    vs_source_release *p = &r->pub;
    vs_cache_fetch_opts *fo = &p->fetch;
    fo->url = r->owned[VS_K_URL];
    fo->name = r->name;
    fo->version = r->version;
    fo->gpg_sig_url = r->owned[VS_K_GPG_SIG_URL];
    fo->checksums_url = r->owned[VS_K_CHECKSUMS_URL];
    fo->rsa_sig_url = r->owned[VS_K_RSA_SIG_URL];
    fo->mirrors = (const char *const *)r->mirrors;
    fo->nmirrors = r->nmirrors;
    fo->fetch.cacert = r->owned[VS_K_CACERT];
    fo->fetch.pinned_pubkey = r->owned[VS_K_PINNED_PUBKEY];
    fo->fetch.max_size = s->max_size;
    fo->fetch.retries = s->retries;
    fo->fetch.timeout_s = s->timeout;
    fo->require = s->require;
    fo->max_sig_age_days = s->max_sig_age;
    for (size_t i = 0; i < s->nkeys; i++) {
        memcpy(r->keys[i], s->keys[i], sizeof r->keys[i]);
        r->keyp[i] = r->keys[i];
    }
    fo->keys = s->nkeys ? r->keyp : NULL;
    fo->nkeys = s->nkeys;
    p->has_strip_components = s->has_strip;
    p->strip_components = s->strip;
    p->start_script = r->owned[VS_K_START_SCRIPT];
}

vs_status vs_source_resolve(vs_source_release **out, const vs_config *cfg, const char *ref,
                            vs_error *err)
{
    *out = NULL;
    if (!vs_source_is_ref(ref))
        return vs_error_subj(err, VS_E_USAGE, ref ? ref : "", "not NAME@VERSION");
    release_full *r = calloc(1, sizeof *r);
    if (!r)
        return vs_error_subj(err, VS_E_INTERNAL, ref, "out of memory");
    (void)vs_ref_split(ref, r->name, r->version, NULL);
    const vs_src *s = find(cfg, r->name);
    const char *file = cfg && cfg->file ? cfg->file : "the configuration";
    if (!s) {
        vs_status st = vs_error_subj(err, VS_E_USAGE, ref, "no [source %s] in %s", r->name, file);
        vs_error_set_detail(err, VS_DETAIL_NOT_FOUND);
        vs_error_hint(err, "add a [source %s] section to %s, or give the package URL", r->name,
                      file);
        free(r);
        return st;
    }
    vs_cache_fetch_opts init = VS_CACHE_FETCH_OPTS_INIT;
    vs_source_release *p = &r->pub;
    p->fetch = init;
    snprintf(p->source, sizeof p->source, "%s", s->name);
    snprintf(p->where, sizeof p->where, "%s:%zu", file, s->line);
    vs_status st = expand_all(r, s, file, err);
    if (st) {
        vs_source_release_free(p);
        return st;
    }
    fill_options(r, s);
    *out = p;
    return VS_OK;
}

bool vs_source_policy(unsigned *require, unsigned *max_sig_age_days,
                      const char *keys[VS_MAX_SOURCE_KEYS], size_t *nkeys, const vs_config *cfg,
                      const char *name)
{
    *require = 0;
    *max_sig_age_days = 0;
    *nkeys = 0;
    const vs_src *s = name ? find(cfg, name) : NULL;
    if (!s)
        return false;
    *require = s->require;
    *max_sig_age_days = s->max_sig_age;
    for (size_t i = 0; i < s->nkeys; i++)
        keys[i] = s->keys[i];
    *nkeys = s->nkeys;
    return true;
}

void vs_source_apply(vs_cache_fetch_opts *fo, const vs_source_release *rel)
{
    const vs_cache_fetch_opts *s = &rel->fetch;
    fo->url = s->url;
    fo->name = s->name;
    fo->version = s->version;
    if (!fo->gpg_sig_url && !fo->checksums_url) {
        fo->gpg_sig_url = s->gpg_sig_url;
        fo->checksums_url = s->checksums_url;
    }
    if (!fo->rsa_sig_url)
        fo->rsa_sig_url = s->rsa_sig_url;
    if (fo->nmirrors == 0) {
        fo->mirrors = s->mirrors;
        fo->nmirrors = s->nmirrors;
    }
    if (!fo->fetch.cacert)
        fo->fetch.cacert = s->fetch.cacert;
    if (!fo->fetch.pinned_pubkey)
        fo->fetch.pinned_pubkey = s->fetch.pinned_pubkey;
    if (!fo->fetch.max_size)
        fo->fetch.max_size = s->fetch.max_size;
    if (fo->fetch.retries < 0)
        fo->fetch.retries = s->fetch.retries;
    if (!fo->fetch.timeout_s)
        fo->fetch.timeout_s = s->fetch.timeout_s;
    if (!fo->require)
        fo->require = s->require;
    if (!fo->max_sig_age_days)
        fo->max_sig_age_days = s->max_sig_age_days;
    if (fo->nkeys == 0) {
        fo->keys = s->keys;
        fo->nkeys = s->nkeys;
    }
}

void vs_source_mirror_bases_free(char **bases, size_t n)
{
    for (size_t i = 0; bases && i < n; i++)
        free(bases[i]);
    free(bases);
}

vs_status vs_source_mirror_bases(char ***out, size_t *nout, const char *const *bases, size_t n,
                                 const char *name, const char *version, vs_error *err)
{
    *out = NULL;
    *nout = 0;
    if (!vs_valid_name(name))
        return vs_error_subj(err, VS_E_USAGE, name ? name : "", "invalid package name");
    if (!vs_valid_version(version))
        return vs_error_subj(err, VS_E_USAGE, version ? version : "", "invalid version");
    if (n > VS_CACHE_MAX_MIRRORS / 2)
        return vs_error_subj(err, VS_E_USAGE, VS_SUBJ("%s@%s", name, version),
                             "more than %d mirrors", VS_CACHE_MAX_MIRRORS / 2);
    if (n == 0)
        return VS_OK;
    char **v = calloc(2 * n, sizeof *v);
    if (!v)
        return vs_error_subj(err, VS_E_INTERNAL, VS_SUBJ("%s@%s", name, version), "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *b = bases[i] ? bases[i] : "";
        size_t bl = strlen(b);
        while (bl && b[bl - 1] == '/')
            bl--;
        if (bl == 0 || bl > VS_MAX_URL) {
            vs_source_mirror_bases_free(v, 2 * n);
            return vs_error_subj(err, VS_E_USAGE, b, "not a mirror base URL");
        }
        vs_sbuf s = VS_SBUF_INIT(2 * VS_MAX_URL);
        vs_sbuf_add(&s, b, bl);
        vs_sbuf_puts(&s, "/");
        vs_sbuf_puts(&s, name);
        vs_sbuf_puts(&s, "/");
        vs_sbuf_puts(&s, version);
        v[2 * i] = s.p;
        v[2 * i + 1] = strndup(b, bl);
        if (vs_sbuf_failed(&s) || !v[2 * i + 1]) {
            free(s.p);
            v[2 * i] = NULL;
            vs_source_mirror_bases_free(v, 2 * n);
            return vs_error_subj(err, VS_E_INTERNAL, b, "out of memory");
        }
    }
    *out = v;
    *nout = 2 * n;
    return VS_OK;
}
