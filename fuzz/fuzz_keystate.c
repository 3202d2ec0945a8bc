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
        /* every byte accounted for: the states written again are the input */
        size_t off = hl;
        for (size_t i = 0; i < n; i++) {
            char line[600];
            int k = vs_keystate_line(line, sizeof line, &v[i]);
            if (k <= 0 || (size_t)k >= sizeof line || off + (size_t)k > size ||
                memcmp(data + off, line, (size_t)k) != 0)
                abort();
            off += (size_t)k;
        }
        if (off != size)
            abort();
    }
    free(v);
    return 0;
}
