/*
 * common/banned.h - STYLE.md's banned functions, enforced by the compiler.
 *
 * Force-included into every library source (-include, see the Makefile).
 * The libc headers that declare these functions are included first, so
 * their own declarations pass; any use after that is a hard error.
 * Use snprintf, memcpy with explicit lengths, strtoul/strtoull with end
 * checks, the bounded cursor, and directory descriptors instead.
 */
#ifndef VS_BANNED_H
#define VS_BANNED_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GNUC__)
#pragma GCC poison strcpy strcat sprintf vsprintf gets atoi atol strtok system chdir
#endif
#endif
