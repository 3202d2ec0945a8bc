/* fuzz/fuzz_keystate.c - the key-states file parser (keys/keystate.c) over
 * arbitrary bytes, under a fixed head. What it accepts holds only canonical
 * fingerprints, and writing it out again gives the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "vetstage-keystate 1\n";
    const size_t hl = sizeof head - 1;
    vs_key_state *v = NULL;
    size_t n = 0;
    /* as given (the head must be the input's own start) ... */
    if (vs_keystate_parse(data, size, head, hl, &v, &n)) {
        size_t len = hl;
        for (size_t i = 0; i < n; i++) {
            char fpr[VS_FPR_MAX];
            if (vs_keys_fpr_normalise(v[i].fingerprint, fpr) == 0 ||
                strcmp(fpr, v[i].fingerprint) != 0)
                abort();
            len += 4 + strlen(v[i].fingerprint) + (v[i].revoked ? 9 : 7);
        }
        if (len != size) /* every byte accounted for: nothing skipped */
            abort();
    }
    free(v);
    return 0;
}
