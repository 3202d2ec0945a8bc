/*
 * common/common_int.h - internal helpers shared by every component.
 * Not installed; the CLI cannot include it.
 *
 * error.c, hash.c, fsutil.c, cursor.c and sbuf.c depend only on libc and libgcrypt so
 * that the static `vetstage-check` binary can link them without gpgme/curl.
 */
#ifndef VS_COMMON_INT_H
#define VS_COMMON_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vetstage/common.h"
#include "vetstage/limits.h"

#if defined(__GNUC__)
#define VS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VS_PRINTF(a, b)
#endif

/* ---- errors (error.c) --------------------------------------------------- */

/* Fill err (may be NULL) and return st. Message is "formatted text". */
vs_status vs_error_set(vs_error *err, vs_status st, const char *fmt, ...) VS_PRINTF(3, 4);
/* Same, recording a backend code. */
vs_status vs_error_setb(vs_error *err, vs_status st, const char *backend, long code,
                        const char *fmt, ...) VS_PRINTF(5, 6);
/* Same, for an errno: appends ": strerror(errnum)" and records it. */
vs_status vs_error_errno(vs_error *err, vs_status st, int errnum, const char *fmt, ...)
    VS_PRINTF(4, 5);
/* Structured: subject (file, URL, key, entry, NAME@VERSION) and reason;
 * message becomes "SUBJECT: reason". Prefer these in new code. */
vs_status vs_error_subj(vs_error *err, vs_status st, const char *subject, const char *fmt, ...)
    VS_PRINTF(4, 5);
vs_status vs_error_subjb(vs_error *err, vs_status st, const char *backend, long code,
                         const char *subject, const char *fmt, ...) VS_PRINTF(6, 7);
vs_status vs_error_subj_errno(vs_error *err, vs_status st, int errnum, const char *subject,
                              const char *fmt, ...) VS_PRINTF(5, 6);
/* A subject put together from parts ("HOME/cache/refs/NAME"), for the
 * subject argument of the functions above: formatted into `buf` (at most
 * VS_ERROR_SUBJECT_MAX bytes, truncated), which it returns. VS_SUBJ gives it
 * a buffer that lives until the end of the enclosing block. errno is kept. */
const char *vs_subjf(char *buf, const char *fmt, ...) VS_PRINTF(2, 3);
#define VS_SUBJ(...) vs_subjf((char[VS_ERROR_SUBJECT_MAX]){ 0 }, __VA_ARGS__)
/* Replace the subject (a quarantine path becomes its URL); recomposes message. */
void vs_error_relabel(vs_error *err, const char *subject);
/* Set the next step shown after the message ("use --require gpg"). */
void vs_error_hint(vs_error *err, const char *fmt, ...) VS_PRINTF(2, 3);
void vs_error_set_detail(vs_error *err, vs_error_detail d);
/* Reset to VS_OK with an empty message. */
void vs_error_clear(vs_error *err);

/* An option struct's `opts_version` against the newest layout this library
 * knows (VS_*_OPTS_VERSION): VS_OK for 1..known, else VS_E_USAGE naming the
 * struct (subject `name`, e.g. "vs_stage_opts") with a hint to initialise it
 * with `init` (its _INIT macro). */
vs_status vs_opts_check(unsigned version, unsigned known, const char *name, const char *init,
                        vs_error *err);
/* vs_opts_check for a non-NULL `o` of type `type` (vs_stage_opts) whose
 * macros are VS_<M>_VERSION and VS_<M>_INIT (M: STAGE_OPTS). */
#define VS_CHECK_OPTS(o, type, M, err)                                                         \
    vs_opts_check((o)->opts_version, VS_##M##_VERSION, #type, "VS_" #M "_INIT", (err))

/* ---- context internals (ctx.c) ----------------------------------------- */

struct vs_ctx {
    char *home;       /* absolute path */
    int home_fd;      /* O_DIRECTORY fd on home */
    vs_log_cb log_cb;
    vs_log_level log_level;
    void *log_payload;
    vs_progress_cb progress_cb;
    void *progress_payload;
    vs_progress_event_cb progress_ev_cb;
    void *progress_ev_payload;
    /* The trust store as loaded by keys/trust.c (opaque here: common sits
     * below keys); vs_ctx_free releases it with trust_free. */
    void *trust;
    void (*trust_free)(void *trust);
};

/* vs_dir_beneath / vs_open_beneath below the context's home. */
vs_status vs_home_dir(vs_ctx *ctx, const char *rel, unsigned flags, int *out, vs_error *err);
vs_status vs_home_open(vs_ctx *ctx, const char *rel, int oflags, mode_t mode, int *out,
                       vs_error *err);

/* Open (creating, 0600) the lock file `rel` below the home and flock it with
 * `op` (LOCK_SH / LOCK_EX, maybe | LOCK_NB); *fd holds the lock until closed. */
vs_status vs_home_lock(vs_ctx *ctx, const char *rel, int op, int *fd, vs_error *err);

void vs_log(const vs_ctx *ctx, vs_log_level lvl, const char *fmt, ...) VS_PRINTF(3, 4);
void vs_progress(const vs_ctx *ctx, const char *what, uint64_t done, uint64_t total);
/* A progress event of a phase (vs_progress is a download update). */
void vs_progress_ev(const vs_ctx *ctx, vs_progress_phase phase, vs_progress_kind kind,
                    const char *what, uint64_t done, uint64_t total);

/* ---- hashing (hash.c, libgcrypt) --------------------------------------- */

#define VS_SHA256_LEN 32
#define VS_SHA256_HEX 65 /* 64 hex + NUL */

typedef struct vs_sha256 {
    void *hd; /* gcry_md_hd_t */
} vs_sha256;

/* libgcrypt set-up (idempotent, thread-safe); needed before any hashing. */
vs_status vs_gcrypt_init(vs_error *err);
vs_status vs_sha256_init(vs_sha256 *h, vs_error *err);
void vs_sha256_update(vs_sha256 *h, const void *p, size_t len);
/* Writes the 32-byte digest; releases the handle. */
void vs_sha256_final(vs_sha256 *h, uint8_t out[VS_SHA256_LEN]);
/* Releases without a digest (error paths); safe on a zeroed/finalised handle. */
void vs_sha256_abort(vs_sha256 *h);
/* Hash an open fd from its current offset to EOF, streaming. `name` for errors. */
vs_status vs_sha256_fd(int fd, const char *name, uint8_t out[VS_SHA256_LEN], uint64_t *size,
                       vs_error *err);
vs_status vs_sha256_file(int dirfd, const char *path, uint8_t out[VS_SHA256_LEN], uint64_t *size,
                         vs_error *err);
void vs_hex(char *out, const uint8_t *p, size_t len); /* out holds 2*len+1 */
/* The value of one hex digit (either case), or -1. */
int vs_hexval(int c);
/* The byte at p[*i] of p[0..n), a "%XX" escape decoded (then *i moves to
 * its last digit); a '%' without two hex digits is itself. */
int vs_pct_at(const char *p, size_t n, size_t *i);
/* Parse exactly 2*len hex chars (either case). Returns false on anything else. */
bool vs_unhex(uint8_t *out, size_t len, const char *hex, size_t hexlen);

/* ---- files (fsutil.c) -------------------------------------------------- */

/*
 * A file being written atomically: created under a unique temporary name in
 * the target directory, optionally hashed while written, then fsynced,
 * renamed over the final name and the directory fsynced.
 */
typedef struct vs_tmpfile {
    int dirfd;          /* borrowed */
    int fd;
    char tmpname[64];
    bool hashing;
    vs_sha256 h;
    uint64_t written;
} vs_tmpfile;

vs_status vs_tmpfile_open(vs_tmpfile *t, int dirfd, mode_t mode, bool hash, vs_error *err);
vs_status vs_tmpfile_write(vs_tmpfile *t, const void *p, size_t len, vs_error *err);
/* fsync, rename to `name` in the same dir, fsync dir. Digest out if hashing (may be NULL). */
vs_status vs_tmpfile_commit(vs_tmpfile *t, const char *name, uint8_t digest[VS_SHA256_LEN],
                            vs_error *err);
/* Close and unlink; safe to call after commit or on a zeroed struct (fd == -1 / 0 handled). */
void vs_tmpfile_abort(vs_tmpfile *t);

/* Whole small file written atomically. */
vs_status vs_write_file_atomic(int dirfd, const char *name, const void *p, size_t len, mode_t mode,
                               vs_error *err);
/*
 * Read a whole file of at most `max` bytes (error if larger; names the limit).
 * *out is NUL-terminated (not counted in *len); caller frees with free().
 */
vs_status vs_read_file(int dirfd, const char *path, size_t max, uint8_t **out, size_t *len,
                       vs_error *err);
/* Read a whole regular file from an open fd (see vs_read_file); `name` for errors. */
vs_status vs_read_fd(int fd, const char *name, size_t max, uint8_t **out, size_t *len,
                     vs_error *err);

/*
 * The home boundary: every path below the home goes through these two.
 *
 * vs_dir_beneath opens the directory `rel` ("cache/refs/agent": relative,
 * no empty, "." or ".." component) below basefd one component at a time
 * with O_DIRECTORY|O_NOFOLLOW (after one openat2 RESOLVE_BENEATH|
 * RESOLVE_NO_SYMLINKS try where the kernel has it), so no symbolic link is
 * followed anywhere below basefd; mount points are crossed. With
 * VS_BENEATH_CREATE missing directories are made (mode 0700). `home` names
 * basefd in messages (may be NULL). The subject of an error is the path
 * below the home up to the component that failed. Returns VS_OK (*out an
 * fd the caller closes); VS_E_INTEGRITY when a component is a symbolic
 * link (with a hint) or not a directory; VS_E_USAGE with
 * VS_DETAIL_NOT_FOUND when one is missing; VS_E_INTERNAL otherwise.
 *
 * vs_open_beneath opens the file `rel` the same way: its directory through
 * vs_dir_beneath (created when oflags has O_CREAT), the file itself with
 * O_NOFOLLOW|O_CLOEXEC added to oflags; same statuses (a link as the file
 * is VS_E_INTEGRITY).
 */
#define VS_BENEATH_CREATE 1u
/* The refusal of a link at `sub` below the home (VS_E_INTEGRITY, with the hint). */
vs_status vs_link_refusal(vs_error *err, const char *sub, const char *home);
vs_status vs_dir_beneath(int basefd, const char *home, const char *rel, unsigned flags,
                         int *out, vs_error *err);
vs_status vs_open_beneath(int basefd, const char *home, const char *rel, int oflags, mode_t mode,
                          int *out, vs_error *err);

/* mkdir -p relative to dirfd (path may be absolute if dirfd is AT_FDCWD). */
vs_status vs_mkdir_p(int dirfd, const char *path, mode_t mode, vs_error *err);
/* Open a directory (O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW not applied to parents). */
vs_status vs_open_dir(int dirfd, const char *path, int *out, vs_error *err);
/* rm -rf of `name` inside dirfd, never following symlinks. Missing is OK. */
vs_status vs_remove_tree(int dirfd, const char *name, vs_error *err);
vs_status vs_fsync_dir(int dirfd, const char *name_for_errors, vs_error *err);
/* realpath of `path`, or of its parent plus its last name when it does not
 * exist yet; false when neither resolves. out holds PATH_MAX bytes. */
bool vs_path_resolve(const char *path, char *out);
/* Join a and b with '/' into a malloc'd string (NULL on OOM). */
char *vs_path_join(const char *a, const char *b);
/* Final component of a path or URL path (borrowed pointer into s). */
const char *vs_basename(const char *s);
/* Write all bytes, retrying on EINTR/short writes. 0 or -1 with errno. */
int vs_write_all(int fd, const void *p, size_t len);

/* ---- growing buffer with a maximum (sbuf.c) ------------------------------ */

/*
 * A growing byte buffer, always NUL-terminated once anything (even "") was
 * added, with a maximum fixed at creation (curl's dynbuf and its toobig):
 * start it with VS_SBUF_INIT(max) or vs_sbuf_init. An add that would pass
 * `max` bytes sets the sticky `toobig`, a failed allocation the sticky
 * `oom`; after either, adds do nothing. The owner asks vs_sbuf_status at the
 * end and frees p with free() (or vs_sbuf_free). A zeroed buffer has a
 * maximum of 0: every add to it is too big.
 */
typedef struct vs_sbuf {
    char *p;
    size_t len, cap;
    size_t max;
    bool oom;
    bool toobig;
} vs_sbuf;

#define VS_SBUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes), false, false }

void vs_sbuf_init(vs_sbuf *b, size_t max);
void vs_sbuf_add(vs_sbuf *b, const void *s, size_t n);
void vs_sbuf_puts(vs_sbuf *b, const char *s);
/* An add failed (out of memory or past the maximum). */
bool vs_sbuf_failed(const vs_sbuf *b);
/* VS_OK; VS_E_INTERNAL "out of memory"; VS_E_USAGE "larger than the limit of
 * MAX bytes" - both with `subject` (what the buffer holds). */
vs_status vs_sbuf_status(const vs_sbuf *b, const char *subject, vs_error *err);
/* Free p and reset (the maximum stays). */
void vs_sbuf_free(vs_sbuf *b);

/* Room for element n of the array v of *cap elements of elsize bytes: v
 * itself while n < *cap, else v grown by doubling (from `first`) and *cap
 * updated. NULL (v untouched, still the caller's) when out of memory or the
 * size overflows. */
void *vs_grow(void *v, size_t *cap, size_t n, size_t elsize, size_t first);

/* ---- base64 (base64.c) --------------------------------------------------- */

/* Skip white space (space, tab, CR, LF) anywhere, as in a line-wrapped file. */
#define VS_BASE64_SKIP_SPACE 1u
/*
 * Strict base64 (RFC 4648 standard alphabet): whole quanta of four
 * characters; '=' only as padding of the final quantum; the unused bits
 * before the padding zero; white space refused unless flags has
 * VS_BASE64_SKIP_SPACE. Writes at most `cap` bytes to out (more is an
 * error); *outlen gets the decoded length. "" decodes to 0 bytes. Returns
 * false on anything else.
 */
bool vs_base64_decode(const uint8_t *p, size_t len, unsigned flags, uint8_t *out, size_t cap,
                      size_t *outlen);

/* ---- bounded cursor for untrusted bytes (cursor.c) ---------------------- */

/* Reads from [p, p+len); any failed pull sets `bad` for good (sticky). */
typedef struct vs_cursor {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool bad;
} vs_cursor;

void vs_cursor_init(vs_cursor *c, const void *p, size_t len);
size_t vs_cursor_left(const vs_cursor *c);
bool vs_cursor_u8(vs_cursor *c, uint8_t *out);
/* Borrow n bytes; NULL (and bad) if fewer remain. */
const uint8_t *vs_cursor_bytes(vs_cursor *c, size_t n);
/* Next line without its "\n" (and "\r\n"); false at end. Line longer than max => bad. */
bool vs_cursor_line(vs_cursor *c, size_t max, const char **line, size_t *linelen);
/* The next line of a text file that is neither empty nor a '#' comment once
 * the characters in `blanks` are trimmed from both ends (as vs_cursor_line;
 * *lineno counts every line read, for FILE:LINE messages). */
bool vs_cursor_text_line(vs_cursor *c, size_t max, const char *blanks, size_t *lineno,
                         const char **line, size_t *linelen);

/* Overflow-checked addition: false on overflow. */
static inline bool vs_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a > UINT64_MAX - b)
        return false;
    *out = a + b;
    return true;
}

/* ---- names --------------------------------------------------------------- */

/* NAME / VERSION validity: [A-Za-z0-9._+~-], not starting with '.' or '-', bounded. */
bool vs_valid_name(const char *s);
bool vs_valid_version(const char *s);
/* Split "NAME@VERSION" at its first '@' into validated parts (both non-empty,
 * within VS_MAX_NAME / VS_MAX_VERSION, valid). VS_E_USAGE with the reference
 * as subject when malformed. (names.c) */
vs_status vs_ref_split(const char *ref, char name[VS_MAX_NAME + 1],
                       char version[VS_MAX_VERSION + 1], vs_error *err);

/* ---- backends (init.c) ------------------------------------------------------ */

/* The gpg engine is usable (checked once per process, on first use: before
 * the first gpgme context). */
vs_status vs_gpg_ready(vs_error *err);

/* ---- work on another core (jobq.c) ------------------------------------------ */

/*
 * One worker thread running jobs of one fixed size in the order given; a
 * job is copied into a ring of `ring` slots (the adder waits while it is
 * full) and handed to run(job, ud) on the worker. Each add returns the job's
 * sequence number (1, 2, ...). Without a thread (pthread_create failed) a job
 * runs at once in the adder. _start returns NULL only when out of memory;
 * _stop runs what is left, joins and frees (NULL is fine). One adder thread.
 */
typedef struct vs_jobq vs_jobq;
typedef void (*vs_job_fn)(void *job, void *ud);
vs_jobq *vs_jobq_start(size_t jobsize, unsigned ring, vs_job_fn run, void *ud);
bool vs_jobq_threaded(const vs_jobq *q);
uint64_t vs_jobq_add(vs_jobq *q, const void *job);
bool vs_jobq_done(vs_jobq *q, uint64_t seq); /* job seq has run */
void vs_jobq_wait(vs_jobq *q, uint64_t seq); /* until job seq has run */
void vs_jobq_drain(vs_jobq *q);              /* until every job given has run */
void vs_jobq_stop(vs_jobq *q);

/* ---- durability on a thread of its own (flusher.c) ------------------------- */

/*
 * fdatasync(2) of written files on a background thread, in the order given,
 * while the caller writes on. It only ever adds durability: the caller still
 * ends with its own sync (syncfs or fsync), which finds little left to do.
 * Without a thread (pthread_create failed, or start returned NULL) every call
 * is a no-op but for the close. Used by one writer thread at a time.
 */
typedef struct vs_flusher vs_flusher;
vs_flusher *vs_flusher_start(void);
/* Hand over a complete file: fdatasync, then close. fd is the flusher's now;
 * subject names it in an error. Waits only when 64 files are still queued. */
void vs_flusher_close(vs_flusher *f, int fd, const char *subject);
/* fdatasync a file that is still being written (the caller keeps fd open
 * until the job is no longer busy, or until vs_flusher_finish/stop). */
uint64_t vs_flusher_sync(vs_flusher *f, int fd, const char *subject);
bool vs_flusher_busy(vs_flusher *f, uint64_t seq);
/* Wait until every job is done; the first fdatasync that failed is the error. */
vs_status vs_flusher_finish(vs_flusher *f, vs_error *err);
/* End the thread (every queued fd is closed; with discard, without syncing
 * it) and free f. NULL is fine. */
void vs_flusher_stop(vs_flusher *f, bool discard);

#endif
