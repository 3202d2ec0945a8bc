/* cache/fetch.c - URL -> quarantine -> verify -> NAME@VERSION, and the
 * re-verification of a cached entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_int.h"

enum { SIG_GPG, SIG_CHECKSUMS, SIG_CHECKSUMS_SIG, SIG_RSA, NSIG };

static const char *const sig_kind[NSIG] = { "gpg-sig", "checksums", "checksums-sig", "rsa-sig" };
static const size_t sig_max[NSIG] = { VS_MAX_SIG_FILE, VS_MAX_CHECKSUM_FILE, VS_MAX_SIG_FILE,
                                      VS_MAX_SIG_FILE };

/* The URLs of one source: the package and its signature-side files
 * (NULL when not used). */
typedef struct source {
    char *pkg;
    char *sig[NSIG];
} source;

static void source_free(source *s)
{
    free(s->pkg);
    for (int i = 0; i < NSIG; i++)
        free(s->sig[i]);
    memset(s, 0, sizeof *s);
}

/* url as it is stored and shown (credentials removed), in buf. */
static const char *shown(char buf[VS_MAX_URL + 1], const char *url)
{
    vs_url_redact(buf, VS_MAX_URL + 1, url);
    return buf;
}

/* url + suffix, the suffix going before any query or fragment. */
static char *url_suffix(const char *url, const char *suffix)
{
    size_t cut = strcspn(url, "?#"), n = strlen(url), sl = strlen(suffix);
    char *r = malloc(n + sl + 1);
    if (!r)
        return NULL;
    memcpy(r, url, cut);
    memcpy(r + cut, suffix, sl);
    memcpy(r + cut + sl, url + cut, n - cut + 1);
    return r;
}

static vs_status primary_source(const vs_cache_fetch_opts *o, source *s, vs_error *err)
{
    memset(s, 0, sizeof *s);
    s->pkg = strdup(o->url);
    if (o->checksums_url) {
        s->sig[SIG_CHECKSUMS] = strdup(o->checksums_url);
        s->sig[SIG_CHECKSUMS_SIG] = url_suffix(o->checksums_url, ".asc");
    } else {
        s->sig[SIG_GPG] = o->gpg_sig_url ? strdup(o->gpg_sig_url) : url_suffix(o->url, ".asc");
    }
    s->sig[SIG_RSA] = o->rsa_sig_url ? strdup(o->rsa_sig_url) : url_suffix(o->url, ".sig");
    bool oom = !s->pkg || !s->sig[SIG_RSA] ||
               (o->checksums_url ? !s->sig[SIG_CHECKSUMS] || !s->sig[SIG_CHECKSUMS_SIG]
                                 : !s->sig[SIG_GPG]);
    if (oom) {
        source_free(s);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    return VS_OK;
}

static vs_status mirror_source(const source *p, const char *base, source *s, vs_error *err)
{
    memset(s, 0, sizeof *s);
    s->pkg = vs_fetch_mirror_url(base, p->pkg);
    bool bad = !s->pkg;
    for (int i = 0; i < NSIG; i++) {
        if (!p->sig[i])
            continue;
        s->sig[i] = vs_fetch_mirror_url(base, p->sig[i]);
        bad = bad || !s->sig[i];
    }
    if (bad) {
        source_free(s);
        char b1[VS_MAX_URL + 1], b2[VS_MAX_URL + 1];
        return vs_error_set(err, VS_E_USAGE, "%s: cannot make mirror URLs for %s",
                            shown(b1, base), shown(b2, p->pkg));
    }
    return VS_OK;
}

/* The package's file name from its URL (fetch's one rule for it). */
static vs_status url_filename(const char *url, char out[256], vs_error *err)
{
    return vs_fetch_file_name(url, out, 256, err);
}

static void sha_hex_of(const char *s, char out[VS_SHA256_HEX])
{
    vs_sha256 h;
    uint8_t d[VS_SHA256_LEN];
    if (vs_sha256_init(&h, NULL) != VS_OK) {
        out[0] = '\0';
        return;
    }
    vs_sha256_update(&h, s, strlen(s));
    vs_sha256_final(&h, d);
    vs_hex(out, d, sizeof d);
}

/*
 * Open and lock cache/quarantine/<id>/ exclusively. A directory removed by
 * its previous holder (or by gc) while we waited is detected by comparing
 * the locked inode with the name, and we start over.
 */
static vs_status quarantine_lock(vs_ctx *ctx, const char *id, int *qroot, int *qfd,
                                 vs_error *err)
{
    *qroot = *qfd = -1;
    vs_status st = vs_home_dir(ctx, VS_CACHE_QUARANTINE, VS_BENEATH_CREATE, qroot, err);
    if (st)
        return st;
    char rel[sizeof VS_CACHE_QUARANTINE + VS_SHA256_HEX + 1];
    snprintf(rel, sizeof rel, "%s/%s", VS_CACHE_QUARANTINE, id);
    for (int tries = 0; tries < 1000; tries++) {
        int fd;
        vs_error e2 = VS_ERROR_INIT;
        st = vs_home_dir(ctx, rel, VS_BENEATH_CREATE, &fd, &e2);
        if (st == VS_E_USAGE && e2.detail == VS_DETAIL_NOT_FOUND)
            continue; /* removed between mkdir and open */
        if (st) {
            if (err)
                *err = e2;
            break;
        }
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
            ;
        struct stat a, b;
        if (fstat(fd, &a) == 0 && fstatat(*qroot, id, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            *qfd = fd;
            return VS_OK;
        }
        close(fd); /* removed while we waited: take the new one */
    }
    if (!st)
        st = vs_error_set(err, VS_E_INTERNAL, "%s/%s/%s: cannot lock the quarantine", ctx->home,
                          VS_CACHE_QUARANTINE, id);
    close(*qroot);
    *qroot = -1;
    return st;
}

/* Done with a quarantine: remove it whole, or keep only resumable partial
 * package files (names starting with "pkg-") and drop it if empty. */
static void quarantine_release(int qroot, int qfd, const char *id, bool keep_partials)
{
    if (qfd < 0)
        return;
    if (!keep_partials) {
        vs_remove_tree(qroot, id, NULL);
    } else {
        for (int i = 0; i < NSIG; i++)
            unlinkat(qfd, sig_kind[i], 0);
        unlinkat(qroot, id, AT_REMOVEDIR); /* only succeeds when nothing is left */
    }
    vs_fsync_dir(qroot, NULL, NULL);
    close(qfd);
    close(qroot);
}

/* Replace the first `from` in buf (capacity cap) by `to`, truncating. */
static void replace_in(char *buf, size_t cap, const char *from, const char *to)
{
    char *q = strstr(buf, from);
    if (!q || !*from)
        return;
    size_t pre = (size_t)(q - buf), fl = strlen(from), tl = strlen(to);
    const char *rest = q + fl;
    size_t rl = strlen(rest);
    char *tmp = malloc(pre + tl + rl + 1);
    if (!tmp)
        return;
    memcpy(tmp, buf, pre);
    memcpy(tmp + pre, to, tl);
    memcpy(tmp + pre + tl, rest, rl + 1);
    size_t n = strnlen(tmp, cap - 1);
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    free(tmp);
}

/* One source: signature files, then the package, then the verdict. */
typedef struct attempt {
    bool have[NSIG];
    char pkgname[32];
    vs_fetch_result res;
    vs_verdict *verdict;
} attempt;

static bool sig_required(int i, unsigned require, bool checksums_mode)
{
    if (i == SIG_RSA)
        return require & VS_REQUIRE_RSA;
    if (!(require & VS_REQUIRE_GPG))
        return false;
    return checksums_mode ? i != SIG_GPG : i == SIG_GPG;
}

static vs_status try_source(vs_ctx *ctx, const vs_cache_fetch_opts *o, unsigned require,
                            const source *s, int qfd, const char *qpath, const char *filename,
                            attempt *a, vs_error *err)
{
    memset(a, 0, sizeof *a);
    vs_status st;
    for (int i = 0; i < NSIG; i++) {
        unlinkat(qfd, sig_kind[i], 0);
        if (!s->sig[i])
            continue;
        uint8_t *buf = NULL;
        size_t len = 0;
        vs_error e2 = VS_ERROR_INIT;
        st = vs_fetch_to_memory(ctx, s->sig[i], sig_max[i], &o->fetch, &buf, &len, &e2);
        if (st) {
            if (sig_required(i, require, o->checksums_url != NULL)) {
                *err = e2;
                return st;
            }
            vs_log(ctx, VS_LOG_INFO, "%s (not required; going on without it)", e2.message);
            continue;
        }
        st = vs_write_file_atomic(qfd, sig_kind[i], buf, len, 0600, err);
        free(buf);
        if (st)
            return st;
        a->have[i] = true;
    }
    char id[VS_SHA256_HEX], sb[VS_MAX_URL + 1], sigsb[NSIG][VS_MAX_URL + 1];
    sha_hex_of(shown(sb, s->pkg), id); /* no password hashed onto disk */
    snprintf(a->pkgname, sizeof a->pkgname, "pkg-%.16s", id);
    st = vs_fetch_to_file(ctx, s->pkg, qfd, a->pkgname, &o->fetch, &a->res, err);
    if (st)
        return st;

    char pkgpath[4096], sigpath[NSIG][4096];
    snprintf(pkgpath, sizeof pkgpath, "%s/%s", qpath, a->pkgname);
    for (int i = 0; i < NSIG; i++)
        snprintf(sigpath[i], sizeof sigpath[i], "%s/%s", qpath, sig_kind[i]);
    vs_verify_opts vo = VS_VERIFY_OPTS_INIT;
    vo.gpg_sig = a->have[SIG_GPG] ? sigpath[SIG_GPG] : NULL;
    vo.checksums = a->have[SIG_CHECKSUMS] ? sigpath[SIG_CHECKSUMS] : NULL;
    vo.checksums_sig = a->have[SIG_CHECKSUMS] && a->have[SIG_CHECKSUMS_SIG]
                           ? sigpath[SIG_CHECKSUMS_SIG]
                           : NULL;
    if (vo.checksums && !vo.checksums_sig)
        vo.checksums = NULL; /* an unsigned list proves nothing */
    vo.rsa_sig = a->have[SIG_RSA] ? sigpath[SIG_RSA] : NULL;
    vo.require = require;
    vo.max_sig_age_days = o->max_sig_age_days;
    vo.package_name = filename;
    vo.known_sha256 = a->res.sha256;
    vs_error e2 = VS_ERROR_INIT;
    st = vs_verify_package(ctx, pkgpath, &vo, &a->verdict, &e2);
    if (st == VS_OK && (!a->verdict || !a->verdict->trusted))
        st = vs_error_set(&e2, VS_E_VERIFY, "%s: not trusted", sb);
    if (st) {
        /* the bytes are complete but untrusted: never resume from them */
        unlinkat(qfd, a->pkgname, 0);
        /* name the URLs, not the quarantine files */
        bool named = false;
        for (int i = -1; i < NSIG; i++) {
            const char *from = i < 0 ? pkgpath : sigpath[i];
            const char *to = i < 0 ? sb : s->sig[i] ? shown(sigsb[i], s->sig[i]) : NULL;
            if (!to)
                continue;
            replace_in(e2.message, sizeof e2.message, from, to);
            if (a->verdict) {
                replace_in(a->verdict->package, sizeof a->verdict->package, from, to);
                for (size_t k = 0; k < a->verdict->nsigs; k++)
                    replace_in(a->verdict->sigs[k].file, sizeof a->verdict->sigs[k].file, from,
                               to);
            }
            named = named || strstr(e2.message, to) != NULL;
        }
        if (!named) {
            char msg[VS_ERROR_MSG_MAX * 6];
            snprintf(msg, sizeof msg, "%s: %s", sb, e2.message);
            size_t n = strnlen(msg, sizeof e2.message - 1);
            memcpy(e2.message, msg, n);
            e2.message[n] = '\0';
        }
        *err = e2;
        return st;
    }
    return VS_OK;
}

/* Move the trusted files into the object store and write the ref. Caller
 * holds the exclusive cache lock. */
/* The same bytes under another VERSION of the same NAME: a detached
 * signature covers the bytes, not the version in the file name, so an old
 * signed release served under a newer name must not become that version.
 * (The same bytes under another name are allowed: that is a rename by the
 * user, not a replay.) Caller holds the lock. */
struct replay_check {
    const char *name, *version, *sha256, *url;
};

static vs_status replay_one(vs_ctx *ctx, const char *name, const char *version, const char *file,
                            void *arg, vs_error *err)
{
    (void)file;
    const struct replay_check *rc = arg;
    if (!version || strcmp(name, rc->name) != 0 || strcmp(version, rc->version) == 0)
        return VS_OK;
    vs_cache_entry *other = malloc(sizeof *other);
    if (!other)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    vs_status st = VS_OK;
    if (vs_cache_ref_read(ctx, name, version, other, NULL) == VS_OK &&
        strcmp(other->sha256, rc->sha256) == 0)
        st = vs_error_set(err, VS_E_POLICY,
                          "%s: this package (sha256 %s) is already in the cache as %s@%s; a "
                          "signed package cannot become %s@%s (replay refused)",
                          rc->url, rc->sha256, name, version, rc->name, rc->version);
    free(other);
    return st;
}

static vs_status admit(vs_ctx *ctx, const source *s, int qfd, const attempt *a,
                       const char *name, const char *version, const char *filename,
                       unsigned require, vs_cache_entry *e, vs_error *err)
{
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->version, sizeof e->version, "%s", version);
    snprintf(e->filename, sizeof e->filename, "%s", filename);
    vs_url_redact(e->url, sizeof e->url, s->pkg);
    e->size = a->res.size;
    e->require = require;
    e->verified = (int64_t)time(NULL);
    snprintf(e->tool, sizeof e->tool, "vetstage %s", vs_version());
    vs_status st = vs_cache_object_put_file(ctx, qfd, a->pkgname, a->res.sha256, e->sha256, err);
    for (int i = 0; !st && i < NSIG; i++) {
        if (!a->have[i])
            continue;
        vs_cache_sig *sig = &e->sigs[e->nsigs++];
        snprintf(sig->kind, sizeof sig->kind, "%s", sig_kind[i]);
        const char *fn = vs_basename(s->sig[i]);
        size_t n = strcspn(fn, "?#");
        snprintf(sig->filename, sizeof sig->filename, "%.*s", (int)n, fn);
        if (!sig->filename[0] || !strcmp(sig->filename, ".") || !strcmp(sig->filename, ".."))
            snprintf(sig->filename, sizeof sig->filename, "%s", sig_kind[i]);
        vs_url_redact(sig->url, sizeof sig->url, s->sig[i]);
        st = vs_cache_object_put_file(ctx, qfd, sig_kind[i], NULL, sig->sha256, err);
    }
    if (st)
        return st;
    for (size_t i = 0; a->verdict && i < a->verdict->nsigs; i++) {
        const vs_sig_result *r = &a->verdict->sigs[i];
        if (r->valid && r->kind == VS_SIG_GPG && r->created > e->signed_at)
            e->signed_at = r->created;
        if (!r->valid || !r->fingerprint[0] || e->nsigners >= VS_CACHE_MAX_SIGNERS)
            continue;
        bool dup = false;
        for (size_t k = 0; k < e->nsigners; k++)
            dup = dup || strcmp(e->signers[k], r->fingerprint) == 0;
        if (!dup)
            snprintf(e->signers[e->nsigners++], VS_FPR_MAX, "%s", r->fingerprint);
    }
    return vs_cache_ref_write(ctx, e, err);
}

/* Cheap check that an entry's objects are there (the package with its
 * recorded size). An entry whose objects went missing is fetched again and
 * its ref rewritten; fsck finds subtler damage by re-hashing. */
static bool entry_present(vs_ctx *ctx, const vs_cache_entry *e)
{
    struct stat sb;
    for (size_t i = 0; i <= e->nsigs && i <= VS_CACHE_MAX_SIGS; i++) {
        const char *id = i == 0 ? e->sha256 : e->sigs[i - 1].sha256;
        int fd;
        if (vs_cache_object_open(ctx, id, &fd, &sb, NULL) != VS_OK)
            return false;
        close(fd);
        if (i == 0 && (uint64_t)sb.st_size != e->size)
            return false;
    }
    return true;
}

vs_status vs_cache_fetch(vs_ctx *ctx, const vs_cache_fetch_opts *opts, vs_cache_entry *out,
                         bool *already, vs_verdict **verdict, vs_error *err)
{
    if (already)
        *already = false;
    if (verdict)
        *verdict = NULL;
    if (out)
        memset(out, 0, sizeof *out);
    if (!opts || !opts->url || !*opts->url)
        return vs_error_set(err, VS_E_USAGE, "fetch: no URL given");
    char sb[VS_MAX_URL + 1];
    if (opts->checksums_url && opts->gpg_sig_url)
        return vs_error_set(err, VS_E_USAGE,
                            "%s: give either a detached signature URL or a checksum list URL",
                            shown(sb, opts->url));
    if (opts->nmirrors > VS_CACHE_MAX_MIRRORS || (opts->nmirrors && !opts->mirrors))
        return vs_error_set(err, VS_E_USAGE, "%s: more than %d mirrors", shown(sb, opts->url),
                            VS_CACHE_MAX_MIRRORS);
    /* every URL is checked before any byte moves: a bad byte in a signature
     * URL or a mirror must not surface after the package was downloaded */
    const char *urls[] = { opts->url, opts->gpg_sig_url, opts->checksums_url, opts->rsa_sig_url };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        if (urls[i] && vs_fetch_url_check(urls[i], err) != VS_OK)
            return VS_E_USAGE;
    for (size_t i = 0; i < opts->nmirrors; i++)
        if (vs_fetch_url_check(opts->mirrors[i], err) != VS_OK)
            return VS_E_USAGE;
    unsigned require = opts->require ? opts->require : VS_REQUIRE_BOTH;
    if (require & ~VS_REQUIRE_BOTH)
        return vs_error_set(err, VS_E_USAGE, "fetch: bad --require mask");
    char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1], filename[256];
    vs_status st = VS_OK;
    if (!opts->name || !opts->version) {
        st = vs_fetch_name_version_for(opts->url, opts->name, name, version, err);
        if (st)
            return st;
    }
    if (opts->name)
        snprintf(name, sizeof name, "%s", opts->name);
    if (opts->version)
        snprintf(version, sizeof version, "%s", opts->version);
    if (!vs_valid_name(name) || (opts->name && strlen(opts->name) > VS_MAX_NAME))
        return vs_error_set(err, VS_E_USAGE, "%s: invalid package name",
                            opts->name ? opts->name : name);
    if (!vs_valid_version(version) || (opts->version && strlen(opts->version) > VS_MAX_VERSION))
        return vs_error_set(err, VS_E_USAGE, "%s: invalid version",
                            opts->version ? opts->version : version);
    if ((st = url_filename(opts->url, filename, err)))
        return st;

    vs_cache_entry *e = malloc(sizeof *e);
    if (!e)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    /* the second run is instant: an admitted ref is never downloaded again */
    char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
    snprintf(ref, sizeof ref, "%s@%s", name, version);
    if (vs_cache_ref_exists(ctx, name, version) && vs_cache_lookup(ctx, ref, e, NULL) == VS_OK &&
        entry_present(ctx, e)) {
        if (out)
            *out = *e;
        if (already)
            *already = true;
        free(e);
        return VS_OK;
    }
    /* the cache's own directories, and refs/NAME if there, are checked
     * before any download: a link there is refused, not followed */
    int rdfd = -1;
    vs_error re = VS_ERROR_INIT;
    if ((st = vs_cache_mkdirs(ctx, err)) ||
        ((st = vs_cache_ref_dir(ctx, name, false, &rdfd, &re)) &&
         !(st == VS_E_USAGE && re.detail == VS_DETAIL_NOT_FOUND))) {
        if (err && re.status)
            *err = re;
        free(e);
        return st;
    }
    if (rdfd >= 0)
        close(rdfd);
    st = VS_OK;
    char qid[VS_SHA256_HEX];
    sha_hex_of(shown(sb, opts->url), qid); /* no password hashed onto disk */
    int qroot, qfd;
    if ((st = quarantine_lock(ctx, qid, &qroot, &qfd, err))) {
        free(e);
        return st;
    }
    /* another process may have admitted it while we waited for the lock */
    if (vs_cache_ref_exists(ctx, name, version) && vs_cache_lookup(ctx, ref, e, NULL) == VS_OK &&
        entry_present(ctx, e)) {
        quarantine_release(qroot, qfd, qid, false);
        if (out)
            *out = *e;
        if (already)
            *already = true;
        free(e);
        return VS_OK;
    }
    char qpath[2048];
    snprintf(qpath, sizeof qpath, "%s/%s/%s", ctx->home, VS_CACHE_QUARANTINE, qid);

    source prim;
    if ((st = primary_source(opts, &prim, err))) {
        quarantine_release(qroot, qfd, qid, true);
        free(e);
        return st;
    }
    size_t nsrc = 1 + opts->nmirrors;
    vs_error first = VS_ERROR_INIT;
    vs_verdict *first_verdict = NULL;
    attempt a;
    memset(&a, 0, sizeof a);
    bool trusted = false;
    source cur = { 0 };
    for (size_t i = 0; i < nsrc && !trusted; i++) {
        vs_error e2 = VS_ERROR_INIT;
        if (i == 0) {
            cur = prim;
            memset(&prim, 0, sizeof prim);
            st = VS_OK;
        } else {
            source p0;
            if (primary_source(opts, &p0, &e2) == VS_OK) {
                st = mirror_source(&p0, opts->mirrors[i - 1], &cur, &e2);
                source_free(&p0);
            } else {
                st = e2.status;
            }
        }
        if (!st)
            st = try_source(ctx, opts, require, &cur, qfd, qpath, filename, &a, &e2);
        if ((st == VS_E_VERIFY || st == VS_E_POLICY) && a.res.resumed_from > 0) {
            /* the kept partial may predate a change on the server: the
             * untrusted file is gone now, so try once more from byte 0 */
            vs_log(ctx, VS_LOG_INFO, "%s; downloading %s again from the start", e2.message,
                   shown(sb, cur.pkg));
            vs_verdict_free(a.verdict);
            a.verdict = NULL;
            vs_error_clear(&e2);
            st = try_source(ctx, opts, require, &cur, qfd, qpath, filename, &a, &e2);
        }
        if (st == VS_OK) {
            trusted = true;
            break;
        }
        if (i == 0) {
            first = e2;
            first_verdict = a.verdict;
            a.verdict = NULL;
        } else {
            vs_log(ctx, VS_LOG_WARN, "%s", e2.message);
            vs_verdict_free(a.verdict);
            a.verdict = NULL;
        }
        if (i + 1 < nsrc)
            vs_log(ctx, VS_LOG_INFO, "%s; trying mirror %s", e2.message,
                   shown(sb, opts->mirrors[i]));
        source_free(&cur);
    }
    if (!trusted) {
        quarantine_release(qroot, qfd, qid, true);
        if (err)
            *err = first;
        if (verdict)
            *verdict = first_verdict;
        else
            vs_verdict_free(first_verdict);
        free(e);
        return first.status ? first.status : VS_E_INTERNAL;
    }
    vs_verdict_free(first_verdict);

    int lk;
    st = vs_cache_lock(ctx, LOCK_EX, &lk, err);
    if (!st) {
        if (vs_cache_ref_exists(ctx, name, version) &&
            vs_cache_ref_read(ctx, name, version, e, NULL) == VS_OK && entry_present(ctx, e)) {
            if (already)
                *already = true; /* admitted meanwhile by a fetch of another URL */
        } else {
            char hex[VS_SHA256_HEX];
            vs_hex(hex, a.res.sha256, VS_SHA256_LEN);
            struct replay_check rc = { name, version, hex, shown(sb, cur.pkg) };
            st = vs_cache_each_ref(ctx, replay_one, &rc, err);
            if (!st)
                st = admit(ctx, &cur, qfd, &a, name, version, filename, require, e, err);
        }
        vs_cache_unlock(lk);
    }
    quarantine_release(qroot, qfd, qid, false);
    source_free(&cur);
    if (st) {
        vs_verdict_free(a.verdict);
        free(e);
        return st;
    }
    if (out)
        *out = *e;
    if (verdict)
        *verdict = a.verdict;
    else
        vs_verdict_free(a.verdict);
    free(e);
    return VS_OK;
}

/* ---- re-verification ---------------------------------------------------- */

vs_status vs_cache_reverify(vs_ctx *ctx, const vs_cache_entry *e, vs_verdict **verdict,
                            vs_error *err)
{
    if (verdict)
        *verdict = NULL;
    if (!e || !vs_cache_valid_hex(e->sha256) || e->nsigs > VS_CACHE_MAX_SIGS)
        return vs_error_set(err, VS_E_USAGE, "reverify: not a cache entry");
    int lk;
    vs_status st = vs_cache_lock(ctx, LOCK_SH, &lk, err);
    if (st)
        return st;
    char *pkg = vs_cache_object_path(ctx, e->sha256);
    char *sigp[VS_CACHE_MAX_SIGS] = { NULL };
    vs_verify_opts vo = VS_VERIFY_OPTS_INIT;
    uint8_t digest[VS_SHA256_LEN];
    uint64_t size = 0;
    vs_error e2 = VS_ERROR_INIT;
    if (!pkg) {
        st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
        goto out;
    }
    /* a link in the object store is a refusal of its own, not an altered package */
    char odir[64];
    int ofd;
    snprintf(odir, sizeof odir, "%s/%.2s", VS_CACHE_OBJECTS, e->sha256);
    st = vs_home_dir(ctx, odir, 0, &ofd, &e2);
    if (st == VS_OK)
        close(ofd);
    else if (!(st == VS_E_USAGE && e2.detail == VS_DETAIL_NOT_FOUND)) {
        if (err)
            *err = e2;
        goto out;
    }
    st = VS_OK;
    vs_error_clear(&e2);
    if (vs_cache_object_check(ctx, e->sha256, &size, &e2) != VS_OK || size != e->size) {
        st = vs_error_set(err, VS_E_VERIFY, "%s: cache object of %s@%s altered or missing (%s)",
                          pkg, e->name, e->version,
                          e2.message[0] ? e2.message : "size differs from the ref");
        goto out;
    }
    vs_unhex(digest, sizeof digest, e->sha256, 64);
    for (size_t i = 0; i < e->nsigs; i++) {
        sigp[i] = vs_cache_object_path(ctx, e->sigs[i].sha256);
        if (!sigp[i]) {
            st = vs_error_set(err, VS_E_VERIFY, "%s@%s: bad %s object id", e->name, e->version,
                              e->sigs[i].kind);
            goto out;
        }
        vs_error_clear(&e2);
        if (vs_cache_object_check(ctx, e->sigs[i].sha256, NULL, &e2) != VS_OK) {
            st = vs_error_set(err, VS_E_VERIFY, "%s: cache object (%s of %s@%s) altered or missing",
                              sigp[i], e->sigs[i].kind, e->name, e->version);
            goto out;
        }
        const char *k = e->sigs[i].kind;
        if (!strcmp(k, "gpg-sig"))
            vo.gpg_sig = sigp[i];
        else if (!strcmp(k, "checksums"))
            vo.checksums = sigp[i];
        else if (!strcmp(k, "checksums-sig"))
            vo.checksums_sig = sigp[i];
        else if (!strcmp(k, "rsa-sig"))
            vo.rsa_sig = sigp[i];
    }
    if (vo.checksums && !vo.checksums_sig)
        vo.checksums = NULL;
    vo.require = e->require ? e->require : VS_REQUIRE_BOTH;
    vo.package_name = e->filename;
    vo.known_sha256 = digest;
    st = vs_verify_package(ctx, pkg, &vo, verdict, err);
out:
    vs_cache_unlock(lk);
    free(pkg);
    for (size_t i = 0; i < VS_CACHE_MAX_SIGS; i++)
        free(sigp[i]);
    return st;
}
