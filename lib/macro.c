/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <string.h>

#include "macro.h"

int grow_array(void **array, size_t *allocated, size_t need, size_t element_size)
{
	size_t n;
	void *p;

	if (need <= *allocated)
		return 0;
	n = MAX(need, *allocated * 2);
	n = MAX(n, (size_t)4);
	if (n > SIZE_MAX / element_size)
		return -ENOMEM;
	p = realloc(*array, n * element_size);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *allocated * element_size, 0, (n - *allocated) * element_size);
	*array = p;
	*allocated = n;
	return 0;
}

/* The capacity an array of n elements grown by extend_array() has at least. */
static size_t implied_capacity(size_t n)
{
	size_t c = 4;

	if (n == 0)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

int extend_array(void **array, size_t n, size_t element_size)
{
	size_t have = implied_capacity(n), want;
	void *p;

	if (n < have)
		return 0;
	want = implied_capacity(n + 1);
	if (want > SIZE_MAX / element_size)
		return -ENOMEM;
	p = realloc(*array, want * element_size);
	if (!p)
		return -ENOMEM;
	memset((char *)p + n * element_size, 0, (want - n) * element_size);
	*array = p;
	return 0;
}
