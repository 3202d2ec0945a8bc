/* cli/cmd_render.c - `vetstage render sidecar|embedded|ecs-task`. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
    "usage: vetstage render sidecar  --layout DIR [--mount-path P] [--start-script PATH]\n"
    "                                [--manifest-sha256 HEX]\n"
    "                                [--out CONTEXT [--checker PATH] [--force]]\n"
    "       vetstage render sidecar  --layout DIR --layout DIR --out CONTEXT [...]\n"
    "       vetstage render embedded --layout DIR --app-image IMAGE [--entrypoint JSON]\n"
    "                                [--cmd JSON] [--app-user USER] [--as-root] [--fail-open]\n"
    "                                [--mount-path P] [--start-script PATH]\n"
    "                                [--manifest-sha256 HEX]\n"
    "                                [--out CONTEXT [--checker PATH] [--force]]\n"
    "       vetstage render ecs-task --task-def FILE --app-container NAME --sidecar-image IMAGE\n"
    "                                [--layout DIR] [--manifest-sha256 HEX]\n"
    "                                [--image-entrypoint JSON] [--image-cmd JSON]\n"
    "                                [--token-secret ARN] [--server-url URL] [--mount-path P]\n"
    "                                [--start-script PATH] [--as-root] [--fail-open]\n"
    "                                [--allow-tag] [--allow-autoupgrade] [--no-writable-paths]\n"
    "                                [--out FILE]\n"
    "\n"
    "  sidecar   Dockerfile of a FROM scratch image that carries the layout as a VOLUME at P\n"
    "            (default /var/lib/lacework-backup); its command,\n"
    "            /vetstage-check --manifest-sha256 DIGEST P, exits 0 only when the layout\n"
    "            has the layout digest it was rendered with and matches its manifest.\n"
    "  embedded  multi-stage Dockerfile copying the layout into IMAGE; the new entry point\n"
    "            checks the layout (pinned by its digest), runs the start script, then execs\n"
    "            the image's entry point and command (give them with --entrypoint/--cmd as\n"
    "            JSON arrays, '[]' for none; setting ENTRYPOINT clears the image's CMD).\n"
    "            IMAGE needs /bin/sh. The image gets LaceworkConfig={\"autoupgrade\":\"disable\"}.\n"
    "  ecs-task  the task definition (aws ecs describe-task-definition output, a bare\n"
    "            taskDefinition or register input) made ready for\n"
    "            'aws ecs register-task-definition --cli-input-json': container\n"
    "            datacollector-sidecar made exactly ours (essential false, entry point\n"
    "            /vetstage-check [--manifest-sha256 DIGEST] P, nothing else it runs or mounts\n"
    "            kept), and on the application container volumesFrom it once (read-only),\n"
    "            dependsOn it once (SUCCESS), the token as a secret LaceworkAccessToken,\n"
    "            LaceworkServerUrl, LaceworkConfig with \"autoupgrade\": \"disable\" (merged into\n"
    "            an existing one), and the entry point\n"
    "              [\"/bin/sh\", \"-c\", \"\\\"$0\\\" && exec \\\"$@\\\"\", \"P/START-SCRIPT\"]\n"
    "            with the original entry point + command as command (from the task\n"
    "            definition, else --image-entrypoint/--image-cmd). Running it again on its\n"
    "            own output changes nothing.\n"
    "\n"
    "  --layout DIR         flat layout, or versioned (then DIR/current); it must hold the\n"
    "                       start script (and VERSION/datacollector when the script sets\n"
    "                       VERSION=) and pass its manifest check, else exit 6. For ecs-task:\n"
    "                       the layout in the sidecar image; its digest goes into the\n"
    "                       sidecar's command, its architecture must match the task's\n"
    "                       runtimePlatform.cpuArchitecture. For sidecar: once per\n"
    "                       architecture (amd64, arm64) for a multi-arch context:\n"
    "                       CONTEXT/amd64/, CONTEXT/arm64/ and CONTEXT/build.sh, which\n"
    "                       builds both images and their manifest list (buildah); the\n"
    "                       arm64 checker is arm64/vetstage-check next to this program\n"
    "  --manifest-sha256 HEX  the layout digest to expect (exit 6 if the layout has\n"
    "                       another; default: the one this home recorded when it staged\n"
    "                       DIR); for ecs-task without --layout, the digest the\n"
    "                       sidecar's checker requires\n"
    "  --start-script PATH  inside the layout (default lacework-sidecar.sh)\n"
    "  --sidecar-image IMAGE  by digest, REPO@sha256:HEX\n"
    "  --allow-tag          accept a sidecar image by tag (it can change under a service)\n"
    "  --app-user USER      (embedded) the image's user as 'docker image inspect' shows it\n"
    "  --as-root            the agent's start script must run as root (the vendor requires\n"
    "                       it): run the application container as root (ecs-task: user root;\n"
    "                       embedded: USER root). A non-root user without it: exit 2\n"
    "  --fail-open          a failing start script (or layout check) does not stop the\n"
    "                       application: it starts without the agent (ecs-task: dependsOn\n"
    "                       START, the checker's verdict only logged). Default: fail closed\n"
    "  --allow-autoupgrade  accept a LaceworkConfig that turns the agent's self-upgrade on\n"
    "  --no-writable-paths  (ecs-task) with readonlyRootFilesystem, refuse rather than add\n"
    "                       task volumes at /var/lib/lacework and /var/log/lacework\n"
    "  --out CONTEXT        write a complete build context (Dockerfile, layout/,\n"
    "                       vetstage-check) to CONTEXT, which must be absent or empty\n"
    "                       (or, with --force, a build context rendered before);\n"
    "                       without it the Dockerfile goes to stdout\n"
    "  --force              replace CONTEXT when it is a build context vetstage\n"
    "                       rendered before (the new one is built beside it, swapped in,\n"
    "                       the old one removed); a folder of anything else is refused\n"
    "                       all the same (exit 2, nothing changed)\n"
    "  --checker PATH       the static layout checker (default: vetstage-check next to\n"
    "                       this program)\n"
    "  --out FILE           (ecs-task) write the JSON to FILE atomically, not to stdout\n"
    "Options: --json, -q, -v, --help.\n"
    "Exit codes: 0 ok, 1 internal, 2 usage (bad arguments, malformed task definition,\n"
    "unknown container, token in plain environment, non-root user without --as-root,\n"
    "sidecar image by tag, self-upgrade turned on, architecture mismatch), 6 integrity\n"
    "(layout damaged, of another digest, or without its start script or VERSION folder;\n"
    "nothing written).\n";

enum {
    OPT_LAYOUT = CLI_OPT_FIRST_COMMAND,
    OPT_MOUNT,
    OPT_SCRIPT,
    OPT_OUT,
    OPT_CHECKER,
    OPT_APP_IMAGE,
    OPT_ENTRYPOINT,
    OPT_CMD,
    OPT_TASK_DEF,
    OPT_APP_CONTAINER,
    OPT_SIDECAR_IMAGE,
    OPT_IMAGE_ENTRYPOINT,
    OPT_IMAGE_CMD,
    OPT_TOKEN_SECRET,
    OPT_SERVER_URL,
    OPT_MANIFEST_SHA256,
    OPT_APP_USER,
    OPT_AS_ROOT,
    OPT_FAIL_OPEN,
    OPT_ALLOW_TAG,
    OPT_ALLOW_AUTOUPGRADE,
    OPT_NO_WRITABLE_PATHS,
    OPT_FORCE,
};
#define OPT_LAST OPT_FORCE

typedef struct args {
    const char *v[OPT_LAST - OPT_LAYOUT + 1];
    const char *layouts[VS_RENDER_NARCH + 1]; /* sidecar: every --layout (multi-arch) */
    size_t nlayouts;
} args;

#define ARG(a, o) ((a)->v[(o)-OPT_LAYOUT])

static const char *const optnames[] = {
    "layout",        "mount-path",    "start-script",     "out",       "checker",
    "app-image",     "entrypoint",    "cmd",              "task-def",  "app-container",
    "sidecar-image", "image-entrypoint", "image-cmd",     "token-secret", "server-url",
    "manifest-sha256", "app-user",    "as-root",          "fail-open", "allow-tag",
    "allow-autoupgrade", "no-writable-paths", "force",
};

/* Which options each subcommand accepts (bit per option). */
#define B(o) (1u << ((o)-OPT_LAYOUT))
static const unsigned sidecar_opts = B(OPT_LAYOUT) | B(OPT_MOUNT) | B(OPT_SCRIPT) | B(OPT_OUT) |
                                     B(OPT_CHECKER) | B(OPT_MANIFEST_SHA256) | B(OPT_FORCE);
static const unsigned embedded_opts = B(OPT_LAYOUT) | B(OPT_MOUNT) | B(OPT_SCRIPT) | B(OPT_OUT) |
                                      B(OPT_CHECKER) | B(OPT_APP_IMAGE) | B(OPT_ENTRYPOINT) |
                                      B(OPT_CMD) | B(OPT_MANIFEST_SHA256) | B(OPT_APP_USER) |
                                      B(OPT_AS_ROOT) | B(OPT_FAIL_OPEN) | B(OPT_FORCE);
static const unsigned ecs_opts = B(OPT_TASK_DEF) | B(OPT_APP_CONTAINER) | B(OPT_SIDECAR_IMAGE) |
                                 B(OPT_IMAGE_ENTRYPOINT) | B(OPT_IMAGE_CMD) |
                                 B(OPT_TOKEN_SECRET) | B(OPT_SERVER_URL) | B(OPT_MOUNT) |
                                 B(OPT_SCRIPT) | B(OPT_OUT) | B(OPT_LAYOUT) |
                                 B(OPT_MANIFEST_SHA256) | B(OPT_AS_ROOT) | B(OPT_FAIL_OPEN) |
                                 B(OPT_ALLOW_TAG) | B(OPT_ALLOW_AUTOUPGRADE) |
                                 B(OPT_NO_WRITABLE_PATHS);

/* render sidecar: --layout once per architecture (render/multiarch.c).
 * Returns -1 to go on, else the exit code. */
static int add_layout(cli *c, args *a, const char *dir)
{
    if (a->nlayouts >= VS_RENDER_NARCH)
        return cli_usage_error(c, "--layout given more than %d times (one per architecture: "
                                  "amd64 and arm64)", VS_RENDER_NARCH);
    a->layouts[a->nlayouts++] = dir;
    if (!ARG(a, OPT_LAYOUT))
        ARG(a, OPT_LAYOUT) = dir;
    return -1;
}

/* Returns -1 to go on, else the exit code. */
static int parse(cli *c, int argc, char **argv, unsigned allowed, args *a)
{
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "layout", required_argument, NULL, OPT_LAYOUT },
        { "mount-path", required_argument, NULL, OPT_MOUNT },
        { "start-script", required_argument, NULL, OPT_SCRIPT },
        { "out", required_argument, NULL, OPT_OUT },
        { "checker", required_argument, NULL, OPT_CHECKER },
        { "app-image", required_argument, NULL, OPT_APP_IMAGE },
        { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
        { "cmd", required_argument, NULL, OPT_CMD },
        { "task-def", required_argument, NULL, OPT_TASK_DEF },
        { "app-container", required_argument, NULL, OPT_APP_CONTAINER },
        { "sidecar-image", required_argument, NULL, OPT_SIDECAR_IMAGE },
        { "image-entrypoint", required_argument, NULL, OPT_IMAGE_ENTRYPOINT },
        { "image-cmd", required_argument, NULL, OPT_IMAGE_CMD },
        { "token-secret", required_argument, NULL, OPT_TOKEN_SECRET },
        { "server-url", required_argument, NULL, OPT_SERVER_URL },
        { "manifest-sha256", required_argument, NULL, OPT_MANIFEST_SHA256 },
        { "app-user", required_argument, NULL, OPT_APP_USER },
        { "as-root", no_argument, NULL, OPT_AS_ROOT },
        { "fail-open", no_argument, NULL, OPT_FAIL_OPEN },
        { "allow-tag", no_argument, NULL, OPT_ALLOW_TAG },
        { "allow-autoupgrade", no_argument, NULL, OPT_ALLOW_AUTOUPGRADE },
        { "no-writable-paths", no_argument, NULL, OPT_NO_WRITABLE_PATHS },
        { "force", no_argument, NULL, OPT_FORCE },
        { 0, 0, 0, 0 },
    };
    memset(a, 0, sizeof *a);
    cli_getopt_reset();
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
        if (opt >= OPT_LAYOUT && opt <= OPT_LAST) {
            if (!(allowed & B(opt)))
                return cli_usage_error(c, "--%s does not apply here (see vetstage render --help)",
                                       optnames[opt - OPT_LAYOUT]);
            if (opt == OPT_LAYOUT && allowed == sidecar_opts) {
                int r = add_layout(c, a, optarg);
                if (r >= 0)
                    return r;
                continue;
            }
            if (ARG(a, opt))
                return cli_usage_error(c, "--%s given twice", optnames[opt - OPT_LAYOUT]);
            ARG(a, opt) = optarg ? optarg : "1";
            continue;
        }
        int r = cli_opt_rest(c, opt, usage_text, (char *)NULL);
        if (r >= 0)
            return r;
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* vetstage-check next to the running program. */
static char *default_checker(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    slash[1] = '\0';
    size_t len = strlen(self) + sizeof "vetstage-check";
    char *r = malloc(len);
    if (r)
        snprintf(r, len, "%svetstage-check", self);
    return r;
}

/* Say what the choices that change how the application runs did. */
static void notes(cli *c, bool as_root, bool fail_open)
{
    if (as_root)
        cli_info(c, "note: --as-root: the application runs as root, as the agent's start script "
                    "must (the vendor requires it)\n");
    if (fail_open)
        cli_info(c, "note: --fail-open: the application starts even when the agent cannot "
                    "(the layout check and a failed start script are only logged)\n");
}

/* The layout digest to expect: --manifest-sha256 when given, else what this
 * home recorded when it staged the layout (none for a layout staged
 * elsewhere: then its manifest alone is checked). Returns -1 to go on. */
static int expected_digest(cli *c, const char *layout, const char *given,
                           char hex[VS_LAYOUT_DIGEST_HEX], const char **out)
{
    *out = given;
    if (given || !layout)
        return -1;
    int rc = 0;
    vs_ctx *ctx = cli_ctx_if_home(c, &rc);
    if (rc)
        return rc;
    if (!ctx)
        return -1;
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_layout_recorded_digest(hex, ctx, layout, &err);
    if (st == VS_OK) {
        *out = hex;
        return -1;
    }
    if (st == VS_E_USAGE && err.detail == VS_DETAIL_NOT_FOUND)
        return -1;
    return cli_fail(c, &err);
}

static int do_multiarch(cli *c, const args *a);

/* --out is never inside the vetstage home (it would damage the cache or
 * the trust store). -1 when fine, else the exit code. */
static int out_outside_home(cli *c, const char *out)
{
    if (!out)
        return -1;
    int rc = 0;
    vs_ctx *ctx = cli_ctx_if_home(c, &rc);
    if (rc)
        return rc;
    if (!ctx || !vs_path_within(out, vs_ctx_home(ctx)))
        return -1;
    vs_error err;
    cli_error_usage(&err, out, "is inside the vetstage home");
    snprintf(err.hint, sizeof err.hint, "write it outside the home %s (--out)", vs_ctx_home(ctx));
    return cli_fail(c, &err);
}

static int do_docker(cli *c, vs_render_flow flow, int argc, char **argv)
{
    args a;
    int rc = parse(c, argc, argv, flow == VS_RENDER_SIDECAR ? sidecar_opts : embedded_opts, &a);
    if (rc >= 0)
        return rc;
    if ((rc = out_outside_home(c, ARG(&a, OPT_OUT))) >= 0)
        return rc;
    if (a.nlayouts > 1)
        return do_multiarch(c, &a);
    if (!ARG(&a, OPT_LAYOUT))
        return cli_usage_error(c, "--layout DIR is required");
    if (flow == VS_RENDER_EMBEDDED && !ARG(&a, OPT_APP_IMAGE))
        return cli_usage_error(c, "--app-image IMAGE is required");
    if (ARG(&a, OPT_CHECKER) && !ARG(&a, OPT_OUT))
        return cli_usage_error(c, "--checker only applies with --out CONTEXT");
    if (ARG(&a, OPT_FORCE) && !ARG(&a, OPT_OUT))
        return cli_usage_error(c, "--force only applies with --out CONTEXT");
    vs_render_opts o = VS_RENDER_OPTS_INIT;
    o.flow = flow;
    o.layout = ARG(&a, OPT_LAYOUT);
    o.mount_path = ARG(&a, OPT_MOUNT);
    o.start_script = ARG(&a, OPT_SCRIPT);
    o.app_image = ARG(&a, OPT_APP_IMAGE);
    o.entrypoint_json = ARG(&a, OPT_ENTRYPOINT);
    o.cmd_json = ARG(&a, OPT_CMD);
    char recorded[VS_LAYOUT_DIGEST_HEX];
    rc = expected_digest(c, o.layout, ARG(&a, OPT_MANIFEST_SHA256), recorded, &o.manifest_sha256);
    if (rc >= 0)
        return rc;
    o.app_user = ARG(&a, OPT_APP_USER);
    o.as_root = ARG(&a, OPT_AS_ROOT) != NULL;
    o.fail_open = ARG(&a, OPT_FAIL_OPEN) != NULL;
    o.force = ARG(&a, OPT_FORCE) != NULL;
    vs_error err = VS_ERROR_INIT;
    const char *out = ARG(&a, OPT_OUT);
    if (!out) {
        char *text = NULL;
        if (vs_render_dockerfile(&text, &o, &err) != VS_OK)
            return cli_fail(c, &err);
        notes(c, o.as_root, o.fail_open);
        if (c->json) {
            json_t *j = json_object();
            json_object_set_new(j, "dockerfile", json_string(text));
            free(text);
            return cli_json_ok(c, j);
        }
        fputs(text, stdout);
        free(text);
        return 0;
    }
    char *checker = ARG(&a, OPT_CHECKER) ? strdup(ARG(&a, OPT_CHECKER)) : default_checker();
    if (!checker)
        return cli_usage_error(c, "cannot locate vetstage-check: give --checker PATH");
    o.checker = checker;
    vs_status st = vs_render_context(out, &o, &err);
    free(checker);
    if (st != VS_OK)
        return cli_fail(c, &err);
    notes(c, o.as_root, o.fail_open);
    cli_info(c, "build context written to %s (Dockerfile, layout/, vetstage-check)\n", out);
    json_t *j = json_object();
    json_object_set_new(j, "context", json_string(out));
    return cli_json_ok(c, j);
}

/* render sidecar with one --layout per architecture (render/multiarch.c):
 * --checker is the checker for this machine's architecture; the other one is
 * ARCH/vetstage-check next to this program (make builds build/arm64/). Each
 * layout is expected to have the digest this home recorded when it staged it. */
static int do_multiarch(cli *c, const args *a)
{
    if (!ARG(a, OPT_OUT))
        return cli_usage_error(c, "several --layout need --out CONTEXT (a build context per "
                                  "architecture)");
    if (ARG(a, OPT_MANIFEST_SHA256))
        return cli_usage_error(c, "--manifest-sha256 applies to one --layout only (with one "
                                  "layout per architecture, each is checked against what this "
                                  "home staged)");
#if defined(__aarch64__)
    const vs_render_arch host = VS_RENDER_ARM64;
#else
    const vs_render_arch host = VS_RENDER_AMD64;
#endif
    vs_render_opts o[VS_RENDER_NARCH];
    char recorded[VS_RENDER_NARCH][VS_LAYOUT_DIGEST_HEX];
    for (size_t i = 0; i < a->nlayouts; i++) {
        vs_render_opts one = VS_RENDER_OPTS_INIT;
        one.flow = VS_RENDER_SIDECAR;
        one.layout = a->layouts[i];
        one.mount_path = ARG(a, OPT_MOUNT);
        one.start_script = ARG(a, OPT_SCRIPT);
        one.force = ARG(a, OPT_FORCE) != NULL;
        int rc = expected_digest(c, one.layout, NULL, recorded[i], &one.manifest_sha256);
        if (rc >= 0)
            return rc;
        o[i] = one;
    }
    char *checkers[VS_RENDER_NARCH] = { NULL, NULL };
    char *self = default_checker();
    char *dir = self ? strdup(self) : NULL;
    if (dir && strrchr(dir, '/'))
        strrchr(dir, '/')[1] = '\0';
    for (int i = 0; i < VS_RENDER_NARCH; i++) {
        if ((vs_render_arch)i == host) {
            checkers[i] = ARG(a, OPT_CHECKER) ? strdup(ARG(a, OPT_CHECKER))
                                              : (self ? strdup(self) : NULL);
            continue;
        }
        const char *name = vs_render_arch_name((vs_render_arch)i);
        size_t len = (dir ? strlen(dir) : 0) + strlen(name) + sizeof "/vetstage-check";
        checkers[i] = dir ? malloc(len) : NULL;
        if (checkers[i])
            snprintf(checkers[i], len, "%s%s/vetstage-check", dir, name);
    }
    free(self);
    free(dir);
    vs_error err = VS_ERROR_INIT;
    const char *const ck[VS_RENDER_NARCH] = { checkers[0], checkers[1] };
    vs_status st = vs_render_multiarch_context(ARG(a, OPT_OUT), o, a->nlayouts, ck, &err);
    for (int i = 0; i < VS_RENDER_NARCH; i++)
        free(checkers[i]);
    if (st != VS_OK)
        return cli_fail(c, &err);
    const char *out = ARG(a, OPT_OUT);
    cli_info(c, "build contexts written to %s/amd64 and %s/arm64; %s/build.sh builds both and "
                "their manifest list\n", out, out, out);
    json_t *j = json_object();
    json_object_set_new(j, "context", json_string(out));
    json_t *archs = json_array();
    json_array_append_new(archs, json_string("amd64"));
    json_array_append_new(archs, json_string("arm64"));
    json_object_set_new(j, "architectures", archs);
    return cli_json_ok(c, j);
}

static int do_ecs(cli *c, int argc, char **argv)
{
    args a;
    int rc = parse(c, argc, argv, ecs_opts, &a);
    if (rc >= 0)
        return rc;
    if (!ARG(&a, OPT_TASK_DEF))
        return cli_usage_error(c, "--task-def FILE is required");
    if (!ARG(&a, OPT_APP_CONTAINER))
        return cli_usage_error(c, "--app-container NAME is required");
    if (!ARG(&a, OPT_SIDECAR_IMAGE))
        return cli_usage_error(c, "--sidecar-image IMAGE is required");
    vs_ecs_opts o = VS_ECS_OPTS_INIT;
    o.app_container = ARG(&a, OPT_APP_CONTAINER);
    o.sidecar_image = ARG(&a, OPT_SIDECAR_IMAGE);
    o.image_entrypoint_json = ARG(&a, OPT_IMAGE_ENTRYPOINT);
    o.image_cmd_json = ARG(&a, OPT_IMAGE_CMD);
    o.token_secret = ARG(&a, OPT_TOKEN_SECRET);
    o.server_url = ARG(&a, OPT_SERVER_URL);
    o.mount_path = ARG(&a, OPT_MOUNT);
    o.start_script = ARG(&a, OPT_SCRIPT);
    o.layout = ARG(&a, OPT_LAYOUT);
    char recorded[VS_LAYOUT_DIGEST_HEX];
    rc = expected_digest(c, o.layout, ARG(&a, OPT_MANIFEST_SHA256), recorded, &o.manifest_sha256);
    if (rc >= 0)
        return rc;
    o.as_root = ARG(&a, OPT_AS_ROOT) != NULL;
    o.fail_open = ARG(&a, OPT_FAIL_OPEN) != NULL;
    o.allow_tag = ARG(&a, OPT_ALLOW_TAG) != NULL;
    o.allow_autoupgrade = ARG(&a, OPT_ALLOW_AUTOUPGRADE) != NULL;
    o.no_writable_paths = ARG(&a, OPT_NO_WRITABLE_PATHS) != NULL;
    vs_error err = VS_ERROR_INIT;
    char *text = NULL;
    if ((rc = out_outside_home(c, ARG(&a, OPT_OUT))) >= 0)
        return rc;
    if (vs_render_ecs_task_file(&text, ARG(&a, OPT_TASK_DEF), &o, &err) != VS_OK)
        return cli_fail(c, &err);
    notes(c, o.as_root, o.fail_open);
    const char *out = ARG(&a, OPT_OUT);
    if (out) {
        vs_status st = vs_render_save(out, text, &err);
        if (st != VS_OK) {
            free(text);
            return cli_fail(c, &err);
        }
        cli_info(c, "task definition written to %s\n", out);
    }
    if (c->json) {
        json_t *j = json_object();
        json_object_set_new(j, "out", cli_json_str(out));
        json_object_set_new(j, "taskDefinition", json_loads(text, 0, NULL));
        free(text);
        return cli_json_ok(c, j);
    }
    if (!out)
        fputs(text, stdout);
    free(text);
    return 0;
}

int cmd_render(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(c, "missing subcommand (sidecar, embedded, ecs-task)");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(sub, "sidecar")) {
        c->command = "render sidecar";
        c->argv = argv + 1;
        return do_docker(c, VS_RENDER_SIDECAR, argc - 1, argv + 1);
    }
    if (!strcmp(sub, "embedded")) {
        c->command = "render embedded";
        c->argv = argv + 1;
        return do_docker(c, VS_RENDER_EMBEDDED, argc - 1, argv + 1);
    }
    if (!strcmp(sub, "ecs-task")) {
        c->command = "render ecs-task";
        c->argv = argv + 1;
        return do_ecs(c, argc - 1, argv + 1);
    }
    return cli_usage_error(c, "unknown subcommand '%s' (sidecar, embedded, ecs-task)", sub);
}
