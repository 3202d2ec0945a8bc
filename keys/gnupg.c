/*
 * keys/gnupg.c - the store's private GnuPG home, gpgme contexts bound to it,
 * the store lock, and a strict scan of OpenPGP key material before gpg sees it.
 *
 * The GnuPG home is HOME/trust/gnupg (0700). Its gpg.conf turns off every way
 * gpg could reach the network or another keyring (no key retrieval, no
 * dirmngr) and forbids starting gpg-agent: the store only ever holds public
 * keys, and nothing we do with them needs the agent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys_int.h"

static const char gpg_conf[] =
    "# Written by vetstage: the trust store's private GnuPG home. Do not edit.\n"
    "# Trust is pinned by fingerprint in vetstage, not by the web of trust.\n"
    "trust-model always\n"
    "no-auto-key-retrieve\n"
    "no-auto-key-locate\n"
    "auto-key-locate local\n"
    "keyserver-options no-honor-keyserver-url\n"
    "disable-dirmngr\n"
    "no-autostart\n"
    "no-greeting\n"
    "no-permission-warning\n"
    "no-random-seed-file\n"; /* verifying a clearsigned list must not write to the home */

char *vs_keys_gnupg_home(vs_ctx *ctx)
{
    return vs_path_join(ctx->home, "trust/gnupg");
}

vs_status vs_keys_lock(vs_ctx *ctx, int *fd, vs_error *err)
{
    return vs_home_lock(ctx, "trust/lock", LOCK_EX, fd, err);
}

void vs_keys_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

vs_status vs_keys_gpgme_error(vs_error *err, vs_status st, gpgme_error_t ge, const char *subject,
                              const char *what)
{
    if (what)
        return vs_error_subjb(err, st, "gpgme", (long)ge, subject, "%s: %s", what,
                              gpgme_strerror(ge));
    return vs_error_subjb(err, st, "gpgme", (long)ge, subject, "%s", gpgme_strerror(ge));
}

vs_status vs_keys_gpgme_open_home(const char *home, gpgme_ctx_t *out, vs_error *err)
{
    *out = NULL;
    vs_status st = vs_gpg_ready(err);
    if (st)
        return st;
    gpgme_ctx_t g = NULL;
    gpgme_error_t ge = gpgme_new(&g);
    if (!ge)
        ge = gpgme_set_protocol(g, GPGME_PROTOCOL_OpenPGP);
    if (!ge)
        ge = gpgme_ctx_set_engine_info(g, GPGME_PROTOCOL_OpenPGP, NULL, home);
    if (!ge)
        ge = gpgme_set_keylist_mode(g, GPGME_KEYLIST_MODE_LOCAL);
    if (!ge)
        ge = gpgme_set_pinentry_mode(g, GPGME_PINENTRY_MODE_CANCEL);
    if (ge) {
        gpgme_release(g);
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, home, "opening the GnuPG home");
    }
    gpgme_set_offline(g, 1);
    gpgme_set_armor(g, 0);
    /* best effort: these flags exist in every gpgme we accept, but a missing
     * one must not make the store unusable (gpg.conf says the same) */
    gpgme_set_ctx_flag(g, "auto-key-retrieve", "0");
    gpgme_set_ctx_flag(g, "no-auto-check-trustdb", "1");
    *out = g;
    return VS_OK;
}

static bool exists_at(int dirfd, const char *path)
{
    struct stat sb;
    return fstatat(dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A GnuPG home that gpg can import revocations into needs a trustdb even
 * with trust-model always; listing once under the pgp model creates it. */
vs_status vs_keys_gnupg_prepare(const char *home, int homefd, vs_error *err)
{
    vs_status st = VS_OK;
    if (!exists_at(homefd, "gpg.conf")) {
        st = vs_write_file_atomic(homefd, "gpg.conf", gpg_conf, sizeof gpg_conf - 1, 0600, err);
        if (st)
            return st;
    }
    if (exists_at(homefd, "trustdb.gpg"))
        return VS_OK;
    gpgme_ctx_t g;
    st = vs_keys_gpgme_open_home(home, &g, err);
    if (st)
        return st;
    gpgme_error_t ge = gpgme_set_ctx_flag(g, "trust-model", "pgp");
    if (!ge)
        ge = gpgme_op_keylist_start(g, NULL, 0);
    gpgme_key_t k;
    while (!ge && !(ge = gpgme_op_keylist_next(g, &k)))
        gpgme_key_unref(k);
    if (gpgme_err_code(ge) == GPG_ERR_EOF)
        ge = 0;
    gpgme_op_keylist_end(g);
    gpgme_release(g);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, home, "creating the trust database");
    if (!exists_at(homefd, "trustdb.gpg"))
        return vs_error_subj(err, VS_E_INTERNAL, home, "gpg did not create trustdb.gpg");
    return VS_OK;
}

/* Scratch homes (trust/tmp-*) and staged key files (trust/rsa/.tmp-*) exist
 * only while an import holds the lock: any found now were left by a process
 * that died, and go. */
static void remove_leftovers(vs_ctx *ctx, const char *dir, const char *prefix)
{
    int fd;
    if (vs_home_dir(ctx, dir, 0, &fd, NULL) != VS_OK)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    size_t pl = strlen(prefix);
    struct dirent *de;
    bool removed;
    do {
        removed = false;
        rewinddir(d);
        while ((de = readdir(d)) != NULL) {
            if (strncmp(de->d_name, prefix, pl) != 0)
                continue;
            vs_log(ctx, VS_LOG_INFO, "%s/%s/%s: removing what an interrupted import left",
                   ctx->home, dir, de->d_name);
            if (vs_remove_tree(dirfd(d), de->d_name, NULL) == VS_OK) {
                removed = true;
                break; /* directory changed: read it again */
            }
        }
    } while (removed);
    closedir(d);
}

/* Create HOME/trust/{gnupg,rsa}; caller holds the lock. */
/* The first entry of the GnuPG home (dirfd) that is neither a plain file,
 * nor a folder, nor a socket: its name in bad, its stat in sb; false when
 * there is none (or the folder cannot be listed: gpg then fails itself). */
static bool odd_entry(int dirfd, char bad[NAME_MAX + 1], struct stat *sb)
{
    int lfd = dup(dirfd);
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        return false;
    }
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (fstatat(dirfd, de->d_name, sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode) || S_ISSOCK(sb->st_mode))
            continue;
        snprintf(bad, NAME_MAX + 1, "%s", de->d_name);
        found = true;
    }
    closedir(d);
    return found;
}

vs_status vs_keys_store_prepare(vs_ctx *ctx, vs_error *err)
{
    vs_status st = vs_keys_commit_recover(ctx, err);
    if (st)
        return st;
    remove_leftovers(ctx, "trust", "tmp-");
    remove_leftovers(ctx, "trust", ".tmp-");
    remove_leftovers(ctx, "trust/rsa", ".tmp-");
    /* below the home nothing is a link (vs_home_dir refuses one), and gpg,
     * which opens its files by name, gets none either */
    static const char *const dirs[] = { "trust/gnupg", "trust/rsa" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        int dfd;
        vs_status dst = vs_home_dir(ctx, dirs[i], VS_BENEATH_CREATE, &dfd, err);
        if (dst)
            return dst;
        close(dfd);
    }
    char *home = vs_keys_gnupg_home(ctx);
    if (!home)
        return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    int fd;
    st = vs_home_dir(ctx, "trust/gnupg", 0, &fd, err);
    /* everything gpg may open there is a plain file or a folder (or the
     * agent's socket): a link would take gpg outside the home, a FIFO or a
     * device would leave it waiting forever (gpg opens versioned option
     * files too: gpg.conf-2, gpg.conf-2.2, ...) */
    char bad[NAME_MAX + 1] = "";
    struct stat fsb;
    if (st == VS_OK && !odd_entry(fd, bad, &fsb))
        bad[0] = '\0';
    if (st == VS_OK && bad[0]) {
        char rel[NAME_MAX + 16];
        snprintf(rel, sizeof rel, "trust/gnupg/%s", bad);
        if (S_ISLNK(fsb.st_mode)) {
            st = vs_link_refusal(err, rel, ctx->home);
        } else {
            st = vs_error_subj(err, VS_E_INTEGRITY, rel,
                               "not a regular file (inside the home %s); gpg would wait on it "
                               "or fail",
                               ctx->home);
            vs_error_hint(err, "restore the trust store from a backup, or move it aside and "
                               "import the keys again (vetstage keys import)");
        }
        close(fd);
    }
    if (st == VS_OK) {
        fchmod(fd, 0700); /* gpg warns about and we do not want group access */
        st = vs_keys_gnupg_prepare(home, fd, err);
        close(fd);
    }
    free(home);
    return st;
}

static bool regular_at(int dirfd, const char *path)
{
    struct stat sb;
    return fstatat(dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

/* Ready: the directories are no links and gpg's files are regular files
 * (else vs_keys_store_prepare runs, and refuses a link). */
static bool store_ready(vs_ctx *ctx)
{
    int gfd, rfd;
    if (vs_home_dir(ctx, "trust/gnupg", 0, &gfd, NULL) != VS_OK)
        return false;
    char bad[NAME_MAX + 1];
    struct stat sb;
    bool ok = !odd_entry(gfd, bad, &sb) && regular_at(gfd, "gpg.conf") &&
              regular_at(gfd, "trustdb.gpg") &&
              (!exists_at(gfd, "pubring.kbx") || regular_at(gfd, "pubring.kbx")) &&
              (!exists_at(gfd, "pubring.gpg") || regular_at(gfd, "pubring.gpg"));
    close(gfd);
    if (!ok || vs_home_dir(ctx, "trust/rsa", 0, &rfd, NULL) != VS_OK)
        return false;
    close(rfd);
    return !exists_at(ctx->home_fd, "trust/commit");
}

vs_status vs_keys_settle(vs_ctx *ctx, vs_error *err)
{
    if (!exists_at(ctx->home_fd, "trust/commit"))
        return VS_OK;
    int lock;
    vs_status st = vs_keys_lock(ctx, &lock, err);
    if (st)
        return st;
    st = vs_keys_commit_recover(ctx, err);
    vs_keys_unlock(lock);
    return st;
}

vs_status vs_keys_store_ensure(vs_ctx *ctx, vs_error *err)
{
    if (store_ready(ctx))
        return VS_OK;
    int lock;
    vs_status st = vs_keys_lock(ctx, &lock, err);
    if (st)
        return st;
    st = vs_keys_store_prepare(ctx, err);
    vs_keys_unlock(lock);
    return st;
}

vs_status vs_keys_gpgme_open(vs_ctx *ctx, gpgme_ctx_t *out, vs_error *err)
{
    *out = NULL;
    vs_status st = vs_keys_store_ensure(ctx, err);
    if (st)
        return st;
    char *home = vs_keys_gnupg_home(ctx);
    if (!home)
        return vs_error_subj(err, VS_E_INTERNAL, ctx->home, "out of memory");
    st = vs_keys_gpgme_open_home(home, out, err);
    free(home);
    return st;
}

/* ---- OpenPGP key material, scanned before gpg sees it ---------------------- */

static void upcase(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'f')
            *s = (char)(*s - 'a' + 'A');
}

static bool subpackets_issuer(const uint8_t *p, size_t len, vs_pgp_scan *s)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    while (vs_cursor_left(&c) > 0) {
        uint8_t o1 = 0, o2 = 0;
        size_t sl;
        if (!vs_cursor_u8(&c, &o1))
            return false;
        if (o1 < 192) {
            sl = o1;
        } else if (o1 < 255) {
            if (!vs_cursor_u8(&c, &o2))
                return false;
            sl = ((size_t)(o1 - 192) << 8) + o2 + 192;
        } else {
            const uint8_t *b = vs_cursor_bytes(&c, 4);
            if (!b)
                return false;
            sl = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
        }
        const uint8_t *body = vs_cursor_bytes(&c, sl);
        if (!body || sl == 0)
            return false;
        uint8_t type = body[0] & 0x7f;
        if (type == 33 && sl == 22 && body[1] == 4) {
            vs_hex(s->issuer, body + 2, 20);
            s->issuer_is_fpr = true;
            upcase(s->issuer);
        } else if (type == 16 && sl == 9 && !s->issuer_is_fpr) {
            vs_hex(s->issuer, body + 1, 8);
            upcase(s->issuer);
        }
    }
    return true;
}

/* A signature packet: is it a key revocation, and by whom. */
static bool scan_signature(const uint8_t *p, size_t len, vs_pgp_scan *s)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    uint8_t ver = 0, type = 0, b;
    if (!vs_cursor_u8(&c, &ver))
        return false;
    if (ver == 3) {
        const uint8_t *h = vs_cursor_bytes(&c, 14); /* 5, type, time[4], keyid[8] */
        if (!h || h[0] != 5)
            return false;
        type = h[1];
        if (!s->issuer[0]) {
            vs_hex(s->issuer, h + 6, 8);
            upcase(s->issuer);
        }
    } else if (ver == 4) {
        if (!vs_cursor_u8(&c, &type) || !vs_cursor_u8(&c, &b) || !vs_cursor_u8(&c, &b))
            return false;
        for (int area = 0; area < 2; area++) {
            const uint8_t *l = vs_cursor_bytes(&c, 2);
            if (!l)
                return false;
            size_t n = (size_t)l[0] << 8 | l[1];
            const uint8_t *sp = vs_cursor_bytes(&c, n);
            if (!sp || !subpackets_issuer(sp, n, s))
                return false;
        }
    } else {
        return false;
    }
    if (type == 0x20)
        s->nrevocations++;
    return true;
}

/* Walk the packets of binary OpenPGP data, counting what they are. */
static vs_status scan_packets(const uint8_t *p, size_t len, const char *name, vs_pgp_scan *s,
                              vs_error *err)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    if (len == 0)
        return vs_error_subj(err, VS_E_USAGE, name, "not a public key (empty OpenPGP data)");
    while (vs_cursor_left(&c) > 0) {
        uint8_t h = 0, o1 = 0, o2 = 0;
        vs_cursor_u8(&c, &h);
        if (!(h & 0x80))
            return vs_error_subj(err, VS_E_USAGE, name,
                                 "not a public key (bad OpenPGP packet header at byte %zu)",
                                 c.pos - 1);
        unsigned tag;
        size_t plen = 0;
        bool ok = true;
        if (h & 0x40) {
            tag = h & 0x3f;
            ok = vs_cursor_u8(&c, &o1);
            if (ok && o1 < 192) {
                plen = o1;
            } else if (ok && o1 < 224) {
                ok = vs_cursor_u8(&c, &o2);
                plen = ((size_t)(o1 - 192) << 8) + o2 + 192;
            } else if (ok && o1 == 255) {
                const uint8_t *b = vs_cursor_bytes(&c, 4);
                ok = b != NULL;
                if (ok)
                    plen = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
            } else {
                ok = false; /* partial lengths never occur in key material */
            }
        } else {
            tag = (h >> 2) & 0xf;
            unsigned lt = h & 3;
            if (lt == 3) {
                ok = false;
            } else {
                size_t nb = lt == 0 ? 1 : lt == 1 ? 2 : 4;
                const uint8_t *b = vs_cursor_bytes(&c, nb);
                ok = b != NULL;
                for (size_t i = 0; ok && i < nb; i++)
                    plen = plen << 8 | b[i];
            }
        }
        const uint8_t *body = ok ? vs_cursor_bytes(&c, plen) : NULL;
        if (!ok || !body)
            return vs_error_subj(err, VS_E_USAGE, name,
                                "not a public key (truncated or malformed OpenPGP packet)");
        switch (tag) {
        case 5: /* secret key */
        case 7: /* secret subkey */
            s->nsecret++;
            break;
        case 6:
            s->npublic++;
            break;
        case 2:
            s->nsigs++;
            if (s->npublic == 0 && !scan_signature(body, plen, s))
                return vs_error_subj(err, VS_E_USAGE, name,
                                    "not a public key (malformed OpenPGP signature)");
            break;
        case 12: /* trust */
        case 13: /* user id */
        case 14: /* public subkey */
        case 17: /* user attribute */
            break;
        default:
            return vs_error_subj(err, VS_E_USAGE, name,
                                 "not a public key (OpenPGP packet type %u is not key material)",
                                 tag);
        }
    }
    return VS_OK;
}

static uint32_t crc24(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xB704CEu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 16;
        for (int k = 0; k < 8; k++) {
            crc <<= 1;
            if (crc & 0x1000000u)
                crc ^= 0x1864CFBu;
        }
    }
    return crc & 0xFFFFFFu;
}

static size_t trim_cr(const char *l, size_t n)
{
    while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
        n--;
    return n;
}

static bool line_eq(const char *l, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(l, s, n) == 0;
}

static bool prefix(const char *l, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(l, s, k) == 0;
}

/* Decode every armored block in the text and scan its packets. */
/* Armor headers ("Key: value") up to the blank line that must follow. */
static bool skip_armor_headers(vs_cursor *c)
{
    const char *l;
    size_t n;
    while (vs_cursor_line(c, VS_MAX_KEY_FILE, &l, &n)) {
        n = trim_cr(l, n);
        if (n == 0)
            return true;
        if (!memchr(l, ':', n))
            return false;
    }
    return false;
}

/* The body of one PUBLIC KEY BLOCK (after its headers) decoded into bin. */
static vs_status armor_body(vs_cursor *c, const char *name, uint8_t *b64, uint8_t *bin,
                            size_t *binl, vs_error *err)
{
    const char *l;
    size_t n, nb = 0, crcl = 0;
    bool ended = false, crc_seen = false;
    uint8_t crcb[4];
    while (vs_cursor_line(c, VS_MAX_KEY_FILE, &l, &n)) {
        n = trim_cr(l, n);
        if (line_eq(l, n, "-----END PGP PUBLIC KEY BLOCK-----")) {
            ended = true;
            break;
        }
        if (crc_seen || n == 0)
            break;
        if (l[0] == '=' && n == 5) {
            if (!vs_base64_decode((const uint8_t *)l + 1, 4, 0, crcb, sizeof crcb, &crcl) || crcl != 3)
                break;
            crc_seen = true;
            continue;
        }
        memcpy(b64 + nb, l, n);
        nb += n;
    }
    if (!ended)
        return vs_error_subj(err, VS_E_USAGE, name, "not a public key (damaged ASCII armor)");
    if (nb == 0 || !vs_base64_decode(b64, nb, 0, bin, nb / 4 * 3, binl))
        return vs_error_subj(err, VS_E_USAGE, name, "not a public key (bad base64 in armor)");
    if (crc_seen &&
        crc24(bin, *binl) != ((uint32_t)crcb[0] << 16 | (uint32_t)crcb[1] << 8 | crcb[2]))
        return vs_error_subj(err, VS_E_USAGE, name, "not a public key (armor checksum mismatch)");
    return VS_OK;
}

/* Decode every armored block in the text and scan its packets. */
static vs_status scan_armor(const uint8_t *p, size_t len, const char *name, vs_pgp_scan *s,
                            vs_error *err)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *l;
    size_t n;
    unsigned blocks = 0;
    uint8_t *b64 = malloc(len + 1);
    uint8_t *bin = malloc(len / 4 * 3 + 4);
    vs_status st = b64 && bin ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    while (st == VS_OK && vs_cursor_line(&c, VS_MAX_KEY_FILE, &l, &n)) {
        n = trim_cr(l, n);
        if (!prefix(l, n, "-----BEGIN PGP "))
            continue;
        if (line_eq(l, n, "-----BEGIN PGP PRIVATE KEY BLOCK-----") ||
            line_eq(l, n, "-----BEGIN PGP SECRET KEY BLOCK-----")) {
            s->nsecret++;
            break;
        }
        if (!line_eq(l, n, "-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
            st = vs_error_subj(err, VS_E_USAGE, name, "not a public key (armor %.*s)",
                               (int)(n > 60 ? 60 : n), l);
            break;
        }
        size_t binl = 0;
        st = skip_armor_headers(&c) ? armor_body(&c, name, b64, bin, &binl, err)
                                    : vs_error_subj(err, VS_E_USAGE, name,
                                                    "not a public key (damaged ASCII armor)");
        if (st == VS_OK)
            st = scan_packets(bin, binl, name, s, err);
        blocks++;
    }
    free(b64);
    free(bin);
    if (st == VS_OK && s->nsecret == 0 && blocks == 0)
        st = vs_error_subj(err, VS_E_USAGE, name, "not a public key (no OpenPGP armor block)");
    return st;
}

vs_status vs_keys_pgp_scan(const uint8_t *p, size_t len, const char *name, bool armored,
                           vs_pgp_scan *s, vs_error *err)
{
    memset(s, 0, sizeof *s);
    vs_status st = armored ? scan_armor(p, len, name, s, err) : scan_packets(p, len, name, s, err);
    if (st)
        return st;
    if (s->nsecret > 0)
        return vs_error_subj(err, VS_E_USAGE, name,
                            "holds secret key material; refusing it (export the public key "
                            "with gpg --export)");
    if (s->npublic == 0) {
        if (s->nsigs == 0 || s->nrevocations != s->nsigs)
            return vs_error_subj(err, VS_E_USAGE, name,
                                "not a public key (OpenPGP data without a key or a key "
                                "revocation)");
        if (!s->issuer[0])
            return vs_error_subj(err, VS_E_USAGE, name,
                                "revocation certificate does not name its key");
    }
    return VS_OK;
}
