/*
 * vetstage/source.h - a vendor's release, described once.
 *
 * The configuration file (HOME/vetstage.conf, or a file the caller names:
 * `--config FILE`, $VETSTAGE_CONFIG - the library itself never reads the
 * environment) holds `[source NAME]` sections in the INI syntax git and
 * pacman use:
 *
 *     # comment
 *     [source lacework]
 *     url = https://example.com/releases/download/v{major}.{minor}.{patch}/{version}.tgz
 *     checksums-url = https://example.com/releases/download/v{major}.{minor}.{patch}/checksum_sha256.txt
 *     rsa-sig-url = https://approvals.example.com/lacework/{version}.tgz.sig
 *     require = gpg,rsa
 *     keys = 360D55D76727556814078E25FF3E1D4DEE0CC692 sha256:2c8b...
 *     strip-components = 1
 *
 * Keys: url (required), gpg-sig-url, checksums-url, rsa-sig-url, require,
 * keys, mirror (repeatable), cacert, pinned-pubkey, max-size, retries,
 * timeout, strip-components, max-sig-age, start-script. URL values may use
 * the placeholders {name}, {version}, {major}, {minor} and {patch} (the
 * first three dot-separated parts of the version). An unknown key or
 * section, a malformed line or value, an unknown placeholder, a key given
 * twice (but `mirror`) or a section given twice is VS_E_USAGE with the
 * subject "FILE:LINE".
 *
 * A `NAME@VERSION` resolves into a filled vs_cache_fetch_opts (URLs
 * expanded; `keys` is the key binding, as apt's signed-by: only those
 * fingerprints count for the source's packages), the strip-components of
 * stage and the start script of render.
 */
#ifndef VETSTAGE_SOURCE_H
#define VETSTAGE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vetstage/cache.h"
#include "vetstage/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The configuration file's name in the home. */
#define VS_CONFIG_FILE "vetstage.conf"

typedef struct vs_config vs_config;

/*
 * Parse configuration text p[0..len) (untrusted; at most VS_MAX_CONFIG_FILE
 * bytes, lines at most VS_MAX_CONFIG_LINE). `what` names the file in errors
 * ("vetstage.conf"; NULL: "config"). On success *out holds the sources
 * (possibly none); free it with vs_config_free.
 * Returns VS_OK, VS_E_USAGE (subject "WHAT:LINE" and the reason, a hint
 * naming the accepted keys where that helps), VS_E_INTERNAL (out of memory).
 */
VS_EXTERN vs_status vs_config_parse(vs_config **out, const uint8_t *p, size_t len,
                                    const char *what, vs_error *err);

/*
 * Load the configuration of ctx.
 *  - path NULL: HOME/vetstage.conf, opened below the home without following
 *    a symbolic link (a link there is VS_E_USAGE); an absent file is an
 *    empty configuration (VS_OK, no sources).
 *  - path given (the user named it): read as it is; absent or unreadable is
 *    VS_E_USAGE naming it.
 * Returns as vs_config_parse; *out freed with vs_config_free.
 */
VS_EXTERN vs_status vs_config_load(vs_config **out, vs_ctx *ctx, const char *path, vs_error *err);

/* Free a configuration; NULL is accepted. */
VS_EXTERN void vs_config_free(vs_config *cfg);

/* Number of sources, and the name of the i-th (in file order; borrowed
 * until vs_config_free; NULL when i is out of range). */
VS_EXTERN size_t vs_config_count(const vs_config *cfg);
VS_EXTERN const char *vs_config_source_name(const vs_config *cfg, size_t i);
/* The file the configuration came from, as named in errors (borrowed). */
VS_EXTERN const char *vs_config_file(const vs_config *cfg);

/*
 * Does `arg` have the shape NAME@VERSION (a valid name, '@', a valid
 * version, and no "://")? A URL never does.
 */
VS_EXTERN bool vs_source_is_ref(const char *arg);

/* One release of a source, resolved. Everything is owned by the release. */
typedef struct vs_source_release {
    /* url, name, version, signature URLs, mirrors (each BASE of the source
     * as vs_source_mirror_bases gives it: BASE/NAME/VERSION, then BASE), keys,
     * require, max_sig_age_days and the transport options. Unset values
     * keep their VS_CACHE_FETCH_OPTS_INIT defaults. */
    vs_cache_fetch_opts fetch;
    bool has_strip_components;  /* strip-components was set */
    unsigned strip_components;
    const char *start_script;   /* NULL when not set */
    char source[VS_MAX_NAME + 1]; /* the section name */
    char where[VS_ERROR_SUBJECT_MAX]; /* "FILE:LINE" of the section, for messages */
} vs_source_release;

/*
 * Resolve "NAME@VERSION" with the source NAME of cfg: placeholders
 * expanded in every URL (each expanded URL at most VS_MAX_URL bytes).
 * Returns VS_OK (*out freed with vs_source_release_free); VS_E_USAGE when
 * ref is malformed, no source is called NAME (detail VS_DETAIL_NOT_FOUND,
 * hint naming the file), or the version lacks a part a template uses
 * ({patch} of "1.2"; subject the template's "FILE:LINE"); VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_source_resolve(vs_source_release **out, const vs_config *cfg,
                                      const char *ref, vs_error *err);

VS_EXTERN void vs_source_release_free(vs_source_release *rel);

/*
 * The trust settings of the source `name` (for a package that arrives
 * without URLs, as from a bundle): its require (0 when unset), max-sig-age
 * (0 when unset) and key binding: keys[0..*nkeys) point into cfg (borrowed
 * until vs_config_free). Returns true when cfg has a [source NAME].
 */
VS_EXTERN bool vs_source_policy(unsigned *require, unsigned *max_sig_age_days,
                                const char *keys[VS_MAX_SOURCE_KEYS], size_t *nkeys,
                                const vs_config *cfg, const char *name);

/*
 * Command-line options win over the file: fill every field of `fo` that
 * the command line left unset (NULL, 0, -1 for retries, nmirrors 0, nkeys 0)
 * from rel. The signature pair is one choice: when fo names gpg_sig_url or
 * checksums_url, the source's pair is not used. url, name and version
 * always come from rel. Pointers borrowed from rel (keep it alive while fo
 * is used); `mirrors` must be rel's or a caller's array.
 */
VS_EXTERN void vs_source_apply(vs_cache_fetch_opts *fo, const vs_source_release *rel);

/*
 * Mirror bases for one package: for every base b of bases[0..n), first
 * "b/NAME/VERSION" (the tree `mirror sync` writes: BASE/NAME/VERSION/FILE),
 * then "b" itself (the flat layout BASE/FILE of hand-made mirrors and
 * earlier syncs). Trailing slashes of b are dropped. *out is a malloc'd
 * array of 2n malloc'd strings; free with vs_source_mirror_bases_free(*out, *nout).
 * Returns VS_OK, VS_E_USAGE (invalid name or version, an empty base, more
 * than VS_CACHE_MAX_MIRRORS results), VS_E_INTERNAL (out of memory).
 */
VS_EXTERN vs_status vs_source_mirror_bases(char ***out, size_t *nout, const char *const *bases,
                                           size_t n, const char *name, const char *version,
                                           vs_error *err);
VS_EXTERN void vs_source_mirror_bases_free(char **bases, size_t n);

#ifdef __cplusplus
}
#endif
#endif
