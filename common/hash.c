/* common/hash.c - streaming SHA-256 with libgcrypt. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <pthread.h>

#include <gcrypt.h>

#define NEED_LIBGCRYPT_VERSION "1.8.0"

#include "common/common_int.h"

vs_status vs_sha256_init(vs_sha256 *h, vs_error *err)
{
    gcry_md_hd_t hd = NULL;
    gcry_error_t e = gcry_md_open(&hd, GCRY_MD_SHA256, 0);
    if (e) {
        h->hd = NULL;
        return vs_error_subjb(err, VS_E_INTERNAL, "gcrypt", (long)e, "sha256", "%s",
                              gcry_strerror(e));
    }
    h->hd = hd;
    return VS_OK;
}

void vs_sha256_update(vs_sha256 *h, const void *p, size_t len)
{
    if (h->hd && len)
        gcry_md_write((gcry_md_hd_t)h->hd, p, len);
}

void vs_sha256_final(vs_sha256 *h, uint8_t out[VS_SHA256_LEN])
{
    if (!h->hd)
        return;
    const unsigned char *d = gcry_md_read((gcry_md_hd_t)h->hd, GCRY_MD_SHA256);
    for (size_t i = 0; i < VS_SHA256_LEN; i++)
        out[i] = d[i];
    gcry_md_close((gcry_md_hd_t)h->hd);
    h->hd = NULL;
}

void vs_sha256_abort(vs_sha256 *h)
{
    if (h->hd)
        gcry_md_close((gcry_md_hd_t)h->hd);
    h->hd = NULL;
}

vs_status vs_sha256_fd(int fd, const char *name, uint8_t out[VS_SHA256_LEN], uint64_t *size,
                       vs_error *err)
{
    vs_sha256 h;
    vs_status st = vs_sha256_init(&h, err);
    if (st)
        return st;
    uint8_t *buf = malloc(VS_IO_BUFSIZE);
    if (!buf) {
        vs_sha256_abort(&h);
        return vs_error_subj(err, VS_E_INTERNAL, name, "out of memory");
    }
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, VS_IO_BUFSIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            vs_sha256_abort(&h);
            return vs_error_subj_errno(err, VS_E_INTERNAL, e, name, "read");
        }
        if (n == 0)
            break;
        vs_sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    free(buf);
    vs_sha256_final(&h, out);
    if (size)
        *size = total;
    return VS_OK;
}

vs_status vs_sha256_file(int dirfd, const char *path, uint8_t out[VS_SHA256_LEN], uint64_t *size,
                         vs_error *err)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return vs_error_subj_errno(err, errno == ENOENT ? VS_E_USAGE : VS_E_INTERNAL, errno, path,
                                   "%s", "");
    vs_status st = vs_sha256_fd(fd, path, out, size, err);
    close(fd);
    return st;
}

void vs_hex(char *out, const uint8_t *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

int vs_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int vs_pct_at(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    int c = (unsigned char)p[k];
    if (c == '%' && k + 2 < n) {
        int hi = vs_hexval((unsigned char)p[k + 1]), lo = vs_hexval((unsigned char)p[k + 2]);
        if (hi >= 0 && lo >= 0) {
            *i = k + 2;
            return hi * 16 + lo;
        }
    }
    return c;
}

bool vs_unhex(uint8_t *out, size_t len, const char *hex, size_t hexlen)
{
    if (hexlen != 2 * len)
        return false;
    for (size_t i = 0; i < len; i++) {
        int hi = vs_hexval(hex[2 * i]), lo = vs_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static pthread_once_t gcrypt_once = PTHREAD_ONCE_INIT;
static bool gcrypt_ok;

static void gcrypt_setup(void)
{
    if (!gcry_check_version(NEED_LIBGCRYPT_VERSION))
        return;
    /* Only public-key verification and hashing: no secure memory needed. */
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    gcrypt_ok = true;
}

vs_status vs_gcrypt_init(vs_error *err)
{
    pthread_once(&gcrypt_once, gcrypt_setup);
    if (!gcrypt_ok)
        return vs_error_subj(err, VS_E_INTERNAL, "libgcrypt", "%s or newer is required (found %s)",
                             NEED_LIBGCRYPT_VERSION, gcry_check_version(NULL));
    return VS_OK;
}
