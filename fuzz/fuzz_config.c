/* fuzz/fuzz_config.c - the configuration file parser (vs_config_parse) and,
 * for what it accepts, the resolution of NAME@VERSION of every source with
 * a few versions. Promises kept: an accepted file has only sources with a
 * valid name and a url; a refusal names "config:LINE"; every expanded URL
 * is bounded and keeps the template's scheme. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source/source_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vs_config *cfg = NULL;
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_config_parse(&cfg, data, size, "config", &err);
    if (st != VS_OK) {
        if (cfg || (st == VS_E_USAGE && strncmp(err.subject, "config", 6) != 0))
            abort();
        return 0;
    }
    static const char *const versions[] = { "1", "1.2", "6.2.0.1234", "1.2.3-rc1~x" };
    for (size_t i = 0; i < vs_config_count(cfg); i++) {
        const char *name = vs_config_source_name(cfg, i);
        if (!vs_valid_name(name) || !cfg->src[i].val[VS_K_URL])
            abort();
        for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
            char ref[VS_MAX_NAME + 32];
            snprintf(ref, sizeof ref, "%s@%s", name, versions[v]);
            vs_source_release *r = NULL;
            vs_error e2 = VS_ERROR_INIT;
            if (vs_source_resolve(&r, cfg, ref, &e2) != VS_OK) {
                if (r)
                    abort();
                continue;
            }
            const char *u = r->fetch.url;
            if (!u || strlen(u) > VS_MAX_URL || strchr(u, '{') || strchr(u, ' '))
                abort();
            if (strncasecmp(u, "https://", 8) && strncasecmp(u, "http://", 7) &&
                strncasecmp(u, "file://", 7))
                abort();
            if (r->fetch.nmirrors > VS_CACHE_MAX_MIRRORS || r->fetch.nkeys > VS_MAX_SOURCE_KEYS)
                abort();
            vs_source_release_free(r);
        }
    }
    vs_config_free(cfg);
    return 0;
}
