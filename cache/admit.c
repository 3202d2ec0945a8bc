/*
 * cache/admit.c - URL -> quarantine -> verify -> NAME@VERSION, and the
 * re-verification of a cached entry.
 *
 * vs_cache_fetch is a list of phases over one job, with one cleanup exit:
 *   resolve     options, NAME/VERSION, file name and key binding checked;
 *               the policy checked against the store; the cache's own
 *               directories checked - all before the network
 *   reuse       an admitted ref (same key binding, objects present) is the
 *               answer, reported only now that the arguments were checked
 *   quarantine  cache/quarantine/<sha256(url)>/ locked (then reuse again: a
 *               concurrent fetch may have admitted it meanwhile)
 *   try         the URL, then each mirror: the package's response first (so
 *               a missing package is named by its own URL, not by a
 *               signature's); on its first body byte the signature-side
 *               files (a required one missing stops the download there),
 *               then gpg starts on the package's signature and reads the
 *               package as it arrives; then the verdict
 *   admit       under the exclusive lock: the replay rule, objects, the ref
 */
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
#include "fetch/fetch_int.h"   /* vs_fetch_to_file_tee: gpg reads the package as it arrives */
#include "verify/verify_int.h" /* vs_fpr_normalize, vs_pgp_sig_unmeetable: one owner each */

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

/* Everything one vs_cache_fetch holds; job_free releases it all. */
typedef struct job {
    vs_ctx *ctx;
    const vs_cache_fetch_opts *o;
    unsigned require;
    char name[VS_MAX_NAME + 1];
    char version[VS_MAX_VERSION + 1];
    char filename[256];
    char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
    char keys[VS_CACHE_MAX_KEYS][VS_FPR_MAX]; /* the binding, normalised */
    const char *keyp[VS_CACHE_MAX_KEYS];
    size_t nkeys;
    /* the quarantine */
    char qid[VS_SHA256_HEX];
    int qroot, qfd;
    bool keep_partials; /* a failed download may be resumed by the next fetch */
    /* the source being tried, and what it gave */
    source cur;
    bool have[NSIG];
    bool list_clearsigned; /* the checksum list is a clearsigned message */
    char pkgname[32];
    char *pkgpath, *sigpath[NSIG]; /* absolute quarantine paths (verify takes paths) */
    vs_fetch_result res;
    uint8_t *gpgsig; /* the package's detached signature, as fetched */
    size_t gpgsig_len;
    vs_gpg_stream *stream; /* gpg over the package while it arrives */
    vs_verdict *verdict;
    vs_verdict *first_verdict; /* the first source's, when every source failed */
    /* the result */
    vs_cache_entry *e;
    bool hit;
} job;

static void source_free(source *s)
{
    free(s->pkg);
    for (int i = 0; i < NSIG; i++)
        free(s->sig[i]);
    memset(s, 0, sizeof *s);
}

static void paths_free(job *j)
{
    free(j->pkgpath);
    j->pkgpath = NULL;
    for (int i = 0; i < NSIG; i++) {
        free(j->sigpath[i]);
        j->sigpath[i] = NULL;
    }
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
        char sb[VS_MAX_URL + 1];
        source_free(s);
        return vs_error_subj(err, VS_E_INTERNAL, shown(sb, o->url), "out of memory");
    }
    return VS_OK;
}

/* Source number i: 0 the URL itself, then the mirrors in order. */
static vs_status make_source(const vs_cache_fetch_opts *o, size_t i, source *s, vs_error *err)
{
    vs_status st = primary_source(o, s, err);
    if (st || i == 0)
        return st;
    source p = *s;
    const char *base = o->mirrors[i - 1];
    memset(s, 0, sizeof *s);
    s->pkg = vs_fetch_mirror_url(base, p.pkg);
    bool bad = !s->pkg;
    for (int k = 0; k < NSIG; k++) {
        if (!p.sig[k])
            continue;
        s->sig[k] = vs_fetch_mirror_url(base, p.sig[k]);
        bad = bad || !s->sig[k];
    }
    if (bad) {
        char b1[VS_MAX_URL + 1], b2[VS_MAX_URL + 1];
        st = vs_error_subj(err, VS_E_USAGE, shown(b1, base), "cannot make mirror URLs for %s",
                           shown(b2, p.pkg));
    }
    source_free(&p);
    if (st)
        source_free(s);
    return st;
}

/* The package's file name from its URL (fetch's one rule for it). */
static vs_status url_filename(const char *url, char out[256], vs_error *err)
{
    return vs_fetch_file_name(out, 256, url, err);
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

/* ---- resolve -------------------------------------------------------------------- */

static vs_status resolve_names(job *j, vs_error *err)
{
    const vs_cache_fetch_opts *o = j->o;
    vs_status st;
    if (!o->name || !o->version) {
        st = vs_fetch_name_version_for(j->name, j->version, o->url, o->name, err);
        if (st)
            return st;
    }
    if (o->name)
        snprintf(j->name, sizeof j->name, "%s", o->name);
    if (o->version)
        snprintf(j->version, sizeof j->version, "%s", o->version);
    if (!vs_valid_name(j->name) || (o->name && strlen(o->name) > VS_MAX_NAME))
        return vs_error_subj(err, VS_E_USAGE, o->name ? o->name : j->name,
                             "invalid package name");
    if (!vs_valid_version(j->version) || (o->version && strlen(o->version) > VS_MAX_VERSION))
        return vs_error_subj(err, VS_E_USAGE, o->version ? o->version : j->version,
                             "invalid version");
    snprintf(j->ref, sizeof j->ref, "%s@%s", j->name, j->version);
    return url_filename(o->url, j->filename, err);
}

/* The key binding, normalised and without duplicates. */
static vs_status resolve_keys(job *j, vs_error *err)
{
    const vs_cache_fetch_opts *o = j->o;
    if (o->nkeys && !o->keys)
        return vs_error_subj(err, VS_E_USAGE, j->ref, "key binding without keys");
    for (size_t i = 0; i < o->nkeys; i++) {
        char norm[VS_FPR_MAX];
        if (!o->keys[i] || !vs_fpr_normalize(o->keys[i], norm))
            return vs_error_subj(err, VS_E_USAGE, o->keys[i] ? o->keys[i] : "",
                                 "not a fingerprint (40 hex digits for OpenPGP, sha256: and 64 "
                                 "hex digits for RSA)");
        bool dup = false;
        for (size_t k = 0; k < j->nkeys; k++)
            dup = dup || strcmp(j->keys[k], norm) == 0;
        if (dup)
            continue;
        if (j->nkeys == VS_CACHE_MAX_KEYS)
            return vs_error_subj(err, VS_E_USAGE, j->ref, "more than %d keys bound to one source",
                                 VS_CACHE_MAX_KEYS);
        memcpy(j->keys[j->nkeys], norm, sizeof norm);
        j->keyp[j->nkeys] = j->keys[j->nkeys];
        j->nkeys++;
    }
    return VS_OK;
}

/* The cache's directories, and refs/NAME when there: a link is refused
 * here, before any download, not when the ref is written. */
static vs_status check_cache_dirs(job *j, vs_error *err)
{
    vs_status st = vs_cache_mkdirs(j->ctx, err);
    if (st)
        return st;
    int fd;
    vs_error e2 = VS_ERROR_INIT;
    st = vs_cache_ref_dir(j->ctx, j->name, false, &fd, &e2);
    if (st == VS_OK)
        close(fd);
    else if (st == VS_E_USAGE && e2.detail == VS_DETAIL_NOT_FOUND)
        st = VS_OK;
    else if (err)
        *err = e2;
    return st;
}

static vs_status resolve(job *j, vs_error *err)
{
    const vs_cache_fetch_opts *o = j->o;
    if (o && (VS_CHECK_OPTS(o, vs_cache_fetch_opts, CACHE_FETCH_OPTS, err) ||
              VS_CHECK_OPTS(&o->fetch, vs_fetch_opts, FETCH_OPTS, err)))
        return VS_E_USAGE;
    if (!o || !o->url || !*o->url)
        return vs_error_subj(err, VS_E_USAGE, "fetch", "no URL given");
    char sb[VS_MAX_URL + 1];
    if (o->checksums_url && o->gpg_sig_url)
        return vs_error_subj(err, VS_E_USAGE, shown(sb, o->url),
                             "give either a detached signature URL or a checksum list URL");
    if (o->nmirrors > VS_CACHE_MAX_MIRRORS || (o->nmirrors && !o->mirrors))
        return vs_error_subj(err, VS_E_USAGE, shown(sb, o->url), "more than %d mirrors",
                             VS_CACHE_MAX_MIRRORS);
    /* every URL is checked before any byte moves: a bad byte in a signature
     * URL or a mirror must not surface after the package was downloaded */
    const char *urls[] = { o->url, o->gpg_sig_url, o->checksums_url, o->rsa_sig_url };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        if (urls[i] && vs_fetch_url_check(urls[i], err) != VS_OK)
            return VS_E_USAGE;
    for (size_t i = 0; i < o->nmirrors; i++)
        if (vs_fetch_url_check(o->mirrors[i], err) != VS_OK)
            return VS_E_USAGE;
    j->require = o->require ? o->require : VS_REQUIRE_BOTH;
    if (j->require & ~(unsigned)VS_REQUIRE_BOTH)
        return vs_error_subj(err, VS_E_USAGE, shown(sb, o->url), "bad --require mask");
    vs_status st = resolve_names(j, err);
    if (!st)
        st = resolve_keys(j, err);
    /* a policy the store cannot meet is said before anything is downloaded,
     * naming the package it was asked for */
    vs_error pe = VS_ERROR_INIT;
    if (!st &&
        (st = vs_verify_policy_check(j->ctx, j->require, j->nkeys ? j->keyp : NULL, j->nkeys,
                                     &pe))) {
        vs_error_subj(err, st, j->ref, "%s", pe.message);
        if (pe.hint[0])
            vs_error_hint(err, "%s", pe.hint);
    }
    if (!st)
        st = check_cache_dirs(j, err);
    return st;
}

/* ---- reuse ------------------------------------------------------------------------ */

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

/* The entry was admitted under the key binding asked for now (a package
 * admitted unbound is not good enough for a bound source, and the other
 * way round the ref would misstate its binding). */
static bool same_binding(const job *j, const vs_cache_entry *e)
{
    if (e->nkeys != j->nkeys)
        return false;
    for (size_t i = 0; i < j->nkeys; i++) {
        bool found = false;
        for (size_t k = 0; k < e->nkeys; k++)
            found = found || strcmp(j->keys[i], e->keys[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* An admitted ref is the answer: nothing is downloaded again. `locked`:
 * the caller holds the cache lock (read the ref directly). */
static bool reuse(job *j, bool locked)
{
    int lk = -1;
    vs_status st = locked ? VS_OK : vs_cache_lock(j->ctx, LOCK_SH, &lk, NULL);
    if (!st)
        st = vs_cache_ref_read(j->ctx, j->name, j->version, j->e, NULL);
    vs_cache_unlock(lk);
    j->hit = st == VS_OK && same_binding(j, j->e) && entry_present(j->ctx, j->e);
    return j->hit;
}

/* ---- quarantine ----------------------------------------------------------------- */

/*
 * Open and lock cache/quarantine/<id>/ exclusively. A directory removed by
 * its previous holder (or by gc) while we waited is detected by comparing
 * the locked inode with the name, and we start over.
 */
static vs_status quarantine_lock(job *j, vs_error *err)
{
    vs_status st = vs_home_dir(j->ctx, VS_CACHE_QUARANTINE, VS_BENEATH_CREATE, &j->qroot, err);
    if (st)
        return st;
    char rel[sizeof VS_CACHE_QUARANTINE + VS_SHA256_HEX + 1];
    snprintf(rel, sizeof rel, "%s/%s", VS_CACHE_QUARANTINE, j->qid);
    for (int tries = 0; tries < 1000; tries++) {
        int fd;
        vs_error e2 = VS_ERROR_INIT;
        st = vs_home_dir(j->ctx, rel, VS_BENEATH_CREATE, &fd, &e2);
        if (st == VS_E_USAGE && e2.detail == VS_DETAIL_NOT_FOUND)
            continue; /* removed between mkdir and open */
        if (st) {
            if (err)
                *err = e2;
            return st;
        }
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
            ;
        struct stat a, b;
        if (fstat(fd, &a) == 0 && fstatat(j->qroot, j->qid, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            j->qfd = fd;
            return VS_OK;
        }
        close(fd); /* removed while we waited: take the new one */
    }
    return vs_error_subj(err, VS_E_INTERNAL, rel, "cannot lock the quarantine");
}

/* Done with the quarantine: remove it whole, or keep only resumable partial
 * package files (names starting with "pkg-") and drop it if empty. */
static void quarantine_release(job *j)
{
    if (j->qfd >= 0) {
        if (!j->keep_partials) {
            vs_remove_tree(j->qroot, j->qid, NULL);
        } else {
            for (int i = 0; i < NSIG; i++)
                unlinkat(j->qfd, sig_kind[i], 0);
            unlinkat(j->qroot, j->qid, AT_REMOVEDIR); /* only succeeds when nothing is left */
        }
        vs_fsync_dir(j->qroot, NULL, NULL);
        close(j->qfd);
    }
    if (j->qroot >= 0)
        close(j->qroot);
    j->qfd = j->qroot = -1;
}

/* ---- try: one source -------------------------------------------------------------- */

static bool sig_required(int i, unsigned require, bool checksums_mode)
{
    if (i == SIG_RSA)
        return require & VS_REQUIRE_RSA;
    if (!(require & VS_REQUIRE_GPG))
        return false;
    return checksums_mode ? i != SIG_GPG : i == SIG_GPG;
}

/* A signature-side file the verdict cannot do without (a clearsigned list
 * carries its signature: then no LIST.asc is needed). */
static bool sig_needed(const job *j, int i)
{
    return sig_required(i, j->require, j->o->checksums_url != NULL) &&
           !(i == SIG_CHECKSUMS_SIG && j->list_clearsigned);
}

/*
 * Judge file i of the batch, once every file before it was judged: true
 * (the reason in *why) when it already rules the source out - a needed
 * file that could not be fetched.
 */
static bool sig_dooms(job *j, int i, vs_fetch_item *it, vs_error *why)
{
    if (it->st == VS_OK && i == SIG_CHECKSUMS)
        j->list_clearsigned = vs_clearsign_present(it->data, it->len);
    if (!sig_needed(j, i))
        return false;
    if (it->st) {
        *why = it->err;
        return true;
    }
    char sb[VS_MAX_URL + 1];
    if (i == SIG_GPG || i == SIG_CHECKSUMS_SIG)
        return vs_pgp_sig_unmeetable(j->ctx, it->data, it->len, j->nkeys ? j->keyp : NULL,
                                     j->nkeys, shown(sb, j->cur.sig[i]), why) != VS_OK;
    return false;
}

/* A fetched file into the quarantine; the package's detached signature is
 * also kept for gpg while the package arrives. */
static vs_status sig_keep(job *j, int i, vs_fetch_item *it, vs_error *err)
{
    vs_status st = vs_write_file_atomic(j->qfd, sig_kind[i], it->data, it->len, 0600, err);
    if (!st)
        j->have[i] = true;
    if (!st && i == SIG_GPG) {
        j->gpgsig = it->data;
        j->gpgsig_len = it->len;
        it->data = NULL;
    }
    return st;
}

/* Wait for the batch, judging its files in order as they arrive: the
 * first that rules the source out cancels the rest. *doom: its index or -1. */
static void sigs_judge(job *j, vs_fetch_batch *b, vs_fetch_item *items, int *doom, vs_error *why)
{
    bool settled[NSIG] = { false };
    int upto = 0; /* files before it are judged */
    *doom = -1;
    for (size_t k; *doom < 0 && (k = vs_fetch_batch_next(b)) < NSIG;) {
        settled[k] = true;
        for (; upto < NSIG && *doom < 0 && (!items[upto].url || settled[upto]); upto++)
            if (items[upto].url && sig_dooms(j, upto, &items[upto], why))
                *doom = upto;
    }
    vs_fetch_batch_stop(b);
}

/*
 * The signature-side files of this try, all at once (vs_fetch_batch), each
 * with its own cap, by the package's deadline. Judged in the fixed order
 * (package's .asc, list, list's .asc, .sig), so the answer, the logs and
 * the error named are those of fetching them one after another: a needed
 * file that cannot be had fails the source, naming its URL; another is
 * logged and left out.
 */
static vs_status fetch_sigs(job *j, uint64_t deadline, vs_error *err)
{
    vs_fetch_item items[NSIG];
    memset(items, 0, sizeof items);
    for (int i = 0; i < NSIG; i++) {
        unlinkat(j->qfd, sig_kind[i], 0);
        items[i].url = j->cur.sig[i];
        items[i].max = sig_max[i];
    }
    vs_fetch_batch *b;
    vs_status st = vs_fetch_batch_start(&b, j->ctx, items, NSIG, &j->o->fetch, deadline, err);
    if (st)
        return st;
    int doom;
    vs_error why = VS_ERROR_INIT;
    sigs_judge(j, b, items, &doom, &why);
    for (int i = 0; i < NSIG && (doom < 0 || i <= doom); i++) {
        if (!items[i].url)
            continue;
        vs_fetch_batch_replay(b, (size_t)i);
        if (i == doom)
            break;
        if (items[i].st != VS_OK)
            vs_log(j->ctx, VS_LOG_INFO, "%s (not required; going on without it)",
                   items[i].err.message);
        else if (!st)
            st = sig_keep(j, i, &items[i], err);
    }
    vs_fetch_batch_free(b);
    for (int i = 0; i < NSIG; i++)
        free(items[i].data);
    if (doom >= 0) {
        if (err)
            *err = why;
        return why.status ? why.status : VS_E_FETCH;
    }
    return st;
}

/* Drop what one try at a source holds of the signatures and gpg. */
static void sigs_drop(job *j)
{
    vs_gpg_stream_free(j->stream);
    j->stream = NULL;
    free(j->gpgsig);
    j->gpgsig = NULL;
    j->gpgsig_len = 0;
}

/*
 * The package's first body byte: it exists, so now the signature-side
 * files (a required one that cannot be had stops the download, named by
 * its URL); then gpg starts on the package's detached signature, reading
 * the package as it arrives. gpg that cannot be started here is not an
 * error: the verdict then runs gpg over the file.
 */
typedef struct pkg_tee {
    vs_fetch_tee tee;
    job *j;
} pkg_tee;

static bool on_package_begin(void *ud, uint64_t total, bool known)
{
    pkg_tee *pt = ud;
    vs_fetch_tee *tee = &pt->tee;
    job *j = pt->j;
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = fetch_sigs(j, tee->deadline_ms, &e2);
    if (st) {
        tee->st = st;
        tee->err = e2;
        return false;
    }
    if (j->have[SIG_GPG] && j->gpgsig) {
        vs_error_clear(&e2);
        if (vs_gpg_stream_start(j->ctx, j->gpgsig, j->gpgsig_len, total, known, &j->stream,
                                &e2) != VS_OK)
            vs_log(j->ctx, VS_LOG_DEBUG, "gpg while downloading: %s", e2.message);
    }
    return true;
}

static void on_package_bytes(void *ud, const void *p, size_t n)
{
    job *j = ((pkg_tee *)ud)->j;
    if (j->stream)
        vs_gpg_stream_put(j->stream, p, n);
}

static void on_package_reset(void *ud)
{
    job *j = ((pkg_tee *)ud)->j;
    if (j->stream)
        vs_gpg_stream_void(j->stream);
}

/* The package, and with its first byte the signature-side files (see
 * on_package_begin); when a required one fails, the package is dropped
 * too (the next fetch starts over). */
static vs_status fetch_files(job *j, vs_error *err)
{
    memset(j->have, 0, sizeof j->have);
    j->list_clearsigned = false;
    sigs_drop(j);
    char id[VS_SHA256_HEX], sb[VS_MAX_URL + 1];
    sha_hex_of(shown(sb, j->cur.pkg), id); /* no password hashed onto disk */
    snprintf(j->pkgname, sizeof j->pkgname, "pkg-%.16s", id);
    pkg_tee pt;
    memset(&pt, 0, sizeof pt);
    pt.tee.begin = on_package_begin;
    pt.tee.put = on_package_bytes;
    pt.tee.reset = on_package_reset;
    pt.tee.ud = &pt;
    pt.tee.no_fsync = true; /* durable once, when admitted (vs_cache_object_put_file) */
    pt.j = j;
    vs_status st = vs_fetch_to_file_tee(j->ctx, j->cur.pkg, j->qfd, j->pkgname, &j->o->fetch,
                                        &pt.tee, &j->res, err);
    if (st && pt.tee.st) /* a signature-side file stopped it: the package goes too */
        unlinkat(j->qfd, j->pkgname, 0);
    if (st)
        sigs_drop(j);
    else
        vs_gpg_stream_end(j->stream);
    return st;
}

static vs_status quarantine_paths(job *j, vs_error *err)
{
    paths_free(j);
    char rel[sizeof VS_CACHE_QUARANTINE + VS_SHA256_HEX + 1];
    snprintf(rel, sizeof rel, "%s/%s", VS_CACHE_QUARANTINE, j->qid);
    char *dir = vs_path_join(vs_ctx_home(j->ctx), rel);
    bool oom = !dir || !(j->pkgpath = vs_path_join(dir, j->pkgname));
    for (int i = 0; !oom && i < NSIG; i++)
        oom = !(j->sigpath[i] = vs_path_join(dir, sig_kind[i]));
    free(dir);
    return oom ? vs_error_subj(err, VS_E_INTERNAL, j->ref, "out of memory") : VS_OK;
}

/* The URL a quarantine path came from, NULL for any other string. */
static const char *url_of(const job *j, const char *path)
{
    if (j->pkgpath && strcmp(path, j->pkgpath) == 0)
        return j->cur.pkg;
    for (int i = 0; i < NSIG; i++)
        if (j->sigpath[i] && j->cur.sig[i] && strcmp(path, j->sigpath[i]) == 0)
            return j->cur.sig[i];
    return NULL;
}

/* Name the URLs, not the quarantine files, in the verdict's file fields:
 * the quarantine is gone when the caller reads them. */
static void relabel_verdict(job *j)
{
    vs_verdict *v = j->verdict;
    const char *url;
    if (!v)
        return;
    if ((url = url_of(j, v->package)))
        vs_url_redact(v->package, sizeof v->package, url);
    for (size_t k = 0; k < v->nsigs; k++)
        if ((url = url_of(j, v->sigs[k].file)))
            vs_url_redact(v->sigs[k].file, sizeof v->sigs[k].file, url);
}

/* The same for the error's subject (the package's URL when it has none). */
static void relabel(job *j, vs_error *e)
{
    char sb[VS_MAX_URL + 1];
    const char *url = e->subject[0] ? url_of(j, e->subject) : j->cur.pkg;
    if (url)
        vs_error_relabel(e, shown(sb, url));
}

/* The verdict on the quarantined files, with the key binding. */
static vs_status judge(job *j, vs_error *err)
{
    vs_status st = quarantine_paths(j, err);
    if (st)
        return st;
    vs_verify_opts vo = VS_VERIFY_OPTS_INIT;
    vo.gpg_sig = j->have[SIG_GPG] ? j->sigpath[SIG_GPG] : NULL;
    /* an unsigned list proves nothing; a clearsigned one is its own signature */
    bool list = j->have[SIG_CHECKSUMS] && (j->have[SIG_CHECKSUMS_SIG] || j->list_clearsigned);
    vo.checksums = list ? j->sigpath[SIG_CHECKSUMS] : NULL;
    vo.checksums_sig = list && j->have[SIG_CHECKSUMS_SIG] ? j->sigpath[SIG_CHECKSUMS_SIG] : NULL;
    vo.rsa_sig = j->have[SIG_RSA] ? j->sigpath[SIG_RSA] : NULL;
    vo.require = j->require;
    vo.max_sig_age_days = j->o->max_sig_age_days;
    vo.package_name = j->filename;
    vo.known_sha256 = j->res.sha256;
    vo.keys = j->nkeys ? j->keyp : NULL;
    vo.nkeys = j->nkeys;
    vs_error e2 = VS_ERROR_INIT;
    st = vs_verify_package_streamed(j->ctx, j->pkgpath, &vo, j->stream, &j->verdict, &e2);
    relabel_verdict(j);
    sigs_drop(j);
    char sb[VS_MAX_URL + 1];
    if (st == VS_OK && (!j->verdict || !j->verdict->trusted))
        st = vs_error_subj(&e2, VS_E_VERIFY, shown(sb, j->cur.pkg), "not trusted");
    if (st) {
        /* the bytes are complete but untrusted: never resume from them */
        unlinkat(j->qfd, j->pkgname, 0);
        relabel(j, &e2);
        if (err)
            *err = e2;
    }
    return st;
}

static vs_status try_source(job *j, vs_error *err)
{
    vs_verdict_free(j->verdict);
    j->verdict = NULL;
    memset(&j->res, 0, sizeof j->res);
    vs_status st = fetch_files(j, err);
    if (!st)
        st = judge(j, err);
    return st;
}

/* ---- try: the URL, then the mirrors ------------------------------------------------- */

static vs_status try_with_restart(job *j, vs_error *err)
{
    vs_status st = try_source(j, err);
    if ((st == VS_E_VERIFY || st == VS_E_POLICY) && j->res.resumed_from > 0) {
        /* the kept partial may predate a change on the server: the
         * untrusted file is gone now, so try once more from byte 0 */
        char sb[VS_MAX_URL + 1];
        vs_log(j->ctx, VS_LOG_INFO, "%s; downloading %s again from the start",
               err ? err->message : "not trusted", shown(sb, j->cur.pkg));
        if (err)
            vs_error_clear(err);
        st = try_source(j, err);
    }
    return st;
}

/* Every source in turn until one is trusted (j->cur, j->verdict). When all
 * fail, the first source's error and verdict are the answer (the others
 * logged) and the partial package is kept for a resume. */
static vs_status try_sources(job *j, vs_error *err)
{
    size_t nsrc = 1 + j->o->nmirrors;
    vs_error first = VS_ERROR_INIT;
    for (size_t i = 0; i < nsrc; i++) {
        vs_error e2 = VS_ERROR_INIT;
        vs_status st = make_source(j->o, i, &j->cur, &e2);
        if (!st)
            st = try_with_restart(j, &e2);
        if (st == VS_OK) {
            vs_verdict_free(j->first_verdict);
            j->first_verdict = NULL;
            return VS_OK;
        }
        if (i == 0) {
            first = e2;
            j->first_verdict = j->verdict;
            j->verdict = NULL;
        } else {
            vs_log(j->ctx, VS_LOG_WARN, "%s", e2.message);
        }
        char sb[VS_MAX_URL + 1];
        if (i + 1 < nsrc)
            vs_log(j->ctx, VS_LOG_INFO, "%s; trying mirror %s", e2.message,
                   shown(sb, j->o->mirrors[i]));
        source_free(&j->cur);
        paths_free(j);
    }
    j->keep_partials = true;
    if (err)
        *err = first;
    return first.status ? first.status : VS_E_INTERNAL;
}

/* ---- admit ------------------------------------------------------------------------- */

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
    vs_cache_entry *other = vs_cache_entry_new();
    if (!other)
        return vs_error_subj(err, VS_E_INTERNAL, rc->url, "out of memory");
    vs_status st = VS_OK;
    if (vs_cache_ref_read(ctx, name, version, other, NULL) == VS_OK &&
        strcmp(other->sha256, rc->sha256) == 0)
        st = vs_error_subj(err, VS_E_POLICY, rc->url,
                           "this package (sha256 %s) is already in the cache as %s@%s; a signed "
                           "package cannot become %s@%s (replay refused)",
                           rc->sha256, name, version, rc->name, rc->version);
    vs_cache_entry_free(other);
    return st;
}

/* What the verdict says about the signers, into the entry. */
static void record_signers(vs_cache_entry *e, const vs_verdict *v)
{
    for (size_t i = 0; v && i < v->nsigs; i++) {
        const vs_sig_result *r = &v->sigs[i];
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
}

/* A signature object's original file name, from its URL. */
static void sig_filename(vs_cache_sig *sig, const char *url, const char *kind)
{
    size_t n = 0;
    const char *fn = vs_fetch_url_filename(url, &n, NULL, NULL); /* the one URL file-name rule */
    if (n)
        snprintf(sig->filename, sizeof sig->filename, "%.*s", (int)n, fn);
    else
        snprintf(sig->filename, sizeof sig->filename, "%s", kind);
}

/* Move the trusted files into the object store and fill the entry. Caller
 * holds the exclusive cache lock. */
static vs_status store_objects(job *j, vs_error *err)
{
    vs_cache_entry *e = j->e;
    vs_cache_entry_clear(e);
    snprintf(e->name, sizeof e->name, "%s", j->name);
    snprintf(e->version, sizeof e->version, "%s", j->version);
    snprintf(e->filename, sizeof e->filename, "%s", j->filename);
    e->url = vs_cache_url_dup(j->cur.pkg); /* never a password on disk */
    e->size = j->res.size;
    e->require = j->require;
    e->verified = (int64_t)time(NULL);
    snprintf(e->tool, sizeof e->tool, "vetstage %s", vs_version());
    for (size_t i = 0; i < j->nkeys; i++)
        memcpy(e->keys[i], j->keys[i], sizeof e->keys[i]);
    e->nkeys = j->nkeys;
    vs_status st =
        e->url ? vs_cache_object_put_file(j->ctx, j->qfd, j->pkgname, j->res.sha256, e->sha256, err)
               : vs_error_subj(err, VS_E_INTERNAL, j->ref, "out of memory");
    for (int i = 0; !st && i < NSIG; i++) {
        if (!j->have[i])
            continue;
        vs_cache_sig *sig = &e->sigs[e->nsigs++];
        snprintf(sig->kind, sizeof sig->kind, "%s", sig_kind[i]);
        sig_filename(sig, j->cur.sig[i], sig_kind[i]);
        sig->url = vs_cache_url_dup(j->cur.sig[i]);
        st = !sig->url
                 ? vs_error_subj(err, VS_E_INTERNAL, j->ref, "out of memory")
                 : vs_cache_object_put_file(j->ctx, j->qfd, sig_kind[i], NULL, sig->sha256, err);
    }
    if (!st)
        record_signers(e, j->verdict);
    return st;
}

/* Under the exclusive lock: unless admitted meanwhile (by a fetch of
 * another URL), the replay rule, then objects, then the ref. */
static vs_status admit(job *j, vs_error *err)
{
    int lk;
    vs_status st = vs_cache_lock(j->ctx, LOCK_EX, &lk, err);
    if (st)
        return st;
    if (!reuse(j, true)) {
        char hex[VS_SHA256_HEX];
        vs_hex(hex, j->res.sha256, VS_SHA256_LEN);
        char sb[VS_MAX_URL + 1];
        struct replay_check rc = { j->name, j->version, hex, shown(sb, j->cur.pkg) };
        st = vs_cache_each_ref(j->ctx, replay_one, &rc, err);
        if (!st)
            st = store_objects(j, err);
        if (!st)
            st = vs_cache_ref_write(j->ctx, j->e, err);
    }
    vs_cache_unlock(lk);
    return st;
}

/* ---- the phases in order -------------------------------------------------------------- */

static vs_status job_init(job *j, vs_ctx *ctx, const vs_cache_fetch_opts *opts, vs_error *err)
{
    memset(j, 0, sizeof *j);
    j->ctx = ctx;
    j->o = opts;
    j->qroot = j->qfd = -1;
    j->e = vs_cache_entry_new();
    return j->e ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, "fetch", "out of memory");
}

static void job_free(job *j)
{
    sigs_drop(j);
    quarantine_release(j);
    source_free(&j->cur);
    paths_free(j);
    vs_verdict_free(j->verdict);
    vs_verdict_free(j->first_verdict);
    vs_cache_entry_free(j->e);
}

vs_status vs_cache_fetch(vs_cache_entry **out, bool *already, vs_verdict **verdict, vs_ctx *ctx,
                         const vs_cache_fetch_opts *opts, vs_error *err)
{
    if (already)
        *already = false;
    if (verdict)
        *verdict = NULL;
    if (out)
        *out = NULL;
    job j;
    vs_status st = job_init(&j, ctx, opts, err);
    if (!st)
        st = resolve(&j, err);
    if (!st && !reuse(&j, false)) {
        char sb[VS_MAX_URL + 1];
        sha_hex_of(shown(sb, opts->url), j.qid); /* no password hashed onto disk */
        st = quarantine_lock(&j, err);
        /* another process may have admitted it while we waited for the lock */
        if (!st && !reuse(&j, false))
            st = try_sources(&j, err);
        if (!st && !j.hit)
            st = admit(&j, err);
    }
    if (!st && out) {
        *out = j.e;
        j.e = NULL;
    }
    if (already)
        *already = !st && j.hit;
    /* the verdict of this run: the trusted one, or the first source's */
    vs_verdict **give = st ? &j.first_verdict : &j.verdict;
    if (verdict) {
        *verdict = *give;
        *give = NULL;
    }
    job_free(&j);
    return st;
}

/* ---- re-verification -------------------------------------------------------------- */

/* The package object (a link in the object store is refused as such, not
 * called an altered package) and the signature objects, re-hashed; their
 * paths into sigp and vo. */
static vs_status reverify_objects(vs_ctx *ctx, const vs_cache_entry *e, char **sigp,
                                  vs_verify_opts *vo, const char *pkg, vs_error *err)
{
    char odir[64];
    int ofd;
    vs_error e2 = VS_ERROR_INIT;
    snprintf(odir, sizeof odir, "%s/%.2s", VS_CACHE_OBJECTS, e->sha256);
    vs_status st = vs_home_dir(ctx, odir, 0, &ofd, &e2);
    if (st == VS_OK)
        close(ofd);
    else if (!(st == VS_E_USAGE && e2.detail == VS_DETAIL_NOT_FOUND)) {
        if (err)
            *err = e2;
        return st;
    }
    vs_error_clear(&e2);
    uint64_t size = 0;
    if (vs_cache_object_check(ctx, e->sha256, &size, &e2) != VS_OK || size != e->size)
        return vs_error_subj(err, VS_E_VERIFY, pkg, "cache object of %s@%s altered or missing (%s)",
                             e->name, e->version,
                             e2.message[0] ? e2.message : "size differs from the ref");
    for (size_t i = 0; i < e->nsigs; i++) {
        sigp[i] = vs_cache_object_path(ctx, e->sigs[i].sha256);
        if (!sigp[i])
            return vs_error_subj(err, VS_E_VERIFY, e->sigs[i].sha256, "%s@%s: bad %s object id",
                                 e->name, e->version, e->sigs[i].kind);
        vs_error_clear(&e2);
        if (vs_cache_object_check(ctx, e->sigs[i].sha256, NULL, &e2) != VS_OK)
            return vs_error_subj(err, VS_E_VERIFY, sigp[i],
                                 "cache object (%s of %s@%s) altered or missing",
                                 e->sigs[i].kind, e->name, e->version);
        const char *k = e->sigs[i].kind;
        if (!strcmp(k, "gpg-sig"))
            vo->gpg_sig = sigp[i];
        else if (!strcmp(k, "checksums"))
            vo->checksums = sigp[i];
        else if (!strcmp(k, "checksums-sig"))
            vo->checksums_sig = sigp[i];
        else if (!strcmp(k, "rsa-sig"))
            vo->rsa_sig = sigp[i];
    }
    /* without LIST.asc the list must be clearsigned: verify judges it (and
     * finds no signature for a plain list, so it proves nothing) */
    return VS_OK;
}

vs_status vs_cache_reverify(vs_verdict **verdict, vs_ctx *ctx, const vs_cache_entry *e,
                            vs_error *err)
{
    if (verdict)
        *verdict = NULL;
    if (!e || !vs_cache_valid_hex(e->sha256) || e->nsigs > VS_CACHE_MAX_SIGS ||
        e->nkeys > VS_CACHE_MAX_KEYS)
        return vs_error_subj(err, VS_E_USAGE, "reverify", "not a cache entry");
    int lk;
    vs_status st = vs_cache_lock(ctx, LOCK_SH, &lk, err);
    if (st)
        return st;
    char *pkg = vs_cache_object_path(ctx, e->sha256);
    char *sigp[VS_CACHE_MAX_SIGS] = { NULL };
    const char *keyp[VS_CACHE_MAX_KEYS];
    vs_verify_opts vo = VS_VERIFY_OPTS_INIT;
    uint8_t digest[VS_SHA256_LEN];
    st = pkg ? reverify_objects(ctx, e, sigp, &vo, pkg, err)
             : vs_error_subj(err, VS_E_INTERNAL, e->sha256, "out of memory");
    if (!st) {
        vs_unhex(digest, sizeof digest, e->sha256, 64);
        for (size_t i = 0; i < e->nkeys; i++)
            keyp[i] = e->keys[i];
        vo.keys = e->nkeys ? keyp : NULL; /* the binding it was admitted under */
        vo.nkeys = e->nkeys;
        vo.require = e->require ? e->require : VS_REQUIRE_BOTH;
        vo.package_name = e->filename;
        vo.known_sha256 = digest;
        st = vs_verify_package(verdict, ctx, pkg, &vo, err);
    }
    vs_cache_unlock(lk);
    free(pkg);
    for (size_t i = 0; i < VS_CACHE_MAX_SIGS; i++)
        free(sigp[i]);
    return st;
}
