/*
 * A cheap look at JSON text before it is parsed: one pass, no
 * allocation, counting the values and the nesting depth a parse would
 * build. A parsed value costs far more memory than its text (the three
 * bytes "{}," become an object of a few hundred bytes), so request bodies
 * are measured with this first and refused when they would cost too much.
 */
#ifndef FM_JSONSCAN_H
#define FM_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

struct jsonscan {
	size_t values; /* objects, arrays, strings (keys too), scalars */
	size_t depth;  /* deepest nesting of objects and arrays */
};

/*
 * Measure len bytes of JSON text. The scan stops as soon as values
 * exceeds max_values or depth exceeds max_depth, and returns false then;
 * out says which. Malformed text is measured as well as it can be and
 * left for the parser to refuse.
 */
bool jsonscan_measure(const char *text, size_t len, size_t max_values,
    size_t max_depth, struct jsonscan *out);

#endif
