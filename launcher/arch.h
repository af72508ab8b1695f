/*
 * arch.h: what every freestanding program of launcher/ starts with (the
 * launcher, the audit module, the single-file runtime): the system call
 * layer of the machine it is built for (arch/<arch>.h) and the integer
 * types. No libc.
 */
#ifndef PORTABLE_ARCH_H
#define PORTABLE_ARCH_H

#if defined(__x86_64__)
#include "arch/x86_64.h"
#elif defined(__aarch64__)
#include "arch/aarch64.h"
#else
#error "unsupported architecture: add launcher/arch/<arch>.h"
#endif

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long size_t;

#endif
