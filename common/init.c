/* common/init.c - process-wide backend initialisation and versions. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <curl/curl.h>
#include <gcrypt.h>
#include <gpgme.h>
#include <jansson.h>
#include <libtasn1.h>

#include "common/common_int.h"

#define NEED_GPGME_VERSION "1.14.0"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static vs_status init_status = VS_E_INTERNAL;
static char init_msg[256];
static char versions[512];

static void do_init(void)
{
    vs_error e = VS_ERROR_INIT;
    if (vs_gcrypt_init(&e) != VS_OK) {
        snprintf(init_msg, sizeof init_msg, "%.200s", e.message);
        return;
    }
    const char *gv = gpgme_check_version(NEED_GPGME_VERSION);
    if (!gv) {
        snprintf(init_msg, sizeof init_msg, "gpgme %s or newer is required",
                 NEED_GPGME_VERSION);
        return;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(init_msg, sizeof init_msg, "libcurl initialisation failed");
        return;
    }
    curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    snprintf(versions, sizeof versions,
             "libgcrypt %s\ngpgme %s\n%s\nlibcurl %s%s%s\njansson %s\nlibtasn1 %s\n",
             gcry_check_version(NULL), gv, archive_version_details(), cv->version,
             cv->ssl_version ? " " : "", cv->ssl_version ? cv->ssl_version : "", jansson_version_str(),
             asn1_check_version(NULL));
    init_status = VS_OK;
}

vs_status vs_lib_init(vs_error *err)
{
    pthread_once(&init_once, do_init);
    if (init_status != VS_OK)
        return vs_error_subj(err, VS_E_INTERNAL, "libvetstage", "%s", init_msg);
    return VS_OK;
}

/* The gpg engine is checked on first use, not at start: gpgme's first
 * look at its engines runs gpgconf three times, gpg and gpgsm (some 50 ms),
 * which a command that never asks gpg anything (stage, layout, render,
 * cache) should not pay. */
static pthread_once_t gpg_once = PTHREAD_ONCE_INIT;
static gpgme_error_t gpg_status;

static void do_gpg_check(void)
{
    gpg_status = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
}

vs_status vs_gpg_ready(vs_error *err)
{
    pthread_once(&gpg_once, do_gpg_check);
    if (gpg_status)
        return vs_error_subjb(err, VS_E_INTERNAL, "gpgme", (long)gpg_status, "gpg",
                              "engine not usable: %s", gpgme_strerror(gpg_status));
    return VS_OK;
}

const char *vs_library_versions(void)
{
    return versions;
}

const char *vs_version(void)
{
    return VS_VERSION;
}
