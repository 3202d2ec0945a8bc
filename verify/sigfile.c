/* verify/sigfile.c - sniffing and decoding signature files (untrusted bytes). */
#include <string.h>

#include "verify/verify_int.h"

static bool is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

bool vs_rsa_sig_decode(const uint8_t *p, size_t len, size_t modlen, uint8_t *out)
{
    if (modlen == 0)
        return false;
    if (len == modlen) {
        memcpy(out, p, modlen);
        return true;
    }
    size_t n = 0;
    if (!vs_base64_decode(p, len, VS_BASE64_SKIP_SPACE, out, modlen, &n))
        return false;
    return n == modlen;
}

/* The line without trailing spaces and tabs equals lit. */
static bool line_is(const char *l, size_t n, const char *lit)
{
    while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
        n--;
    return n == strlen(lit) && memcmp(l, lit, n) == 0;
}

vs_pgp_form vs_pgp_sig_sniff(const uint8_t *p, size_t len)
{
    static const char armor[] = "-----BEGIN PGP SIGNATURE-----";
    static const char clear[] = "-----BEGIN PGP SIGNED MESSAGE-----";
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    uint8_t first;
    if (!vs_cursor_u8(&c, &first))
        return VS_PGP_NONE;
    /* binary: a packet header with the tag of a signature packet (2) */
    if (first & 0x80) {
        unsigned tag = (first & 0x40) ? (first & 0x3Fu) : ((first >> 2) & 0x0Fu);
        return tag == 2 ? VS_PGP_BINARY : VS_PGP_NONE;
    }
    /* armored: skip leading whitespace, then the armor header line */
    size_t i = 0;
    while (i < len && is_space(p[i]))
        i++;
    vs_cursor_init(&c, p + i, len - i);
    /* a clearsigned message: its armor line is a whole line of its own, as
     * vs_clearsign_present and the framing check read it */
    if (i == 0 || p[i - 1] == '\n') {
        const char *l;
        size_t n;
        vs_cursor lc = c;
        if (vs_cursor_line(&lc, VS_MAX_CHECKSUM_LINE, &l, &n) && line_is(l, n, clear))
            return VS_PGP_CLEARSIGNED;
    }
    const uint8_t *h = vs_cursor_bytes(&c, sizeof armor - 1);
    if (h && memcmp(h, armor, sizeof armor - 1) == 0)
        return VS_PGP_ARMORED;
    return VS_PGP_NONE;
}

/* ---- clearsigned messages: the framing only ------------------------------- */

static const char cs_begin[] = "-----BEGIN PGP SIGNED MESSAGE-----";
static const char cs_sig[] = "-----BEGIN PGP SIGNATURE-----";
static const char cs_end[] = "-----END PGP SIGNATURE-----";

static bool line_blank(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t')
            return false;
    return true;
}

/* One algorithm of a "Hash:" armor header; only SHA-2 is accepted. */
static bool strong_hash_name(const char *s, size_t n)
{
    static const char *const ok[] = { "SHA256", "SHA384", "SHA512", "SHA224" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (n == strlen(ok[i]) && memcmp(s, ok[i], n) == 0)
            return true;
    return false;
}

/* "Hash: A[,B...]" with every algorithm strong. */
static vs_status hash_header(const char *l, size_t n, unsigned lineno, const char *file,
                             vs_error *err)
{
    vs_cursor c;
    vs_cursor_init(&c, l, n);
    const uint8_t *h = vs_cursor_bytes(&c, 6);
    if (!h || memcmp(h, "Hash: ", 6) != 0)
        return vs_error_subj(err, VS_E_VERIFY, file,
                             "clearsigned message: line %u is an armor header other than Hash:",
                             lineno);
    const char *v = (const char *)c.p + c.pos;
    size_t left = vs_cursor_left(&c), start = 0;
    while (left > 0 && (v[left - 1] == ' ' || v[left - 1] == '\t'))
        left--;
    for (size_t i = 0; i <= left; i++) {
        if (i < left && v[i] != ',')
            continue;
        if (!strong_hash_name(v + start, i - start))
            return vs_error_subj(err, VS_E_VERIFY, file,
                                 "clearsigned with a weak or unknown hash (Hash: %.*s); SHA-256 "
                                 "or stronger is required",
                                 (int)(left > 64 ? 64 : left), v);
        start = i + 1;
    }
    return VS_OK;
}

enum cs_state { CS_BEFORE, CS_HEADERS, CS_TEXT, CS_SIG, CS_AFTER };

static vs_status cs_step(enum cs_state *st, const char *l, size_t n, unsigned lineno,
                         const char *file, vs_error *err)
{
    switch (*st) {
    case CS_BEFORE:
        if (line_blank(l, n))
            return VS_OK;
        if (!line_is(l, n, cs_begin))
            return vs_error_subj(err, VS_E_VERIFY, file,
                                 "not a clearsigned message (line %u precedes its first line)",
                                 lineno);
        *st = CS_HEADERS;
        return VS_OK;
    case CS_HEADERS:
        if (n == 0) {
            *st = CS_TEXT;
            return VS_OK;
        }
        return hash_header(l, n, lineno, file, err);
    case CS_TEXT:
        if (line_is(l, n, cs_sig)) {
            *st = CS_SIG;
            return VS_OK;
        }
        if (n > 0 && l[0] == '-' && (n < 2 || l[1] != ' '))
            return vs_error_subj(err, VS_E_VERIFY, file,
                                 "clearsigned message: line %u starts with '-' but is not "
                                 "dash-escaped",
                                 lineno);
        return VS_OK;
    case CS_SIG:
        if (line_is(l, n, cs_end)) {
            *st = CS_AFTER;
            return VS_OK;
        }
        if (n > 0 && l[0] == '-')
            return vs_error_subj(err, VS_E_VERIFY, file,
                                 "clearsigned message: unexpected armor line %u in the signature",
                                 lineno);
        return VS_OK;
    case CS_AFTER:
    default:
        if (line_blank(l, n))
            return VS_OK;
        return vs_error_subj(err, VS_E_VERIFY, file,
                             "clearsigned message: text after its signature (line %u); only one "
                             "signed message is accepted",
                             lineno);
    }
}

bool vs_clearsign_present(const uint8_t *p, size_t len)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *l;
    size_t n;
    /* a line longer than the limit ends the search: the check refuses it anyway */
    while (vs_cursor_line(&c, VS_MAX_CHECKSUM_LINE, &l, &n))
        if (line_is(l, n, cs_begin))
            return true;
    return false;
}

vs_status vs_clearsign_check(const uint8_t *p, size_t len, const char *file, vs_error *err)
{
    if (len > VS_MAX_CHECKSUM_FILE)
        return vs_error_subj(err, VS_E_VERIFY, file, "larger than the limit of %u bytes",
                             VS_MAX_CHECKSUM_FILE);
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    enum cs_state st = CS_BEFORE;
    const char *l;
    size_t n;
    unsigned lineno = 0;
    while (vs_cursor_line(&c, VS_MAX_CHECKSUM_LINE, &l, &n)) {
        lineno++;
        if (memchr(l, '\0', n))
            return vs_error_subj(err, VS_E_VERIFY, file,
                                 "clearsigned message: line %u holds a NUL byte", lineno);
        vs_status s = cs_step(&st, l, n, lineno, file, err);
        if (s)
            return s;
    }
    if (c.bad)
        return vs_error_subj(err, VS_E_VERIFY, file, "line %u longer than the limit of %u bytes",
                             lineno + 1, VS_MAX_CHECKSUM_LINE);
    if (st != CS_AFTER)
        return vs_error_subj(err, VS_E_VERIFY, file,
                             "clearsigned message ends early (no complete signature block)");
    return VS_OK;
}

/* ---- why an RSA signature file fits no stored key ---------------------------- */

/* "384" or "256, 384 and 512" */
static void list_lengths(const size_t *mods, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && k < cap; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
        int w = snprintf(out + k, cap - k, "%s%zu", sep, mods[i]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

bool vs_rsa_sig_explain(const uint8_t *p, size_t len, const size_t *mods, size_t nmods, char *out,
                        size_t cap)
{
    const size_t hi = VS_MAX_RSA_BITS / 8;
    uint8_t tmp[VS_MAX_RSA_BITS / 8];
    size_t n = 0;
    bool b64 = len > 0 && vs_base64_decode(p, len, VS_BASE64_SKIP_SPACE, tmp, sizeof tmp, &n) && n > 0;
    size_t l = b64 ? n : len;
    const char *form = b64 ? "base64 of " : "";
    char ml[128];
    list_lengths(mods, nmods, ml, sizeof ml);
    /* a standard modulus length: a signature by a key the store does not hold */
    if (l % 32 == 0 && l >= VS_MIN_RSA_BITS / 8 && l <= hi) {
        snprintf(out, cap,
                 "not made by any RSA key in the trust store (a signature of %zu bytes; the "
                 "stored keys' moduli are %s bytes)",
                 l, nmods ? ml : "no");
        return true;
    }
    /* raw bytes followed by "\n" or "\r\n" (both lengths are tried: a raw
     * signature may itself end in a 0x0d byte) */
    bool nl = !b64 && len > 0 && p[len - 1] == '\n';
    bool crnl = nl && len > 1 && p[len - 2] == '\r';
    for (size_t i = 0; i < nmods; i++) {
        size_t t = nl && len - 1 == mods[i] ? len - 1 : crnl && len - 2 == mods[i] ? len - 2 : len;
        if (t != len) {
            snprintf(out, cap,
                     "malformed RSA signature file: %zu bytes, a %zu-byte raw signature followed "
                     "by a newline (a raw signature is exactly the modulus length: remove the "
                     "newline, or give it in base64)",
                     len, t);
            return false;
        }
        if (l < mods[i] && mods[i] - l <= 4) {
            snprintf(out, cap,
                     "malformed RSA signature file: %s%zu bytes, %zu short of the %zu-byte "
                     "modulus (leading zero bytes stripped? a signature keeps them, padded to "
                     "the modulus length)",
                     form, l, mods[i] - l, mods[i]);
            return false;
        }
    }
    snprintf(out, cap,
             "not an RSA signature: %s%zu bytes, neither raw nor base64 of a modulus length "
             "(the stored keys' moduli are %s bytes)",
             form, l, nmods ? ml : "no");
    return false;
}
