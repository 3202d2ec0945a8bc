/* tests/unit/render - Dockerfile text, JSON escaping of exec-form arguments,
 * build contexts, and the ECS task-definition patch table. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/common_int.h"
#include "vetstage/render.h"
#include "vetstage/stage.h"
#include "render/render_int.h"

/* ---- a hand-made flat layout -------------------------------------------- */

static const char *const files[][3] = {
    { "lacework-sidecar.sh", "#!/bin/sh\necho started\n", "755" },
    { "bin/datacollector", "#!/bin/sh\necho agent\n", "755" },
    { "etc/config.json", "{}\n", "644" },
};

static void put_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(p, mode), 0);
}

static void hex_of(const char *text, char hex[65])
{
    vs_error e = VS_ERROR_INIT;
    vs_sha256 h;
    ck_assert_int_eq(vs_sha256_init(&h, &e), VS_OK);
    vs_sha256_update(&h, text, strlen(text));
    uint8_t d[32];
    vs_sha256_final(&h, d);
    vs_hex(hex, d, 32);
}

/* Makes a fresh temporary folder holding `layout/` (flat); returns its path. */
static char *make_layout(void)
{
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_lib_init(&e), VS_OK);
    char *base = strdup("/tmp/vs-unit-render-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    char dir[256];
    snprintf(dir, sizeof dir, "%s/layout", base);
    int bfd = open(base, O_RDONLY | O_DIRECTORY);
    ck_assert_int_eq(vs_mkdir_p(bfd, "layout/bin", 0755, &e), VS_OK);
    ck_assert_int_eq(vs_mkdir_p(bfd, "layout/etc", 0755, &e), VS_OK);
    ck_assert_int_eq(vs_mkdir_p(bfd, "layout/.vetstage", 0755, &e), VS_OK);
    close(bfd);
    char manifest[2048] = "";
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        put_file(dir, files[i][0], files[i][1], (mode_t)strtol(files[i][2], NULL, 8));
        char hex[65], line[256];
        hex_of(files[i][1], hex);
        snprintf(line, sizeof line, "%s  %s\n", hex, files[i][0]);
        strncat(manifest, line, sizeof manifest - strlen(manifest) - 1);
    }
    put_file(dir, ".vetstage/MANIFEST.sha256", manifest, 0644);
    put_file(dir, ".vetstage/MODES",
             "# vetstage MODES v1: TYPE MODE PATH[<TAB>SYMLINK-TARGET]\n"
             "d 0755 bin\nf 0755 bin/datacollector\nd 0755 etc\nf 0644 etc/config.json\n"
             "f 0755 lacework-sidecar.sh\n",
             0644);
    put_file(dir, ".vetstage/provenance.json",
             "{\"name\": \"agent\", \"version\": \"1.2.3\", \"sha256\": "
             "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", "
             "\"signers\": [\"AAAABBBBCCCCDDDDEEEEFFFF0000111122223333\"]}\n",
             0644);
    return base;
}

static void rm_base(char *base)
{
    vs_error e = VS_ERROR_INIT;
    vs_remove_tree(AT_FDCWD, base, &e);
    free(base);
}

static char *layout_of(const char *base)
{
    return vs_path_join(base, "layout");
}

static const char expected_sidecar[] =
    "# vetstage sidecar image: agent 1.2.3 as a volume at /opt/lw.\n"
    "# Build context: this Dockerfile, layout/ (the staged tree) and vetstage-check\n"
    "# (static layout checker). The command checks the layout (pinned by its\n"
    "# layout digest) and exits 0 only when it is intact, so ECS dependsOn\n"
    "# SUCCESS gates the application on it.\n"
    "FROM scratch\n"
    "LABEL org.opencontainers.image.title=\"agent\" \\\n"
    "      org.opencontainers.image.version=\"1.2.3\" \\\n"
    "      org.opencontainers.image.description=\"agent 1.2.3, vetted and staged by vetstage\" \\\n"
    "      io.vetstage.package=\"agent\" \\\n"
    "      io.vetstage.version=\"1.2.3\" \\\n"
    "      io.vetstage.sha256=\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" \\\n"
    "      io.vetstage.signers=\"AAAABBBBCCCCDDDDEEEEFFFF0000111122223333\" \\\n"
    "      io.vetstage.layout-digest=\"%s\"\n"
    "COPY vetstage-check /vetstage-check\n"
    "COPY layout/ /opt/lw/\n"
    "VOLUME [\"/opt/lw\"]\n"
    "ENTRYPOINT [\"/vetstage-check\", \"--manifest-sha256\", \"%s\", \"/opt/lw\"]\n";

START_TEST(sidecar_exact_text)
{
    char *base = make_layout();
    char *dir = layout_of(base);
    vs_render_opts o = VS_RENDER_OPTS_INIT;
    o.layout = dir;
    o.mount_path = "/opt/lw";
    char *text = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_OK);
    char dg[VS_LAYOUT_DIGEST_HEX];
    ck_assert_int_eq(vs_layout_digest(dg, dir, &e), VS_OK);
    char want[4096];
    snprintf(want, sizeof want, expected_sidecar, dg, dg);
    ck_assert_str_eq(text, want);
    free(text);
    free(dir);
    rm_base(base);
}
END_TEST

/* The ENTRYPOINT line of an embedded Dockerfile, parsed back. */
static json_t *entry_of(const char *text, const char *instr)
{
    char key[32];
    snprintf(key, sizeof key, "\n%s ", instr);
    const char *p = strstr(text, key);
    ck_assert_ptr_nonnull(p);
    p += strlen(key);
    const char *nl = strchr(p, '\n');
    ck_assert_ptr_nonnull(nl);
    json_t *j = json_loadb(p, (size_t)(nl - p), 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(embedded_odd_arguments)
{
    char *base = make_layout();
    char *dir = layout_of(base);
    /* quotes, spaces, backslashes, $, newline, tab, unicode (BMP and astral) */
    const char *ep = "[\"/app/run\", \"a b\", \"q\\\"uo'te\", \"back\\\\slash\", \"$HOME ${X}\", "
                     "\"line\\nnext\\ttab\", \"\\u00fcn\\u00efc\\u00f6de\", \"\\ud83d\\ude00\", \"\"]";
    const char *cmd = "[\"--flag=\\\"x y\\\"\", \"&& rm -rf /\"]";
    vs_render_opts o = VS_RENDER_OPTS_INIT;
    o.flow = VS_RENDER_EMBEDDED;
    o.layout = dir;
    o.app_image = "registry.example.test/team/app:1.0@sha256:abc";
    o.entrypoint_json = ep;
    o.cmd_json = cmd;
    char *text = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_OK);
    ck_assert_ptr_nonnull(strstr(text, "\nFROM scratch AS vetstage-layout\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nFROM registry.example.test/team/app:1.0@sha256:abc\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nCOPY --from=vetstage-layout /var/lib/lacework-backup/ "
                                       "/var/lib/lacework-backup/\n"));
    json_t *got = entry_of(text, "ENTRYPOINT");
    json_t *want_ep = json_loads(ep, 0, NULL);
    ck_assert_int_eq(json_array_size(got), 4 + json_array_size(want_ep));
    ck_assert_str_eq(json_string_value(json_array_get(got, 0)), "/bin/sh");
    ck_assert_str_eq(json_string_value(json_array_get(got, 1)), "-c");
    char dg[VS_LAYOUT_DIGEST_HEX], script[256];
    ck_assert_int_eq(vs_layout_digest(dg, dir, &e), VS_OK);
    snprintf(script, sizeof script,
             "/vetstage-check --manifest-sha256 %s /var/lib/lacework-backup && \"$0\" && exec \"$@\"",
             dg);
    ck_assert_str_eq(json_string_value(json_array_get(got, 2)), script);
    /* no self-upgrade in the image; no USER line without --as-root */
    ck_assert_ptr_nonnull(strstr(text, "\nENV LaceworkConfig=\"{\\\"autoupgrade\\\":\\\"disable\\\"}\"\n"));
    ck_assert_ptr_null(strstr(text, "\nUSER "));
    ck_assert_str_eq(json_string_value(json_array_get(got, 3)),
                     "/var/lib/lacework-backup/lacework-sidecar.sh");
    for (size_t i = 0; i < json_array_size(want_ep); i++)
        ck_assert(json_equal(json_array_get(got, 4 + i), json_array_get(want_ep, i)));
    json_t *got_cmd = entry_of(text, "CMD");
    json_t *want_cmd = json_loads(cmd, 0, NULL);
    ck_assert(json_equal(got_cmd, want_cmd));
    /* the exec-form lines hold no raw newline or tab: one instruction per line */
    ck_assert_ptr_null(strchr(strstr(text, "\nENTRYPOINT ") + 1, '\t'));
    json_decref(got);
    json_decref(want_ep);
    json_decref(got_cmd);
    json_decref(want_cmd);
    free(text);
    free(dir);
    rm_base(base);
}
END_TEST

START_TEST(embedded_refusals)
{
    char *base = make_layout();
    char *dir = layout_of(base);
    static const struct {
        const char *image, *ep, *cmd, *mount, *script;
        vs_status want;
        const char *msg;
    } cases[] = {
        { "app:1", NULL, NULL, NULL, NULL, VS_E_USAGE, "--entrypoint and/or --cmd" },
        { "app:1", "[]", "[]", NULL, NULL, VS_E_USAGE, "both empty" },
        { "app:1", "not json", NULL, NULL, NULL, VS_E_USAGE, "--entrypoint: not JSON" },
        { "app:1", "[\"a\", 1]", NULL, NULL, NULL, VS_E_USAGE, "array of strings" },
        { "app:1", "{\"a\": 1}", NULL, NULL, NULL, VS_E_USAGE, "array of strings" },
        { "app:1", NULL, "\"x\"", NULL, NULL, VS_E_USAGE, "--cmd" },
        { "app:1 AS x", "[\"a\"]", NULL, NULL, NULL, VS_E_USAGE, "not an image reference" },
        { "$IMG", "[\"a\"]", NULL, NULL, NULL, VS_E_USAGE, "not an image reference" },
        { NULL, "[\"a\"]", NULL, NULL, NULL, VS_E_USAGE, "--app-image" },
        { "app:1", "[\"a\"]", NULL, "relative", NULL, VS_E_USAGE, "mount path" },
        { "app:1", "[\"a\"]", NULL, "/a/../b", NULL, VS_E_USAGE, "mount path" },
        { "app:1", "[\"a\"]", NULL, "/a b", NULL, VS_E_USAGE, "mount path" },
        { "app:1", "[\"a\"]", NULL, "/", NULL, VS_E_USAGE, "mount path" },
        { "app:1", "[\"a\"]", NULL, NULL, "../x.sh", VS_E_USAGE, "start script" },
        { "app:1", "[\"a\"]", NULL, NULL, "/abs.sh", VS_E_USAGE, "start script" },
        { "app:1", "[\"a\"]", NULL, NULL, "missing.sh", VS_E_INTEGRITY, "missing.sh: start script missing" },
        { "app:1", "[\"a\"]", NULL, NULL, "etc/config.json", VS_E_INTEGRITY, "not executable" },
        { "app:1", "[\"a\"]", NULL, NULL, "bin", VS_E_INTEGRITY, "not a regular file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vs_render_opts o = VS_RENDER_OPTS_INIT;
        o.flow = VS_RENDER_EMBEDDED;
        o.layout = dir;
        o.app_image = cases[i].image;
        o.entrypoint_json = cases[i].ep;
        o.cmd_json = cases[i].cmd;
        o.mount_path = cases[i].mount;
        o.start_script = cases[i].script;
        char *text = (char *)"untouched";
        vs_error e = VS_ERROR_INIT;
        vs_status st = vs_render_dockerfile(&text, &o, &e);
        ck_assert_msg(st == cases[i].want, "case %zu: status %d, want %d (%s)", i, st,
                      cases[i].want, e.message);
        ck_assert_msg(strstr(e.message, cases[i].msg) != NULL, "case %zu: message '%s' lacks '%s'",
                      i, e.message, cases[i].msg);
        ck_assert_ptr_null(text);
        ck_assert_ptr_null(strchr(e.message, '\n'));
    }
    free(dir);
    rm_base(base);
}
END_TEST

START_TEST(layout_refusals)
{
    char *base = make_layout();
    char *dir = layout_of(base);
    vs_render_opts o = VS_RENDER_OPTS_INIT;
    char *text = NULL;
    vs_error e = VS_ERROR_INIT;
    /* not a layout */
    o.layout = base;
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "not a layout"));
    o.layout = "/nonexistent/vs-render";
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_USAGE);
    /* an altered file */
    o.layout = dir;
    put_file(dir, "bin/datacollector", "#!/bin/sh\necho evil\n", 0755);
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(e.message, "bin/datacollector"));
    /* nothing written for a context either */
    char ctx[512];
    snprintf(ctx, sizeof ctx, "%s/ctx", base);
    o.checker = "/bin/true";
    ck_assert_int_eq(vs_render_context(ctx, &o, &e), VS_E_INTEGRITY);
    struct stat sb;
    ck_assert_int_ne(lstat(ctx, &sb), 0);
    /* start script removed: refused before anything else */
    put_file(dir, "bin/datacollector", files[1][1], 0755);
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_OK);
    free(text);
    char p[512];
    snprintf(p, sizeof p, "%s/lacework-sidecar.sh", dir);
    ck_assert_int_eq(unlink(p), 0);
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(e.message, "lacework-sidecar.sh: start script missing"));
    free(dir);
    rm_base(base);
}
END_TEST

START_TEST(versioned_layout_and_context)
{
    char *base = make_layout();
    char *flat = layout_of(base);
    /* turn it into versions/1.2.3 + current */
    char top[512], versions[512], v[512];
    snprintf(top, sizeof top, "%s/top", base);
    snprintf(versions, sizeof versions, "%s/top/versions", base);
    snprintf(v, sizeof v, "%s/top/versions/1.2.3", base);
    ck_assert_int_eq(mkdir(top, 0755), 0);
    ck_assert_int_eq(mkdir(versions, 0755), 0);
    ck_assert_int_eq(rename(flat, v), 0);
    char cur[600];
    snprintf(cur, sizeof cur, "%s/current", top);
    ck_assert_int_eq(symlink("versions/1.2.3", cur), 0);

    char ctx[512];
    snprintf(ctx, sizeof ctx, "%s/ctx", base);
    ck_assert_int_eq(mkdir(ctx, 0755), 0); /* an empty directory is accepted */
    vs_render_opts o = VS_RENDER_OPTS_INIT;
    o.layout = top;
    o.checker = "/bin/true";
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_render_context(ctx, &o, &e), VS_OK);
    struct stat sb;
    char p[600];
    snprintf(p, sizeof p, "%s/Dockerfile", ctx);
    ck_assert_int_eq(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/vetstage-check", ctx);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0755);
    snprintf(p, sizeof p, "%s/layout/bin/datacollector", ctx);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0755);
    snprintf(p, sizeof p, "%s/layout/etc/config.json", ctx);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0644);
    snprintf(p, sizeof p, "%s/layout/.vetstage/MANIFEST.sha256", ctx);
    ck_assert_int_eq(stat(p, &sb), 0);
    /* a context that is not empty now: refused, nothing changed */
    ck_assert_int_eq(vs_render_context(ctx, &o, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "not empty"));
    /* a checker that does not exist: refused before writing */
    char ctx2[512];
    snprintf(ctx2, sizeof ctx2, "%s/ctx2", base);
    o.checker = "/nonexistent/vetstage-check";
    ck_assert_int_eq(vs_render_context(ctx2, &o, &e), VS_E_USAGE);
    ck_assert_int_ne(lstat(ctx2, &sb), 0);
    free(flat);
    rm_base(base);
}
END_TEST

/* ---- ECS ------------------------------------------------------------------ */

static const char td_bare[] =
    "{\"family\": \"app\", \"networkMode\": \"awsvpc\", \"requiresCompatibilities\": [\"FARGATE\"],"
    " \"cpu\": \"256\", \"memory\": \"512\", \"containerDefinitions\": ["
    " {\"name\": \"app\", \"image\": \"app:1\", \"essential\": true, \"entryPoint\": [\"/app/run\"],"
    "  \"command\": [\"--port\", \"8080\"],"
    "  \"dependsOn\": [{\"containerName\": \"init\", \"condition\": \"COMPLETE\"}],"
    "  \"volumesFrom\": [{\"sourceContainer\": \"init\", \"readOnly\": false}]},"
    " {\"name\": \"init\", \"image\": \"busybox\", \"essential\": false}]}";

static char *describe_of(const char *bare)
{
    size_t n = strlen(bare) + 512;
    char *s = malloc(n);
    /* add read-only fields to the bare definition and wrap it as a reply */
    snprintf(s, n,
             "{\"taskDefinition\": {\"taskDefinitionArn\": \"arn:x\", \"revision\": 3, "
             "\"status\": \"ACTIVE\", \"compatibilities\": [\"FARGATE\"], "
             "\"requiresAttributes\": [], \"registeredAt\": 1, \"registeredBy\": \"me\", %s, "
             "\"tags\": [{\"key\": \"k\", \"value\": \"v\"}]}",
             bare + 1);
    /* "%s" ended with the bare object's "}" which closes taskDefinition */
    return s;
}

static vs_status ecs(const char *in, const vs_ecs_opts *o, char **out, vs_error *e)
{
    return vs_render_ecs_task(out, (const uint8_t *)in, strlen(in), "td.json", o, e);
}

#define SIDECAR_REF \
    "sidecar@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static vs_ecs_opts base_opts(void)
{
    vs_ecs_opts o = VS_ECS_OPTS_INIT;
    o.app_container = "app";
    o.sidecar_image = SIDECAR_REF;
    o.token_secret = "arn:aws:secretsmanager:us-east-1:1:secret:lw";
    return o;
}

static json_t *container(json_t *td, const char *name)
{
    json_t *cs = json_object_get(td, "containerDefinitions");
    for (size_t i = 0; i < json_array_size(cs); i++) {
        json_t *c = json_array_get(cs, i);
        if (!strcmp(json_string_value(json_object_get(c, "name")), name))
            return c;
    }
    return NULL;
}

START_TEST(ecs_describe_and_bare)
{
    vs_ecs_opts o = base_opts();
    char *a = NULL, *b = NULL;
    vs_error e = VS_ERROR_INIT;
    char *desc = describe_of(td_bare);
    ck_assert_msg(ecs(desc, &o, &a, &e) == VS_OK, "%s", e.message);
    ck_assert_int_eq(ecs(td_bare, &o, &b, &e), VS_OK);
    json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
    ck_assert_ptr_nonnull(ja);
    /* the reply's read-only fields are gone, its tags kept at top level */
    static const char *ro[] = { "taskDefinitionArn", "revision", "status", "compatibilities",
                                "requiresAttributes", "registeredAt", "registeredBy" };
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
        ck_assert_ptr_null(json_object_get(ja, ro[i]));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(ja, "tags"), 0), "key")), "k");
    json_object_del(ja, "tags");
    ck_assert(json_equal(ja, jb));

    json_t *app = container(ja, "app");
    json_t *side = container(ja, VS_RENDER_SIDECAR_NAME);
    ck_assert_ptr_nonnull(side);
    ck_assert(json_is_false(json_object_get(side, "essential")));
    ck_assert_str_eq(json_string_value(json_object_get(side, "image")), SIDECAR_REF);
    json_t *want_ep = json_pack("[ssss]", "/bin/sh", "-c", "\"$0\" && exec \"$@\"",
                                "/var/lib/lacework-backup/lacework-sidecar.sh");
    ck_assert(json_equal(json_object_get(app, "entryPoint"), want_ep));
    json_t *want_cmd = json_pack("[sss]", "/app/run", "--port", "8080");
    ck_assert(json_equal(json_object_get(app, "command"), want_cmd));
    /* existing dependsOn / volumesFrom kept, ours added */
    json_t *dep = json_object_get(app, "dependsOn");
    ck_assert_int_eq(json_array_size(dep), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(dep, 0), "condition")), "COMPLETE");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(dep, 1), "condition")), "SUCCESS");
    json_t *vf = json_object_get(app, "volumesFrom");
    ck_assert_int_eq(json_array_size(vf), 2);
    ck_assert(json_is_true(json_object_get(json_array_get(vf, 1), "readOnly")));
    json_t *sec = json_object_get(app, "secrets");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sec, 0), "name")), "LaceworkAccessToken");
    /* the only environment added: the agent may not replace itself */
    json_t *want_env = json_pack("[{ssss}]", "name", "LaceworkConfig", "value",
                                 "{\"autoupgrade\":\"disable\"}");
    ck_assert(json_equal(json_object_get(app, "environment"), want_env));
    json_decref(want_env);
    json_decref(want_ep);
    json_decref(want_cmd);
    json_decref(ja);
    json_decref(jb);
    free(a);
    free(b);
    free(desc);
}
END_TEST

START_TEST(ecs_idempotent)
{
    vs_ecs_opts o = base_opts();
    o.server_url = "https://api.example.test";
    char *once = NULL, *twice = NULL, *thrice = NULL;
    vs_error e = VS_ERROR_INIT;
    char *desc = describe_of(td_bare);
    ck_assert_int_eq(ecs(desc, &o, &once, &e), VS_OK);
    ck_assert_int_eq(ecs(once, &o, &twice, &e), VS_OK);
    ck_assert_str_eq(once, twice);
    /* no image entry point needed the second time either */
    o.image_entrypoint_json = NULL;
    ck_assert_int_eq(ecs(twice, &o, &thrice, &e), VS_OK);
    ck_assert_str_eq(once, thrice);
    free(once);
    free(twice);
    free(thrice);
    free(desc);
}
END_TEST

START_TEST(ecs_image_entry_point)
{
    static const struct {
        const char *container; /* the app container's JSON */
        const char *iep, *icmd;
        vs_status want;
        const char *command; /* expected command as JSON, or the message */
    } cases[] = {
        /* no entryPoint: the image's, then the task's command (it replaces CMD) */
        { "{\"name\": \"app\", \"image\": \"i\", \"command\": [\"serve\"]}", "[\"/ep\"]", "[\"cmd\"]",
          VS_OK, "[\"/ep\", \"serve\"]" },
        { "{\"name\": \"app\", \"image\": \"i\"}", "[\"/ep\"]", "[\"cmd\", \"a b\"]", VS_OK,
          "[\"/ep\", \"cmd\", \"a b\"]" },
        { "{\"name\": \"app\", \"image\": \"i\"}", NULL, "[\"/bin/app\"]", VS_OK, "[\"/bin/app\"]" },
        { "{\"name\": \"app\", \"image\": \"i\", \"entryPoint\": []}", "[\"/ep\"]", NULL, VS_OK,
          "[\"/ep\"]" },
        /* an entryPoint override drops the image's CMD */
        { "{\"name\": \"app\", \"image\": \"i\", \"entryPoint\": [\"/x\"]}", "[\"/ep\"]", "[\"c\"]",
          VS_OK, "[\"/x\"]" },
        { "{\"name\": \"app\", \"image\": \"i\"}", NULL, NULL, VS_E_USAGE,
          "sets no entryPoint: give the image's entry point" },
        { "{\"name\": \"app\", \"image\": \"i\", \"command\": [\"x\"]}", NULL, NULL, VS_E_USAGE,
          "--image-entrypoint" },
        { "{\"name\": \"app\", \"image\": \"i\"}", "[]", "[]", VS_E_USAGE, "nothing to run" },
        { "{\"name\": \"app\", \"image\": \"i\"}", "[1]", NULL, VS_E_USAGE, "--image-entrypoint" },
        { "{\"name\": \"app\", \"image\": \"i\", \"entryPoint\": \"/x\"}", NULL, NULL, VS_E_USAGE,
          "arrays of strings" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[1024];
        snprintf(in, sizeof in, "{\"family\": \"f\", \"containerDefinitions\": [%s]}",
                 cases[i].container);
        vs_ecs_opts o = base_opts();
        o.image_entrypoint_json = cases[i].iep;
        o.image_cmd_json = cases[i].icmd;
        char *out = NULL;
        vs_error e = VS_ERROR_INIT;
        vs_status st = ecs(in, &o, &out, &e);
        ck_assert_msg(st == cases[i].want, "case %zu: %d (%s)", i, st, e.message);
        if (st != VS_OK) {
            ck_assert_msg(strstr(e.message, cases[i].command) != NULL, "case %zu: '%s'", i,
                          e.message);
            /* about the file, or about the option that was wrong */
            ck_assert(strstr(e.message, "td.json") != NULL || e.message[0] == '-');
            ck_assert_ptr_null(out);
            continue;
        }
        json_t *j = json_loads(out, 0, NULL);
        json_t *want = json_loads(cases[i].command, 0, NULL);
        ck_assert_msg(json_equal(json_object_get(container(j, "app"), "command"), want),
                      "case %zu: %s", i, out);
        json_decref(j);
        json_decref(want);
        free(out);
    }
}
END_TEST

START_TEST(ecs_refusals)
{
    static const struct {
        const char *in;
        const char *app;
        const char *msg;
    } cases[] = {
        { "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"web\", \"image\": \"i\"}]}",
          "app", "no container named \"app\"" },
        { "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"app\", \"image\": \"i\","
          " \"entryPoint\": [\"/x\"], \"environment\": [{\"name\": \"LaceworkAccessToken\", "
          "\"value\": \"secret\"}]}]}",
          "app", "plain environment" },
        { "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"app\", \"image\": \"i\","
          " \"entryPoint\": [\"/x\"]}, {\"name\": \"other\", \"environment\": [{\"name\": "
          "\"LaceworkAccessToken\", \"value\": \"s\"}]}]}",
          "app", "\"other\" has LaceworkAccessToken" },
        { "{\"family\": \"f\", \"containerDefinitions\": [", "app", "malformed JSON" },
        { "[1, 2]", "app", "not a JSON object" },
        { "", "app", "malformed JSON" },
        { "{\"family\": \"f\"}", "app", "containerDefinitions" },
        { "{\"family\": \"f\", \"containerDefinitions\": []}", "app", "containerDefinitions" },
        { "{\"family\": \"f\", \"containerDefinitions\": [1]}", "app", "containerDefinitions" },
        { "{\"family\": \"f\", \"family\": \"g\", \"containerDefinitions\": []}", "app",
          "malformed JSON" },
        { "{\"taskDefinition\": [], \"tags\": []}", "app", "taskDefinition is not an object" },
        { "{\"taskDefinition\": {\"taskDefinition\": {}, \"containerDefinitions\": []}}", "app",
          "nested" },
        { "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"app\"}, {\"name\": "
          "\"datacollector-sidecar\"}, {\"name\": \"datacollector-sidecar\"}]}",
          "app", "two containers named \"datacollector-sidecar\"" },
        { "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"app\", \"image\": \"i\","
          " \"entryPoint\": [\"/x\"], \"dependsOn\": {}}]}",
          "app", "dependsOn is not an array" },
        { "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"datacollector-sidecar\"}]}",
          "datacollector-sidecar", "not a usable application container" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vs_ecs_opts o = base_opts();
        o.app_container = cases[i].app;
        char *out = NULL;
        vs_error e = VS_ERROR_INIT;
        vs_status st = ecs(cases[i].in, &o, &out, &e);
        ck_assert_msg(st == VS_E_USAGE, "case %zu: %d (%s)", i, st, e.message);
        ck_assert_msg(strstr(e.message, cases[i].msg) != NULL, "case %zu: '%s'", i, e.message);
        ck_assert_ptr_null(out);
    }
    /* over the size limit */
    size_t big = VS_MAX_TASK_DEF + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    vs_ecs_opts o = base_opts();
    char *out = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_render_ecs_task(&out, (uint8_t *)huge, big, "big.json", &o, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "limit"));
    free(huge);
}
END_TEST

START_TEST(ecs_existing_entries_updated_not_duplicated)
{
    const char *in =
        "{\"family\": \"f\", \"containerDefinitions\": ["
        "{\"name\": \"app\", \"image\": \"i\", \"entryPoint\": [\"/x\"],"
        " \"secrets\": [{\"name\": \"LaceworkAccessToken\", \"valueFrom\": \"arn:old\"}],"
        " \"environment\": [{\"name\": \"A\", \"value\": \"1\"}, {\"name\": \"LaceworkServerUrl\", \"value\": \"old\"}],"
        " \"dependsOn\": [{\"containerName\": \"datacollector-sidecar\", \"condition\": \"START\"}]},"
        "{\"name\": \"datacollector-sidecar\", \"image\": \"old:0\", \"essential\": true,"
        " \"portMappings\": [{\"containerPort\": 1}], \"memory\": 64}]}";
    vs_ecs_opts o = base_opts();
    o.server_url = "https://new";
    char *out = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(ecs(in, &o, &out, &e) == VS_OK, "%s", e.message);
    json_t *j = json_loads(out, 0, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(j, "containerDefinitions")), 2);
    json_t *app = container(j, "app");
    json_t *sec = json_object_get(app, "secrets");
    ck_assert_int_eq(json_array_size(sec), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sec, 0), "valueFrom")),
                     "arn:aws:secretsmanager:us-east-1:1:secret:lw");
    json_t *env = json_object_get(app, "environment");
    ck_assert_int_eq(json_array_size(env), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(env, 1), "value")), "https://new");
    json_t *dep = json_object_get(app, "dependsOn");
    ck_assert_int_eq(json_array_size(dep), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(dep, 0), "condition")), "SUCCESS");
    json_t *side = container(j, VS_RENDER_SIDECAR_NAME);
    ck_assert_str_eq(json_string_value(json_object_get(side, "image")), SIDECAR_REF);
    ck_assert(json_is_false(json_object_get(side, "essential")));
    ck_assert_ptr_null(json_object_get(side, "portMappings"));
    ck_assert_int_eq(json_integer_value(json_object_get(side, "memory")), 64);
    json_decref(j);
    free(out);
}
END_TEST

/* Read a small file whole (test helper). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* The layout digest is sha256 of the `sha256sum MANIFEST.sha256 MODES
 * provenance.json` listing; it changes with each of the three files, and a
 * versioned layout gives the digest of its current tree. */
START_TEST(layout_digest_definition)
{
    char *base = make_layout();
    char *dir = layout_of(base);
    static const char *const names[] = { "MANIFEST.sha256", "MODES", "provenance.json" };
    char listing[1024] = "";
    for (size_t i = 0; i < 3; i++) {
        char p[512], hex[65], line[256];
        snprintf(p, sizeof p, "%s/.vetstage/%s", dir, names[i]);
        char *text = slurp(p);
        hex_of(text, hex);
        free(text);
        snprintf(line, sizeof line, "%s  %s\n", hex, names[i]);
        strncat(listing, line, sizeof listing - strlen(listing) - 1);
    }
    char want[65], have[VS_LAYOUT_DIGEST_HEX];
    hex_of(listing, want);
    vs_error e = VS_ERROR_INIT;
    ck_assert_int_eq(vs_layout_digest(have, dir, &e), VS_OK);
    ck_assert_str_eq(have, want);
    ck_assert(vs_layout_digest_valid(have));
    ck_assert(!vs_layout_digest_valid("abc"));
    ck_assert(!vs_layout_digest_valid(NULL));

    /* versioned: DIR/current -> versions/1.2.3 */
    char vdir[300], cmd[2400];
    snprintf(vdir, sizeof vdir, "%s/vers", base);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/versions' && cp -a '%s' '%s/versions/1.2.3' && ln -s versions/1.2.3 '%s/current'",
             vdir, dir, vdir, vdir);
    ck_assert_int_eq(system(cmd), 0);
    char vhave[VS_LAYOUT_DIGEST_HEX];
    ck_assert_int_eq(vs_layout_digest(vhave, vdir, &e), VS_OK);
    ck_assert_str_eq(vhave, want);

    /* each of the three files changes it */
    for (size_t i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/.vetstage/%s", dir, names[i]);
        char *text = slurp(p);
        FILE *f = fopen(p, "ab");
        fputs(" ", f);
        fclose(f);
        char other[VS_LAYOUT_DIGEST_HEX];
        ck_assert_int_eq(vs_layout_digest(other, dir, &e), VS_OK);
        ck_assert_str_ne(other, want);
        f = fopen(p, "wb");
        fputs(text, f);
        fclose(f);
        free(text);
        ck_assert_int_eq(vs_layout_digest(other, dir, &e), VS_OK);
        ck_assert_str_eq(other, want);
    }

    /* refusals: a symlinked metadata file, a missing one, not a layout */
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/.vetstage/MODES", dir);
    snprintf(q, sizeof q, "%s/modes-elsewhere", base);
    ck_assert_int_eq(rename(p, q), 0);
    ck_assert_int_eq(vs_layout_digest(have, dir, &e), VS_E_INTEGRITY);
    ck_assert_str_eq(have, "");
    ck_assert_ptr_nonnull(strstr(e.message, "MODES"));
    ck_assert_int_eq(symlink(q, p), 0);
    ck_assert_int_eq(vs_layout_digest(have, dir, &e), VS_E_INTEGRITY);
    ck_assert_int_eq(vs_layout_digest(have, base, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "not a layout"));
    snprintf(p, sizeof p, "%s/absent", base);
    ck_assert_int_eq(vs_layout_digest(have, p, &e), VS_E_USAGE);
    free(dir);
    rm_base(base);
}
END_TEST

/* Issue 9: a task definition that tries to switch the gate off. */
START_TEST(ecs_hostile_sidecar_replaced)
{
    const char *in =
        "{\"family\": \"f\", \"containerDefinitions\": ["
        "{\"name\": \"app\", \"image\": \"i\", \"entryPoint\": [\"/x\"],"
        " \"volumesFrom\": [{\"sourceContainer\": \"datacollector-sidecar\", \"readOnly\": true},"
        "  {\"sourceContainer\": \"other\", \"readOnly\": true},"
        "  {\"sourceContainer\": \"datacollector-sidecar\", \"readOnly\": false}],"
        " \"dependsOn\": [{\"containerName\": \"datacollector-sidecar\", \"condition\": \"SUCCESS\"},"
        "  {\"containerName\": \"datacollector-sidecar\", \"condition\": \"START\"}]},"
        "{\"name\": \"other\", \"image\": \"o\", \"essential\": false},"
        "{\"name\": \"datacollector-sidecar\", \"image\": \"evil:1\", \"essential\": true,"
        " \"entryPoint\": [\"/vetstage-check\", \"--help\"], \"command\": [\"--skip\"],"
        " \"privileged\": true, \"user\": \"0\", \"workingDirectory\": \"/\","
        " \"linuxParameters\": {\"capabilities\": {\"add\": [\"SYS_ADMIN\"]}},"
        " \"mountPoints\": [{\"sourceVolume\": \"evil\", \"containerPath\": \"/var/lib/lacework-backup\"}],"
        " \"volumesFrom\": [{\"sourceContainer\": \"other\"}], \"environment\": [{\"name\": \"X\", \"value\": \"1\"}],"
        " \"memory\": 64, \"logConfiguration\": {\"logDriver\": \"awslogs\"}}]}";
    vs_ecs_opts o = base_opts();
    o.manifest_sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    char *out = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(ecs(in, &o, &out, &e) == VS_OK, "%s", e.message);
    json_t *j = json_loads(out, 0, NULL);
    json_t *want = json_pack(
        "{sssssbs[s]s[sss]sis{ss}}", "name", "datacollector-sidecar", "image", SIDECAR_REF,
        "essential", 0, "entryPoint", "/vetstage-check", "command", "--manifest-sha256",
        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        "/var/lib/lacework-backup", "memory", 64, "logConfiguration", "logDriver", "awslogs");
    ck_assert_msg(json_equal(container(j, VS_RENDER_SIDECAR_NAME), want), "%s", out);
    json_t *app = container(j, "app");
    json_t *vf = json_pack("[{sssb}{sssb}]", "sourceContainer", "datacollector-sidecar", "readOnly",
                           1, "sourceContainer", "other", "readOnly", 1);
    ck_assert(json_equal(json_object_get(app, "volumesFrom"), vf));
    json_t *dep = json_pack("[{ssss}]", "containerName", "datacollector-sidecar", "condition",
                            "SUCCESS");
    ck_assert(json_equal(json_object_get(app, "dependsOn"), dep));
    /* the sidecar's place in the list is kept: a second run changes nothing */
    char *again = NULL;
    ck_assert_int_eq(ecs(out, &o, &again, &e), VS_OK);
    ck_assert_str_eq(out, again);
    /* fail-open: START, once */
    o.fail_open = true;
    free(again);
    ck_assert_int_eq(ecs(in, &o, &again, &e), VS_OK);
    json_t *j2 = json_loads(again, 0, NULL);
    json_t *dep2 = json_pack("[{ssss}]", "containerName", "datacollector-sidecar", "condition",
                             "START");
    ck_assert(json_equal(json_object_get(container(j2, "app"), "dependsOn"), dep2));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(container(j2, "app"), "entryPoint"), 2)),
                     VS_RENDER_ENTRY_SCRIPT_OPEN);
    json_decref(j2);
    json_decref(dep2);
    json_decref(want);
    json_decref(vf);
    json_decref(dep);
    json_decref(j);
    free(again);
    free(out);
}
END_TEST

/* Issue 15: root, writable paths, no self-upgrade, architecture, digest. */
START_TEST(ecs_agent_needs)
{
    static const struct {
        const char *app;   /* extra members of the app container */
        const char *top;   /* extra members of the task definition */
        int flags;         /* 1 as_root, 2 no_writable_paths, 4 allow_autoupgrade, 8 allow_tag, 16 arm64 layout */
        vs_status want;
        const char *check; /* a Python-ish fragment: a substring of the output, or of the message */
    } cases[] = {
        { "\"user\": \"1000\"", "", 0, VS_E_USAGE, "runs as user \"1000\"" },
        { "\"user\": \"app:app\"", "", 0, VS_E_USAGE, "must run as root" },
        { "\"user\": \"1000\"", "", 1, VS_OK, "\"user\": \"root\"" },
        { "", "", 1, VS_OK, "\"user\": \"root\"" },
        { "\"user\": \"root\"", "", 0, VS_OK, "\"user\": \"root\"" },
        { "\"user\": \"0:0\"", "", 0, VS_OK, "\"user\": \"0:0\"" },
        { "\"user\": 5", "", 0, VS_E_USAGE, "user is not a string" },
        { "\"user\": \"a b\"", "", 1, VS_E_USAGE, "user is not NAME" },
        { "\"readonlyRootFilesystem\": true", "", 0, VS_OK,
          "\"sourceVolume\": \"vetstage-lacework-log\",\n          \"containerPath\": \"/var/log/lacework\",\n          \"readOnly\": false" },
        { "\"readonlyRootFilesystem\": true", "", 0, VS_OK, "\"volumes\": [\n    {\n      \"name\": \"vetstage-lacework-lib\"\n    }" },
        { "\"readonlyRootFilesystem\": true", "", 2, VS_E_USAGE, "read-only root file system" },
        { "\"readonlyRootFilesystem\": false", "", 2, VS_OK, "\"readonlyRootFilesystem\": false" },
        { "\"readonlyRootFilesystem\": true, \"mountPoints\": [{\"sourceVolume\": \"efs\", \"containerPath\": \"/var/log/lacework\"}]",
          "", 0, VS_OK, "\"sourceVolume\": \"efs\"" },
        { "\"environment\": [{\"name\": \"LaceworkConfig\", \"value\": \"{\\\"tags\\\": {\\\"env\\\": \\\"prod\\\"}}\"}]",
          "", 0, VS_OK, "\"value\": \"{\\\"tags\\\":{\\\"env\\\":\\\"prod\\\"},\\\"autoupgrade\\\":\\\"disable\\\"}\"" },
        { "\"environment\": [{\"name\": \"LaceworkConfig\", \"value\": \"{\\\"autoupgrade\\\": \\\"enable\\\"}\"}]",
          "", 0, VS_E_USAGE, "the agent would replace itself" },
        { "\"environment\": [{\"name\": \"LaceworkConfig\", \"value\": \"{\\\"autoupgrade\\\": true}\"}]",
          "", 0, VS_E_USAGE, "--allow-autoupgrade" },
        { "\"environment\": [{\"name\": \"LaceworkConfig\", \"value\": \"{\\\"autoupgrade\\\": \\\"enable\\\"}\"}]",
          "", 4, VS_OK, "\"value\": \"{\\\"autoupgrade\\\": \\\"enable\\\"}\"" },
        { "\"environment\": [{\"name\": \"LaceworkConfig\", \"value\": \"[1]\"}]", "", 0, VS_E_USAGE,
          "is not a JSON object" },
        { "\"environment\": [{\"name\": \"LaceworkConfig\", \"value\": \"{}\"}, {\"name\": \"LaceworkConfig\", \"value\": \"{}\"}]",
          "", 0, VS_E_USAGE, "given twice" },
        { "\"secrets\": [{\"name\": \"LaceworkConfig\", \"valueFrom\": \"arn:c\"}]", "", 0,
          VS_E_USAGE, "from secrets" },
        { "\"mountPoints\": [{\"sourceVolume\": \"evil\", \"containerPath\": \"/var/lib/lacework-backup/x\"}]",
          "", 0, VS_E_USAGE, "over the agent layout" },
        { "", ", \"runtimePlatform\": {\"cpuArchitecture\": \"ARM64\"}", 0, VS_E_USAGE,
          "the task runs on ARM64" },
        { "", ", \"runtimePlatform\": {\"cpuArchitecture\": \"ARM64\"}", 16, VS_OK, "ARM64" },
        { "", "", 16, VS_E_USAGE, "ECS's default" },
        { "", ", \"runtimePlatform\": {\"cpuArchitecture\": \"MIPS\"}", 0, VS_E_USAGE,
          "neither X86_64 nor ARM64" },
        { "", ", \"runtimePlatform\": {\"operatingSystemFamily\": \"LINUX\"}", 0, VS_OK,
          "LINUX" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[2048];
        snprintf(in, sizeof in,
                 "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"app\", \"image\": "
                 "\"i\", \"entryPoint\": [\"/x\"]%s%s}]%s}",
                 cases[i].app[0] ? ", " : "", cases[i].app, cases[i].top);
        vs_ecs_opts o = base_opts();
        o.as_root = cases[i].flags & 1;
        o.no_writable_paths = cases[i].flags & 2;
        o.allow_autoupgrade = cases[i].flags & 4;
        o.arch = cases[i].flags & 16 ? "arm64" : "amd64";
        char *out = NULL;
        vs_error e = VS_ERROR_INIT;
        vs_status st = ecs(in, &o, &out, &e);
        ck_assert_msg(st == cases[i].want, "case %zu: %d (%s)", i, st, e.message);
        if (st != VS_OK) {
            ck_assert_msg(strstr(e.message, cases[i].check) || strstr(e.hint, cases[i].check),
                          "case %zu: '%s' / '%s'", i, e.message, e.hint);
            ck_assert_ptr_null(out);
            continue;
        }
        ck_assert_msg(strstr(out, cases[i].check) != NULL, "case %zu: %s", i, out);
        char *again = NULL;
        ck_assert_int_eq(ecs(out, &o, &again, &e), VS_OK);
        ck_assert_msg(!strcmp(out, again), "case %zu: not idempotent", i);
        free(again);
        free(out);
    }
    /* a sidecar image by tag */
    vs_ecs_opts o = base_opts();
    o.sidecar_image = "registry.example/sidecar:latest-sidecar";
    char *out = NULL;
    vs_error e = VS_ERROR_INIT;
    const char *td = "{\"family\": \"f\", \"containerDefinitions\": [{\"name\": \"app\", "
                     "\"entryPoint\": [\"/x\"]}]}";
    ck_assert_int_eq(ecs(td, &o, &out, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "not given by digest"));
    ck_assert_ptr_nonnull(strstr(e.hint, "--allow-tag"));
    o.allow_tag = true;
    ck_assert_int_eq(ecs(td, &o, &out, &e), VS_OK);
    free(out);
    o.allow_tag = false;
    o.sidecar_image = "r/s@sha256:0123";
    ck_assert_int_eq(ecs(td, &o, &out, &e), VS_E_USAGE);
    o = base_opts();
    o.manifest_sha256 = "xyz";
    ck_assert_int_eq(ecs(td, &o, &out, &e), VS_E_USAGE);
    o = base_opts();
    o.mount_path = "/var/lib/lacework/backup";
    ck_assert_int_eq(ecs(td, &o, &out, &e), VS_E_USAGE);
}
END_TEST

/* Issue 9 (low) and 15: long options render, the script's VERSION folder. */
START_TEST(dockerfile_long_values_and_version)
{
    char *base = make_layout();
    char *dir = layout_of(base);
    char mount[600] = "/";
    while (strlen(mount) < 500)
        strncat(mount, "abcdefghi/", sizeof mount - strlen(mount) - 1);
    mount[strlen(mount) - 1] = '\0'; /* no trailing slash: 499 bytes */
    char image[1100] = "registry.example.test/";
    while (strlen(image) < 1000)
        strncat(image, "team/", sizeof image - strlen(image) - 1);
    strncat(image, "app:1", sizeof image - strlen(image) - 1);
    vs_render_opts o = VS_RENDER_OPTS_INIT;
    o.flow = VS_RENDER_EMBEDDED;
    o.layout = dir;
    o.mount_path = mount;
    o.app_image = image;
    o.cmd_json = "[\"x\"]";
    char *text = NULL;
    vs_error e = VS_ERROR_INIT;
    ck_assert_msg(vs_render_dockerfile(&text, &o, &e) == VS_OK, "%s", e.message);
    ck_assert_ptr_nonnull(strstr(text, image));
    char copy[1300];
    snprintf(copy, sizeof copy, "\nCOPY --from=vetstage-layout %s/ %s/\n", mount, mount);
    ck_assert_ptr_nonnull(strstr(text, copy));
    free(text);
    /* a mount path over the limit: usage, not "out of memory" */
    char huge[700];
    memset(huge, 'a', sizeof huge - 1);
    huge[0] = '/';
    huge[sizeof huge - 1] = '\0';
    o.mount_path = huge;
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "at most 512 bytes"));
    o.mount_path = NULL;

    /* root: the image's user */
    o.app_image = "app:1";
    o.app_user = "1000:1000";
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_USAGE);
    ck_assert_ptr_nonnull(strstr(e.message, "must run as root"));
    ck_assert_ptr_nonnull(strstr(e.hint, "--as-root"));
    o.as_root = true;
    o.fail_open = true;
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_OK);
    ck_assert_ptr_nonnull(strstr(text, "\nUSER root\n"));
    ck_assert_ptr_nonnull(strstr(text, "starting the application without it (--fail-open)"));
    free(text);
    o.app_user = "root";
    o.as_root = false;
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_OK);
    free(text);

    /* the expected digest */
    o.manifest_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(e.message, "differs from the expected 0000"));
    o.manifest_sha256 = NULL;

    /* VERSION= in the start script names a folder the layout must hold */
    char script[512];
    snprintf(script, sizeof script, "%s/lacework-sidecar.sh", dir);
    put_file(dir, "lacework-sidecar.sh", "#!/bin/sh\nset -e\nVERSION=5.8.1000.8548\necho started\n", 0755);
    ck_assert_int_eq(vs_render_dockerfile(&text, &o, &e), VS_E_INTEGRITY); /* manifest first */
    char v[VS_MAX_VERSION + 1];
    const char *t1 = "#!/bin/sh\n# VERSION=1\n  VERSION=2\nVERSION=\"5.8.1\"\nVERSION=9\n";
    ck_assert(render_script_version(t1, strlen(t1), v));
    ck_assert_str_eq(v, "5.8.1");
    const char *t2 = "VERSION=$(cat v)\n";
    ck_assert(!render_script_version(t2, strlen(t2), v));
    const char *t3 = "echo none\n";
    ck_assert(!render_script_version(t3, strlen(t3), v));
    free(dir);
    rm_base(base);
}
END_TEST

Suite *vs_suite_render(void)
{
    Suite *s = suite_create("render");
    TCase *t = tcase_create("render");
    tcase_add_test(t, sidecar_exact_text);
    tcase_add_test(t, layout_digest_definition);
    tcase_add_test(t, embedded_odd_arguments);
    tcase_add_test(t, embedded_refusals);
    tcase_add_test(t, layout_refusals);
    tcase_add_test(t, versioned_layout_and_context);
    tcase_add_test(t, ecs_describe_and_bare);
    tcase_add_test(t, ecs_idempotent);
    tcase_add_test(t, ecs_image_entry_point);
    tcase_add_test(t, ecs_refusals);
    tcase_add_test(t, ecs_existing_entries_updated_not_duplicated);
    tcase_add_test(t, ecs_hostile_sidecar_replaced);
    tcase_add_test(t, ecs_agent_needs);
    tcase_add_test(t, dockerfile_long_values_and_version);
    suite_add_tcase(s, t);
    return s;
}
