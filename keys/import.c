/*
 * keys/import.c - `keys import`, as a list of phases with one cleanup exit:
 *
 *   read_and_classify  every file read and classified on its own (RSA keys
 *                      parsed strictly, OpenPGP files walked packet by packet
 *                      so secret keys and garbage never reach gpg)
 *   open_store         the lock, the store, two scratch GnuPG homes
 *   probe              gpg imports the OpenPGP files into the empty scratch
 *                      home and says which keys each holds
 *   select             which of those keys to take (select.c, pure)
 *   stage              gpg exports exactly those keys from the probe home and
 *                      imports them into the copy of the store's keyring;
 *                      revocations applied there; new RSA key files written
 *   commit             the renames, recorded first so they happen all or
 *                      none (commit.c)
 *
 * Which keys a file holds and whether they are sound is gpg's word, never
 * ours: we only pre-screen packets to keep secret material away from it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keys/keys_int.h"

typedef struct item {
    const char *path;
    bool pgp;
    uint8_t *data;
    size_t len;
    vs_pgp_scan scan;     /* OpenPGP */
    char (*fprs)[41];     /* OpenPGP: keys gpg found in it, in its order */
    size_t nfprs;
    char fpr[VS_FPR_MAX]; /* RSA */
    unsigned bits;
    uint8_t *spki;
    size_t spki_len;
    char refusal[192];
    vs_tmpfile tf;        /* RSA file being staged */
} item;

typedef struct run {
    vs_ctx *ctx;
    const vs_keys_import_opts *o;
    const char *const *files;
    size_t nfiles;
    item *items;
    char (*expect)[VS_FPR_MAX];
    size_t nexpect;
    vs_key_cand *c;
    size_t nc, capc;
    vs_keys_scratch probe, store;
    int lock, rsafd;
    char *keyring_at; /* the store's keyring stamp before it was copied */
    size_t keyring_at_len;
    bool any_pgp;
} run;

/* ---- phase 0: the names ------------------------------------------------------ */

static vs_status parse_expect(run *r, vs_error *err)
{
    size_t n = r->o->nexpect + (r->o->expect_fingerprint ? 1 : 0);
    r->expect = n ? calloc(n, sizeof *r->expect) : NULL;
    if (n && !r->expect)
        return vs_error_subj(err, VS_E_INTERNAL, "--expect-fingerprint", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *in = i < r->o->nexpect ? r->o->expect[i] : r->o->expect_fingerprint;
        vs_status st = vs_keys_fpr_parse(in, "--expect-fingerprint", r->expect[r->nexpect],
                                         NULL, err);
        if (st)
            return st;
        bool again = false;
        for (size_t k = 0; k < r->nexpect; k++)
            again |= strcmp(r->expect[k], r->expect[r->nexpect]) == 0;
        if (!again)
            r->nexpect++;
    }
    return VS_OK;
}

/* ---- phase 1: read and classify ----------------------------------------------- */

static bool has_line_prefix(const uint8_t *p, size_t len, const char *pre)
{
    size_t k = strlen(pre);
    for (size_t i = 0; i + k <= len; i++) {
        if ((i == 0 || p[i - 1] == '\n') && memcmp(p + i, pre, k) == 0)
            return true;
        const uint8_t *nl = memchr(p + i, '\n', len - i);
        if (!nl)
            break;
        i = (size_t)(nl - p); /* loop adds one: next line start */
    }
    return false;
}

static bool text_starts(const uint8_t *p, size_t len, const char *s)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    size_t k = strlen(s);
    return len - i >= k && memcmp(p + i, s, k) == 0;
}

static vs_status classify_rsa(item *it, vs_error *err)
{
    gcry_sexp_t pub = NULL;
    vs_rsa_weakness weak = VS_RSA_STRONG;
    vs_status st = vs_rsa_pubkey_decode(it->data, it->len, it->path, &pub, &it->bits, it->fpr,
                                        &it->spki, &it->spki_len, &weak, err);
    gcry_sexp_release(pub);
    if (st == VS_OK)
        vs_rsa_weakness_text(weak, it->bits, it->refusal, sizeof it->refusal);
    return st;
}

/* Read and classify one file; nothing in the store is looked at yet. */
static vs_status classify(item *it, vs_error *err)
{
    vs_status st = vs_read_file(AT_FDCWD, it->path, VS_MAX_KEY_FILE, &it->data, &it->len, err);
    if (st)
        return st;
    const uint8_t *p = it->data;
    size_t len = it->len;
    if (len == 0)
        return vs_error_subj(err, VS_E_USAGE, it->path, "not a public key (empty file)");
    if (has_line_prefix(p, len, "-----BEGIN PGP ")) {
        it->pgp = true;
        return vs_keys_pgp_scan(p, len, it->path, true, &it->scan, err);
    }
    if (text_starts(p, len, "-----BEGIN PUBLIC KEY-----") ||
        text_starts(p, len, "-----BEGIN RSA PUBLIC KEY-----") || p[0] == 0x30)
        return classify_rsa(it, err);
    if (text_starts(p, len, "-----BEGIN ")) {
        if (has_line_prefix(p, len, "-----BEGIN PRIVATE KEY") ||
            has_line_prefix(p, len, "-----BEGIN RSA PRIVATE KEY") ||
            has_line_prefix(p, len, "-----BEGIN ENCRYPTED PRIVATE KEY"))
            return vs_error_subj(err, VS_E_USAGE, it->path, "holds a private key; refusing it");
        return vs_error_subj(err, VS_E_USAGE, it->path,
                             "not a public key (unsupported PEM label)");
    }
    if (p[0] & 0x80) {
        it->pgp = true;
        return vs_keys_pgp_scan(p, len, it->path, false, &it->scan, err);
    }
    return vs_error_subj(err, VS_E_USAGE, it->path,
                         "not a public key (neither OpenPGP nor an RSA PEM or DER key)");
}

static vs_status read_and_classify(run *r, vs_error *err)
{
    for (size_t i = 0; i < r->nfiles; i++) {
        item *it = &r->items[i];
        it->path = r->files[i];
        vs_status st = classify(it, err);
        if (st)
            return st;
        r->any_pgp |= it->pgp;
    }
    return VS_OK;
}

/* ---- phase 2: open the store --------------------------------------------------- */

static vs_status open_store(run *r, vs_error *err)
{
    vs_status st = vs_keys_lock(r->ctx, &r->lock, err);
    if (st == VS_OK)
        st = vs_keys_store_prepare(r->ctx, err);
    if (st == VS_OK)
        st = vs_home_dir(r->ctx, "trust/rsa", 0, &r->rsafd, err);
    if (st == VS_OK && r->any_pgp)
        st = vs_keys_scratch_open(r->ctx, &r->probe, false, err);
    if (st == VS_OK && r->any_pgp) {
        /* stamped before the copy: gpg run on the store directly from now on
         * (it does not take our lock) is seen at commit, not overwritten */
        vs_sbuf at = VS_SBUF_INIT(VS_MAX_KEY_FILE);
        st = vs_keys_keyring_stamp(r->ctx, &at, err);
        r->keyring_at = at.p;
        r->keyring_at_len = at.len;
    }
    if (st == VS_OK && r->any_pgp)
        st = vs_keys_scratch_open(r->ctx, &r->store, true, err);
    return st;
}

/* The store's keyring is still the one that was copied: else someone ran
 * gpg on it directly meanwhile, and renaming the copy over it would undo
 * that (a revocation imported with gpg would be lost). */
static vs_status keyring_unchanged(run *r, vs_error *err)
{
    vs_sbuf now = VS_SBUF_INIT(VS_MAX_KEY_FILE);
    vs_status st = vs_keys_keyring_stamp(r->ctx, &now, err);
    if (!st && (now.len != r->keyring_at_len || memcmp(now.p, r->keyring_at, now.len) != 0)) {
        st = vs_error_subj(err, VS_E_INTERNAL, "trust/gnupg",
                           "the keyring changed while the keys were being imported (gpg was run "
                           "on it directly); nothing was imported");
        vs_error_hint(err, "run the import again, and do not run gpg on HOME/trust/gnupg while "
                           "vetstage changes the store");
    }
    vs_sbuf_free(&now);
    return st;
}

/* ---- phase 3: probe ------------------------------------------------------------- */

static bool add_fpr(item *it, const char *fpr)
{
    for (size_t i = 0; i < it->nfprs; i++)
        if (strcasecmp(it->fprs[i], fpr) == 0)
            return true; /* gpg lists a key once per status line */
    char(*v)[41] = realloc(it->fprs, (it->nfprs + 1) * sizeof *v);
    if (!v)
        return false;
    it->fprs = v;
    snprintf(v[it->nfprs], sizeof v[0], "%s", fpr);
    for (char *s = v[it->nfprs]; *s; s++)
        *s = (char)toupper((unsigned char)*s);
    it->nfprs++;
    return true;
}

/* gpg's verdict on one OpenPGP key file imported into the probe home. */
static vs_status probe_result(run *r, item *it, gpgme_import_result_t res, vs_error *err)
{
    if (res->secret_read > 0 || res->secret_imported > 0)
        return vs_error_subj(err, VS_E_USAGE, it->path,
                             "holds secret key material; refusing it");
    unsigned unnamed_errors = 0;
    gpgme_error_t last = 0;
    for (gpgme_import_status_t i = res->imports; i; i = i->next) {
        if (i->result) {
            last = i->result;
            if (!i->fpr || r->nexpect == 0)
                unnamed_errors++;
            continue;
        }
        if (i->fpr && !add_fpr(it, i->fpr))
            return vs_error_subj(err, VS_E_INTERNAL, it->path, "out of memory");
    }
    bool refused = r->nexpect == 0 && (res->not_imported > 0 || unnamed_errors > 0);
    if (!refused && it->nfprs > 0)
        return VS_OK;
    if (last)
        return vs_keys_gpgme_error(err, VS_E_USAGE, last, it->path,
                                   "gpg did not import a key in it");
    return vs_error_subj(err, VS_E_USAGE, it->path,
                         "gpg did not import a key in it (no key accepted)");
}

static vs_status probe_file(run *r, item *it, vs_error *err)
{
    gpgme_data_t d = NULL;
    gpgme_error_t ge = gpgme_data_new_from_mem(&d, (const char *)it->data, it->len, 0);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, it->path, NULL);
    ge = gpgme_op_import(r->probe.g, d);
    gpgme_data_release(d);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_USAGE, ge, it->path, "gpg refused it");
    gpgme_import_result_t res = gpgme_op_import_result(r->probe.g);
    if (!res)
        return vs_error_subj(err, VS_E_INTERNAL, it->path, "gpg gave no import result");
    return probe_result(r, it, res, err);
}

static vs_key_cand *cand_add(run *r, size_t file)
{
    void *grown = vs_grow(r->c, &r->capc, r->nc, sizeof *r->c, 8);
    if (!grown)
        return NULL;
    r->c = grown;
    vs_key_cand *k = &r->c[r->nc++];
    memset(k, 0, sizeof *k);
    k->file = file;
    k->info.file = file;
    return k;
}

/* A revocation names its key by fingerprint or key id: find the key in this
 * import's files first, then in the store. */
static vs_status probe_revocation(run *r, size_t file, vs_error *err)
{
    item *it = &r->items[file];
    gpgme_key_t key = NULL;
    if (gpgme_get_key(r->probe.g, it->scan.issuer, &key, 0) != 0 || !key) {
        key = NULL;
        if (gpgme_get_key(r->store.g, it->scan.issuer, &key, 0) != 0)
            key = NULL;
    }
    if (!key || !key->fpr)
        return vs_error_subj(err, VS_E_USAGE, it->path,
                             "revocation certificate for key %s, which is not in the store",
                             it->scan.issuer);
    vs_key_cand *k = cand_add(r, file);
    if (k) {
        vs_keys_info_from_gpgme(key, &k->info);
        k->info.file = file;
        k->revocation = true;
    }
    gpgme_key_unref(key);
    return k ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, it->path, "out of memory");
}

/* The same floor as for RSA keys: an OpenPGP primary key or signing subkey
 * of a finite-field algorithm (RSA, DSA, ElGamal) below VS_MIN_RSA_BITS. */
static void pgp_weakness(gpgme_key_t key, char *out, size_t cap)
{
    for (gpgme_subkey_t sk = key->subkeys; sk; sk = sk->next) {
        if (sk != key->subkeys && !sk->can_sign)
            continue;
        switch (sk->pubkey_algo) {
        case GPGME_PK_RSA:
        case GPGME_PK_RSA_S:
        case GPGME_PK_RSA_E:
        case GPGME_PK_DSA:
        case GPGME_PK_ELG:
        case GPGME_PK_ELG_E:
            break;
        default:
            continue;
        }
        if (sk->length >= VS_MIN_RSA_BITS)
            continue;
        const char *alg = gpgme_pubkey_algo_name(sk->pubkey_algo);
        snprintf(out, cap, "OpenPGP key %s has a %u-bit %s %s, below the minimum of %u bits",
                 key->fpr, sk->length, alg ? alg : "?",
                 sk == key->subkeys ? "primary key" : "signing subkey", VS_MIN_RSA_BITS);
        return;
    }
}

static vs_status cand_from_key(run *r, size_t file, gpgme_key_t key, vs_error *err)
{
    vs_key_cand *k = cand_add(r, file);
    if (!k)
        return vs_error_subj(err, VS_E_INTERNAL, r->items[file].path, "out of memory");
    vs_keys_info_from_gpgme(key, &k->info);
    k->info.file = file;
    pgp_weakness(key, k->refusal, sizeof k->refusal);
    k->refusal_st = VS_E_POLICY;
    size_t nsub = 0;
    for (gpgme_subkey_t sk = key->subkeys ? key->subkeys->next : NULL; sk; sk = sk->next)
        nsub++;
    if (nsub == 0)
        return VS_OK;
    k->sub = calloc(nsub, sizeof *k->sub);
    if (!k->sub)
        return vs_error_subj(err, VS_E_INTERNAL, r->items[file].path, "out of memory");
    for (gpgme_subkey_t sk = key->subkeys->next; sk; sk = sk->next)
        if (sk->fpr)
            snprintf(k->sub[k->nsub++], sizeof k->sub[0], "%s", sk->fpr);
    return VS_OK;
}

/* Every key gpg found in one file, in the file's order. */
static vs_status cands_of_file(run *r, size_t file, vs_error *err)
{
    item *it = &r->items[file];
    for (size_t i = 0; i < it->nfprs; i++) {
        gpgme_key_t key = NULL;
        gpgme_error_t ge = gpgme_get_key(r->probe.g, it->fprs[i], &key, 0);
        if (ge || !key)
            return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge ? ge : GPG_ERR_NO_PUBKEY,
                                       it->path, "imported key not found afterwards");
        vs_status st = cand_from_key(r, file, key, err);
        gpgme_key_unref(key);
        if (st)
            return st;
    }
    return VS_OK;
}

static vs_status cand_of_rsa(run *r, size_t file, vs_error *err)
{
    item *it = &r->items[file];
    vs_key_cand *k = cand_add(r, file);
    if (!k)
        return vs_error_subj(err, VS_E_INTERNAL, it->path, "out of memory");
    vs_keys_info_from_rsa(it->fpr, it->bits, r->o->rsa_scheme, &k->info);
    k->info.file = file;
    snprintf(k->refusal, sizeof k->refusal, "%s", it->refusal);
    k->refusal_st = VS_E_POLICY;
    return VS_OK;
}

static vs_status probe(run *r, vs_error *err)
{
    vs_status st = VS_OK;
    for (size_t i = 0; st == VS_OK && i < r->nfiles; i++)
        if (r->items[i].pgp && r->items[i].scan.npublic > 0)
            st = probe_file(r, &r->items[i], err);
    for (size_t i = 0; st == VS_OK && i < r->nfiles; i++) {
        item *it = &r->items[i];
        if (!it->pgp)
            st = cand_of_rsa(r, i, err);
        else if (it->scan.npublic == 0)
            st = probe_revocation(r, i, err);
        else
            st = cands_of_file(r, i, err);
    }
    return st;
}

/* ---- phase 5: stage ---------------------------------------------------------------- */

static bool is_pgp_key(const vs_key_cand *k)
{
    return k->info.type == VS_KEY_OPENPGP && !k->revocation;
}

static vs_key_cand *selected_key(run *r, const char *fpr)
{
    for (size_t i = 0; i < r->nc; i++)
        if (r->c[i].selected && is_pgp_key(&r->c[i]) &&
            strcasecmp(r->c[i].info.fingerprint, fpr) == 0)
            return &r->c[i];
    return NULL;
}

/* Exactly the selected keys, exported by gpg from the probe home. */
static vs_status export_selected(run *r, gpgme_data_t d, size_t *n, vs_error *err)
{
    const char **pat = calloc(r->nc + 1, sizeof *pat);
    if (!pat)
        return vs_error_subj(err, VS_E_INTERNAL, "trust/gnupg", "out of memory");
    *n = 0;
    for (size_t i = 0; i < r->nc; i++)
        if (r->c[i].selected && is_pgp_key(&r->c[i]))
            pat[(*n)++] = r->c[i].info.fingerprint;
    gpgme_error_t ge = *n ? gpgme_op_export_ext(r->probe.g, pat, 0, d) : 0;
    free(pat);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, "trust/gnupg", "exporting the keys");
    return VS_OK;
}

static vs_key_status status_of(unsigned flags)
{
    if (flags & GPGME_IMPORT_NEW)
        return VS_KEY_IMPORTED;
    return flags ? VS_KEY_UPDATED : VS_KEY_PRESENT;
}

/* Import the export into the copy of the store's keyring; gpg's result
 * must name only the selected keys (a key that came along, say one that
 * holds a named key's material as its subkey, is refused). */
static vs_status import_selected(run *r, gpgme_data_t d, vs_error *err)
{
    gpgme_data_seek(d, 0, SEEK_SET);
    gpgme_error_t ge = gpgme_op_import(r->store.g, d);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, "trust/gnupg", "importing the keys");
    gpgme_import_result_t res = gpgme_op_import_result(r->store.g);
    if (!res)
        return vs_error_subj(err, VS_E_INTERNAL, "trust/gnupg", "gpg gave no import result");
    for (gpgme_import_status_t i = res->imports; i; i = i->next) {
        vs_key_cand *k = i->fpr ? selected_key(r, i->fpr) : NULL;
        if (i->result)
            return vs_keys_gpgme_error(err, VS_E_USAGE, i->result,
                                       i->fpr ? i->fpr : "trust/gnupg", "gpg did not import it");
        if (!k)
            return vs_error_subj(err, VS_E_USAGE, i->fpr ? i->fpr : "?",
                                 "came along with the named keys (it shares key material with "
                                 "one of them); refusing the import");
        k->info.status = status_of(i->status);
    }
    return VS_OK;
}

/* Why a key that is imported can verify nothing, if it cannot. */
static void usable_note(gpgme_key_t key, char *note, size_t cap)
{
    char day[16] = "?";
    if (key->revoked) {
        snprintf(note, cap, "revoked: it can verify nothing");
        return;
    }
    if (key->expired) {
        time_t t = key->subkeys ? (time_t)key->subkeys->expires : 0;
        struct tm tm;
        if (t > 0 && gmtime_r(&t, &tm))
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
        snprintf(note, cap, "expired on %s: it can verify nothing", day);
        return;
    }
    for (gpgme_subkey_t sk = key->subkeys; sk; sk = sk->next)
        if (sk->can_sign && !sk->expired && !sk->revoked && !sk->invalid && !sk->disabled)
            return;
    snprintf(note, cap, "no valid signing key (all expired or revoked): it can verify nothing");
}

/* The key as the store will hold it (merged with what was there). */
static vs_status refresh(run *r, vs_key_cand *k, vs_error *err)
{
    gpgme_key_t key = NULL;
    gpgme_error_t ge = gpgme_get_key(r->store.g, k->info.fingerprint, &key, 0);
    if (ge || !key)
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge ? ge : GPG_ERR_NO_PUBKEY,
                                   k->info.fingerprint, "not found after the import");
    vs_key_status status = k->info.status;
    vs_keys_info_from_gpgme(key, &k->info);
    k->info.status = status;
    k->info.file = k->file;
    k->info.revocation_applied = status == VS_KEY_REVOKED_NOW;
    usable_note(key, k->info.note, sizeof k->info.note);
    gpgme_key_unref(key);
    return VS_OK;
}

static vs_status apply_revocation(run *r, vs_key_cand *k, vs_error *err)
{
    item *it = &r->items[k->file];
    gpgme_data_t d = NULL;
    gpgme_error_t ge = gpgme_data_new_from_mem(&d, (const char *)it->data, it->len, 0);
    if (!ge)
        ge = gpgme_op_import(r->store.g, d);
    gpgme_data_release(d);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_USAGE, ge, it->path, "gpg refused it");
    gpgme_key_t key = NULL;
    ge = gpgme_get_key(r->store.g, k->info.fingerprint, &key, 0);
    bool revoked = !ge && key && key->revoked;
    if (key)
        gpgme_key_unref(key);
    if (!revoked)
        return vs_error_subj(err, VS_E_USAGE, it->path,
                             "revocation certificate did not apply to key %s (bad signature?)",
                             k->info.fingerprint);
    k->info.status = VS_KEY_REVOKED_NOW;
    return VS_OK;
}

static vs_status stage_pgp(run *r, vs_error *err)
{
    gpgme_data_t d = NULL;
    gpgme_error_t ge = gpgme_data_new(&d);
    if (ge)
        return vs_keys_gpgme_error(err, VS_E_INTERNAL, ge, "trust/gnupg", NULL);
    size_t n = 0;
    vs_status st = export_selected(r, d, &n, err);
    if (st == VS_OK && n > 0)
        st = import_selected(r, d, err);
    gpgme_data_release(d);
    for (size_t i = 0; st == VS_OK && i < r->nc; i++)
        if (r->c[i].selected && r->c[i].revocation)
            st = apply_revocation(r, &r->c[i], err);
    for (size_t i = 0; st == VS_OK && i < r->nc; i++)
        if (r->c[i].selected && r->c[i].info.type == VS_KEY_OPENPGP)
            st = refresh(r, &r->c[i], err);
    return st;
}

/* A new RSA key file written and fsynced under a temporary name; a stored
 * key is reported as present (with its scheme unchanged). */
static vs_status stage_rsa(run *r, vs_key_cand *k, vs_error *err)
{
    item *it = &r->items[k->file];
    vs_rsa_key old;
    vs_error e2 = VS_ERROR_INIT;
    vs_status s2 = vs_keys_rsa_load_one(r->ctx, it->fpr + 7, &old, &e2);
    if (s2 == VS_OK) {
        gcry_sexp_release(old.pub);
        if (old.scheme != r->o->rsa_scheme) {
            vs_error_subj(err, VS_E_USAGE, it->path,
                          "key %s is already in the store with scheme %s; remove it first",
                          it->fpr, vs_rsa_scheme_name(old.scheme));
            vs_error_hint(err, "vetstage keys remove %s", it->fpr);
            return VS_E_USAGE;
        }
        k->info.status = VS_KEY_PRESENT;
        return VS_OK;
    }
    if (s2 != VS_E_USAGE) /* a damaged file of that name: the good key replaces it */
        vs_log(r->ctx, VS_LOG_WARN, "%s", e2.message);
    size_t tl = 0;
    char *text = vs_keys_rsa_file_text(r->o->rsa_scheme, it->spki, it->spki_len, &tl);
    if (!text)
        return vs_error_subj(err, VS_E_INTERNAL, it->path, "out of memory");
    vs_status st = vs_tmpfile_open(&it->tf, r->rsafd, 0644, false, err);
    if (st == VS_OK)
        st = vs_tmpfile_write(&it->tf, text, tl, err);
    free(text);
    if (st == VS_OK && fsync(it->tf.fd) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, it->path, "staging: fsync");
    k->info.status = VS_KEY_IMPORTED;
    return st;
}

static vs_status stage(run *r, vs_error *err)
{
    vs_status st = r->any_pgp ? stage_pgp(r, err) : VS_OK;
    for (size_t i = 0; st == VS_OK && i < r->nc; i++)
        if (r->c[i].selected && r->c[i].info.type == VS_KEY_RSA)
            st = stage_rsa(r, &r->c[i], err);
    return st;
}

/* ---- phase 6: commit ---------------------------------------------------------------- */

static bool keyring_changed(const run *r)
{
    for (size_t i = 0; i < r->nc; i++)
        if (r->c[i].selected && r->c[i].info.type == VS_KEY_OPENPGP &&
            r->c[i].info.status != VS_KEY_PRESENT)
            return true;
    return false;
}

static vs_status fsync_at(int dfd, const char *name, const char *subject, vs_error *err)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? VS_OK
                               : vs_error_subj_errno(err, VS_E_INTERNAL, errno, subject, "open");
    int rc = fsync(fd), e = errno;
    close(fd);
    return rc == 0 ? VS_OK : vs_error_subj_errno(err, VS_E_INTERNAL, e, subject, "fsync");
}

static vs_status commit(run *r, bool *recorded, vs_error *err)
{
    vs_keys_commit c = { 0 };
    c.rsa_tmp = calloc(r->nfiles, sizeof *c.rsa_tmp);
    c.rsa_name = calloc(r->nfiles, sizeof *c.rsa_name);
    vs_status st = c.rsa_tmp && c.rsa_name
                       ? VS_OK
                       : vs_error_subj(err, VS_E_INTERNAL, "trust", "out of memory");
    for (size_t i = 0; st == VS_OK && i < r->nfiles; i++) {
        item *it = &r->items[i];
        if (it->pgp || !it->tf.tmpname[0])
            continue;
        if (it->tf.fd >= 0 && close(it->tf.fd) != 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, it->path, "staging: close");
        it->tf.fd = -1;
        snprintf(c.rsa_tmp[c.nrsa], sizeof c.rsa_tmp[0], "%s", it->tf.tmpname);
        snprintf(c.rsa_name[c.nrsa++], sizeof c.rsa_name[0], "%.64s.pem", it->fpr + 7);
    }
    if (st == VS_OK && r->any_pgp && keyring_changed(r))
        st = keyring_unchanged(r, err);
    if (st == VS_OK && r->any_pgp && keyring_changed(r)) {
        st = fsync_at(r->store.fd, "pubring.kbx", "trust/gnupg", err);
        if (st == VS_OK)
            st = fsync_at(r->store.fd, "trustdb.gpg", "trust/gnupg", err);
        snprintf(c.gnupg_tmp, sizeof c.gnupg_tmp, "%s", r->store.name);
    }
    if (st == VS_OK && (c.nrsa > 0 || c.gnupg_tmp[0]))
        st = vs_keys_commit_apply(r->ctx, &c, recorded, err);
    for (size_t i = 0; st == VS_OK && i < r->nfiles; i++)
        r->items[i].tf.tmpname[0] = '\0'; /* renamed */
    vs_keys_commit_free(&c);
    return st;
}

/* ---- results and the one exit ------------------------------------------------------- */

static vs_status collect(run *r, vs_key_infos *res, vs_error *err)
{
    for (size_t i = 0; i < r->nc; i++) {
        if (r->c[i].dup)
            continue;
        vs_key_info *ki = vs_key_infos_add(res);
        if (!ki)
            return vs_error_subj(err, VS_E_INTERNAL, "keys import", "out of memory");
        *ki = r->c[i].info;
    }
    return VS_OK;
}

/* keep: a commit record was written but not finished; what it names stays
 * for the next holder of the lock (vs_keys_commit_recover). */
static void run_free(run *r, bool keep)
{
    for (size_t i = 0; r->items && i < r->nfiles; i++) {
        item *it = &r->items[i];
        if (keep)
            it->tf.tmpname[0] = '\0';
        if (it->tf.fd >= 0 || it->tf.tmpname[0])
            vs_tmpfile_abort(&it->tf);
        free(it->data);
        free(it->spki);
        free(it->fprs);
    }
    if (keep)
        r->store.name[0] = '\0';
    vs_keys_scratch_close(r->ctx, &r->probe);
    vs_keys_scratch_close(r->ctx, &r->store);
    if (r->rsafd >= 0)
        close(r->rsafd);
    vs_keys_unlock(r->lock);
    for (size_t i = 0; i < r->nc; i++)
        free(r->c[i].sub);
    free(r->c);
    free(r->items);
    free(r->expect);
    free(r->keyring_at);
}

vs_status vs_keys_import(vs_key_info **out, size_t *nout, vs_ctx *ctx, const char *const *files,
                         size_t nfiles, const vs_keys_import_opts *opts, vs_error *err)
{
    vs_keys_import_opts defaults = VS_KEYS_IMPORT_OPTS_INIT;
    if (out)
        *out = NULL;
    if (nout)
        *nout = 0;
    run r = { .ctx = ctx, .o = opts ? opts : &defaults, .files = files, .nfiles = nfiles,
              .lock = -1, .rsafd = -1, .probe = { .fd = -1 }, .store = { .fd = -1 } };
    if (VS_CHECK_OPTS(r.o, vs_keys_import_opts, KEYS_IMPORT_OPTS, err))
        return VS_E_USAGE;
    if (nfiles == 0)
        return vs_error_subj(err, VS_E_USAGE, "keys import", "no key files given");
    if ((unsigned)r.o->rsa_scheme > VS_RSA_PSS_SHA512)
        return vs_error_subj(err, VS_E_USAGE, "--rsa-scheme", "unknown RSA scheme");
    r.items = calloc(nfiles, sizeof *r.items);
    for (size_t i = 0; r.items && i < nfiles; i++)
        r.items[i].tf.fd = -1;
    vs_status st = r.items ? VS_OK
                           : vs_error_subj(err, VS_E_INTERNAL, "keys import", "out of memory");
    vs_key_infos res = { 0 };
    bool recorded = false;
    if (st == VS_OK)
        st = parse_expect(&r, err);
    if (st == VS_OK)
        st = read_and_classify(&r, err);
    if (st == VS_OK)
        st = open_store(&r, err);
    if (st == VS_OK)
        st = probe(&r, err);
    if (st == VS_OK)
        st = vs_keys_select(r.c, r.nc, files, nfiles, (const char(*)[VS_FPR_MAX])r.expect,
                            r.nexpect, err);
    if (st == VS_OK)
        st = stage(&r, err);
    if (st == VS_OK)
        st = collect(&r, &res, err);
    if (st == VS_OK)
        st = commit(&r, &recorded, err);
    run_free(&r, recorded && st != VS_OK);
    vs_trust_forget(ctx); /* this context's verifies see the store as it is now */
    if (st == VS_OK)
        vs_trust_keystate_refresh(ctx); /* stage asks it, not gpg, until the next change */
    if (st == VS_OK && out) {
        *out = res.v;
        *nout = res.n;
    } else {
        free(res.v);
    }
    return st;
}
