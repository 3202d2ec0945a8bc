/* mirror/names.c - the names a bundle or mirror tree may hold, and which of
 * two outcomes is worse (the exit status of a run over many packages). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror/mirror_int.h"

static int rank(vs_status s)
{
    switch (s) {
    case VS_OK: return 0;
    case VS_E_USAGE: return 1;
    case VS_E_FETCH: return 2;
    case VS_E_POLICY: return 3;
    case VS_E_INTEGRITY: return 4;
    case VS_E_UNSAFE: return 5;
    case VS_E_VERIFY: return 6;
    default: return 7; /* internal */
    }
}

vs_status vs_mirror_worse(vs_status a, vs_status b)
{
    return rank(b) > rank(a) ? b : a;
}

bool vs_mirror_valid_file(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 255 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("._+~@=,-", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

bool vs_mirror_entry_name(const char *path, vs_bundle_kind *kind, char name[VS_MAX_NAME + 1],
                          char version[VS_MAX_VERSION + 1], char file[256], uint64_t *limit)
{
    if (!path)
        return false;
    if (strcmp(path, VS_MIRROR_INDEX) == 0) {
        *kind = VS_BUNDLE_INDEX;
        *limit = VS_MAX_REF_FILE;
        return true;
    }
    const char *slash = strchr(path, '/');
    if (!slash || strchr(slash + 1, '/'))
        return false;
    const char *at = memchr(path, '@', (size_t)(slash - path));
    if (!at)
        return false;
    size_t nl = (size_t)(at - path), vl = (size_t)(slash - at - 1), fl = strlen(slash + 1);
    if (nl == 0 || nl > VS_MAX_NAME || vl == 0 || vl > VS_MAX_VERSION || fl == 0 || fl > 255)
        return false;
    memcpy(name, path, nl);
    name[nl] = '\0';
    memcpy(version, at + 1, vl);
    version[vl] = '\0';
    memcpy(file, slash + 1, fl);
    file[fl] = '\0';
    if (!vs_valid_name(name) || !vs_valid_version(version) || !vs_mirror_valid_file(file))
        return false;
    *kind = VS_BUNDLE_FILE;
    *limit = has_suffix(file, ".asc") || has_suffix(file, ".sig") ? VS_MAX_SIG_FILE
                                                                   : VS_DEFAULT_MAX_DOWNLOAD;
    return true;
}
