/*
 * keys/rsa_key.c - strict RSA public key parsing (PEM SPKI, PEM PKCS#1, DER SPKI)
 * and the scheme names.
 *
 * The DER is decoded with libtasn1 (strict DER), then re-encoded canonically
 * from the decoded modulus and exponent and compared byte for byte with the
 * input: any alternative encoding (long-form lengths, redundant leading
 * zeros, unused BIT STRING bits, trailing bytes) is refused. The fingerprint
 * is the SHA-256 of the canonical SPKI with NULL parameters, which is what
 * `openssl pkey -pubin -outform DER` prints for the same key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libtasn1.h>

#include "keys/keys_int.h"

/* ---- schemes ------------------------------------------------------------ */

static const char *const scheme_names[] = {
    [VS_RSA_PKCS1_SHA256] = "pkcs1-sha256", [VS_RSA_PKCS1_SHA384] = "pkcs1-sha384",
    [VS_RSA_PKCS1_SHA512] = "pkcs1-sha512", [VS_RSA_PSS_SHA256] = "pss-sha256",
    [VS_RSA_PSS_SHA384] = "pss-sha384",     [VS_RSA_PSS_SHA512] = "pss-sha512",
};
#define NSCHEMES (sizeof scheme_names / sizeof scheme_names[0])

vs_status vs_rsa_scheme_parse(vs_rsa_scheme *out, const char *name, vs_error *err)
{
    for (size_t i = 0; name && i < NSCHEMES; i++) {
        if (strcmp(name, scheme_names[i]) == 0) {
            *out = (vs_rsa_scheme)i;
            return VS_OK;
        }
    }
    char subj[112];
    snprintf(subj, sizeof subj, "%.100s", name ? name : "(null)");
    return vs_error_subj(err, VS_E_USAGE, subj,
                         "unknown RSA scheme (pkcs1-sha256, pkcs1-sha384, pkcs1-sha512, "
                         "pss-sha256, pss-sha384, pss-sha512)");
}

const char *vs_rsa_scheme_name(vs_rsa_scheme scheme)
{
    if ((size_t)scheme < NSCHEMES)
        return scheme_names[scheme];
    return "unknown";
}

/* ---- PEM ------------------------------------------------------------------ */

#define PEM_MAX_LINE 80u

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

static bool blank_line(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t' && l[i] != '\r')
            return false;
    return true;
}

static bool line_is(const char *l, size_t n, const char *what)
{
    size_t w = strlen(what);
    if (n > 0 && l[n - 1] == '\r')
        n--;
    return n == w && memcmp(l, what, w) == 0;
}

/*
 * Strict PEM: optional blank lines, "-----BEGIN label-----", base64 lines
 * (no headers, no blank lines, at most PEM_MAX_LINE characters), "-----END
 * label-----", optional blank lines. *der malloc'd.
 */
static vs_status pem_decode(const uint8_t *p, size_t len, const char *name, const char *label,
                            uint8_t **der, size_t *derlen, vs_error *err)
{
    char begin[64], end[64];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    snprintf(end, sizeof end, "-----END %s-----", label);
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *l;
    size_t n;
    int state = 0; /* 0 before, 1 body, 2 after */
    uint8_t *b64 = malloc(len + 1);
    if (!b64)
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    size_t nb = 0;
    vs_status st = VS_OK;
    while (st == VS_OK && vs_cursor_line(&c, VS_MAX_KEY_FILE, &l, &n)) {
        if (memchr(l, '\0', n)) {
            st = vs_error_subj(err, VS_E_USAGE, name, "NUL byte in PEM text");
        } else if (state == 0) {
            if (line_is(l, n, begin))
                state = 1;
            else if (!blank_line(l, n))
                st = vs_error_subj(err, VS_E_USAGE, name, "text before the PEM BEGIN line");
        } else if (state == 1) {
            if (line_is(l, n, end)) {
                state = 2;
                continue;
            }
            if (n > 0 && l[n - 1] == '\r')
                n--;
            if (n == 0 || n > PEM_MAX_LINE) {
                st = vs_error_subj(err, VS_E_USAGE, name, "bad PEM body line (empty or too long)");
                break;
            }
            for (size_t i = 0; i < n; i++) {
                if (!memchr(b64_chars, l[i], sizeof b64_chars - 1)) {
                    st = vs_error_subj(err, VS_E_USAGE, name, "invalid base64 in PEM body");
                    break;
                }
            }
            if (st == VS_OK) {
                memcpy(b64 + nb, l, n);
                nb += n;
            }
        } else if (!blank_line(l, n)) {
            st = vs_error_subj(err, VS_E_USAGE, name, "text after the PEM END line");
        }
    }
    if (st == VS_OK && c.bad)
        st = vs_error_subj(err, VS_E_USAGE, name, "line too long");
    if (st == VS_OK && state != 2)
        st = vs_error_subj(err, VS_E_USAGE, name, "no complete PEM block labelled %s", label);
    if (st == VS_OK) {
        uint8_t *out = malloc(nb / 4 * 3 + 1);
        size_t olen = 0;
        if (!out) {
            st = vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
        } else if (nb == 0 || !vs_base64_decode(b64, nb, 0, out, nb / 4 * 3, &olen)) {
            free(out);
            st = vs_error_subj(err, VS_E_USAGE, name, "invalid base64 in PEM body");
        } else {
            *der = out;
            *derlen = olen;
        }
    }
    free(b64);
    return st;
}

/* ---- canonical DER encoding ------------------------------------------------ */

/* The encoding is built in the common growing buffer; a key file is at most
 * VS_MAX_KEY_FILE bytes, and so is its re-encoding. */
static void db_tl(vs_sbuf *b, uint8_t tag, size_t len)
{
    uint8_t h[6];
    size_t n = 0;
    h[n++] = tag;
    if (len < 0x80) {
        h[n++] = (uint8_t)len;
    } else if (len <= 0xff) {
        h[n++] = 0x81;
        h[n++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        h[n++] = 0x82;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else if (len <= 0xffffff) {
        h[n++] = 0x83;
        h[n++] = (uint8_t)(len >> 16);
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        b->toobig = true;
        return;
    }
    vs_sbuf_add(b, h, n);
}

static size_t tl_size(size_t len)
{
    return len < 0x80 ? 2 : len <= 0xff ? 3 : len <= 0xffff ? 4 : 5;
}

/* INTEGER from an unsigned big-endian magnitude without leading zeros. */
static size_t int_content(const uint8_t *m, size_t n)
{
    return n + (n == 0 || (m[0] & 0x80) ? 1 : 0);
}

static void db_int(vs_sbuf *b, const uint8_t *m, size_t n)
{
    size_t cl = int_content(m, n);
    db_tl(b, 0x02, cl);
    if (cl > n) {
        uint8_t z = 0;
        vs_sbuf_add(b, &z, 1);
    }
    vs_sbuf_add(b, m, n);
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
static void enc_rsapub(vs_sbuf *b, const uint8_t *n, size_t nl, const uint8_t *e, size_t el)
{
    size_t in = int_content(n, nl), ie = int_content(e, el);
    db_tl(b, 0x30, tl_size(in) + in + tl_size(ie) + ie);
    db_int(b, n, nl);
    db_int(b, e, el);
}

static const uint8_t rsa_oid_der[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                       0xf7, 0x0d, 0x01, 0x01, 0x01 };

static void enc_spki(vs_sbuf *b, const uint8_t *n, size_t nl, const uint8_t *e, size_t el,
                     bool null_params)
{
    size_t in = int_content(n, nl), ie = int_content(e, el);
    size_t rsapub = tl_size(in) + in + tl_size(ie) + ie;
    size_t rsapub_tlv = tl_size(rsapub) + rsapub;
    size_t bits = 1 + rsapub_tlv;
    size_t alg = sizeof rsa_oid_der + (null_params ? 2 : 0);
    db_tl(b, 0x30, tl_size(alg) + alg + tl_size(bits) + bits);
    db_tl(b, 0x30, alg);
    vs_sbuf_add(b, rsa_oid_der, sizeof rsa_oid_der);
    if (null_params)
        vs_sbuf_add(b, "\x05\x00", 2);
    db_tl(b, 0x03, bits);
    vs_sbuf_add(b, "\x00", 1);
    enc_rsapub(b, n, nl, e, el);
}

/* ---- libtasn1 ----------------------------------------------------------- */

/* Node flags of asn1_static_node (libtasn1's parser output format). */
#define T_DOWN (1u << 29)
#define T_RIGHT (1u << 30)
#define T_OPTION (1u << 14)
#define T_EXPLICIT (1u << 11)

/*
 * VsKeys DEFINITIONS EXPLICIT TAGS ::= BEGIN
 *   SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
 *                                       subjectPublicKey BIT STRING }
 *   AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER,
 *                                      parameters ANY OPTIONAL }
 *   RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
 * END
 */
static const asn1_static_node vs_keys_asn1_tab[] = {
    { "VsKeys", T_DOWN | T_EXPLICIT | ASN1_ETYPE_DEFINITIONS, NULL },
    { NULL, T_RIGHT | ASN1_ETYPE_OBJECT_ID, NULL },
    { "SubjectPublicKeyInfo", T_DOWN | T_RIGHT | ASN1_ETYPE_SEQUENCE, NULL },
    { "algorithm", T_RIGHT | ASN1_ETYPE_IDENTIFIER, "AlgorithmIdentifier" },
    { "subjectPublicKey", ASN1_ETYPE_BIT_STRING, NULL },
    { "AlgorithmIdentifier", T_DOWN | T_RIGHT | ASN1_ETYPE_SEQUENCE, NULL },
    { "algorithm", T_RIGHT | ASN1_ETYPE_OBJECT_ID, NULL },
    { "parameters", T_OPTION | ASN1_ETYPE_ANY, NULL },
    { "RSAPublicKey", T_DOWN | ASN1_ETYPE_SEQUENCE, NULL },
    { "modulus", T_RIGHT | ASN1_ETYPE_INTEGER, NULL },
    { "publicExponent", ASN1_ETYPE_INTEGER, NULL },
    { NULL, 0, NULL },
};

/* Decode `type` from [p, p+len) strictly and completely. */
static vs_status der_decode(asn1_node defs, const char *type, const uint8_t *p, size_t len,
                            const char *name, asn1_node *out, vs_error *err)
{
    *out = NULL;
    if (len == 0 || len > (size_t)VS_MAX_KEY_FILE)
        return vs_error_subj(err, VS_E_USAGE, name, "bad DER length");
    asn1_node node = NULL;
    int r = asn1_create_element(defs, type, &node);
    if (r != ASN1_SUCCESS)
        return vs_error_subjb(err, VS_E_INTERNAL, "libtasn1", r, name, "asn1_create_element: %s",
                              asn1_strerror(r));
    char desc[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
    int used = (int)len;
    r = asn1_der_decoding2(&node, p, &used, ASN1_DECODE_FLAG_STRICT_DER, desc);
    if (r != ASN1_SUCCESS) {
        asn1_delete_structure(&node);
        return vs_error_subjb(err, VS_E_USAGE, "libtasn1", r, name, "malformed DER: %s",
                             asn1_strerror(r));
    }
    if (used < 0 || (size_t)used != len) {
        asn1_delete_structure(&node);
        return vs_error_subj(err, VS_E_USAGE, name, "%zu trailing bytes after the DER structure",
                             len - (size_t)(used < 0 ? 0 : used));
    }
    *out = node;
    return VS_OK;
}

/* Read a field into a malloc'd buffer; *len in bytes (or bits for BIT STRING). */
static int read_field(asn1_node node, const char *field, uint8_t **out, int *len)
{
    *out = NULL;
    *len = 0;
    int n = 0;
    int r = asn1_read_value(node, field, NULL, &n);
    if (r != ASN1_MEM_ERROR && r != ASN1_SUCCESS)
        return r;
    uint8_t *b = malloc((size_t)n + 1);
    if (!b)
        return ASN1_MEM_ALLOC_ERROR;
    int m = n;
    r = asn1_read_value(node, field, b, &m);
    if (r != ASN1_SUCCESS) {
        free(b);
        return r;
    }
    *out = b;
    *len = m;
    return ASN1_SUCCESS;
}

typedef struct rsa_parts {
    uint8_t *n, *e; /* magnitudes without leading zeros (point into owned bufs) */
    size_t nl, el;
    uint8_t *nbuf, *ebuf;
} rsa_parts;

static void parts_free(rsa_parts *k)
{
    free(k->nbuf);
    free(k->ebuf);
    memset(k, 0, sizeof *k);
}

static vs_status read_int(asn1_node node, const char *field, const char *name, uint8_t **buf,
                          uint8_t **mag, size_t *maglen, vs_error *err)
{
    int len = 0;
    int r = read_field(node, field, buf, &len);
    if (r != ASN1_SUCCESS)
        return vs_error_subjb(err, VS_E_USAGE, "libtasn1", r, name, "cannot read %s: %s",
                             field, asn1_strerror(r));
    if (len <= 0)
        return vs_error_subj(err, VS_E_USAGE, name, "empty %s", field);
    if ((*buf)[0] & 0x80)
        return vs_error_subj(err, VS_E_USAGE, name, "negative %s", field);
    size_t i = 0;
    while (i < (size_t)len && (*buf)[i] == 0)
        i++;
    if (i == (size_t)len)
        return vs_error_subj(err, VS_E_USAGE, name, "%s is zero", field);
    *mag = *buf + i;
    *maglen = (size_t)len - i;
    return VS_OK;
}

/* Strict DER has one encoding: our re-encoding b must be the input. Frees b. */
static vs_status canonical(vs_sbuf *b, const uint8_t *p, size_t len, const char *name,
                           const char *what, vs_error *err)
{
    vs_status st = VS_OK;
    if (vs_sbuf_failed(b))
        st = vs_sbuf_status(b, name, err);
    else if (b->len != len || memcmp(b->p, p, len) != 0)
        st = vs_error_subj(err, VS_E_USAGE, name, "%s is not in canonical DER", what);
    free(b->p);
    return st;
}

static vs_status parse_rsapub(asn1_node defs, const uint8_t *p, size_t len, const char *name,
                              rsa_parts *k, vs_error *err)
{
    asn1_node node;
    vs_status st = der_decode(defs, "VsKeys.RSAPublicKey", p, len, name, &node, err);
    if (st)
        return st;
    st = read_int(node, "modulus", name, &k->nbuf, &k->n, &k->nl, err);
    if (st == VS_OK)
        st = read_int(node, "publicExponent", name, &k->ebuf, &k->e, &k->el, err);
    asn1_delete_structure(&node);
    if (st)
        return st;
    /* canonical: the re-encoding must be the input */
    vs_sbuf b = VS_SBUF_INIT(VS_MAX_KEY_FILE);
    enc_rsapub(&b, k->n, k->nl, k->e, k->el);
    return canonical(&b, p, len, name, "RSA public key", err);
}

static vs_status parse_spki(asn1_node defs, const uint8_t *p, size_t len, const char *name,
                            rsa_parts *k, vs_error *err)
{
    asn1_node node;
    vs_status st = der_decode(defs, "VsKeys.SubjectPublicKeyInfo", p, len, name, &node, err);
    if (st)
        return st;
    char oid[128];
    int ol = (int)sizeof oid;
    int r = asn1_read_value(node, "algorithm.algorithm", oid, &ol);
    if (r != ASN1_SUCCESS) {
        asn1_delete_structure(&node);
        return vs_error_subjb(err, VS_E_USAGE, "libtasn1", r, name, "cannot read the algorithm: %s",
                              asn1_strerror(r));
    }
    if (strcmp(oid, "1.2.840.113549.1.1.1") != 0) {
        asn1_delete_structure(&node);
        return vs_error_subj(err, VS_E_USAGE, name,
                            "not an RSA key (algorithm %.64s, want rsaEncryption "
                            "1.2.840.113549.1.1.1)", oid);
    }
    uint8_t *params = NULL;
    int pl = 0;
    r = read_field(node, "algorithm.parameters", &params, &pl);
    bool null_params = false;
    if (r == ASN1_SUCCESS) {
        if (pl != 2 || params[0] != 0x05 || params[1] != 0x00) {
            free(params);
            asn1_delete_structure(&node);
            return vs_error_subj(err, VS_E_USAGE, name, "rsaEncryption parameters must be NULL");
        }
        null_params = true;
    } else if (r != ASN1_ELEMENT_NOT_FOUND && r != ASN1_VALUE_NOT_FOUND) {
        asn1_delete_structure(&node);
        return vs_error_subjb(err, VS_E_USAGE, "libtasn1", r, name, "cannot read parameters: %s",
                              asn1_strerror(r));
    }
    free(params);
    uint8_t *bits = NULL;
    int nbits = 0;
    r = read_field(node, "subjectPublicKey", &bits, &nbits);
    asn1_delete_structure(&node);
    if (r != ASN1_SUCCESS)
        return vs_error_subjb(err, VS_E_USAGE, "libtasn1", r, name, "cannot read the key bits: %s",
                              asn1_strerror(r));
    if (nbits <= 0 || nbits % 8 != 0) {
        free(bits);
        return vs_error_subj(err, VS_E_USAGE, name, "key BIT STRING has unused bits");
    }
    st = parse_rsapub(defs, bits, (size_t)nbits / 8, name, k, err);
    free(bits);
    if (st)
        return st;
    vs_sbuf b = VS_SBUF_INIT(VS_MAX_KEY_FILE);
    enc_spki(&b, k->n, k->nl, k->e, k->el, null_params);
    return canonical(&b, p, len, name, "SubjectPublicKeyInfo", err);
}

/* ---- the entry points ------------------------------------------------------ */

static bool starts_with(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && memcmp(p, s, n) == 0;
}

/* First non-blank bytes of a text file. */
static const uint8_t *skip_blank(const uint8_t *p, size_t len, size_t *left)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    *left = len - i;
    return p + i;
}

static unsigned mag_bits(const uint8_t *m, size_t n)
{
    unsigned top = 0;
    for (uint8_t v = m[0]; v; v >>= 1)
        top++;
    return (unsigned)((n - 1) * 8) + top;
}

/* a < b for magnitudes without leading zeros */
static bool mag_less(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    if (al != bl)
        return al < bl;
    return memcmp(a, b, al) < 0;
}

/* PEM (either label) or DER SPKI into the modulus and exponent. */
static vs_status read_parts(const uint8_t *p, size_t len, const char *name, rsa_parts *k,
                            vs_error *err)
{
    asn1_node defs = NULL;
    char desc[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
    int r = asn1_array2tree(vs_keys_asn1_tab, &defs, desc);
    if (r != ASN1_SUCCESS)
        return vs_error_subjb(err, VS_E_INTERNAL, "libtasn1", r, name, "ASN.1 definitions: %s",
                              asn1_strerror(r));
    size_t tl;
    const uint8_t *t = skip_blank(p, len, &tl);
    uint8_t *der = NULL;
    size_t derlen = 0;
    vs_status st;
    if (starts_with(t, tl, "-----BEGIN PUBLIC KEY-----")) {
        st = pem_decode(p, len, name, "PUBLIC KEY", &der, &derlen, err);
        if (st == VS_OK)
            st = parse_spki(defs, der, derlen, name, k, err);
    } else if (starts_with(t, tl, "-----BEGIN RSA PUBLIC KEY-----")) {
        st = pem_decode(p, len, name, "RSA PUBLIC KEY", &der, &derlen, err);
        if (st == VS_OK)
            st = parse_rsapub(defs, der, derlen, name, k, err);
    } else if (starts_with(t, tl, "-----BEGIN ")) {
        st = vs_error_subj(err, VS_E_USAGE, name,
                           "not an RSA public key (PEM label is neither PUBLIC KEY nor RSA "
                           "PUBLIC KEY)");
    } else if (len > 0 && p[0] == 0x30) {
        st = parse_spki(defs, p, len, name, k, err);
    } else {
        st = vs_error_subj(err, VS_E_USAGE, name, "not an RSA public key (no PEM or DER)");
    }
    free(der);
    asn1_delete_structure(&defs);
    return st;
}

/* Malformed (VS_E_USAGE) or merely weak (*weak) moduli and exponents. */
static vs_status check_parts(const rsa_parts *k, const char *name, unsigned *nbits,
                             vs_rsa_weakness *weak, vs_error *err)
{
    unsigned nb = mag_bits(k->n, k->nl);
    *nbits = nb;
    if (nb > VS_MAX_RSA_BITS)
        return vs_error_subj(err, VS_E_USAGE, name,
                             "RSA modulus of %u bits is over the limit of %u", nb, VS_MAX_RSA_BITS);
    if (!(k->n[k->nl - 1] & 1))
        return vs_error_subj(err, VS_E_USAGE, name, "RSA modulus is even");
    if (!mag_less(k->e, k->el, k->n, k->nl))
        return vs_error_subj(err, VS_E_USAGE, name, "RSA exponent is not smaller than the modulus");
    if (nb < VS_MIN_RSA_BITS)
        *weak = VS_RSA_WEAK_BITS;
    else if (!(k->e[k->el - 1] & 1))
        *weak = VS_RSA_WEAK_EVEN_EXPONENT;
    else if (k->el < 3 || (k->el == 3 && (((uint32_t)k->e[0] << 16) | ((uint32_t)k->e[1] << 8) |
                                          k->e[2]) < VS_MIN_RSA_EXPONENT))
        *weak = VS_RSA_WEAK_SMALL_EXPONENT;
    return VS_OK;
}

/* The libgcrypt key and the canonical DER SPKI (b) of n and e. */
static vs_status build_key(const rsa_parts *k, const char *name, gcry_sexp_t *pub, vs_sbuf *b,
                           vs_error *err)
{
    enc_spki(b, k->n, k->nl, k->e, k->el, true);
    if (vs_sbuf_failed(b))
        return vs_sbuf_status(b, name, err);
    gcry_mpi_t n = NULL, e = NULL;
    gcry_error_t ge = gcry_mpi_scan(&n, GCRYMPI_FMT_USG, k->n, k->nl, NULL);
    if (!ge)
        ge = gcry_mpi_scan(&e, GCRYMPI_FMT_USG, k->e, k->el, NULL);
    if (!ge)
        ge = gcry_sexp_build(pub, NULL, "(public-key(rsa(n%m)(e%m)))", n, e);
    gcry_mpi_release(n);
    gcry_mpi_release(e);
    if (ge) {
        *pub = NULL;
        return vs_error_subjb(err, VS_E_INTERNAL, "gcrypt", (long)ge, name, "%s",
                              gcry_strerror(ge));
    }
    return VS_OK;
}

vs_status vs_rsa_pubkey_decode(const uint8_t *p, size_t len, const char *name, gcry_sexp_t *pub,
                               unsigned *bits, char fpr[VS_FPR_MAX], uint8_t **spki,
                               size_t *spki_len, vs_rsa_weakness *weak, vs_error *err)
{
    *pub = NULL;
    *bits = 0;
    fpr[0] = '\0';
    if (spki) {
        *spki = NULL;
        *spki_len = 0;
    }
    *weak = VS_RSA_STRONG;
    if (!name)
        name = "RSA key";
    if (len > VS_MAX_KEY_FILE)
        return vs_error_subj(err, VS_E_USAGE, name, "larger than the limit of %u bytes",
                             VS_MAX_KEY_FILE);
    vs_status st = vs_gcrypt_init(err);
    rsa_parts k = { 0 };
    vs_sbuf b = VS_SBUF_INIT(VS_MAX_KEY_FILE);
    unsigned nb = 0;
    if (st == VS_OK)
        st = read_parts(p, len, name, &k, err);
    if (st == VS_OK)
        st = check_parts(&k, name, &nb, weak, err);
    if (st == VS_OK)
        st = build_key(&k, name, pub, &b, err);
    parts_free(&k);
    if (st) {
        free(b.p);
        return st;
    }
    uint8_t d[VS_SHA256_LEN];
    gcry_md_hash_buffer(GCRY_MD_SHA256, d, b.p, b.len);
    memcpy(fpr, "sha256:", 7);
    vs_hex(fpr + 7, d, sizeof d);
    *bits = nb;
    if (spki) {
        *spki = (uint8_t *)b.p;
        *spki_len = b.len;
    } else {
        free(b.p);
    }
    return VS_OK;
}

void vs_rsa_weakness_text(vs_rsa_weakness weak, unsigned bits, char *out, size_t cap)
{
    if (weak == VS_RSA_WEAK_BITS)
        snprintf(out, cap, "RSA key of %u bits is below the minimum of %u", bits, VS_MIN_RSA_BITS);
    else if (weak == VS_RSA_WEAK_EVEN_EXPONENT)
        snprintf(out, cap, "RSA public exponent is even");
    else if (weak == VS_RSA_WEAK_SMALL_EXPONENT)
        snprintf(out, cap, "RSA public exponent is below %u", VS_MIN_RSA_EXPONENT);
    else if (cap > 0)
        out[0] = '\0';
}

vs_status vs_rsa_pubkey_parse(const uint8_t *p, size_t len, const char *name, gcry_sexp_t *pub,
                              unsigned *bits, char fpr[VS_FPR_MAX], uint8_t **spki,
                              size_t *spki_len, vs_error *err)
{
    vs_rsa_weakness weak;
    uint8_t *der = NULL;
    size_t derlen = 0;
    vs_status st = vs_rsa_pubkey_decode(p, len, name, pub, bits, fpr, &der, &derlen, &weak, err);
    if (st)
        return st;
    if (!name)
        name = "RSA key";
    if (weak != VS_RSA_STRONG) {
        char why[128];
        vs_rsa_weakness_text(weak, *bits, why, sizeof why);
        st = vs_error_subj(err, VS_E_POLICY, name, "%s", why);
        gcry_sexp_release(*pub);
        *pub = NULL;
        free(der);
        return st;
    }
    if (spki) {
        *spki = der;
        *spki_len = derlen;
    } else {
        free(der);
    }
    return VS_OK;
}
