/*
 * verify/checksums.c - checksum lists as upstreams publish them (untrusted
 * bytes): sha256sum lines ("HEX  NAME" text, "HEX *NAME" binary) and BSD
 * tag lines ("SHA256 (NAME) = HEX", as `sha256sum --tag` and Fedora write
 * them), with GNU's leading-backslash escapes, names with or without "./".
 * Lines for other files, other algorithms and malformed lines that do not
 * name the package are not judged; the package needs exactly one SHA-256
 * value (identical duplicates allowed).
 */
#include <string.h>

#include "verify/verify_int.h"

/* One parsed line. `name` points into the line, still escaped when `escaped`. */
typedef struct ck_line {
    const char *name;
    size_t namelen;
    const char *hex;
    size_t hexlen;
    bool escaped;
    bool tag;    /* BSD tag form */
    bool sha256; /* tag form: the algorithm is SHA-256 */
} ck_line;

static bool is_hex(uint8_t ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool peek(const vs_cursor *c, uint8_t *ch)
{
    if (vs_cursor_left(c) == 0)
        return false;
    *ch = c->p[c->pos];
    return true;
}

/* Take bytes while pred holds; returns them (borrowed) and their count. */
static const char *take_while(vs_cursor *c, bool (*pred)(uint8_t), size_t *n)
{
    size_t k = 0;
    const char *start = (const char *)c->p + c->pos;
    uint8_t ch;
    while (peek(c, &ch) && pred(ch)) {
        (void)vs_cursor_u8(c, &ch);
        k++;
    }
    *n = k;
    return start;
}

static bool take_lit(vs_cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    if (vs_cursor_left(c) < n || memcmp(c->p + c->pos, lit, n) != 0)
        return false;
    return vs_cursor_bytes(c, n) != NULL;
}

static bool hex_len_known(size_t h)
{
    /* MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 */
    return h == 32 || h == 40 || h == 56 || h == 64 || h == 96 || h == 128;
}

/* "HEX  NAME" / "HEX *NAME" */
static bool parse_gnu(const char *l, size_t n, ck_line *e)
{
    vs_cursor c;
    vs_cursor_init(&c, l, n);
    e->escaped = take_lit(&c, "\\");
    e->hex = take_while(&c, is_hex, &e->hexlen);
    if (!hex_len_known(e->hexlen) || !(take_lit(&c, "  ") || take_lit(&c, " *")))
        return false;
    e->namelen = vs_cursor_left(&c);
    e->name = (const char *)vs_cursor_bytes(&c, e->namelen);
    e->tag = false;
    return e->name && e->namelen > 0;
}

static bool is_algo_char(uint8_t ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '/';
}

/* "ALGO (NAME) = HEX", also "ALGO(NAME)= HEX" as openssl dgst writes it.
 * The name may itself hold ") = ": the last one before the hex counts. */
static bool parse_tag(const char *l, size_t n, ck_line *e)
{
    vs_cursor c;
    vs_cursor_init(&c, l, n);
    e->escaped = take_lit(&c, "\\");
    size_t alen;
    const char *algo = take_while(&c, is_algo_char, &alen);
    if (alen == 0 || alen > 16)
        return false;
    (void)take_lit(&c, " ");
    if (!take_lit(&c, "("))
        return false;
    const char *rest = (const char *)c.p + c.pos;
    size_t left = vs_cursor_left(&c);
    /* from the end: HEX, then "= " or " = ", then ")" */
    size_t h = 0;
    while (h < left && is_hex((uint8_t)rest[left - 1 - h]))
        h++;
    size_t end = left - h; /* rest[0..end) is "NAME) = " or "NAME)= " */
    size_t sep = 0;
    if (end >= 4 && memcmp(rest + end - 4, ") = ", 4) == 0)
        sep = 4;
    else if (end >= 3 && memcmp(rest + end - 3, ")= ", 3) == 0)
        sep = 3;
    if (sep == 0 || h == 0 || end - sep == 0)
        return false;
    e->name = rest;
    e->namelen = end - sep;
    e->hex = rest + end;
    e->hexlen = h;
    e->tag = true;
    e->sha256 = (alen == 6 && strncmp(algo, "SHA256", 6) == 0) ||
                (alen == 8 && strncmp(algo, "SHA2-256", 8) == 0);
    return true;
}

/*
 * The entry's name as sha256sum -c reads it: GNU escapes (\\ and \n, also
 * \r) undone when the line started with a backslash, leading "./" dropped.
 * false for a malformed escape or a NUL.
 */
static bool entry_name(const ck_line *e, char *out, size_t cap, size_t *outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < e->namelen; i++) {
        char ch = e->name[i];
        if (ch == '\0')
            return false;
        if (e->escaped && ch == '\\') {
            if (++i >= e->namelen)
                return false;
            ch = e->name[i] == '\\' ? '\\' : e->name[i] == 'n' ? '\n' : e->name[i] == 'r' ? '\r' : 0;
            if (!ch)
                return false;
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = ch;
    }
    out[k] = '\0';
    size_t skip = 0;
    while (k - skip > 2 && out[skip] == '.' && out[skip + 1] == '/')
        skip += 2;
    memmove(out, out + skip, k - skip + 1);
    *outlen = k - skip;
    return true;
}

static bool boundary(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '*' || ch == '/' || ch == '(' || ch == ')';
}

/* A malformed line that names the package (its name standing as a word)
 * is judged: it is refused rather than skipped. */
static bool mentions(const char *l, size_t n, const char *name, size_t want)
{
    if (want == 0 || want > n)
        return false;
    for (size_t i = 0; i + want <= n; i++) {
        if (memcmp(l + i, name, want) != 0)
            continue;
        bool before = i == 0 || boundary(l[i - 1]);
        bool after = i + want == n || boundary(l[i + want]);
        if (before && after)
            return true;
    }
    return false;
}

static bool blank(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t')
            return false;
    return true;
}

/* The lookup's state across lines. */
typedef struct ck_state {
    const char *file, *want;
    size_t wantlen;
    bool found;
    uint8_t got[32];
    unsigned other_line; /* first line naming the package with another algorithm */
} ck_state;

/* One well-formed line: VS_OK (matched or not ours) or the refusal. */
static vs_status judge_line(ck_state *s, const ck_line *e, unsigned lineno, vs_error *err)
{
    char name[VS_MAX_CHECKSUM_LINE + 1];
    size_t namelen = 0;
    if (!entry_name(e, name, sizeof name, &namelen)) {
        if (mentions(e->name, e->namelen, s->want, s->wantlen))
            return vs_error_subj(err, VS_E_VERIFY, s->file,
                                 "line %u is not a sha256sum-format entry (bad escape in the "
                                 "name of %s)",
                                 lineno, s->want);
        return VS_OK;
    }
    if (namelen != s->wantlen || memcmp(name, s->want, namelen) != 0)
        return VS_OK;
    bool sha256 = e->tag ? e->sha256 : e->hexlen == 64;
    if (!sha256) {
        if (!s->other_line)
            s->other_line = lineno;
        return VS_OK;
    }
    uint8_t d[32];
    if (e->hexlen != 64 || !vs_unhex(d, 32, e->hex, 64))
        return vs_error_subj(err, VS_E_VERIFY, s->file,
                             "line %u: the SHA-256 entry for %s is not 64 hex digits", lineno,
                             s->want);
    if (s->found && memcmp(d, s->got, 32) != 0)
        return vs_error_subj(err, VS_E_VERIFY, s->file,
                             "two different SHA-256 entries for %s (line %u)", s->want, lineno);
    memcpy(s->got, d, 32);
    s->found = true;
    return VS_OK;
}

vs_status vs_checksums_lookup(const uint8_t *p, size_t len, const char *file, const char *name,
                              uint8_t out[32], vs_error *err)
{
    if (len > VS_MAX_CHECKSUM_FILE)
        return vs_error_subj(err, VS_E_VERIFY, file, "larger than the limit of %u bytes",
                             VS_MAX_CHECKSUM_FILE);
    ck_state s;
    memset(&s, 0, sizeof s);
    s.file = file;
    s.want = name;
    s.wantlen = strlen(name);
    vs_cursor c;
    vs_cursor_init(&c, p, len);
    const char *l;
    size_t n;
    unsigned lineno = 0;
    while (vs_cursor_line(&c, VS_MAX_CHECKSUM_LINE, &l, &n)) {
        lineno++;
        if (blank(l, n) || l[0] == '#')
            continue;
        ck_line e;
        memset(&e, 0, sizeof e);
        if (!parse_gnu(l, n, &e) && !parse_tag(l, n, &e)) {
            if (mentions(l, n, name, s.wantlen))
                return vs_error_subj(err, VS_E_VERIFY, file,
                                     "line %u is not a sha256sum-format entry, and it names %s",
                                     lineno, name);
            continue; /* a malformed line for another file is not judged */
        }
        vs_status st = judge_line(&s, &e, lineno, err);
        if (st)
            return st;
    }
    if (c.bad)
        return vs_error_subj(err, VS_E_VERIFY, file, "line %u longer than the limit of %u bytes",
                             lineno + 1, VS_MAX_CHECKSUM_LINE);
    if (!s.found && s.other_line)
        return vs_error_subj(err, VS_E_VERIFY, file,
                             "the entry for %s on line %u is not a SHA-256 hash (and there is no "
                             "SHA-256 entry)",
                             name, s.other_line);
    if (!s.found)
        return vs_error_subj(err, VS_E_VERIFY, file, "no SHA-256 entry for %s", name);
    memcpy(out, s.got, 32);
    return VS_OK;
}
