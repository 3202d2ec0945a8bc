/*
 * cache/cache_int.h - internals of the content-addressed cache, shared by
 * the cache sources, the unit tests and the ref fuzz harness.
 *
 * Layout below the home (all paths relative to ctx->home_fd):
 *   cache/lock                          flock: shared = readers, exclusive = writers
 *   cache/objects/sha256/ab/cdef...     read-only objects named by their SHA-256
 *   cache/refs/NAME/VERSION.json        one ref per NAME@VERSION (vs_cache_entry)
 *   cache/quarantine/<sha256(url)>/     one download in progress (flock on the dir)
 */
#ifndef VS_CACHE_INT_H
#define VS_CACHE_INT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/common_int.h"
#include "vetstage/cache.h"

#define VS_CACHE_DIR "cache"
#define VS_CACHE_LOCK "cache/lock"
#define VS_CACHE_OBJECTS "cache/objects/sha256"
#define VS_CACHE_REFS "cache/refs"
#define VS_CACHE_QUARANTINE "cache/quarantine"

/* A signature-side object kept with a package. */
typedef struct vs_cache_sig {
    char kind[16];      /* "gpg-sig", "checksums", "checksums-sig", "rsa-sig" */
    char filename[256]; /* original file name */
    char sha256[65];    /* object id */
    char *url;          /* where it came from, redacted; NULL or "" if imported */
} vs_cache_sig;

/* The entry behind the opaque public type. URLs are on the heap (whole,
 * redacted); everything else is bounded by its validation. An entry is
 * zeroed when made (calloc / vs_cache_entry_new) and reset before it is
 * filled again (vs_cache_entry_clear), so no heap field leaks. */
struct vs_cache_entry {
    char name[VS_MAX_NAME + 1];
    char version[VS_MAX_VERSION + 1];
    char filename[256]; /* original package file name */
    char sha256[65];    /* package object id */
    uint64_t size;
    char *url;          /* source URL of the package, redacted (NULL: "") */
    vs_cache_sig sigs[VS_CACHE_MAX_SIGS];
    size_t nsigs;
    char signers[VS_CACHE_MAX_SIGNERS][VS_FPR_MAX];
    size_t nsigners;
    unsigned require;
    int64_t verified;
    char tool[64];
    int64_t signed_at;
    char keys[VS_CACHE_MAX_KEYS][VS_FPR_MAX];
    size_t nkeys;
};

/* A zeroed entry (NULL on OOM); free with vs_cache_entry_free. */
vs_cache_entry *vs_cache_entry_new(void);
/* Free the heap fields of e and zero it (e stays usable). */
void vs_cache_entry_clear(vs_cache_entry *e);
/* url redacted (vs_url_redact) into a new string, "" for NULL; NULL on OOM. */
char *vs_cache_url_dup(const char *url);

/* "sha256" + 64 hex: "ab" directory + 62-char file name. */
#define VS_CACHE_OBJ_DIRLEN 2

/* 64 lower-case hex characters and nothing else. */
bool vs_cache_valid_hex(const char *s);

/*
 * Parse a ref file (untrusted bytes, at most VS_MAX_REF_FILE) strictly:
 * every field present with the right type and bounds, names and versions
 * valid, object ids 64 hex, file names plain. `what` names the file in
 * messages. VS_E_INTEGRITY on anything malformed.
 */
vs_status vs_cache_ref_parse(const uint8_t *p, size_t len, const char *what, vs_cache_entry *out,
                             vs_error *err); /* out: zeroed or filled before (it is cleared) */

/* Serialise an entry as ref JSON; *out malloc'd (caller frees), *len bytes.
 * VS_E_INTERNAL when the entry itself is invalid. */
vs_status vs_cache_ref_format(const vs_cache_entry *e, char **out, size_t *len, vs_error *err);

/* Create cache/{objects/sha256,refs,quarantine} if absent. */
vs_status vs_cache_mkdirs(vs_ctx *ctx, vs_error *err);

/* Open the cache directory `rel` (VS_CACHE_REFS, ...) below the home for
 * reading its entries; caller closes *out with closedir(). */
vs_status vs_cache_opendir(vs_ctx *ctx, const char *rel, DIR **out, vs_error *err);

/* ---- folder walks (walk.c) ---- */
/* fdopendir(fd), or fd closed and an error naming `shown`. */
vs_status vs_cache_fdopendir(int fd, const char *shown, DIR **out, vs_error *err);
/* Called for every entry of a folder but "." and ".."; anything but VS_OK
 * stops the walk and is its result. */
typedef vs_status (*vs_cache_entry_fn)(int dfd, const char *name, void *arg, vs_error *err);
/* fn for every entry of d; closes d. */
vs_status vs_cache_walk(DIR *d, vs_cache_entry_fn fn, void *arg, vs_error *err);
/* vs_cache_walk over the folder dfd/name (`shown` in errors), never through
 * a symbolic link. *opened (may be NULL) tells whether it could be opened
 * as a folder at all; when not, nothing is called and VS_OK is returned. */
vs_status vs_cache_walk_at(int dfd, const char *name, const char *shown, bool *opened,
                           vs_cache_entry_fn fn, void *arg, vs_error *err);

/* Open refs/NAME (create: made when missing) below the home without
 * following links (vs_home_dir statuses). */
vs_status vs_cache_ref_dir(vs_ctx *ctx, const char *name, bool create, int *out, vs_error *err);

/* Take cache/lock with flock(op) (LOCK_SH or LOCK_EX); *fd to pass to
 * vs_cache_unlock. Creates the cache directories first. */
vs_status vs_cache_lock(vs_ctx *ctx, int op, int *fd, vs_error *err);
void vs_cache_unlock(int fd);

/* Read refs/NAME/VERSION.json (no locking) into out (zeroed or filled
 * before: it is cleared first, and left cleared on failure). VS_E_USAGE "not in the cache"
 * with VS_DETAIL_NOT_FOUND when absent, VS_E_INTEGRITY when damaged or naming another NAME@VERSION. */
vs_status vs_cache_ref_read(vs_ctx *ctx, const char *name, const char *version,
                            vs_cache_entry *out, vs_error *err);


/*
 * Walk refs/ (no locking): fn(name, version, file) for every entry. For a
 * well-formed refs/NAME/VERSION.json, version is set; otherwise version is
 * NULL and file names the stray entry inside refs/NAME/ (file NULL: NAME
 * itself is not a directory). Stops at the first non-VS_OK from fn.
 */
typedef vs_status (*vs_cache_ref_fn)(vs_ctx *ctx, const char *name, const char *version,
                                     const char *file, void *arg, vs_error *err);
vs_status vs_cache_each_ref(vs_ctx *ctx, vs_cache_ref_fn fn, void *arg, vs_error *err);

/* Write refs/NAME/VERSION.json atomically. Caller holds the exclusive lock. */
vs_status vs_cache_ref_write(vs_ctx *ctx, const vs_cache_entry *e, vs_error *err);

/*
 * Move the file `name` in directory `srcdir` into the object store (same
 * file system; hard link then unlink). `digest` is its known SHA-256, or
 * NULL to hash it here. An existing object with the same id is kept, unless
 * its content no longer matches its name (then it is replaced). The source
 * is gone afterwards on success. Caller holds the exclusive lock.
 */
vs_status vs_cache_object_put_file(vs_ctx *ctx, int srcdir, const char *name,
                                   const uint8_t *digest, char out_hex[VS_SHA256_HEX],
                                   vs_error *err);

/* Same for bytes in memory. */
vs_status vs_cache_object_put_mem(vs_ctx *ctx, const void *p, size_t len,
                                  char out_hex[VS_SHA256_HEX], vs_error *err);

/* Open an object for reading (no link followed, O_NONBLOCK) and fstat it
 * into *sb: VS_E_INTEGRITY (VS_DETAIL_NOT_FOUND when missing) unless it is
 * a regular file. Caller closes *fd. */
vs_status vs_cache_object_open(vs_ctx *ctx, const char *hex, int *fd, struct stat *sb,
                               vs_error *err);

/* Re-hash an object: VS_OK when present and its content matches its id;
 * VS_E_INTEGRITY ("missing" / "content does not match its name") otherwise. */
vs_status vs_cache_object_check(vs_ctx *ctx, const char *hex, uint64_t *size, vs_error *err);

/* Format / parse the ref's ISO-8601 UTC time ("2026-01-02T03:04:05Z"). */
void vs_cache_time_format(char buf[32], int64_t t);
bool vs_cache_time_parse(const char *s, int64_t *out);

#endif
