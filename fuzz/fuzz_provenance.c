/* fuzz/fuzz_provenance.c - the provenance.json parser over arbitrary bytes.
 * What it accepts must hold its invariants: valid name and version, a hex
 * SHA-256, fingerprints of the fingerprint alphabet, no negative time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vs_provenance p;
    vs_error err = VS_ERROR_INIT;
    if (vs_provenance_parse(data, size, "fuzz", &p, &err) != VS_OK) {
        if (err.status != VS_E_INTEGRITY || !err.subject[0])
            abort();
        return 0;
    }
    uint8_t d[32];
    if (!vs_valid_name(p.name) || !vs_valid_version(p.version) ||
        !vs_unhex(d, sizeof d, p.sha256, strlen(p.sha256)) || p.signed_at < 0 ||
        p.nsigners > VS_PROVENANCE_MAX_SIGNERS)
        abort();
    for (size_t i = 0; i < p.nsigners; i++)
        if (!p.signers[i][0] || strlen(p.signers[i]) >= VS_FPR_MAX)
            abort();
    return 0;
}
