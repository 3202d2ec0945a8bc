/* fuzz/fuzz_taskdef.c - arbitrary bytes through the ECS task-definition
 * patcher. Invariants: a refusal is VS_E_USAGE with a one-line message and
 * no output; an accepted input yields JSON that, patched again, comes back
 * byte for byte (idempotence), never carries the token as environment, and
 * cannot switch the gate off:
 * - exactly one sidecar container, and it is exactly ours: name, image,
 *   essential false, entryPoint ["/vetstage-check"], command
 *   ["--manifest-sha256", DIGEST, MOUNT] (without a digest: neither, so the
 *   image's own digest-pinned entry point runs), nothing else but resource
 *   and log settings;
 * - every other container mounts the sidecar's volume at most once, read-only;
 * - the application container mounts it exactly once, read-only, depends on
 *   it exactly once (SUCCESS; START only with fail_open), runs our entry
 *   point, mounts nothing else over the layout, carries LaceworkConfig with
 *   "autoupgrade": "disable", and runs as root with as_root.
 * The options vary with the input's length (fail_open, as_root). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vetstage/render.h"

#define DIGEST "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MOUNT VS_RENDER_DEFAULT_MOUNT

static void opts(vs_ecs_opts *o, size_t size)
{
    vs_ecs_opts z = VS_ECS_OPTS_INIT;
    *o = z;
    o->app_container = "app";
    o->sidecar_image = "localhost/sidecar@sha256:" DIGEST;
    o->image_entrypoint_json = "[\"/entry\", \"a b\"]";
    o->token_secret = "arn:aws:secretsmanager:us-east-1:1:secret:t";
    o->server_url = "https://api.example.test";
    o->manifest_sha256 = (size >> 2) & 1 ? NULL : DIGEST;
    o->fail_open = size & 1;
    o->as_root = (size >> 1) & 1;
}

static void check(bool ok)
{
    if (!ok)
        abort();
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool is(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static void check_sidecar(const json_t *c, bool pinned)
{
    json_t *want_ep = json_pack("[s]", VS_RENDER_CHECKER_PATH);
    json_t *want_cmd = json_pack("[sss]", "--manifest-sha256", DIGEST, MOUNT);
    check(want_ep && want_cmd);
    if (pinned) {
        check(json_equal(json_object_get(c, "entryPoint"), want_ep));
        check(json_equal(json_object_get(c, "command"), want_cmd));
    } else {
        /* the image's own (digest-pinned) entry point runs */
        check(!json_object_get(c, "entryPoint") && !json_object_get(c, "command"));
    }
    check(json_is_false(json_object_get(c, "essential")));
    check(is(str(c, "image"), "localhost/sidecar@sha256:" DIGEST));
    static const char *const allowed[] = { "name",   "image",  "essential",         "entryPoint",
                                           "command", "cpu",   "memory",            "memoryReservation",
                                           "logConfiguration" };
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)c, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            known = known || !strcmp(k, allowed[i]);
        check(known);
    }
    json_decref(want_ep);
    json_decref(want_cmd);
}

static void check_app(const json_t *app, const vs_ecs_opts *o)
{
    size_t vf = 0, dep = 0, cfg = 0;
    const json_t *a = json_object_get(app, "volumesFrom");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *e = json_array_get(a, i);
        if (is(str(e, "sourceContainer"), VS_RENDER_SIDECAR_NAME)) {
            vf++;
            check(json_is_true(json_object_get(e, "readOnly")));
        }
    }
    a = json_object_get(app, "dependsOn");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *e = json_array_get(a, i);
        if (is(str(e, "containerName"), VS_RENDER_SIDECAR_NAME)) {
            dep++;
            check(is(str(e, "condition"), o->fail_open ? "START" : "SUCCESS"));
        }
    }
    check(vf == 1 && dep == 1);
    const json_t *ep = json_object_get(app, "entryPoint");
    check(json_array_size(ep) == 4 && is(json_string_value(json_array_get(ep, 0)), "/bin/sh") &&
          is(json_string_value(json_array_get(ep, 2)),
             o->fail_open ? VS_RENDER_ENTRY_SCRIPT_OPEN : VS_RENDER_ENTRY_SCRIPT));
    a = json_object_get(app, "mountPoints");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *cp = str(json_array_get(a, i), "containerPath");
        check(!cp || strncmp(cp, MOUNT, strlen(MOUNT)) != 0 ||
              (cp[strlen(MOUNT)] != '\0' && cp[strlen(MOUNT)] != '/'));
    }
    a = json_object_get(app, "environment");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *e = json_array_get(a, i);
        check(!is(str(e, "name"), VS_RENDER_TOKEN_NAME));
        if (!is(str(e, "name"), VS_RENDER_CONFIG_NAME))
            continue;
        cfg++;
        json_t *c = json_loads(str(e, "value") ? str(e, "value") : "", 0, NULL);
        check(json_is_object(c) &&
              is(str(c, VS_RENDER_NO_UPGRADE_KEY), VS_RENDER_NO_UPGRADE_VALUE));
        json_decref(c);
    }
    check(cfg == 1);
    if (o->as_root)
        check(is(str(app, "user"), "root"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vs_ecs_opts o;
    opts(&o, size);
    char *out = NULL;
    vs_error err = VS_ERROR_INIT;
    vs_status st = vs_render_ecs_task(&out, data, size, "fuzz.json", &o, &err);
    if (st != VS_OK) {
        if (out || st != VS_E_USAGE || strchr(err.message, '\n') || !err.message[0])
            abort();
        return 0;
    }
    if (!out)
        abort();
    char *again = NULL;
    vs_error e2 = VS_ERROR_INIT;
    if (vs_render_ecs_task(&again, (const uint8_t *)out, strlen(out), "again.json", &o, &e2) !=
            VS_OK ||
        strcmp(out, again) != 0)
        abort();
    json_t *j = json_loads(out, 0, NULL);
    check(j != NULL);
    json_t *cs = json_object_get(j, "containerDefinitions");
    size_t sidecars = 0, apps = 0;
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const json_t *c = json_array_get(cs, i);
        const char *n = str(c, "name");
        if (is(n, VS_RENDER_SIDECAR_NAME)) {
            sidecars++;
            check_sidecar(c, o.manifest_sha256 != NULL);
        } else if (is(n, "app")) {
            apps++;
            check_app(c, &o);
        } else {
            /* any other container mounts the sidecar's volume read-only, once */
            size_t refs = 0;
            const json_t *vf = json_object_get(c, "volumesFrom");
            for (size_t k = 0; k < json_array_size(vf); k++) {
                const json_t *e = json_array_get(vf, k);
                if (is(str(e, "sourceContainer"), VS_RENDER_SIDECAR_NAME)) {
                    refs++;
                    check(json_is_true(json_object_get(e, "readOnly")));
                }
            }
            check(refs <= 1);
        }
    }
    check(sidecars == 1 && apps == 1);
    json_decref(j);
    free(again);
    free(out);
    return 0;
}
