/* fuzz/fuzz_clearsign.c - the framing of clearsigned checksum lists
 * (untrusted bytes checked before gpg sees them) and the sniffers that
 * tell a clearsigned file from a detached signature. Then the signed-text
 * lookup over the same bytes, as if gpg had returned them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_clearsign_check(data, size, "list", &err);
    if (st != VS_OK && st != VS_E_VERIFY)
        abort();
    if (st != VS_OK && strcmp(err.subject, "list") != 0)
        abort();
    bool present = vs_clearsign_present(data, size);
    vs_pgp_form form = vs_pgp_sig_sniff(data, size);
    /* a message the framing accepts has its armor line, and sniffs as one */
    if (st == VS_OK && (!present || form != VS_PGP_CLEARSIGNED))
        abort();
    if (form == VS_PGP_CLEARSIGNED && !present && size <= VS_MAX_CHECKSUM_LINE)
        abort();
    uint8_t out[32];
    vs_error e2 = VS_ERROR_INIT;
    st = vs_checksums_lookup(data, size, "list", "agent-1.2.3.tgz", out, &e2);
    if (st != VS_OK && st != VS_E_VERIFY)
        abort();
    return 0;
}
