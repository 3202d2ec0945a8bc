/* cli/output.c - shared front-end plumbing: home, errors, JSON, progress. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void cli_getopt_reset(void)
{
    optind = 0; /* glibc: full re-initialisation */
    opterr = 0; /* cli_opt_rest reports a bad option in one line of ours */
}

int cli_common_opt(cli *c, int opt)
{
    switch (opt) {
    case CLI_OPT_JSON:
        c->json = true;
        return 0;
    case 'q':
        if (c->verbosity > 0)
            return 3;
        c->verbosity = -1;
        c->progress = false;
        return 0;
    case 'v':
        if (c->verbosity < 0)
            return 3;
        c->verbosity = 1;
        return 0;
    case CLI_OPT_NO_PROGRESS:
        c->progress = false;
        return 0;
    case CLI_OPT_HOME:
        c->home_arg = optarg;
        return 0;
    case CLI_OPT_CONFIG:
        c->config_arg = optarg;
        return 0;
    case 'h':
        return -1;
    default:
        return 2;
    }
}

int cli_opt_rest(cli *c, int opt, ...)
{
    int r = cli_common_opt(c, opt);
    if (r == 0)
        return -1;
    if (r == 3)
        return cli_usage_error(c, "-q and -v cannot be used together");
    if (r != -1) {
        /* getopt leaves the offending word just before optind */
        const char *bad = c->argv && optind > 0 ? c->argv[optind - 1] : NULL;
        return cli_usage_error(c, "%s%s%s is unknown or lacks its value (see vetstage %s --help)",
                               bad ? "option '" : "an option", bad ? bad : "", bad ? "'" : "",
                               c->command ? c->command : "");
    }
    va_list ap;
    va_start(ap, opt);
    for (const char *part; (part = va_arg(ap, const char *)) != NULL;)
        fputs(part, stdout);
    va_end(ap);
    return 0;
}

/* --home, $VETSTAGE_HOME, $XDG_DATA_HOME/vetstage, ~/.local/share/vetstage
 * (root: /var/lib/vetstage). The CLI reads the environment; the library never does. */
static char *resolve_home(const cli *c)
{
    if (c->home_arg && *c->home_arg)
        return strdup(c->home_arg);
    const char *e = getenv("VETSTAGE_HOME");
    if (e && *e)
        return strdup(e);
    e = getenv("XDG_DATA_HOME");
    if (e && *e) {
        size_t n = strlen(e) + sizeof "/vetstage";
        char *r = malloc(n);
        if (r)
            snprintf(r, n, "%s/vetstage", e);
        return r;
    }
    if (geteuid() == 0)
        return strdup("/var/lib/vetstage");
    const char *h = getenv("HOME");
    if (!h || !*h) {
        struct passwd *pw = getpwuid(geteuid());
        h = pw ? pw->pw_dir : NULL;
    }
    if (!h)
        return NULL;
    size_t n = strlen(h) + sizeof "/.local/share/vetstage";
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%s/.local/share/vetstage", h);
    return r;
}

static void log_cb(vs_log_level lvl, const char *msg, void *payload)
{
    (void)payload;
    static const char *names[] = { "error", "warning", "info", "debug" };
    fprintf(stderr, "vetstage: %s%s%s\n", lvl <= VS_LOG_WARN ? names[lvl] : "",
            lvl <= VS_LOG_WARN ? ": " : "", msg);
}

/* One-line progress bar, redrawn in place; only installed on a TTY. */
static void progress_cb(const char *what, uint64_t done, uint64_t total, void *payload)
{
    (void)payload;
    const char *name = strrchr(what, '/');
    name = name && name[1] ? name + 1 : what;
    if (total > 0) {
        unsigned pct = (unsigned)(done >= total ? 100 : done * 100 / total);
        char bar[31];
        unsigned fill = pct * 30 / 100;
        for (unsigned i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%-24.24s [%s] %3u%% %8" PRIu64 " KiB", name, bar, pct, done / 1024);
    } else {
        fprintf(stderr, "\r%-24.24s %8" PRIu64 " KiB", name, done / 1024);
    }
    if (total > 0 && done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Commands that only read the home: they never create it. */
bool cli_readonly_command(const char *command)
{
    static const char *const ro[] = { "verify",      "keys list",  "cache list", "cache show",
                                      "cache path",  "cache fsck", "layout check" };
    for (size_t i = 0; command && i < sizeof ro / sizeof ro[0]; i++)
        if (strcmp(command, ro[i]) == 0)
            return true;
    return false;
}

/* An error built in the CLI for a usage problem with a subject. */
void cli_error_usage(vs_error *err, const char *subject, const char *reason)
{
    *err = (vs_error)VS_ERROR_INIT;
    err->status = VS_E_USAGE;
    snprintf(err->subject, sizeof err->subject, "%s", subject);
    snprintf(err->reason, sizeof err->reason, "%s", reason);
    snprintf(err->message, sizeof err->message, "%.500s: %.500s", subject, reason);
}

/* Levenshtein distance of two short words (capped at 32 characters). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, 32), lb = strnlen(b, 32);
    size_t prev[33], cur[33];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *cli_closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL, *prefixed = NULL;
    size_t bestd = 3; /* at most two edits away */
    size_t wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, names[i]);
        if (d < bestd) {
            bestd = d;
            best = names[i];
        }
        if (!prefixed && wl >= 2 && strncmp(names[i], word, wl) == 0)
            prefixed = names[i];
    }
    return best ? best : prefixed;
}

int cli_unknown_word(cli *c, const char *kind, const char *word, const char *const *names,
                     size_t n, const char *see)
{
    vs_error err;
    char reason[256];
    snprintf(reason, sizeof reason, "unknown %s", kind);
    cli_error_usage(&err, word, reason);
    const char *near = cli_closest(word, names, n);
    if (near)
        snprintf(err.hint, sizeof err.hint, "did you mean '%s'? (see %s)", near, see);
    else
        snprintf(err.hint, sizeof err.hint, "see %s", see);
    return cli_fail(c, &err);
}

vs_ctx *cli_ctx(cli *c, int *rc)
{
    if (c->ctx)
        return c->ctx;
    vs_error err = VS_ERROR_INIT;
    char *home = resolve_home(c);
    if (!home) {
        vs_error e2 = VS_ERROR_INIT;
        e2.status = VS_E_USAGE;
        snprintf(e2.message, sizeof e2.message,
                 "cannot determine the vetstage home: give --home DIR or set VETSTAGE_HOME");
        *rc = cli_fail(c, &e2);
        return NULL;
    }
    struct stat sb;
    if (cli_readonly_command(c->command) && stat(home, &sb) != 0) {
        cli_error_usage(&err, home, "no vetstage home here; this command only reads, so "
                                        "nothing was created");
        snprintf(err.hint, sizeof err.hint,
                 "give --home DIR (or set VETSTAGE_HOME) for an existing home; "
                 "'vetstage keys import' creates one");
        free(home);
        *rc = cli_fail(c, &err);
        return NULL;
    }
    vs_status st = vs_ctx_open(&c->ctx, home, &err);
    free(home);
    if (st != VS_OK) {
        *rc = cli_fail(c, &err);
        return NULL;
    }
    vs_ctx_set_log(c->ctx, log_cb,
                   c->verbosity < 0 ? VS_LOG_ERROR : c->verbosity > 0 ? VS_LOG_DEBUG : VS_LOG_WARN,
                   NULL);
    if (c->progress && !c->json)
        vs_ctx_set_progress(c->ctx, progress_cb, NULL);
    return c->ctx;
}

vs_ctx *cli_ctx_if_home(cli *c, int *rc)
{
    *rc = 0;
    if (c->ctx)
        return c->ctx;
    char *home = resolve_home(c);
    struct stat sb;
    bool exists = home && stat(home, &sb) == 0;
    free(home);
    /* no home: it has staged nothing, and a read-only command creates none */
    return exists ? cli_ctx(c, rc) : NULL;
}

vs_config *cli_config(cli *c, int *rc)
{
    if (c->config)
        return c->config;
    vs_ctx *ctx = cli_ctx(c, rc);
    if (!ctx)
        return NULL;
    /* the CLI reads the environment; the library never does */
    const char *path = c->config_arg;
    if (!path) {
        const char *e = getenv("VETSTAGE_CONFIG");
        if (e && *e)
            path = e;
    }
    vs_error err = VS_ERROR_INIT;
    if (vs_config_load(ctx, path, &c->config, &err) != VS_OK) {
        *rc = cli_fail(c, &err);
        return NULL;
    }
    return c->config;
}

void cli_json_print(json_t *obj)
{
    char *s = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(obj);
}

int cli_fail_json(cli *c, const vs_error *err, json_t *obj)
{
    vs_status st = err->status == VS_OK ? VS_E_INTERNAL : err->status;
    const char *msg = err->message[0] ? err->message : vs_status_describe(st);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "schema", json_integer(CLI_JSON_SCHEMA));
        json_object_set_new(o, "ok", json_false());
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(vs_status_name(st)));
        json_object_set_new(e, "message", json_string(msg));
        if (err->subject[0])
            json_object_set_new(e, "subject", json_string(err->subject));
        if (err->hint[0])
            json_object_set_new(e, "hint", json_string(err->hint));
        json_object_set_new(o, "error", e);
        if (obj) {
            json_object_update_missing(o, obj);
            json_decref(obj);
        }
        cli_json_print(o);
    } else {
        json_decref(obj);
    }
    /* the one-line reason goes to stderr in both modes */
    /* one line: the subject, the reason and, when there is one, the next step */
    if (err->hint[0])
        fprintf(stderr, "vetstage: %s (hint: %s)\n", msg, err->hint);
    else
        fprintf(stderr, "vetstage: %s\n", msg);
    return (int)st;
}

int cli_fail(cli *c, const vs_error *err)
{
    return cli_fail_json(c, err, NULL);
}

int cli_usage_error(cli *c, const char *fmt, ...)
{
    vs_error err = VS_ERROR_INIT;
    err.status = VS_E_USAGE;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(err.message, sizeof err.message, "%s%s", c->command ? c->command : "",
                     c->command ? ": " : "");
    if (n >= 0 && (size_t)n < sizeof err.message)
        vsnprintf(err.message + n, sizeof err.message - (size_t)n, fmt, ap);
    va_end(ap);
    return cli_fail(c, &err);
}

int cli_dispatch(cli *c, int argc, char **argv, const cli_sub *subs, size_t nsubs,
                 const char *names, const char *usage)
{
    if (argc < 2)
        return cli_usage_error(c, "missing subcommand: %s", names);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    for (size_t i = 0; i < nsubs; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            c->command = subs[i].command;
            c->argv = argv + 1;
            return subs[i].fn(c, argc - 1, argv + 1);
        }
    }
    const char *words[32];
    size_t nw = 0;
    for (size_t i = 0; i < nsubs && nw < 32; i++)
        words[nw++] = subs[i].name;
    char see[128];
    snprintf(see, sizeof see, "vetstage %s --help: %s", c->command ? c->command : "", names);
    return cli_unknown_word(c, "subcommand", argv[1], words, nw, see);
}

int cli_json_ok(cli *c, json_t *obj)
{
    if (!c->json) {
        json_decref(obj);
        return 0;
    }
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_integer(CLI_JSON_SCHEMA));
    json_object_set_new(o, "ok", json_true());
    json_object_update(o, obj);
    json_decref(obj);
    cli_json_print(o);
    return 0;
}

void cli_info(cli *c, const char *fmt, ...)
{
    if (c->verbosity < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void cli_out(cli *c, const char *fmt, ...)
{
    (void)c;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
}

const char *cli_time(char buf[32], int64_t t)
{
    buf[0] = '\0';
    if (t == 0)
        return buf;
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm))
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json_t *cli_json_str(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *cli_json_time(int64_t t)
{
    char buf[32];
    return t ? json_string(cli_time(buf, t)) : json_null();
}

json_t *cli_sigs_json(const vs_verdict *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; v && i < v->nsigs; i++) {
        const vs_sig_result *s = &v->sigs[i];
        json_t *e = json_object();
        json_object_set_new(e, "type", json_string(s->kind == VS_SIG_GPG ? "gpg" : "rsa"));
        json_object_set_new(e, "valid", json_boolean(s->valid));
        json_object_set_new(e, "fingerprint", cli_json_str(s->fingerprint));
        json_object_set_new(e, "created", cli_json_time(s->created));
        json_object_set_new(e, "reason", cli_json_str(s->reason));
        json_object_set_new(e, "file", cli_json_str(s->file));
        json_array_append_new(arr, e);
    }
    return arr;
}
