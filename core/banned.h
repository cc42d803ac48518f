/*
 * banned.h: functions perfgate never calls.
 *
 * Included last by every translation unit (through the Makefile's -include),
 * so a use of one of these names fails to compile.  Use the sb_* string
 * builder, snprintf, and strtod/strtoll with end-pointer checks instead.
 */
#ifndef PERFGATE_BANNED_H
#define PERFGATE_BANNED_H

/* System headers first, so their own declarations are not rewritten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANNED(func) sorry_##func##_is_banned_in_perfgate

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gets
#define gets(x) BANNED(gets)

#endif
