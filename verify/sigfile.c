/* verify/sigfile.c - sniffing and decoding signature files (untrusted bytes). */
#include <string.h>

#include "verify/verify_int.h"

static int b64val(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

static bool is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

bool vs_base64_decode(const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    uint32_t acc = 0;
    unsigned nchars = 0; /* characters in the current quantum */
    unsigned pad = 0;
    size_t n = 0;
    uint8_t ch;
    *outlen = 0;
    while (vs_cursor_u8(&c, &ch)) {
        if (is_space(ch))
            continue;
        if (ch == '=') {
            /* padding only completes a quantum of 2 or 3 characters */
            if (nchars + pad < 2 || nchars + pad >= 4)
                return false;
            pad++;
            continue;
        }
        int v = b64val(ch);
        if (v < 0 || pad > 0)
            return false; /* data after padding, or not base64 */
        acc = acc << 6 | (uint32_t)v;
        if (++nchars == 4) {
            if (cap - n < 3)
                return false;
            out[n++] = (uint8_t)(acc >> 16);
            out[n++] = (uint8_t)(acc >> 8);
            out[n++] = (uint8_t)acc;
            acc = 0;
            nchars = 0;
        }
    }
    if (nchars == 0 && pad == 0) {
        *outlen = n;
        return true;
    }
    /* a final partial quantum must be padded to 4 */
    if (nchars + pad != 4)
        return false;
    if (nchars == 2) {
        if (acc & 0xF) /* unused bits must be zero */
            return false;
        if (cap - n < 1)
            return false;
        out[n++] = (uint8_t)(acc >> 4);
    } else if (nchars == 3) {
        if (acc & 0x3)
            return false;
        if (cap - n < 2)
            return false;
        out[n++] = (uint8_t)(acc >> 10);
        out[n++] = (uint8_t)(acc >> 2);
    } else {
        return false;
    }
    *outlen = n;
    return true;
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
    if (!vs_base64_decode(p, len, out, modlen, &n))
        return false;
    return n == modlen;
}

vs_pgp_form vs_pgp_sig_sniff(const uint8_t *p, size_t len)
{
    static const char armor[] = "-----BEGIN PGP SIGNATURE-----";
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
    const uint8_t *h = vs_cursor_bytes(&c, sizeof armor - 1);
    if (h && memcmp(h, armor, sizeof armor - 1) == 0)
        return VS_PGP_ARMORED;
    return VS_PGP_NONE;
}
