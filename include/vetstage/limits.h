/*
 * vetstage/limits.h - every named maximum for untrusted input, in one place.
 *
 * Over a limit is an error (with a message naming the limit), never a
 * silent truncation.
 */
#ifndef VETSTAGE_LIMITS_H
#define VETSTAGE_LIMITS_H

/* Key files given to `keys import` (armored OpenPGP keyrings can be large). */
#define VS_MAX_KEY_FILE (1024u * 1024u)
/* A detached OpenPGP signature or an RSA signature file (raw or base64). */
#define VS_MAX_SIG_FILE (16u * 1024u)
/* A checksum list (checksum_sha256.txt). */
#define VS_MAX_CHECKSUM_FILE (1024u * 1024u)
/* One line of a checksum list. */
#define VS_MAX_CHECKSUM_LINE 4096u
/* Seconds a signature may be dated ahead of this machine's clock. */
#define VS_MAX_CLOCK_SKEW 3600
/* RSA modulus sizes accepted. */
#define VS_MIN_RSA_BITS 2048u
#define VS_MAX_RSA_BITS 16384u
/* Smallest RSA public exponent accepted. */
#define VS_MIN_RSA_EXPONENT 65537u

/* Default maximum download size of a package (--max-size): 2 GiB. */
#define VS_DEFAULT_MAX_DOWNLOAD (2ull * 1024u * 1024u * 1024u)
/* Default number of retries after the first attempt (--retries). */
#define VS_DEFAULT_RETRIES 3u
/* Default whole-transfer deadline in seconds (--timeout). */
#define VS_DEFAULT_TIMEOUT 600u
/* Low-speed abort: below this many bytes/second for VS_LOW_SPEED_TIME seconds. */
#define VS_LOW_SPEED_LIMIT 1024L
#define VS_LOW_SPEED_TIME 10L
/* Redirects followed at most. */
#define VS_MAX_REDIRECTS 5L
/* A URL. */
#define VS_MAX_URL 4096u
/* The headers of one HTTP response, all lines together (libcurl refuses a
 * single line over 100 KiB by itself). */
#define VS_MAX_RESPONSE_HEADERS (64u * 1024u)

/* Package name and version strings. */
#define VS_MAX_NAME 128u
#define VS_MAX_VERSION 128u
/* A cache ref or provenance JSON file. */
#define VS_MAX_REF_FILE (256u * 1024u)

/* Extraction defaults (--max-unpacked, --max-entries) and hard limits. */
#define VS_DEFAULT_MAX_UNPACKED (1024ull * 1024u * 1024u)
#define VS_DEFAULT_MAX_ENTRIES 100000u
#define VS_MAX_ARCHIVE_PATH 1024u
/* Directory levels of a path in a layout ("a/b/c" has 3): one limit for
 * stage, layout check and render, what paths of VS_MAX_ARCHIVE_PATH bytes can
 * reach ("a/a/a/..."), so that no tree stage accepts is refused later. */
#define VS_MAX_PATH_DEPTH (VS_MAX_ARCHIVE_PATH / 2u + 1u)

/* A staged manifest (MANIFEST.sha256) and one of its lines. */
#define VS_MAX_MANIFEST_FILE (64u * 1024u * 1024u)
#define VS_MAX_MANIFEST_LINE (VS_MAX_ARCHIVE_PATH + 128u)

/* A rendered Dockerfile. */
#define VS_MAX_RENDERED (4u * 1024u * 1024u)
/* An ECS task definition given to `render ecs-task`. */
#define VS_MAX_TASK_DEF (4u * 1024u * 1024u)

/* The configuration file (vetstage.conf) and one of its lines (long URLs fit). */
#define VS_MAX_CONFIG_FILE (1024u * 1024u)
#define VS_MAX_CONFIG_LINE (VS_MAX_URL + 256u)
/* [source NAME] sections in one file; fingerprints in one `keys`; `mirror` lines. */
#define VS_MAX_SOURCES 1024u
#define VS_MAX_SOURCE_KEYS 16u
#define VS_MAX_SOURCE_MIRRORS 8u
/* strip-components at most. */
#define VS_MAX_STRIP_COMPONENTS 64u

/* Buffer used to stream files (hashing, copying). */
#define VS_IO_BUFSIZE (128u * 1024u)
/* gpg reading a package file: when it takes no byte and reports nothing for
 * this long while there is more to give it, it is stopped and the signature
 * fails ("gpg stopped answering"). While a download feeds it, the shorter
 * stall of the stream applies (then gpg checks the file afterwards). */
#define VS_GPG_STALL_S 60u

#endif
