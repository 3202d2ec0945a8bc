/*
 * keys/keystate.c - which keys the store holds and which are revoked,
 * without asking gpg each time.
 *
 * stage re-checks that no signer key of a package was revoked or removed
 * since admission. Asking gpg costs a gpg start-up and gpgme's first look at
 * its engines (five more programs run): some 80 ms, as long as a tenth of
 * the extraction. So gpg's answer for the OpenPGP keys is kept in
 * HOME/trust/keystate together with a stamp of the keyring files it came
 * from: the size and SHA-256 of trust/gnupg/pubring.kbx (and pubring.gpg).
 * The file is used only when its stamp is, byte for byte, the stamp of the
 * keyring as it is now: the same keyring bytes give gpg the same keys and
 * revocations, whatever the file system's timestamps or inodes do (gpg
 * rewrites a keybox in place to delete a key: same inode, same size).
 * Anything else (no file, another stamp, a malformed line, a keyring that is
 * not a plain file or too large to hash) means asking gpg again. A change
 * made behind vetstage's back (gpg --homedir HOME/trust/gnupg --import
 * REVOCATION) changes the bytes, so it is seen. The RSA keys are never
 * cached: they are read from trust/rsa each time (no program runs for
 * them), so a damaged or swapped key file is noticed as before.
 *
 * It is a cache of gpg's answer, never a second judge: whoever can write it
 * can also write the keyring it describes.
 *
 * Format (ours, read as untrusted bytes since it lives in the home):
 *   vetstage-keystate 3
 *   file pubring.kbx SIZE SHA256   (or: file NAME absent)
 *   file pubring.gpg absent
 *   key FINGERPRINT valid|revoked  (an OpenPGP key)
 *   sub FINGERPRINT PRIMARY valid|revoked  (its subkeys; revoked with it)
 */
#include <dirent.h>
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
#define STATE_MAGIC "vetstage-keystate 3\n"
/* a keyring larger than this is not hashed: gpg is asked each time */
#define KEYRING_MAX (64u * 1024u * 1024u)
#define STATE_MAX (1024u * 1024u)
#define LINE_MAX_LEN 512
/* key files in trust/rsa a stamp covers; more: the store is listed each time */
#define VS_MAX_KEYS_STAMPED 4096

/* The keyring files the answer depends on, in HOME/trust/gnupg. */
static const char *const stamped[] = { "pubring.kbx", "pubring.gpg" };

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

/* "file NAME SIZE SHA256" for one keyring file (or "absent"); false when it
 * cannot be stamped (not a plain file, a link, too large, unreadable): the
 * key states are then asked of gpg and not kept. */
static bool stamp_one(int gfd, const char *name, vs_sbuf *out)
{
    int fd = openat(gfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return false;
        put(out, "file %s absent\n", name);
        return true;
    }
    struct stat sb;
    bool ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size <= KEYRING_MAX;
    vs_sha256 h;
    bool hashing = ok && vs_sha256_init(&h, NULL) == VS_OK;
    ok = hashing;
    uint64_t total = 0;
    uint8_t buf[16384];
    while (ok) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        total += (uint64_t)n;
        if (total > KEYRING_MAX) {
            ok = false;
            break;
        }
        vs_sha256_update(&h, buf, (size_t)n);
    }
    close(fd);
    if (!ok) {
        if (hashing)
            vs_sha256_abort(&h);
        return false;
    }
    uint8_t d[VS_SHA256_LEN];
    vs_sha256_final(&h, d);
    char hex[VS_SHA256_HEX];
    vs_hex(hex, d, sizeof d);
    put(out, "file %s %" PRIu64 " %s\n", name, total, hex);
    return true;
}

/* The head of the file for the keyring as it is now: magic and stamps.
 * *usable false when a keyring file cannot be stamped. */
static vs_status stamp_head(int trustfd, vs_sbuf *out, bool *usable, vs_error *err)
{
    *usable = false;
    vs_sbuf_puts(out, STATE_MAGIC);
    int gfd = openat(trustfd, "gnupg", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (gfd < 0)
        return vs_sbuf_status(out, "trust/" STATE_FILE, err);
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof stamped / sizeof stamped[0]; i++)
        ok = stamp_one(gfd, stamped[i], out);
    close(gfd);
    *usable = ok;
    return vs_sbuf_status(out, "trust/" STATE_FILE, err);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "rsa NAME SIZE SHA256" for each key file in trust/rsa, by name (or "rsa
 * absent"); false when it cannot be stamped. The content, not the times:
 * a file rewritten in place within one timestamp tick still differs. */
static bool stamp_rsa(int trustfd, vs_sbuf *out)
{
    int dfd = openat(trustfd, "rsa", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        if (errno != ENOENT)
            return false;
        put(out, "rsa absent\n");
        return true;
    }
    int lfd = dup(dfd);
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        close(dfd);
        return false;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".pem") != 0 || de->d_name[0] == '.')
            continue; /* an import's temporary files are not keys */
        char **nn = vs_grow(names, &cap, n, sizeof *names, 8);
        if (!nn || n >= VS_MAX_KEYS_STAMPED || !(nn[n] = strdup(de->d_name))) {
            names = nn ? nn : names;
            ok = false;
            break;
        }
        names = nn;
        n++;
    }
    closedir(d);
    if (ok && n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; ok && i < n; i++) {
        vs_sbuf_puts(out, "rsa ");
        ok = stamp_one(dfd, names[i], out);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    close(dfd);
    return ok;
}

vs_status vs_keys_keyring_stamp(vs_ctx *ctx, vs_sbuf *out, vs_error *err)
{
    int trustfd = -1;
    bool usable;
    vs_status st = vs_dir_beneath(ctx->home_fd, ctx->home, "trust", 0, &trustfd, err);
    if (!st)
        st = stamp_head(trustfd, out, &usable, err);
    if (trustfd >= 0)
        close(trustfd);
    return st;
}

vs_status vs_trust_rsa_stamp(vs_ctx *ctx, vs_sbuf *out, vs_error *err)
{
    int trustfd = -1;
    vs_status st = vs_dir_beneath(ctx->home_fd, ctx->home, "trust", 0, &trustfd, err);
    if (st)
        return st;
    if (!stamp_rsa(trustfd, out)) { /* never matches: read each time */
        static unsigned long seq;
        put(out, "unstampable %p %lu\n", (void *)out,
            __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    }
    close(trustfd);
    return vs_sbuf_status(out, "trust/rsa", err);
}

vs_status vs_trust_stamp(vs_ctx *ctx, vs_sbuf *out, vs_error *err)
{
    int trustfd = -1;
    bool usable = false;
    vs_status st = vs_keys_store_ensure(ctx, err);
    if (!st) /* an import that died between its renames is finished first */
        st = vs_keys_settle(ctx, err);
    if (!st)
        st = vs_dir_beneath(ctx->home_fd, ctx->home, "trust", 0, &trustfd, err);
    if (!st)
        st = stamp_head(trustfd, out, &usable, err);
    if (!st && usable)
        usable = stamp_rsa(trustfd, out);
    if (!st && !usable) {
        /* a store that cannot be stamped never matches: listed each time */
        static unsigned long seq;
        put(out, "unstampable %p %lu\n", (void *)out, __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
        st = vs_sbuf_status(out, "trust/" STATE_FILE, err);
    }
    if (trustfd >= 0)
        close(trustfd);
    return st;
}

static bool add_state(vs_key_state **v, size_t *n, size_t *cap, const char *fpr,
                      const char *primary, bool revoked)
{
    vs_key_state *nv = vs_grow(*v, cap, *n, sizeof **v, 8);
    if (!nv)
        return false;
    *v = nv;
    memset(&(*v)[*n], 0, sizeof **v);
    snprintf((*v)[*n].fingerprint, sizeof (*v)[*n].fingerprint, "%s", fpr);
    snprintf((*v)[*n].primary, sizeof (*v)[*n].primary, "%s", primary ? primary : "");
    (*v)[*n].revoked = revoked;
    (*n)++;
    return true;
}

int vs_keystate_line(char *buf, size_t cap, const vs_key_state *s)
{
    if (s->primary[0])
        return snprintf(buf, cap, "sub %s %s %s\n", s->fingerprint, s->primary,
                        s->revoked ? "revoked" : "valid");
    return snprintf(buf, cap, "key %s %s\n", s->fingerprint, s->revoked ? "revoked" : "valid");
}

/* The next space-separated canonical fingerprint at *f (end at `end`). */
static bool take_fpr(const char **f, const char *end, char fpr[VS_FPR_MAX])
{
    const char *sp = memchr(*f, ' ', (size_t)(end - *f));
    if (!sp || sp == *f || (size_t)(sp - *f) >= VS_FPR_MAX)
        return false;
    char raw[VS_FPR_MAX];
    memcpy(raw, *f, (size_t)(sp - *f));
    raw[sp - *f] = '\0';
    *f = sp + 1;
    /* only the canonical form we write: anything else is not our file */
    return vs_keys_fpr_normalise(raw, fpr) != 0 && strcmp(raw, fpr) == 0;
}

/* One "key FPR valid|revoked" or "sub FPR PRIMARY valid|revoked" line;
 * false if it is not one. */
static bool state_line(const char *line, size_t len, vs_key_state *st)
{
    if (len < 5 || len >= LINE_MAX_LEN)
        return false;
    bool sub = memcmp(line, "sub ", 4) == 0;
    if (!sub && memcmp(line, "key ", 4) != 0)
        return false;
    memset(st, 0, sizeof *st);
    const char *f = line + 4, *end = line + len;
    if (!take_fpr(&f, end, st->fingerprint) || (sub && !take_fpr(&f, end, st->primary)))
        return false;
    size_t rest = (size_t)(end - f);
    if (rest == 5 && memcmp(f, "valid", 5) == 0)
        st->revoked = false;
    else if (rest == 7 && memcmp(f, "revoked", 7) == 0)
        st->revoked = true;
    else
        return false;
    /* a subkey of an OpenPGP key: both 40-hex, never the same */
    if (sub && (strlen(st->fingerprint) != 40 || strlen(st->primary) != 40 ||
                strcmp(st->fingerprint, st->primary) == 0))
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
        vs_key_state ks;
        if (!state_line((const char *)p + pos, l, &ks) ||
            !add_state(&v, &nv, &cap, ks.fingerprint, ks.primary[0] ? ks.primary : NULL,
                       ks.revoked))
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

typedef struct states {
    vs_key_state **v;
    size_t *n, cap;
} states;

/* One key from gpg: the key, then each of its subkeys (revoked when it or
 * its key is). */
static bool add_key_states(gpgme_key_t k, void *ud)
{
    states *s = ud;
    char primary[VS_FPR_MAX], fpr[VS_FPR_MAX];
    if (!k->subkeys || !k->subkeys->fpr ||
        vs_keys_fpr_normalise(k->subkeys->fpr, primary) != VS_KEY_OPENPGP)
        return true;
    if (!add_state(s->v, s->n, &s->cap, primary, NULL, k->revoked))
        return false;
    for (gpgme_subkey_t sk = k->subkeys->next; sk; sk = sk->next)
        if (sk->fpr && vs_keys_fpr_normalise(sk->fpr, fpr) == VS_KEY_OPENPGP &&
            !add_state(s->v, s->n, &s->cap, fpr, primary, k->revoked || sk->revoked))
            return false;
    return true;
}

/* gpg's answer: each OpenPGP key and each of its subkeys, so that stage can
 * tell a revoked signing subkey. */
static vs_status ask_gpg(vs_ctx *ctx, vs_key_state **out, size_t *n, vs_error *err)
{
    states s = { out, n, 0 };
    return vs_keys_gpg_each(ctx, add_key_states, &s, err);
}

/* The RSA keys, read from trust/rsa now (a damaged or swapped file is an
 * error, as in every verify); never cached. */
static vs_status add_rsa(vs_ctx *ctx, vs_key_state **out, size_t *n, vs_error *err)
{
    vs_rsa_key *rk = NULL;
    size_t nr = 0, cap = *n;
    vs_status st = vs_keys_rsa_load_all(ctx, &rk, &nr, err);
    for (size_t i = 0; !st && i < nr; i++)
        if (!add_state(out, n, &cap, rk[i].fingerprint, NULL, false))
            st = vs_error_subj(err, VS_E_INTERNAL, "trust", "out of memory");
    vs_rsa_keys_free(rk, nr);
    return st;
}

/* Write gpg's answer under the stamp taken before asking (a change that
 * lands while gpg lists makes the next stamp differ): best effort, it is a
 * cache. */
static void remember(vs_ctx *ctx, int trustfd, vs_sbuf *text, const vs_key_state *v, size_t n)
{
    vs_error e = VS_ERROR_INIT;
    for (size_t i = 0; i < n; i++) {
        char line[LINE_MAX_LEN];
        int k = vs_keystate_line(line, sizeof line, &v[i]);
        if (k > 0 && (size_t)k < sizeof line)
            vs_sbuf_add(text, line, (size_t)k);
        else
            text->toobig = true;
    }
    vs_status st = vs_sbuf_status(text, "trust/" STATE_FILE, &e);
    if (!st)
        st = vs_write_file_atomic(trustfd, STATE_FILE, text->p, text->len, 0600, &e);
    if (st)
        vs_log(ctx, VS_LOG_DEBUG, "trust/%s not written: %s", STATE_FILE, e.message);
}

/* The file as it is, if it is a plain file (a FIFO or a device would block
 * or never end); NULL otherwise. */
static uint8_t *read_state(int trustfd, size_t *len)
{
    uint8_t *old = NULL;
    vs_error ignored = VS_ERROR_INIT;
    int fd = openat(trustfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        vs_read_fd(fd, STATE_FILE, STATE_MAX, &old, len, &ignored) != VS_OK)
        old = NULL;
    if (fd >= 0)
        close(fd);
    return old;
}

/* The store's key states, *npgp OpenPGP ones first: from the file when its
 * stamp is the keyring's now (*fresh), else from gpg; then the RSA keys.
 * `head` gets the stamp taken before asking; *usable false when the
 * keyring could not be stamped (then nothing is to be kept). */
static vs_status key_states(vs_ctx *ctx, int *trustfd, vs_sbuf *head, vs_key_state **out,
                            size_t *n, size_t *npgp, bool *fresh, bool *usable, vs_error *err)
{
    *out = NULL;
    *n = *npgp = 0;
    *fresh = *usable = false;
    vs_status st = vs_keys_store_ensure(ctx, err);
    if (!st) /* an import that died between its renames is finished first */
        st = vs_keys_settle(ctx, err);
    if (!st)
        st = vs_dir_beneath(ctx->home_fd, ctx->home, "trust", 0, trustfd, err);
    if (!st)
        st = stamp_head(*trustfd, head, usable, err);
    if (st)
        return st;
    size_t oldlen = 0;
    uint8_t *old = *usable ? read_state(*trustfd, &oldlen) : NULL;
    *fresh = old && vs_keystate_parse(old, oldlen, head->p, head->len, out, n);
    free(old);
    if (*fresh)
        vs_log(ctx, VS_LOG_DEBUG, "keyring unchanged: %zu OpenPGP key state%s from trust/%s",
               *n, *n == 1 ? "" : "s", STATE_FILE);
    else
        st = ask_gpg(ctx, out, n, err);
    *npgp = *n;
    if (!st)
        st = add_rsa(ctx, out, n, err);
    if (st) {
        free(*out);
        *out = NULL;
        *n = *npgp = 0;
    }
    return st;
}

vs_status vs_trust_key_states(vs_key_state **out, size_t *n, vs_ctx *ctx, vs_error *err)
{
    int trustfd = -1;
    bool fresh, usable;
    size_t npgp;
    vs_sbuf head = VS_SBUF_INIT(STATE_MAX);
    vs_status st = key_states(ctx, &trustfd, &head, out, n, &npgp, &fresh, &usable, err);
    vs_sbuf_free(&head);
    if (trustfd >= 0)
        close(trustfd);
    return st;
}

void vs_trust_keystate_refresh(vs_ctx *ctx)
{
    int trustfd = -1;
    bool fresh = false, usable = false;
    vs_sbuf text = VS_SBUF_INIT(STATE_MAX);
    vs_key_state *v = NULL;
    size_t n = 0, npgp = 0;
    vs_error e = VS_ERROR_INIT;
    if (key_states(ctx, &trustfd, &text, &v, &n, &npgp, &fresh, &usable, &e) != VS_OK)
        vs_log(ctx, VS_LOG_DEBUG, "trust/%s not written: %s", STATE_FILE, e.message);
    else if (usable && !fresh)
        remember(ctx, trustfd, &text, v, npgp);
    free(v);
    vs_sbuf_free(&text);
    if (trustfd >= 0)
        close(trustfd);
}
