/*
 * keys/keystate.c - which keys the store holds and which are revoked,
 * without asking gpg each time.
 *
 * stage re-checks that no signer key of a package was revoked or removed
 * since admission. Asking gpg costs a gpg start-up and gpgme's first look at
 * its engines (five more programs run): some 80 ms, as long as a tenth of
 * the extraction. So the answer gpg (and the RSA store) gave is kept in
 * HOME/trust/keystate together with a stamp of the files it came from: the
 * GnuPG keyring files (gpg rewrites a keyring under a new name and renames
 * it over the old one, so every change gives it a new inode and times) and
 * the RSA key folder (every key added or removed is a rename or an unlink
 * there). The file is used only when its stamp is, byte for byte, the stamp
 * of the store as it is now; anything else (no file, another stamp, a
 * malformed line) means asking gpg again and writing the file anew. A change
 * made behind vetstage's back (gpg --homedir HOME/trust/gnupg --import
 * REVOCATION) changes the stamp, so it is seen.
 *
 * It is a cache of gpg's answer, never a second judge: whoever can write it
 * can also write the keyring it describes.
 *
 * Format (ours, read as untrusted bytes since it lives in the home):
 *   vetstage-keystate 1
 *   file gnupg/pubring.kbx DEV INO SIZE MTIME.NSEC CTIME.NSEC   (or: file NAME absent)
 *   file gnupg/pubring.gpg absent
 *   file rsa DEV INO ...
 *   key FINGERPRINT valid|revoked
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys_int.h"
#include "keys/trust.h"

#define STATE_FILE "keystate"
#define STATE_MAGIC "vetstage-keystate 1\n"
#define STATE_MAX (1024u * 1024u)
#define LINE_MAX_LEN 512

/* The files whose state the answer depends on, relative to HOME/trust. */
static const char *const stamped[] = { "gnupg/pubring.kbx", "gnupg/pubring.gpg", "rsa" };

static void put(vs_sbuf *out, const char *fmt, ...) VS_PRINTF(2, 3);
static void put(vs_sbuf *out, const char *fmt, ...)
{
    char line[LINE_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof line)
        out->toobig = true; /* never: every line is short */
    else
        vs_sbuf_add(out, line, (size_t)k);
}

static void stamp_one(int trustfd, const char *name, vs_sbuf *out)
{
    struct stat sb;
    const char *slash = strchr(name, '/');
    int dfd = trustfd;
    if (slash) { /* never through a link: the folder is opened as the home's rules say */
        char dir[32];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);
        dfd = openat(trustfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
            put(out, "file %s absent\n", name);
            return;
        }
    }
    int rc = fstatat(dfd, slash ? slash + 1 : name, &sb, AT_SYMLINK_NOFOLLOW);
    if (dfd != trustfd)
        close(dfd);
    if (rc != 0) {
        put(out, "file %s absent\n", name);
        return;
    }
    put(out,
                          "file %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 ".%09ld %" PRId64
                          ".%09ld %o\n",
                          name, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino, (uint64_t)sb.st_size,
                          (int64_t)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
                          (int64_t)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec, (unsigned)sb.st_mode);
}

/* The head of the file for the store as it is now: magic and stamps. */
static vs_status stamp_head(int trustfd, vs_sbuf *out, vs_error *err)
{
    vs_sbuf_puts(out, STATE_MAGIC);
    for (size_t i = 0; i < sizeof stamped / sizeof stamped[0]; i++)
        stamp_one(trustfd, stamped[i], out);
    return vs_sbuf_status(out, "trust/" STATE_FILE, err);
}

vs_status vs_trust_stamp(vs_ctx *ctx, vs_sbuf *out, vs_error *err)
{
    int trustfd = -1;
    vs_status st = vs_keys_store_ensure(ctx, err);
    if (!st) /* an import that died between its renames is finished first */
        st = vs_keys_settle(ctx, err);
    if (!st)
        st = vs_dir_beneath(ctx->home_fd, ctx->home, "trust", 0, &trustfd, err);
    if (!st)
        st = stamp_head(trustfd, out, err);
    if (trustfd >= 0)
        close(trustfd);
    return st;
}

static bool add_state(vs_key_state **v, size_t *n, size_t *cap, const char *fpr, bool revoked)
{
    vs_key_state *nv = vs_grow(*v, cap, *n, sizeof **v, 8);
    if (!nv)
        return false;
    *v = nv;
    memset(&(*v)[*n], 0, sizeof **v);
    snprintf((*v)[*n].fingerprint, sizeof (*v)[*n].fingerprint, "%s", fpr);
    (*v)[*n].revoked = revoked;
    (*n)++;
    return true;
}

/* One "key FINGERPRINT valid|revoked" line; false if it is not one. */
static bool key_line(const char *line, size_t len, char fpr[VS_FPR_MAX], bool *revoked)
{
    if (len < 5 || len >= LINE_MAX_LEN || memcmp(line, "key ", 4) != 0)
        return false;
    const char *f = line + 4, *sp = memchr(f, ' ', len - 4);
    if (!sp || (size_t)(sp - f) >= VS_FPR_MAX)
        return false;
    char raw[VS_FPR_MAX];
    memcpy(raw, f, (size_t)(sp - f));
    raw[sp - f] = '\0';
    size_t rest = len - (size_t)(sp + 1 - line);
    if (rest == 5 && memcmp(sp + 1, "valid", 5) == 0)
        *revoked = false;
    else if (rest == 7 && memcmp(sp + 1, "revoked", 7) == 0)
        *revoked = true;
    else
        return false;
    /* only the canonical form we write: anything else is not our file */
    if (vs_keys_fpr_normalise(raw, fpr) == 0 || strcmp(raw, fpr) != 0)
        return false;
    return true;
}

bool vs_keystate_parse(const uint8_t *p, size_t len, const char *head, size_t headlen,
                       vs_key_state **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (len > STATE_MAX || len < headlen || memcmp(p, head, headlen) != 0)
        return false;
    vs_key_state *v = NULL;
    size_t nv = 0, cap = 0;
    size_t pos = headlen;
    while (pos < len) {
        const uint8_t *nl = memchr(p + pos, '\n', len - pos);
        if (!nl) /* every line ends with a newline: a cut file is not ours */
            goto bad;
        size_t l = (size_t)(nl - (p + pos));
        char fpr[VS_FPR_MAX];
        bool revoked;
        if (!key_line((const char *)p + pos, l, fpr, &revoked) ||
            !add_state(&v, &nv, &cap, fpr, revoked))
            goto bad;
        pos += l + 1;
    }
    *out = v;
    *n = nv;
    return true;
bad:
    free(v);
    return false;
}

/* gpg's and the RSA store's answer. */
static vs_status ask_store(vs_ctx *ctx, vs_key_state **out, size_t *n, vs_error *err)
{
    vs_key_info *keys = NULL;
    size_t nkeys = 0, cap = 0;
    vs_status st = vs_keys_list(&keys, &nkeys, ctx, err);
    if (st)
        return st;
    for (size_t i = 0; i < nkeys && !st; i++)
        if (!add_state(out, n, &cap, keys[i].fingerprint, keys[i].revoked))
            st = vs_error_subj(err, VS_E_INTERNAL, "trust", "out of memory");
    vs_key_info_free(keys);
    if (st) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

/* Write the answer under the stamp taken before asking (a change that
 * lands while gpg lists makes the next stamp differ): best effort, it is a
 * cache. */
static void remember(vs_ctx *ctx, int trustfd, vs_sbuf *text, const vs_key_state *v, size_t n)
{
    vs_error e = VS_ERROR_INIT;
    for (size_t i = 0; i < n; i++)
        put(text, "key %s %s\n", v[i].fingerprint, v[i].revoked ? "revoked" : "valid");
    vs_status st = vs_sbuf_status(text, "trust/" STATE_FILE, &e);
    if (!st)
        st = vs_write_file_atomic(trustfd, STATE_FILE, text->p, text->len, 0600, &e);
    if (st)
        vs_log(ctx, VS_LOG_DEBUG, "trust/%s not written: %s", STATE_FILE, e.message);
}

/* The store's key states: from the file when its stamp is the store's now
 * (*fresh), else from gpg and the RSA store; `head` gets the stamp taken
 * before asking. */
static vs_status key_states(vs_ctx *ctx, int *trustfd, vs_sbuf *head, vs_key_state **out,
                            size_t *n, bool *fresh, vs_error *err)
{
    *out = NULL;
    *n = 0;
    *fresh = false;
    vs_status st = vs_keys_store_ensure(ctx, err);
    if (!st) /* an import that died between its renames is finished first */
        st = vs_keys_settle(ctx, err);
    if (!st)
        st = vs_dir_beneath(ctx->home_fd, ctx->home, "trust", 0, trustfd, err);
    if (!st)
        st = stamp_head(*trustfd, head, err);
    if (st)
        return st;
    uint8_t *old = NULL;
    size_t oldlen = 0;
    vs_error ignored = VS_ERROR_INIT;
    int fd = openat(*trustfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        if (vs_read_fd(fd, STATE_FILE, STATE_MAX, &old, &oldlen, &ignored) != VS_OK)
            old = NULL;
        close(fd);
    }
    *fresh = old && vs_keystate_parse(old, oldlen, head->p, head->len, out, n);
    free(old);
    if (*fresh)
        vs_log(ctx, VS_LOG_DEBUG, "trust store unchanged: %zu key state%s from trust/%s", *n,
               *n == 1 ? "" : "s", STATE_FILE);
    else
        st = ask_store(ctx, out, n, err);
    return st;
}

vs_status vs_trust_key_states(vs_key_state **out, size_t *n, vs_ctx *ctx, vs_error *err)
{
    int trustfd = -1;
    bool fresh;
    vs_sbuf head = VS_SBUF_INIT(STATE_MAX);
    vs_status st = key_states(ctx, &trustfd, &head, out, n, &fresh, err);
    vs_sbuf_free(&head);
    if (trustfd >= 0)
        close(trustfd);
    return st;
}

void vs_trust_keystate_refresh(vs_ctx *ctx)
{
    int trustfd = -1;
    bool fresh = false;
    vs_sbuf text = VS_SBUF_INIT(STATE_MAX);
    vs_key_state *v = NULL;
    size_t n = 0;
    vs_error e = VS_ERROR_INIT;
    if (key_states(ctx, &trustfd, &text, &v, &n, &fresh, &e) != VS_OK)
        vs_log(ctx, VS_LOG_DEBUG, "trust/%s not written: %s", STATE_FILE, e.message);
    else if (!fresh)
        remember(ctx, trustfd, &text, v, n);
    free(v);
    vs_sbuf_free(&text);
    if (trustfd >= 0)
        close(trustfd);
}
