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
            vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
            return NULL;
        }
        return a;
    }
    bool ok = json_is_array(a);
    for (size_t i = 0; ok && i < json_array_size(a); i++)
        ok = json_is_object(json_array_get(a, i));
    if (!ok) {
        vs_error_subj(err, VS_E_USAGE, name, "container \"%s\": %s is not an array of objects",
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

/* --app-container names no container: the hint lists the ones there are
 * (the sidecar aside), as far as they fit. */
static vs_status no_such_container(const json_t *cs, const char *want, const char *file,
                                   vs_error *err)
{
    vs_error_subj(err, VS_E_USAGE, file, "no container named \"%s\" in containerDefinitions",
                  want);
    char list[VS_ERROR_HINT_MAX - 32] = "";
    size_t used = 0;
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const char *n = str_of(json_array_get(cs, i), "name");
        if (!n || !strcmp(n, VS_RENDER_SIDECAR_NAME))
            continue;
        int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", n);
        if (w < 0 || (size_t)w >= sizeof list - used) {
            list[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    if (used)
        vs_error_hint(err, "the containers are: %s", list);
    return VS_E_USAGE;
}

/* Set o[k] = o2 (stolen); false on OOM. */
static bool put(json_t *o, const char *k, json_t *v)
{
    return v && json_object_set_new(o, k, v) == 0;
}

/*
 * Make `obj` (stolen) the one entry of the array `a` whose member `key` is
 * the string `kval`: the first such entry is replaced in place, any later
 * ones are removed (a hostile definition may name the sidecar twice, the
 * second time writable), and it is appended when there is none. In place,
 * so that running again on the output changes nothing.
 */
static vs_status set_once(json_t *a, const char *key, const char *kval, json_t *obj,
                          vs_error *err)
{
    if (!obj)
        return vs_error_subj(err, VS_E_INTERNAL, kval, "out of memory");
    bool placed = false;
    for (size_t i = 0; i < json_array_size(a);) {
        const char *s2 = str_of(json_array_get(a, i), key);
        if (!s2 || strcmp(s2, kval) != 0) {
            i++;
            continue;
        }
        if (!placed) {
            if (json_array_set(a, i, obj) != 0)
                break;
            placed = true;
            i++;
        } else if (json_array_remove(a, i) != 0) {
            break;
        }
    }
    if (!placed && json_array_append(a, obj) != 0) {
        json_decref(obj);
        return vs_error_subj(err, VS_E_INTERNAL, kval, "out of memory");
    }
    json_decref(obj);
    return VS_OK;
}

/* set_once of {key: kval, vkey: vval} in the container's array `arr`. */
static vs_status upsert(json_t *c, const char *arr, const char *key, const char *kval,
                        const char *vkey, json_t *vval, const char *name, vs_error *err)
{
    const char *cname = str_of(c, "name");
    json_t *a = array_of_objects(c, arr, name, cname ? cname : "?", err);
    if (!a) {
        json_decref(vval);
        return err ? err->status : VS_E_USAGE;
    }
    json_t *e = json_object();
    if (!e || !put(e, key, json_string(kval)) || !put(e, vkey, vval)) {
        json_decref(e);
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    }
    return set_once(a, key, kval, e, err);
}

static bool is_entry_script(const char *s)
{
    return s && (!strcmp(s, VS_RENDER_ENTRY_SCRIPT) || !strcmp(s, VS_RENDER_ENTRY_SCRIPT_OPEN));
}

/* Our entry point: ["/bin/sh", "-c", SCRIPT, "<P>/<start script>"]. */
static bool is_wrapped(const json_t *ep)
{
    const char *a0 = json_string_value(json_array_get(ep, 0));
    const char *a1 = json_string_value(json_array_get(ep, 1));
    const char *a2 = json_string_value(json_array_get(ep, 2));
    return json_array_size(ep) == 4 && a0 && a1 && !strcmp(a0, "/bin/sh") &&
           !strcmp(a1, "-c") && is_entry_script(a2) && json_is_string(json_array_get(ep, 3));
}

static vs_status wrap_entry(json_t *app, const vs_ecs_opts *o, const char *script_path,
                            const char *name, vs_error *err)
{
    const char *cname = str_of(app, "name");
    json_t *ep = json_object_get(app, "entryPoint");
    json_t *cmd = json_object_get(app, "command");
    if ((ep && !json_is_null(ep) && !render_is_argv(ep)) ||
        (cmd && !json_is_null(cmd) && !render_is_argv(cmd)))
        return vs_error_subj(err, VS_E_USAGE, name,
                             "container \"%s\": entryPoint and command must be arrays of strings",
                             cname);
    json_t *wrapper =
        json_pack("[ssss]", "/bin/sh", "-c",
                  o->fail_open ? VS_RENDER_ENTRY_SCRIPT_OPEN : VS_RENDER_ENTRY_SCRIPT,
                  script_path);
    if (!wrapper)
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    if (is_wrapped(ep)) /* our own output: keep the command, refresh the script */
        return put(app, "entryPoint", wrapper) ? VS_OK
                                               : vs_error_subj(err, VS_E_INTERNAL, name,
                                                               "out of memory");
    json_t *orig = json_array();
    vs_status st = VS_OK;
    if (!orig) {
        st = vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    } else if (json_array_size(ep) > 0) {
        /* an entryPoint override also drops the image's CMD: ep + command is all */
        json_array_extend(orig, ep);
        if (json_is_array(cmd))
            json_array_extend(orig, cmd);
    } else if (!o->image_entrypoint_json && !o->image_cmd_json) {
        st = vs_error_subj(err, VS_E_USAGE, name,
                           "container \"%s\" sets no entryPoint: give the image's entry point with "
                           "--image-entrypoint JSON (and --image-cmd JSON; '[]' for none)", cname);
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
        st = vs_error_subj(err, VS_E_USAGE, name,
                           "container \"%s\": the entry point and command are empty: nothing to "
                           "run after the agent starts", cname);
    if (st == VS_OK) {
        bool ok = put(app, "entryPoint", wrapper);
        wrapper = NULL;
        ok = ok && put(app, "command", orig);
        orig = NULL;
        if (!ok)
            st = vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    }
    json_decref(wrapper);
    json_decref(orig);
    return st;
}

/* REPO@sha256:<64 lowercase hex> */
static bool image_by_digest(const char *img)
{
    const char *at = strrchr(img, '@');
    if (!at || at == img || strncmp(at + 1, "sha256:", 7) != 0)
        return false;
    const char *h = at + 8;
    if (strlen(h) != 64)
        return false;
    for (; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
            return false;
    return true;
}

static vs_status check_opts(const vs_ecs_opts *o, vs_error *err)
{
    if (!o)
        return vs_error_subj(err, VS_E_USAGE, "render ecs-task", "no options");
    if (VS_CHECK_OPTS(o, vs_ecs_opts, ECS_OPTS, err))
        return VS_E_USAGE;
    if (!o->app_container || !*o->app_container)
        return vs_error_subj(err, VS_E_USAGE, "--app-container", "no application container given");
    if (!text_ok(o->app_container) || !strcmp(o->app_container, VS_RENDER_SIDECAR_NAME))
        return vs_error_subj(err, VS_E_USAGE, o->app_container,
                             "not a usable application container name");
    if (!o->sidecar_image || !*o->sidecar_image)
        return vs_error_subj(err, VS_E_USAGE, "--sidecar-image", "no sidecar image given");
    if (!text_ok(o->sidecar_image) || strchr(o->sidecar_image, ' '))
        return vs_error_subj(err, VS_E_USAGE, o->sidecar_image,
                             "not an image reference (at most %u bytes, one line, no spaces)",
                             VS_MAX_RENDER_ARG);
    if (!o->allow_tag && !image_by_digest(o->sidecar_image)) {
        vs_error_subj(err, VS_E_USAGE, o->sidecar_image,
                      "the sidecar image is not given by digest (REPO@sha256:HEX): a tag can "
                      "change under a running service");
        vs_error_hint(err, "use the digest buildah or docker printed when pushing, or accept "
                           "the tag with --allow-tag");
        return VS_E_USAGE;
    }
    if (o->token_secret && !text_ok(o->token_secret))
        return vs_error_subj(err, VS_E_USAGE, "--token-secret", "empty, too long or not one line");
    if (o->server_url && !text_ok(o->server_url))
        return vs_error_subj(err, VS_E_USAGE, "--server-url", "empty, too long or not one line");
    if (o->manifest_sha256 && !vs_layout_digest_valid(o->manifest_sha256))
        return vs_error_subj(err, VS_E_USAGE, o->manifest_sha256,
                             "not a layout digest (--manifest-sha256 takes 64 hex digits)");
    if (o->arch && strcmp(o->arch, "amd64") != 0 && strcmp(o->arch, "arm64") != 0)
        return vs_error_subj(err, VS_E_USAGE, o->arch, "unknown architecture (amd64 or arm64)");
    const char *mount = o->mount_path ? o->mount_path : VS_RENDER_DEFAULT_MOUNT;
    const char *script = o->start_script ? o->start_script : VS_RENDER_DEFAULT_START_SCRIPT;
    if (!render_valid_mount(mount))
        return vs_error_subj(err, VS_E_USAGE, mount,
                             "mount path must be absolute, at most %u bytes, made of "
                             "[A-Za-z0-9._+/-], without . or .. components", VS_MAX_RENDER_PATH);
    if (!strcmp(mount, VS_RENDER_AGENT_LIB) || !strncmp(mount, VS_RENDER_AGENT_LIB "/", 18) ||
        !strcmp(mount, VS_RENDER_AGENT_LOG) || !strncmp(mount, VS_RENDER_AGENT_LOG "/", 18))
        return vs_error_subj(err, VS_E_USAGE, mount,
                             "the layout cannot be mounted where the agent writes (%s, %s)",
                             VS_RENDER_AGENT_LIB, VS_RENDER_AGENT_LOG);
    if (!render_valid_relpath(script))
        return vs_error_subj(err, VS_E_USAGE, script, "start script must be a relative path");
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
                return vs_error_subj(err, VS_E_USAGE, name,
                                     "container \"%s\" has %s in plain environment; move it to "
                                     "secrets (--token-secret ARN) and remove it",
                                     str_of(c, "name") ? str_of(c, "name") : "?",
                                     VS_RENDER_TOKEN_NAME);
        }
    }
    return VS_OK;
}

/* runtimePlatform.cpuArchitecture (ECS default X86_64) against the layout's. */
static vs_status check_arch(const json_t *td, const vs_ecs_opts *o, const char *name,
                            vs_error *err)
{
    const json_t *rp = json_object_get(td, "runtimePlatform");
    const char *cpu = "X86_64";
    if (rp && !json_is_object(rp))
        return vs_error_subj(err, VS_E_USAGE, name, "runtimePlatform is not an object");
    const json_t *ca = json_object_get(rp, "cpuArchitecture");
    if (ca && !json_is_string(ca))
        return vs_error_subj(err, VS_E_USAGE, name,
                             "runtimePlatform.cpuArchitecture is not a string");
    if (ca)
        cpu = json_string_value(ca);
    const char *arch = !strcmp(cpu, "X86_64") ? "amd64" : !strcmp(cpu, "ARM64") ? "arm64" : NULL;
    if (!arch)
        return vs_error_subj(err, VS_E_USAGE, name,
                             "runtimePlatform.cpuArchitecture \"%.32s\" is neither X86_64 nor "
                             "ARM64",
                             cpu);
    if (o->arch && strcmp(o->arch, arch) != 0) {
        vs_error_subj(err, VS_E_USAGE, name,
                      "the task runs on %s (runtimePlatform.cpuArchitecture%s) but the layout "
                      "was staged for %s",
                      cpu, ca ? "" : " absent: ECS's default", o->arch);
        vs_error_hint(err, "stage the agent for %s (stage --arch %s) and build the sidecar "
                           "from that layout",
                      arch, arch);
        return VS_E_USAGE;
    }
    return VS_OK;
}

/* The agent's start script must run as root (the vendor requires it). */
static vs_status check_user(json_t *app, const vs_ecs_opts *o, const char *name, vs_error *err)
{
    const json_t *u = json_object_get(app, "user");
    if (u && !json_is_string(u))
        return vs_error_subj(err, VS_E_USAGE, name, "container \"%s\": user is not a string",
                             o->app_container);
    const char *user = json_string_value(u);
    if (user && !render_user_ok(user))
        return vs_error_subj(err, VS_E_USAGE, name,
                             "container \"%s\": user is not NAME, UID, NAME:GROUP or UID:GID",
                             o->app_container);
    if (o->as_root)
        return put(app, "user", json_string("root"))
                   ? VS_OK
                   : vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    if (user && !render_user_is_root(user)) {
        vs_error_subj(err, VS_E_USAGE, name,
                      "container \"%s\" runs as user \"%s\", but the agent's start script must "
                      "run as root (the vendor requires it)",
                      o->app_container, user);
        vs_error_hint(err, "add --as-root: the container's user becomes root, for the "
                           "application too");
        return VS_E_USAGE;
    }
    return VS_OK;
}

/* The layout must reach the application through the sidecar's volume only. */
static vs_status no_mount_over_layout(json_t *app, const char *mount, const char *name,
                                      vs_error *err)
{
    if (!json_object_get(app, "mountPoints"))
        return VS_OK;
    json_t *mp = array_of_objects(app, "mountPoints", name, str_of(app, "name"), err);
    if (!mp)
        return err ? err->status : VS_E_USAGE;
    size_t ml = strlen(mount);
    for (size_t i = 0; i < json_array_size(mp); i++) {
        const char *cp = str_of(json_array_get(mp, i), "containerPath");
        if (cp && !strncmp(cp, mount, ml) && (cp[ml] == '\0' || cp[ml] == '/'))
            return vs_error_subj(err, VS_E_USAGE, name,
                                 "container \"%s\" mounts a volume at %.600s, over the agent "
                                 "layout at %s that only the sidecar may provide",
                                 str_of(app, "name"), cp, mount);
    }
    return VS_OK;
}

/* Task-scoped volumes (no host path) mounted read-write where the agent
 * writes, when the root file system is read-only. */
static vs_status writable_paths(json_t *td, json_t *app, const vs_ecs_opts *o, const char *name,
                                vs_error *err)
{
    const json_t *ro = json_object_get(app, "readonlyRootFilesystem");
    if (!json_is_true(ro))
        return VS_OK;
    if (o->no_writable_paths) {
        vs_error_subj(err, VS_E_USAGE, name,
                      "container \"%s\" has a read-only root file system, but the agent writes "
                      "%s and %s",
                      o->app_container, VS_RENDER_AGENT_LIB, VS_RENDER_AGENT_LOG);
        vs_error_hint(err, "drop --no-writable-paths to add task volumes there, or mount "
                           "writable volumes at both paths yourself");
        return VS_E_USAGE;
    }
    json_t *vols = json_object_get(td, "volumes");
    if (!vols) {
        vols = json_array();
        if (!put(td, "volumes", vols))
            return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    }
    bool ok = json_is_array(vols);
    for (size_t i = 0; ok && i < json_array_size(vols); i++)
        ok = json_is_object(json_array_get(vols, i));
    if (!ok)
        return vs_error_subj(err, VS_E_USAGE, name, "volumes is not an array of objects");
    json_t *mp = array_of_objects(app, "mountPoints", name, o->app_container, err);
    if (!mp)
        return err ? err->status : VS_E_USAGE;
    static const char *const paths[2][2] = { { VS_RENDER_AGENT_LIB, VS_RENDER_LIB_VOLUME },
                                             { VS_RENDER_AGENT_LOG, VS_RENDER_LOG_VOLUME } };
    vs_status st = VS_OK;
    for (size_t k = 0; st == VS_OK && k < 2; k++) {
        /* a writable mount the user made there already is theirs to keep */
        bool theirs = false;
        for (size_t i = 0; i < json_array_size(mp); i++) {
            const json_t *m = json_array_get(mp, i);
            const char *cp = str_of(m, "containerPath");
            const char *sv = str_of(m, "sourceVolume");
            if (cp && !strcmp(cp, paths[k][0]) && !json_is_true(json_object_get(m, "readOnly")) &&
                (!sv || strcmp(sv, paths[k][1]) != 0))
                theirs = true;
        }
        if (theirs)
            continue;
        st = set_once(vols, "name", paths[k][1], json_pack("{ss}", "name", paths[k][1]), err);
        if (st == VS_OK)
            st = set_once(mp, "containerPath", paths[k][0],
                          json_pack("{sssssb}", "sourceVolume", paths[k][1], "containerPath",
                                    paths[k][0], "readOnly", 0),
                          err);
    }
    return st;
}

/* LaceworkConfig with "autoupgrade": "disable": the agent that runs is the
 * one vetted. An existing configuration is kept, the key added. */
static vs_status no_self_upgrade(json_t *app, const vs_ecs_opts *o, const char *name,
                                 vs_error *err)
{
    const json_t *secrets = json_object_get(app, "secrets");
    for (size_t i = 0; i < json_array_size(secrets); i++) {
        const char *n = str_of(json_array_get(secrets, i), "name");
        if (n && !strcmp(n, VS_RENDER_CONFIG_NAME) && !o->allow_autoupgrade) {
            vs_error_subj(err, VS_E_USAGE, name,
                          "container \"%s\" takes %s from secrets, where vetstage cannot make "
                          "sure the agent's self-upgrade stays off",
                          o->app_container, VS_RENDER_CONFIG_NAME);
            vs_error_hint(err, "put the configuration (without secrets) in environment, or "
                               "accept it as it is with --allow-autoupgrade");
            return VS_E_USAGE;
        }
    }
    json_t *env = array_of_objects(app, "environment", name, o->app_container, err);
    if (!env)
        return err ? err->status : VS_E_USAGE;
    json_t *found = NULL;
    for (size_t i = 0; i < json_array_size(env); i++) {
        json_t *e = json_array_get(env, i);
        const char *n = str_of(e, "name");
        if (!n || strcmp(n, VS_RENDER_CONFIG_NAME) != 0)
            continue;
        if (found)
            return vs_error_subj(err, VS_E_USAGE, name, "container \"%s\": %s given twice",
                                 o->app_container, VS_RENDER_CONFIG_NAME);
        found = e;
    }
    static const char ours[] =
        "{\"" VS_RENDER_NO_UPGRADE_KEY "\":\"" VS_RENDER_NO_UPGRADE_VALUE "\"}";
    if (!found)
        return set_once(env, "name", VS_RENDER_CONFIG_NAME,
                        json_pack("{ssss}", "name", VS_RENDER_CONFIG_NAME, "value", ours), err);
    const char *text = str_of(found, "value");
    json_error_t je;
    json_t *cfg = text ? json_loads(text, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return vs_error_subj(err, VS_E_USAGE, name,
                             "container \"%s\": %s is not a JSON object (the agent's "
                             "configuration)",
                             o->app_container, VS_RENDER_CONFIG_NAME);
    }
    const json_t *au = json_object_get(cfg, VS_RENDER_NO_UPGRADE_KEY);
    vs_status st = VS_OK;
    if (au) {
        bool off = json_is_string(au) && !strcmp(json_string_value(au), VS_RENDER_NO_UPGRADE_VALUE);
        if (!off && !o->allow_autoupgrade) {
            vs_error_subj(err, VS_E_USAGE, name,
                          "container \"%s\": %s sets \"%s\" to something else than \"%s\": the "
                          "agent would replace itself with a binary nobody vetted",
                          o->app_container, VS_RENDER_CONFIG_NAME, VS_RENDER_NO_UPGRADE_KEY,
                          VS_RENDER_NO_UPGRADE_VALUE);
            vs_error_hint(err, "remove the key (vetstage sets \"%s\": \"%s\"), or accept the "
                               "self-upgrade with --allow-autoupgrade",
                          VS_RENDER_NO_UPGRADE_KEY, VS_RENDER_NO_UPGRADE_VALUE);
            st = VS_E_USAGE;
        }
        /* already off, or allowed on: the text stays as it was */
    } else {
        char *merged = NULL;
        if (json_object_set_new(cfg, VS_RENDER_NO_UPGRADE_KEY,
                                json_string(VS_RENDER_NO_UPGRADE_VALUE)) != 0 ||
            !(merged = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER)) ||
            !put(found, "value", json_string(merged)))
            st = vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
        free(merged);
    }
    json_decref(cfg);
    return st;
}

/* The sidecar container, built from nothing: what it runs and mounts is
 * ours, whatever a container of that name held. Only resource and log
 * settings of an existing one are kept. */
static json_t *make_sidecar(const json_t *old, const vs_ecs_opts *o, const char *mount)
{
    json_t *c;
    if (!o->manifest_sha256) {
        /* No digest known here: set no entryPoint or command at all, so the
         * image's own ENTRYPOINT (render sidecar pins the layout digest in
         * it) runs. A bare "/vetstage-check DIR" would drop that pin. */
        c = json_pack("{sssssb}", "name", VS_RENDER_SIDECAR_NAME, "image", o->sidecar_image,
                      "essential", 0);
    } else {
        json_t *cmd = json_array();
        char lower[VS_LAYOUT_DIGEST_HEX];
        size_t i = 0;
        for (; o->manifest_sha256[i] && i < sizeof lower - 1; i++) {
            char ch = o->manifest_sha256[i];
            lower[i] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
        }
        lower[i] = '\0';
        if (cmd) {
            json_array_append_new(cmd, json_string("--manifest-sha256"));
            json_array_append_new(cmd, json_string(lower));
            json_array_append_new(cmd, json_string(mount));
        }
        c = json_pack("{sssssbs[s]so}", "name", VS_RENDER_SIDECAR_NAME, "image", o->sidecar_image,
                      "essential", 0, "entryPoint", VS_RENDER_CHECKER_PATH, "command", cmd);
    }
    if (!c)
        return NULL;
    static const char *const ints[] = { "cpu", "memory", "memoryReservation" };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        json_t *v = json_object_get(old, ints[i]);
        if (json_is_integer(v) && json_object_set(c, ints[i], v) != 0)
            goto oom;
    }
    json_t *lc = json_object_get(old, "logConfiguration");
    if (json_is_object(lc) && json_object_set_new(c, "logConfiguration", json_deep_copy(lc)) != 0)
        goto oom;
    return c;
oom:
    json_decref(c);
    return NULL;
}

/* containerDefinitions: a non-empty array of named containers, each name once
 * (ECS refuses duplicates; patching one of two namesakes would be a guess). */
static vs_status check_containers(const json_t *cs, const char *name, vs_error *err)
{
    bool ok = json_is_array(cs) && json_array_size(cs) > 0;
    for (size_t i = 0; ok && i < json_array_size(cs); i++) {
        json_t *c = json_array_get(cs, i);
        ok = json_is_object(c) && json_is_string(json_object_get(c, "name"));
    }
    if (!ok)
        return vs_error_subj(err, VS_E_USAGE, name,
                             "not a task definition: containerDefinitions must be a non-empty "
                             "array of containers with names");
    for (size_t i = 0; i < json_array_size(cs); i++)
        for (size_t k = i + 1; k < json_array_size(cs); k++)
            if (json_equal(json_object_get(json_array_get(cs, i), "name"),
                           json_object_get(json_array_get(cs, k), "name")))
                return vs_error_subj(err, VS_E_USAGE, name, "two containers named \"%s\"",
                                     str_of(json_array_get(cs, i), "name"));
    return VS_OK;
}

/* What the application container must satisfy before it is patched. */
static vs_status check_app(json_t *td, json_t *cs, json_t *app, const vs_ecs_opts *o,
                           const char *mount, const char *name, vs_error *err)
{
    vs_status st = no_plain_token(cs, name, err);
    if (st)
        return st;
    const json_t *env = json_object_get(app, "environment");
    if (env && !json_is_array(env))
        return vs_error_subj(err, VS_E_USAGE, name, "container \"%s\": environment is not an array",
                             o->app_container);
    st = check_arch(td, o, name, err);
    if (st == VS_OK)
        st = check_user(app, o, name, err);
    if (st == VS_OK)
        st = no_mount_over_layout(app, mount, name, err);
    if (st == VS_OK)
        st = writable_paths(td, app, o, name, err);
    if (st == VS_OK)
        st = no_self_upgrade(app, o, name, err);
    return st;
}

/* The application starts through the checked layout; every reference to
 * the sidecar is there exactly once, read-only and gating; the token and
 * server URL as asked. */
static vs_status wire_app(json_t *cs, json_t *app, const vs_ecs_opts *o, const char *mount,
                          const char *name, vs_error *err)
{
    const char *script = o->start_script ? o->start_script : VS_RENDER_DEFAULT_START_SCRIPT;
    char *sp = render_script_path(mount, script);
    if (!sp)
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    vs_status st = wrap_entry(app, o, sp, name, err);
    free(sp);
    if (st == VS_OK)
        st = upsert(app, "volumesFrom", "sourceContainer", VS_RENDER_SIDECAR_NAME, "readOnly",
                    json_true(), name, err);
    if (st == VS_OK)
        st = upsert(app, "dependsOn", "containerName", VS_RENDER_SIDECAR_NAME, "condition",
                    json_string(o->fail_open ? "START" : "SUCCESS"), name, err);
    /* any other container that mounts the sidecar's volume gets it once and
     * read-only too: a writer could change the layout after the check */
    for (size_t i = 0; st == VS_OK && i < json_array_size(cs); i++) {
        json_t *c = json_array_get(cs, i);
        if (c == app || !find_by(json_object_get(c, "volumesFrom"), "sourceContainer",
                                 VS_RENDER_SIDECAR_NAME))
            continue;
        st = upsert(c, "volumesFrom", "sourceContainer", VS_RENDER_SIDECAR_NAME, "readOnly",
                    json_true(), name, err);
    }
    if (st == VS_OK && o->token_secret)
        st = upsert(app, "secrets", "name", VS_RENDER_TOKEN_NAME, "valueFrom",
                    json_string(o->token_secret), name, err);
    if (st == VS_OK && o->server_url)
        st = upsert(app, "environment", "name", VS_RENDER_SERVER_URL_NAME, "value",
                    json_string(o->server_url), name, err);
    return st;
}

/* The sidecar container: replaces one of its name, else appended. */
static vs_status place_sidecar(json_t *cs, const vs_ecs_opts *o, const char *mount,
                               const char *name, vs_error *err)
{
    size_t at = json_array_size(cs);
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const char *n = str_of(json_array_get(cs, i), "name");
        if (n && !strcmp(n, VS_RENDER_SIDECAR_NAME))
            at = i;
    }
    json_t *side = make_sidecar(at < json_array_size(cs) ? json_array_get(cs, at) : NULL, o, mount);
    if (!side)
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    int r = at < json_array_size(cs) ? json_array_set_new(cs, at, side)
                                     : json_array_append_new(cs, side);
    return r == 0 ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
}

static vs_status patch(json_t *td, const vs_ecs_opts *o, const char *name, vs_error *err)
{
    json_t *cs = json_object_get(td, "containerDefinitions");
    vs_status st = check_containers(cs, name, err);
    if (st)
        return st;
    json_t *app = find_by(cs, "name", o->app_container);
    if (!app)
        return no_such_container(cs, o->app_container, name, err);
    const char *mount = o->mount_path ? o->mount_path : VS_RENDER_DEFAULT_MOUNT;
    st = check_app(td, cs, app, o, mount, name, err);
    if (st == VS_OK)
        st = wire_app(cs, app, o, mount, name, err);
    if (st == VS_OK)
        st = place_sidecar(cs, o, mount, name, err);
    return st;
}

/* The task definition in a describe-task-definition reply (with its tags),
 * or the document itself; *root owns both. */
static vs_status load_task_def(const uint8_t *in, size_t len, const char *name, json_t **root,
                               json_t **td, json_t **tags, vs_error *err)
{
    *td = *tags = NULL;
    if (len > VS_MAX_TASK_DEF)
        return vs_error_subj(err, VS_E_USAGE, name, "larger than the limit of %u bytes",
                             VS_MAX_TASK_DEF);
    json_error_t je;
    *root = json_loadb((const char *)in, len, JSON_REJECT_DUPLICATES, &je);
    if (!*root)
        return vs_error_subj(err, VS_E_USAGE, name, "malformed JSON at line %d: %s", je.line,
                             je.text);
    if (!json_is_object(*root))
        return vs_error_subj(err, VS_E_USAGE, name, "not a JSON object");
    json_t *inner = json_object_get(*root, "taskDefinition");
    if (!inner) {
        *td = *root;
        return VS_OK;
    }
    if (!json_is_object(inner))
        return vs_error_subj(err, VS_E_USAGE, name, "taskDefinition is not an object");
    if (json_object_get(inner, "taskDefinition"))
        return vs_error_subj(err, VS_E_USAGE, name, "taskDefinition nested in taskDefinition");
    *tags = json_object_get(*root, "tags");
    if (*tags && !json_is_array(*tags))
        return vs_error_subj(err, VS_E_USAGE, name, "tags is not an array");
    *td = inner;
    return VS_OK;
}

/* A registrable copy: the fields ECS fills in itself dropped, the reply's
 * tags kept. */
static vs_status registrable(const json_t *td, const json_t *tags, const char *name,
                             json_t **out, vs_error *err)
{
    json_t *res = json_object();
    vs_status st = res ? VS_OK : vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)td, k, v)
    {
        bool drop = false;
        for (size_t i = 0; i < sizeof read_only / sizeof read_only[0]; i++)
            drop = drop || !strcmp(k, read_only[i]);
        if (st == VS_OK && !drop && json_object_set_new(res, k, json_deep_copy(v)) != 0)
            st = vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    }
    if (st == VS_OK && tags && !json_object_get(res, "tags") &&
        json_object_set_new(res, "tags", json_deep_copy(tags)) != 0)
        st = vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    if (st)
        json_decref(res);
    else
        *out = res;
    return st;
}

/* Indented JSON with a final newline. */
static vs_status dump_task_def(const json_t *res, const char *name, char **out, vs_error *err)
{
    char *s = json_dumps(res, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t n = s ? strlen(s) : 0;
    char *r = s ? realloc(s, n + 2) : NULL;
    if (!r) {
        free(s);
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    }
    r[n] = '\n';
    r[n + 1] = '\0';
    *out = r;
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
    json_t *root = NULL, *td, *tags, *res = NULL;
    st = load_task_def(in, len, name, &root, &td, &tags, err);
    if (st == VS_OK)
        st = registrable(td, tags, name, &res, err);
    json_decref(root);
    if (st == VS_OK)
        st = patch(res, o, name, err);
    if (st == VS_OK)
        st = dump_task_def(res, name, out, err);
    json_decref(res);
    return st;
}

vs_status vs_render_ecs_task_file(char **out, const char *path, const vs_ecs_opts *o,
                                  vs_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return vs_error_subj(err, VS_E_USAGE, "--task-def", "no task definition given");
    vs_status st = check_opts(o, err);
    if (st)
        return st;
    vs_ecs_opts o2 = *o;
    render_layout l;
    memset(&l, 0, sizeof l);
    if (o->layout) {
        /* the layout the sidecar image carries: checked as for render sidecar;
         * its digest goes into the sidecar's command, its architecture is
         * compared with the task's */
        st = render_layout_open(&l, o->layout,
                                o->start_script ? o->start_script
                                                : VS_RENDER_DEFAULT_START_SCRIPT,
                                o->manifest_sha256, err);
        if (st)
            return st;
        o2.manifest_sha256 = l.digest;
        if (l.arch && o->arch && strcmp(l.arch, o->arch) != 0) {
            st = vs_error_subj(err, VS_E_USAGE, o->layout,
                               "staged for %s, not for the architecture given (%s)", l.arch,
                               o->arch);
            render_layout_free(&l);
            return st;
        }
        if (l.arch)
            o2.arch = l.arch;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    st = vs_read_file(AT_FDCWD, path, VS_MAX_TASK_DEF, &buf, &len, err);
    if (st == VS_OK) /* else VS_E_USAGE for a missing, unreadable or oversized file */
        st = vs_render_ecs_task(out, buf, len, path, &o2, err);
    free(buf);
    render_layout_free(&l);
    return st;
}
