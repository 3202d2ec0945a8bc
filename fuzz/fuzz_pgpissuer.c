/* fuzz/fuzz_pgpissuer.c - the issuers a detached OpenPGP signature file
 * names (untrusted): armor, packet walk, v3 header, v4 subpacket areas.
 * Whatever it accepts has at least one and at most cap entries; a file
 * read as one signature the fast path accepts names as many issuers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vs_pgp_issuer is[4];
    size_t n = 99;
    bool ok = vs_pgp_sig_issuers(data, size, is, 4, &n);
    if (ok ? (n == 0 || n > 4) : n != 0)
        abort();
    /* a smaller table is refused or filled, never overrun */
    size_t m = 99;
    if (vs_pgp_sig_issuers(data, size, is, 1, &m) ? m != 1 : m != 0)
        abort();
    uint8_t *out = malloc(size + 1);
    size_t blen = 0;
    if (out && vs_pgp_detached_binary(data, size, out, size, &blen)) {
        /* one signature packet (v3 or v4): read the same way, it names one issuer entry,
         * unless its v4 subpacket areas are malformed */
        size_t k = 0;
        if (vs_pgp_sig_issuers(out, blen, is, 4, &k) && k != 1)
            abort();
    }
    free(out);
    /* every block of a file (stage's re-check): the same bounds */
    size_t a = 99;
    if (vs_pgp_sig_issuers_any(data, size, is, 4, &a) ? (a == 0 || a > 4) : a != 0)
        abort();
    return 0;
}
