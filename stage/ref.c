/* stage/ref.c - vs_stage_ref: a cached NAME@VERSION, re-verified, into a
 * layout, with its provenance. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "stage/stage_int.h"
#include "vetstage/cache.h"

static json_t *iso_time(int64_t t)
{
    if (t <= 0)
        return json_null();
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return json_null();
    return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static char *provenance(const vs_cache_entry *e, const vs_verdict *v, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(e->name));
    json_object_set_new(o, "version", json_string(e->version));
    json_object_set_new(o, "package", json_string(e->filename));
    json_object_set_new(o, "sha256", json_string(e->sha256));
    json_object_set_new(o, "size", json_integer((json_int_t)e->size));
    json_object_set_new(o, "url", str_or_null(e->url));
    json_t *sigs = json_array();
    for (size_t i = 0; i < e->nsigs && i < VS_CACHE_MAX_SIGS; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "kind", json_string(e->sigs[i].kind));
        json_object_set_new(s, "file", json_string(e->sigs[i].filename));
        json_object_set_new(s, "sha256", json_string(e->sigs[i].sha256));
        json_object_set_new(s, "url", str_or_null(e->sigs[i].url));
        json_array_append_new(sigs, s);
    }
    json_object_set_new(o, "signatures", sigs);
    json_t *signers = json_array();
    if (v) {
        for (size_t i = 0; i < v->nsigs; i++) {
            if (!v->sigs[i].valid)
                continue;
            json_t *s = json_object();
            json_object_set_new(s, "type", json_string(v->sigs[i].kind == VS_SIG_GPG ? "gpg" : "rsa"));
            json_object_set_new(s, "fingerprint", json_string(v->sigs[i].fingerprint));
            json_object_set_new(s, "created", iso_time(v->sigs[i].created));
            json_array_append_new(signers, s);
        }
    }
    json_object_set_new(o, "signers", signers);
    json_object_set_new(o, "verified", iso_time(now));
    json_object_set_new(o, "admitted", iso_time(e->verified));
    char tool[64];
    snprintf(tool, sizeof tool, "vetstage %s", vs_version());
    json_object_set_new(o, "tool", json_string(tool));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *r = realloc(text, n + 2);
    if (!r) {
        free(text);
        return NULL;
    }
    r[n] = '\n';
    r[n + 1] = '\0';
    return r;
}

VS_EXTERN vs_status vs_stage_ref(vs_ctx *ctx, const char *ref, const char *dest,
                                 const vs_stage_opts *opts, vs_stage_result *res, vs_error *err)
{
    vs_stage_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    if (!ctx || !ref)
        return vs_error_set(err, VS_E_USAGE, "stage: no package given");
    vs_cache_entry *e = calloc(1, sizeof *e);
    if (!e)
        return vs_error_set(err, VS_E_INTERNAL, "%s: out of memory", ref);
    vs_verdict *v = NULL;
    char *path = NULL, *prov = NULL;
    int fd = -1;
    vs_status st = vs_cache_lookup(ctx, ref, e, err);
    if (st)
        goto out;
    uint8_t digest[VS_SHA256_LEN];
    if (!vs_unhex(digest, VS_SHA256_LEN, e->sha256, strlen(e->sha256))) {
        st = vs_error_set(err, VS_E_INTEGRITY, "%s: bad object id in the cache", ref);
        goto out;
    }
    path = vs_cache_object_path(ctx, e->sha256);
    if (!path) {
        st = vs_error_set(err, VS_E_INTERNAL, "%s: out of memory", ref);
        goto out;
    }
    /* the fd we extract from is opened before the re-check; the bytes read
     * through it are hashed again and must match the re-checked digest */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        st = vs_error_errno(err, VS_E_VERIFY, errno, "%s: package object %s", ref, e->sha256);
        goto out;
    }
    st = vs_cache_reverify(ctx, e, &v, err);
    if (st)
        goto out;
    prov = provenance(e, v, (int64_t)time(NULL));
    if (!prov) {
        st = vs_error_set(err, VS_E_INTERNAL, "%s: out of memory", ref);
        goto out;
    }
    vs_stage_source src = { fd, e->name, e->version, e->filename[0] ? e->filename : ref, digest,
                            prov, 0 };
    for (size_t i = 0; i < v->nsigs; i++)
        if (v->sigs[i].kind == VS_SIG_GPG && v->sigs[i].valid && v->sigs[i].created > src.signed_at)
            src.signed_at = v->sigs[i].created;
    st = vs_stage_source_run(ctx, &src, dest, opts, res, err);
out:
    if (fd >= 0)
        close(fd);
    vs_verdict_free(v);
    free(path);
    free(prov);
    free(e);
    return st;
}
