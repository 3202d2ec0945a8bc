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
    const char *command;  /* e.g. "keys import" for messages */
    vs_ctx *ctx;          /* opened lazily by cli_ctx() */
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
    CLI_OPT_FIRST_COMMAND = 0x1100 /* commands number their own long options from here */
};

#define CLI_COMMON_LONGOPTS                                            \
    { "json", no_argument, NULL, CLI_OPT_JSON },                       \
    { "quiet", no_argument, NULL, 'q' },                               \
    { "verbose", no_argument, NULL, 'v' },                             \
    { "no-progress", no_argument, NULL, CLI_OPT_NO_PROGRESS },         \
    { "home", required_argument, NULL, CLI_OPT_HOME },                 \
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

/* Run getopt_long over argv with the command's table; wrapper that resets
 * getopt state. Use like getopt_long. */
void cli_getopt_reset(void);

/* Open (once) and return the context on the resolved home; on failure
 * prints the error and returns NULL with *rc set to the exit code. */
vs_ctx *cli_ctx(cli *c, int *rc);

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

/* Human output on stderr (suppressed by -q). */
void cli_info(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Human output on stdout regardless of -q (list commands, paths). */
void cli_out(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format unix time as ISO-8601 UTC into buf ("" for 0). */
const char *cli_time(char buf[32], int64_t t);
/* JSON helpers: string or null for "", integer time as ISO string or null. */
json_t *cli_json_str(const char *s);
json_t *cli_json_time(int64_t t);

/* Parse a non-negative integer option; returns false on garbage/overflow. */
bool cli_parse_u64(const char *s, uint64_t *out);

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
