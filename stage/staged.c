/* stage/staged.c - what this home staged where: HOME/staged/<sha256 of the
 * absolute destination>.json holds the layout digest `stage` produced there,
 * so that `layout check` and `render` can refuse a layout changed since.
 * Below the home nothing is followed through a symbolic link. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cache/cache_int.h"
#include "stage/stage_int.h"

#define STAGED_DIR "staged"

/* The record's file name for an absolute path: 64 hex + ".json". */
static vs_status record_name(const char *abs, char name[80], vs_error *err)
{
    vs_sha256 h;
    uint8_t d[VS_SHA256_LEN];
    vs_status st = vs_sha256_init(&h, err);
    if (st)
        return st;
    vs_sha256_update(&h, abs, strlen(abs));
    vs_sha256_final(&h, d);
    vs_hex(name, d, sizeof d);
    memcpy(name + 64, ".json", 6);
    return VS_OK;
}

/* HOME/staged, created when `create`; never through a symbolic link. */
static vs_status open_staged(vs_ctx *ctx, bool create, int *fd, vs_error *err)
{
    char subj[PATH_MAX];
    snprintf(subj, sizeof subj, "%s/" STAGED_DIR, vs_ctx_home(ctx));
    if (create && mkdirat(ctx->home_fd, STAGED_DIR, 0700) != 0 && errno != EEXIST)
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, subj, "create");
    *fd = openat(ctx->home_fd, STAGED_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd >= 0)
        return VS_OK;
    if (errno == ENOENT) {
        vs_error_subj(err, VS_E_USAGE, subj, "this home has staged nothing");
        vs_error_set_detail(err, VS_DETAIL_NOT_FOUND);
        return VS_E_USAGE;
    }
    if (errno == ELOOP || errno == ENOTDIR)
        return vs_error_subj(err, VS_E_INTEGRITY, subj,
                             "not a directory (a symbolic link inside the home is refused)");
    return vs_error_subj_errno(err, VS_E_INTERNAL, errno, subj, "open");
}

/* A valid layout digest, lower-cased. */
static void lower_hex(char out[VS_LAYOUT_DIGEST_HEX], const char *hex)
{
    for (size_t i = 0; i < 64; i++)
        out[i] = (char)((hex[i] >= 'A' && hex[i] <= 'F') ? hex[i] + 32 : hex[i]);
    out[64] = '\0';
}

vs_status vs_staged_parse(const uint8_t *buf, size_t len, const char *what, vs_staged *out,
                          vs_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > VS_MAX_STAGED_FILE)
        return vs_error_subj(err, VS_E_INTEGRITY, what, "larger than %u bytes",
                             VS_MAX_STAGED_FILE);
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    const char *dest = json_string_value(json_object_get(j, "dest"));
    const char *digest = json_string_value(json_object_get(j, "digest"));
    const char *ref = json_string_value(json_object_get(j, "ref"));
    const char *t = json_string_value(json_object_get(j, "staged"));
    json_t *pj = json_object_get(j, "pending");
    const char *pending = json_string_value(pj);
    vs_status st = VS_OK;
    if (!json_is_object(j) || !dest || dest[0] != '/' || strlen(dest) >= sizeof out->dest ||
        strlen(dest) != json_string_length(json_object_get(j, "dest")))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "no valid \"dest\"");
    else if (!digest || !vs_layout_digest_valid(digest))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "no valid \"digest\"");
    else if (!ref || strlen(ref) >= sizeof out->ref || !strchr(ref, '@'))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "no valid \"ref\"");
    else if (!t || !vs_cache_time_parse(t, &out->staged))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "\"staged\" is not an ISO-8601 UTC time");
    else if (pj && (!pending || !vs_layout_digest_valid(pending)))
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "no valid \"pending\"");
    if (!st) {
        memcpy(out->dest, dest, strlen(dest) + 1);
        lower_hex(out->digest, digest);
        if (pending)
            lower_hex(out->pending, pending);
        memcpy(out->ref, ref, strlen(ref) + 1);
    }
    json_decref(j);
    if (st)
        memset(out, 0, sizeof *out);
    return st;
}

vs_status vs_staged_prepare(vs_ctx *ctx, vs_error *err)
{
    int fd = -1;
    vs_status st = open_staged(ctx, true, &fd, err);
    if (fd >= 0)
        close(fd);
    return st;
}

/* Write the record `name` in HOME/staged: `r` as it stands. */
static vs_status write_record(vs_ctx *ctx, const char *name, const vs_staged *r, vs_error *err)
{
    int fd = -1;
    vs_status st = open_staged(ctx, true, &fd, err);
    if (st)
        return st;
    char when[32];
    vs_cache_time_format(when, r->staged);
    json_t *o = json_object();
    json_object_set_new(o, "dest", json_string(r->dest));
    json_object_set_new(o, "digest", json_string(r->digest));
    if (r->pending[0])
        json_object_set_new(o, "pending", json_string(r->pending));
    json_object_set_new(o, "ref", json_string(r->ref));
    json_object_set_new(o, "staged", json_string(when));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        st = vs_error_subj(err, VS_E_INTERNAL, r->dest, "cannot record the layout digest");
    else
        st = vs_write_file_atomic(fd, name, text, strlen(text), 0644, err);
    free(text);
    close(fd);
    return st;
}

vs_status vs_staged_record(vs_ctx *ctx, const char *dest, const char *ref, const char *digest,
                           vs_error *err)
{
    vs_staged r;
    char name[80];
    memset(&r, 0, sizeof r);
    if (!realpath(dest, r.dest))
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, dest, "resolve");
    if (strlen(ref) >= sizeof r.ref || !vs_layout_digest_valid(digest))
        return vs_error_subj(err, VS_E_INTERNAL, ref, "cannot record the layout digest");
    memcpy(r.ref, ref, strlen(ref) + 1);
    lower_hex(r.digest, digest);
    r.staged = (int64_t)time(NULL);
    vs_status st = record_name(r.dest, name, err);
    if (!st)
        st = write_record(ctx, name, &r, err);
    return st;
}

/* The record for the absolute path `abs`: VS_OK with *found false when there
 * is none. */
static vs_status read_record(vs_ctx *ctx, const char *abs, char name[80], vs_staged *rec,
                             bool *found, uint8_t **raw, size_t *rawlen, vs_error *err)
{
    *found = false;
    int fd = -1;
    vs_status st = record_name(abs, name, err);
    if (!st)
        st = open_staged(ctx, false, &fd, err);
    if (st)
        return st;
    struct stat sb;
    uint8_t *buf = NULL;
    size_t len = 0;
    char what[PATH_MAX + 100];
    snprintf(what, sizeof what, "%s/" STAGED_DIR "/%s", vs_ctx_home(ctx), name);
    if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        /* none */
    } else if (!S_ISREG(sb.st_mode)) {
        st = vs_error_subj(err, VS_E_INTEGRITY, what, "not a regular file");
    } else if ((st = vs_read_file(fd, name, VS_MAX_STAGED_FILE, &buf, &len, err)) == VS_OK) {
        st = vs_staged_parse(buf, len, what, rec, err);
        if (!st && strcmp(rec->dest, abs) != 0)
            st = vs_error_subj(err, VS_E_INTEGRITY, what, "records another destination");
        *found = st == VS_OK;
        if (*found && raw) { /* the record as it was, to put back */
            *raw = buf;
            *rawlen = len;
            buf = NULL;
        }
    }
    free(buf);
    close(fd);
    return st;
}

/* Whether the layout `dir` has the digest `hex` now (a record's pending
 * digest against DIR: which of the two trees is there). */
static bool layout_is(const char *dir, const char *hex)
{
    char got[VS_LAYOUT_DIGEST_HEX];
    vs_error e = VS_ERROR_INIT;
    return vs_layout_digest(got, dir, &e) == VS_OK && strcmp(got, hex) == 0;
}

vs_status vs_staged_pend(vs_ctx *ctx, const char *dest, const char *digest, vs_staged_undo *undo,
                         vs_error *err)
{
    char abs[PATH_MAX];
    if (!realpath(dest, abs))
        return vs_error_subj_errno(err, VS_E_INTERNAL, errno, dest, "resolve");
    vs_staged rec;
    bool found = false;
    vs_error e2 = VS_ERROR_INIT;
    /* no record (or none this home can read: the final one replaces it) */
    if (read_record(ctx, abs, undo->name, &rec, &found, &undo->orig, &undo->len, &e2) != VS_OK ||
        !found) {
        vs_staged_undo_free(undo);
        return VS_OK;
    }
    if (!vs_layout_digest_valid(digest)) {
        vs_staged_undo_free(undo);
        return vs_error_subj(err, VS_E_INTERNAL, dest, "no layout digest to record");
    }
    if (rec.pending[0] && layout_is(dest, rec.pending)) /* an earlier stage was killed */
        memcpy(rec.digest, rec.pending, VS_LAYOUT_DIGEST_HEX);
    lower_hex(rec.pending, digest);
    vs_status st = write_record(ctx, undo->name, &rec, err);
    if (st)
        vs_staged_undo_free(undo);
    return st;
}

void vs_staged_unpend(vs_ctx *ctx, vs_staged_undo *undo)
{
    int fd = -1;
    vs_error e2 = VS_ERROR_INIT;
    if (undo->orig && open_staged(ctx, false, &fd, &e2) == VS_OK) {
        if (vs_write_file_atomic(fd, undo->name, undo->orig, undo->len, 0644, &e2) != VS_OK)
            vs_log(ctx, VS_LOG_WARN, "%s: %s", e2.subject, e2.message);
        close(fd);
    }
    vs_staged_undo_free(undo);
}

void vs_staged_undo_free(vs_staged_undo *undo)
{
    free(undo->orig);
    undo->orig = NULL;
    undo->len = 0;
}

VS_EXTERN vs_status vs_layout_recorded_digest(char hex[VS_LAYOUT_DIGEST_HEX], vs_ctx *ctx,
                                              const char *dir, vs_error *err)
{
    hex[0] = '\0';
    char abs[PATH_MAX], name[80];
    if (!ctx || !dir)
        return vs_error_subj(err, VS_E_USAGE, "layout digest", "no context or directory given");
    if (!realpath(dir, abs))
        return vs_error_subj_errno(err, VS_E_USAGE, errno, dir, "resolve");
    vs_staged rec;
    bool found = false;
    vs_status st = read_record(ctx, abs, name, &rec, &found, NULL, NULL, err);
    if (st)
        return st;
    if (!found) {
        vs_error_subj(err, VS_E_USAGE, dir, "this home has not staged here");
        vs_error_set_detail(err, VS_DETAIL_NOT_FOUND);
        return VS_E_USAGE;
    }
    memcpy(hex, rec.digest, VS_LAYOUT_DIGEST_HEX);
    if (rec.pending[0]) {
        /* a stage was killed around its commit: the layout is the old tree
         * or the new one, and the record holds both; it says which */
        if (layout_is(dir, rec.pending))
            memcpy(hex, rec.pending, VS_LAYOUT_DIGEST_HEX);
        vs_log(ctx, VS_LOG_WARN,
               "%s: a stage here was interrupted: the layout before it and the one it staged "
               "are both taken until %s is staged again",
               dir, dir);
    }
    return VS_OK;
}

/* The digest to hold DIR to: the one given, else the one this home recorded
 * (none: *expect stays ""). */
static vs_status expected_digest(vs_ctx *ctx, const char *dir, const char *given,
                                 char expect[VS_LAYOUT_DIGEST_HEX], const char **whence,
                                 vs_error *err)
{
    expect[0] = '\0';
    if (given) {
        if (!vs_layout_digest_valid(given))
            return vs_error_subj(err, VS_E_USAGE, given,
                                 "not a layout digest (64 hexadecimal digits)");
        for (size_t i = 0; i < 65; i++)
            expect[i] = (char)((given[i] >= 'A' && given[i] <= 'F') ? given[i] + 32 : given[i]);
        *whence = "given with --manifest-sha256";
        return VS_OK;
    }
    if (!ctx)
        return VS_OK;
    vs_error e2 = VS_ERROR_INIT;
    vs_status st = vs_layout_recorded_digest(expect, ctx, dir, &e2);
    if (st && e2.detail == VS_DETAIL_NOT_FOUND)
        return VS_OK;
    if (st && err)
        *err = e2;
    *whence = "recorded when this home staged it";
    return st;
}

VS_EXTERN vs_status vs_layout_verify(size_t *nproblems, char digest[VS_LAYOUT_DIGEST_HEX],
                                     vs_ctx *ctx, const char *dir, const char *expect_hex,
                                     vs_layout_problem_cb cb, void *payload, vs_error *err)
{
    char expect[VS_LAYOUT_DIGEST_HEX], got[VS_LAYOUT_DIGEST_HEX];
    const char *whence = "";
    if (digest)
        digest[0] = '\0';
    if (nproblems)
        *nproblems = 0;
    vs_status st = expected_digest(ctx, dir, expect_hex, expect, &whence, err);
    if (st)
        return st;
    /* one tree, opened once: digested, checked, digested again - a tree
     * changed while it was checked is not the one that passed */
    int tfd = -1;
    char again[VS_LAYOUT_DIGEST_HEX];
    st = vs_layout_open_tree(dir, &tfd, err);
    if (!st)
        st = vs_layout_digest_at(got, tfd, dir, err);
    if (!st)
        st = vs_layout_check_at(nproblems, tfd, dir, cb, payload, err);
    if (!st)
        st = vs_layout_digest_at(again, tfd, dir, err);
    if (tfd >= 0)
        close(tfd);
    if (st)
        return st;
    if (strcmp(got, again) != 0)
        return vs_error_subj(err, VS_E_INTEGRITY, dir, "changed while it was being checked");
    if (digest)
        memcpy(digest, got, sizeof got);
    if (expect[0] && strcasecmp(expect, got) != 0) {
        vs_error_subj(err, VS_E_INTEGRITY, dir, "layout digest %s differs from %s (%s)", got,
                      expect, whence);
        vs_error_hint(err, "stage it again, or check it with --manifest-sha256 HEX if it was "
                           "staged elsewhere");
        return VS_E_INTEGRITY;
    }
    return VS_OK;
}
