/* cli/output.c - shared front-end plumbing: home, errors, JSON, progress. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <sys/ioctl.h>
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
        c->no_progress = true;
        return 0;
    case 'v':
        if (c->verbosity < 0)
            return 3;
        c->verbosity = 1;
        return 0;
    case CLI_OPT_NO_PROGRESS:
        c->progress = false;
        c->no_progress = true;
        return 0;
    case CLI_OPT_HOME:
        if (!optarg || !*optarg)
            return 2; /* "lacks its value": an empty --home never falls back to another home */
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
    if (r == 2 && opt == CLI_OPT_HOME)
        return cli_usage_error(c, "--home: give a directory (an empty value is refused)");
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
    cli_progress_break();
    static const char *names[] = { "error", "warning", "info", "debug" };
    fprintf(stderr, "vetstage: %s%s%s\n", lvl <= VS_LOG_WARN ? names[lvl] : "",
            lvl <= VS_LOG_WARN ? ": " : "", msg);
}

/* ---- progress ------------------------------------------------------------
 * curl/wget/apt-like lines: name, bytes of total, rate, time left, fitted to
 * the terminal's width and redrawn in place ("\r", then "\033[K" clears what
 * a longer line left); a finished step keeps its last line. Nothing for
 * small files (signatures, checksum lists). Off a terminal: plain lines for
 * events only (a resumed download). */

/* Below this many bytes a step draws nothing (signature files, lists). */
#define PROGRESS_MIN_BYTES (64u * 1024u)

typedef struct progress_state {
    bool tty;
    bool drawn;              /* a line is on screen without its newline */
    char key[512];           /* phase + what of the current line */
    vs_progress_phase phase;
    uint64_t first_done;     /* bytes when this step was first seen (resumed part) */
    struct timespec start;
} progress_state;

static progress_state prog;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "389 B", "12.0 KiB", "95.0 MiB", "1.9 GiB" */
static void human(char *out, size_t cap, double v)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%.0f %s", v, unit[u]);
    else
        snprintf(out, cap, "%.1f %s", v, unit[u]);
}

/* "45s", "2m31s", "1h05m" */
static void duration(char *out, size_t cap, double s)
{
    uint64_t t = s < 0 ? 0 : (uint64_t)(s + 0.5);
    if (t < 60)
        snprintf(out, cap, "%" PRIu64 "s", t);
    else if (t < 3600)
        snprintf(out, cap, "%" PRIu64 "m%02" PRIu64 "s", t / 60, t % 60);
    else if (t < 100 * 3600)
        snprintf(out, cap, "%" PRIu64 "h%02" PRIu64 "m", t / 3600, t / 60 % 60);
    else
        snprintf(out, cap, ">99h");
}

static unsigned term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *e = getenv("COLUMNS");
    uint64_t v;
    if (e && vs_parse_u64(e, &v) && v > 0 && v < 10000)
        return (unsigned)v;
    return 80;
}

/* The file name of a URL or path: its last segment, without query or fragment. */
static void display_name(char *out, size_t cap, const char *what)
{
    size_t end = strcspn(what, "?#");
    size_t start = end;
    while (start > 0 && what[start - 1] != '/')
        start--;
    if (start == end) { /* no segment: the whole thing */
        start = 0;
    }
    size_t n = end - start;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)what[start + i];
        out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[n] = '\0';
}

void cli_progress_break(void)
{
    if (prog.drawn) {
        fputc('\n', stderr);
        fflush(stderr);
        prog.drawn = false;
    }
}

/* "528K", "2.0M", "95M", "1.9G": for narrow terminals */
static void human_short(char *out, size_t cap, double v)
{
    static const char unit[] = "BKMGT";
    unsigned u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u > 0 && v < 9.95)
        snprintf(out, cap, "%.1f%c", v, unit[u]);
    else
        snprintf(out, cap, "%.0f%c", v, unit[u]);
}

/* Compose the line for the terminal's width: "LABEL [bar]  PCT  DONE / TOTAL
 * RATE  ETA", then the same in short units without the bar, then without
 * the ETA, the rate, the total, until it fits with at least 12 columns for
 * the label, which is cut in its middle ("...") when longer. */
static void draw(const vs_progress_event *ev, bool final)
{
    unsigned w = term_width();
    if (w < 20)
        w = 20;
    size_t cols = w - 1; /* never the last column: no wrap, no stray line */
    char name[256], label[300], done[32], total[32], sdone[16], stotal[16], rate[40],
        srate[32], eta[32], pct[8];
    display_name(name, sizeof name, ev->what);
    const char *verb = ev->phase == VS_PHASE_VERIFY    ? "verify "
                       : ev->phase == VS_PHASE_EXTRACT ? "extract "
                                                       : "";
    snprintf(label, sizeof label, "%s%s", verb, name);
    human(done, sizeof done, (double)ev->done);
    human(total, sizeof total, (double)ev->total);
    human_short(sdone, sizeof sdone, (double)ev->done);
    human_short(stotal, sizeof stotal, (double)ev->total);
    double el = now_s() - ((double)prog.start.tv_sec + (double)prog.start.tv_nsec / 1e9);
    uint64_t base = ev->done >= prog.first_done ? prog.first_done : ev->done;
    double bps = el > 0.2 ? (double)(ev->done - base) / el : 0.0;
    rate[0] = srate[0] = eta[0] = pct[0] = '\0';
    if (bps > 0) {
        char r[24];
        human(r, sizeof r, bps);
        snprintf(rate, sizeof rate, "%s/s", r);
        human_short(r, sizeof r, bps);
        snprintf(srate, sizeof srate, "%s/s", r);
    }
    bool known = ev->total > 0 && ev->total >= ev->done;
    if (known)
        snprintf(pct, sizeof pct, "%3u%%", (unsigned)(ev->done * 100 / ev->total));
    if (final) {
        duration(eta, sizeof eta, el);
    } else if (known && bps > 0) {
        char d[16];
        duration(d, sizeof d, (double)(ev->total - ev->done) / bps);
        snprintf(eta, sizeof eta, "ETA %s", d);
    }
    char right[192];
    int level;
    for (level = 0; level < 6; level++) {
        const char *sep = level == 0 ? "  " : " ";
        char amount[80];
        if (level == 0)
            snprintf(amount, sizeof amount, known ? "%s / %s" : "%s", done, total);
        else if (level < 4)
            snprintf(amount, sizeof amount, known ? "%s/%s" : "%s", sdone, stotal);
        else
            snprintf(amount, sizeof amount, "%s", level == 4 || !known ? sdone : "");
        const char *r = level == 0 ? rate : level < 3 ? srate : "";
        const char *e = level < 2 ? eta : "";
        size_t n = 0;
        right[0] = '\0';
        const char *parts[] = { known ? pct : "", amount, r, e };
        for (size_t i = 0; i < 4; i++) {
            if (!parts[i][0])
                continue;
            n += (size_t)snprintf(right + n, sizeof right - n, "%s%s", n ? sep : "", parts[i]);
            if (n >= sizeof right)
                n = sizeof right - 1;
        }
        if (strlen(right) + 2 + 12 <= cols)
            break;
    }
    size_t rl = strlen(right);
    if (rl + 2 + 1 > cols) {
        right[cols > 3 ? cols - 3 : 0] = '\0';
        rl = strlen(right);
    }
    size_t avail = cols - rl - 2; /* label + bar */
    size_t ll = strlen(label);
    /* the label column: the label, at least 24 wide so that lines align */
    size_t lw = ll < 24 ? 24 : ll;
    if (lw > avail)
        lw = avail;
    size_t bar = 0;
    if (known && level == 0 && avail >= lw + 3 + 10) {
        bar = avail - lw - 3; /* " [" ... "]" */
        if (bar > 40)
            bar = 40;
    }
    if (ll > lw) { /* cut the label: keep its start and end */
        size_t keep = lw > 3 ? lw - 3 : 0;
        size_t head = keep / 2, tail = keep - head;
        memmove(label + head + 3, label + ll - tail, tail + 1);
        memcpy(label + head, "...", 3);
    }
    char line[1024];
    size_t n = (size_t)snprintf(line, sizeof line, "%-*s", (int)lw, label);
    if (bar) {
        size_t fill = (size_t)((double)bar * (double)ev->done / (double)ev->total);
        if (fill > bar)
            fill = bar;
        line[n++] = ' ';
        line[n++] = '[';
        for (size_t i = 0; i < bar; i++)
            line[n++] = i < fill ? '#' : '.';
        line[n++] = ']';
    }
    snprintf(line + n, sizeof line - n, "  %s", right);
    fprintf(stderr, "\r%s\033[K", line);
    prog.drawn = true;
    if (final) {
        fputc('\n', stderr);
        prog.drawn = false;
    }
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

static void progress_cb(const vs_progress_event *ev, void *payload)
{
    progress_state *p = payload;
    if (!ev->what)
        return;
    char key[sizeof p->key];
    snprintf(key, sizeof key, "%d %s", (int)ev->phase, ev->what);
    bool same = strcmp(key, p->key) == 0;
    if (ev->kind == VS_PROGRESS_RESUME) {
        char name[256], at[32];
        display_name(name, sizeof name, ev->what);
        human(at, sizeof at, (double)ev->done);
        cli_progress_break();
        fprintf(stderr, "vetstage: %s: resuming at %s\n", name, at);
        fflush(stderr);
        /* the rate counts the bytes of this run only */
        snprintf(p->key, sizeof p->key, "%s", key);
        p->first_done = ev->done;
        clock_gettime(CLOCK_MONOTONIC, &p->start);
        return;
    }
    if (!same) {
        cli_progress_break();
        snprintf(p->key, sizeof p->key, "%s", key);
        p->first_done = ev->kind == VS_PROGRESS_UPDATE ? ev->done : 0;
        clock_gettime(CLOCK_MONOTONIC, &p->start);
        p->phase = ev->phase;
    }
    if (!p->tty)
        return;
    bool small = ev->total > 0 ? ev->total < PROGRESS_MIN_BYTES : ev->done < PROGRESS_MIN_BYTES;
    if (small)
        return;
    draw(ev, ev->kind == VS_PROGRESS_END);
    if (ev->kind == VS_PROGRESS_END)
        p->key[0] = '\0';
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
    /* a terminal: lines redrawn in place; otherwise only plain lines (a
     * resumed download); -q, --no-progress and --json: nothing */
    if (!c->no_progress && c->verbosity >= 0 && !c->json) {
        prog.tty = c->progress && isatty(STDERR_FILENO);
        vs_ctx_set_progress_events(c->ctx, progress_cb, &prog);
    }
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

const char *cli_config_path(const cli *c)
{
    /* the CLI reads the environment; the library never does */
    if (c->config_arg)
        return c->config_arg;
    const char *e = getenv("VETSTAGE_CONFIG");
    return e && *e ? e : NULL;
}

vs_config *cli_config(cli *c, int *rc)
{
    if (c->config)
        return c->config;
    vs_ctx *ctx = cli_ctx(c, rc);
    if (!ctx)
        return NULL;
    vs_error err = VS_ERROR_INIT;
    if (vs_config_load(&c->config, ctx, cli_config_path(c), &err) != VS_OK) {
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
    /* one line: the subject, the reason and, when there is one, the next step */
    cli_progress_break();
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
    cli_progress_break();
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

/* The store's keys, for the user ids of signers (NULL, 0 when unreadable:
 * the fingerprints alone are shown then). */
static vs_key_info *store_keys(cli *c, size_t *n)
{
    *n = 0;
    vs_key_info *keys = NULL;
    vs_error err = VS_ERROR_INIT;
    if (!c->ctx || vs_keys_list(&keys, n, c->ctx, &err) != VS_OK) {
        *n = 0;
        return NULL;
    }
    return keys;
}

/* The user id of the key with fingerprint fpr, fit for one line ("" when
 * none: RSA keys have none). */
static void signer_uid(char *out, size_t cap, const vs_key_info *keys, size_t n, const char *fpr)
{
    out[0] = '\0';
    for (size_t i = 0; i < n && fpr[0]; i++) {
        if (strcmp(keys[i].fingerprint, fpr) != 0)
            continue;
        size_t k = 0;
        for (const char *p = keys[i].uid; *p && k + 1 < cap; p++)
            out[k++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
        out[k] = '\0';
        return;
    }
}

void cli_signers_text(cli *c, const vs_verdict *v, const char *list, char *out, size_t cap)
{
    out[0] = '\0';
    char lname[300] = "";
    if (list)
        display_name(lname, sizeof lname, list);
    size_t nkeys = 0;
    vs_key_info *keys = v && v->nsigs ? store_keys(c, &nkeys) : NULL;
    size_t used = 0;
    for (size_t i = 0; v && i < v->nsigs; i++) {
        const vs_sig_result *s = &v->sigs[i];
        if (s->effect != VS_SIG_COUNTS || !s->fingerprint[0])
            continue;
        char uid[256];
        signer_uid(uid, sizeof uid, keys, nkeys, s->fingerprint);
        int w;
        if (s->kind == VS_SIG_GPG)
            w = snprintf(out + used, cap - used, "%s%s%s%s%s (OpenPGP%s%s)",
                         used ? "; signed by " : "signed by ", uid[0] ? "\"" : "", uid,
                         uid[0] ? "\" " : "", s->fingerprint,
                         lname[0] ? ", through the checksum list " : "", lname);
        else
            w = snprintf(out + used, cap - used, "%sRSA key %s",
                         used ? "; approved by " : "approved by ", s->fingerprint);
        if (w < 0 || (size_t)w >= cap - used) {
            out[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    vs_key_info_free(keys);
}

json_t *cli_sigs_json(cli *c, const vs_verdict *v)
{
    size_t nkeys = 0;
    vs_key_info *keys = v && v->nsigs ? store_keys(c, &nkeys) : NULL;
    json_t *arr = json_array();
    for (size_t i = 0; v && i < v->nsigs; i++) {
        const vs_sig_result *s = &v->sigs[i];
        json_t *e = json_object();
        json_object_set_new(e, "type", json_string(s->kind == VS_SIG_GPG ? "gpg" : "rsa"));
        json_object_set_new(e, "valid", json_boolean(s->valid));
        json_object_set_new(e, "fingerprint", cli_json_str(s->fingerprint));
        char uid[256];
        signer_uid(uid, sizeof uid, keys, nkeys, s->fingerprint);
        json_object_set_new(e, "uid", cli_json_str(uid));
        json_object_set_new(e, "created", cli_json_time(s->created));
        json_object_set_new(e, "reason", cli_json_str(s->reason));
        json_object_set_new(e, "file", cli_json_str(s->file));
        json_array_append_new(arr, e);
    }
    vs_key_info_free(keys);
    return arr;
}
