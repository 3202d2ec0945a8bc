/*
 * keys/select.c - which of the keys found in an import's files go into the
 * store. A pure function over the keys gpg reported: no files, no gpg, so
 * the rules are tested on their own (tests/unit/keys).
 *
 * Upstream key files often hold several keys: a maintainer's old and new
 * keys, a co-maintainer's, a DSA-1024 key from 2003. Naming the key to trust
 * (--expect-fingerprint, repeatable) takes exactly that key and skips the
 * rest, weak or not: a weak key refuses the import only when it is one of
 * the keys being imported. Without names every key is imported, so a weak
 * key anywhere refuses (the store must not be weakened silently).
 */
#include <stdio.h>
#include <string.h>

#include "keys/keys_int.h"

static bool same_key(const vs_key_cand *a, const vs_key_cand *b)
{
    return a->info.type == b->info.type && a->revocation == b->revocation &&
           strcmp(a->info.fingerprint, b->info.fingerprint) == 0;
}

static void mark_duplicates(vs_key_cand *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c[i].dup = false;
        for (size_t j = 0; j < i && !c[i].dup; j++)
            c[i].dup = !c[j].dup && same_key(&c[i], &c[j]);
    }
}

static size_t keys_in_file(const vs_key_cand *c, size_t n, size_t file)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += c[i].file == file && !c[i].dup;
    return k;
}

static const char *file_name(const char *const *files, size_t nfiles, size_t i)
{
    return i < nfiles && files[i] ? files[i] : "?";
}

/* "not in FILE (it holds A, B)" / "in none of the N files (they hold ...)". */
static void not_found(vs_error *err, const vs_key_cand *c, size_t n, const char *const *files,
                      size_t nfiles, const char *fpr)
{
    char held[400] = "";
    size_t len = 0, shown = 0;
    for (size_t i = 0; i < n && len < sizeof held; i++) {
        if (c[i].dup || c[i].revocation)
            continue;
        if (shown == 4) {
            snprintf(held + len, sizeof held - len, ", ...");
            break;
        }
        int w = snprintf(held + len, sizeof held - len, "%s%s", shown ? ", " : "",
                         c[i].info.fingerprint);
        len += w > 0 ? (size_t)w : 0;
        shown++;
    }
    if (nfiles == 1)
        vs_error_subj(err, VS_E_VERIFY, fpr, "named by --expect-fingerprint but not in %s (%s %s)",
                      file_name(files, nfiles, 0), shown ? "it holds" : "it holds no key",
                      held);
    else
        vs_error_subj(err, VS_E_VERIFY, fpr,
                      "named by --expect-fingerprint but in none of the %zu files (%s %s)", nfiles,
                      shown ? "they hold" : "they hold no key", held);
    vs_error_hint(err, "compare the fingerprint with the one the upstream publishes; "
                       "gpg --show-keys FILE lists a file's keys");
}

/* A named fingerprint that is one key's subkey: say whose. */
static const vs_key_cand *subkey_owner(const vs_key_cand *c, size_t n, const char *fpr)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < c[i].nsub; k++)
            if (strcmp(c[i].sub[k], fpr) == 0)
                return &c[i];
    return NULL;
}

static vs_status check_named_found(vs_key_cand *c, size_t n, const char *const *files,
                                   size_t nfiles, const char (*expect)[VS_FPR_MAX],
                                   size_t nexpect, vs_error *err)
{
    for (size_t e = 0; e < nexpect; e++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(c[i].info.fingerprint, expect[e]) == 0;
        if (found)
            continue;
        const vs_key_cand *owner = subkey_owner(c, n, expect[e]);
        if (owner) {
            vs_error_subj(err, VS_E_VERIFY, expect[e],
                          "a subkey of %s in %s, not a primary key", owner->info.fingerprint,
                          file_name(files, nfiles, owner->file));
            vs_error_hint(err, "name the primary key: --expect-fingerprint %s (its subkeys "
                               "come with it)",
                          owner->info.fingerprint);
            return VS_E_VERIFY;
        }
        not_found(err, c, n, files, nfiles, expect[e]);
        return VS_E_VERIFY;
    }
    return VS_OK;
}

static bool is_named(const vs_key_cand *k, const char (*expect)[VS_FPR_MAX], size_t nexpect)
{
    for (size_t e = 0; e < nexpect; e++)
        if (strcmp(k->info.fingerprint, expect[e]) == 0)
            return true;
    return false;
}

static vs_status refuse(const vs_key_cand *c, size_t n, const vs_key_cand *k,
                             const char *const *files, size_t nfiles, size_t nexpect,
                             vs_error *err)
{
    const char *file = file_name(files, nfiles, k->file);
    vs_error_subj(err, k->refusal_st, file, "%s", k->refusal);
    size_t in_file = keys_in_file(c, n, k->file);
    if (nexpect == 0 && in_file > 1)
        vs_error_hint(err, "%s holds %zu keys: name the ones to import with "
                           "--expect-fingerprint FPR (repeatable); the others are then skipped",
                      file, in_file);
    return k->refusal_st;
}

vs_status vs_keys_select(vs_key_cand *c, size_t n, const char *const *files, size_t nfiles,
                         const char (*expect)[VS_FPR_MAX], size_t nexpect, vs_error *err)
{
    mark_duplicates(c, n);
    vs_status st = check_named_found(c, n, files, nfiles, expect, nexpect, err);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++) {
        vs_key_cand *k = &c[i];
        k->selected = !k->dup && (nexpect == 0 || is_named(k, expect, nexpect));
        if (k->selected && k->refusal[0])
            return refuse(c, n, k, files, nfiles, nexpect, err);
        if (k->selected || k->dup)
            continue;
        k->info.status = VS_KEY_SKIPPED;
        snprintf(k->info.note, sizeof k->info.note, "not named%s%s", k->refusal[0] ? "; " : "",
                 k->refusal);
    }
    return VS_OK;
}
