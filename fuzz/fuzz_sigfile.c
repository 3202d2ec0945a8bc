/* fuzz/fuzz_sigfile.c - signature files are untrusted: OpenPGP sniffing,
 * strict base64, and the raw/base64 RSA signature decoder for common
 * modulus lengths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)vs_pgp_sig_sniff(data, size);

    size_t cap = size / 4 * 3 + 3;
    uint8_t *out = malloc(cap);
    if (!out)
        return 0;
    size_t n = 0;
    if (vs_base64_decode(data, size, VS_BASE64_SKIP_SPACE, out, cap, &n) && n > cap)
        abort();
    /* a smaller output buffer must be refused, never overrun */
    if (cap > 8)
        (void)vs_base64_decode(data, size, 0, out, 8, &n);
    free(out);

    static const size_t known[] = { 256, 384, 512 };
    char why[512];
    (void)vs_rsa_sig_explain(data, size, known, 3, why, sizeof why);
    if (!memchr(why, '\0', sizeof why))
        abort();
    (void)vs_rsa_sig_explain(data, size, known, 0, why, 16);

    static const size_t mods[] = { 1, 3, 256, 384, 512 };
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        uint8_t *sig = malloc(mods[i]);
        if (!sig)
            return 0;
        if (vs_rsa_sig_decode(data, size, mods[i], sig) && size == mods[i] &&
            memcmp(sig, data, size) != 0)
            abort();
        free(sig);
    }
    return 0;
}
