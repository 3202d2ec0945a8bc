/*
 * verify/pgpstream.c - a detached OpenPGP signature over a binary document,
 * given to gpg as the signed message it is equivalent to.
 *
 * gpg 2.2 hashes the file of a detached signature one byte at a time
 * (iobuf_get + gcry_md_putc), but the literal data of a signed message in
 * 32 KiB blocks: measured on a 128 MiB package, gpgv over "signature
 * packets + literal data packet" takes 0.39 s CPU, over the detached pair
 * 0.9 s. A signature of class 0x00 (binary document) hashes the same bytes
 * either way (the document, then the signature's trailer), so gpg reaches
 * the same verdict over the same bytes. Only the canonical case takes this
 * road: one armor block (or binary) holding exactly one signature packet
 * of version 3 or 4 with class 0x00 and a definite length. Anything else
 * (several signatures, text mode, other packets) goes to gpg as the
 * detached pair, as before.
 */
#include <stdlib.h>
#include <string.h>

#include "verify/verify_int.h"

static bool is_sp(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The line [*pos, end of line) without its CR LF / LF and trailing blanks;
 * *pos moves past the newline. False at the end of the bytes. */
static bool next_line(const uint8_t *p, size_t len, size_t *pos, const uint8_t **l, size_t *n)
{
    if (*pos >= len)
        return false;
    size_t s = *pos, e = s;
    while (e < len && p[e] != '\n')
        e++;
    *pos = e < len ? e + 1 : e;
    while (e > s && (p[e - 1] == '\r' || p[e - 1] == ' ' || p[e - 1] == '\t'))
        e--;
    *l = p + s;
    *n = e - s;
    return true;
}

static bool line_eq(const uint8_t *l, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(l, s, n) == 0;
}

static bool line_starts(const uint8_t *l, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(l, s, k) == 0;
}

static uint32_t crc24(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xB704CEu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 16;
        for (int b = 0; b < 8; b++) {
            crc <<= 1;
            if (crc & 0x1000000u)
                crc ^= 0x1864CFBu;
        }
    }
    return crc & 0xFFFFFFu;
}

/* One armor block of a PGP SIGNATURE, strictly: Version/Comment headers
 * only, base64 lines, an optional CRC that must match, the END line, then
 * nothing but whitespace. */
/* One armored signature block at *pos (its BEGIN line first), decoded into
 * out; *pos moves past its END line. Armor headers: only Version and
 * Comment when strict, any "Name: value" otherwise (gpg writes Hash: and
 * Charset: too). A checksum line, when there is one, must match. */
static bool armor_block(const uint8_t *p, size_t len, size_t *pos, bool strict, uint8_t *out,
                        size_t cap, size_t *outlen)
{
    const uint8_t *l;
    size_t n;
    if (!next_line(p, len, pos, &l, &n) || !line_eq(l, n, "-----BEGIN PGP SIGNATURE-----"))
        return false;
    for (;;) { /* armor headers up to the blank line */
        if (!next_line(p, len, pos, &l, &n))
            return false;
        if (n == 0)
            break;
        if (strict ? !line_starts(l, n, "Version: ") && !line_starts(l, n, "Comment: ")
                   : !memchr(l, ':', n))
            return false;
    }
    size_t body = *pos, body_end = *pos;
    const uint8_t *crc = NULL;
    for (;;) {
        if (!next_line(p, len, pos, &l, &n))
            return false;
        if (line_eq(l, n, "-----END PGP SIGNATURE-----"))
            break;
        if (crc)
            return false; /* only the END line after the checksum */
        if (n == 5 && l[0] == '=') {
            crc = l + 1;
            continue;
        }
        body_end = *pos; /* base64 decoding below is strict, padding included */
    }
    if (!vs_base64_decode(p + body, body_end - body, VS_BASE64_SKIP_SPACE, out, cap, outlen) ||
        *outlen == 0)
        return false;
    if (crc) {
        uint8_t c[4];
        size_t cn = 0;
        if (!vs_base64_decode(crc, 4, 0, c, sizeof c, &cn) || cn != 3)
            return false;
        if ((((uint32_t)c[0] << 16) | ((uint32_t)c[1] << 8) | c[2]) != crc24(out, *outlen))
            return false;
    }
    return true;
}

static bool dearmor(const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t pos = 0;
    while (pos < len && is_sp(p[pos]))
        pos++;
    if (!armor_block(p, len, &pos, true, out, cap, outlen))
        return false;
    for (size_t i = pos; i < len; i++)
        if (!is_sp(p[i]))
            return false;
    return true;
}

/* The header of the packet at *i: its tag and body length (definite
 * lengths only, the body inside the bytes); *i moves to the body. */
static bool packet_next(const uint8_t *p, size_t len, size_t *pos, unsigned *tag, size_t *blen)
{
    size_t i = *pos;
    if (i >= len)
        return false;
    uint8_t ctb = p[i++];
    if (!(ctb & 0x80))
        return false;
    *blen = 0;
    if (ctb & 0x40) {
        *tag = ctb & 0x3Fu;
        if (i >= len)
            return false;
        uint8_t b0 = p[i++];
        if (b0 < 192) {
            *blen = b0;
        } else if (b0 < 224) {
            if (i >= len)
                return false;
            *blen = ((size_t)(b0 - 192) << 8) + p[i++] + 192;
        } else if (b0 == 255) {
            if (len - i < 4)
                return false;
            *blen = ((size_t)p[i] << 24) | ((size_t)p[i + 1] << 16) | ((size_t)p[i + 2] << 8) |
                    p[i + 3];
            i += 4;
        } else {
            return false; /* partial body length */
        }
    } else {
        *tag = (ctb >> 2) & 0x0Fu;
        unsigned lt = ctb & 3u;
        if (lt == 3)
            return false; /* indeterminate length */
        size_t nb = lt == 0 ? 1 : lt == 1 ? 2 : 4;
        if (len - i < nb)
            return false;
        for (size_t k = 0; k < nb; k++)
            *blen = (*blen << 8) | p[i + k];
        i += nb;
    }
    if (*blen > len - i)
        return false;
    *pos = i;
    return true;
}

/* Exactly one packet: a signature (tag 2) of version 3 or 4 and class
 * 0x00, with a definite length; nothing left over. (gpg 2.2 reads several
 * signature packets before literal data as one: only the one-signature
 * file is equivalent, several go to gpg as the detached pair.) */
static bool only_binary_sigs(const uint8_t *p, size_t len)
{
    size_t i = 0, count = 0;
    while (i < len) {
        unsigned tag;
        size_t blen;
        if (!packet_next(p, len, &i, &tag, &blen))
            return false;
        if (tag != 2 || blen < 3)
            return false;
        const uint8_t *b = p + i;
        if (!(b[0] == 4 && b[1] == 0x00) && !(b[0] == 3 && b[1] == 5 && b[2] == 0x00))
            return false;
        i += blen;
        count++;
    }
    return count == 1;
}

bool vs_pgp_detached_binary(const uint8_t *p, size_t len, uint8_t *out, size_t cap,
                            size_t *outlen)
{
    *outlen = 0;
    if (len == 0)
        return false;
    if (p[0] & 0x80) {
        if (len > cap)
            return false;
        memcpy(out, p, len);
        *outlen = len;
    } else if (!dearmor(p, len, out, cap, outlen)) {
        *outlen = 0;
        return false;
    }
    if (!only_binary_sigs(out, *outlen)) {
        *outlen = 0;
        return false;
    }
    return true;
}

size_t vs_pgp_literal_header(uint64_t size, uint8_t out[VS_PGP_LITERAL_HEADER])
{
    /* new-format literal data packet (tag 11), five-octet length: 'b', an
     * empty file name, a zero date, then the document */
    if (size > 0xFFFFFFFFu - 6u)
        return 0;
    uint32_t blen = (uint32_t)size + 6u;
    out[0] = 0xC0 | 11;
    out[1] = 255;
    out[2] = (uint8_t)(blen >> 24);
    out[3] = (uint8_t)(blen >> 16);
    out[4] = (uint8_t)(blen >> 8);
    out[5] = (uint8_t)blen;
    out[6] = 'b';
    out[7] = 0;
    memset(out + 8, 0, 4);
    return VS_PGP_LITERAL_HEADER;
}

size_t vs_pgp_head_take(const uint8_t *head, size_t len, size_t *off, void *buf, size_t size)
{
    if (*off >= len)
        return 0;
    size_t n = len - *off;
    if (n > size)
        n = size;
    memcpy(buf, head + *off, n);
    *off += n;
    return n;
}

/* ---- who made a signature (a hint for refusing early, never a verdict) ---- */

/* The issuer subpackets in one subpacket area: 16 (issuer key ID) and 33
 * (issuer fingerprint, version 4). False when the area is malformed. */
/* The issuer subpackets of one area. The issuer fingerprint counts only in
 * the hashed area, as gpg 2.2 reads it (the unhashed area is covered by no
 * signature: anyone could write a name there that gpg never looks up); the
 * issuer key ID counts in either, as gpg finds the key by it. */
static bool issuer_area(const uint8_t *a, size_t n, vs_pgp_issuer *is, bool hashed)
{
    size_t i = 0;
    while (i < n) {
        size_t sl;
        uint8_t b0 = a[i++];
        if (b0 < 192) {
            sl = b0;
        } else if (b0 < 255) {
            if (i >= n)
                return false;
            sl = ((size_t)(b0 - 192) << 8) + a[i++] + 192;
        } else {
            if (n - i < 4)
                return false;
            sl = ((size_t)a[i] << 24) | ((size_t)a[i + 1] << 16) | ((size_t)a[i + 2] << 8) |
                 a[i + 3];
            i += 4;
        }
        if (sl == 0 || sl > n - i)
            return false;
        unsigned type = a[i] & 0x7Fu;
        const uint8_t *d = a + i + 1;
        size_t dl = sl - 1;
        if (type == 16 && dl == 8 && !is->has_keyid) {
            memcpy(is->keyid, d, 8);
            is->has_keyid = true;
        } else if (hashed && type == 33 && dl == 21 && d[0] == 4 && !is->has_fpr) {
            memcpy(is->fpr, d + 1, 20);
            is->has_fpr = true;
        }
        i += sl;
    }
    return true;
}

/* One signature packet's body: version 3 (the key ID in the header) or 4
 * (the subpacket areas). */
static bool issuer_of(const uint8_t *b, size_t n, vs_pgp_issuer *is)
{
    memset(is, 0, sizeof *is);
    if (n >= 19 && b[0] == 3 && b[1] == 5) {
        memcpy(is->keyid, b + 7, 8);
        is->has_keyid = true;
        return true;
    }
    if (n < 6 || b[0] != 4)
        return false;
    size_t hl = ((size_t)b[4] << 8) | b[5];
    if (hl > n - 6 || n - 6 - hl < 2)
        return false;
    const uint8_t *u = b + 6 + hl;
    size_t ul = ((size_t)u[0] << 8) | u[1];
    if (ul > n - 8 - hl)
        return false;
    return issuer_area(b + 6, hl, is, true) && issuer_area(u + 2, ul, is, false);
}

bool vs_pgp_sig_issuers(const uint8_t *p, size_t len, vs_pgp_issuer *out, size_t cap,
                        size_t *n)
{
    *n = 0;
    if (len == 0)
        return false;
    uint8_t *bin = NULL;
    const uint8_t *q = p;
    size_t qlen = len;
    if (!(p[0] & 0x80)) {
        bin = malloc(len);
        if (!bin || !dearmor(p, len, bin, len, &qlen)) {
            free(bin);
            return false;
        }
        q = bin;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < qlen;) {
        unsigned tag;
        size_t blen;
        ok = packet_next(q, qlen, &i, &tag, &blen) && tag == 2 && *n < cap &&
             issuer_of(q + i, blen, &out[*n]);
        if (ok) {
            (*n)++;
            i += blen;
        }
    }
    free(bin);
    if (!ok)
        *n = 0;
    return ok && *n > 0;
}

/* ---- every block of a file, for stage's re-check (vs_pgp_sig_issuers_any) ---- */

/*
 * Every armored signature block in p (several may follow one another, as
 * `cat a.asc b.asc` makes them; armor headers of any name; text between
 * blocks is skipped, as gpg skips it) decoded into one binary run of
 * packets in out (cap bytes). False when a block is cut or damaged.
 */
static bool dearmor_all(const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *olen)
{
    *olen = 0;
    size_t pos = 0, at = 0;
    const uint8_t *l;
    size_t n;
    while (next_line(p, len, &pos, &l, &n)) {
        if (line_eq(l, n, "-----BEGIN PGP SIGNATURE-----")) {
            size_t k = 0;
            pos = at; /* the block from its BEGIN line */
            if (!armor_block(p, len, &pos, false, out + *olen, cap - *olen, &k))
                return false;
            *olen += k;
        }
        at = pos;
    }
    return *olen > 0;
}

bool vs_pgp_sig_issuers_any(const uint8_t *p, size_t len, vs_pgp_issuer *iss, size_t cap,
                             size_t *n)
{
    *n = 0;
    if (len > 0 && (p[0] & 0x80))
        return vs_pgp_sig_issuers(p, len, iss, cap, n);
    uint8_t *bin = malloc(len ? len : 1);
    size_t blen = 0;
    bool ok = bin && dearmor_all(p, len, bin, len, &blen) &&
              vs_pgp_sig_issuers(bin, blen, iss, cap, n);
    free(bin);
    return ok;
}
