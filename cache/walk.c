/* cache/walk.c - the one folder walk of the cache: the object store, the
 * refs, stale quarantines and writers' temporary files are all walked
 * through it, never through a symbolic link. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache_int.h"

vs_status vs_cache_fdopendir(int fd, const char *shown, DIR **out, vs_error *err)
{
    *out = fdopendir(fd);
    if (*out)
        return VS_OK;
    int e = errno;
    close(fd);
    return vs_error_subj_errno(err, VS_E_INTERNAL, e, shown, "opendir");
}

vs_status vs_cache_walk(DIR *d, vs_cache_entry_fn fn, void *arg, vs_error *err)
{
    vs_status st = VS_OK;
    struct dirent *de;
    while (st == VS_OK && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            st = fn(dirfd(d), de->d_name, arg, err);
    closedir(d);
    return st;
}

vs_status vs_cache_walk_at(int dfd, const char *name, const char *shown, bool *opened,
                           vs_cache_entry_fn fn, void *arg, vs_error *err)
{
    if (opened)
        *opened = false;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return VS_OK;
    DIR *d;
    vs_status st = vs_cache_fdopendir(fd, shown, &d, err);
    if (st)
        return st;
    if (opened)
        *opened = true;
    return vs_cache_walk(d, fn, arg, err);
}
