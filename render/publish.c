/* render/publish.c - a build context is written whole or not at all: built
 * in a temporary folder beside its target, synced, then renamed into place
 * (sidecar, embedded and multi-arch contexts share this transaction). With
 * --force a context vetstage rendered before is replaced: the new one is
 * swapped in (one atomic exchange where the file system has it) and the old
 * one removed; a folder of anything else is never replaced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "render/render_int.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1) /* linux/fs.h */
#endif

/* fd's entry `name` is of type `type` (S_IFDIR, S_IFREG), not followed. */
static bool entry_is(int fd, const char *name, mode_t type)
{
    struct stat sb;
    return fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && (sb.st_mode & S_IFMT) == type;
}

/* The directory fd holds exactly the entries names[0..n) (and . and ..). */
static bool holds_exactly(int fd, const char *const *names, size_t n)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return false;
    }
    rewinddir(d);
    size_t seen = 0;
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        ok = false;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(de->d_name, names[i]))
                ok = true;
        seen++;
    }
    closedir(d);
    return ok && seen == n;
}

/* A build context as vs_render_context writes it: Dockerfile, layout/ (a
 * staged tree, with .vetstage/MANIFEST.sha256) and vetstage-check, and
 * nothing else. */
static bool is_single_context(int fd)
{
    static const char *const names[] = { "Dockerfile", "layout", "vetstage-check" };
    if (!holds_exactly(fd, names, 3) || !entry_is(fd, "Dockerfile", S_IFREG) ||
        !entry_is(fd, "vetstage-check", S_IFREG) || !entry_is(fd, "layout", S_IFDIR) ||
        !entry_is(fd, "layout/.vetstage", S_IFDIR))
        return false;
    return entry_is(fd, "layout/.vetstage/MANIFEST.sha256", S_IFREG);
}

/* Rendered by vetstage before: a single context, or a multi-arch one
 * (amd64/ and arm64/, each a single context, and build.sh). */
static bool is_rendered_context(int fd)
{
    if (is_single_context(fd))
        return true;
    static const char *const names[] = { "amd64", "arm64", "build.sh" };
    if (!holds_exactly(fd, names, 3) || !entry_is(fd, "build.sh", S_IFREG))
        return false;
    for (size_t i = 0; i < 2; i++) {
        int sub = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        bool ok = sub >= 0 && is_single_context(sub);
        if (sub >= 0)
            close(sub);
        if (!ok)
            return false;
    }
    return true;
}

vs_status render_publish_state(const char *path, bool force, render_target *state,
                               vs_error *err)
{
    *state = RENDER_TARGET_ABSENT;
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return VS_OK;
        return vs_error_subj_errno(err, VS_E_USAGE, errno, path, "the build context");
    }
    if (!S_ISDIR(sb.st_mode))
        return vs_error_subj(err, VS_E_USAGE, path, "exists and is not a directory");
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, path, "the build context");
    bool empty = holds_exactly(fd, NULL, 0);
    bool ours = !empty && is_rendered_context(fd);
    close(fd);
    if (empty) {
        *state = RENDER_TARGET_EMPTY;
        return VS_OK;
    }
    if (ours && force) {
        *state = RENDER_TARGET_REPLACE;
        return VS_OK;
    }
    if (ours) {
        vs_error_subj(err, VS_E_USAGE, path,
                      "exists and is not empty: a build context rendered before");
        vs_error_hint(err, "add --force to replace it");
        return VS_E_USAGE;
    }
    vs_error_subj(err, VS_E_USAGE, path, "exists and is not empty%s",
                  force ? ", and is not a build context vetstage rendered: --force replaces only "
                          "those" : "");
    vs_error_hint(err, force ? "give another --out, or empty the folder yourself"
                             : "give an absent or empty folder (--out)");
    return VS_E_USAGE;
}

vs_status render_publish_begin(render_publish *p, const char *path, vs_error *err)
{
    memset(p, 0, sizeof *p);
    p->pfd = p->tfd = -1;
    p->path = path;
    size_t tl = strlen(path) + sizeof ".tmp-XXXXXX";
    p->tmp = malloc(tl);
    p->base = strdup(vs_basename(path));
    char *parent = strndup(path, (size_t)(vs_basename(path) - path));
    vs_status st = VS_OK;
    if (!p->tmp || !p->base || !parent) {
        st = vs_error_subj(err, VS_E_INTERNAL, path, "out of memory");
        goto out;
    }
    snprintf(p->tmp, tl, "%s.tmp-XXXXXX", path);
    const char *pd = *parent ? parent : ".";
    p->pfd = open(pd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->pfd < 0) {
        st = vs_error_subj_errno(err, VS_E_USAGE, errno, pd, "the build context's parent directory");
        goto out;
    }
    if (!mkdtemp(p->tmp)) {
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, path, "create a temporary directory");
        goto out;
    }
    p->made = true;
    p->tfd = open(p->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (p->tfd < 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, p->tmp, "open");
out:
    free(parent);
    return st;
}

/* Swap the complete new context (under its temporary name) with the old one
 * at p->base, then remove the old one. One renameat2(RENAME_EXCHANGE) where
 * the file system has it; else the old one is moved aside first. */
static vs_status replace_old(render_publish *p, vs_error *err)
{
    /* still the folder checked before anything was built */
    int fd = openat(p->pfd, p->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    bool ours = fd >= 0 && is_rendered_context(fd);
    if (fd >= 0)
        close(fd);
    if (!ours)
        return vs_error_subj(err, VS_E_USAGE, p->path,
                             "changed while the new build context was written: not replaced");
    const char *tmpbase = vs_basename(p->tmp);
    if (syscall(SYS_renameat2, p->pfd, tmpbase, p->pfd, p->base, RENAME_EXCHANGE) == 0) {
        vs_error e2 = VS_ERROR_INIT;
        if (vs_remove_tree(p->pfd, tmpbase, &e2) != VS_OK) /* now the old context */
            return vs_error_subj(err, VS_E_INTERNAL, p->tmp, "remove the replaced build context: %s",
                                 e2.message);
        p->made = false;
        return VS_OK;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, p->path, "swap into place");
    size_t ol = strlen(p->path) + sizeof ".old-XXXXXX";
    char *old = malloc(ol);
    if (!old)
        return vs_error_subj(err, VS_E_INTERNAL, p->path, "out of memory");
    snprintf(old, ol, "%s.old-XXXXXX", p->path);
    vs_status st = VS_OK;
    if (!mkdtemp(old)) {
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, p->path, "create a temporary directory");
    } else if (renameat(p->pfd, p->base, p->pfd, vs_basename(old)) != 0) {
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, p->path, "move the old context aside");
        unlinkat(p->pfd, vs_basename(old), AT_REMOVEDIR);
    } else if (renameat(p->pfd, tmpbase, p->pfd, p->base) != 0) {
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, p->path, "rename into place");
        renameat(p->pfd, vs_basename(old), p->pfd, p->base); /* put the old one back */
    } else {
        p->made = false;
        vs_error e2 = VS_ERROR_INIT;
        if (vs_remove_tree(p->pfd, vs_basename(old), &e2) != VS_OK)
            st = vs_error_subj(err, VS_E_INTERNAL, old, "remove the replaced build context: %s",
                               e2.message);
    }
    free(old);
    return st;
}

vs_status render_publish_commit(render_publish *p, render_target state, vs_error *err)
{
    vs_status st = VS_OK;
    if (fchmod(p->tfd, 0755) != 0)
        st = vs_error_subj_errno(err, VS_E_INTERNAL, errno, p->tmp, "chmod");
    if (st == VS_OK)
        st = vs_fsync_dir(p->tfd, p->tmp, err);
    if (st)
        return st;
    /* an empty target directory is removed first: the one non-atomic
     * instant, while the complete context waits under its temporary name */
    if (state == RENDER_TARGET_REPLACE) {
        st = replace_old(p, err);
        return st ? st : vs_fsync_dir(p->pfd, p->path, err);
    }
    if (state == RENDER_TARGET_EMPTY && unlinkat(p->pfd, p->base, AT_REMOVEDIR) != 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, p->path, "remove the empty directory");
    if (renameat(p->pfd, vs_basename(p->tmp), p->pfd, p->base) != 0)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, p->path, "rename into place");
    p->made = false;
    return vs_fsync_dir(p->pfd, p->path, err);
}

void render_publish_end(render_publish *p)
{
    if (p->made && p->pfd >= 0) {
        vs_error e2 = VS_ERROR_INIT;
        vs_remove_tree(p->pfd, vs_basename(p->tmp), &e2);
    }
    if (p->tfd >= 0)
        close(p->tfd);
    if (p->pfd >= 0)
        close(p->pfd);
    free(p->tmp);
    free(p->base);
    memset(p, 0, sizeof *p);
    p->pfd = p->tfd = -1;
}

char *render_trim_dir(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strndup(dir, n);
}
