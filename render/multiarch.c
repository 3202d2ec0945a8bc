/*
 * render/multiarch.c - `render sidecar` with one layout per architecture:
 * CONTEXT/amd64/ and CONTEXT/arm64/ (each a complete build context written by
 * vs_render_context, with the checker built for that architecture) and
 * CONTEXT/build.sh, which builds both images with `buildah bud --platform`
 * and joins them into one manifest list.
 *
 * A layout's architecture is what stage recorded in provenance.json
 * ("arch"); a layout staged without --arch is recognised by the machine
 * type of its ELF files (all of them must agree).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/render_int.h"
#include "vetstage/limits.h"

#define EM_X86_64_ 62u
#define EM_AARCH64_ 183u
/* How many files and how deep the ELF scan of a layout goes. */
#define SCAN_MAX_FILES 100000u
#define SCAN_MAX_DEPTH 64u

static const char *const arch_names[VS_RENDER_NARCH] = { "amd64", "arm64" };

const char *vs_render_arch_name(vs_render_arch a)
{
    return (unsigned)a < VS_RENDER_NARCH ? arch_names[a] : "unknown";
}

static int arch_of_machine(unsigned m)
{
    if (m == EM_X86_64_)
        return VS_RENDER_AMD64;
    if (m == EM_AARCH64_)
        return VS_RENDER_ARM64;
    return -1;
}

/* e_machine of an ELF header (in the file's byte order); 0 when not ELF. */
static unsigned elf_machine(const uint8_t *h, size_t n)
{
    if (n < 20 || memcmp(h, "\177ELF", 4) != 0)
        return 0;
    if (h[5] == 1)
        return (unsigned)h[18] | ((unsigned)h[19] << 8);
    if (h[5] == 2)
        return ((unsigned)h[18] << 8) | (unsigned)h[19];
    return 0;
}

/* Machine of the regular file `name` in `dfd` (0 when not ELF or unreadable). */
static unsigned file_machine(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint8_t h[20];
    size_t got = 0;
    while (got < sizeof h) {
        ssize_t r = read(fd, h + got, sizeof h - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return elf_machine(h, got);
}

typedef struct scan {
    unsigned files;
    unsigned found[VS_RENDER_NARCH]; /* ELF files per architecture */
    char first[VS_RENDER_NARCH][VS_MAX_ARCHIVE_PATH]; /* one of each, for messages */
    unsigned other;                  /* ELF files of another machine */
} scan;

static vs_status scan_dir(scan *s, int dfd, const char *rel, unsigned depth, const char *subject,
                          vs_error *err)
{
    if (depth > SCAN_MAX_DEPTH)
        return vs_error_subj(err, VS_E_INTEGRITY, subject, "directories nested deeper than %u",
                             SCAN_MAX_DEPTH);
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return vs_error_subj_errno(err, VS_E_INTEGRITY, errno, subject, "cannot read %s",
                                   *rel ? rel : ".");
    }
    vs_status st = VS_OK;
    struct dirent *de;
    while (st == VS_OK && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || (depth == 0 && !strcmp(n, ".vetstage")))
            continue;
        if (++s->files > SCAN_MAX_FILES) {
            st = vs_error_subj(err, VS_E_INTEGRITY, subject, "more than %u files", SCAN_MAX_FILES);
            break;
        }
        char path[VS_MAX_ARCHIVE_PATH];
        int pl = snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", n);
        if (pl < 0 || (size_t)pl >= sizeof path)
            continue;
        struct stat sb;
        if (fstatat(dirfd(d), n, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                st = scan_dir(s, sub, path, depth + 1, subject, err);
        } else if (S_ISREG(sb.st_mode)) {
            unsigned m = file_machine(dirfd(d), n);
            if (!m)
                continue;
            int a = arch_of_machine(m);
            if (a < 0) {
                s->other++;
                continue;
            }
            if (!s->found[a]++)
                snprintf(s->first[a], sizeof s->first[a], "%s", path);
        }
    }
    closedir(d);
    return st;
}

vs_status vs_render_layout_arch(vs_render_arch *arch, const char *layout, const char *start_script,
                                const char *expect_digest, vs_error *err)
{
    render_layout l;
    vs_status st = render_layout_open(&l, layout,
                                      start_script ? start_script : VS_RENDER_DEFAULT_START_SCRIPT,
                                      expect_digest, err);
    if (st)
        return st;
    int a = -1;
    if (l.arch) /* recorded by stage --arch */
        a = strcmp(l.arch, "arm64") == 0 ? VS_RENDER_ARM64 : VS_RENDER_AMD64;
    else {
        scan *s = calloc(1, sizeof *s);
        int dfd = s ? open(l.tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (!s)
            st = vs_error_subj(err, VS_E_INTERNAL, layout, "out of memory");
        else if (dfd < 0)
            st = vs_error_subj_errno(err, VS_E_INTEGRITY, errno, l.tree, "cannot open the layout");
        else
            st = scan_dir(s, dfd, "", 0, l.tree, err);
        if (st == VS_OK) {
            if (s->found[VS_RENDER_AMD64] && s->found[VS_RENDER_ARM64]) {
                st = vs_error_subj(err, VS_E_USAGE, l.tree,
                                   "holds ELF files of both architectures (%s is x86-64, %s is "
                                   "aarch64)",
                                   s->first[VS_RENDER_AMD64], s->first[VS_RENDER_ARM64]);
                vs_error_hint(err, "stage one package per architecture with stage --arch");
            } else if (s->found[VS_RENDER_AMD64]) {
                a = VS_RENDER_AMD64;
            } else if (s->found[VS_RENDER_ARM64]) {
                a = VS_RENDER_ARM64;
            } else {
                st = vs_error_subj(err, VS_E_USAGE, l.tree,
                                   s->other ? "its ELF files are neither x86-64 nor aarch64"
                                            : "no architecture recorded and no ELF file in it");
                vs_error_hint(err, "stage it with --arch amd64 or --arch arm64");
            }
        }
        free(s);
    }
    if (st == VS_OK)
        *arch = (vs_render_arch)a;
    render_layout_free(&l);
    return st;
}

/* The checker for `a` must be a regular file, an ELF executable for `a`. */
static vs_status check_checker(const char *path, vs_render_arch a, vs_error *err)
{
    if (!path || !*path) {
        vs_error_subj(err, VS_E_USAGE, "render sidecar", "no %s layout checker is built",
                      arch_names[a]);
        vs_error_hint(err, "build it: sh mk/deps.sh cross && make (or give the checker's path)");
        return VS_E_USAGE;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        vs_error_subj_errno(err, VS_E_USAGE, errno, path, "the %s layout checker",
                            arch_names[a]);
        if (a == VS_RENDER_ARM64)
            vs_error_hint(err, "build it with Debian's cross compiler: sh mk/deps.sh cross && "
                               "make (it lands in build/arm64/vetstage-check)");
        return VS_E_USAGE;
    }
    if (!S_ISREG(sb.st_mode))
        return vs_error_subj(err, VS_E_USAGE, path, "the %s layout checker is not a regular file",
                             arch_names[a]);
    int dfd = AT_FDCWD;
    unsigned m = file_machine(dfd, path);
    if (arch_of_machine(m) != (int)a) {
        vs_error_subj(err, VS_E_USAGE, path, "not a layout checker for %s (ELF machine %u)",
                      arch_names[a], m);
        vs_error_hint(err, "the %s checker is built as build/%svetstage-check",
                      arch_names[a], a == VS_RENDER_ARM64 ? "arm64/" : "");
        return VS_E_USAGE;
    }
    return VS_OK;
}

static const char build_sh[] =
    "#!/bin/sh\n"
    "# build.sh [IMAGE] - build the amd64 and the arm64 sidecar image of this context\n"
    "# (FROM scratch with COPY only: no emulator needed) and join them into the\n"
    "# multi-arch manifest list IMAGE (default localhost/vetstage-sidecar:latest);\n"
    "# the images are IMAGE-amd64 and IMAGE-arm64. Push the list with\n"
    "#   buildah manifest push --all IMAGE docker://REGISTRY/REPO:TAG\n"
    "# BUILDAH (default buildah) and BUD_OPTS (extra 'buildah bud' options) may be set.\n"
    "# Written by vetstage render sidecar.\n"
    "set -eu\n"
    "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
    "image=${1:-localhost/vetstage-sidecar:latest}\n"
    "BUILDAH=${BUILDAH:-buildah}\n"
    "if $BUILDAH manifest exists \"$image\" 2>/dev/null; then\n"
    "    $BUILDAH manifest rm \"$image\" >/dev/null\n"
    "fi\n"
    "for arch in amd64 arm64; do\n"
    "    # shellcheck disable=SC2086\n"
    "    $BUILDAH bud ${BUD_OPTS:-} --platform \"linux/$arch\" -t \"$image-$arch\" \"$here/$arch\"\n"
    "done\n"
    "$BUILDAH manifest create \"$image\" >/dev/null\n"
    "for arch in amd64 arm64; do\n"
    "    $BUILDAH manifest add --os linux --arch \"$arch\" \"$image\" "
    "\"containers-storage:$image-$arch\" >/dev/null\n"
    "done\n"
    "echo \"$image: manifest list of $image-amd64 and $image-arm64\"\n";

vs_status vs_render_multiarch_context(const char *ctx, const vs_render_opts *per_layout,
                                      size_t nlayouts, const char *const *checkers, vs_error *err)
{
    if (!ctx || !*ctx)
        return vs_error_subj(err, VS_E_USAGE, "--out", "no build context directory given");
    if (!per_layout || !checkers)
        return vs_error_subj(err, VS_E_USAGE, "--layout", "no layouts given");
    for (size_t i = 0; i < nlayouts; i++)
        if (VS_CHECK_OPTS(&per_layout[i], vs_render_opts, RENDER_OPTS, err))
            return VS_E_USAGE;
    for (size_t i = 0; i < nlayouts; i++)
        if (per_layout[i].flow != VS_RENDER_SIDECAR)
            return vs_error_subj(err, VS_E_USAGE, "--layout",
                                 "several layouts apply to render sidecar only");
    if (nlayouts != VS_RENDER_NARCH) {
        vs_error_subj(err, VS_E_USAGE, "render sidecar",
                      "%zu layouts given: one per architecture (amd64 and arm64) is needed",
                      nlayouts);
        vs_error_hint(err, "give --layout once for each architecture");
        return VS_E_USAGE;
    }
    /* every check first: the layouts' architectures and the checkers */
    const vs_render_opts *by_arch[VS_RENDER_NARCH] = { NULL, NULL };
    for (size_t i = 0; i < nlayouts; i++) {
        const vs_render_opts *o = &per_layout[i];
        vs_render_arch a;
        vs_status st =
            vs_render_layout_arch(&a, o->layout, o->start_script, o->manifest_sha256, err);
        if (st)
            return st;
        if (by_arch[a]) {
            vs_error_subj(err, VS_E_USAGE, o->layout, "is for %s, and so is %s",
                          arch_names[a], by_arch[a]->layout);
            vs_error_hint(err, "give one layout for amd64 and one for arm64");
            return VS_E_USAGE;
        }
        by_arch[a] = o;
    }
    for (int a = 0; a < VS_RENDER_NARCH; a++) {
        vs_status st = check_checker(checkers[a], (vs_render_arch)a, err);
        if (st)
            return st;
    }
    char *path = render_trim_dir(ctx);
    if (!path)
        return vs_error_subj(err, VS_E_INTERNAL, ctx, "out of memory");
    render_target state = RENDER_TARGET_ABSENT;
    vs_status st = render_publish_state(path, per_layout[0].force, &state, err);
    if (st) {
        free(path);
        return st;
    }
    render_publish pub;
    st = render_publish_begin(&pub, path, err);
    for (int a = 0; st == VS_OK && a < VS_RENDER_NARCH; a++) {
        vs_render_opts one = *by_arch[a];
        one.checker = checkers[a];
        char *sub = vs_path_join(pub.tmp, arch_names[a]);
        st = sub ? vs_render_context(sub, &one, err)
                 : vs_error_subj(err, VS_E_INTERNAL, ctx, "out of memory");
        free(sub);
    }
    if (st == VS_OK)
        st = vs_write_file_atomic(pub.tfd, "build.sh", build_sh, sizeof build_sh - 1, 0755, err);
    if (st == VS_OK)
        st = render_publish_commit(&pub, state, err);
    render_publish_end(&pub);
    free(path);
    return st;
}
