/* fuzz/fuzz_urlname.c - name/version inference, mirror URLs and the URL
 * checks over arbitrary bytes (as a NUL-terminated string). Invariants: an
 * accepted name/version is valid; a mirror URL ends in "/" + the file name
 * that name/version inference saw; nothing reads past the string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/fetch_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * VS_MAX_URL)
        return 0;
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';

    char name[VS_MAX_NAME + 1], version[VS_MAX_VERSION + 1];
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_fetch_name_version(url, name, version, &err);
    if (st == VS_OK && (!vs_valid_name(name) || !vs_valid_version(version)))
        abort();
    if (st != VS_OK && (st != VS_E_USAGE || name[0] || version[0]))
        abort();

    size_t flen;
    const char *file = vs_fetch_url_filename(url, &flen, NULL, NULL);
    char *m = vs_fetch_mirror_url("https://mirror.example/base//", url);
    if (m) {
        size_t mlen = strlen(m);
        const char *prefix = "https://mirror.example/base/";
        if (flen == 0 || mlen != strlen(prefix) + flen || strncmp(m, prefix, strlen(prefix)) != 0 ||
            memcmp(m + strlen(prefix), file, flen) != 0 || memchr(file, '/', flen) != NULL)
            abort();
        free(m);
    } else if (flen > 0) {
        abort();
    }

    vs_url_scheme s;
    if (vs_fetch_check_url(url, &s, &err) == VS_OK &&
        s != VS_SCHEME_HTTPS && s != VS_SCHEME_HTTP && s != VS_SCHEME_FILE)
        abort();
    free(url);
    return 0;
}
