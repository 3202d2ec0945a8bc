/*
 * vetstage/common.h - status codes, the error object, the context handle.
 *
 * Every fallible function in libvetstage returns a vs_status and, when given
 * a non-NULL vs_error, fills it with the same status, a one-line message that
 * names the file (or URL, or key) and the reason, and the backend's own code
 * when a backend (gpgme, libgcrypt, libcurl, libarchive) produced it.
 *
 * The numeric values of vs_status are the exit codes of the command line
 * tool (see CONTRACT.md, "Exit codes"); they are stable. *
 * Threads. vs_lib_init runs once per process (pthread_once; vs_ctx_open
 * calls it, and calling it from several threads is safe). The library keeps
 * no other global state, so calls on different contexts may run in
 * different threads at the same time. A vs_ctx is used by one thread at a
 * time: its trust store, its logs and its progress are not locked (mirror
 * sync opens one context per worker thread on the same home; processes and
 * contexts on one home coordinate through the home's file locks). A
 * vs_error belongs to one call: each thread passes its own. Log and progress
 * callbacks run in the thread that made the call; a log callback shared by
 * the contexts of several threads (vs_mirror_sync) must be thread-safe.
 * Results (entries, verdicts, key lists, configurations) may be read from
 * any thread once the call that made them returned, and freed once.
 *
 * Ownership of what the library returns. Typed results are freed with their
 * own function, which takes NULL: vs_ctx_free, vs_cache_entry_free (and
 * vs_cache_entry_list_free for vs_cache_list), vs_verdict_free,
 * vs_key_info_free, vs_config_free, vs_source_release_free,
 * vs_source_mirror_bases_free. A `char *` or `uint8_t *` given to the
 * caller (a path, JSON text, a Dockerfile, downloaded bytes) is malloc'd
 * and freed with free(). A `const char *` is borrowed, never freed by the
 * caller: names and versions (vs_status_name, vs_version, ...) are static;
 * vs_ctx_home and the vs_cache_entry_* / vs_config_* accessors point into
 * the object they were read from and live until it is freed. Strings the
 * caller passes in are copied or used during the call only, unless the
 * header says "borrowed" (then they must outlive the object that keeps
 * them). Out-parameters come first, then the context and the inputs, the
 * vs_error last: vs_cache_lookup(&entry, ctx, "agent@1.2", &err).
 *
 * Option structs. Every vs_*_opts struct starts with `opts_version`, which
 * its VS_*_OPTS_INIT macro sets to the layout of the header the caller was
 * compiled with (VS_*_OPTS_VERSION). Initialise with the macro, then set
 * fields; a struct the library does not know (0: not initialised with the
 * macro, or newer than the library) is refused with VS_E_USAGE naming the
 * struct (subject "vs_stage_opts", ...) and a hint, before anything is
 * read or written. Fields are only ever added at the end, with a new
 * version, so a program built against an older header keeps working.
 */
#ifndef VETSTAGE_COMMON_H
#define VETSTAGE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define VS_EXTERN __attribute__((visibility("default")))
#else
#define VS_EXTERN
#endif

/* X-macro: the status table. NAME, value, short name (JSON "code"), meaning. */
#define VS_STATUS_TABLE(X)                                                                  \
    X(VS_OK, 0, "ok", "done")                                                               \
    X(VS_E_INTERNAL, 1, "internal", "unexpected failure")                                   \
    X(VS_E_USAGE, 2, "usage", "bad arguments or unreadable input")                          \
    X(VS_E_VERIFY, 3, "verify", "signature or hash check failed")                           \
    X(VS_E_FETCH, 4, "fetch", "download failed")                                            \
    X(VS_E_UNSAFE, 5, "unsafe", "archive tried something unsafe")                           \
    X(VS_E_INTEGRITY, 6, "integrity", "cache or layout is damaged")                         \
    X(VS_E_POLICY, 7, "policy", "refused by policy")

typedef enum vs_status {
#define VS_X_ENUM(name, val, str, desc) name = val,
    VS_STATUS_TABLE(VS_X_ENUM)
#undef VS_X_ENUM
} vs_status;

/* Short stable name of a status ("verify"); never NULL. */
VS_EXTERN const char *vs_status_name(vs_status st);
/* One-line description of a status; never NULL. */
VS_EXTERN const char *vs_status_describe(vs_status st);

#define VS_ERROR_MSG_MAX 1024
#define VS_ERROR_SUBJECT_MAX 1024
#define VS_ERROR_HINT_MAX 512

/*
 * Finer codes inside a status, for callers that must tell cases apart
 * without reading text (each still maps to the status's exit code).
 */
typedef enum vs_error_detail {
    VS_DETAIL_NONE = 0,
    VS_DETAIL_NOT_FOUND = 1, /* the named thing does not exist */
    VS_DETAIL_EXISTS = 2     /* the named thing exists already */
} vs_error_detail;

/*
 * Caller-owned error object. Zero-initialise it (VS_ERROR_INIT).
 *
 * Structured: `subject` is what the error concerns (a file, a URL, a key
 * fingerprint, an archive entry, NAME@VERSION; "" when none), `reason` why,
 * `hint` the next step ("" when there is none). `message` is always the
 * one-line composition "SUBJECT: REASON" (or REASON alone). A caller that
 * knows a better name for the subject (a quarantine file's URL) replaces
 * the subject; nothing decides by reading the text.
 */
typedef struct vs_error {
    vs_status status;             /* same value the function returned */
    char message[VS_ERROR_MSG_MAX]; /* "SUBJECT: reason", one line, no trailing newline */
    const char *backend;          /* "gpgme", "gcrypt", "curl", "archive", "errno" or NULL */
    long backend_code;            /* the backend's own code, 0 if none */
    char subject[VS_ERROR_SUBJECT_MAX]; /* what it concerns, "" if none */
    char reason[VS_ERROR_MSG_MAX];      /* why, without the subject */
    char hint[VS_ERROR_HINT_MAX];       /* the next step, "" if none */
    vs_error_detail detail;             /* finer code, VS_DETAIL_NONE if none */
} vs_error;

#define VS_ERROR_INIT { VS_OK, { 0 }, NULL, 0, { 0 }, { 0 }, { 0 }, VS_DETAIL_NONE }


/* Numbers as the command line and the configuration file take them
 * (common/numbers.c, one parser for both): digits and the documented
 * suffixes only (no sign, blank, hex or overflow); false on anything else.
 *  - a count: digits;
 *  - a size in bytes: digits, optionally K, M, G or T (powers of 1024,
 *    either case), optionally followed by "iB" or "B" ("1G", "512MiB");
 *  - a duration in seconds: digits, optionally s, m, h or d ("30s", "2m"). */
VS_EXTERN bool vs_parse_u64(const char *s, uint64_t *out);
VS_EXTERN bool vs_parse_size(const char *s, uint64_t *out);
VS_EXTERN bool vs_parse_duration(const char *s, uint64_t *seconds);
/* Version of libvetstage ("0.1.0"). */
VS_EXTERN const char *vs_version(void);

/*
 * Versions of the linked libraries, one "name version" per line, e.g.
 * "libgcrypt 1.10.1\ngpgme 1.18.0\n...". Borrowed static storage; only valid
 * after vs_lib_init().
 */
VS_EXTERN const char *vs_library_versions(void);

/*
 * Process-wide initialisation of the backends (libgcrypt, gpgme, libcurl).
 * Idempotent and thread-safe; vs_ctx_open calls it too.
 * Returns VS_OK or VS_E_INTERNAL when a backend is too old or fails.
 */
VS_EXTERN vs_status vs_lib_init(vs_error *err);

/* ---- context ---------------------------------------------------------- */

typedef struct vs_ctx vs_ctx;

typedef enum vs_log_level {
    VS_LOG_ERROR = 0,
    VS_LOG_WARN = 1,
    VS_LOG_INFO = 2,
    VS_LOG_DEBUG = 3
} vs_log_level;

/* Diagnostics callback; msg is one line without newline, borrowed for the call. */
typedef void (*vs_log_cb)(vs_log_level level, const char *msg, void *payload);

/*
 * Progress callback. `what` names the transfer or step (a URL, a file name),
 * `done` and `total` are bytes; total is 0 when unknown.
 */
typedef void (*vs_progress_cb)(const char *what, uint64_t done, uint64_t total, void *payload);

/* The step a progress event is about. */
typedef enum vs_progress_phase {
    VS_PHASE_DOWNLOAD = 0, /* bytes of `what` (a URL, without credentials) arriving */
    VS_PHASE_VERIFY = 1,   /* hashing a package to check it (`what`: its file name) */
    VS_PHASE_EXTRACT = 2   /* reading an archive while staging it (`what`: the package) */
} vs_progress_phase;

typedef enum vs_progress_kind {
    VS_PROGRESS_UPDATE = 0, /* `done` of `total` bytes so far (total 0: unknown) */
    VS_PROGRESS_RESUME = 1, /* a download goes on after `done` bytes kept from before */
    VS_PROGRESS_END = 2     /* the step finished well; `done` is its byte count */
} vs_progress_kind;

/* One progress event; borrowed for the duration of the callback. */
typedef struct vs_progress_event {
    vs_progress_phase phase;
    vs_progress_kind kind;
    const char *what;
    uint64_t done;
    uint64_t total;
} vs_progress_event;

/* Progress with the phase and the events an interface needs to say what is
 * going on ("resuming at 95.0 MiB", "verifying"); at most ~10 updates/s. */
typedef void (*vs_progress_event_cb)(const vs_progress_event *ev, void *payload);

/*
 * Open a context on the vetstage home directory `home` (created with mode
 * 0700 if absent, parents included). The context owns the trust store, the
 * cache and the options; it holds no global state, so two contexts on two
 * homes can live in one process.
 *
 * Returns VS_OK; VS_E_USAGE when `home` is NULL/empty or is not a directory;
 * VS_E_INTERNAL on I/O errors. On success *out must be freed with vs_ctx_free.
 */
VS_EXTERN vs_status vs_ctx_open(vs_ctx **out, const char *home, vs_error *err);

/*
 * Is `path` (which need not exist yet: its parent is resolved) the folder
 * `dir` or inside it, once both are resolved (symbolic links, "..")? false
 * when either cannot be resolved. Used to keep destinations out of the home
 * and out of the layouts they are made from.
 */
VS_EXTERN bool vs_path_within(const char *path, const char *dir);

/* Free a context; NULL is accepted. */
VS_EXTERN void vs_ctx_free(vs_ctx *ctx);

/* Absolute path of the home directory; borrowed until vs_ctx_free. */
VS_EXTERN const char *vs_ctx_home(const vs_ctx *ctx);

/* Set the log callback (default: none, messages dropped) and its verbosity. */
VS_EXTERN void vs_ctx_set_log(vs_ctx *ctx, vs_log_cb cb, vs_log_level max_level, void *payload);

/* Set the progress callback (default: none). It gets the updates of every
 * phase (VS_PROGRESS_UPDATE), not the other events. */
VS_EXTERN void vs_ctx_set_progress(vs_ctx *ctx, vs_progress_cb cb, void *payload);

/* Set the event progress callback (default: none); when set it gets every
 * event, and the plain callback above is no longer called. */
VS_EXTERN void vs_ctx_set_progress_events(vs_ctx *ctx, vs_progress_event_cb cb, void *payload);

#ifdef __cplusplus
}
#endif
#endif
