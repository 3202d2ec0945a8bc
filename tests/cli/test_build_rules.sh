#!/bin/sh
# tests/cli/test_build_rules.sh - the rules STYLE.md writes down are enforced
# by the build: banned functions do not compile in library code, and every
# library object is compiled with the poison header and the strict warnings.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT"

for fn in strcpy strcat sprintf atoi strtok system chdir; do
    printf '#include <string.h>\n#include <stdlib.h>\n#include <stdio.h>\n#include <unistd.h>\nvoid *f(void);\nvoid *f(void) { return (void *)%s; }\n' "$fn" >"$T/use.c"
    if cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -include common/banned.h -c "$T/use.c" -o "$T/use.o" 2>"$T/cc.err"; then
        not_ok "$fn compiles in library code"
    elif grep -q "poisoned \"$fn\"" "$T/cc.err"; then
        ok "$fn is poisoned in library code"
    else
        not_ok "$fn refused for another reason: $(head -1 "$T/cc.err")"
    fi
done

printf '#include <stdio.h>\nint g(char *b, size_t n);\nint g(char *b, size_t n) { return snprintf(b, n, "%%d", 1); }\n' >"$T/fine.c"
expect_rc 0 "snprintf still compiles under the poison header" \
    cc -std=c11 -include common/banned.h -c "$T/fine.c" -o "$T/fine.o"

env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MAKEOVERRIDES -u SAN make -s -n -B BUILD="$T/b" "$T/b/obj/cache/objects.o" >"$T/lib-cmd" 2>&1
check "library objects are compiled with the poison header" grep -q -- '-include common/banned.h' "$T/lib-cmd"
check "library objects are compiled with -Wconversion -Wsign-conversion" grep -q -- '-Wconversion -Wsign-conversion' "$T/lib-cmd"
check "library objects are compiled with -Werror" grep -q -- '-Werror' "$T/lib-cmd"
check "library objects get stack protection" grep -q -- '-fstack-protector-strong' "$T/lib-cmd"
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MAKEOVERRIDES -u SAN make -s -n -B BUILD="$T/b" "$T/b/obj/cli/main.o" >"$T/cli-cmd" 2>&1
check "CLI objects are compiled with -Wconversion" grep -q -- '-Wconversion' "$T/cli-cmd"

finish
