/*
 * render/render_int.h - internals shared by the render sources.
 */
#ifndef VS_RENDER_INT_H
#define VS_RENDER_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "common/common_int.h"
#include "vetstage/render.h"

/* Longest --mount-path / --start-script accepted. */
#define VS_MAX_RENDER_PATH 512u
/* Longest image reference, ARN or URL option accepted. */
#define VS_MAX_RENDER_ARG 2048u

/* A resolved, checked layout and what its provenance says. */
typedef struct render_layout {
    char *tree;     /* the tree itself: DIR, or DIR/versions/V for a versioned layout */
    char *name;     /* package name */
    char *version;  /* package version */
    char *sha256;   /* package sha256 (64 hex) */
    char *signers;  /* signer fingerprints joined with ',' ("" if none recorded) */
} render_layout;

/*
 * Resolve `dir` (flat or versioned), require `start_script` as a regular
 * file inside it, check it against its manifest and read its provenance.
 * VS_E_USAGE when dir is not a layout, VS_E_INTEGRITY when damaged.
 */
vs_status render_layout_open(render_layout *l, const char *dir, const char *start_script,
                             vs_error *err);
void render_layout_free(render_layout *l);
/* Manifest check of a tree (used again on the copy in a build context). */
vs_status render_layout_check(const char *tree, vs_error *err);
/* Copy the tree below `src` into the new directory `dst_name` of `dst_dirfd`
 * (files, directories and relative symlinks; modes preserved; fsynced). */
vs_status render_copy_tree(const char *src, int dst_dirfd, const char *dst_name, vs_error *err);

/* Copy the regular file `src` to the new file `dst_name` in `dst_dirfd`. */
vs_status render_copy_file(const char *src, int dst_dirfd, const char *dst_name, mode_t mode,
                           vs_error *err);

/* Absolute path made of [A-Za-z0-9._/+-], no "." or ".." component, no
 * trailing or double slash, not "/". */
bool render_valid_mount(const char *p);
/* Relative path inside the layout, same alphabet, no "." / ".." components. */
bool render_valid_relpath(const char *p);

/* Parse `json` (named `what` in messages) as an array of strings;
 * *out is a new reference. VS_E_USAGE if anything else. */
vs_status render_parse_argv(json_t **out, const char *json, const char *what, vs_error *err);
/* True when `a` is an array whose elements are all strings. */
bool render_is_argv(const json_t *a);

/* The full path of the start script inside the mount: "<P>/<script>" (malloc'd). */
char *render_script_path(const char *mount, const char *script);

#endif
