/* render/dockerfile.c - the sidecar and embedded Dockerfiles and their build
 * contexts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/render_int.h"

/* ---- text helpers on the common growing string -------------------------- */

static void sb_printf(vs_sbuf *b, const char *fmt, ...) VS_PRINTF(2, 3);
static void sb_printf(vs_sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        vs_sbuf_add(b, tmp, (size_t)n);
        return;
    }
    /* long values (a 512-byte mount path twice, a 2 KiB image reference):
     * sized exactly, not truncated */
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    vs_sbuf_add(b, big, (size_t)n);
    free(big);
}

/* A Dockerfile double-quoted value: \ " and $ escaped (LABEL substitutes
 * variables). Values are validated before; this is the second fence. */
static void sb_quoted(vs_sbuf *b, const char *s)
{
    vs_sbuf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '\\' || *s == '"' || *s == '$')
            vs_sbuf_add(b, "\\", 1);
        vs_sbuf_add(b, s, 1);
    }
    vs_sbuf_add(b, "\"", 1);
}

/* Exec form: a JSON array on one line, strings escaped by jansson. */
static void sb_json(vs_sbuf *b, const json_t *a)
{
    char *s = json_dumps(a, JSON_ENCODE_ANY);
    if (!s) {
        b->oom = true;
        return;
    }
    vs_sbuf_puts(b, s);
    free(s);
}

/* ---- options ------------------------------------------------------------- */

/* An image reference: registry/name:tag@digest, no spaces or '$'. */
static bool image_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > VS_MAX_RENDER_ARG)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '@'))
            return false;
    }
    return s[0] != '-';
}

typedef struct plan {
    const char *mount;
    const char *script;
    json_t *ep;  /* embedded: the image's entry point */
    json_t *cmd; /* embedded: the final CMD */
} plan;

static void plan_free(plan *p)
{
    json_decref(p->ep);
    json_decref(p->cmd);
    p->ep = p->cmd = NULL;
}

static vs_status plan_make(plan *p, const vs_render_opts *o, vs_error *err)
{
    memset(p, 0, sizeof *p);
    p->mount = o->mount_path ? o->mount_path : VS_RENDER_DEFAULT_MOUNT;
    p->script = o->start_script ? o->start_script : VS_RENDER_DEFAULT_START_SCRIPT;
    if (o->flow != VS_RENDER_SIDECAR && o->flow != VS_RENDER_EMBEDDED)
        return vs_error_subj(err, VS_E_USAGE, "render", "unknown render flow");
    if (!render_valid_mount(p->mount))
        return vs_error_subj(err, VS_E_USAGE, p->mount,
                             "mount path must be absolute, at most %u bytes, made of "
                             "[A-Za-z0-9._+/-], without . or .. components", VS_MAX_RENDER_PATH);
    if (!render_valid_relpath(p->script))
        return vs_error_subj(err, VS_E_USAGE, p->script,
                             "start script must be a relative path inside the layout, made of "
                             "[A-Za-z0-9._+/-]");
    if (o->manifest_sha256 && !vs_layout_digest_valid(o->manifest_sha256))
        return vs_error_subj(err, VS_E_USAGE, o->manifest_sha256,
                             "not a layout digest (--manifest-sha256 takes 64 hex digits)");
    if (o->flow == VS_RENDER_SIDECAR)
        return VS_OK;
    if (!o->app_image || !*o->app_image)
        return vs_error_subj(err, VS_E_USAGE, "--app-image", "the embedded flow needs IMAGE");
    if (!image_ok(o->app_image))
        return vs_error_subj(err, VS_E_USAGE, o->app_image,
                             "not an image reference (at most %u bytes of [A-Za-z0-9._/:@-])",
                             VS_MAX_RENDER_ARG);
    if (o->app_user && !render_user_ok(o->app_user))
        return vs_error_subj(err, VS_E_USAGE, o->app_user,
                             "not a user as docker image inspect shows it (NAME, UID, "
                             "NAME:GROUP or UID:GID)");
    if (o->app_user && !render_user_is_root(o->app_user) && !o->as_root) {
        vs_error_subj(err, VS_E_USAGE, o->app_image,
                      "runs as user \"%s\", but the agent's start script must run as root "
                      "(the vendor requires it)",
                      o->app_user);
        vs_error_hint(err, "add --as-root: the image then runs as root (USER root), the "
                           "application too");
        return VS_E_USAGE;
    }
    if (!o->entrypoint_json && !o->cmd_json)
        return vs_error_subj(err, VS_E_USAGE, o->app_image,
                             "give the image's --entrypoint and/or --cmd as JSON arrays (setting "
                             "ENTRYPOINT clears the image's CMD; '[]' for none)");
    vs_status st = VS_OK;
    if (o->entrypoint_json)
        st = render_parse_argv(&p->ep, o->entrypoint_json, "--entrypoint", err);
    else if (!(p->ep = json_array()))
        st = vs_error_subj(err, VS_E_INTERNAL, "Dockerfile", "out of memory");
    if (st == VS_OK && o->cmd_json)
        st = render_parse_argv(&p->cmd, o->cmd_json, "--cmd", err);
    else if (st == VS_OK && !(p->cmd = json_array()))
        st = vs_error_subj(err, VS_E_INTERNAL, "Dockerfile", "out of memory");
    if (st == VS_OK && json_array_size(p->ep) + json_array_size(p->cmd) == 0)
        st = vs_error_subj(err, VS_E_USAGE, o->app_image,
                           "--entrypoint and --cmd are both empty: nothing to run after the agent "
                           "starts");
    if (st)
        plan_free(p);
    return st;
}

/* The embedded ENTRYPOINT: check the layout (pinned by its digest), start
 * the agent, then become the application. NULL on out of memory. */
static json_t *embedded_entry(const vs_render_opts *o, const plan *p, const render_layout *l)
{
    vs_sbuf b = VS_SBUF_INIT(VS_MAX_RENDERED);
    if (o->fail_open) {
        vs_sbuf_puts(&b, "if " VS_RENDER_CHECKER_PATH " --manifest-sha256 ");
        vs_sbuf_puts(&b, l->digest);
        vs_sbuf_puts(&b, " ");
        vs_sbuf_puts(&b, p->mount);
        vs_sbuf_puts(&b, "; then \"$0\" || echo \"vetstage: agent start script $0 failed (exit "
                         "$?); starting the application without the agent (--fail-open)\" >&2; "
                         "else echo \"vetstage: layout check failed: the agent is not started; "
                         "starting the application without it (--fail-open)\" >&2; fi; "
                         "exec \"$@\"");
    } else {
        vs_sbuf_puts(&b, VS_RENDER_CHECKER_PATH " --manifest-sha256 ");
        vs_sbuf_puts(&b, l->digest);
        vs_sbuf_puts(&b, " ");
        vs_sbuf_puts(&b, p->mount);
        vs_sbuf_puts(&b, " && " VS_RENDER_ENTRY_SCRIPT);
    }
    char *sp = render_script_path(p->mount, p->script);
    json_t *e = vs_sbuf_failed(&b) || !sp ? NULL : json_pack("[sss]", "/bin/sh", "-c", b.p);
    if (e && (json_array_append_new(e, json_string(sp)) != 0 || json_array_extend(e, p->ep) != 0)) {
        json_decref(e);
        e = NULL;
    }
    free(b.p);
    free(sp);
    return e;
}

/* ---- the text ------------------------------------------------------------ */

static void labels(vs_sbuf *b, const render_layout *l)
{
    vs_sbuf_puts(b, "LABEL org.opencontainers.image.title=");
    sb_quoted(b, l->name);
    vs_sbuf_puts(b, " \\\n      org.opencontainers.image.version=");
    sb_quoted(b, l->version);
    vs_sbuf_puts(b, " \\\n      org.opencontainers.image.description=");
    char desc[VS_MAX_NAME + VS_MAX_VERSION + 64];
    snprintf(desc, sizeof desc, "%s %s, vetted and staged by vetstage", l->name, l->version);
    sb_quoted(b, desc);
    vs_sbuf_puts(b, " \\\n      io.vetstage.package=");
    sb_quoted(b, l->name);
    vs_sbuf_puts(b, " \\\n      io.vetstage.version=");
    sb_quoted(b, l->version);
    vs_sbuf_puts(b, " \\\n      io.vetstage.sha256=");
    sb_quoted(b, l->sha256);
    vs_sbuf_puts(b, " \\\n      io.vetstage.signers=");
    sb_quoted(b, l->signers);
    vs_sbuf_puts(b, " \\\n      " VS_RENDER_DIGEST_LABEL "=");
    sb_quoted(b, l->digest);
    vs_sbuf_puts(b, "\n");
}

static vs_status render_text(char **out, const vs_render_opts *o, const plan *p,
                             const render_layout *l, vs_error *err)
{
    vs_sbuf b = VS_SBUF_INIT(VS_MAX_RENDERED);
    json_t *vol = json_pack("[s]", p->mount);
    json_t *check = json_pack("[ssss]", VS_RENDER_CHECKER_PATH, "--manifest-sha256", l->digest,
                              p->mount);
    json_t *entry = o->flow == VS_RENDER_EMBEDDED ? embedded_entry(o, p, l) : NULL;
    if (!vol || !check || (o->flow == VS_RENDER_EMBEDDED && !entry))
        b.oom = true;
    if (o->flow == VS_RENDER_SIDECAR) {
        sb_printf(&b, "# vetstage sidecar image: %s %s as a volume at %s.\n", l->name,
                  l->version, p->mount);
        vs_sbuf_puts(&b, "# Build context: this Dockerfile, layout/ (the staged tree) and vetstage-check\n"
                    "# (static layout checker). The command checks the layout (pinned by its\n"
                    "# layout digest) and exits 0 only when it is intact, so ECS dependsOn\n"
                    "# SUCCESS gates the application on it.\n");
        vs_sbuf_puts(&b, "FROM scratch\n");
        labels(&b, l);
        sb_printf(&b, "COPY vetstage-check %s\n", VS_RENDER_CHECKER_PATH);
        sb_printf(&b, "COPY layout/ %s/\n", p->mount);
        vs_sbuf_puts(&b, "VOLUME ");
        sb_json(&b, vol);
        vs_sbuf_puts(&b, "\nENTRYPOINT ");
        sb_json(&b, check);
        vs_sbuf_puts(&b, "\n");
    } else {
        sb_printf(&b, "# vetstage embedded build: %s %s copied into %s at %s.\n", l->name,
                  l->version, o->app_image, p->mount);
        vs_sbuf_puts(&b, "# Build context: this Dockerfile, layout/ (the staged tree) and vetstage-check.\n"
                    "# The application image needs /bin/sh: the entry point checks the layout,\n"
                    "# runs the agent's start script, then execs the original entry point and\n"
                    "# command with their arguments unchanged.\n");
        if (o->fail_open)
            vs_sbuf_puts(&b, "# --fail-open: a failed check or start script is reported and the\n"
                             "# application starts without the agent.\n");
        vs_sbuf_puts(&b, "FROM scratch AS vetstage-layout\n");
        sb_printf(&b, "COPY vetstage-check %s\n", VS_RENDER_CHECKER_PATH);
        sb_printf(&b, "COPY layout/ %s/\n\n", p->mount);
        sb_printf(&b, "FROM %s\n", o->app_image);
        labels(&b, l);
        sb_printf(&b, "COPY --from=vetstage-layout %s %s\n", VS_RENDER_CHECKER_PATH,
                  VS_RENDER_CHECKER_PATH);
        sb_printf(&b, "COPY --from=vetstage-layout %s/ %s/\n", p->mount, p->mount);
        vs_sbuf_puts(&b, "# the agent may not replace itself: the binary that runs is the one vetted\n");
        vs_sbuf_puts(&b, "ENV " VS_RENDER_CONFIG_NAME "=");
        sb_quoted(&b, "{\"" VS_RENDER_NO_UPGRADE_KEY "\":\"" VS_RENDER_NO_UPGRADE_VALUE "\"}");
        vs_sbuf_puts(&b, "\n");
        if (o->as_root)
            vs_sbuf_puts(&b, "# --as-root: the agent's start script must run as root (the vendor\n"
                             "# requires it); the application runs as root too\n"
                             "USER root\n");
        vs_sbuf_puts(&b, "ENTRYPOINT ");
        sb_json(&b, entry);
        vs_sbuf_puts(&b, "\nCMD ");
        sb_json(&b, p->cmd);
        vs_sbuf_puts(&b, "\n");
    }
    json_decref(vol);
    json_decref(check);
    json_decref(entry);
    if (vs_sbuf_failed(&b) || !b.p) {
        vs_status st = vs_sbuf_status(&b, "Dockerfile", err);
        free(b.p);
        return st ? st : vs_error_subj(err, VS_E_INTERNAL, "Dockerfile", "out of memory");
    }
    *out = b.p;
    return VS_OK;
}

/* Validate options, open and check the layout, render. */
static vs_status prepare(char **out, const vs_render_opts *o, render_layout *l, vs_error *err)
{
    *out = NULL;
    if (!o)
        return vs_error_subj(err, VS_E_USAGE, "render", "no render options");
    plan p;
    vs_status st = plan_make(&p, o, err);
    if (st)
        return st;
    st = render_layout_open(l, o->layout, p.script, o->manifest_sha256, err);
    if (st == VS_OK)
        st = render_text(out, o, &p, l, err);
    if (st)
        render_layout_free(l);
    plan_free(&p);
    return st;
}

vs_status vs_render_dockerfile(char **out, const vs_render_opts *o, vs_error *err)
{
    render_layout l;
    if (out)
        *out = NULL;
    if (o && VS_CHECK_OPTS(o, vs_render_opts, RENDER_OPTS, err))
        return VS_E_USAGE;
    vs_status st = prepare(out, o, &l, err);
    if (st == VS_OK)
        render_layout_free(&l);
    return st;
}

/* ---- the build context ----------------------------------------------------- */

vs_status vs_render_context(const char *ctx, const vs_render_opts *o, vs_error *err)
{
    if (!ctx || !*ctx)
        return vs_error_subj(err, VS_E_USAGE, "--out", "no build context directory given");
    if (o && VS_CHECK_OPTS(o, vs_render_opts, RENDER_OPTS, err))
        return VS_E_USAGE;
    if (!o || !o->checker || !*o->checker)
        return vs_error_subj(err, VS_E_USAGE, "--checker", "no layout checker given");
    struct stat sb;
    if (stat(o->checker, &sb) != 0)
        return vs_error_subj_errno(err, VS_E_USAGE, errno, o->checker, "the static layout checker");
    if (!S_ISREG(sb.st_mode))
        return vs_error_subj(err, VS_E_USAGE, o->checker,
                             "the layout checker is not a regular file");
    if (o->layout && vs_path_within(ctx, o->layout)) {
        vs_error_subj(err, VS_E_USAGE, ctx, "is inside the layout %s it would carry", o->layout);
        vs_error_hint(err, "write the build context outside the layout (--out)");
        return VS_E_USAGE;
    }
    char *path = render_trim_dir(ctx);
    if (!path)
        return vs_error_subj(err, VS_E_INTERNAL, ctx, "out of memory");
    render_target state = RENDER_TARGET_ABSENT;
    vs_status st = render_publish_state(path, o->force, &state, err);
    char *text = NULL;
    render_layout l;
    memset(&l, 0, sizeof l);
    if (st == VS_OK)
        st = prepare(&text, o, &l, err);
    if (st) {
        free(path);
        return st;
    }
    /* every check passed: now write, beside the target */
    render_publish pub;
    st = render_publish_begin(&pub, path, err);
    if (st == VS_OK)
        st = vs_write_file_atomic(pub.tfd, "Dockerfile", text, strlen(text), 0644, err);
    if (st == VS_OK)
        st = render_copy_tree(l.tree, pub.tfd, "layout", err);
    if (st == VS_OK)
        st = render_copy_file(o->checker, pub.tfd, "vetstage-check", 0755, err);
    if (st == VS_OK) {
        /* the copy is what goes into the image: check it, not only the source */
        char *copy = vs_path_join(pub.tmp, "layout");
        st = copy ? render_layout_check(copy, err)
                  : vs_error_subj(err, VS_E_INTERNAL, ctx, "out of memory");
        char d[VS_LAYOUT_DIGEST_HEX];
        if (st == VS_OK)
            st = vs_layout_digest(d, copy, err);
        if (st == VS_OK && strcmp(d, l.digest) != 0)
            st = vs_error_subj(err, VS_E_INTEGRITY, l.tree,
                               "layout digest changed while it was copied (%s, then %s)",
                               l.digest, d);
        free(copy);
    }
    if (st == VS_OK)
        st = render_publish_commit(&pub, state, err);
    render_publish_end(&pub);
    render_layout_free(&l);
    free(text);
    free(path);
    return st;
}

vs_status vs_render_save(const char *path, const char *text, vs_error *err)
{
    if (!path || !*path || !text)
        return vs_error_subj(err, VS_E_USAGE, "render", "no output file given");
    const char *base = vs_basename(path);
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return vs_error_subj(err, VS_E_USAGE, path, "not a file name");
    char *parent = strndup(path, (size_t)(base - path));
    if (!parent)
        return vs_error_subj(err, VS_E_INTERNAL, path, "out of memory");
    int dfd = open(*parent ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    vs_status st;
    if (dfd < 0) {
        st = vs_error_subj_errno(err, VS_E_USAGE, errno, *parent ? parent : ".", "%s", "");
    } else {
        vs_error e2 = VS_ERROR_INIT;
        st = vs_write_file_atomic(dfd, base, text, strlen(text), 0644, &e2);
        if (st)
            vs_error_subj(err, st, path, "%s", e2.message);
        close(dfd);
    }
    free(parent);
    return st;
}
