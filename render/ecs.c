/* render/ecs.c - patch an ECS task definition for the sidecar flow. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "render/render_int.h"

/* Fields `describe-task-definition` returns that `register-task-definition`
 * does not accept. */
static const char *const read_only[] = {
    "taskDefinitionArn", "revision",     "status",       "requiresAttributes",
    "compatibilities",   "registeredAt", "registeredBy", "deregisteredAt",
};

/* A free-text option (ARN, URL, image): bounded, no control characters. */
static bool text_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > VS_MAX_RENDER_ARG)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static const char *str_of(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The array at o[k], created if absent; NULL (and an error) if o[k] is not an
 * array of objects. */
static json_t *array_of_objects(json_t *o, const char *k, const char *name, const char *cname,
                                vs_error *err)
{
    json_t *a = json_object_get(o, k);
    if (!a) {
        a = json_array();
        if (!a || json_object_set_new(o, k, a) != 0) {
            vs_error_set(err, VS_E_INTERNAL, "out of memory");
            return NULL;
        }
        return a;
    }
    bool ok = json_is_array(a);
    for (size_t i = 0; ok && i < json_array_size(a); i++)
        ok = json_is_object(json_array_get(a, i));
    if (!ok) {
        vs_error_set(err, VS_E_USAGE, "%s: container \"%s\": %s is not an array of objects", name,
                     cname, k);
        return NULL;
    }
    return a;
}

/* The element of `a` whose member `key` is the string `val`, or NULL. */
static json_t *find_by(const json_t *a, const char *key, const char *val)
{
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        const char *s = str_of(e, key);
        if (s && strcmp(s, val) == 0)
            return e;
    }
    return NULL;
}

/* Set o[k] = o2 (stolen); false on OOM. */
static bool put(json_t *o, const char *k, json_t *v)
{
    return v && json_object_set_new(o, k, v) == 0;
}

/* Add {key: kval, vkey: vval} to o[arr] or update the existing entry's vkey. */
static vs_status upsert(json_t *c, const char *arr, const char *key, const char *kval,
                        const char *vkey, json_t *vval, const char *name, vs_error *err)
{
    const char *cname = str_of(c, "name");
    json_t *a = array_of_objects(c, arr, name, cname ? cname : "?", err);
    if (!a) {
        json_decref(vval);
        return err ? err->status : VS_E_USAGE;
    }
    json_t *e = find_by(a, key, kval);
    if (e)
        return put(e, vkey, vval) ? VS_OK : vs_error_set(err, VS_E_INTERNAL, "out of memory");
    e = json_object();
    if (!e || !put(e, key, json_string(kval)) || !put(e, vkey, vval) ||
        json_array_append_new(a, e) != 0) {
        json_decref(e);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    return VS_OK;
}

/* Our entry point: ["/bin/sh", "-c", SCRIPT, "<P>/<start script>"]. */
static bool is_wrapped(const json_t *ep)
{
    const char *a0 = json_string_value(json_array_get(ep, 0));
    const char *a1 = json_string_value(json_array_get(ep, 1));
    const char *a2 = json_string_value(json_array_get(ep, 2));
    return json_array_size(ep) == 4 && a0 && a1 && a2 && !strcmp(a0, "/bin/sh") &&
           !strcmp(a1, "-c") && !strcmp(a2, VS_RENDER_ENTRY_SCRIPT) &&
           json_is_string(json_array_get(ep, 3));
}

static vs_status wrap_entry(json_t *app, const vs_ecs_opts *o, const char *script_path,
                            const char *name, vs_error *err)
{
    const char *cname = str_of(app, "name");
    json_t *ep = json_object_get(app, "entryPoint");
    json_t *cmd = json_object_get(app, "command");
    if ((ep && !json_is_null(ep) && !render_is_argv(ep)) ||
        (cmd && !json_is_null(cmd) && !render_is_argv(cmd)))
        return vs_error_set(err, VS_E_USAGE,
                            "%s: container \"%s\": entryPoint and command must be arrays of "
                            "strings",
                            name, cname);
    json_t *wrapper = json_pack("[ssss]", "/bin/sh", "-c", VS_RENDER_ENTRY_SCRIPT, script_path);
    if (!wrapper)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    if (is_wrapped(ep)) /* our own output: keep the command, refresh the script path */
        return put(app, "entryPoint", wrapper) ? VS_OK
                                               : vs_error_set(err, VS_E_INTERNAL, "out of memory");
    json_t *orig = json_array();
    vs_status st = VS_OK;
    if (!orig) {
        st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
    } else if (json_array_size(ep) > 0) {
        /* an entryPoint override also drops the image's CMD: ep + command is all */
        json_array_extend(orig, ep);
        if (json_is_array(cmd))
            json_array_extend(orig, cmd);
    } else if (!o->image_entrypoint_json && !o->image_cmd_json) {
        st = vs_error_set(err, VS_E_USAGE,
                          "%s: container \"%s\" sets no entryPoint: give the image's entry point "
                          "with --image-entrypoint JSON (and --image-cmd JSON; '[]' for none)",
                          name, cname);
    } else {
        json_t *iep = NULL, *icmd = NULL;
        if (o->image_entrypoint_json)
            st = render_parse_argv(&iep, o->image_entrypoint_json, "--image-entrypoint", err);
        if (st == VS_OK && o->image_cmd_json)
            st = render_parse_argv(&icmd, o->image_cmd_json, "--image-cmd", err);
        if (st == VS_OK) {
            if (iep)
                json_array_extend(orig, iep);
            /* the task definition's command replaces the image's CMD */
            if (json_is_array(cmd))
                json_array_extend(orig, cmd);
            else if (icmd)
                json_array_extend(orig, icmd);
        }
        json_decref(iep);
        json_decref(icmd);
    }
    if (st == VS_OK && json_array_size(orig) == 0)
        st = vs_error_set(err, VS_E_USAGE,
                          "%s: container \"%s\": the entry point and command are empty: nothing "
                          "to run after the agent starts",
                          name, cname);
    if (st == VS_OK) {
        bool ok = put(app, "entryPoint", wrapper);
        wrapper = NULL;
        ok = ok && put(app, "command", orig);
        orig = NULL;
        if (!ok)
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    json_decref(wrapper);
    json_decref(orig);
    return st;
}

static vs_status check_opts(const vs_ecs_opts *o, vs_error *err)
{
    if (!o)
        return vs_error_set(err, VS_E_USAGE, "no options");
    if (!o->app_container || !*o->app_container)
        return vs_error_set(err, VS_E_USAGE, "no application container given (--app-container)");
    if (!text_ok(o->app_container) || !strcmp(o->app_container, VS_RENDER_SIDECAR_NAME))
        return vs_error_set(err, VS_E_USAGE, "%s: not a usable application container name",
                            o->app_container);
    if (!o->sidecar_image || !*o->sidecar_image)
        return vs_error_set(err, VS_E_USAGE, "no sidecar image given (--sidecar-image)");
    if (!text_ok(o->sidecar_image) || strchr(o->sidecar_image, ' '))
        return vs_error_set(err, VS_E_USAGE, "%s: not an image reference", o->sidecar_image);
    if (o->token_secret && !text_ok(o->token_secret))
        return vs_error_set(err, VS_E_USAGE, "--token-secret: empty, too long or not one line");
    if (o->server_url && !text_ok(o->server_url))
        return vs_error_set(err, VS_E_USAGE, "--server-url: empty, too long or not one line");
    const char *mount = o->mount_path ? o->mount_path : VS_RENDER_DEFAULT_MOUNT;
    const char *script = o->start_script ? o->start_script : VS_RENDER_DEFAULT_START_SCRIPT;
    if (!render_valid_mount(mount))
        return vs_error_set(err, VS_E_USAGE,
                            "%s: mount path must be absolute, made of [A-Za-z0-9._+/-], "
                            "without . or .. components",
                            mount);
    if (!render_valid_relpath(script))
        return vs_error_set(err, VS_E_USAGE, "%s: start script must be a relative path", script);
    return VS_OK;
}

/* Refuse the token in plain environment, in any container. */
static vs_status no_plain_token(const json_t *containers, const char *name, vs_error *err)
{
    for (size_t i = 0; i < json_array_size(containers); i++) {
        const json_t *c = json_array_get(containers, i);
        const json_t *env = json_object_get(c, "environment");
        for (size_t k = 0; k < json_array_size(env); k++) {
            const char *n = str_of(json_array_get(env, k), "name");
            if (n && !strcmp(n, VS_RENDER_TOKEN_NAME))
                return vs_error_set(err, VS_E_USAGE,
                                    "%s: container \"%s\" has %s in plain environment; move it "
                                    "to secrets (--token-secret ARN) and remove it",
                                    name, str_of(c, "name") ? str_of(c, "name") : "?",
                                    VS_RENDER_TOKEN_NAME);
        }
    }
    return VS_OK;
}

static vs_status patch(json_t *td, const vs_ecs_opts *o, const char *name, vs_error *err)
{
    json_t *cs = json_object_get(td, "containerDefinitions");
    bool ok = json_is_array(cs) && json_array_size(cs) > 0;
    for (size_t i = 0; ok && i < json_array_size(cs); i++) {
        json_t *c = json_array_get(cs, i);
        ok = json_is_object(c) && json_is_string(json_object_get(c, "name"));
    }
    if (!ok)
        return vs_error_set(err, VS_E_USAGE,
                            "%s: not a task definition: containerDefinitions must be a non-empty "
                            "array of containers with names",
                            name);
    /* container names are unique in a task definition (ECS refuses
     * duplicates); patching one of two namesakes would be a guess */
    for (size_t i = 0; i < json_array_size(cs); i++)
        for (size_t k = i + 1; k < json_array_size(cs); k++)
            if (json_equal(json_object_get(json_array_get(cs, i), "name"),
                           json_object_get(json_array_get(cs, k), "name")))
                return vs_error_set(err, VS_E_USAGE, "%s: two containers named \"%s\"", name,
                                    str_of(json_array_get(cs, i), "name"));
    json_t *app = find_by(cs, "name", o->app_container);
    if (!app)
        return vs_error_set(err, VS_E_USAGE, "%s: no container named \"%s\" in containerDefinitions",
                            name, o->app_container);
    vs_status st = no_plain_token(cs, name, err);
    if (st)
        return st;
    const json_t *env = json_object_get(app, "environment");
    if (env && !json_is_array(env))
        return vs_error_set(err, VS_E_USAGE, "%s: container \"%s\": environment is not an array",
                            name, o->app_container);

    const char *mount = o->mount_path ? o->mount_path : VS_RENDER_DEFAULT_MOUNT;
    const char *script = o->start_script ? o->start_script : VS_RENDER_DEFAULT_START_SCRIPT;
    char *sp = render_script_path(mount, script);
    if (!sp)
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    st = wrap_entry(app, o, sp, name, err);
    free(sp);
    if (st == VS_OK)
        st = upsert(app, "volumesFrom", "sourceContainer", VS_RENDER_SIDECAR_NAME, "readOnly",
                    json_true(), name, err);
    if (st == VS_OK)
        st = upsert(app, "dependsOn", "containerName", VS_RENDER_SIDECAR_NAME, "condition",
                    json_string("SUCCESS"), name, err);
    if (st == VS_OK && o->token_secret)
        st = upsert(app, "secrets", "name", VS_RENDER_TOKEN_NAME, "valueFrom",
                    json_string(o->token_secret), name, err);
    if (st == VS_OK && o->server_url)
        st = upsert(app, "environment", "name", VS_RENDER_SERVER_URL_NAME, "value",
                    json_string(o->server_url), name, err);
    if (st)
        return st;

    json_t *side = find_by(cs, "name", VS_RENDER_SIDECAR_NAME);
    if (!side) {
        side = json_object();
        if (!side || !put(side, "name", json_string(VS_RENDER_SIDECAR_NAME)) ||
            json_array_append_new(cs, side) != 0)
            return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    json_object_del(side, "portMappings");
    if (!put(side, "image", json_string(o->sidecar_image)) ||
        !put(side, "essential", json_false()))
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    return VS_OK;
}

vs_status vs_render_ecs_task(char **out, const uint8_t *in, size_t len, const char *name,
                             const vs_ecs_opts *o, vs_error *err)
{
    *out = NULL;
    if (!name)
        name = "task definition";
    vs_status st = check_opts(o, err);
    if (st)
        return st;
    if (len > VS_MAX_TASK_DEF)
        return vs_error_set(err, VS_E_USAGE, "%s: larger than the limit of %u bytes", name,
                            VS_MAX_TASK_DEF);
    json_error_t je;
    json_t *root = json_loadb((const char *)in, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return vs_error_set(err, VS_E_USAGE, "%s: malformed JSON at line %d: %s", name, je.line,
                            je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return vs_error_set(err, VS_E_USAGE, "%s: not a JSON object", name);
    }
    /* describe-task-definition reply, or the task definition itself */
    json_t *td = root;
    json_t *tags = NULL;
    json_t *inner = json_object_get(root, "taskDefinition");
    if (inner) {
        if (!json_is_object(inner)) {
            json_decref(root);
            return vs_error_set(err, VS_E_USAGE, "%s: taskDefinition is not an object", name);
        }
        td = inner;
        if (json_object_get(td, "taskDefinition")) {
            json_decref(root);
            return vs_error_set(err, VS_E_USAGE, "%s: taskDefinition nested in taskDefinition",
                                name);
        }
        tags = json_object_get(root, "tags");
        if (tags && !json_is_array(tags)) {
            json_decref(root);
            return vs_error_set(err, VS_E_USAGE, "%s: tags is not an array", name);
        }
    }
    json_t *res = json_object();
    if (!res) {
        json_decref(root);
        return vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    const char *k;
    json_t *v;
    json_object_foreach(td, k, v)
    {
        bool drop = false;
        for (size_t i = 0; i < sizeof read_only / sizeof read_only[0]; i++)
            drop = drop || !strcmp(k, read_only[i]);
        if (!drop && json_object_set_new(res, k, json_deep_copy(v)) != 0)
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
    }
    if (st == VS_OK && tags && !json_object_get(res, "tags") &&
        json_object_set_new(res, "tags", json_deep_copy(tags)) != 0)
        st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
    json_decref(root);
    if (st == VS_OK)
        st = patch(res, o, name, err);
    if (st == VS_OK) {
        char *s = json_dumps(res, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        size_t n = s ? strlen(s) : 0;
        char *r = s ? realloc(s, n + 2) : NULL;
        if (!r) {
            free(s);
            st = vs_error_set(err, VS_E_INTERNAL, "out of memory");
        } else {
            r[n] = '\n';
            r[n + 1] = '\0';
            *out = r;
        }
    }
    json_decref(res);
    return st;
}

vs_status vs_render_ecs_task_file(char **out, const char *path, const vs_ecs_opts *o,
                                  vs_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return vs_error_set(err, VS_E_USAGE, "no task definition given (--task-def FILE)");
    uint8_t *buf = NULL;
    size_t len = 0;
    vs_status st = vs_read_file(AT_FDCWD, path, VS_MAX_TASK_DEF, &buf, &len, err);
    if (st)
        return st; /* VS_E_USAGE for a missing, unreadable or oversized file */
    st = vs_render_ecs_task(out, buf, len, path, o, err);
    free(buf);
    return st;
}
