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
 * With fail_open the script is VS_RENDER_ENTRY_SCRIPT_OPEN instead: a start
 * script that fails is reported on stderr and the application starts anyway
 * (the agent does not run); ECS then depends on the sidecar with START, so
 * the checker's verdict is only logged. The default is fail closed.
 *
 * The embedded flow also checks the layout when the container starts (the
 * static checker is copied to /vetstage-check in the image); the sidecar flow
 * checks it as the sidecar's own command, and ECS `dependsOn ... SUCCESS`
 * gates the application on that check. Both pass the checker the layout
 * digest (vs_layout_digest) of the layout rendered: `vetstage-check
 * --manifest-sha256 HEX P`, so a layout changed after render (in the build
 * context, in a registry) is refused at start.
 *
 * What the vendor's agent needs (and render makes explicit): root (a
 * non-root application user is refused unless as_root, which runs the
 * application as root too), writable /var/lib/lacework and /var/log/lacework
 * (task volumes under a read-only root file system), and no self-upgrade
 * (the LaceworkConfig environment variable carries "autoupgrade": "disable"
 * so that the binary that runs is the one vetted).
 */
#ifndef VETSTAGE_RENDER_H
#define VETSTAGE_RENDER_H

#include <stdbool.h>
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
/* The same with fail_open: a failing start script does not stop the application. */
#define VS_RENDER_ENTRY_SCRIPT_OPEN                                                             \
    "\"$0\" || echo \"vetstage: agent start script $0 failed (exit $?); starting the "          \
    "application without the agent (--fail-open)\" >&2; exec \"$@\""
/* The environment variable holding the agent's JSON configuration, and the
 * setting that keeps the agent from replacing itself. */
#define VS_RENDER_CONFIG_NAME "LaceworkConfig"
#define VS_RENDER_NO_UPGRADE_KEY "autoupgrade"
#define VS_RENDER_NO_UPGRADE_VALUE "disable"
/* Where the agent writes inside the application container; the task
 * volumes render adds under a read-only root file system. */
#define VS_RENDER_AGENT_LIB "/var/lib/lacework"
#define VS_RENDER_AGENT_LOG "/var/log/lacework"
#define VS_RENDER_LIB_VOLUME "vetstage-lacework-lib"
#define VS_RENDER_LOG_VOLUME "vetstage-lacework-log"
/* OCI label carrying the layout digest. */
#define VS_RENDER_DIGEST_LABEL "io.vetstage.layout-digest"

typedef enum vs_render_flow {
    VS_RENDER_SIDECAR = 1,  /* FROM scratch image exporting the layout as a VOLUME */
    VS_RENDER_EMBEDDED = 2  /* multi-stage: the layout copied into the application image */
} vs_render_flow;

/* The layout of vs_render_opts this header describes (see common.h, "Option structs"). */
#define VS_RENDER_OPTS_VERSION 1u

typedef struct vs_render_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    vs_render_flow flow;
    const char *layout;          /* flat layout, or versioned (then layout/current); required */
    const char *start_script;    /* relative to the layout; NULL: VS_RENDER_DEFAULT_START_SCRIPT */
    const char *mount_path;      /* absolute; NULL: VS_RENDER_DEFAULT_MOUNT */
    const char *app_image;       /* embedded: the application image (FROM line); required */
    const char *entrypoint_json; /* embedded: the image's ENTRYPOINT, a JSON array of strings */
    const char *cmd_json;        /* embedded: the image's CMD, a JSON array of strings */
    const char *checker;         /* vs_render_context: path of the static vetstage-check */
    const char *manifest_sha256; /* the layout digest to expect (64 hex), or NULL */
    const char *app_user;        /* embedded: the image's user as `docker image inspect` shows
                                    it ("" or NULL: root); non-root needs as_root */
    bool as_root;                /* embedded: USER root in the final stage */
    bool fail_open;              /* embedded: a failing check or start script does not stop
                                    the application (see above) */
    bool force;                  /* vs_render_context: replace a build context vetstage
                                    rendered before (only such a one) */
} vs_render_opts;

#define VS_RENDER_OPTS_INIT                                                                    \
    { VS_RENDER_OPTS_VERSION, VS_RENDER_SIDECAR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  \
      NULL, false, false, false }

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
 * The layout digest of the layout goes into the checker's command
 * (`/vetstage-check --manifest-sha256 HEX P`) and the label
 * VS_RENDER_DIGEST_LABEL; with opts->manifest_sha256 the layout must have
 * that digest. When the start script sets `VERSION=V` (as the vendor's does),
 * V/datacollector must be in the layout. The embedded image gets
 * `ENV LaceworkConfig={"autoupgrade":"disable"}` (the agent reads it; a
 * config.json in the image would keep the start script from writing the
 * token), `USER root` with as_root, and the fail-open entry script with
 * fail_open.
 *
 * Returns VS_OK with *out a NUL-terminated text the caller frees with free();
 * VS_E_USAGE (bad options, bad JSON, not a layout, a non-root app_user
 * without as_root), VS_E_INTEGRITY (start script missing, manifest check
 * failed, provenance unreadable, another layout digest than expected, the
 * script's VERSION folder missing), VS_E_INTERNAL.
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
 * With opts->force, `context` may also be a build context vetstage rendered
 * before (Dockerfile, layout/ with .vetstage/, vetstage-check and nothing
 * else; or a multi-arch one): the new one is built beside it, swapped into
 * place (renameat2 RENAME_EXCHANGE, else the old one moved aside first) and
 * the old one removed. Anything else is never replaced, force or not.
 *
 * Returns the statuses of vs_render_dockerfile, plus VS_E_USAGE when
 * `context` is not empty (and not replaceable) or the checker is not a
 * regular file.
 */
VS_EXTERN vs_status vs_render_context(const char *context, const vs_render_opts *opts,
                                      vs_error *err);

/* The architectures of a multi-arch sidecar (render/multiarch.c). */
typedef enum vs_render_arch {
    VS_RENDER_AMD64 = 0,
    VS_RENDER_ARM64 = 1
} vs_render_arch;
#define VS_RENDER_NARCH 2

/* "amd64" / "arm64". */
VS_EXTERN const char *vs_render_arch_name(vs_render_arch a);

/*
 * The architecture of the layout `layout` (resolved and checked as
 * vs_render_dockerfile does, against `expect_digest` when not NULL): the
 * "arch" stage recorded in provenance.json,
 * else the machine type of its ELF files (x86-64: amd64, aarch64: arm64),
 * which must all agree. VS_E_USAGE when it cannot be told (no ELF file,
 * both kinds, another machine), plus the statuses of vs_render_dockerfile.
 */
VS_EXTERN vs_status vs_render_layout_arch(vs_render_arch *arch, const char *layout,
                                          const char *start_script, const char *expect_digest,
                                          vs_error *err);

/*
 * The multi-arch sidecar: `per_layout` holds the sidecar options of one
 * layout per architecture (in any order; nlayouts must be VS_RENDER_NARCH;
 * each with its own layout and manifest_sha256), `checkers[VS_RENDER_AMD64]`
 * and `checkers[VS_RENDER_ARM64]` the static checker built for each (NULL:
 * not built; the options' checker is ignored). Writes `context` (absent or
 * empty; with per_layout[0].force also a context vetstage rendered before,
 * replaced as by vs_render_context) as CONTEXT/amd64/ and CONTEXT/arm64/ - each a build context exactly
 * as vs_render_context writes it - and CONTEXT/build.sh, which builds both
 * images with `buildah bud --platform linux/ARCH` and joins them with
 * `buildah manifest create/add` into one manifest list. All at once or
 * nothing.
 *
 * VS_E_USAGE: not two layouts, two layouts of one architecture, an
 * architecture that cannot be told, a checker missing or built for another
 * machine, `context` not empty; plus the statuses of vs_render_context.
 */
VS_EXTERN vs_status vs_render_multiarch_context(const char *context,
                                                const vs_render_opts *per_layout, size_t nlayouts,
                                                const char *const *checkers, vs_error *err);

/* The layout of vs_ecs_opts this header describes (see common.h, "Option structs"). */
#define VS_ECS_OPTS_VERSION 1u

typedef struct vs_ecs_opts {
    unsigned opts_version; /* set by the _INIT macro below (common.h, "Option structs") */
    const char *app_container;          /* required: name of the application container */
    const char *sidecar_image;          /* required: REPO@sha256:HEX (a tag needs allow_tag) */
    const char *image_entrypoint_json;  /* the app image's ENTRYPOINT (JSON array) if the task
                                           definition sets no entryPoint */
    const char *image_cmd_json;         /* the app image's CMD (JSON array) */
    const char *token_secret;           /* ARN for secrets LaceworkAccessToken, or NULL */
    const char *server_url;             /* environment LaceworkServerUrl, or NULL */
    const char *mount_path;             /* NULL: VS_RENDER_DEFAULT_MOUNT */
    const char *start_script;           /* NULL: VS_RENDER_DEFAULT_START_SCRIPT */
    const char *manifest_sha256;        /* layout digest for the sidecar's command, or NULL;
                                           with `layout`: the digest the layout must have */
    const char *arch;                   /* the layout's architecture ("amd64", "arm64"), or
                                           NULL; must match runtimePlatform.cpuArchitecture */
    const char *layout;                 /* vs_render_ecs_task_file only: the layout the
                                           sidecar image carries (checked like render
                                           sidecar; gives manifest_sha256 and arch) */
    bool as_root;                       /* set the application container's user to root */
    bool fail_open;                     /* dependsOn START and the fail-open entry script */
    bool allow_tag;                     /* accept a sidecar image by tag */
    bool allow_autoupgrade;             /* accept a LaceworkConfig that turns autoupgrade on */
    bool no_writable_paths;             /* refuse instead of adding the agent's task volumes */
} vs_ecs_opts;

#define VS_ECS_OPTS_INIT                                                                       \
    { VS_ECS_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,       \
      false, false, false, false, false }

/*
 * Patch an ECS task definition. `in`/`len` is JSON as `aws ecs
 * describe-task-definition` prints it ({"taskDefinition": {...}, "tags":
 * [...]}), a bare taskDefinition, or a register-task-definition input; at
 * most VS_MAX_TASK_DEF bytes. `name` is used in messages (the file name).
 * The result is JSON for `aws ecs register-task-definition --cli-input-json`:
 * read-only fields dropped, the reply's tags kept as `tags`, and
 * - the sidecar container, exactly ours (built from nothing, whatever a
 *   container of that name held: only memory, memoryReservation, cpu and
 *   logConfiguration are kept): name, image, essential false, entryPoint
 *   ["/vetstage-check"] and command [("--manifest-sha256", HEX,) P];
 * - on the application container: volumesFrom the sidecar exactly once,
 *   read-only; dependsOn it exactly once, SUCCESS (START with fail_open);
 *   the entry point described at the top of this file with the original
 *   entry point and command as its `command`; the token as a secret and the
 *   server URL as environment; LaceworkConfig with "autoupgrade": "disable"
 *   (merged into an existing JSON object, its other keys kept); user root
 *   with as_root; with readonlyRootFilesystem the task volumes
 *   VS_RENDER_LIB_VOLUME / VS_RENDER_LOG_VOLUME (no host path) mounted
 *   read-write at VS_RENDER_AGENT_LIB / VS_RENDER_AGENT_LOG.
 * Other entries are kept. Running it on its own output changes nothing.
 *
 * The original entry point is the container's entryPoint (plus its command);
 * without one, image_entrypoint_json / image_cmd_json describe the image (at
 * least one is needed).
 *
 * Returns VS_OK with *out (indented JSON and a newline; caller frees with
 * free()); VS_E_USAGE for malformed or oversized JSON, an unknown
 * container, a missing entry point, the token found in plain environment, a
 * sidecar image by tag without allow_tag, a non-root user without as_root,
 * a read-only root file system with no_writable_paths, a LaceworkConfig
 * that is not a JSON object or turns autoupgrade on (or sits in secrets)
 * without allow_autoupgrade, a mount of the application container at or
 * below the mount path, a cpuArchitecture other than `arch`, or bad
 * options; VS_E_INTERNAL.
 */
VS_EXTERN vs_status vs_render_ecs_task(char **out, const uint8_t *in, size_t len,
                                       const char *name, const vs_ecs_opts *opts, vs_error *err);

/* The same, reading the task definition from the file `path`. With
 * opts->layout, the layout is opened and checked first as for render sidecar
 * (start script, manifest, VERSION folder, digest against
 * opts->manifest_sha256 if given: VS_E_INTEGRITY), and its digest and
 * recorded architecture are used. */
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
