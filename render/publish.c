/* render/publish.c - a build context is written whole or not at all: built
 * in a temporary folder beside its target, synced, then renamed into place
 * (sidecar, embedded and multi-arch contexts share this transaction). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/render_int.h"

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
        st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
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

vs_status render_publish_commit(render_publish *p, bool replace_empty, vs_error *err)
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
    if (replace_empty && unlinkat(p->pfd, p->base, AT_REMOVEDIR) != 0)
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
