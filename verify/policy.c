/*
 * verify/policy.c - which signatures count (apt's rule for several
 * signatures), key binding, and whether the store can meet a policy at all.
 * Everything but vs_verify_policy_check is pure: no files, no gpgme.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/trust.h"
#include "verify/verify_int.h"

static bool is_hex_lower(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

bool vs_fpr_normalize(const char *in, char out[VS_FPR_MAX])
{
    if (!in)
        return false;
    if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
        in += 2;
    size_t n = 0;
    for (; *in; in++) {
        if (*in == ' ')
            continue;
        if (n + 1 >= VS_FPR_MAX)
            return false;
        out[n++] = lower(*in);
    }
    out[n] = '\0';
    const char *hex = out;
    size_t want = 40;
    if (strncmp(out, "sha256:", 7) == 0) {
        hex = out + 7;
        want = 64;
    }
    if (strlen(hex) != want)
        return false;
    for (size_t i = 0; i < want; i++)
        if (!is_hex_lower(hex[i]))
            return false;
    return true;
}

bool vs_fpr_bound(const char *fpr, const char *const *keys, size_t nkeys)
{
    if (nkeys == 0)
        return true;
    char a[VS_FPR_MAX], b[VS_FPR_MAX];
    if (!keys || !vs_fpr_normalize(fpr, a))
        return false;
    for (size_t i = 0; i < nkeys; i++)
        if (vs_fpr_normalize(keys[i], b) && strcmp(a, b) == 0)
            return true;
    return false;
}

vs_status vs_sig_decide(const vs_sig_result *sigs, size_t n, unsigned require, size_t *why,
                        vs_sig_kind *kind)
{
    static const vs_sig_kind order[] = { VS_SIG_GPG, VS_SIG_RSA };
    if (!require)
        require = VS_REQUIRE_BOTH;
    for (size_t k = 0; k < 2; k++) {
        unsigned bit = order[k] == VS_SIG_GPG ? VS_REQUIRE_GPG : VS_REQUIRE_RSA;
        if (!(require & bit))
            continue;
        size_t first = n, reject = n;
        bool counts = false;
        for (size_t i = 0; i < n; i++) {
            if (sigs[i].kind != order[k])
                continue;
            if (first == n)
                first = i;
            if (sigs[i].effect == VS_SIG_REJECTS && reject == n)
                reject = i;
            counts = counts || sigs[i].effect == VS_SIG_COUNTS;
        }
        if (reject == n && counts)
            continue;
        *kind = order[k];
        *why = reject != n ? reject : first;
        if (*why == n)
            return VS_E_VERIFY;
        vs_status st = sigs[*why].status;
        return st == VS_OK ? VS_E_VERIFY : st; /* fail closed on an inconsistent result */
    }
    return VS_OK;
}

/* ---- the store pre-check ------------------------------------------------------ */

typedef struct kind_state {
    size_t present, bound, usable;
} kind_state;

static void count_keys(const vs_key_info *ki, size_t n, const char *const *keys, size_t nkeys,
                       kind_state st[2])
{
    for (size_t i = 0; i < n; i++) {
        kind_state *s = &st[ki[i].type == VS_KEY_RSA ? 1 : 0];
        s->present++;
        if (!vs_fpr_bound(ki[i].fingerprint, keys, nkeys))
            continue;
        s->bound++;
        if (!ki[i].expired && !ki[i].revoked)
            s->usable++;
    }
}

static const char *why_unusable(const kind_state *s, bool binding, const char *kname)
{
    static const char *const pgp[] = {
        "the trust store holds no OpenPGP key",
        "no OpenPGP key this package is bound to (the source's keys) is in the trust store",
        "every OpenPGP key that could sign it is expired or revoked",
    };
    static const char *const rsa[] = {
        "the trust store holds no RSA key",
        "no RSA key this package is bound to (the source's keys) is in the trust store",
        "every RSA key that could sign it is revoked",
    };
    const char *const *t = strcmp(kname, "RSA") == 0 ? rsa : pgp;
    if (s->present == 0)
        return t[0];
    if (binding && s->bound == 0)
        return t[1];
    return t[2];
}

VS_EXTERN vs_status vs_verify_policy_check(vs_ctx *ctx, unsigned require, const char *const *keys,
                                           size_t nkeys, vs_error *err)
{
    if (!require)
        require = VS_REQUIRE_BOTH;
    if (!ctx || (require & ~VS_REQUIRE_BOTH))
        return vs_error_subj(err, VS_E_USAGE, "--require", "bad policy mask %u", require);
    if (nkeys && !keys)
        return vs_error_subj(err, VS_E_USAGE, "keys", "binding of %zu keys without a list", nkeys);
    char norm[VS_FPR_MAX];
    for (size_t i = 0; i < nkeys; i++)
        if (!vs_fpr_normalize(keys[i], norm))
            return vs_error_subj(err, VS_E_USAGE, keys[i] ? keys[i] : "",
                                 "not a fingerprint (40 hex, or sha256: and 64 hex)");
    /* the store as the context holds it: listed once, again only after a change */
    const vs_key_info *ki = NULL;
    size_t n = 0;
    vs_status st = vs_trust_key_infos(&ki, &n, ctx, err);
    if (st)
        return st;
    kind_state ks[2];
    memset(ks, 0, sizeof ks);
    count_keys(ki, n, keys, nkeys, ks);

    bool miss_gpg = (require & VS_REQUIRE_GPG) && ks[0].usable == 0;
    bool miss_rsa = (require & VS_REQUIRE_RSA) && ks[1].usable == 0;
    if (!miss_gpg && !miss_rsa)
        return VS_OK;
    if (miss_gpg && miss_rsa) {
        st = vs_error_subj(err, VS_E_VERIFY, "OpenPGP and RSA signatures",
                           "required, but %s, and %s", why_unusable(&ks[0], nkeys > 0, "OpenPGP"),
                           why_unusable(&ks[1], nkeys > 0, "RSA"));
        vs_error_hint(err, "import the vendor's OpenPGP key and the organisation's RSA key with "
                           "`vetstage keys import`");
        return st;
    }
    const char *kname = miss_gpg ? "OpenPGP" : "RSA";
    char subject[32];
    snprintf(subject, sizeof subject, "%s signature", kname);
    st = vs_error_subj(err, VS_E_VERIFY, subject, "required, but %s",
                       why_unusable(&ks[miss_gpg ? 0 : 1], nkeys > 0, kname));
    if (require == VS_REQUIRE_BOTH)
        vs_error_hint(err,
                      "use --require %s (or `require = %s` in the source) if an %s signature "
                      "is enough, or import a key with `vetstage keys import`",
                      miss_gpg ? "rsa" : "gpg", miss_gpg ? "rsa" : "gpg",
                      miss_gpg ? "RSA" : "OpenPGP");
    else
        vs_error_hint(err, "import a key with `vetstage keys import`, or choose another policy "
                           "with --require (or `require` in the source)");
    return st;
}
