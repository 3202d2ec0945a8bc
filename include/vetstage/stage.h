/*
 * vetstage/stage.h - a vetted package from the cache into a volume layout,
 * and the layout check.
 */
#ifndef VETSTAGE_STAGE_H
#define VETSTAGE_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "vetstage/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_stage_opts {
    bool flat;             /* write the tree straight to an absent or empty dest */
    bool allow_downgrade;  /* allow a version lower than current */
    uint64_t max_unpacked; /* 0: VS_DEFAULT_MAX_UNPACKED */
    uint64_t max_entries;  /* 0: VS_DEFAULT_MAX_ENTRIES */
} vs_stage_opts;

#define VS_STAGE_OPTS_INIT { false, false, 0, 0 }

typedef struct vs_stage_result {
    char path[4096];  /* the staged tree (DIR/versions/V or DIR) */
    uint64_t files;
    uint64_t bytes;
} vs_stage_result;

/*
 * Stage the cached "NAME@VERSION" into `dest`: re-verify the cached package,
 * extract safely, write the manifest and provenance, switch `current`.
 * Returns VS_OK, VS_E_USAGE, VS_E_VERIFY (cache object altered, signature no
 * longer valid), VS_E_UNSAFE (archive refused; nothing changed),
 * VS_E_POLICY (downgrade), VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_stage_ref(vs_ctx *ctx, const char *ref, const char *dest,
                                 const vs_stage_opts *opts, vs_stage_result *res, vs_error *err);

/* Called by the layout check for each problem found. */
typedef void (*vs_layout_problem_cb)(const char *path, const char *reason, void *payload);

/*
 * Check a staged tree (flat, or versioned: then DIR/current) against its
 * manifest: every file matches, nothing extra, modes as recorded.
 * VS_E_INTEGRITY when not; VS_E_USAGE when DIR is not a layout.
 * Needs no context: the static checker runs it too.
 */
VS_EXTERN vs_status vs_layout_check(const char *dir, vs_layout_problem_cb cb, void *payload,
                                    size_t *nproblems, vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
