/*
 * render/render_int.h - internals shared by the render sources.
 */
#ifndef VS_RENDER_INT_H
#define VS_RENDER_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "common/common_int.h"
#include "vetstage/render.h"
#include "vetstage/stage.h"

/* Longest --mount-path / --start-script accepted. */
#define VS_MAX_RENDER_PATH 512u
/* A start script read for its VERSION= line. */
#define VS_MAX_START_SCRIPT (1024u * 1024u)
/* Directory depth of a layout: stage's own limit when it names one, else
 * what paths of VS_MAX_ARCHIVE_PATH bytes can reach ("a/a/a/..."). */
#ifndef VS_MAX_PATH_DEPTH
#define VS_MAX_PATH_DEPTH (VS_MAX_ARCHIVE_PATH / 2u + 1u)
#endif
/* Longest image reference, ARN or URL option accepted. */
#define VS_MAX_RENDER_ARG 2048u

/* A resolved, checked layout and what its provenance says. */
typedef struct render_layout {
    char *tree;     /* the tree itself: DIR, or DIR/versions/V for a versioned layout */
    char *name;     /* package name */
    char *version;  /* package version */
    char *sha256;   /* package sha256 (64 hex) */
    char *signers;  /* signer fingerprints joined with ',' ("" if none recorded) */
    char *arch;     /* recorded architecture ("amd64", "arm64"), or NULL when none recorded */
    char digest[VS_LAYOUT_DIGEST_HEX]; /* the layout digest (vs_layout_digest) */
} render_layout;

/*
 * Resolve `dir` (flat or versioned), require `start_script` as a regular
 * file inside it (and, when it sets VERSION=V, V/datacollector), check it
 * against its manifest, compute its layout digest (which must equal
 * `expect_digest` when that is not NULL) and read its provenance.
 * VS_E_USAGE when dir is not a layout or expect_digest is malformed,
 * VS_E_INTEGRITY when damaged or of another digest.
 */
vs_status render_layout_open(render_layout *l, const char *dir, const char *start_script,
                             const char *expect_digest, vs_error *err);
/* The value of a top-level `VERSION=V` line of a start script (V a plain
 * version, optionally quoted), copied to `out` (VS_MAX_VERSION + 1 bytes);
 * false when the script sets none. */
bool render_script_version(const char *text, size_t len, char *out);
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

/* A container user as ECS and `docker image inspect` write it: NAME, UID,
 * NAME:GROUP or UID:GID, of [A-Za-z0-9._-], at most 64 bytes. */
bool render_user_ok(const char *u);
/* "", "root", "0", or either with a group: the user is root. */
bool render_user_is_root(const char *u);

/* A build context written whole or not at all (publish.c): state says what
 * is at PATH now (absent, an empty directory, or a context vetstage rendered
 * before, replaced only with force; anything else is refused, VS_E_USAGE);
 * begin makes PATH.tmp-XXXXXX beside PATH (tfd open on it), commit syncs it
 * and renames it over PATH (first removing an empty directory, or swapping
 * with the old context and then removing that), end removes whatever was
 * not committed and frees. path is borrowed. */
typedef enum render_target {
    RENDER_TARGET_ABSENT = 0,
    RENDER_TARGET_EMPTY,
    RENDER_TARGET_REPLACE
} render_target;
vs_status render_publish_state(const char *path, bool force, render_target *state,
                               vs_error *err);
typedef struct render_publish {
    const char *path;
    char *tmp, *base;
    int pfd, tfd;
    bool made;
} render_publish;
vs_status render_publish_begin(render_publish *p, const char *path, vs_error *err);
vs_status render_publish_commit(render_publish *p, render_target state, vs_error *err);
void render_publish_end(render_publish *p);

/* The full path of the start script inside the mount: "<P>/<script>" (malloc'd). */
char *render_script_path(const char *mount, const char *script);
/* dir without its trailing slashes ("ctx/" and "ctx" name the same place);
 * malloc'd, NULL when out of memory. (publish.c) */
char *render_trim_dir(const char *dir);

#endif
