/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Small helpers that make ownership visible: _cleanup_ attributes free locals on every return
 * path, TAKE_PTR/TAKE_FD hand ownership to the caller. gnu11: typeof and statement expressions.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _must_check_   __attribute__((warn_unused_result))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CONCATENATE_(a, b) a##b
#define CONCATENATE(a, b)  CONCATENATE_(a, b)
#define UNIQ(name, u)	   CONCATENATE(name, u)

/* MIN, MAX, CLAMP evaluate each argument once and nest (unique temporaries per use). */
#define MIN(a, b) MIN_(__COUNTER__, a, b)
#define MIN_(u, a, b)                                                  \
	({                                                             \
		typeof(a) UNIQ(_a, u) = (a);                           \
		typeof(b) UNIQ(_b, u) = (b);                           \
		UNIQ(_a, u) < UNIQ(_b, u) ? UNIQ(_a, u) : UNIQ(_b, u); \
	})
#define MAX(a, b) MAX_(__COUNTER__, a, b)
#define MAX_(u, a, b)                                                  \
	({                                                             \
		typeof(a) UNIQ(_a, u) = (a);                           \
		typeof(b) UNIQ(_b, u) = (b);                           \
		UNIQ(_a, u) > UNIQ(_b, u) ? UNIQ(_a, u) : UNIQ(_b, u); \
	})
#define CLAMP(x, lo, hi) MIN(MAX((x), (lo)), (hi))

/* Take ownership of a pointer: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                 \
	({                          \
		typeof(p) _p = (p); \
		(p) = NULL;         \
		_p;                 \
	})

/* Same for file descriptors: returns the fd and leaves -EBADF behind. */
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -EBADF;  \
		_fd;            \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		(void)close(fd);
		errno = saved;
	}
	return -EBADF;
}

static inline void closep(int *fd)
{
	*fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Defines type_freep() for a type_free() that accepts NULL and returns NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
	static inline void func##p(type *p)     \
	{                                       \
		if (*p)                         \
			*p = func(*p);          \
	}

static inline bool streq(const char *a, const char *b)
{
	return a == b || (a && b && __builtin_strcmp(a, b) == 0);
}

/* Whether s is longer than suffix and ends with it ("x.yaml", not ".yaml" itself). */
static inline bool has_suffix(const char *s, const char *suffix)
{
	size_t n = __builtin_strlen(s), m = __builtin_strlen(suffix);

	return n > m && __builtin_strcmp(s + n - m, suffix) == 0;
}

/* Iterate over a C array of n elements. */
#define FOREACH_ARRAY(i, array, n) for (typeof(&*(array)) i = (array); i && i < (array) + (n); i++)

/* Grow *array (of *n elements, *allocated capacity) so that one more element fits. */
int grow_array(void **array, size_t *allocated, size_t need, size_t element_size);
#define GROW_ARRAY(array, allocated, need) \
	grow_array((void **)&(array), &(allocated), (need), sizeof(*(array)))

/*
 * Makes room for element n of an array of n elements that grows only through this call, one
 * element at a time (it may shrink in place). Its capacity is implied by n (4, 8, 16, ...), so
 * none is kept beside it, and growth stays geometric: n appends cost O(n), not O(n^2).
 */
int extend_array(void **array, size_t n, size_t element_size);
#define EXTEND_ARRAY(array, n) extend_array((void **)&(array), (n), sizeof(*(array)))
