#!/bin/sh
# mk/funclen.sh - list library functions longer than a limit (issue 10: "no
# library function over ~80 lines").
#
#   sh mk/funclen.sh [LIMIT] [FILE.c ...]    (default: 80, every library file)
#
# Counts the lines between a function's opening brace and its closing brace,
# both alone in column 0 (the project's style: clang-format, braces of
# functions on their own line). Prints FILE:LINE LENGTH SIGNATURE for each
# function over LIMIT; exit status 1 when there is one, 0 when none. It
# reads the files only.
set -eu
cd "$(dirname "$0")/.."
limit=${1:-80}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
    set -- $(ls */*.c | grep -vE '^(tests|fuzz|bench|build|cli)/')
fi
awk -v limit="$limit" '
    FNR == 1 { start = 0 }
    /^[A-Za-z_]/ && !/^\{/ { sig = $0 }
    /^\{$/ { start = FNR; s = sig }
    /^\}/ && start {
        n = FNR - start - 1
        if (n > limit) { printf "%s:%d %d %s\n", FILENAME, start, n, substr(s, 1, 80); found++ }
        start = 0
    }
    END { exit found ? 1 : 0 }
' "$@"
