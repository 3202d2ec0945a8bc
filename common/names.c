/* common/names.c - package names, versions and the NAME@VERSION reference:
 * the one definition every component checks against. libc only. */
#include <string.h>

#include "common/common_int.h"

static bool valid_token(const char *s, size_t max)
{
    size_t n = 0;
    if (!s || !*s || s[0] == '.' || s[0] == '-')
        return false;
    for (; s[n]; n++) {
        char ch = s[n];
        if (n >= max)
            return false;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '+' || ch == '~' || ch == '-'))
            return false;
    }
    return true;
}

bool vs_valid_name(const char *s)
{
    return valid_token(s, VS_MAX_NAME);
}

bool vs_valid_version(const char *s)
{
    return valid_token(s, VS_MAX_VERSION);
}

vs_status vs_ref_split(const char *ref, char name[VS_MAX_NAME + 1],
                       char version[VS_MAX_VERSION + 1], vs_error *err)
{
    const char *at = ref ? strchr(ref, '@') : NULL;
    if (!at)
        return vs_error_subj(err, VS_E_USAGE, ref ? ref : "(null)",
                             "not a NAME@VERSION reference");
    size_t nl = (size_t)(at - ref), vl = strlen(at + 1);
    if (nl == 0 || nl > VS_MAX_NAME || vl == 0 || vl > VS_MAX_VERSION)
        return vs_error_subj(err, VS_E_USAGE, ref, "not a NAME@VERSION reference");
    memcpy(name, ref, nl);
    name[nl] = '\0';
    memcpy(version, at + 1, vl + 1);
    if (!vs_valid_name(name) || !vs_valid_version(version)) {
        name[0] = version[0] = '\0';
        return vs_error_subj(err, VS_E_USAGE, ref, "invalid name or version in reference");
    }
    return VS_OK;
}
