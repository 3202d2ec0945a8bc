/* fuzz/fuzz_staged.c - the HOME/staged/ record parser over arbitrary
 * bytes: what it accepts has an absolute dest, a lower-case 64-hex digest, a
 * NAME@VERSION-shaped ref, and a pending digest that is "" or lower-case
 * 64-hex too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vs_staged r;
    vs_error err = VS_ERROR_INIT;
    if (vs_staged_parse(data, size, "fuzz", &r, &err) != VS_OK) {
        if (err.status != VS_E_INTEGRITY || strcmp(err.subject, "fuzz") != 0)
            abort();
        return 0;
    }
    if (r.dest[0] != '/' || strlen(r.digest) != 64 || !vs_layout_digest_valid(r.digest) ||
        !strchr(r.ref, '@') || r.staged < 0)
        abort();
    for (size_t i = 0; i < 64; i++)
        if (r.digest[i] >= 'A' && r.digest[i] <= 'F')
            abort();
    if (r.pending[0] && (strlen(r.pending) != 64 || !vs_layout_digest_valid(r.pending)))
        abort();
    for (size_t i = 0; r.pending[0] && i < 64; i++)
        if (r.pending[i] >= 'A' && r.pending[i] <= 'F')
            abort();
    return 0;
}
