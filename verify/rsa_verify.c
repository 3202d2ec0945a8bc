/* verify/rsa_verify.c - RSA PKCS#1 v1.5 and PSS verification of a digest (libgcrypt). */
#include <string.h>

#include "verify/verify_int.h"

int vs_rsa_scheme_md(vs_rsa_scheme scheme)
{
    switch (scheme) {
    case VS_RSA_PKCS1_SHA384:
    case VS_RSA_PSS_SHA384:
        return GCRY_MD_SHA384;
    case VS_RSA_PKCS1_SHA512:
    case VS_RSA_PSS_SHA512:
        return GCRY_MD_SHA512;
    case VS_RSA_PKCS1_SHA256:
    case VS_RSA_PSS_SHA256:
    default:
        return GCRY_MD_SHA256;
    }
}

size_t vs_rsa_scheme_hlen(vs_rsa_scheme scheme)
{
    return gcry_md_get_algo_dlen(vs_rsa_scheme_md(scheme));
}

bool vs_rsa_scheme_is_pss(vs_rsa_scheme scheme)
{
    return scheme == VS_RSA_PSS_SHA256 || scheme == VS_RSA_PSS_SHA384 ||
           scheme == VS_RSA_PSS_SHA512;
}

static const char *md_sexp_name(int md)
{
    return md == GCRY_MD_SHA384 ? "sha384" : md == GCRY_MD_SHA512 ? "sha512" : "sha256";
}

/* The MPI of token `tok` in `pub`, or NULL. Caller releases. */
static gcry_mpi_t key_mpi(gcry_sexp_t pub, const char *tok)
{
    gcry_sexp_t l = gcry_sexp_find_token(pub, tok, 0);
    if (!l)
        return NULL;
    gcry_mpi_t m = gcry_sexp_nth_mpi(l, 1, GCRYMPI_FMT_USG);
    gcry_sexp_release(l);
    return m;
}

vs_status vs_rsa_key_check(gcry_sexp_t pub, const char *name, size_t *modlen, unsigned *bits,
                           vs_error *err)
{
    gcry_mpi_t n = key_mpi(pub, "n"), e = key_mpi(pub, "e");
    vs_status st = VS_OK;
    if (!n || !e) {
        st = vs_error_subj(err, VS_E_USAGE, name, "not an RSA public key");
        goto out;
    }
    unsigned nb = gcry_mpi_get_nbits(n);
    if (nb < VS_MIN_RSA_BITS || nb > VS_MAX_RSA_BITS) {
        st = vs_error_subj(err, VS_E_POLICY, name,
                          "RSA key of %u bits, outside the accepted %u to %u bits", nb,
                          VS_MIN_RSA_BITS, VS_MAX_RSA_BITS);
        goto out;
    }
    if (!gcry_mpi_test_bit(e, 0) || gcry_mpi_cmp_ui(e, VS_MIN_RSA_EXPONENT) < 0) {
        st = vs_error_subj(err, VS_E_POLICY, name,
                          "RSA public exponent is even or below %u",
                          VS_MIN_RSA_EXPONENT);
        goto out;
    }
    if (modlen)
        *modlen = (nb + 7) / 8;
    if (bits)
        *bits = nb;
out:
    gcry_mpi_release(n);
    gcry_mpi_release(e);
    return st;
}

/* One gcry_pk_verify; true when the signature checks. */
static bool pk_verify(gcry_sexp_t pub, gcry_sexp_t sigv, const char *fmt_pss_or_pkcs1,
                      bool pss, unsigned salt, const char *hname, const uint8_t *digest,
                      size_t dlen)
{
    gcry_sexp_t data = NULL;
    gcry_error_t e;
    if (pss)
        e = gcry_sexp_build(&data, NULL, fmt_pss_or_pkcs1, salt, hname, (int)dlen, digest);
    else
        e = gcry_sexp_build(&data, NULL, fmt_pss_or_pkcs1, hname, (int)dlen, digest);
    if (e)
        return false;
    e = gcry_pk_verify(sigv, data, pub);
    gcry_sexp_release(data);
    return e == 0;
}

vs_status vs_rsa_verify_digest(gcry_sexp_t pub, vs_rsa_scheme scheme, const uint8_t *digest,
                               size_t dlen, const uint8_t *sig, size_t siglen, const char *name,
                               vs_error *err)
{
    size_t modlen = 0;
    unsigned bits = 0;
    vs_status st = vs_rsa_key_check(pub, name, &modlen, &bits, err);
    if (st)
        return st;
    int md = vs_rsa_scheme_md(scheme);
    size_t hlen = gcry_md_get_algo_dlen(md);
    if (dlen != hlen)
        return vs_error_subj(err, VS_E_INTERNAL, name, "digest of %zu bytes, %s needs %zu",
                            dlen, md_sexp_name(md), hlen);
    if (siglen != modlen)
        return vs_error_subj(err, VS_E_VERIFY, name,
                            "signature is %zu bytes, the key's modulus is %zu bytes",
                            siglen, modlen);

    /* The signature value must be below the modulus (no malleated s + n). */
    gcry_mpi_t s = NULL, n = key_mpi(pub, "n");
    if (!n || gcry_mpi_scan(&s, GCRYMPI_FMT_USG, sig, siglen, NULL) != 0) {
        gcry_mpi_release(n);
        return vs_error_subj(err, VS_E_INTERNAL, name, "cannot read the signature value");
    }
    bool in_range = gcry_mpi_cmp(s, n) < 0;
    gcry_mpi_release(n);
    gcry_mpi_release(s);
    if (!in_range)
        return vs_error_subj(err, VS_E_VERIFY, name, "bad signature (value not below the modulus)");

    gcry_sexp_t sigv = NULL;
    if (gcry_sexp_build(&sigv, NULL, "(sig-val (rsa (s %b)))", (int)siglen, sig) != 0)
        return vs_error_subj(err, VS_E_INTERNAL, name, "cannot build the signature");

    const char *hname = md_sexp_name(md);
    bool ok;
    if (vs_rsa_scheme_is_pss(scheme)) {
        /* EMSA-PSS: emLen = ceil((modBits - 1) / 8); salt the hash length or the maximum. */
        size_t emlen = (bits - 1 + 7) / 8;
        static const char fmt[] = "(data (flags pss)(salt-length %u)(hash %s %b))";
        ok = pk_verify(pub, sigv, fmt, true, (unsigned)hlen, hname, digest, dlen);
        if (!ok && emlen >= hlen + 2 && emlen - hlen - 2 != hlen)
            ok = pk_verify(pub, sigv, fmt, true, (unsigned)(emlen - hlen - 2), hname, digest,
                           dlen);
    } else {
        ok = pk_verify(pub, sigv, "(data (flags pkcs1)(hash %s %b))", false, 0, hname, digest,
                       dlen);
    }
    gcry_sexp_release(sigv);
    if (!ok)
        return vs_error_subj(err, VS_E_VERIFY, name, "bad signature");
    return VS_OK;
}
