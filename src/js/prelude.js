/*
 * Runtime prelude of every job-compiler heap (Duktape, ES5, after
 * core-js). Evaluating this file yields a factory; jsenv.c calls it once
 * per heap and keeps what it returns in the heap stash, out of reach of
 * scripts. Everything else Flamenco's scripts see (author, path, process,
 * frameChunker, ...) is bound natively by jsenv.c.
 */
(function () {
	"use strict";

	var isArray = Array.isArray;
	var arrayFrom = Array.from;
	var slice = Array.prototype.slice;
	var toStr = Object.prototype.toString;
	var iteratorKey = Symbol.iterator;

	/*
	 * What the transpiler routes every iterable through (for-of, spread,
	 * array destructuring): arrays pass as they are, anything iterable
	 * becomes an array, and a non-iterable throws as ES2015 would.
	 */
	function iter(value) {
		if (isArray(value))
			return value;
		if (typeof value === "string")
			return arrayFrom(value);
		if (value !== null && value !== undefined) {
			if (typeof value[iteratorKey] === "function")
				return arrayFrom(value);
			if (toStr.call(value) === "[object Arguments]")
				return slice.call(value);
		}
		throw new TypeError(String(value) + " is not iterable");
	}

	return { iter: iter };
})
