/*
 * vetstage/render.h - a staged layout into the two container build flows
 * (sidecar image, embedded multi-stage build) and a patched ECS task
 * definition.
 *
 * How the agent is started. The vendor's start script (default
 * `lacework-sidecar.sh`) is not trusted to `exec "$@"`: the demo one starts
 * the agent in the background and returns. Both the embedded image and the
 * ECS task definition therefore use the same exec-form entry point, which
 * needs `/bin/sh` in the application image and adds no file to the layout:
 *
 *     ["/bin/sh", "-c", "\"$0\" && exec \"$@\"", "<P>/<start script>", ARGS...]
 *
 * `sh -c` runs the start script ($0) with no arguments and, if it succeeds,
 * replaces itself with ARGS (the application's original entry point followed
 * by its original command), so the arguments reach the application exactly
 * as given - they are positional parameters, never re-parsed by a shell. A
 * start script that fails keeps the application from starting (fail closed).
 * A start script that itself ends in `exec "$@"` is also fine: it is called
 * without arguments.
 *
 * The embedded flow also checks the layout when the container starts (the
 * static checker is copied to /vetstage-check in the image); the sidecar flow
 * checks it as the sidecar's own command, and ECS `dependsOn ... SUCCESS`
 * gates the application on that check.
 */
#ifndef VETSTAGE_RENDER_H
#define VETSTAGE_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "vetstage/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the layout is mounted in the containers (--mount-path). */
#define VS_RENDER_DEFAULT_MOUNT "/var/lib/lacework-backup"
/* The agent's start script, relative to the layout (--start-script). */
#define VS_RENDER_DEFAULT_START_SCRIPT "lacework-sidecar.sh"
/* Name of the sidecar container added to the task definition. */
#define VS_RENDER_SIDECAR_NAME "datacollector-sidecar"
/* Name of the secret / environment variable carrying the agent token. */
#define VS_RENDER_TOKEN_NAME "LaceworkAccessToken"
#define VS_RENDER_SERVER_URL_NAME "LaceworkServerUrl"
/* Path of the static checker inside the rendered images. */
#define VS_RENDER_CHECKER_PATH "/vetstage-check"
/* The `sh -c` script of the rendered entry point (see above). */
#define VS_RENDER_ENTRY_SCRIPT "\"$0\" && exec \"$@\""

typedef enum vs_render_flow {
    VS_RENDER_SIDECAR = 1,  /* FROM scratch image exporting the layout as a VOLUME */
    VS_RENDER_EMBEDDED = 2  /* multi-stage: the layout copied into the application image */
} vs_render_flow;

typedef struct vs_render_opts {
    vs_render_flow flow;
    const char *layout;          /* flat layout, or versioned (then layout/current); required */
    const char *start_script;    /* relative to the layout; NULL: VS_RENDER_DEFAULT_START_SCRIPT */
    const char *mount_path;      /* absolute; NULL: VS_RENDER_DEFAULT_MOUNT */
    const char *app_image;       /* embedded: the application image (FROM line); required */
    const char *entrypoint_json; /* embedded: the image's ENTRYPOINT, a JSON array of strings */
    const char *cmd_json;        /* embedded: the image's CMD, a JSON array of strings */
    const char *checker;         /* vs_render_context: path of the static vetstage-check */
} vs_render_opts;

#define VS_RENDER_OPTS_INIT { VS_RENDER_SIDECAR, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/*
 * Render the Dockerfile of `opts->flow` for the layout `opts->layout`. The
 * layout is resolved (DIR/current for a versioned one), must contain the start
 * script as a regular file and must pass its manifest check; its
 * provenance.json gives the image labels. The Dockerfile expects a build
 * context holding `Dockerfile`, `layout/` (the tree) and `vetstage-check`, as
 * vs_render_context writes it. For the embedded flow at least one of
 * entrypoint_json / cmd_json must be given (setting ENTRYPOINT clears the
 * base image's CMD, so both are restated).
 *
 * Returns VS_OK with *out a NUL-terminated text the caller frees with free();
 * VS_E_USAGE (bad options, bad JSON, not a layout), VS_E_INTEGRITY (start
 * script missing, manifest check failed, provenance unreadable),
 * VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_render_dockerfile(char **out, const vs_render_opts *opts, vs_error *err);

/*
 * Write a complete build context to `context` (which must not exist, or be an
 * empty directory): Dockerfile, `layout/` (a copy of the resolved tree, modes
 * preserved, checked again against its manifest after copying) and
 * `vetstage-check` (copied from opts->checker, mode 0755). Everything is
 * built in a sibling temporary directory and renamed into place, so
 * `context` appears complete or not at all. Every check happens before
 * anything is written.
 *
 * Returns the statuses of vs_render_dockerfile, plus VS_E_USAGE when
 * `context` is not empty or the checker is not a regular file.
 */
VS_EXTERN vs_status vs_render_context(const char *context, const vs_render_opts *opts,
                                      vs_error *err);

typedef struct vs_ecs_opts {
    const char *app_container;          /* required: name of the application container */
    const char *sidecar_image;          /* required: image of the sidecar container */
    const char *image_entrypoint_json;  /* the app image's ENTRYPOINT (JSON array) if the task
                                           definition sets no entryPoint */
    const char *image_cmd_json;         /* the app image's CMD (JSON array) */
    const char *token_secret;           /* ARN for secrets LaceworkAccessToken, or NULL */
    const char *server_url;             /* environment LaceworkServerUrl, or NULL */
    const char *mount_path;             /* NULL: VS_RENDER_DEFAULT_MOUNT */
    const char *start_script;           /* NULL: VS_RENDER_DEFAULT_START_SCRIPT */
} vs_ecs_opts;

#define VS_ECS_OPTS_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/*
 * Patch an ECS task definition. `in`/`len` is JSON as `aws ecs
 * describe-task-definition` prints it ({"taskDefinition": {...}, "tags":
 * [...]}), a bare taskDefinition, or a register-task-definition input; at
 * most VS_MAX_TASK_DEF bytes. `name` is used in messages (the file name).
 * The result is JSON for `aws ecs register-task-definition --cli-input-json`:
 * read-only fields dropped, the reply's tags kept as `tags`, the sidecar
 * container added (essential false, no port mappings), and on the
 * application container: volumesFrom (read-only) and dependsOn (SUCCESS) on
 * the sidecar, the entry point described at the top of this file with the
 * original entry point and command as its `command`, the token as a secret
 * and the server URL as environment. Existing entries are kept. Running it
 * on its own output changes nothing.
 *
 * The original entry point is the container's entryPoint (plus its command);
 * without one, image_entrypoint_json / image_cmd_json describe the image (at
 * least one is needed).
 *
 * Returns VS_OK with *out (indented JSON and a newline; caller frees with
 * free()); VS_E_USAGE for malformed or oversized JSON, an unknown
 * container, a missing entry point, the token found in plain environment, or
 * bad options; VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_render_ecs_task(char **out, const uint8_t *in, size_t len,
                                       const char *name, const vs_ecs_opts *opts, vs_error *err);

/* The same, reading the task definition from the file `path`. */
VS_EXTERN vs_status vs_render_ecs_task_file(char **out, const char *path, const vs_ecs_opts *opts,
                                            vs_error *err);

/*
 * Write `text` to the file `path` atomically (temporary file in the same
 * directory, fsync, rename, fsync the directory), mode 0644.
 * Returns VS_OK, VS_E_USAGE (directory missing), VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_render_save(const char *path, const char *text, vs_error *err);

#ifdef __cplusplus
}
#endif
#endif
