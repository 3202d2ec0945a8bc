/* fuzz/fuzz_taskdef.c - arbitrary bytes through the ECS task-definition
 * patcher. Invariants: a refusal is VS_E_USAGE with a one-line message and
 * no output; an accepted input yields JSON that, patched again, comes back
 * byte for byte (idempotence), and never carries the token as environment. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vetstage/render.h"

static void opts(vs_ecs_opts *o)
{
    vs_ecs_opts z = VS_ECS_OPTS_INIT;
    *o = z;
    o->app_container = "app";
    o->sidecar_image = "localhost/sidecar:1";
    o->image_entrypoint_json = "[\"/entry\", \"a b\"]";
    o->token_secret = "arn:aws:secretsmanager:us-east-1:1:secret:t";
    o->server_url = "https://api.example.test";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vs_ecs_opts o;
    opts(&o);
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
    json_t *cs = json_object_get(j, "containerDefinitions");
    size_t sidecars = 0;
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(cs, i), "name"));
        if (n && !strcmp(n, VS_RENDER_SIDECAR_NAME))
            sidecars++;
    }
    if (!j || sidecars != 1)
        abort();
    json_decref(j);
    free(again);
    free(out);
    return 0;
}
