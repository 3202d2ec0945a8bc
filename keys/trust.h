/*
 * keys/trust.h - the trust store as a context holds it: what verify needs
 * of keys/, and nothing else (keys/keys_int.h stays inside keys/).
 *
 * The context owns the loaded store. The RSA keys are read and parsed once
 * per context and kept until the store changes; the gpgme context on the
 * store's GnuPG home is opened once per context (gpg reads the keyring on
 * each operation, so it always sees the store as it is). A change is seen
 * two ways: keys import and keys remove through a context drop what it
 * holds (vs_trust_forget), and every use compares a stamp of HOME/trust/rsa
 * (each key file's name, size and SHA-256: an add, a remove, or a file
 * rewritten in place) with the one taken at load, so a change by another
 * context or process is seen by the next verify. Like the rest of a vs_ctx, it is used by one thread at a time.
 */
#ifndef VS_KEYS_TRUST_H
#define VS_KEYS_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gcrypt.h>
#include <gpgme.h>

#include "common/common_int.h"
#include "vetstage/keys.h"

/* One stored RSA key, ready for libgcrypt. */
typedef struct vs_rsa_key {
    char fingerprint[VS_FPR_MAX];
    vs_rsa_scheme scheme;
    unsigned bits;
    gcry_sexp_t pub; /* (public-key (rsa (n ..) (e ..))) */
} vs_rsa_key;

/* Every RSA key in the store (sorted by fingerprint), loaded on first use
 * and again when the store changed. *keys is borrowed from ctx: valid until
 * the next vs_trust_* call on ctx or vs_ctx_free. */
vs_status vs_trust_rsa_keys(const vs_rsa_key **keys, size_t *n, vs_ctx *ctx, vs_error *err);

/* The context's gpgme context on the store's GnuPG home (opened on first
 * use; offline, OpenPGP). Borrowed from ctx: never gpgme_release it. */
vs_status vs_trust_gpgme(gpgme_ctx_t *out, vs_ctx *ctx, vs_error *err);

/* A gpgme context of its own on the store's GnuPG home, for work on
 * another thread (verify/stream.c feeds gpg while the package arrives).
 * The caller releases it with gpgme_release. */
vs_status vs_trust_gpgme_new(gpgme_ctx_t *out, vs_ctx *ctx, vs_error *err);

/* A stored key and whether it is revoked. */
typedef struct vs_key_state {
    char fingerprint[VS_FPR_MAX]; /* as vs_keys_list gives it */
    char primary[VS_FPR_MAX];     /* a subkey: its OpenPGP key's fingerprint; else "" */
    bool revoked;
} vs_key_state;

/* Every key in the store and whether it is revoked: gpg's (and the RSA
 * store's) answer, as HOME/trust/keystate kept it if the store's files are
 * unchanged since (keys/keystate.c), else asked now. Writes nothing. The
 * caller frees *out. */
vs_status vs_trust_key_states(vs_key_state **out, size_t *n, vs_ctx *ctx, vs_error *err);

/* The line a state is kept as (snprintf's return). */
int vs_keystate_line(char *buf, size_t cap, const vs_key_state *s);

/* After the store changed (keys import, keys remove): write
 * HOME/trust/keystate for the store as it is now, unless it is current.
 * Best effort: a failure only means the next stage asks gpg. */
void vs_trust_keystate_refresh(vs_ctx *ctx);

/* The key lines of a keystate file whose first headlen bytes must be
 * `head` exactly (the magic and the stamps of the store now); false for
 * anything else. For the fuzzer and the unit tests. */
bool vs_keystate_parse(const uint8_t *p, size_t len, const char *head, size_t headlen,
                       vs_key_state **out, size_t *n);

/* Every key in the store as vs_keys_list gives it (OpenPGP first, then
 * RSA), held by ctx: listed (one gpg run) on first use and again only when
 * the store's files changed since - vs_trust_stamp (the size and SHA-256 of
 * the keyring files and of each RSA key file), compared on every call, so a key
 * imported or removed by another context or process is seen by the next
 * call. `expired` is brought up to date on each call (a key whose
 * expiry has passed since the listing). *keys is borrowed from ctx: valid
 * until the next vs_trust_* call on ctx or vs_ctx_free. */
vs_status vs_trust_key_infos(const vs_key_info **keys, size_t *n, vs_ctx *ctx, vs_error *err);

/* The stamp of the store's files as it is now appended to out: the head of
 * HOME/trust/keystate (the keyring files' sizes and SHA-256) and a line per
 * RSA key file (its name, size and SHA-256). A store that cannot be stamped
 * (a keyring that is not a plain file, too many keys) gets a stamp that
 * matches no other. The store is created if absent and an interrupted
 * import finished first. */
vs_status vs_trust_stamp(vs_ctx *ctx, vs_sbuf *out, vs_error *err);

/* The stamp of HOME/trust/rsa as it is now appended to out: a line per key
 * file (its name, size and SHA-256), so that a file rewritten in place is a
 * change however the file system keeps times. */
vs_status vs_trust_rsa_stamp(vs_ctx *ctx, vs_sbuf *out, vs_error *err);

/* Drop what ctx holds of the store: the next use loads it again. */
void vs_trust_forget(vs_ctx *ctx);

#endif
