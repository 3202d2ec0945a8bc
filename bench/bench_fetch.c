/* bench/bench_fetch.c - time vs_fetch_to_file and vs_sha256_fd, for
 * bench/run.sh to compare with curl -o and sha256sum.
 *
 *   bench_fetch fetch URL DIR NAME [CACERT]   download; prints "SECONDS HEX MAXRSS_KB"
 *   bench_fetch hash FILE                     hash;     prints "SECONDS HEX MAXRSS_KB"
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/common_int.h"
#include "vetstage/fetch.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

int main(int argc, char **argv)
{
    vs_error e = VS_ERROR_INIT;
    uint8_t d[VS_SHA256_LEN];
    char hex[VS_SHA256_HEX];
    if (vs_lib_init(&e) != VS_OK) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    if (argc >= 5 && strcmp(argv[1], "fetch") == 0) {
        int dfd = open(argv[3], O_RDONLY | O_DIRECTORY);
        if (dfd < 0) {
            perror(argv[3]);
            return 1;
        }
        vs_fetch_opts o = VS_FETCH_OPTS_INIT;
        o.cacert = argc >= 6 ? argv[5] : NULL;
        o.retries = 0;
        o.resume = 0;
        static vs_fetch_result r;
        double t0 = now();
        vs_status st = vs_fetch_to_file(NULL, argv[2], dfd, argv[4], &o, &r, &e);
        double t1 = now();
        close(dfd);
        if (st) {
            fprintf(stderr, "%s\n", e.message);
            return (int)st;
        }
        vs_hex(hex, r.sha256, sizeof r.sha256);
        printf("%.3f %s %ld\n", t1 - t0, hex, maxrss_kb());
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "hash") == 0) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) {
            perror(argv[2]);
            return 1;
        }
        uint64_t size;
        double t0 = now();
        vs_status st = vs_sha256_fd(fd, argv[2], d, &size, &e);
        double t1 = now();
        close(fd);
        if (st) {
            fprintf(stderr, "%s\n", e.message);
            return (int)st;
        }
        vs_hex(hex, d, sizeof d);
        printf("%.3f %s %ld\n", t1 - t0, hex, maxrss_kb());
        return 0;
    }
    fprintf(stderr, "usage: bench_fetch fetch URL DIR NAME [CACERT] | hash FILE\n");
    return 2;
}
