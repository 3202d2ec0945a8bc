/*
 * keys/commit.c - an import's renames as one step.
 *
 * An import changes the store with several renames: each new RSA key file
 * into trust/rsa, and the scratch keyring (pubring.kbx, trustdb.gpg) over
 * trust/gnupg's. A process killed between two of them would leave half an
 * import. So the renames are first written down in HOME/trust/commit (one
 * atomic file write: the commit point), then done, then the record removed.
 * Whoever takes the store lock next and finds a record finishes it (every
 * rename whose source is still there), before the leftovers of dead imports
 * are cleaned up. Readers settle a pending record before they read.
 *
 * Record format (ours, but read as untrusted bytes since it lives in the home):
 *   vetstage-trust-commit 1
 *   rsa .tmp-<16 hex> <64 hex>.pem
 *   gnupg tmp-<12 hex>
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys_int.h"

#define COMMIT_FILE "commit"
#define COMMIT_MAGIC "vetstage-trust-commit 1"
#define COMMIT_MAX (256u * 1024u)

static bool hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* prefix + exactly nhex lower-case hex digits + suffix */
static bool our_name(const char *s, size_t n, const char *prefix, size_t nhex, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    return n == pl + nhex + sl && memcmp(s, prefix, pl) == 0 && hex_lower(s + pl, nhex) &&
           memcmp(s + pl + nhex, suffix, sl) == 0;
}

void vs_keys_commit_free(vs_keys_commit *c)
{
    free(c->rsa_tmp);
    free(c->rsa_name);
    memset(c, 0, sizeof *c);
}

static bool add_rsa(vs_keys_commit *c, const char *tmp, size_t tl, const char *name, size_t nl)
{
    char(*t)[64] = realloc(c->rsa_tmp, (c->nrsa + 1) * sizeof *t);
    if (t)
        c->rsa_tmp = t;
    char(*m)[72] = realloc(c->rsa_name, (c->nrsa + 1) * sizeof *m);
    if (m)
        c->rsa_name = m;
    if (!t || !m)
        return false;
    snprintf(c->rsa_tmp[c->nrsa], sizeof c->rsa_tmp[0], "%.*s", (int)tl, tmp);
    snprintf(c->rsa_name[c->nrsa], sizeof c->rsa_name[0], "%.*s", (int)nl, name);
    c->nrsa++;
    return true;
}

static bool parse_line(vs_keys_commit *c, const char *l, size_t n)
{
    const char *sp = memchr(l, ' ', n);
    if (n > 4 && memcmp(l, "rsa ", 4) == 0) {
        const char *a = l + 4, *b = memchr(a, ' ', n - 4);
        if (!b)
            return false;
        size_t al = (size_t)(b - a), bl = n - 4 - al - 1;
        return our_name(a, al, ".tmp-", 16, "") && our_name(b + 1, bl, "", 64, ".pem") &&
               add_rsa(c, a, al, b + 1, bl);
    }
    if (sp && sp == l + 5 && memcmp(l, "gnupg", 5) == 0 && !c->gnupg_tmp[0] &&
        our_name(l + 6, n - 6, "tmp-", 12, "")) {
        snprintf(c->gnupg_tmp, sizeof c->gnupg_tmp, "%.*s", (int)(n - 6), l + 6);
        return true;
    }
    return false;
}

vs_status vs_keys_commit_parse(const uint8_t *p, size_t len, vs_keys_commit *c, vs_error *err)
{
    memset(c, 0, sizeof *c);
    vs_cursor cur;
    vs_cursor_init(&cur, p, len);
    const char *l;
    size_t n;
    bool ok = vs_cursor_line(&cur, 64, &l, &n) && n == strlen(COMMIT_MAGIC) &&
              memcmp(l, COMMIT_MAGIC, n) == 0;
    while (ok && vs_cursor_line(&cur, 128, &l, &n))
        ok = parse_line(c, l, n);
    if (ok && !cur.bad)
        return VS_OK;
    vs_keys_commit_free(c);
    return vs_error_subj(err, VS_E_INTEGRITY, "trust/" COMMIT_FILE,
                         "damaged record of an interrupted key import");
}

static char *commit_text(const vs_keys_commit *c, size_t *len)
{
    vs_sbuf b = VS_SBUF_INIT(COMMIT_MAX);
    vs_sbuf_puts(&b, COMMIT_MAGIC "\n");
    for (size_t i = 0; i < c->nrsa; i++) {
        vs_sbuf_puts(&b, "rsa ");
        vs_sbuf_puts(&b, c->rsa_tmp[i]);
        vs_sbuf_puts(&b, " ");
        vs_sbuf_puts(&b, c->rsa_name[i]);
        vs_sbuf_puts(&b, "\n");
    }
    if (c->gnupg_tmp[0]) {
        vs_sbuf_puts(&b, "gnupg ");
        vs_sbuf_puts(&b, c->gnupg_tmp);
        vs_sbuf_puts(&b, "\n");
    }
    if (vs_sbuf_failed(&b)) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* rename, where a missing source means it was done already */
static vs_status move(int sfd, const char *sname, int dfd, const char *dname, const char *subject,
                      vs_error *err)
{
    if (renameat(sfd, sname, dfd, dname) == 0 || errno == ENOENT)
        return VS_OK;
    return vs_error_subj_errno(err, VS_E_INTERNAL, errno, subject, "rename");
}

static vs_status roll_forward(vs_ctx *ctx, const vs_keys_commit *c, vs_error *err)
{
    int rfd = -1, gfd = -1, sfd = -1;
    vs_status st = vs_home_dir(ctx, "trust/rsa", 0, &rfd, err);
    for (size_t i = 0; st == VS_OK && i < c->nrsa; i++)
        st = move(rfd, c->rsa_tmp[i], rfd, c->rsa_name[i], c->rsa_name[i], err);
    if (st == VS_OK && c->nrsa)
        st = vs_fsync_dir(rfd, "trust/rsa", err);
    if (st == VS_OK && c->gnupg_tmp[0]) {
        char rel[80];
        snprintf(rel, sizeof rel, "trust/%s", c->gnupg_tmp);
        st = vs_home_dir(ctx, "trust/gnupg", 0, &gfd, err);
        if (st == VS_OK && vs_home_dir(ctx, rel, 0, &sfd, NULL) != VS_OK)
            sfd = -1; /* gone: the whole keyring was moved and the scratch removed */
        static const char *const files[] = { "trustdb.gpg", "pubring.kbx" };
        for (size_t i = 0; st == VS_OK && sfd >= 0 && i < 2; i++)
            st = move(sfd, files[i], gfd, files[i], "trust/gnupg", err);
        if (st == VS_OK)
            st = vs_fsync_dir(gfd, "trust/gnupg", err);
    }
    if (rfd >= 0)
        close(rfd);
    if (gfd >= 0)
        close(gfd);
    if (sfd >= 0)
        close(sfd);
    return st;
}

static vs_status remove_record(vs_ctx *ctx, vs_error *err)
{
    int tfd;
    vs_status st = vs_home_dir(ctx, "trust", 0, &tfd, err);
    if (st)
        return st;
    if (unlinkat(tfd, COMMIT_FILE, 0) != 0 && errno != ENOENT)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, "trust/" COMMIT_FILE, "remove");
    if (st == VS_OK)
        st = vs_fsync_dir(tfd, "trust", err);
    close(tfd);
    return st;
}

vs_status vs_keys_commit_apply(vs_ctx *ctx, const vs_keys_commit *c, bool *recorded,
                               vs_error *err)
{
    *recorded = false;
    size_t len = 0;
    char *text = commit_text(c, &len);
    if (!text)
        return vs_error_subj(err, VS_E_INTERNAL, "trust/" COMMIT_FILE, "out of memory");
    int tfd;
    vs_status st = vs_home_dir(ctx, "trust", 0, &tfd, err);
    if (st == VS_OK) {
        st = vs_write_file_atomic(tfd, COMMIT_FILE, text, len, 0600, err);
        close(tfd);
    }
    free(text);
    *recorded = st == VS_OK;
    /* from here on the import has happened: a failure below is finished by
     * the next opening of the store */
    if (st == VS_OK)
        st = roll_forward(ctx, c, err);
    if (st == VS_OK)
        st = remove_record(ctx, err);
    return st;
}

vs_status vs_keys_commit_recover(vs_ctx *ctx, vs_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct stat sb;
    int fd;
    vs_error oe = VS_ERROR_INIT;
    vs_status st = vs_home_open(ctx, "trust/" COMMIT_FILE, O_RDONLY | O_NONBLOCK, 0, &fd, &oe);
    if (st == VS_E_USAGE && oe.detail == VS_DETAIL_NOT_FOUND)
        return VS_OK;
    if (st) {
        if (err)
            *err = oe;
        return st;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return vs_error_subj(err, VS_E_INTEGRITY, "trust/" COMMIT_FILE, "not a regular file");
    }
    st = vs_read_fd(fd, "trust/" COMMIT_FILE, COMMIT_MAX, &buf, &len, err);
    close(fd);
    vs_keys_commit c;
    if (st == VS_OK)
        st = vs_keys_commit_parse(buf, len, &c, err);
    free(buf);
    if (st)
        return st;
    vs_log(ctx, VS_LOG_WARN, "%s/trust: finishing a key import that was interrupted", ctx->home);
    st = roll_forward(ctx, &c, err);
    vs_keys_commit_free(&c);
    if (st == VS_OK)
        st = remove_record(ctx, err);
    return st;
}
