/* stage/provenance.c - .vetstage/provenance.json: its one writer and its one
 * parser. Stage writes it; the rollback rule and render read it back through
 * vs_provenance_parse, so both judge the file by the same rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cache/cache_int.h"
#include "stage/stage_int.h"

/* ---- writer ---------------------------------------------------------------- */

static json_t *iso_time(int64_t t)
{
    if (t <= 0)
        return json_null();
    char buf[32];
    vs_cache_time_format(buf, t);
    return buf[0] ? json_string(buf) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static const char *signer_type(const char *fpr)
{
    return strncmp(fpr, "sha256:", 7) == 0 ? "rsa" : "gpg";
}

static json_t *signatures_json(const vs_cache_entry *e)
{
    json_t *sigs = json_array();
    for (size_t i = 0; i < vs_cache_entry_nsigs(e); i++) {
        json_t *s = json_object();
        json_object_set_new(s, "kind", json_string(vs_cache_entry_sig_kind(e, i)));
        json_object_set_new(s, "file", json_string(vs_cache_entry_sig_file(e, i)));
        json_object_set_new(s, "sha256", json_string(vs_cache_entry_sig_sha256(e, i)));
        char *url = vs_cache_url_dup(vs_cache_entry_sig_url(e, i)); /* stored without
                                                                       credentials; make sure */
        json_object_set_new(s, "url", url ? str_or_null(url) : NULL);
        free(url);
        json_array_append_new(sigs, s);
    }
    return sigs;
}

static json_t *signers_json(const vs_cache_entry *e)
{
    json_t *signers = json_array();
    for (size_t i = 0; i < vs_cache_entry_nsigners(e); i++) {
        json_t *s = json_object();
        json_object_set_new(s, "type", json_string(signer_type(vs_cache_entry_signer(e, i))));
        json_object_set_new(s, "fingerprint", json_string(vs_cache_entry_signer(e, i)));
        json_array_append_new(signers, s);
    }
    return signers;
}

char *vs_provenance_format(const vs_cache_entry *e, const char *arch, const uint16_t *machines,
                           unsigned nmachines, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(vs_cache_entry_name(e)));
    json_object_set_new(o, "version", json_string(vs_cache_entry_version(e)));
    json_object_set_new(o, "package", json_string(vs_cache_entry_file(e)));
    json_object_set_new(o, "sha256", json_string(vs_cache_entry_sha256(e)));
    json_object_set_new(o, "size", json_integer((json_int_t)vs_cache_entry_size(e)));
    char *url = vs_cache_url_dup(vs_cache_entry_url(e)); /* as stored: no credentials, but
                                                             make sure */
    json_object_set_new(o, "url", url ? str_or_null(url) : NULL);
    free(url);
    json_object_set_new(o, "signatures", signatures_json(e));
    json_object_set_new(o, "signers", signers_json(e));
    json_object_set_new(o, "signed", iso_time(vs_cache_entry_signed_at(e)));
    json_object_set_new(o, "verified", iso_time(now));
    json_object_set_new(o, "admitted", iso_time(vs_cache_entry_verified(e)));
    if (arch && *arch) {
        json_object_set_new(o, "arch", json_string(arch));
    } else if (nmachines > 0) {
        /* no --arch: the ELF machine types found, so a reader knows */
        json_t *m = json_array();
        for (unsigned i = 0; m && i < nmachines; i++)
            json_array_append_new(m, json_string(vs_elf_machine_name(machines[i])));
        json_object_set_new(o, "machines", m);
    }
    char tool[64];
    snprintf(tool, sizeof tool, "vetstage %s", vs_version());
    json_object_set_new(o, "tool", json_string(tool));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *r = realloc(text, n + 2);
    if (!r) {
        free(text);
        return NULL;
    }
    r[n] = '\n';
    r[n + 1] = '\0';
    return r;
}

/* ---- parser ---------------------------------------------------------------- */

static const char *str_field(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A copy of string member `k` that fits `n` bytes, has no control
 * characters and no embedded NUL; NULL otherwise. */
static bool copy_field(const json_t *o, const char *k, char *out, size_t n)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len >= n || strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    memcpy(out, s, len + 1);
    return true;
}

static bool fpr_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= VS_FPR_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == ':'))
            return false;
    }
    return true;
}

/* An optional time member: absent or null is 0; otherwise strictly
 * YYYY-MM-DDTHH:MM:SSZ. */
static bool opt_time(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    *out = 0;
    if (!v || json_is_null(v))
        return true;
    return json_is_string(v) && vs_cache_time_parse(json_string_value(v), out);
}

static vs_status parse_signers(const json_t *arr, const char *what, vs_provenance *p,
                               int64_t *legacy_signed, vs_error *err)
{
    if (!arr)
        return VS_OK;
    if (!json_is_array(arr) || json_array_size(arr) > VS_PROVENANCE_MAX_SIGNERS)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "\"signers\" is not a list of at most %u",
                             VS_PROVENANCE_MAX_SIGNERS);
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s)
    {
        const char *f = json_is_string(s) ? json_string_value(s) : str_field(s, "fingerprint");
        if (!f || !fpr_ok(f))
            return vs_error_subj(err, VS_E_INTEGRITY, what, "signer %zu: malformed fingerprint",
                                 i);
        snprintf(p->signers[p->nsigners++], VS_FPR_MAX, "%s", f);
        /* files written before "signed" existed kept each signer's time */
        const char *type = json_is_object(s) ? str_field(s, "type") : NULL;
        int64_t t = 0;
        if (json_is_object(s) && !opt_time(s, "created", &t))
            return vs_error_subj(err, VS_E_INTEGRITY, what,
                                 "signer %zu: \"created\" is not an ISO-8601 UTC time", i);
        if (type && !strcmp(type, "gpg") && t > *legacy_signed)
            *legacy_signed = t;
    }
    return VS_OK;
}

vs_status vs_provenance_parse(const uint8_t *buf, size_t len, const char *what,
                              vs_provenance *p, vs_error *err)
{
    memset(p, 0, sizeof *p);
    if (len > VS_MAX_REF_FILE)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "larger than the limit of %u bytes",
                             VS_MAX_REF_FILE);
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    vs_status st = VS_OK;
    int64_t legacy = 0;
    uint8_t d[VS_SHA256_LEN];
    if (!json_is_object(j))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "not a JSON object");
    else if (!copy_field(j, "name", p->name, sizeof p->name) || !vs_valid_name(p->name))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "no valid package name");
    else if (!copy_field(j, "version", p->version, sizeof p->version) ||
             !vs_valid_version(p->version))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "no valid version");
    else if (!copy_field(j, "sha256", p->sha256, sizeof p->sha256) ||
             !vs_unhex(d, sizeof d, p->sha256, strlen(p->sha256)))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "no valid sha256");
    else if (!opt_time(j, "signed", &p->signed_at))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "\"signed\" is not an ISO-8601 UTC time");
    else if (json_object_get(j, "arch") && !copy_field(j, "arch", p->arch, sizeof p->arch))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "\"arch\" is not a short string");
    else
        st = parse_signers(json_object_get(j, "signers"), what, p, &legacy, err);
    if (st == VS_OK && !json_object_get(j, "signed"))
        p->signed_at = legacy;
    json_decref(j);
    if (st)
        memset(p, 0, sizeof *p);
    return st;
}

vs_status vs_provenance_read(int treefd, const char *what, vs_provenance *p, vs_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    vs_error e2 = VS_ERROR_INIT;
    memset(p, 0, sizeof *p);
    if (vs_read_file(treefd, VS_META_DIR "/" VS_META_PROVENANCE, VS_MAX_REF_FILE, &buf, &len,
                     &e2) != VS_OK)
        return vs_error_subj(err, e2.status == VS_E_INTERNAL ? VS_E_INTERNAL : VS_E_INTEGRITY,
                             what, "cannot read " VS_META_DIR "/" VS_META_PROVENANCE ": %s",
                             e2.reason[0] ? e2.reason : e2.message);
    vs_status st = vs_provenance_parse(buf, len, what, p, err);
    free(buf);
    return st;
}
