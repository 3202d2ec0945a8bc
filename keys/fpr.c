/*
 * keys/fpr.c - fingerprints as people paste them.
 *
 * Upstreams publish their fingerprints as `gpg --fingerprint` prints them:
 * "27ED EAF2 2F3A BCEB 50DB  9A12 5CC9 08FD B71E 12C2" (ten groups of four,
 * two spaces in the middle), often with "0x" in front. Those spellings are
 * accepted; anything looser (a short or long key id, stray characters,
 * spaces inside a group) is not, since a fingerprint is a trust decision.
 */
#include <ctype.h>
#include <string.h>

#include "keys/keys_int.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* 40 hex digits in a row, or ten groups of four separated by one or two
 * spaces (gpg puts two in the middle). */
static bool openpgp_digits(const char *p, size_t n, char out[VS_FPR_MAX])
{
    bool grouped = memchr(p, ' ', n) != NULL;
    size_t nd = 0, i = 0;
    while (i < n) {
        if (grouped && nd > 0) {
            size_t run = 0;
            while (i < n && p[i] == ' ')
                run++, i++;
            if (run < 1 || run > 2)
                return false;
        }
        size_t take = grouped ? 4 : 40;
        for (size_t k = 0; k < take; k++, i++) {
            if (i >= n || nd >= 40 || !isxdigit((unsigned char)p[i]))
                return false;
            out[nd++] = (char)toupper((unsigned char)p[i]);
        }
    }
    out[nd] = '\0';
    return nd == 40;
}

vs_key_type vs_keys_fpr_normalise(const char *in, char out[VS_FPR_MAX])
{
    out[0] = '\0';
    if (!in)
        return 0;
    size_t n = strnlen(in, 256);
    if (n == 256)
        return 0;
    while (n > 0 && is_blank(in[n - 1]))
        n--;
    while (n > 0 && is_blank(*in)) {
        in++;
        n--;
    }
    if (n == 71 && strncasecmp(in, "sha256:", 7) == 0) {
        memcpy(out, "sha256:", 7);
        for (size_t i = 7; i < 71; i++) {
            if (!isxdigit((unsigned char)in[i])) {
                out[0] = '\0';
                return 0;
            }
            out[i] = (char)tolower((unsigned char)in[i]);
        }
        out[71] = '\0';
        return VS_KEY_RSA;
    }
    if (n >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
        in += 2;
        n -= 2;
    }
    if (!openpgp_digits(in, n, out)) {
        out[0] = '\0';
        return 0;
    }
    return VS_KEY_OPENPGP;
}

/* Hex digits in the text, to tell a key id from a fingerprint in the message. */
static size_t count_hex(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (isxdigit((unsigned char)*s))
            n++;
        else if (*s != ' ' && *s != 'x' && *s != 'X')
            return 0;
    return n;
}

vs_status vs_keys_fpr_parse(const char *in, const char *what, char out[VS_FPR_MAX],
                            vs_key_type *type, vs_error *err)
{
    vs_key_type t = vs_keys_fpr_normalise(in, out);
    if (type)
        *type = t;
    if (t)
        return VS_OK;
    char subj[112];
    snprintf(subj, sizeof subj, "%.100s", in ? in : "");
    size_t hex = in ? count_hex(in) : 0;
    if (hex == 16 || hex == 8)
        vs_error_subj(err, VS_E_USAGE, subj,
                      "a key id, not a fingerprint (a key id does not identify a key), given to %s",
                      what);
    else
        vs_error_subj(err, VS_E_USAGE, subj,
                      "not a fingerprint (40 hex digits for OpenPGP, sha256: and 64 hex digits "
                      "for RSA), given to %s",
                      what);
    vs_error_hint(err, "give the full fingerprint as gpg --fingerprint prints it, e.g. "
                       "'27ED EAF2 2F3A BCEB 50DB  9A12 5CC9 08FD B71E 12C2'");
    return VS_E_USAGE;
}
