/* tests/unit/stage - path rules, symlink containment, manifest/MODES parsers,
 * and the extractor + layout check on archives made with python3's tarfile. */
#include <check.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/stage_int.h"

/* ---- path rules ------------------------------------------------------------ */

static const struct {
    const char *in;
    const char *out; /* NULL: refused */
} path_cases[] = {
    { "a", "a" },
    { "./a", "a" },
    { "a/", "a" },
    { "./a//b/", "a/b" },
    { "a/./b", "a/b" },
    { "./", "" },
    { ".", "" },
    { "a/b/c.txt", "a/b/c.txt" },
    { "..a/b..", "..a/b.." },
    { "...", "..." },
    { "", NULL },
    { "/", NULL },
    { "/etc/passwd", NULL },
    { "..", NULL },
    { "../x", NULL },
    { "a/../../x", NULL },
    { "a/..", NULL },
    { "a/../b", NULL },
    { "./../x", NULL },
    { "a\nb", NULL },
    { "a\x7f", NULL },
    { "caf\xc3\xa9.txt", "caf\xc3\xa9.txt" },       /* UTF-8 */
    { "\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x93\xa6", "\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x93\xa6" },
    { "caf\xe9.txt", NULL },                    /* Latin-1, not UTF-8 */
    { "\xc0\xae\xc0\xae/x", NULL },              /* overlong "..", refused */
    { "a\xed\xa0\x80", NULL },                   /* a surrogate */
    { "a\xf4\x90\x80\x80", NULL },               /* above U+10FFFF */
    { "a\xe2\x82", NULL },                       /* cut short */
    { "\xef\xbc\x8e\xef\xbc\x8e/x", "\xef\xbc\x8e\xef\xbc\x8e/x" }, /* fullwidth dots are a name */
    { "./\xc3\xa9/../x", NULL },                  /* ".." after a UTF-8 name */
};

START_TEST(path_rules)
{
    for (size_t i = 0; i < sizeof path_cases / sizeof path_cases[0]; i++) {
        char out[VS_MAX_ARCHIVE_PATH + 1];
        const char *why = vs_stage_norm_path(path_cases[i].in, out, sizeof out);
        if (path_cases[i].out) {
            ck_assert_msg(why == NULL, "case %zu '%s' refused: %s", i, path_cases[i].in, why);
            ck_assert_str_eq(out, path_cases[i].out);
        } else {
            ck_assert_msg(why != NULL, "case %zu '%s' accepted", i, path_cases[i].in);
        }
    }
}
END_TEST

START_TEST(path_length)
{
    char big[VS_MAX_ARCHIVE_PATH + 2];
    char out[VS_MAX_ARCHIVE_PATH + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0'; /* 1025 bytes */
    ck_assert_ptr_nonnull(vs_stage_norm_path(big, out, sizeof out));
    big[VS_MAX_ARCHIVE_PATH] = '\0'; /* exactly 1024 */
    ck_assert_ptr_null(vs_stage_norm_path(big, out, sizeof out));
    /* depth: the deepest path that fits in VS_MAX_ARCHIVE_PATH bytes (512
     * levels) is accepted, so render and the layout check, which share
     * VS_MAX_PATH_DEPTH, never refuse a tree stage accepted (issue 9) */
    char deep[VS_MAX_ARCHIVE_PATH + 1];
    size_t o = 0;
    while (o + 2 <= VS_MAX_ARCHIVE_PATH) {
        deep[o++] = 'a';
        deep[o++] = '/';
    }
    deep[o - 1] = '\0';
    ck_assert_uint_eq(strlen(deep), VS_MAX_ARCHIVE_PATH - 1);
    ck_assert_ptr_null(vs_stage_norm_path(deep, out, sizeof out));
    ck_assert_uint_ge(VS_MAX_PATH_DEPTH, VS_MAX_ARCHIVE_PATH / 2);
    /* 5000 bytes: refused for its length (issue 9) */
    char *huge = malloc(5001);
    memset(huge, 'x', 5000);
    huge[5000] = '\0';
    ck_assert_str_eq(vs_stage_norm_path(huge, out, sizeof out), "path longer than 1024 bytes");
    free(huge);
    ck_assert(vs_stage_reserved(".vetstage"));
    ck_assert(vs_stage_reserved(".vetstage/MODES"));
    ck_assert(!vs_stage_reserved(".vetstagex"));
    ck_assert(!vs_stage_reserved("a/.vetstage"));
}
END_TEST

static const struct {
    const char *path, *target;
    bool ok;
} link_cases[] = {
    { "a", "b", true },
    { "a", "./b/c", true },
    { "d/a", "../b", true },
    { "d/e/a", "../../b", true },
    { "d/a", "..", true },
    { "a", ".", true },
    { "a", "..", false },
    { "a", "../x", false },
    { "d/a", "../../x", false },
    { "a", "/etc/passwd", false },
    { "a", "/", false },
    { "a", "", false },
    { "d/a", "b/../../x", false },
    { "d/a", "b/../c", false }, /* '..' after a name: refused (chains could escape) */
    { "d/a", "x/..", false },
    { "d/a", "caf\xc3\xa9", true },
    { "d/a", "caf\xe9", false },         /* not UTF-8 */
    { "d/a", "\xc0\xae\xc0\xae/x", false }, /* overlong dots */
};

START_TEST(link_rules)
{
    for (size_t i = 0; i < sizeof link_cases / sizeof link_cases[0]; i++) {
        const char *why = vs_stage_check_link(link_cases[i].path, link_cases[i].target);
        ck_assert_msg((why == NULL) == link_cases[i].ok, "case %zu %s -> %s: %s", i,
                      link_cases[i].path, link_cases[i].target, why ? why : "accepted");
    }
}
END_TEST

static const struct {
    const char *name;
    unsigned n;
    const char *rest; /* NULL: vanishes */
} strip_cases[] = {
    { "a/b/c", 0, "a/b/c" },  { "a/b/c", 1, "b/c" },   { "a/b/c", 2, "c" },
    { "a/b/c", 3, NULL },     { "a/", 1, NULL },       { "a", 1, NULL },
    { "a//b", 1, "b" },       { "./a/b", 1, "a/b" },   { "./a/b", 2, "b" },
    { "a/b/", 1, "b/" },      { "a/b/", 2, NULL },     { "pkg-1.0/bin/x", 1, "bin/x" },
    { "pkg/../../x", 1, "../../x" }, /* the rules see both names */
};

START_TEST(strip_rule)
{
    for (size_t i = 0; i < sizeof strip_cases / sizeof strip_cases[0]; i++) {
        const char *r = vs_stage_strip(strip_cases[i].name, strip_cases[i].n);
        if (!strip_cases[i].rest)
            ck_assert_msg(r == NULL, "case %zu: '%s'", i, r);
        else
            ck_assert_msg(r && !strcmp(r, strip_cases[i].rest), "case %zu: '%s'", i,
                          r ? r : "(vanished)");
    }
}
END_TEST

START_TEST(printable_names)
{
    char out[32];
    vs_stage_printable("caf\xc3\xa9", out, sizeof out);
    ck_assert_str_eq(out, "caf\xc3\xa9");
    vs_stage_printable("a\nb\xff\\", out, sizeof out);
    ck_assert_str_eq(out, "a\\x0ab\\xff\\x5c");
    vs_stage_printable(NULL, out, sizeof out);
    ck_assert_str_eq(out, "");
    /* cut at a character boundary, marked */
    vs_stage_printable("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", out, 12);
    ck_assert_str_eq(out, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
    ck_assert(vs_utf8_valid(out));
    uint16_t m = 0;
    ck_assert(vs_arch_machine("amd64", &m) && m == 62);
    ck_assert(vs_arch_machine("arm64", &m) && m == 183);
    ck_assert(!vs_arch_machine("x86_64", &m));
    ck_assert_str_eq(vs_elf_machine_name(183), "aarch64");
}
END_TEST

START_TEST(pathset_grows)
{
    vs_pathset s;
    vs_pathset_init(&s);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "dir/%d", i);
        ck_assert_ptr_null(vs_pathset_get(&s, name));
        ck_assert_ptr_nonnull(vs_pathset_add(&s, name));
    }
    ck_assert_uint_eq(s.n, 5000);
    ck_assert_ptr_nonnull(vs_pathset_get(&s, "dir/4999"));
    vs_pathent **v = vs_pathset_sorted(&s);
    ck_assert_str_eq(v[0]->path, "dir/0");
    free(v);
    vs_pathset_free(&s);
}
END_TEST

/* ---- manifest and MODES ------------------------------------------------------ */

#define H64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct {
    const char *text;
    bool ok;
} manifest_cases[] = {
    { "", true },
    { H64 "  a\n", true },
    { H64 "  ./a/b\n" H64 " *c d\n", true },
    { H64 "  a", true }, /* no final newline */
    { H64 "  a\r\n", true },
    { H64 " a\n", false },
    { H64 "  \n", false },
    { H64 "  a\n" H64 "  ./a\n", false }, /* duplicate after normalisation */
    { H64 "  ../a\n", false },
    { H64 "  /a\n", false },
    { H64 "  .vetstage/MODES\n", false },
    { "zz" H64 "\n", false },
    { "e3b0  a\n", false },
    { "\\" H64 "  a\n", false },
};

START_TEST(manifest_parser)
{
    for (size_t i = 0; i < sizeof manifest_cases / sizeof manifest_cases[0]; i++) {
        vs_pathset s;
        vs_pathset_init(&s);
        vs_error e = VS_ERROR_INIT;
        const char *t = manifest_cases[i].text;
        vs_status st = vs_manifest_parse((const uint8_t *)t, strlen(t), "M", &s, &e);
        ck_assert_msg((st == VS_OK) == manifest_cases[i].ok, "case %zu: %s", i, e.message);
        if (st != VS_OK) {
            ck_assert_int_eq(st, VS_E_INTEGRITY);
            ck_assert(strncmp(e.message, "M: line ", 8) == 0);
        }
        vs_pathset_free(&s);
    }
    /* a line longer than the limit */
    size_t n = VS_MAX_MANIFEST_LINE + 10;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    memcpy(big, H64 "  ", 66);
    big[n] = '\0';
    vs_pathset s;
    vs_pathset_init(&s);
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_manifest_parse((const uint8_t *)big, n, "M", &s, &e), VS_E_INTEGRITY);
    vs_pathset_free(&s);
    free(big);
}
END_TEST

static const struct {
    const char *text;
    bool ok;
} modes_cases[] = {
    { "# comment\n", true },
    { "f 0644 a\nd 0755 b\nl 0777 b/l\t../a\n", true },
    { "f 0755 dir/x y\n", true },
    { "x 0644 a\n", false },
    { "f 644 a\n", false },
    { "f 0648 a\n", false },
    { "f 0644\n", false },
    { "l 0777 l\n", false },          /* no target */
    { "l 0777 l\t/etc\n", false },    /* absolute target */
    { "l 0777 l\t../x\n", false },    /* escaping target */
    { "f 0644 a\tb\n", false },
    { "f 0644 a\nd 0755 a\n", false }, /* duplicate */
    { "f 0644 ../a\n", false },
    { "d 0755 .vetstage\n", false },
};

START_TEST(modes_parser)
{
    for (size_t i = 0; i < sizeof modes_cases / sizeof modes_cases[0]; i++) {
        vs_pathset s;
        vs_pathset_init(&s);
        vs_error e = VS_ERROR_INIT;
        const char *t = modes_cases[i].text;
        vs_status st = vs_modes_parse((const uint8_t *)t, strlen(t), "MODES", &s, &e);
        ck_assert_msg((st == VS_OK) == modes_cases[i].ok, "case %zu: %s", i, e.message);
        vs_pathset_free(&s);
    }
    vs_pathset s;
    vs_pathset_init(&s);
    vs_error e = VS_ERROR_INIT;
    const char *t = "f 0755 bin/x\nl 0777 bin/l\tx\n";
    ck_assert_int_eq(vs_modes_parse((const uint8_t *)t, strlen(t), "MODES", &s, &e), VS_OK);
    vs_pathent *p = vs_pathset_get(&s, "bin/l");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->type, 'l');
    ck_assert_str_eq(p->target, "x");
    ck_assert_uint_eq(vs_pathset_get(&s, "bin/x")->mode, 0755);
    vs_pathset_free(&s);
}
END_TEST

START_TEST(render_roundtrip)
{
    vs_pathset s;
    vs_pathset_init(&s);
    vs_pathent *e = vs_pathset_add(&s, "bin");
    e->type = 'd';
    e->mode = 0755;
    e = vs_pathset_add(&s, "bin/run me");
    e->type = 'f';
    e->mode = 0755;
    memset(e->sha256, 0xab, 32);
    e = vs_pathset_add(&s, "bin/link");
    e->type = 'l';
    e->mode = 0777;
    e->target = strdup("run me");
    char *m, *d;
    size_t ml, dl;
    vs_error err = VS_ERROR_INIT;
    ck_assert_int_eq(vs_manifest_render(&s, &m, &ml, &d, &dl, &err), VS_OK);
    vs_pathset t;
    vs_pathset_init(&t);
    ck_assert_int_eq(vs_manifest_parse((uint8_t *)m, ml, "M", &t, &err), VS_OK);
    ck_assert_int_eq(vs_modes_parse((uint8_t *)d, dl, "D", &t, &err), VS_OK);
    ck_assert_uint_eq(t.n, 3);
    ck_assert(vs_pathset_get(&t, "bin/run me")->has_sha);
    ck_assert_str_eq(vs_pathset_get(&t, "bin/link")->target, "run me");
    free(m);
    free(d);
    vs_pathset_free(&s);
    vs_pathset_free(&t);
}
END_TEST

/* ---- extraction --------------------------------------------------------------- */

static char workdir[64];

static void setup_dir(void)
{
    snprintf(workdir, sizeof workdir, "/tmp/vs-unit-stage-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(workdir));
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_gcrypt_init(&e), VS_OK);
}

static void teardown_dir(void)
{
    vs_remove_tree(AT_FDCWD, workdir, NULL);
}

/* Make WORKDIR/NAME.tar.gz with python3 tarfile; `body` gets `t` (the
 * TarFile) and `add(name, data=b"", **attrs)`. */
static void make_tar_fmt(const char *name, const char *mode, const char *format,
                         const char *body)
{
    char script[4096];
    snprintf(script, sizeof script,
             "import tarfile, io, sys\n"
             "t = tarfile.open(sys.argv[1], '%s', format=tarfile.%s)\n"
             "def add(n, data=b'', **kw):\n"
             "    i = tarfile.TarInfo(n); i.size = len(data)\n"
             "    for k, v in kw.items(): setattr(i, k, v)\n"
             "    t.addfile(i, io.BytesIO(data) if i.isreg() else None)\n"
             "%s\n"
             "t.close()\n",
             mode, format, body);
    char spath[128], tpath[128], cmd[512];
    snprintf(spath, sizeof spath, "%s/mk.py", workdir);
    snprintf(tpath, sizeof tpath, "%s/%s.tar.gz", workdir, name);
    FILE *f = fopen(spath, "w");
    ck_assert_ptr_nonnull(f);
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 %s %s", spath, tpath);
    ck_assert_int_eq(system(cmd), 0);
}

static void make_tar_mode(const char *name, const char *mode, const char *body)
{
    make_tar_fmt(name, mode, "GNU_FORMAT", body);
}

static void make_tar(const char *name, const char *body)
{
    make_tar_mode(name, "w:gz", body);
}

/* Extract WORKDIR/NAME.tar.gz into a fresh WORKDIR/NAME.out with options o
 * (label set here); the result (may be NULL) and the paths staged (may be
 * NULL; caller frees) are handed back. */
static vs_status extract_o(const char *name, vs_extract_opts o, vs_extract_result *rp,
                           vs_pathset *sp, vs_error *e)
{
    char tpath[128], opath[128];
    snprintf(tpath, sizeof tpath, "%s/%s.tar.gz", workdir, name);
    snprintf(opath, sizeof opath, "%s/%s.out", workdir, name);
    ck_assert_int_eq(mkdir(opath, 0700), 0);
    int in = open(tpath, O_RDONLY);
    int root = open(opath, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(in, 0);
    ck_assert_int_ge(root, 0);
    vs_pathset s;
    vs_pathset_init(&s);
    o.label = name;
    vs_extract_result r;
    vs_status st = vs_stage_extract(NULL, in, root, &o, &s, &r, e);
    char written[VS_LAYOUT_DIGEST_HEX];
    if (st == VS_OK)
        st = vs_stage_write_meta(root, &s, "{}\n", written, e);
    if (st == VS_OK) { /* the digest of what was written is the one of the tree */
        char read_back[VS_LAYOUT_DIGEST_HEX];
        ck_assert_int_eq(vs_layout_digest(read_back, opath, NULL), VS_OK);
        ck_assert_str_eq(written, read_back);
    }
    if (rp)
        *rp = r;
    if (sp)
        *sp = s;
    else
        vs_pathset_free(&s);
    close(in);
    close(root);
    return st;
}

static vs_status extract(const char *name, uint64_t max_unpacked, uint64_t max_entries,
                         vs_error *e)
{
    vs_extract_opts o = { .max_unpacked = max_unpacked, .max_entries = max_entries };
    return extract_o(name, o, NULL, NULL, e);
}

static bool out_empty(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s/%s.out)\"", workdir, name);
    return system(cmd) == 0;
}

static void count_problem(const char *path, const char *reason, void *payload)
{
    (void)path;
    (void)reason;
    (*(int *)payload)++;
}

START_TEST(extract_good_then_check)
{
    make_tar("good", "add('bin/', type=tarfile.DIRTYPE, mode=0o700)\n"
                     "add('bin/agent', b'#!/bin/sh\\n', mode=0o750, uid=4242, gid=4242)\n"
                     "add('./etc/conf', b'x=1\\n', mode=0o600)\n"
                     "add('bin/run', type=tarfile.SYMTYPE, linkname='agent')\n"
                     "add('up', type=tarfile.SYMTYPE, linkname='etc/conf')\n");
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(extract("good", 1 << 20, 100, &e) == VS_OK, "%s", e.message);
    char p[256];
    struct stat sb;
    snprintf(p, sizeof p, "%s/good.out/bin/agent", workdir);
    ck_assert_int_eq(lstat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0755);
    ck_assert_uint_eq(sb.st_uid, geteuid()); /* never chown from the archive */
    snprintf(p, sizeof p, "%s/good.out/etc/conf", workdir);
    ck_assert_int_eq(lstat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0644);
    snprintf(p, sizeof p, "%s/good.out/bin", workdir);
    ck_assert_int_eq(lstat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0755);
    snprintf(p, sizeof p, "%s/good.out", workdir);
    int n = 0;
    size_t np = 0;
    ck_assert_msg(vs_layout_check(&np, p, count_problem, &n, &e) == VS_OK, "%s", e.message);
    ck_assert_int_eq(n, 0);
    /* damage it three ways: content, mode, an extra file */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd %s/good.out && echo evil >> etc/conf && chmod 700 bin/agent && touch extra",
             workdir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(vs_layout_check(&np, p, count_problem, &n, &e), VS_E_INTEGRITY);
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(np, 3);
}
END_TEST

static const struct {
    const char *name;
    const char *body;
    const char *reason;
} hostile[] = {
    { "abs", "add('/tmp/x', b'x')", "absolute path" },
    { "dotdot", "add('a/../../x', b'x')", "'..'" },
    { "symabs", "add('l', type=tarfile.SYMTYPE, linkname='/etc')", "absolute" },
    { "symesc", "add('d/l', type=tarfile.SYMTYPE, linkname='../../x')", "leaves the tree" },
    { "symthrough", "add('l', type=tarfile.SYMTYPE, linkname='d')\nadd('l/f', b'x')",
      "symbolic link" },
    { "hard", "add('a', b'x')\nadd('b', type=tarfile.LNKTYPE, linkname='a')", "hard link" },
    { "chr", "add('c', type=tarfile.CHRTYPE, devmajor=1, devminor=3)", "device node" },
    { "fifo", "add('p', type=tarfile.FIFOTYPE)", "FIFO" },
    { "suid", "add('s', b'x', mode=0o4755)", "setuid" },
    { "sgiddir", "add('d', type=tarfile.DIRTYPE, mode=0o2755)", "setuid" },
    { "dup", "add('a', b'x')\nadd('./a', b'y')", "duplicate" },
    { "dupdir", "add('d/f', b'x')\nadd('d', b'y')", "duplicate" },
    { "long", "add('a/' * 600, b'x')", "longer than 1024" },
    { "reserved", "add('.vetstage/MANIFEST.sha256', b'x')", "reserved" },
    { "many", "for i in range(20): add('f%d' % i, b'x')", "--max-entries" },
    { "bomb", "add('big', b'\\0' * 200000)", "--max-unpacked" },
};

START_TEST(extract_hostile)
{
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        make_tar(hostile[i].name, hostile[i].body);
        vs_error e = VS_ERROR_INIT;
        vs_status st = extract(hostile[i].name, 100000, 10, &e);
        ck_assert_msg(st == VS_E_UNSAFE, "%s: status %d: %s", hostile[i].name, st, e.message);
        ck_assert_msg(strstr(e.message, hostile[i].reason) != NULL, "%s: message '%s'",
                      hostile[i].name, e.message);
        ck_assert_msg(strchr(e.message, '\n') == NULL, "%s: message not one line",
                      hostile[i].name);
        /* rules are checked before writing: a first-entry refusal wrote nothing */
        if (strcmp(hostile[i].name, "symthrough") && strcmp(hostile[i].name, "hard") &&
            strcmp(hostile[i].name, "dup") && strcmp(hostile[i].name, "dupdir") &&
            strcmp(hostile[i].name, "many") && strcmp(hostile[i].name, "bomb"))
            ck_assert_msg(out_empty(hostile[i].name), "%s: wrote something", hostile[i].name);
    }
}
END_TEST

START_TEST(extract_not_archives)
{
    char p[256];
    vs_error e = VS_ERROR_INIT;
    snprintf(p, sizeof p, "%s/junk.tar.gz", workdir);
    FILE *f = fopen(p, "w");
    fputs("this is not an archive at all, just some text that goes on for a while\n", f);
    fclose(f);
    ck_assert_int_eq(extract("junk", 1 << 20, 100, &e), VS_E_UNSAFE);
    ck_assert(strstr(e.message, "junk") != NULL);
    snprintf(p, sizeof p, "%s/empty.tar.gz", workdir);
    f = fopen(p, "w");
    fclose(f);
    ck_assert_int_eq(extract("empty", 1 << 20, 100, &e), VS_E_UNSAFE);
    /* truncated in the middle of a file's data */
    make_tar("full", "import os\nadd('r', os.urandom(100000))");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd %s && head -c 30000 full.tar.gz > cut.tar.gz", workdir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(extract("cut", 1 << 20, 100, &e), VS_E_UNSAFE);
    ck_assert_msg(strstr(e.message, "ends early") != NULL, "%s", e.message);
}
END_TEST

/* tar.gz, tar.bz2, tar.xz, tar.zst are read; an uncompressed tar, other compressions
 * and other formats are not */
START_TEST(extract_formats)
{
    static const struct {
        const char *name, *cmd;
        vs_status want;
    } f[] = {
        { "fgz", "gzip -c plain.tar.gz > fgz.tar.gz", VS_OK },
        { "fxz", "xz -c plain.tar.gz > fxz.tar.gz", VS_OK },
        { "fzst", "zstd -q -c plain.tar.gz > fzst.tar.gz", VS_OK },
        /* python's bz2 module and an LZ4 frame magic: no bzip2/lz4 tools needed */
        { "fbz2", "python3 -c \"import bz2; open('fbz2.tar.gz', 'wb').write("
                  "bz2.compress(open('plain.tar.gz', 'rb').read()))\"", VS_OK },
        { "flz4", "printf '\\004\\042\\115\\030\\144\\100\\247garbage' > flz4.tar.gz",
          VS_E_UNSAFE },
        { "fzip", "python3 -c \"import zipfile; z = zipfile.ZipFile('fzip.tar.gz', 'w'); "
                  "z.writestr('a', 'x'); z.close()\"", VS_E_UNSAFE },
        { "fcpio", "echo plain.tar.gz | cpio -o --quiet > fcpio.tar.gz 2>/dev/null || "
                   "printf '070707garbage' > fcpio.tar.gz", VS_E_UNSAFE },
    };
    make_tar_mode("plain", "w", "add('bin/a', b'x', mode=0o755)\nadd('b', b'y')");
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(extract("plain", 1 << 20, 100, &e), VS_E_UNSAFE);
    ck_assert_msg(strstr(e.message, "not a gzip, bzip2, xz or zstd compressed tar archive") != NULL,
                  "%s", e.message);
    ck_assert_msg(strstr(e.hint, "gzip, bzip2, xz or zstd") != NULL, "hint '%s'", e.hint);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "cd %s && %s", workdir, f[i].cmd);
        ck_assert_int_eq(system(cmd), 0);
        vs_status st = extract(f[i].name, 1 << 20, 100, &e);
        ck_assert_msg(st == f[i].want, "%s: status %d: %s", f[i].name, st, e.message);
        if (st != VS_OK) /* every refusal names what is supported */
            ck_assert_msg(strstr(e.hint, "gzip, bzip2, xz or zstd") != NULL, "%s: hint '%s'",
                          f[i].name, e.hint);
    }
}
END_TEST

/* UTF-8 names as Python's tarfile (pax by default) and GNU tar --format=posix
 * write them, in the C locale this runner has and in C.UTF-8 */
START_TEST(extract_utf8_names)
{
    make_tar_fmt("utf8", "w:gz", "PAX_FORMAT",
                 "add('r\\u00e9pertoire/', type=tarfile.DIRTYPE, mode=0o755)\n"
                 "add('r\\u00e9pertoire/caf\\u00e9.txt', b'x', uname='jos\\u00e9', gname='gr\\u00fcp')\n"
                 "add('r\\u00e9pertoire/lien', type=tarfile.SYMTYPE, linkname='caf\\u00e9.txt',"
                 " uname='\\u00e5sa')\n"
                 "add('\\u65e5\\u672c/\\U0001f4e6', b'y')\n");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf %s/utf8.out", workdir);
        ck_assert_int_eq(system(cmd), 0);
        vs_error e = VS_ERROR_INIT;
        vs_status st = extract("utf8", 1 << 20, 100, &e);
        setlocale(LC_ALL, "C");
        ck_assert_msg(st == VS_OK, "pass %d: %s", pass, e.message);
        char p[256], t[64];
        snprintf(p, sizeof p, "%s/utf8.out/r\xc3\xa9pertoire/caf\xc3\xa9.txt", workdir);
        ck_assert_int_eq(access(p, F_OK), 0);
        snprintf(p, sizeof p, "%s/utf8.out/r\xc3\xa9pertoire/lien", workdir);
        ssize_t n = readlink(p, t, sizeof t - 1);
        ck_assert_int_eq(n, 9);
        t[n] = '\0';
        ck_assert_str_eq(t, "caf\xc3\xa9.txt");
        snprintf(p, sizeof p, "%s/utf8.out/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x93\xa6", workdir);
        ck_assert_int_eq(access(p, F_OK), 0);
        snprintf(p, sizeof p, "%s/utf8.out", workdir);
        ck_assert_msg(vs_layout_check(NULL, p, NULL, NULL, &e) == VS_OK, "%s", e.message);
    }
    /* GNU tar's pax (under C.UTF-8 so that it can read the names it is given) */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && mkdir -p gnu/d\xc3\xa9j\xc3\xa0 && echo x > gnu/d\xc3\xa9j\xc3\xa0/\xc3\xa9t\xc3\xa9 && "
             "ln -s \xc3\xa9t\xc3\xa9 gnu/d\xc3\xa9j\xc3\xa0/l\xc3\xa9 && "
             "LC_ALL=C.UTF-8 tar --format=posix --owner=j\xc3\xb6rg:1000 -C gnu -czf gnutar.tar.gz .",
             workdir);
    ck_assert_int_eq(system(cmd), 0);
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(extract("gnutar", 1 << 20, 100, &e) == VS_OK, "%s", e.message);
}
END_TEST

/* the rules apply to UTF-8 names exactly as before; bytes that are not
 * UTF-8 are refused, named in a printable form */
static const struct {
    const char *name, *format, *body, *reason;
} utf8_hostile[] = {
    { "u_dotdot", "PAX_FORMAT", "add('\\u00e9/../../\\u00e9vasion', b'x')", "'..'" },
    { "u_abs", "PAX_FORMAT", "add('/tmp/\\u00e9', b'x')", "absolute path" },
    { "u_symesc", "PAX_FORMAT",
      "add('\\u00e9', type=tarfile.SYMTYPE, linkname='../\\u00e9')", "leaves the tree" },
    { "u_latin1", "PAX_FORMAT",
      "i = tarfile.TarInfo('x'); i.pax_headers = {'hdrcharset': 'BINARY', 'path': "
      "b'caf\\xe9'.decode('utf-8', 'surrogateescape')}; i.size = 1\n"
      "t.addfile(i, io.BytesIO(b'x'))",
      "name is not valid UTF-8" },
    { "u_gnuraw", "GNU_FORMAT",
      "i = tarfile.TarInfo(b'caf\\xe9'.decode('latin-1')); i.size = 1\n"
      "t.encoding = 'latin-1'; t.addfile(i, io.BytesIO(b'x'))",
      "not valid UTF-8" },
    { "u_overlong", "PAX_FORMAT",
      "i = tarfile.TarInfo('x'); i.pax_headers = {'hdrcharset': 'BINARY', 'path': "
      "b'\\xc0\\xae\\xc0\\xae/x'.decode('utf-8', 'surrogateescape')}; i.size = 1\n"
      "t.addfile(i, io.BytesIO(b'x'))",
      "not valid UTF-8" },
    { "u_badtarget", "GNU_FORMAT",
      "i = tarfile.TarInfo('l'); i.type = tarfile.SYMTYPE; i.linkname = "
      "b'caf\\xe9'.decode('latin-1')\n"
      "t.encoding = 'latin-1'; t.addfile(i)",
      "target is not valid UTF-8" },
};

START_TEST(extract_utf8_hostile)
{
    for (size_t i = 0; i < sizeof utf8_hostile / sizeof utf8_hostile[0]; i++) {
        make_tar_fmt(utf8_hostile[i].name, "w:gz", utf8_hostile[i].format, utf8_hostile[i].body);
        vs_error e = VS_ERROR_INIT;
        vs_status st = extract(utf8_hostile[i].name, 100000, 10, &e);
        ck_assert_msg(st == VS_E_UNSAFE, "%s: status %d: %s", utf8_hostile[i].name, st, e.message);
        ck_assert_msg(strstr(e.message, utf8_hostile[i].reason) != NULL, "%s: message '%s'",
                      utf8_hostile[i].name, e.message);
        ck_assert_msg(vs_utf8_valid(e.message) && !strchr(e.message, '\n'), "%s: '%s'",
                      utf8_hostile[i].name, e.message);
        ck_assert_msg(out_empty(utf8_hostile[i].name), "%s: wrote something", utf8_hostile[i].name);
    }
    vs_error e = VS_ERROR_INIT;
    make_tar_fmt("u_named", "w:gz", "PAX_FORMAT", utf8_hostile[3].body);
    extract("u_named", 100000, 10, &e);
    ck_assert_msg(strstr(e.message, "entry 'caf\\xe9'") != NULL, "%s", e.message);
}
END_TEST

/* --strip-components, as tar counts */
START_TEST(extract_strip)
{
    make_tar("s_good", "add('pkg-1.0/', type=tarfile.DIRTYPE)\n"
                       "add('pkg-1.0/bin/', type=tarfile.DIRTYPE)\n"
                       "add('pkg-1.0/bin/agent', b'#!/bin/sh\\n', mode=0o755)\n"
                       "add('pkg-1.0/run', type=tarfile.SYMTYPE, linkname='bin/agent')\n"
                       "add('README', b'top-level files vanish')\n");
    vs_extract_opts o = { .max_unpacked = 1 << 20, .max_entries = 100, .strip_components = 1 };
    vs_extract_result r;
    vs_pathset set;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(extract_o("s_good", o, &r, &set, &e) == VS_OK, "%s", e.message);
    ck_assert_ptr_nonnull(vs_pathset_get(&set, "bin/agent"));
    ck_assert_ptr_nonnull(vs_pathset_get(&set, "run"));
    ck_assert_ptr_null(vs_pathset_get(&set, "README"));
    ck_assert_ptr_null(vs_pathset_get(&set, "pkg-1.0"));
    ck_assert_uint_eq(set.n, 3);
    ck_assert_uint_eq(r.files, 1);
    vs_pathset_free(&set);
    char p[256];
    snprintf(p, sizeof p, "%s/s_good.out", workdir);
    ck_assert_msg(vs_layout_check(NULL, p, NULL, NULL, &e) == VS_OK, "%s", e.message);
    static const struct {
        const char *name, *body, *reason;
    } bad[] = {
        { "s_dup", "add('a/x', b'1')\nadd('b/x', b'2')", "duplicate entry for 'x'" },
        { "s_dupdir", "add('a/d/', type=tarfile.DIRTYPE)\nadd('b/d/', type=tarfile.DIRTYPE)",
          "duplicate entry for 'd'" },
        { "s_dotdot", "add('pkg/../../x', b'x')", "'..'" },
        { "s_dotdot2", "add('../pkg/x', b'x')", "'..'" },
        { "s_abs", "add('/pkg/x', b'x')", "absolute path" },
        { "s_link", "add('pkg/l', type=tarfile.SYMTYPE, linkname='../x')", "leaves the tree" },
        { "s_none", "add('a', b'x')\nadd('b/', type=tarfile.DIRTYPE)", "no entries left" },
        { "s_reserved", "add('pkg/.vetstage/MODES', b'x')", "reserved" },
        { "s_hard", "add('pkg/a', b'x')\nadd('pkg/b', type=tarfile.LNKTYPE, linkname='pkg/a')",
          "hard link" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_tar(bad[i].name, bad[i].body);
        vs_status st = extract_o(bad[i].name, o, NULL, NULL, &e);
        ck_assert_msg(st == VS_E_UNSAFE, "%s: status %d: %s", bad[i].name, st, e.message);
        ck_assert_msg(strstr(e.message, bad[i].reason) != NULL, "%s: '%s'", bad[i].name,
                      e.message);
    }
    /* the message names the entry as the archive has it */
    ck_assert_msg(strstr(e.message, "entry 'pkg/b'") != NULL, "%s", e.message);
}
END_TEST

/* ELF machine types: recorded without --arch, enforced with it */
START_TEST(extract_arch)
{
    make_tar("elf", "import struct\n"
                    "def elf(m, le=True):\n"
                    "    h = b'\\x7fELF' + bytes([2, 1 if le else 2, 1]) + bytes(9)\n"
                    "    return h + struct.pack('<HH' if le else '>HH', 2, m) + bytes(100)\n"
                    "add('bin/x64', elf(62), mode=0o755)\n"
                    "add('bin/short', b'\\x7fELF')\n"
                    "add('etc/conf', b'not an ELF file at all, just text')\n"
                    "add('lib/x64.so', elf(62))\n");
    make_tar("elfarm", "import struct\n"
                       "add('bin/agent', b'\\x7fELF' + bytes([2, 1, 1]) + bytes(9) + "
                       "struct.pack('<HH', 2, 183) + bytes(100), mode=0o755)\n"
                       "add('bin/be', b'\\x7fELF' + bytes([2, 2, 1]) + bytes(9) + "
                       "struct.pack('>HH', 2, 183))\n");
    vs_extract_opts o = { .max_unpacked = 1 << 20, .max_entries = 100 };
    vs_extract_result r;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(extract_o("elf", o, &r, NULL, &e) == VS_OK, "%s", e.message);
    ck_assert_uint_eq(r.nmachines, 1);
    ck_assert_uint_eq(r.machines[0], 62);
    o.machine = VS_EM_X86_64;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s/elf.out", workdir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(extract_o("elf", o, &r, NULL, &e) == VS_OK, "%s", e.message);
    o.machine = VS_EM_AARCH64;
    ck_assert_msg(extract_o("elfarm", o, &r, NULL, &e) == VS_OK, "%s", e.message);
    ck_assert_uint_eq(r.nmachines, 1);
    ck_assert_uint_eq(r.machines[0], 183);
    snprintf(cmd, sizeof cmd, "rm -rf %s/elf.out", workdir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(extract_o("elf", o, &r, NULL, &e), VS_E_POLICY);
    ck_assert_msg(strstr(e.message, "entry 'bin/x64'") &&
                      strstr(e.message, "x86-64 (machine 62), not for aarch64 (machine 183)"),
                  "%s", e.message);
}
END_TEST
TCase *vs_tcase_stage_policy(void); /* test_policy.c */
TCase *vs_tcase_stage_gunzip(void); /* test_gunzip.c */

Suite *vs_suite_stage(void)
{
    Suite *s = suite_create("stage");
    suite_add_tcase(s, vs_tcase_stage_policy());
    suite_add_tcase(s, vs_tcase_stage_gunzip());
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, path_rules);
    tcase_add_test(tc, path_length);
    tcase_add_test(tc, link_rules);
    tcase_add_test(tc, pathset_grows);
    tcase_add_test(tc, strip_rule);
    tcase_add_test(tc, printable_names);
    tcase_add_test(tc, manifest_parser);
    tcase_add_test(tc, modes_parser);
    tcase_add_test(tc, render_roundtrip);
    suite_add_tcase(s, tc);
    TCase *tx = tcase_create("extract");
    tcase_add_checked_fixture(tx, setup_dir, teardown_dir);
    tcase_set_timeout(tx, 60);
    tcase_add_test(tx, extract_good_then_check);
    tcase_add_test(tx, extract_hostile);
    tcase_add_test(tx, extract_not_archives);
    tcase_add_test(tx, extract_formats);
    tcase_add_test(tx, extract_utf8_names);
    tcase_add_test(tx, extract_utf8_hostile);
    tcase_add_test(tx, extract_strip);
    tcase_add_test(tx, extract_arch);
    suite_add_tcase(s, tx);
    return s;
}
