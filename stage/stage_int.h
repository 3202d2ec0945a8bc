/*
 * stage/stage_int.h - internals of the stage component: the path rules, the
 * path set shared by the extractor and the layout check, the manifest and
 * MODES formats, and the extractor.
 *
 * pathrules.c, manifest.c and layout_check.c depend only on libc, libgcrypt and
 * common/{error,hash,cursor,fsutil}.c: the static `vetstage-check` links them.
 */
#ifndef VS_STAGE_INT_H
#define VS_STAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common_int.h"
#include "vetstage/keys.h"
#include "vetstage/stage.h"

/* The metadata folder inside every staged tree, and its files. */
#define VS_META_DIR ".vetstage"
#define VS_META_MANIFEST "MANIFEST.sha256"
#define VS_META_MODES "MODES"
#define VS_META_PROVENANCE "provenance.json"
/* A MODES file (one line per path). */
#define VS_MAX_MODES_FILE VS_MAX_MANIFEST_FILE
#define VS_MAX_MODES_LINE (2u * VS_MAX_ARCHIVE_PATH + 32u)
/* --keep looks at no more than this many versions at once. */
#define VS_MAX_KEEP_SCAN 256u
/* Hidden temporary names used while staging. */
#define VS_STAGE_TMP_PREFIX ".vetstage-tmp-"

/* ---- path rules (pathrules.c) --------------------------------------------- */

/*
 * Normalise an archive member name: "." components, empty components and
 * trailing slashes are dropped ("./a//b/" -> "a/b"; "./" -> "").
 * `out` must hold VS_MAX_ARCHIVE_PATH + 1 bytes.
 * Returns NULL when the name is acceptable, else a static reason: empty,
 * longer than VS_MAX_ARCHIVE_PATH, absolute, a ".." component, a control
 * character, not valid UTF-8, more than VS_MAX_PATH_DEPTH components.
 */
const char *vs_stage_norm_path(const char *in, char *out, size_t outsz);

/*
 * A symbolic link at normalised path `path` pointing at `target`: NULL when
 * it stays inside the tree, else a static reason. Rule (stricter than a
 * lexical resolution, so that chains of links cannot escape either): the
 * target is relative, ".." appears only as leading components, and there
 * are no more of them than directories above the link.
 */
const char *vs_stage_check_link(const char *path, const char *target);

/* True if `s` is valid UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
bool vs_utf8_valid(const char *s);

/*
 * A name from an archive in a printable, one-line form for messages: control
 * bytes, backslashes and bytes that are not valid UTF-8 become "\xNN"; cut
 * (at a character boundary, with "...") to fit `outsz` bytes with the NUL.
 */
void vs_stage_printable(const char *s, char *out, size_t outsz);

/*
 * tar's --strip-components: the rest of `name` after its first `n`
 * components ("." counts as one, repeated slashes as one, as GNU tar and
 * bsdtar count), or NULL when nothing is left (the entry vanishes whole).
 */
const char *vs_stage_strip(const char *name, unsigned n);

/* True if the first component of normalised `path` is ".vetstage". */
bool vs_stage_reserved(const char *path);

/* ---- path set (pathrules.c) ---------------------------------------------- */

typedef struct vs_pathent {
    char *path;        /* normalised, NUL-terminated (owned) */
    char type;         /* 'f', 'd', 'l', or 0 (only named by the manifest) */
    unsigned mode;     /* permission bits as staged */
    char *target;      /* symlink target (owned) or NULL */
    uint8_t sha256[VS_SHA256_LEN];
    uint64_t size;
    bool has_sha;      /* listed in MANIFEST.sha256 */
    bool explicit_dir; /* a directory named by its own archive entry */
    bool seen;         /* layout check: found on disk */
} vs_pathent;

typedef struct vs_pathset {
    vs_pathent **slots;
    size_t cap; /* power of two, or 0 */
    size_t n;
} vs_pathset;

void vs_pathset_init(vs_pathset *s);
void vs_pathset_free(vs_pathset *s);
vs_pathent *vs_pathset_get(const vs_pathset *s, const char *path);
/* Add a new path (must not be present). NULL on out of memory. */
vs_pathent *vs_pathset_add(vs_pathset *s, const char *path);
/* Every entry, sorted by path (bytewise); caller frees the array only. */
vs_pathent **vs_pathset_sorted(const vs_pathset *s);

/* ---- MANIFEST.sha256 and MODES (manifest.c) ------------------------------- */

/*
 * Parse a MANIFEST.sha256 (`<64 hex>  path` or `<64 hex> *path`, path
 * optionally "./"-prefixed) into `set` (has_sha, sha256). `name` is used in
 * messages. VS_E_INTEGRITY "name: line N: reason" for bad lines, unsafe
 * paths, paths under .vetstage and duplicates.
 */
vs_status vs_manifest_parse(const uint8_t *p, size_t len, const char *name, vs_pathset *set,
                            vs_error *err);

/*
 * Parse a MODES file: "# ..." comments, then lines `f 0644 path`,
 * `d 0755 path`, `l 0777 path<TAB>target`. Fills type, mode, target.
 * VS_E_INTEGRITY on any malformed line, unsafe path or duplicate.
 */
vs_status vs_modes_parse(const uint8_t *p, size_t len, const char *name, vs_pathset *set,
                         vs_error *err);

/* Render the two files for `set` (entries with type f/d/l); malloc'd text. */
vs_status vs_manifest_render(const vs_pathset *set, char **manifest, size_t *mlen, char **modes,
                             size_t *modes_len, vs_error *err);

/* ---- SHA-256 on a second core (hashworker.c) ------------------------------ */

/*
 * A worker thread that runs hash jobs in the order given. Each call returns
 * the job's sequence number; the buffer `p` (and `out`) must stay untouched
 * until vs_hashworker_wait(w, seq) for that job. The handle is copied into
 * the job: after _final or _abort the caller no longer uses it. Without a
 * thread, jobs run at once in the caller. _stop runs what is left, joins and
 * frees (NULL is fine). _start returns NULL only when out of memory.
 */
typedef struct vs_jobq vs_hashworker; /* a job queue of hash jobs */
vs_hashworker *vs_hashworker_start(void);
uint64_t vs_hashworker_update(vs_hashworker *w, const vs_sha256 *h, const void *p, size_t n);
uint64_t vs_hashworker_final(vs_hashworker *w, const vs_sha256 *h, uint8_t out[VS_SHA256_LEN]);
uint64_t vs_hashworker_abort(vs_hashworker *w, const vs_sha256 *h);
void vs_hashworker_wait(vs_hashworker *w, uint64_t seq);
void vs_hashworker_stop(vs_hashworker *w);

/* ---- gzip by ISA-L's igzip (gunzip.c) ------------------------------------ */

/*
 * A gzip stream (members in a row, as libarchive's gzip filter reads them)
 * from input blocks: `in` gives the next block (valid until the next call),
 * 0 at the end, -1 with errno on a read error. `first` is the first block,
 * already read. _read fills up to cap bytes of output: the count, 0 at the
 * end, -1 on an error (_error: message and code). _sniff: the four bytes
 * that start a gzip member (ID1 ID2 CM=8, no reserved FLG bit).
 */
typedef ssize_t (*vs_gunzip_in_fn)(void *ud, const uint8_t **out);
typedef struct vs_gunzip vs_gunzip;
bool vs_gunzip_sniff(const uint8_t *p, size_t n);
vs_gunzip *vs_gunzip_new(vs_gunzip_in_fn in, void *ud, const uint8_t *first, size_t n);
ssize_t vs_gunzip_read(vs_gunzip *g, uint8_t *out, size_t cap);
const char *vs_gunzip_error(const vs_gunzip *g, int *code);
void vs_gunzip_free(vs_gunzip *g);

/* ---- decompression on a thread of its own (unpacker.c) ------------------- */

/*
 * Runs `fn` (the decompression: fill buf with up to cap bytes, return the
 * count, 0 at the end, -1 on an error with its message in msg and its code
 * in *code) on a thread, into a ring of buffers. _next gives the blocks in
 * order (a block stays valid until the next call): its length, 0 at the end,
 * -1 on an error, whose message and code _error gives. _stop ends the thread
 * (the caller may then use what fn reads again); _free stops and frees (NULL
 * is fine). _start returns NULL only when out of memory; without a thread,
 * _next runs fn in the caller.
 */
typedef ssize_t (*vs_unpack_fn)(void *ud, uint8_t *buf, size_t cap, char *msg, size_t msgsize,
                                int *code);
typedef struct vs_unpacker vs_unpacker;
vs_unpacker *vs_unpacker_start(vs_unpack_fn fn, void *ud);
ssize_t vs_unpacker_next(vs_unpacker *u, const void **out);
const char *vs_unpacker_error(const vs_unpacker *u, int *code);
void vs_unpacker_stop(vs_unpacker *u);
void vs_unpacker_free(vs_unpacker *u);

/* ---- extraction (extract.c) --------------------------------------------- */

/* ELF machine types (e_machine) that --arch names. */
#define VS_EM_X86_64 62
#define VS_EM_AARCH64 183
/* Distinct ELF machine types recorded in an extract result. */
#define VS_EXTRACT_MAX_MACHINES 8

typedef struct vs_extract_opts {
    uint64_t max_unpacked; /* bytes written, counted while writing */
    uint64_t max_entries;
    const char *label;     /* package name for messages */
    const uint8_t *expect_sha256; /* if set: the bytes read must hash to this */
    /* for a mismatch: the subject named (the ref, else label) and the
     * expected digest in hex (both may be NULL) */
    const char *digest_subject;
    const char *expect_hex;
    unsigned strip_components;    /* tar's --strip-components (0: none) */
    uint16_t machine;      /* if set: every ELF file must be for it (VS_EM_*) */
} vs_extract_opts;

typedef struct vs_extract_result {
    uint64_t entries;
    uint64_t files;
    uint64_t bytes;        /* unpacked bytes written */
    uint64_t insize;       /* package bytes read */
    uint8_t sha256[VS_SHA256_LEN]; /* of the package bytes read */
    /* the ELF machine types found (e_machine values, in order of first
     * appearance; at most VS_EXTRACT_MAX_MACHINES) */
    uint16_t machines[VS_EXTRACT_MAX_MACHINES];
    unsigned nmachines;
} vs_extract_result;

/*
 * Read the package on `infd` (tar; gzip, bzip2, xz or zstd) and write its
 * members below the empty directory `rootfd`, applying every rule of the
 * contract before anything of an entry is written. The package is read
 * once: its SHA-256 is computed as libarchive reads it, to the end of the
 * file, trailing bytes after the archive's end included (res->sha256, and
 * compared with expect_sha256 when set), each file is hashed as it is
 * written. With expect_sha256, a failure on the way (a damaged stream, a
 * refused entry) still reads the rest of the file: when the digest does not
 * match, that is the error reported (VS_E_VERIFY), not its consequence. Names are taken in UTF-8 whatever the process locale (libarchive
 * runs under a thread-local C.UTF-8 locale); names and link targets that are
 * not valid UTF-8 are refused. With strip_components, the rules apply to the
 * name as stored and to the stripped name; entries that vanish are skipped.
 * Nothing is synced here: vs_stage_write_meta ends with the one sync.
 * `set` receives every path staged. On failure the caller removes the tree.
 * Returns VS_OK, VS_E_UNSAFE (refused: the subject names the package and
 * the entry, the reason why), VS_E_POLICY (an ELF file for another machine
 * than opts->machine), VS_E_VERIFY (the bytes read do not match
 * expect_sha256), VS_E_INTERNAL.
 */
vs_status vs_stage_extract(const vs_ctx *ctx, int infd, int rootfd, const vs_extract_opts *o,
                           vs_pathset *set, vs_extract_result *res, vs_error *err);

/* "amd64" -> VS_EM_X86_64, "arm64" -> VS_EM_AARCH64; false for anything else. */
bool vs_arch_machine(const char *arch, uint16_t *machine);
/* A short name for an ELF machine type ("x86-64", "aarch64", ... "unknown"). */
const char *vs_elf_machine_name(unsigned machine);

/* Write .vetstage/{MANIFEST.sha256,MODES,provenance.json} below rootfd (the
 * tree is still hidden: plain writes), then make the whole tree durable with
 * one syncfs(2) of its file system. `digest` (may be NULL): the layout
 * digest of the bytes written, never read back from the tree. */
vs_status vs_stage_write_meta(int rootfd, const vs_pathset *set, const char *provenance,
                              char digest[VS_LAYOUT_DIGEST_HEX], vs_error *err);

/* ---- provenance.json (provenance.c): its one writer and one parser -------- */

#define VS_PROVENANCE_MAX_SIGNERS 16u

/* What vetstage reads back from a provenance.json. */
typedef struct vs_provenance {
    char name[VS_MAX_NAME + 1];
    char version[VS_MAX_VERSION + 1];
    char sha256[VS_SHA256_HEX];
    char arch[64];     /* "" when not recorded */
    int64_t signed_at; /* newest counting OpenPGP signature; 0 none */
    size_t nsigners;
    char signers[VS_PROVENANCE_MAX_SIGNERS][VS_FPR_MAX];
} vs_provenance;

struct vs_cache_entry;
/* The file's text for a package staged from cache entry `e` at time `now`;
 * `arch` (may be NULL) is recorded when set; otherwise the ELF machine types
 * found (machines[0..nmachines)) as "machines". malloc'd; NULL on out of memory. */
char *vs_provenance_format(const struct vs_cache_entry *e, const char *arch,
                           const uint16_t *machines, unsigned nmachines, int64_t now);

/*
 * Parse provenance.json text (untrusted, at most VS_MAX_REF_FILE bytes):
 * name, version and sha256 required and valid; "signed" (or, in files that
 * predate it, the newest "created" of the gpg signers) strictly
 * YYYY-MM-DDTHH:MM:SSZ; signers as fingerprint strings or objects with
 * "fingerprint". `what` is the subject of errors. VS_E_INTEGRITY when
 * malformed (then *p is zeroed).
 */
vs_status vs_provenance_parse(const uint8_t *buf, size_t len, const char *what,
                              vs_provenance *p, vs_error *err);

/* Read and parse TREE/.vetstage/provenance.json below the tree's fd. */
vs_status vs_provenance_read(int treefd, const char *what, vs_provenance *p, vs_error *err);

/* ---- the destination (dest.c) ---------------------------------------------- */

typedef enum vs_dest_kind { VS_DEST_EMPTY, VS_DEST_VERSIONED, VS_DEST_FLAT } vs_dest_kind;

typedef struct vs_dest {
    const char *path;  /* as the caller named it (borrowed) */
    int fd;            /* DIR, flock'ed exclusively while open */
    bool made;         /* created by this run */
    vs_dest_kind kind; /* set by vs_dest_classify */
    char current[VS_MAX_VERSION + 1]; /* versioned: the version DIR/current names, or "" */
} vs_dest;

/* Refuse a DIR inside the home (VS_E_USAGE with a hint); open DIR, creating
 * it (0755) when absent (its parent must exist), and lock it. */
vs_status vs_dest_open(const vs_ctx *ctx, const char *path, vs_dest *d, vs_error *err);
/* Close; a DIR this run created is removed again when `failed`. */
void vs_dest_close(vs_dest *d, bool failed);
/*
 * What DIR holds, before any change: nothing (work folders of vetstage runs
 * aside), a versioned layout (only `current` -> versions/VERSION and
 * `versions/` of staged trees) or a --flat one (.vetstage/MANIFEST.sha256).
 * VS_E_USAGE, naming DIR and what was found, for anything else, for a flat
 * layout, and for a versioned one when `flat`.
 */
vs_status vs_dest_classify(vs_dest *d, bool flat, vs_error *err);
/* Remove the work folders of runs that are gone (their lock can be taken). */
void vs_dest_remove_stale(const vs_ctx *ctx, const vs_dest *d);

/* This run's private folder DIR/.vetstage-tmp-HEX/ with its `lock` held. */
typedef struct vs_work {
    int dfd;          /* DIR (borrowed) */
    int fd;           /* the work folder */
    int lockfd;
    char name[64];    /* its name in DIR */
} vs_work;
vs_status vs_work_open(const vs_dest *d, vs_work *w, vs_error *err);
/* Remove the work folder and everything in it; close. */
void vs_work_remove(const vs_ctx *ctx, vs_work *w);

/* ---- the rules of a versioned stage, pure (policy.c) ------------------------ */

/* What the rules need to know of a package (staged or about to be). */
typedef struct vs_stage_facts {
    const char *name;
    const char *version;
    int64_t signed_at; /* newest counting OpenPGP signature; 0 unknown */
} vs_stage_facts;

/* `version` below `current` (NULL: none) is VS_E_POLICY unless `allow`. */
vs_status vs_stage_downgrade_rule(const char *dest, const char *current, const char *version,
                                  bool allow, vs_error *err);
/* A package of the same name signed before the current one (`current`
 * NULL: none) is VS_E_POLICY (a replay) unless `allow`; unknown times pass. */
vs_status vs_stage_rollback_rule(const char *dest, const vs_stage_facts *now,
                                 const vs_stage_facts *current, bool allow, vs_error *err);
/* --keep: marks in remove[] all but the `keep` newest of `versions`
 * (vs_version_cmp), never `current`; keep 0 marks none. Returns how many. */
size_t vs_stage_prune_select(const char *const *versions, size_t n, const char *current,
                             unsigned keep, bool *remove);

/* The tree of the layout DIR (DIR itself, or where DIR/current points), opened
 * once: check and digest it through this descriptor, so that a `current`
 * switched meanwhile cannot make them look at two trees. */
vs_status vs_layout_open_tree(const char *dir, int *tfd, vs_error *err);
vs_status vs_layout_digest_at(char hex[VS_LAYOUT_DIGEST_HEX], int tfd, const char *dir,
                              vs_error *err);
vs_status vs_layout_check_at(size_t *nproblems, int rootfd, const char *dir,
                             vs_layout_problem_cb cb, void *payload, vs_error *err);

/* The layout digest (vs_layout_digest) of the three metadata files' contents,
 * given in memory (MANIFEST.sha256, MODES, provenance.json). */
vs_status vs_layout_digest_texts(char hex[VS_LAYOUT_DIGEST_HEX], const char *const text[3],
                                 const size_t len[3], vs_error *err);

/* ---- what this home staged where (staged.c) --------------------------------- */

/* A HOME/staged/<sha256 of the absolute destination>.json record. */
#define VS_MAX_STAGED_FILE (16u * 1024u)
typedef struct vs_staged {
    char dest[4096];                   /* absolute destination */
    char digest[VS_LAYOUT_DIGEST_HEX]; /* lower-case hex */
    char ref[VS_MAX_NAME + VS_MAX_VERSION + 2];
    int64_t staged;
    char pending[VS_LAYOUT_DIGEST_HEX]; /* a stage under way: its digest, or "" */
} vs_staged;

/* Parse a record (untrusted, at most VS_MAX_STAGED_FILE bytes): "dest"
 * absolute, "digest" a layout digest, "ref" NAME@VERSION, "staged" a strict
 * time, and optionally "pending" a layout digest. VS_E_INTEGRITY when
 * malformed (`what` is the subject). */
vs_status vs_staged_parse(const uint8_t *buf, size_t len, const char *what, vs_staged *out,
                          vs_error *err);
/* Before staging: HOME/staged exists and is no symbolic link. */
vs_status vs_staged_prepare(vs_ctx *ctx, vs_error *err);
/* Record `digest` as the layout digest of `dest` (just staged from `ref`),
 * atomically. The digest is the one of the metadata stage wrote
 * (vs_stage_write_meta), never read back from dest. */
vs_status vs_staged_record(vs_ctx *ctx, const char *dest, const char *ref, const char *digest,
                           vs_error *err);
/* A record as it was before vs_staged_pend, to put back when the stage
 * fails before its commit. */
typedef struct vs_staged_undo {
    char name[80];
    uint8_t *orig; /* NULL: nothing to put back */
    size_t len;
} vs_staged_undo;
/* Before a stage starts to commit the tree whose layout digest is `digest`
 * into `dest`: when the home has a record for dest, add the digest to it as
 * "pending", so that a kill from here to vs_staged_record leaves a record
 * that holds the layout either way (vs_layout_recorded_digest takes the
 * pending digest only when the layout has it). Without a record: nothing.
 * `undo` (zeroed by the caller) keeps the record as it was. */
vs_status vs_staged_pend(vs_ctx *ctx, const char *dest, const char *digest, vs_staged_undo *undo,
                         vs_error *err);
/* The stage failed before its commit: the record as it was (best effort). */
void vs_staged_unpend(vs_ctx *ctx, vs_staged_undo *undo);
void vs_staged_undo_free(vs_staged_undo *undo);

/* ---- staging from a cached package (stage.c) ------------------------------- */

typedef struct vs_stage_source {
    int fd;                  /* the package, open for reading at offset 0 */
    const struct vs_cache_entry *entry; /* its ref: name, version, provenance */
    const char *label;       /* NAME@VERSION for messages */
    const uint8_t *sha256;   /* expected digest of the bytes */
    const char *ref;         /* NAME@VERSION as asked for: the subject of a digest mismatch */
    /* NAME@VERSION to record in the home with the layout digest (staged.c)
     * as soon as the layout is in place, still under DIR's lock; NULL: none */
    const char *record;
} vs_stage_source;

/* The layout work of vs_stage_ref, for a package already re-checked. */
vs_status vs_stage_source_run(vs_ctx *ctx, const vs_stage_source *src, const char *dest,
                              const vs_stage_opts *opts, vs_stage_result *res, vs_error *err);

#endif
