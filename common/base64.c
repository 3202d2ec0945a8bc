/* common/base64.c - the one base64 decoder (RFC 4648, standard alphabet),
 * for PEM keys and RSA signature files. libc only (the static checker links
 * every common/ file but ctx.c and init.c). */
#include "common/common_int.h"

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

/* One quantum of four characters into 1..3 bytes at out (room bytes free).
 * '=' only as the last one or two characters; the bits the padding leaves
 * unused must be zero. *padded says the data ended here. */
static bool quantum(const uint8_t q[4], uint8_t *out, size_t room, size_t *got, bool *padded)
{
    uint32_t w = 0;
    unsigned pad = 0;
    for (unsigned k = 0; k < 4; k++) {
        int v = 0;
        if (q[k] == '=') {
            if (k < 2)
                return false;
            pad++;
        } else if (pad > 0 || (v = b64val(q[k])) < 0) {
            return false; /* data after '=' inside the quantum, or not base64 */
        }
        w = w << 6 | (uint32_t)v;
    }
    if ((pad == 2 && (w & 0xffffu) != 0) || (pad == 1 && (w & 0xffu) != 0))
        return false;
    size_t n = 3u - pad;
    if (room < n)
        return false;
    out[0] = (uint8_t)(w >> 16);
    if (n > 1)
        out[1] = (uint8_t)(w >> 8);
    if (n > 2)
        out[2] = (uint8_t)w;
    *got = n;
    *padded = pad > 0;
    return true;
}

bool vs_base64_decode(const uint8_t *p, size_t len, unsigned flags, uint8_t *out, size_t cap,
                      size_t *outlen)
{
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    uint8_t q[4];
    unsigned nq = 0;
    bool ended = false;
    size_t n = 0;
    uint8_t ch;
    *outlen = 0;
    while (vs_cursor_u8(&c, &ch)) {
        if (is_space(ch)) {
            if (flags & VS_BASE64_SKIP_SPACE)
                continue;
            return false;
        }
        if (ended)
            return false; /* data after the padding */
        q[nq++] = ch;
        if (nq < 4)
            continue;
        nq = 0;
        size_t got = 0;
        if (!quantum(q, out + n, cap - n, &got, &ended))
            return false;
        n += got;
    }
    if (nq != 0)
        return false; /* a final quantum must be padded to four characters */
    *outlen = n;
    return true;
}
