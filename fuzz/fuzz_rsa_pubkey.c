/* fuzz/fuzz_rsa_pubkey.c - arbitrary bytes through the strict RSA public key
 * parser (PEM SPKI, PEM PKCS#1, DER SPKI) and the OpenPGP key scan.
 * Invariants: an accepted key has a well-formed fingerprint and a size within
 * the limits; its canonical SPKI parses again to the same fingerprint; the
 * policy-free decoder agrees with the parser; messages are one line. */
#include <stdlib.h>
#include <string.h>

#include "keys/keys_int.h"

static void one_line(const vs_error *e)
{
    if (strchr(e->message, '\n') || e->message[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (vs_lib_init(NULL) != VS_OK)
        abort();
    gcry_sexp_t pub = NULL;
    unsigned bits = 0;
    char fpr[VS_FPR_MAX];
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_rsa_pubkey_parse(data, size, "fuzz", &pub, &bits, fpr, &spki, &spki_len,
                                       &err);
    vs_rsa_weakness weak;
    gcry_sexp_t pub2 = NULL;
    unsigned bits2 = 0;
    char fpr2[VS_FPR_MAX];
    vs_error err2 = VS_ERROR_INIT;
    vs_status st2 = vs_rsa_pubkey_decode(data, size, "fuzz", &pub2, &bits2, fpr2, NULL, NULL,
                                         &weak, &err2);
    if (st == VS_OK) {
        if (!pub || strlen(fpr) != 71 || strncmp(fpr, "sha256:", 7) != 0 ||
            bits < VS_MIN_RSA_BITS || bits > VS_MAX_RSA_BITS || !spki)
            abort();
        if (st2 != VS_OK || weak != VS_RSA_STRONG || strcmp(fpr, fpr2) != 0 || bits != bits2)
            abort();
        gcry_sexp_t pub3 = NULL;
        unsigned bits3 = 0;
        char fpr3[VS_FPR_MAX];
        if (vs_rsa_pubkey_parse(spki, spki_len, "canonical", &pub3, &bits3, fpr3, NULL, NULL,
                                NULL) != VS_OK ||
            strcmp(fpr, fpr3) != 0)
            abort();
        gcry_sexp_release(pub3);
    } else {
        one_line(&err);
        if (pub || spki)
            abort();
        if (st == VS_E_POLICY && (st2 != VS_OK || weak == VS_RSA_STRONG))
            abort();
        if (st == VS_E_USAGE && st2 == VS_OK)
            abort();
    }
    if (st2 != VS_OK)
        one_line(&err2);
    gcry_sexp_release(pub);
    gcry_sexp_release(pub2);
    free(spki);

    vs_pgp_scan s;
    for (int armored = 0; armored < 2; armored++) {
        vs_error e3 = VS_ERROR_INIT;
        if (vs_keys_pgp_scan(data, size, "fuzz", armored, &s, &e3) != VS_OK)
            one_line(&e3);
        else if (s.nsecret != 0 || (s.npublic == 0 && s.issuer[0] == '\0'))
            abort();
    }
    return 0;
}
