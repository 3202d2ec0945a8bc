/* render/layout_copy.c - find the staged tree behind --layout, check it, read its
 * provenance, copy it into a build context. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/render_int.h"
#include "stage/stage_int.h"
#include "vetstage/stage.h"

/* the layout's records, named by stage, which writes them */
#define MANIFEST VS_META_DIR "/" VS_META_MANIFEST
#define PROVENANCE VS_META_DIR "/" VS_META_PROVENANCE

static bool path_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == '+' || c == '/';
}

/* Components separated by single slashes, none "." or "..", none empty. */
static bool components_ok(const char *p)
{
    const char *s = p;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        if (!e)
            return true;
        s = e + 1;
    }
}

static bool charset_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > VS_MAX_RENDER_PATH)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!path_char_ok(p[i]))
            return false;
    return true;
}

bool render_valid_mount(const char *p)
{
    return p && p[0] == '/' && charset_ok(p) && components_ok(p + 1);
}

bool render_valid_relpath(const char *p)
{
    return p && p[0] != '/' && charset_ok(p) && components_ok(p);
}

bool render_user_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n > 64)
        return false;
    int colons = 0;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (c == ':')
            colons++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-'))
            return false;
    }
    return colons <= 1 && (n == 0 || (u[0] != ':' && u[n - 1] != ':'));
}

bool render_user_is_root(const char *u)
{
    if (!u || !*u)
        return true;
    size_t n = strcspn(u, ":");
    return (n == 4 && !strncmp(u, "root", 4)) || (n == 1 && u[0] == '0');
}

char *render_script_path(const char *mount, const char *script)
{
    return vs_path_join(mount, script);
}

bool render_is_argv(const json_t *a)
{
    if (!json_is_array(a))
        return false;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_string(json_array_get(a, i)))
            return false;
    return true;
}

vs_status render_parse_argv(json_t **out, const char *json, const char *what, vs_error *err)
{
    *out = NULL;
    if (strlen(json) > VS_MAX_TASK_DEF)
        return vs_error_subj(err, VS_E_USAGE, what, "longer than the limit of %u bytes",
                             VS_MAX_TASK_DEF);
    json_error_t je;
    json_t *a = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!a || !render_is_argv(a)) {
        if (a)
            vs_error_subj(err, VS_E_USAGE, what, "must be a JSON array of strings, e.g. "
                                                 "[\"/app\", \"--flag\"]");
        else
            vs_error_subj(err, VS_E_USAGE, what, "not JSON: %s", je.text);
        json_decref(a);
        /* the exec form a Dockerfile and ECS take: a bare path is the usual slip */
        vs_error_hint(err, "give the array form: %s '[\"%s\"]'", what,
                      *json == '/' && !strpbrk(json, " \"'[]\\") ? json : "/app/server");
        return VS_E_USAGE;
    }
    *out = a;
    return VS_OK;
}

/* ---- the layout check ---------------------------------------------------- */

typedef struct first_problem {
    char path[VS_ERROR_SUBJECT_MAX]; /* as the check names it */
    char reason[VS_ERROR_MSG_MAX];
    bool set;
} first_problem;

static void keep_first(const char *path, const char *reason, void *payload)
{
    first_problem *f = payload;
    if (f->set)
        return;
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->reason, sizeof f->reason, "%s", reason);
    f->set = true;
}

/*
 * The stage component's check: every file matches the manifest, nothing
 * extra, modes as recorded. The error names the first problem (its file is
 * the subject); a tree that has a manifest but cannot be checked (MODES
 * missing, unparsable records) counts as damaged, not as "not a layout".
 */
vs_status render_layout_check(const char *tree, vs_error *err)
{
    first_problem f = { { 0 }, { 0 }, false };
    size_t n = 0;
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = vs_layout_check(&n, tree, keep_first, &f, &e2);
    if (st == VS_OK)
        return VS_OK;
    if (f.set && st != VS_E_INTERNAL) {
        bool whole = strncmp(f.path, tree, strlen(tree)) == 0;
        const char *sep = whole || f.path[0] == '/' ? "" : "/";
        return vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s%s%s", whole ? "" : tree, sep, f.path),
                             "%s (layout damaged: %zu problem%s)", f.reason, n,
                             n == 1 ? "" : "s");
    }
    /* the check's own error, its subject kept */
    if (err) {
        *err = e2;
        if (st != VS_E_INTERNAL)
            err->status = VS_E_INTEGRITY;
    }
    return st == VS_E_INTERNAL ? st : VS_E_INTEGRITY;
}

/* ---- provenance ---------------------------------------------------------- */

/* The recorded architecture in Debian's names ("x86_64" is amd64, "aarch64"
 * arm64); NULL for any other. */
static const char *render_arch(const char *arch)
{
    if (!strcmp(arch, "amd64") || !strcmp(arch, "x86_64") || !strcmp(arch, "x86-64"))
        return "amd64";
    if (!strcmp(arch, "arm64") || !strcmp(arch, "aarch64"))
        return "arm64";
    return NULL;
}

/* The signer fingerprints joined with ',', each once. */
static char *join_signers(const vs_provenance *p)
{
    vs_sbuf b = VS_SBUF_INIT(VS_PROVENANCE_MAX_SIGNERS * VS_FPR_MAX);
    vs_sbuf_puts(&b, "");
    for (size_t i = 0; i < p->nsigners; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(p->signers[k], p->signers[i]) == 0;
        if (seen)
            continue;
        if (b.len > 0)
            vs_sbuf_puts(&b, ",");
        vs_sbuf_puts(&b, p->signers[i]);
    }
    if (vs_sbuf_failed(&b)) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* What the layout's provenance.json says, read by stage's one parser. */
static vs_status read_provenance(render_layout *l, int tfd, vs_error *err)
{
    char where[PATH_MAX + 64];
    snprintf(where, sizeof where, "%s/" PROVENANCE, l->tree);
    vs_provenance *p = malloc(sizeof *p);
    if (!p)
        return vs_error_subj(err, VS_E_INTERNAL, where, "out of memory");
    vs_status st = vs_provenance_read(tfd, where, p, err);
    const char *arch = st == VS_OK && p->arch[0] ? render_arch(p->arch) : NULL;
    if (st == VS_OK && p->arch[0] && !arch)
        st = vs_error_subj(err, VS_E_INTEGRITY, where,
                           "architecture \"%.32s\" recorded: neither amd64 nor arm64", p->arch);
    if (st == VS_OK) {
        l->name = strdup(p->name);
        l->version = strdup(p->version);
        l->sha256 = strdup(p->sha256);
        l->signers = join_signers(p);
        l->arch = arch ? strdup(arch) : NULL;
        if (!l->name || !l->version || !l->sha256 || !l->signers || (arch && !l->arch))
            st = vs_error_subj(err, VS_E_INTERNAL, where, "out of memory");
    }
    free(p);
    return st;
}

/* ---- resolving the layout ------------------------------------------------ */

static bool has_manifest(int dfd)
{
    struct stat sb;
    return fstatat(dfd, MANIFEST, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

static vs_status resolve(render_layout *l, const char *dir, vs_error *err)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, dir, "%s", "");
    if (has_manifest(dfd)) {
        close(dfd);
        l->tree = strdup(dir);
        return l->tree ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, dir, "out of memory");
    }
    /* versioned: resolve `current` once, so that a flip while we work cannot
     * mix two versions */
    char target[PATH_MAX];
    ssize_t n = readlinkat(dfd, "current", target, sizeof target - 1);
    if (n < 0) {
        struct stat sb;
        bool isdir = fstatat(dfd, "current", &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
        if (!isdir) {
            close(dfd);
            return vs_error_subj(err, VS_E_USAGE, dir,
                                 "not a layout (no %s and no current version)", MANIFEST);
        }
        memcpy(target, "current", sizeof "current");
        n = (ssize_t)strlen(target);
    }
    target[n] = '\0';
    if (target[0] == '/' || !components_ok(target) || memchr(target, '\0', (size_t)n)) {
        close(dfd);
        return vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/current", dir),
                             "points outside the layout");
    }
    int tfd = openat(dfd, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(dfd);
    if (tfd < 0)
        return vs_error_subj_errno(err, VS_E_INTEGRITY, errno, VS_SUBJ("%s/current", dir), "%s",
                                   "");
    bool ok = has_manifest(tfd);
    close(tfd);
    l->tree = vs_path_join(dir, target);
    if (!l->tree)
        return vs_error_subj(err, VS_E_INTERNAL, dir, "out of memory");
    if (!ok)
        return vs_error_subj(err, VS_E_INTEGRITY, l->tree, "no %s", MANIFEST);
    return VS_OK;
}

bool render_script_version(const char *text, size_t len, char *out)
{
    vs_cursor c;
    vs_cursor_init(&c, text, len);
    const char *line;
    size_t n;
    while (vs_cursor_line(&c, len + 1, &line, &n)) {
        if (n < 9 || memcmp(line, "VERSION=", 8) != 0)
            continue;
        const char *v = line + 8;
        size_t vl = n - 8;
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v++;
            vl -= 2;
        }
        if (vl == 0 || vl > VS_MAX_VERSION)
            return false;
        memcpy(out, v, vl);
        out[vl] = '\0';
        /* only a plain literal names a folder; anything else is not ours to guess */
        return vs_valid_version(out);
    }
    return false;
}

/* The vendor's script copies VERSION/datacollector out of the layout: a
 * layout without it starts an application that fails with "cp failed". */
static vs_status check_script_version(const render_layout *l, int tfd, const char *script,
                                      vs_error *err)
{
    char subj[PATH_MAX + 64];
    snprintf(subj, sizeof subj, "%s/%s", l->tree, script);
    uint8_t *buf = NULL;
    size_t len = 0;
    vs_error e2 = VS_ERROR_INIT;
    if (vs_read_file(tfd, script, VS_MAX_START_SCRIPT, &buf, &len, &e2) != VS_OK)
        return vs_error_subj(err, VS_E_INTEGRITY, subj, "cannot read the start script: %s",
                             e2.message);
    char version[VS_MAX_VERSION + 1];
    bool has = render_script_version((const char *)buf, len, version);
    free(buf);
    if (!has)
        return VS_OK;
    char rel[VS_MAX_VERSION + 32];
    snprintf(rel, sizeof rel, "%s/datacollector", version);
    struct stat sb;
    if (fstatat(tfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
        return VS_OK;
    vs_error_subj(err, VS_E_INTEGRITY, subj,
                  "sets VERSION=%s but the layout has no %s/%s (the script would fail with "
                  "\"cp failed\")",
                  version, l->tree, rel);
    vs_error_hint(err, "stage the agent package whose version the start script names "
                       "(check --strip-components), or give the start script of this layout "
                       "with --start-script");
    return VS_E_INTEGRITY;
}

/* The layout digest, compared with the one expected. */
static vs_status check_digest(render_layout *l, const char *expect, vs_error *err)
{
    vs_status st = vs_layout_digest(l->digest, l->tree, err);
    if (st)
        return st;
    if (expect && strcasecmp(l->digest, expect) != 0) {
        vs_error_subj(err, VS_E_INTEGRITY, l->tree,
                      "layout digest %s differs from the expected %s", l->digest, expect);
        vs_error_hint(err, "the layout changed after it was staged: stage it again, or "
                           "check where the expected digest came from");
        return VS_E_INTEGRITY;
    }
    return VS_OK;
}

vs_status render_layout_open(render_layout *l, const char *dir, const char *script,
                             const char *expect, vs_error *err)
{
    memset(l, 0, sizeof *l);
    if (!dir || !*dir)
        return vs_error_subj(err, VS_E_USAGE, "--layout", "no layout given");
    if (!render_valid_relpath(script))
        return vs_error_subj(err, VS_E_USAGE, script,
                             "start script must be a relative path inside the layout");
    if (expect && !vs_layout_digest_valid(expect))
        return vs_error_subj(err, VS_E_USAGE, expect,
                             "not a layout digest (--manifest-sha256 takes 64 hex digits)");
    vs_status st = resolve(l, dir, err);
    if (st)
        goto fail;
    int tfd = open(l->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0) {
        st = vs_error_subj_errno(err, VS_E_INTEGRITY, errno, l->tree, "%s", "");
        goto fail;
    }
    struct stat sb;
    if (fstatat(tfd, script, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        st = vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/%s", l->tree, script),
                           "start script missing from the layout");
    } else if (!S_ISREG(sb.st_mode)) {
        st = vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/%s", l->tree, script),
                           "start script is not a regular file");
    } else if (!(sb.st_mode & 0111)) {
        st = vs_error_subj(err, VS_E_INTEGRITY, VS_SUBJ("%s/%s", l->tree, script),
                           "start script is not executable");
    }
    /* digest, file-by-file check, digest again: the records checked against
     * are the ones the digest covers */
    if (st == VS_OK)
        st = check_digest(l, expect, err);
    if (st == VS_OK)
        st = render_layout_check(l->tree, err);
    if (st == VS_OK) {
        char first[VS_LAYOUT_DIGEST_HEX];
        memcpy(first, l->digest, sizeof first);
        st = check_digest(l, first, err);
    }
    if (st == VS_OK)
        st = check_script_version(l, tfd, script, err);
    if (st == VS_OK)
        st = read_provenance(l, tfd, err);
    close(tfd);
    if (st == VS_OK)
        return VS_OK;
fail:
    render_layout_free(l);
    return st;
}

void render_layout_free(render_layout *l)
{
    free(l->tree);
    free(l->name);
    free(l->version);
    free(l->sha256);
    free(l->signers);
    free(l->arch);
    memset(l, 0, sizeof *l);
}

/* ---- copying ------------------------------------------------------------- */

/* Copy the open file `in` to the new file `name` in `dfd` with `mode`, fsynced. */
static vs_status copy_fd(int in, int dfd, const char *name, const char *shown, mode_t mode,
                         vs_error *err)
{
    int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "create copy");
    vs_status st = VS_OK;
    uint8_t *buf = malloc(VS_IO_BUFSIZE);
    if (!buf)
        st = vs_error_subj(err, VS_E_INTERNAL, shown, "out of memory");
    while (st == VS_OK) {
        ssize_t r = read(in, buf, VS_IO_BUFSIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "read");
        else if (r == 0)
            break;
        else if (vs_write_all(out, buf, (size_t)r) != 0)
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "write copy");
    }
    free(buf);
    if (st == VS_OK && fchmod(out, mode & 0777) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "chmod copy");
    if (st == VS_OK && fsync(out) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "fsync copy");
    if (close(out) != 0 && st == VS_OK)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "close copy");
    return st;
}

static vs_status copy_file(int sfd, int dfd, const char *name, const char *rel,
                           const char *shown, mode_t mode, vs_error *err)
{
    int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown, "open");
    vs_status st = copy_fd(in, dfd, rel, shown, mode, err);
    close(in);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory (no . and ..), read whole so that no directory
 * stream stays open while the copy recurses. NULL with errno on failure. */
static char **names_of(int dfd, size_t *count)
{
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return NULL;
    }
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof *v);
    struct dirent *de;
    int e = 0;
    while (v && (errno = 0, de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            char **nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                e = ENOMEM;
                break;
            }
            v = nv;
            cap *= 2;
        }
        if (!(v[n] = strdup(de->d_name))) {
            e = ENOMEM;
            break;
        }
        n++;
    }
    if (!e && errno)
        e = errno;
    if (!v)
        e = ENOMEM;
    closedir(d);
    if (e) {
        for (size_t i = 0; v && i < n; i++)
            free(v[i]);
        free(v);
        errno = e;
        return NULL;
    }
    qsort(v, n, sizeof *v, cmp_str);
    *count = n;
    return v;
}

/*
 * Copy the directory `sfd` (at `rel` below the source root, "" for the
 * root) to `rel` below `droot`. One descriptor per level on the source side;
 * the destination is reached by its path below droot, a fresh tree that
 * holds only what this copy made (its directories are never links), so a
 * layout as deep as stage accepts (VS_MAX_PATH_DEPTH) copies within the
 * usual limit of 1024 descriptors.
 */
typedef struct copier {
    int droot;
    const char *src;
    vs_error *err;
    char rel[2 * VS_MAX_ARCHIVE_PATH + 2];
    char shown[PATH_MAX + 2 * VS_MAX_ARCHIVE_PATH + 4];
} copier;

static const char *shown_of(copier *k)
{
    snprintf(k->shown, sizeof k->shown, "%s%s%s", k->src, k->rel[0] ? "/" : "", k->rel);
    return k->shown;
}

static vs_status copy_dir(copier *k, int sfd, size_t rlen, unsigned depth)
{
    vs_error *err = k->err;
    k->rel[rlen] = '\0';
    if (depth > VS_MAX_PATH_DEPTH)
        return vs_error_subj(err, VS_E_INTEGRITY, shown_of(k),
                             "directories nested deeper than %u levels", VS_MAX_PATH_DEPTH);
    size_t n = 0;
    char **names = names_of(sfd, &n);
    if (!names)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k), "read directory");
    vs_status st = VS_OK;
    for (size_t i = 0; i < n && st == VS_OK; i++) {
        const char *name = names[i];
        size_t nl = strlen(name);
        size_t np = rlen;
        if (np + 1 + nl >= sizeof k->rel) {
            st = vs_error_subj(err, VS_E_INTEGRITY, shown_of(k), "a path below it is too long");
            break;
        }
        if (np)
            k->rel[np++] = '/';
        memcpy(k->rel + np, name, nl + 1);
        np += nl;
        struct stat sb;
        if (fstatat(sfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k), "stat");
        } else if (S_ISREG(sb.st_mode)) {
            st = copy_file(sfd, k->droot, name, k->rel, shown_of(k), sb.st_mode, err);
        } else if (S_ISDIR(sb.st_mode)) {
            int s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s2 < 0)
                st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k), "open");
            else if (mkdirat(k->droot, k->rel, 0700) != 0)
                st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k), "mkdir copy");
            if (st == VS_OK)
                st = copy_dir(k, s2, np, depth + 1);
            if (s2 >= 0)
                close(s2);
            k->rel[np] = '\0';
            if (st == VS_OK) {
                int d2 = openat(k->droot, k->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (d2 < 0)
                    st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k), "open copy");
                else if (fchmod(d2, sb.st_mode & 0777) != 0)
                    st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k), "chmod copy");
                else
                    st = vs_fsync_dir(d2, shown_of(k), err);
                if (d2 >= 0)
                    close(d2);
            }
        } else if (S_ISLNK(sb.st_mode)) {
            char target[PATH_MAX];
            ssize_t r = readlinkat(sfd, name, target, sizeof target - 1);
            if (r < 0) {
                st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k), "readlink");
            } else {
                target[r] = '\0';
                if (symlinkat(target, k->droot, k->rel) != 0)
                    st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, shown_of(k),
                                             "symlink copy");
            }
        } else {
            st = vs_error_subj(err, VS_E_INTEGRITY, shown_of(k),
                               "not a regular file, directory or symbolic link");
        }
        k->rel[rlen] = '\0';
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

vs_status render_copy_file(const char *src, int dst_dirfd, const char *dst_name, mode_t mode,
                           vs_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, src, "%s", "");
    struct stat sb;
    vs_status st = VS_OK;
    if (fstat(in, &sb) != 0)
        st = vs_error_subj_errno(err, VS_E_USAGE, errno, src, "%s", "");
    else if (!S_ISREG(sb.st_mode))
        st = vs_error_subj(err, VS_E_USAGE, src, "not a regular file");
    else
        st = copy_fd(in, dst_dirfd, dst_name, src, mode, err);
    close(in);
    return st;
}

vs_status render_copy_tree(const char *src, int dst_dirfd, const char *dst_name, vs_error *err)
{
    int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
        return vs_error_subj_errno(err, VS_E_INTEGRITY, errno, src, "%s", "");
    struct stat sb;
    vs_status st = VS_OK;
    int dfd = -1;
    if (fstat(sfd, &sb) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, src, "stat");
    else if (mkdirat(dst_dirfd, dst_name, 0700) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, dst_name, "mkdir");
    else if ((dfd = openat(dst_dirfd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                    O_CLOEXEC)) < 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, dst_name, "open");
    if (st == VS_OK) {
        copier *k = calloc(1, sizeof *k);
        if (!k) {
            st = vs_error_subj(err, VS_E_INTERNAL, src, "out of memory");
        } else {
            k->droot = dfd;
            k->src = src;
            k->err = err;
            st = copy_dir(k, sfd, 0, 0);
            free(k);
        }
    }
    if (st == VS_OK && fchmod(dfd, sb.st_mode & 0777) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, dst_name, "chmod");
    if (st == VS_OK)
        st = vs_fsync_dir(dfd, dst_name, err);
    if (dfd >= 0)
        close(dfd);
    close(sfd);
    return st;
}
