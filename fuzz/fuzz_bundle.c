/* fuzz/fuzz_bundle.c - the checks a bundle's untrusted parts go through before
 * anything is extracted or admitted: the first line of the input is an entry
 * name (vs_mirror_entry_name), the rest an index.json (vs_mirror_index_parse);
 * the whole input is also read as a sync URL list. Whatever is accepted must
 * keep the promises: a name that passes is one plain file below one folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/mirror_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *path)
{
    vs_bundle_kind kind;
    char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1], file[256];
    uint64_t limit = 0;
    if (!vs_mirror_entry_name(path, &kind, name, version, file, &limit))
        return;
    if (kind == VS_BUNDLE_INDEX) {
        if (strcmp(path, "index.json") != 0 || limit != VS_MAX_REF_FILE)
            abort();
        return;
    }
    if (path[0] == '/' || strstr(path, "..") == path || strstr(path, "/.") ||
        strchr(file, '/') || file[0] == '.' || !vs_valid_name(name) ||
        !vs_valid_version(version) || limit == 0 || limit > VS_DEFAULT_MAX_DOWNLOAD)
        abort();
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '\\' || *p == '?' || *p == '#' || *p == '%')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - data) : size;
    char *path = malloc(first + 1);
    if (!path)
        return 0;
    memcpy(path, data, first);
    path[first] = '\0';
    check_name(path);
    free(path);

    const uint8_t *rest = nl ? nl + 1 : data + size;
    size_t rlen = nl ? size - first - 1 : 0;
    vs_error err = VS_ERROR_INIT;
    vs_mirror_pkg *pk = NULL;
    size_t n = 0;
    if (vs_mirror_index_parse(rest, rlen, "fuzz", &pk, &n, &err) == VS_OK) {
        for (size_t i = 0; i < n; i++) {
            const vs_mirror_pkg *m = &pk[i];
            if (!vs_valid_name(m->name) || !vs_valid_version(m->version) ||
                !vs_mirror_valid_file(m->file))
                abort();
            const char *sig[] = { m->gpg_sig, m->checksums, m->checksums_sig, m->rsa_sig };
            for (size_t k = 0; k < 4; k++)
                if (sig[k][0] && !vs_mirror_valid_file(sig[k]))
                    abort();
        }
        free(pk);
    } else if (pk) {
        abort(); /* nothing handed out on failure */
    }

    char **urls = NULL;
    if (vs_mirror_list_parse(data, size, "fuzz", &urls, &n, &err) == VS_OK) {
        for (size_t i = 0; i < n; i++)
            if (!urls[i][0] || strlen(urls[i]) > VS_MAX_URL || urls[i][0] == '#')
                abort();
        vs_mirror_urls_free(urls, n);
    }
    return 0;
}
