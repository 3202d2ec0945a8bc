/* fuzz/fuzz_keyfpr.c - what `keys import` reads besides key files: a
 * fingerprint as a person pastes it (vs_keys_fpr_normalise / _parse) and the
 * store's commit record (vs_keys_commit_parse), from arbitrary bytes.
 * Invariants: an accepted fingerprint is 40 upper-case hex or "sha256:" + 64
 * lower-case hex, normalises to itself again, and _parse agrees; a refused
 * one gives a one-line error with a subject and a hint; an accepted commit
 * record names only our own files (no '/', no "..", the fixed prefixes). */
#include <stdlib.h>
#include <string.h>

#include "keys/keys_int.h"

static bool all_hex(const char *s, size_t n, bool upper)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= '0' && c <= '9') || (upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f'));
        if (!ok)
            return false;
    }
    return true;
}

static void check_fpr(const char *in)
{
    char out[VS_FPR_MAX], again[VS_FPR_MAX], parsed[VS_FPR_MAX];
    vs_key_type t = vs_keys_fpr_normalise(in, out);
    vs_error e = VS_ERROR_INIT;
    vs_key_type t2 = 0;
    vs_status st = vs_keys_fpr_parse(in, "fuzz", parsed, &t2, &e);
    if ((st == VS_OK) != (t != 0) || t2 != t)
        abort();
    if (t == 0) {
        if (out[0] || strchr(e.message, '\n') || !e.hint[0] || e.status != VS_E_USAGE)
            abort();
        return;
    }
    size_t n = strlen(out);
    if (t == VS_KEY_OPENPGP && (n != 40 || !all_hex(out, 40, true)))
        abort();
    if (t == VS_KEY_RSA && (n != 71 || strncmp(out, "sha256:", 7) || !all_hex(out + 7, 64, false)))
        abort();
    if (vs_keys_fpr_normalise(out, again) != t || strcmp(out, again) || strcmp(out, parsed))
        abort();
}

static void check_record(const uint8_t *data, size_t size)
{
    vs_keys_commit c;
    vs_error e = VS_ERROR_INIT;
    if (vs_keys_commit_parse(data, size, &c, &e) != VS_OK) {
        if (e.status != VS_E_INTEGRITY || strchr(e.message, '\n'))
            abort();
        return;
    }
    for (size_t i = 0; i < c.nrsa; i++)
        if (strchr(c.rsa_tmp[i], '/') || strchr(c.rsa_name[i], '/') ||
            strncmp(c.rsa_tmp[i], ".tmp-", 5) || strlen(c.rsa_name[i]) != 68)
            abort();
    if (c.gnupg_tmp[0] && (strchr(c.gnupg_tmp, '/') || strncmp(c.gnupg_tmp, "tmp-", 4)))
        abort();
    vs_keys_commit_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* stops at an embedded NUL, as a C string argument would */
    check_fpr(s);
    free(s);
    check_record(data, size);
    return 0;
}
