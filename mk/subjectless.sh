#!/bin/sh
# mk/subjectless.sh - list the error sites in library code that set an error
# without a subject (issue 10: "every error has a subject").
#
#   sh mk/subjectless.sh [FILE.c ...]     (default: every library folder)
#
# A site is reported as FILE:LINE: CALL when it calls one of the setters
# that take no subject (vs_error_set, vs_error_setb, vs_error_errno), or a
# structured one (vs_error_subj, vs_error_subjb, vs_error_subj_errno) whose
# subject argument is a literal NULL or "". Calls are read across lines, with
# comments and strings skipped, so a call split over several lines counts
# once. Exit status: 0 when none is found, 1 when some are, 2 on a usage
# error. It reads the files only; it changes nothing.
set -eu
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
    set -- $(ls common/*.c keys/*.c fetch/*.c verify/*.c cache/*.c stage/*.c render/*.c \
        mirror/*.c source/*.c 2>/dev/null | grep -v '^common/error\.c$')
fi
command -v python3 >/dev/null 2>&1 || { echo "subjectless: python3 is needed" >&2; exit 2; }
exec python3 - "$@" <<'EOF'
import re, sys

# setter -> index of its subject argument (None: it takes none)
SETTERS = {
    "vs_error_set": None, "vs_error_setb": None, "vs_error_errno": None,
    "vs_error_subj": 2, "vs_error_subjb": 4, "vs_error_subj_errno": 3,
}
CALL = re.compile(r"\b(" + "|".join(sorted(SETTERS, key=len, reverse=True)) + r")\s*\(")

def blank_comments(src):
    """Comments become spaces (newlines kept), so that line numbers hold."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src[i] in "\"'":
            q, j = src[i], i + 1
            while j < n and src[j] != q:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(src[i])
            i += 1
    return "".join(out)

def args_of(src, start):
    """The top-level arguments of the call whose '(' is at start."""
    depth, i, cur, args, quote = 0, start, [], [], None
    while i < len(src):
        c = src[i]
        if quote:
            cur.append(c)
            if c == "\\":
                cur.append(src[i + 1]); i += 2; continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c; cur.append(c)
        elif c in "([{":
            depth += 1
            if depth > 1:
                cur.append(c)
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            cur.append(c)
        elif c == "," and depth == 1:
            args.append("".join(cur).strip()); cur = []
        else:
            cur.append(c)
        i += 1
    return args

found = 0
for path in sys.argv[1:]:
    try:
        src = blank_comments(open(path, encoding="utf-8", errors="replace").read())
    except OSError as e:
        print("subjectless: %s: %s" % (path, e.strerror), file=sys.stderr)
        sys.exit(2)
    for m in CALL.finditer(src):
        # a definition or declaration (return type before it) is not a site
        before = src[max(0, src.rfind("\n", 0, m.start()) + 1):m.start()]
        if re.search(r"\bvs_status\s*$", before) or re.search(r"\bvoid\s*$", before):
            continue
        name = m.group(1)
        idx = SETTERS[name]
        args = args_of(src, m.end() - 1)
        subject_less = idx is None or (len(args) > idx and args[idx] in ("NULL", '""'))
        if subject_less:
            line = src.count("\n", 0, m.start()) + 1
            print("%s:%d: %s(%s)" % (path, line, name, ", ".join(args)[:100]))
            found += 1
print("subjectless: %d site%s" % (found, "" if found == 1 else "s"), file=sys.stderr)
sys.exit(1 if found else 0)
EOF
