/*
 * verify/verify_int.h - the parts of verify that read untrusted bytes, and
 * the RSA primitive, exposed for the unit tests and the fuzz harnesses.
 */
#ifndef VS_VERIFY_INT_H
#define VS_VERIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gcrypt.h>
#include <gpgme.h>

#include "common/common_int.h"
#include "vetstage/keys.h"
#include "vetstage/verify.h"

/* Longest digest we compute (SHA-512). */
#define VS_MAX_DIGEST 64

/* ---- signature files (sigfile.c) ---------------------------------------- */

/*
 * The RSA signature in a signature file for a modulus of `modlen` bytes:
 * the raw bytes when the file is exactly `modlen` bytes long, else strict
 * base64 decoding to exactly `modlen` bytes. `out` holds modlen bytes.
 * Returns false when neither reading fits.
 */
bool vs_rsa_sig_decode(const uint8_t *p, size_t len, size_t modlen, uint8_t *out);

/*
 * Why an RSA signature file (raw or base64) verifies with no stored key
 * whose moduli are `mods` bytes long: a reason into out (a raw signature
 * followed by a newline, leading zero bytes stripped, a length that is no
 * modulus length). Returns true when it looks like a well-formed signature
 * by a key the store does not hold (a standard modulus length), false when
 * the file is malformed.
 */
bool vs_rsa_sig_explain(const uint8_t *p, size_t len, const size_t *mods, size_t nmods, char *out,
                        size_t cap);

typedef enum vs_pgp_form {
    VS_PGP_NONE = 0,
    VS_PGP_ARMORED,
    VS_PGP_BINARY,
    VS_PGP_CLEARSIGNED /* "-----BEGIN PGP SIGNED MESSAGE-----": not a detached signature */
} vs_pgp_form;

/*
 * Whether the bytes look like a detached OpenPGP signature: armored
 * ("-----BEGIN PGP SIGNATURE-----" after optional whitespace) or binary
 * (first packet is a signature packet, old or new format); or a clearsigned
 * message (its armor line after optional whitespace). A sniff only: gpgme
 * decides the rest, and only the text gpg returns as signed is ever read.
 */
vs_pgp_form vs_pgp_sig_sniff(const uint8_t *p, size_t len);

/*
 * The framing of a clearsigned message, before gpg sees it (apt checks the
 * same): optional blank lines, the BEGIN PGP SIGNED MESSAGE line, armor
 * headers that are only "Hash: " with SHA-224/256/384/512, a blank line,
 * the text (a line starting with '-' must be dash-escaped), one signature
 * block, then nothing but blank lines. So one file is exactly one signed
 * message: no second message, no unsigned text beside it. The text itself
 * is not read here; only what gpg returns as signed is. VS_OK or
 * VS_E_VERIFY with `file` as subject.
 */
vs_status vs_clearsign_check(const uint8_t *p, size_t len, const char *file, vs_error *err);

/* Whether any line is the BEGIN PGP SIGNED MESSAGE armor line (so a list
 * with text before its clearsigned message is judged as clearsigned, and
 * refused, rather than taken as a list with a detached signature). */
bool vs_clearsign_present(const uint8_t *p, size_t len);

/* ---- a detached signature as a signed message (pgpstream.c) ---------------- */

/*
 * When the signature file is exactly one armored block (Version/Comment
 * headers, strict base64, a CRC24 that matches when present, nothing after
 * the END line but whitespace) or binary, and it holds exactly one packet,
 * a signature (tag 2) of version 3 or 4 and class 0x00 (binary document)
 * with a definite length: its binary form into out (cap bytes), true.
 * Anything else: false, and the caller gives gpg the detached pair.
 */
bool vs_pgp_detached_binary(const uint8_t *p, size_t len, uint8_t *out, size_t cap,
                            size_t *outlen);

/* The header of a literal data packet ('b', no name, date 0) holding `size`
 * bytes: the signature packets, this header and the document make the
 * signed message gpg checks in 32 KiB blocks rather than byte by byte.
 * Returns its length, or 0 when size does not fit a five-octet length. */
#define VS_PGP_LITERAL_HEADER 12
size_t vs_pgp_literal_header(uint64_t size, uint8_t out[VS_PGP_LITERAL_HEADER]);
/* The next piece (at most size bytes) of the signed-message head
 * [head, head+len) from *off into buf; 0 once it is all given. */
size_t vs_pgp_head_take(const uint8_t *head, size_t len, size_t *off, void *buf, size_t size);

/* Who made one signature packet, as it says (unverified): the issuer
 * fingerprint subpacket (v4 keys) and/or the issuer key ID. */
typedef struct vs_pgp_issuer {
    uint8_t fpr[20];
    bool has_fpr;
    uint8_t keyid[8];
    bool has_keyid;
} vs_pgp_issuer;

/*
 * The issuers of a detached signature file: armored (one block, read as
 * strictly as vs_pgp_detached_binary reads it) or binary, every packet a
 * signature packet (v3, or v4 with well-formed subpacket areas) of definite
 * length. One entry per packet into out (at most cap; an entry may carry
 * neither field). False, *n 0, for anything else: then nothing may be
 * concluded (gpg still reads the file). A hint for refusing a signature
 * that cannot be by an allowed key before the package is downloaded, never
 * a reason to accept one.
 */
bool vs_pgp_sig_issuers(const uint8_t *p, size_t len, vs_pgp_issuer *out, size_t cap,
                        size_t *n);

/*
 * The issuers of every signature in a file as gpg reads it: binary packets,
 * or any number of armored signature blocks (`cat a.asc b.asc`), with armor
 * headers of any name, text outside the blocks skipped (a clearsigned
 * message: its signature block). The same table and rules as
 * vs_pgp_sig_issuers; false, *n 0, when a block is cut or not base64 or a
 * packet is not a signature.
 */
bool vs_pgp_sig_issuers_any(const uint8_t *p, size_t len, vs_pgp_issuer *out, size_t cap,
                            size_t *n);

/*
 * (issuers.c) A detached OpenPGP signature file that cannot lead to a
 * trusted verdict, told before the package is there: not a detached
 * signature at all, or every signature in it names (unverified) an issuer
 * that no key in the store has, or a stored key the binding (keys/nkeys;
 * 0: any stored key) leaves out. VS_E_VERIFY with verify's own words for
 * such a file, `file` as subject and a hint; VS_OK when it may be fine or
 * nothing can be told. This only ever refuses: gpg decides acceptance.
 */
vs_status vs_pgp_sig_unmeetable(vs_ctx *ctx, const uint8_t *p, size_t len,
                                const char *const *keys, size_t nkeys, const char *file,
                                vs_error *err);

/* ---- gpg reading the package from us (gpgpump.c) --------------------------- */

/* Where the package's bytes come from, in order. peek: the next bytes (at
 * *p, *n > 0: VS_GPG_SRC_BYTES), none yet (VS_GPG_SRC_MORE: the loop waits
 * for the wake descriptor), all given (VS_GPG_SRC_END), or stop
 * (VS_GPG_SRC_FAIL: the bytes so far are not the package). took: n of them
 * are with gpg. Both run on the loop's thread only. */
enum { VS_GPG_SRC_BYTES, VS_GPG_SRC_MORE, VS_GPG_SRC_END, VS_GPG_SRC_FAIL };
typedef struct vs_gpg_source {
    int (*peek)(void *payload, const uint8_t **p, size_t *n);
    void (*took)(void *payload, size_t n);
    void *payload;
} vs_gpg_source;

/* gpgme_op_verify over the package `src` gives: with a head (the signature
 * packets and the literal header, vs_pgp_detached_binary), the signed
 * message head + src; without one, `sig` with src as its signed text. Runs
 * gpgme on an event loop of its own on the calling thread, and writes the
 * package to gpg's pipe itself (see gpgpump.c); wake_fd (readable when peek
 * may have changed, or -1) is watched while the source has nothing.
 * Returns gpgme's error for the run (GPG_ERR_CANCELED when the source
 * failed); the result is in g. When the source has something for gpg and
 * gpg shows no sign of life (takes no byte, writes no status) for stall_s
 * seconds, the run is cancelled: GPG_ERR_TIMEOUT; gpg closing the package's
 * pipe before its end: gpg's own error, else GPG_ERR_EPIPE. *delivered:
 * every byte of the source, and then its end, reached gpg's pipe (false
 * when gpg stopped reading, or the source failed). */
gpgme_error_t vs_gpg_pump_verify(gpgme_ctx_t g, gpgme_data_t sig, const uint8_t *head,
                                 size_t head_len, const vs_gpg_source *src, int wake_fd,
                                 unsigned stall_s, bool *delivered);

/* ---- gpg while the package arrives (stream.c) ------------------------------ */

typedef struct vs_gpg_stream vs_gpg_stream;

/*
 * Start gpg on the detached signature `sig` (the signature file's bytes)
 * over a package whose bytes will come through vs_gpg_stream_put, in
 * order, from its first byte. `total`, when total_known, is the package's
 * size (then a one-signature file is checked in the signed-message form,
 * see vs_pgp_detached_binary). gpg runs on a thread of its own.
 */
vs_status vs_gpg_stream_start(vs_ctx *ctx, const uint8_t *sig, size_t len, uint64_t total,
                              bool total_known, vs_gpg_stream **out, vs_error *err);
/* The next n bytes of the package; waits while the bounded buffer is full. */
void vs_gpg_stream_put(vs_gpg_stream *s, const void *p, size_t n);
/* The bytes put so far are not the package (the download starts over):
 * gpg is stopped and the stream's outcome is never used. */
void vs_gpg_stream_void(vs_gpg_stream *s);
/* The last byte was put: wait for gpg. */
void vs_gpg_stream_end(vs_gpg_stream *s);
/* gpg's outcome, when the stream ended, was not voided, `size` bytes went
 * through and `sig` is the signature it was started with: the gpgme
 * context holding the result (owned by the stream) and the op's error. */
bool vs_gpg_stream_result(const vs_gpg_stream *s, const uint8_t *sig, size_t len, uint64_t size,
                          gpgme_ctx_t *g, gpgme_error_t *ge);
void vs_gpg_stream_free(vs_gpg_stream *s);

/* vs_verify_package, taking gpg's outcome over the package's detached
 * signature from `stream` when vs_gpg_stream_result accepts it (the same
 * judgement, policy and verdict follow); otherwise as vs_verify_package. */
vs_status vs_verify_package_streamed(vs_ctx *ctx, const char *package, const vs_verify_opts *opts,
                                     vs_gpg_stream *stream, vs_verdict **out, vs_error *err);

/* ---- checksum lists (checksums.c) --------------------------------------- */

/*
 * Find the SHA-256 of `name` in a checksum list as published: sha256sum
 * lines (`HEX  NAME` text, `HEX *NAME` binary; GNU's leading-backslash
 * escapes) and BSD tag lines (`SHA256 (NAME) = HEX`, also `SHA2-256(NAME)=
 * HEX`); LF or CRLF; blank and '#' lines skipped; entry names compared
 * after dropping a leading "./". Lines for other files, other algorithms
 * (by tag, or by hex length in sha256sum form) and malformed lines that do
 * not name `name` are not judged; a malformed line naming it is refused.
 * The package needs one SHA-256 entry, or duplicates that agree; no line
 * over VS_MAX_CHECKSUM_LINE. `file` is the subject of errors.
 * Returns VS_OK with out filled, or VS_E_VERIFY with the reason.
 */
vs_status vs_checksums_lookup(const uint8_t *p, size_t len, const char *file, const char *name,
                              uint8_t out[32], vs_error *err);

/* ---- policy (policy.c): pure functions, no files ------------------------ */

/*
 * A fingerprint as a binding or the store spells it, normalised: lower
 * case, spaces dropped, a leading "0x" dropped. Accepts an OpenPGP v4
 * fingerprint (40 hex) or an RSA one ("sha256:" + 64 hex); false otherwise.
 */
bool vs_fpr_normalize(const char *in, char out[VS_FPR_MAX]);

/* Whether the signer `fpr` is bound: nkeys == 0 binds every key; otherwise
 * fpr must equal one of keys after normalisation (full fingerprints only). */
bool vs_fpr_bound(const char *fpr, const char *const *keys, size_t nkeys);

/*
 * The verdict rule over judged results (apt's): for each kind in `require`
 * (OpenPGP first, then RSA), a result with effect VS_SIG_REJECTS fails it;
 * otherwise it needs at least one VS_SIG_COUNTS. Kinds not required are
 * not looked at. Returns VS_OK, or the failing status with *why the index
 * of the result that explains it (the first rejecting one, else the first
 * of that kind) or n when the kind has no result at all; *kind the kind.
 */
vs_status vs_sig_decide(const vs_sig_result *sigs, size_t n, unsigned require, size_t *why,
                        vs_sig_kind *kind);

/* ---- RSA (rsa_verify.c) --------------------------------------------------------- */

/* GCRY_MD_* of a scheme's hash, its length in bytes, whether it is PSS. */
int vs_rsa_scheme_md(vs_rsa_scheme scheme);
size_t vs_rsa_scheme_hlen(vs_rsa_scheme scheme);
bool vs_rsa_scheme_is_pss(vs_rsa_scheme scheme);

/*
 * Check the key's strength: at least VS_MIN_RSA_BITS and at most
 * VS_MAX_RSA_BITS, odd exponent >= VS_MIN_RSA_EXPONENT. *modlen gets the
 * modulus length in bytes. VS_OK, VS_E_POLICY (weak key) or VS_E_USAGE (not
 * an RSA public key). `name` for messages.
 */
vs_status vs_rsa_key_check(gcry_sexp_t pub, const char *name, size_t *modlen, unsigned *bits,
                           vs_error *err);

/*
 * Verify an RSA signature over a message digest with the key `pub` in the
 * one scheme `scheme` (PKCS#1 v1.5, or PSS with MGF1 of the same hash and a
 * salt of the hash length or the maximum). `sig` must be exactly the modulus
 * length. Returns VS_OK when valid, VS_E_VERIFY when not (err says why),
 * VS_E_POLICY when the key is weak.
 */
vs_status vs_rsa_verify_digest(gcry_sexp_t pub, vs_rsa_scheme scheme, const uint8_t *digest,
                               size_t dlen, const uint8_t *sig, size_t siglen, const char *name,
                               vs_error *err);

#endif
