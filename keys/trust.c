/* keys/trust.c - the trust store a context holds: loaded once, reloaded
 * when it changed (see keys/trust.h). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "keys/keys_int.h"

typedef struct trust {
    bool loaded;
    char *at;         /* HOME/trust/rsa's stamp (every key file's name, size, SHA-256) when read */
    size_t at_len;
    vs_rsa_key *keys; /* owned */
    size_t nkeys;
    gpgme_ctx_t gpg;  /* owned; NULL until first used */
    /* the whole store's key list (vs_trust_key_infos) and the stamp of
     * the store's files taken before it was listed */
    bool infos_loaded;
    vs_key_info *infos; /* owned */
    size_t ninfos;
    char *infos_stamp; /* owned */
    size_t infos_stamp_len;
} trust;


/* A stamp taken now is the one kept (the cache it keys still holds). */
static bool same_stamp(const vs_sbuf *now, const char *kept, size_t kept_len)
{
    return now->len == kept_len && (kept_len == 0 || memcmp(now->p, kept, kept_len) == 0);
}

/* Keep the stamp taken now (the caller's buffer gives it up). */
static void keep_stamp(vs_sbuf *now, char **kept, size_t *kept_len)
{
    free(*kept);
    *kept = now->p;
    *kept_len = now->len;
    now->p = NULL;
}

static void drop_infos(trust *t)
{
    vs_key_info_free(t->infos);
    t->infos = NULL;
    t->ninfos = 0;
    free(t->infos_stamp);
    t->infos_stamp = NULL;
    t->infos_stamp_len = 0;
    t->infos_loaded = false;
}

static void drop_keys(trust *t)
{
    vs_rsa_keys_free(t->keys, t->nkeys);
    t->keys = NULL;
    t->nkeys = 0;
    t->loaded = false;
    free(t->at);
    t->at = NULL;
    t->at_len = 0;
    drop_infos(t);
}

static void trust_free(void *p)
{
    trust *t = p;
    if (!t)
        return;
    drop_keys(t);
    if (t->gpg)
        gpgme_release(t->gpg);
    free(t);
}

static trust *trust_of(vs_ctx *ctx)
{
    if (!ctx->trust) {
        ctx->trust = calloc(1, sizeof(trust));
        if (ctx->trust)
            ctx->trust_free = trust_free;
    }
    return ctx->trust;
}

void vs_trust_forget(vs_ctx *ctx)
{
    if (!ctx || !ctx->trust)
        return;
    trust *t = ctx->trust;
    drop_keys(t); /* the gpgme context stays: gpg reads the keyring each time */
}

vs_status vs_trust_rsa_keys(const vs_rsa_key **keys, size_t *n, vs_ctx *ctx, vs_error *err)
{
    *keys = NULL;
    *n = 0;
    trust *t = trust_of(ctx);
    if (!t)
        return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    /* an import that died between its renames is rolled forward first: that
     * too changes the folder, so it is seen below */
    vs_status st = vs_keys_settle(ctx, err);
    if (st)
        return st;
    vs_sbuf now = VS_SBUF_INIT(VS_MAX_KEY_FILE);
    if ((st = vs_trust_rsa_stamp(ctx, &now, err))) {
        vs_sbuf_free(&now);
        return st;
    }
    if (t->loaded && !same_stamp(&now, t->at, t->at_len)) {
        vs_log(ctx, VS_LOG_DEBUG, "trust store changed: reloading its RSA keys");
        drop_keys(t);
    }
    if (!t->loaded) {
        if ((st = vs_keys_rsa_load_all(ctx, &t->keys, &t->nkeys, err))) {
            vs_sbuf_free(&now);
            return st;
        }
        /* stamped before reading: a change that lands while we read makes
         * the next stamp differ, so it is read again then */
        keep_stamp(&now, &t->at, &t->at_len);
        t->loaded = true;
        vs_log(ctx, VS_LOG_DEBUG, "trust store loaded: %zu RSA key%s", t->nkeys,
               t->nkeys == 1 ? "" : "s");
    }
    vs_sbuf_free(&now);
    *keys = t->keys;
    *n = t->nkeys;
    return VS_OK;
}

vs_status vs_trust_gpgme(gpgme_ctx_t *out, vs_ctx *ctx, vs_error *err)
{
    *out = NULL;
    trust *t = trust_of(ctx);
    if (!t)
        return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    if (!t->gpg) {
        vs_status st = vs_keys_gpgme_open(ctx, &t->gpg, err);
        if (st)
            return st;
    } else {
        vs_status st = vs_keys_settle(ctx, err);
        if (st)
            return st;
    }
    *out = t->gpg;
    return VS_OK;
}

vs_status vs_trust_gpgme_new(gpgme_ctx_t *out, vs_ctx *ctx, vs_error *err)
{
    return vs_keys_gpgme_open(ctx, out, err);
}

/* A listed key whose expiry has passed since is expired now. */
static void age_infos(trust *t)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < t->ninfos; i++)
        if (t->infos[i].expires > 0 && t->infos[i].expires <= (int64_t)now)
            t->infos[i].expired = true;
}

vs_status vs_trust_key_infos(const vs_key_info **keys, size_t *n, vs_ctx *ctx, vs_error *err)
{
    *keys = NULL;
    *n = 0;
    trust *t = trust_of(ctx);
    if (!t)
        return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    vs_sbuf now = VS_SBUF_INIT(VS_MAX_KEY_FILE);
    vs_status st = vs_trust_stamp(ctx, &now, err);
    if (st) {
        vs_sbuf_free(&now);
        return st;
    }
    if (t->infos_loaded && !same_stamp(&now, t->infos_stamp, t->infos_stamp_len)) {
        vs_log(ctx, VS_LOG_DEBUG, "trust store changed: listing its keys again");
        drop_infos(t);
    }
    if (!t->infos_loaded) {
        /* stamped before listing: a change that lands while gpg lists makes
         * the next stamp differ, so it is listed again then */
        if ((st = vs_keys_list_now(&t->infos, &t->ninfos, ctx, err))) {
            vs_sbuf_free(&now);
            return st;
        }
        keep_stamp(&now, &t->infos_stamp, &t->infos_stamp_len);
        t->infos_loaded = true;
        vs_log(ctx, VS_LOG_DEBUG, "trust store listed: %zu key%s", t->ninfos,
               t->ninfos == 1 ? "" : "s");
    }
    vs_sbuf_free(&now);
    age_infos(t);
    *keys = t->infos;
    *n = t->ninfos;
    return VS_OK;
}
