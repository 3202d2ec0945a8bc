/* fuzz/fuzz_pgpstream.c - a detached OpenPGP signature file (untrusted) read
 * for the signed-message form gpg checks fast: the strict armor reader and
 * the packet walk. Whatever it accepts is one signature packet of class
 * 0x00 with a definite length, never longer than the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = malloc(size + 1);
    if (!out)
        return 0;
    size_t n = 0;
    if (vs_pgp_detached_binary(data, size, out, size, &n)) {
        if (n == 0 || n > size)
            abort();
        /* the first packet is a signature packet, old or new format */
        unsigned tag = (out[0] & 0x40) ? (out[0] & 0x3Fu) : ((out[0] >> 2) & 0x0Fu);
        if (!(out[0] & 0x80) || tag != 2)
            abort();
        /* the binary form is a fixed point */
        uint8_t *again = malloc(n);
        size_t m = 0;
        if (again && (!vs_pgp_detached_binary(out, n, again, n, &m) || m != n ||
                      memcmp(again, out, n) != 0))
            abort();
        free(again);
    } else if (n != 0) {
        abort();
    }
    /* a smaller output buffer must be refused, never overrun */
    if (size > 16)
        (void)vs_pgp_detached_binary(data, size, out, 16, &n);
    uint8_t h[VS_PGP_LITERAL_HEADER];
    if (vs_pgp_literal_header(size, h) != VS_PGP_LITERAL_HEADER || h[0] != 0xCB)
        abort();
    free(out);
    return 0;
}
