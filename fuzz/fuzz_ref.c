/* fuzz/fuzz_ref.c - the cache ref parser over arbitrary bytes. A ref that
 * parses must format and parse back to the same entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vs_cache_entry e, back; /* zeroed; cleared after each input */
    vs_error err = VS_ERROR_INIT;
    if (vs_cache_ref_parse(data, size, "fuzz", &e, &err) != VS_OK)
        return 0;
    char *json = NULL;
    size_t len = 0;
    if (vs_cache_ref_format(&e, &json, &len, &err) != VS_OK)
        abort(); /* everything the parser accepts must be writable */
    if (vs_cache_ref_parse((const uint8_t *)json, len, "fuzz", &back, &err) != VS_OK)
        abort();
    /* the same entry: the same JSON form, field for field */
    char *a = vs_cache_entry_json(&e), *b = vs_cache_entry_json(&back);
    if (!a || !b || strcmp(a, b) != 0 || strcmp(vs_cache_entry_url(&e), vs_cache_entry_url(&back)))
        abort();
    free(a);
    free(b);
    free(json);
    vs_cache_entry_clear(&e);
    vs_cache_entry_clear(&back);
    return 0;
}
