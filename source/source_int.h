/*
 * source/source_int.h - internals of the configuration file and its
 * sources, shared by the parser, the resolver, the unit tests and the
 * config fuzz harness.
 */
#ifndef VS_SOURCE_INT_H
#define VS_SOURCE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/common_int.h"
#include "vetstage/source.h"

/* The keys of a [source NAME] section, in the contract's order. */
typedef enum vs_src_key {
    VS_K_URL,
    VS_K_GPG_SIG_URL,
    VS_K_CHECKSUMS_URL,
    VS_K_RSA_SIG_URL,
    VS_K_REQUIRE,
    VS_K_KEYS,
    VS_K_MIRROR,
    VS_K_CACERT,
    VS_K_PINNED_PUBKEY,
    VS_K_MAX_SIZE,
    VS_K_RETRIES,
    VS_K_TIMEOUT,
    VS_K_STRIP_COMPONENTS,
    VS_K_MAX_SIG_AGE,
    VS_K_START_SCRIPT,
    VS_K_COUNT
} vs_src_key;

/* One [source NAME] section, validated. */
typedef struct vs_src {
    char name[VS_MAX_NAME + 1];
    size_t line;                   /* line of the section header */
    char *val[VS_K_COUNT];         /* single-valued keys as written (NULL: unset) */
    size_t vline[VS_K_COUNT];      /* their lines */
    char *mirror[VS_MAX_SOURCE_MIRRORS];
    size_t mirror_line[VS_MAX_SOURCE_MIRRORS];
    size_t nmirrors;
    /* parsed values */
    unsigned require;              /* 0: unset */
    char keys[VS_MAX_SOURCE_KEYS][VS_FPR_MAX]; /* normalised fingerprints */
    size_t nkeys;
    uint64_t max_size;             /* 0: unset */
    int retries;                   /* -1: unset */
    unsigned timeout;              /* 0: unset */
    unsigned strip;
    bool has_strip;
    unsigned max_sig_age;          /* 0: unset */
} vs_src;

struct vs_config {
    char *file;   /* the name used in messages */
    vs_src *src;
    size_t n, cap;
};

/* Key name -> key (VS_K_COUNT when unknown). */
vs_src_key vs_src_key_lookup(const char *s, size_t len);
const char *vs_src_key_name(vs_src_key k);

/* A URL template: scheme https/http/file, no blanks or control bytes, and
 * only known placeholders. false with a reason in why[whylen]. */
bool vs_src_template_ok(const char *t, char *why, size_t whylen);

/*
 * Expand a template with name and version. The version's first three
 * dot-separated parts are {major} {minor} {patch}; a placeholder whose
 * part is missing fails (VS_E_USAGE, subject `where`). Result at most
 * VS_MAX_URL bytes; *out malloc'd.
 */
vs_status vs_src_expand(const char *tmpl, const char *name, const char *version,
                        const char *where, char **out, vs_error *err);

/* Normalise one fingerprint as the config writes it (40 hex, optional
 * "0x"; or "sha256:" + 64 hex; any case) into the store's form. */
bool vs_src_fingerprint(const char *s, size_t len, char out[VS_FPR_MAX]);

#endif
