/* stage/policy.c - the rules a versioned stage applies, as pure functions:
 * no files, no clock; stage.c gathers the facts and calls them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"
#include "stage/stage_int.h"

vs_status vs_stage_downgrade_rule(const char *dest, const char *current, const char *version,
                                  bool allow, vs_error *err)
{
    if (allow || !current || vs_version_cmp(current, version) <= 0)
        return VS_OK;
    /* the reason names the way out: no separate hint, one line */
    return vs_error_subj(err, VS_E_POLICY, dest,
                         "%s is older than the current %s (downgrade refused; "
                         "--allow-downgrade to force)",
                         version, current);
}

/*
 * A detached signature covers the bytes, not the version in the file name,
 * so an old signed release could be served under a newer name. Refuse a
 * package whose newest OpenPGP signature is older than the one the current
 * version of the same package was staged with. Unknown times (0) and another
 * package's tree decide nothing.
 */
vs_status vs_stage_rollback_rule(const char *dest, const vs_stage_facts *now,
                                 const vs_stage_facts *current, bool allow, vs_error *err)
{
    if (allow || !current || now->signed_at <= 0 || current->signed_at <= 0 ||
        strcmp(now->name, current->name) != 0 || now->signed_at >= current->signed_at)
        return VS_OK;
    char a[32], b[32];
    vs_cache_time_format(a, now->signed_at);
    vs_cache_time_format(b, current->signed_at);
    return vs_error_subj(err, VS_E_POLICY, dest,
                         "%s %s was signed %s, before the current %s (signed %s): rollback "
                         "refused (--allow-downgrade to force)",
                         now->name, now->version, a, current->version, b);
}

typedef struct ranked {
    const char *v;
    size_t i;
} ranked;

static int newest_first(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    int c = vs_version_cmp(y->v, x->v);
    return c ? c : strcmp(y->v, x->v);
}

size_t vs_stage_prune_select(const char *const *versions, size_t n, const char *current,
                             unsigned keep, bool *remove)
{
    for (size_t i = 0; i < n; i++)
        remove[i] = false;
    if (keep == 0 || n == 0)
        return 0;
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return 0; /* removing nothing is always safe */
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){ versions[i], i };
    qsort(r, n, sizeof *r, newest_first);
    size_t count = 0;
    for (size_t k = keep; k < n; k++) {
        if (current && strcmp(r[k].v, current) == 0)
            continue;
        remove[r[k].i] = true;
        count++;
    }
    free(r);
    return count;
}
