/* fuzz/fuzz_gunzip.c - stage's gzip reader (stage/gunzip.c) over arbitrary
 * bytes, fed whole and then in blocks of a size the first byte picks.
 * Invariants: both feeds give the same output and the same outcome (the
 * block boundaries never matter), no read returns more than it was asked
 * for, and a failed reader stays failed. Output is capped (a small input
 * may inflate to a lot). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stage/stage_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP (4u << 20)

typedef struct feed {
    const uint8_t *p;
    size_t n, off, step;
} feed;

static ssize_t feed_in(void *ud, const uint8_t **out)
{
    feed *f = ud;
    if (f->off >= f->n)
        return 0;
    size_t k = f->n - f->off < f->step ? f->n - f->off : f->step;
    *out = f->p + f->off;
    f->off += k;
    return (ssize_t)k;
}

/* Output into out (up to OUT_CAP); the outcome: 0 end, -1 error, 1 capped. */
static int run(const uint8_t *p, size_t n, size_t step, size_t cap, uint8_t *out, size_t *outn)
{
    feed f = { p, n, 0, step };
    size_t first = n < step ? n : step;
    f.off = first;
    vs_gunzip *g = vs_gunzip_new(feed_in, &f, p, first);
    if (!g)
        abort();
    *outn = 0;
    int outcome = 1;
    while (*outn < OUT_CAP) {
        size_t want = cap < OUT_CAP - *outn ? cap : OUT_CAP - *outn;
        ssize_t k = vs_gunzip_read(g, out + *outn, want);
        if (k > (ssize_t)want)
            abort();
        if (k < 0) {
            if (vs_gunzip_read(g, out + *outn, want) != -1)
                abort();
            int code = 0;
            if (!vs_gunzip_error(g, &code)[0])
                abort();
            outcome = -1;
            break;
        }
        if (k == 0) {
            outcome = 0;
            break;
        }
        *outn += (size_t)k;
    }
    vs_gunzip_free(g);
    return outcome;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 61 + 1;
    static uint8_t a[OUT_CAP], b[OUT_CAP];
    size_t an = 0, bn = 0;
    int ra = run(data + 1, size - 1, size, 65536, a, &an);
    int rb = run(data + 1, size - 1, step, 4093, b, &bn);
    /* capped runs may stop at different points; otherwise all agrees */
    if (ra != 1 && rb != 1 && (ra != rb || an != bn || memcmp(a, b, an) != 0))
        abort();
    if (ra == 1 && rb == 1 && memcmp(a, b, OUT_CAP) != 0)
        abort();
    return 0;
}
