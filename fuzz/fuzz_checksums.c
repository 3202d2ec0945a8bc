/* fuzz/fuzz_checksums.c - the sha256sum-format checksum list parser. The
 * first line of the input (up to 64 bytes) is the name looked up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[65];
    size_t k = 0;
    while (k < size && k < 64 && data[k] != '\n' && data[k] != '\0') {
        name[k] = (char)data[k];
        k++;
    }
    name[k] = '\0';
    size_t skip = k < size ? k + 1 : k;
    vs_error err = VS_ERROR_INIT;
    uint8_t out[32];
    vs_status st = vs_checksums_lookup(data + skip, size - skip, "list", name, out, &err);
    if (st != VS_OK && st != VS_E_VERIFY)
        abort();
    if (st != VS_OK && strncmp(err.message, "list: ", 6) != 0)
        abort();
    return 0;
}
