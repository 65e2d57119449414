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
