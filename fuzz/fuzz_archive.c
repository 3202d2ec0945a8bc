/* fuzz/fuzz_archive.c - arbitrary bytes through the safe extractor into a
 * temporary directory, with small limits. Invariant: whatever is accepted
 * passes the layout check once its metadata is written; a refusal is one
 * line and VS_E_UNSAFE (or VS_E_POLICY for an ELF file of another machine).
 * Each input runs as it is, and again with --strip-components 1 and
 * --arch amd64. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/stage_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (vs_gcrypt_init(NULL) != VS_OK)
        abort();
    char dir[] = "/tmp/vs-fuzz-archive-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || vs_write_file_atomic(dfd, "in", data, size, 0600, NULL) != VS_OK ||
        mkdirat(dfd, "out", 0700) != 0)
        abort();
    int in = openat(dfd, "in", O_RDONLY);
    int out = openat(dfd, "out", O_RDONLY | O_DIRECTORY);
    if (in < 0 || out < 0)
        abort();
    /* twice: as it is, and with --strip-components 1 and --arch amd64 */
    for (int pass = 0; pass < 2; pass++) {
        if (pass && (lseek(in, 0, SEEK_SET) != 0 || vs_remove_tree(dfd, "out", NULL) != VS_OK ||
                     mkdirat(dfd, "out", 0700) != 0 || close(out) != 0 ||
                     (out = openat(dfd, "out", O_RDONLY | O_DIRECTORY)) < 0))
            abort();
        vs_pathset set;
        vs_pathset_init(&set);
        vs_extract_opts o = { .max_unpacked = 1u << 20, .max_entries = 64, .label = "fuzz" };
        if (pass) {
            o.strip_components = 1;
            o.machine = VS_EM_X86_64;
        }
        vs_extract_result r;
        vs_error err = VS_ERROR_INIT;
        vs_status st = vs_stage_extract(NULL, in, out, &o, &set, &r, &err);
        if (st == VS_OK) {
            if (r.bytes > o.max_unpacked || r.entries > o.max_entries)
                abort();
            for (unsigned i = 0; i < r.nmachines; i++)
                if (o.machine && r.machines[i] != o.machine)
                    abort();
            if (vs_stage_write_meta(out, &set, "{}\n", NULL, &err) != VS_OK)
                abort();
            char path[64];
            snprintf(path, sizeof path, "%s/out", dir);
            size_t n = 0;
            if (vs_layout_check(&n, path, NULL, NULL, &err) != VS_OK) {
                fprintf(stderr, "accepted archive fails the layout check: %s\n", err.message);
                abort();
            }
        } else if (strchr(err.message, '\n') || (st != VS_E_UNSAFE && st != VS_E_POLICY)) {
            fprintf(stderr, "unexpected refusal: %d %s\n", st, err.message);
            abort();
        }
        vs_pathset_free(&set);
    }
    close(in);
    close(out);
    close(dfd);
    vs_remove_tree(AT_FDCWD, dir, NULL);
    return 0;
}
