/* fuzz/fuzz_manifest.c - the MANIFEST.sha256 and MODES parsers on arbitrary
 * bytes. Whatever both accept renders and parses back to the same set. */
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vs_pathset a, b;
    vs_pathset_init(&a);
    vs_pathset_init(&b);
    vs_error err = VS_ERROR_INIT;
    vs_status sm = vs_manifest_parse(data, size, "MANIFEST", &a, &err);
    vs_pathset_free(&a);
    vs_pathset_init(&a);
    vs_status sd = vs_modes_parse(data, size, "MODES", &a, &err);
    (void)sm;
    if (sd == VS_OK) {
        /* entries with a type render to both files; read them back */
        for (size_t i = 0; i < a.cap; i++)
            if (a.slots[i] && a.slots[i]->type == 'f')
                a.slots[i]->has_sha = true;
        char *m = NULL, *d = NULL;
        size_t ml = 0, dl = 0;
        if (vs_manifest_render(&a, &m, &ml, &d, &dl, &err) == VS_OK) {
            if (vs_manifest_parse((uint8_t *)m, ml, "M", &b, &err) != VS_OK ||
                vs_modes_parse((uint8_t *)d, dl, "D", &b, &err) != VS_OK || b.n != a.n)
                abort();
        }
        free(m);
        free(d);
    }
    vs_pathset_free(&a);
    vs_pathset_free(&b);
    return 0;
}
