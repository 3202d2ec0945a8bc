/* fuzz/fuzz_urlname.c - name/version inference (with and without a given
 * name), the file name of a URL, mirror URLs, redaction and the URL checks
 * over arbitrary bytes (as a NUL-terminated string). Invariants: an accepted
 * name/version is valid, and a refusal leaves both empty; a given name is
 * kept as given; a mirror URL ends in "/" + the file name that name/version
 * inference saw, which is the file name vs_fetch_file_name gives; redaction
 * is idempotent, never longer than the URL plus its REDACTED markers, and
 * leaves no '@' in the authority; nothing reads past the string. */
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
    vs_status st = vs_fetch_name_version(name, version, url, &err);
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

    /* with a given name: kept as given, the version valid */
    char gname[VS_MAX_NAME + 1], gversion[VS_MAX_VERSION + 1];
    st = vs_fetch_name_version_for(gname, gversion, url, "lacework", &err);
    if (st == VS_OK && (strcmp(gname, "lacework") != 0 || !vs_valid_version(gversion)))
        abort();
    if (st != VS_OK && (st != VS_E_USAGE || gname[0] || gversion[0]))
        abort();
    /* with no name to infer from the URL, a given name still decides it */
    if (vs_fetch_name_version(name, version, url, NULL) == VS_OK &&
        vs_fetch_name_version_for(gname, gversion, url, name, NULL) != VS_OK)
        abort();

    /* the one file-name rule */
    char fname[256];
    st = vs_fetch_file_name(fname, sizeof fname, url, &err);
    if (st == VS_OK && (flen == 0 || strlen(fname) != flen || memcmp(fname, file, flen) != 0))
        abort();
    if (st != VS_OK && flen > 0 && flen < sizeof fname) {
        int ctl = 0;
        for (size_t i = 0; i < flen; i++)
            ctl |= (unsigned char)file[i] < 0x20 || file[i] == 0x7f;
        if (!ctl)
            abort();
    }

    /* redaction */
    size_t need = vs_url_redact(NULL, 0, url);
    char *r1 = malloc(need + 1), *r2 = malloc(need + 1);
    if (r1 && r2) {
        if (vs_url_redact(r1, need + 1, url) != need || strlen(r1) != need)
            abort();
        if (vs_url_redact(r2, need + 1, r1) != need || strcmp(r1, r2) != 0)
            abort();
        const char *sep = strstr(r1, "://");
        /* a scheme as RFC 3986 has it (a letter, then letters, digits, + - .) */
        if (sep && sep != r1 && sep - r1 < 32 &&
            ((r1[0] >= 'a' && r1[0] <= 'z') || (r1[0] >= 'A' && r1[0] <= 'Z')) &&
            strspn(r1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") ==
                (size_t)(sep - r1)) {
            const char *auth = sep + 3;
            if (memchr(auth, '@', strcspn(auth, "/?#")) != NULL)
                abort();
        }
    }
    free(r1);
    free(r2);

    vs_url_scheme s;
    if (vs_fetch_check_url(url, &s, &err) == VS_OK &&
        s != VS_SCHEME_HTTPS && s != VS_SCHEME_HTTP && s != VS_SCHEME_FILE)
        abort();
    free(url);
    return 0;
}
