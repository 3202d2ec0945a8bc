/* cli/main.c - global options and command dispatch. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(cli *, int, char **);
    const char *summary;
} commands[] = {
    { "keys", cmd_keys, "manage the trust store (import, list, remove)" },
    { "verify", cmd_verify, "check a package on disk against its signatures" },
    { "fetch", cmd_fetch, "download, verify and cache a package" },
    { "cache", cmd_cache, "list, show, path, fsck, gc the cache" },
    { "stage", cmd_stage, "extract a cached package into a volume layout" },
    { "pull", cmd_pull, "fetch, verify and stage in one command" },
    { "layout", cmd_layout, "check a staged layout against its manifest" },
    { "render", cmd_render, "sidecar / embedded Dockerfiles and the ECS task definition" },
    { "mirror", cmd_mirror, "mirror packages for air-gapped sites" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vetstage [--home DIR] [--config FILE] [--json] [-q | -v] [--no-progress]\n"
               "                COMMAND [ARGS...]\n"
               "       vetstage --version | --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --config FILE  the sources (default $VETSTAGE_CONFIG, else HOME/vetstage.conf)\n");
    fprintf(f, "\n'vetstage COMMAND --help' describes a command. Exit codes: 0 ok, 1 internal,\n"
               "2 usage, 3 verify, 4 fetch, 5 unsafe, 6 integrity, 7 policy.\n");
}

static int version(cli *c)
{
    vs_error err = VS_ERROR_INIT;
    if (vs_lib_init(&err) != VS_OK)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "version", json_string(vs_version()));
        json_t *libs = json_object();
        char *copy = strdup(vs_library_versions());
        for (char *line = copy, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            char *sp = strchr(line, ' ');
            if (sp) {
                *sp = '\0';
                json_object_set_new(libs, line, json_string(sp + 1));
            }
        }
        free(copy);
        json_object_set_new(o, "libraries", libs);
        return cli_json_ok(c, o);
    }
    printf("vetstage %s\n%s", vs_version(), vs_library_versions());
    return 0;
}

int main(int argc, char **argv)
{
    cli c = { 0 };
    c.progress = isatty(STDERR_FILENO);
    static const struct option opts[] = {
        CLI_COMMON_LONGOPTS,
        { "version", no_argument, NULL, 'V' },
        { 0, 0, 0, 0 },
    };
    int opt;
    bool want_version = false;
    opterr = 0; /* one line of ours, not getopt's */
    /* '+': stop at the command name; its own options follow it */
    while ((opt = getopt_long(argc, argv, "+" CLI_COMMON_SHORTOPTS "V", opts, NULL)) != -1) {
        if (opt == 'V') {
            want_version = true; /* after the other options: --version --json is JSON too */
            continue;
        }
        int r = cli_common_opt(&c, opt);
        if (r == -1) {
            usage(stdout);
            return 0;
        }
        if (r == 3)
            return cli_usage_error(&c, "-q and -v cannot be used together");
        if (r == 2 && opt == CLI_OPT_HOME)
            return cli_usage_error(&c, "--home: give a directory (an empty value is refused)");
        if (r != 0)
            return cli_usage_error(&c, "option '%s' is unknown or lacks its value (see vetstage "
                                       "--help)", argv[optind - 1]);
    }
    if (want_version)
        return version(&c);
    if (optind >= argc)
        return cli_usage_error(&c, "missing COMMAND (see vetstage --help)");
    const char *name = argv[optind];
    int rc = -1;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            c.command = name;
            int first = optind; /* read before the reset below clears it */
            c.argv = argv + first;
            cli_getopt_reset();
            rc = commands[i].fn(&c, argc - first, argv + first);
            break;
        }
    }
    if (rc < 0) {
        const char *names[sizeof commands / sizeof commands[0]];
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            names[i] = commands[i].name;
        rc = cli_unknown_word(&c, "command", name, names, sizeof names / sizeof names[0],
                              "vetstage --help");
    }
    vs_source_release_free(c.rel);
    vs_source_mirror_bases_free(c.bases, c.nbases);
    vs_config_free(c.config);
    vs_ctx_free(c.ctx);
    return rc;
}
