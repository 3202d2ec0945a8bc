/*
 * cli/cli.h - the thin front end: option parsing, human and JSON output,
 * exit codes. No trust decisions here; everything goes through libvetstage's
 * public API (include/ only is on this folder's include path).
 */
#ifndef VS_CLI_H
#define VS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "vetstage/vetstage.h"

typedef struct cli {
    const char *home_arg; /* --home, or NULL */
    bool json;
    int verbosity;        /* -1 quiet, 0 normal, 1 verbose */
    bool progress;        /* progress bars allowed (TTY and not disabled) */
    bool no_progress;     /* -q or --no-progress: no progress output at all */
    const char *command;  /* e.g. "keys import" for messages */
    vs_ctx *ctx;          /* opened lazily by cli_ctx() */
    char **argv;          /* the command's argv (argv[0] its name), for messages */
    const char *config_arg; /* --config FILE, or NULL ($VETSTAGE_CONFIG, HOME/vetstage.conf) */
    vs_config *config;    /* loaded lazily by cli_config() */
    /* what a NAME@VERSION resolved to and the mirror bases of a fetch; they
     * must outlive the command's fetch options, main() frees them */
    vs_source_release *rel;
    char **bases;
    size_t nbases;
} cli;

/* Options every command accepts after its name. Put CLI_COMMON_LONGOPTS in
 * each command's option table and call cli_common_opt() from its default:
 * case. Values are >= 0x1000 so they never clash with short options. */
enum {
    CLI_OPT_JSON = 0x1000,
    CLI_OPT_QUIET,
    CLI_OPT_VERBOSE,
    CLI_OPT_NO_PROGRESS,
    CLI_OPT_HOME,
    CLI_OPT_HELP,
    CLI_OPT_CONFIG,
    CLI_OPT_FIRST_COMMAND = 0x1100, /* commands number their own long options from here */
    CLI_OPT_FETCH_BASE = 0x1200,    /* the fetch options shared by fetch and pull */
    CLI_OPT_STAGE_BASE = 0x1300     /* the stage options shared by stage and pull */
};

#define CLI_COMMON_LONGOPTS                                            \
    { "json", no_argument, NULL, CLI_OPT_JSON },                       \
    { "quiet", no_argument, NULL, 'q' },                               \
    { "verbose", no_argument, NULL, 'v' },                             \
    { "no-progress", no_argument, NULL, CLI_OPT_NO_PROGRESS },         \
    { "home", required_argument, NULL, CLI_OPT_HOME },                 \
    { "config", required_argument, NULL, CLI_OPT_CONFIG },             \
    { "help", no_argument, NULL, 'h' }
/* short options to add to each getopt string */
#define CLI_COMMON_SHORTOPTS "qvh"

/*
 * Handle a common option. Returns 0 when handled, -1 for --help (caller
 * prints its usage to stdout and returns 0), or 2 when `c` is not a common
 * option (unknown option: getopt already printed; caller returns usage error
 * through cli_usage_error()).
 */
int cli_common_opt(cli *c, int opt);

/* The JSON output's "schema" (CONTRACT: every object carries "schema": 1). */
#define CLI_JSON_SCHEMA 1
/* Commands that only read the home never create it ("verify", "keys list", ...). */
bool cli_readonly_command(const char *command);
/* A usage error (exit 2) with a subject and a reason. */
void cli_error_usage(vs_error *err, const char *subject, const char *reason);
/* The name in `names` closest to `word` (at most two edits), or NULL. */
const char *cli_closest(const char *word, const char *const *names, size_t n);
/* "WORD: unknown KIND" with the hint "did you mean 'X'?"; returns exit 2. */
int cli_unknown_word(cli *c, const char *kind, const char *word, const char *const *names,
                     size_t n, const char *see);

/*
 * The last case of every command's option switch. A common option: handled,
 * returns -1 (go on). --help: prints the usage parts (a NULL-terminated list
 * of strings) on stdout and returns 0 (the command returns it). Anything
 * else: a usage error naming the command, returns 2.
 */
int cli_opt_rest(cli *c, int opt, ...);

/* Run getopt_long over argv with the command's table; wrapper that resets
 * getopt state. Use like getopt_long. */
void cli_getopt_reset(void);

/* Open (once) and return the context on the resolved home; on failure
 * prints the error and returns NULL with *rc set to the exit code. */
vs_ctx *cli_ctx(cli *c, int *rc);
/* The context when the home exists; NULL with *rc 0
 * when there is none, NULL with *rc set when it could not be opened. */
vs_ctx *cli_ctx_if_home(cli *c, int *rc);

/* The configuration (sources): --config FILE, else $VETSTAGE_CONFIG, else
 * HOME/vetstage.conf (absent: no sources). Loaded once; on failure prints
 * the error and returns NULL with *rc set. */
vs_config *cli_config(cli *c, int *rc);
/* The configuration file named by --config or $VETSTAGE_CONFIG; NULL: the
 * home's (which the library finds itself). */
const char *cli_config_path(const cli *c);

/* Report a failure from the library: human line on stderr ("vetstage: MSG")
 * or the JSON error object on stdout. Returns the exit code (err->status). */
int cli_fail(cli *c, const vs_error *err);
/* Same, merging extra fields into the JSON object (obj is stolen; may be NULL). */
int cli_fail_json(cli *c, const vs_error *err, json_t *obj);

/* A usage error from argument parsing: message on stderr (or JSON) + exit 2. */
int cli_usage_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a successful JSON result: adds "ok": true; obj is stolen. Returns 0.
 * Does nothing but free obj when --json is not set. */
int cli_json_ok(cli *c, json_t *obj);
/* Print obj as the one JSON object of this command (obj stolen). */
void cli_json_print(json_t *obj);

/* End a progress line being redrawn on the terminal (a newline), so that
 * what is printed next starts on a line of its own. Safe to call any time. */
void cli_progress_break(void);

/* Human output on stderr (suppressed by -q). */
void cli_info(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Human output on stdout regardless of -q (list commands, paths). */
void cli_out(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format unix time as ISO-8601 UTC into buf ("" for 0). */
const char *cli_time(char buf[32], int64_t t);
/* JSON helpers: string or null for "", integer time as ISO string or null. */
json_t *cli_json_str(const char *s);
json_t *cli_json_time(int64_t t);

/* A sub-command of a command with several (cache, keys). */
typedef struct cli_sub {
    const char *name;                /* "list" */
    int (*fn)(cli *, int, char **);  /* gets argv from the sub-command's name on */
    const char *command;             /* "cache list", for messages */
} cli_sub;

/* Run the sub-command named by argv[1]: --help/-h prints usage to stdout
 * (exit 0); a missing or unknown name is a usage error listing `names`
 * ("list, show or gc"). Returns the exit code. */
int cli_dispatch(cli *c, int argc, char **argv, const cli_sub *subs, size_t nsubs,
                 const char *names, const char *usage);

/* Numbers (counts, sizes with K/M/G/T, durations with s/m/h/d): the
 * library's vs_parse_u64, vs_parse_size and vs_parse_duration, the same
 * parser the configuration file's max-size and timeout go through. */

/* JSON array of a verdict's signatures: [{type, valid, fingerprint, uid, created, reason,
 * file}]; uid is the signer key's user id from the store (null for RSA keys). */
json_t *cli_sigs_json(cli *c, const vs_verdict *v);
/* Who signed, for a success line: 'signed by "UID" FPR (OpenPGP[, through the
 * checksum list NAME]); approved by RSA key FPR' from the signatures that
 * counted; list is the checksum list's path or URL when one was used, else
 * NULL. "" when no signature counted. */
void cli_signers_text(cli *c, const vs_verdict *v, const char *list, char *out, size_t cap);

/* ---- options shared by fetch and pull (cli/fetch_args.c) ---------------- */

typedef struct cli_fetch_args {
    vs_cache_fetch_opts fo;
    const char *mirrors[VS_CACHE_MAX_MIRRORS];
    bool from_source;     /* the argument was NAME@VERSION of a source */
    const char *source_keys[VS_MAX_SOURCE_KEYS]; /* a plain URL's source binding */
} cli_fetch_args;

/* --mirror options one command line may give (each becomes two bases). */
#define CLI_MAX_MIRRORS (VS_CACHE_MAX_MIRRORS / 2)

/* Long options of fetch, for a command's option table. */
#define CLI_FETCH_LONGOPTS                                                   \
    { "name", required_argument, NULL, CLI_OPT_FETCH_BASE + 0 },             \
    { "version", required_argument, NULL, CLI_OPT_FETCH_BASE + 1 },          \
    { "gpg-sig-url", required_argument, NULL, CLI_OPT_FETCH_BASE + 2 },      \
    { "checksums-url", required_argument, NULL, CLI_OPT_FETCH_BASE + 3 },    \
    { "rsa-sig-url", required_argument, NULL, CLI_OPT_FETCH_BASE + 4 },      \
    { "mirror", required_argument, NULL, CLI_OPT_FETCH_BASE + 5 },           \
    { "cacert", required_argument, NULL, CLI_OPT_FETCH_BASE + 6 },           \
    { "pinned-pubkey", required_argument, NULL, CLI_OPT_FETCH_BASE + 7 },    \
    { "max-size", required_argument, NULL, CLI_OPT_FETCH_BASE + 8 },         \
    { "retries", required_argument, NULL, CLI_OPT_FETCH_BASE + 9 },          \
    { "timeout", required_argument, NULL, CLI_OPT_FETCH_BASE + 10 },         \
    { "require", required_argument, NULL, CLI_OPT_FETCH_BASE + 11 },         \
    { "max-sig-age", required_argument, NULL, CLI_OPT_FETCH_BASE + 12 },      \
    { "netrc-file", required_argument, NULL, CLI_OPT_FETCH_BASE + 13 }

/* Defaults. */
void cli_fetch_args_init(cli_fetch_args *a);
/* Handle option `opt` (with optarg). Returns 0 when handled, -1 when `opt`
 * is not a fetch option, or an exit code (usage error already reported). */
int cli_fetch_arg(cli *c, int opt, cli_fetch_args *a);
/* After parsing: set the URL and check combinations. `arg` is a URL or
 * NAME@VERSION of a source (its options fill what the command line left
 * unset; c->rel keeps the resolved release). Each --mirror BASE becomes
 * BASE/NAME/VERSION then BASE. 0 or an exit code. */
int cli_fetch_args_finish(cli *c, cli_fetch_args *a, const char *url);
/* Fetch options text for --help. */
extern const char cli_fetch_help[];
/* Run the fetch: download, verify, admit. On success writes "NAME@VERSION"
 * to ref, reports on stderr and, when obj is not NULL, adds the fetch fields
 * (ref, name, version, sha256, size, already, signatures, verdict) to obj;
 * returns 0. On failure reports the error (obj is consumed) and returns the
 * exit code. */
int cli_fetch_run(cli *c, cli_fetch_args *a, char *ref, size_t refsize, json_t *obj);

/* ---- options shared by stage and pull (cli/stage_args.c) ---------------- */

#define CLI_STAGE_LONGOPTS                                                   \
    { "dest", required_argument, NULL, CLI_OPT_STAGE_BASE + 0 },             \
    { "flat", no_argument, NULL, CLI_OPT_STAGE_BASE + 1 },                   \
    { "allow-downgrade", no_argument, NULL, CLI_OPT_STAGE_BASE + 2 },        \
    { "max-unpacked", required_argument, NULL, CLI_OPT_STAGE_BASE + 3 },     \
    { "max-entries", required_argument, NULL, CLI_OPT_STAGE_BASE + 4 },      \
    { "keep", required_argument, NULL, CLI_OPT_STAGE_BASE + 5 },             \
    { "strip-components", required_argument, NULL, CLI_OPT_STAGE_STRIP },    \
    { "arch", required_argument, NULL, CLI_OPT_STAGE_BASE + 7 }

/* --strip-components (pull lets it win over a source's strip-components). */
#define CLI_OPT_STAGE_STRIP (CLI_OPT_STAGE_BASE + 6)
/* Handle a stage option: 0 handled, -1 not a stage option, else an exit code. */
int cli_stage_arg(cli *c, int opt, vs_stage_opts *so, const char **dest);
/* The configured source of ref's NAME binds keys: stage applies them too
 * (so->keys points into keys[] and the loaded configuration). 0 or an exit code. */
int cli_stage_source_keys(cli *c, const char *ref, vs_stage_opts *so,
                          const char *keys[VS_MAX_SOURCE_KEYS]);
/* Stage options text for --help. */
extern const char cli_stage_help[];
/* Report a staging result (human line or JSON fields added to obj). */
void cli_stage_report(cli *c, const char *ref, const char *dest, const vs_stage_opts *so,
                      const vs_stage_result *res, json_t *obj);

/* The commands. argv[0] is the command name. */
int cmd_keys(cli *c, int argc, char **argv);
int cmd_verify(cli *c, int argc, char **argv);
int cmd_fetch(cli *c, int argc, char **argv);
int cmd_cache(cli *c, int argc, char **argv);
int cmd_stage(cli *c, int argc, char **argv);
int cmd_pull(cli *c, int argc, char **argv);
int cmd_layout(cli *c, int argc, char **argv);
int cmd_render(cli *c, int argc, char **argv);
int cmd_mirror(cli *c, int argc, char **argv);

#endif
