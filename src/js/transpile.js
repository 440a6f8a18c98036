/*
 * Transpile driver for job-type scripts, run inside the Manager's
 * transpiler heap (Duktape, ES5). Evaluating this file yields a factory;
 * jsenv.c calls it with buble and the acorn parser bundled in buble, and
 * keeps the function it returns: transpile(source, filename) -> {code} or
 * {error: "file:line: message"}.
 *
 * buble down-levels ES2015+ syntax to ES5 but gives iterables no meaning:
 * `[...set]` becomes `[].concat(set)` and, with dangerousForOf, `for (x of
 * it)` becomes an index loop over `it.length`. So before buble runs, a pass
 * over acorn's syntax tree routes every place that consumes an iterable
 * through __fm_iter(...), which returns arrays as they are and turns any
 * other iterable into an array. jsenv.c passes __fm_iter in when it runs
 * the result. The pass only inserts text within lines.
 *
 * buble moves code between lines (a class becomes several statements),
 * so the output ends with a comment "//# fmLines=" holding, for each of
 * its lines, the script line it came from (deltas, runs as "d*n"); jsenv
 * uses it to report errors at the script's own lines.
 */
(function (buble, parser) {
	"use strict";

	var ITER = "__fm_iter(";

	var PARSE_OPTIONS = {
		ecmaVersion: 10,
		sourceType: "module",
		preserveParens: true,
		allowReturnOutsideFunction: false,
		allowHashBang: true
	};

	var BUBLE_OPTIONS = {
		transforms: {
			dangerousForOf: true,
			modules: false
		},
		objectAssign: "Object.assign"
	};

	/* Where a spread argument is iterated (not object spread). */
	var SPREAD_PARENTS = {
		ArrayExpression: true,
		CallExpression: true,
		NewExpression: true
	};

	function isNode(v) {
		return v !== null && typeof v === "object" &&
		    typeof v.type === "string";
	}

	function SyntaxProblem(message, node) {
		this.message = message;
		this.pos = node.start;
	}

	/*
	 * The rewrite of one script: text insertions and replacements keyed
	 * by source offsets, rendered at the end (a small magic-string).
	 */
	function Rewrite(source) {
		this.source = source;
		this.edits = [];
		this.refs = 0;
	}

	/* Insert text (a string or a function returning one) at pos. */
	Rewrite.prototype.insert = function (pos, text, open, span) {
		this.edits.push({ start: pos, end: pos, text: text, open: open,
		    span: span });
	};

	/* Replace [start, end) with text; edits inside it are dropped. */
	Rewrite.prototype.replace = function (start, end, text) {
		var e = { start: start, end: end, text: text, open: 2,
		    span: end - start };

		this.edits.push(e);
		return e;
	};

	/* Queue "__fm_iter(" before expr and ")" after it. */
	Rewrite.prototype.wrap = function (expr) {
		if (expr.type === "ArrayExpression")
			return; /* already an array */
		var span = expr.end - expr.start;
		this.insert(expr.start, ITER, 1, span);
		this.insert(expr.end, ")", 0, span);
	};

	/*
	 * Order edits at one position so wrappers nest: closing text first,
	 * then openers outermost (longest span) first, then replacements;
	 * closers innermost (shortest span) first.
	 */
	function editOrder(a, b) {
		if (a.start !== b.start)
			return a.start - b.start;
		if (a.open !== b.open)
			return a.open - b.open;
		return a.open === 0 ? a.span - b.span : b.span - a.span;
	}

	/* The text of [start, end) with the edits inside it applied. */
	Rewrite.prototype.render = function (start, end, skip) {
		var out = [], at = start, e, text;

		for (var i = 0; i < this.edits.length; i++) {
			e = this.edits[i];
			if (e === skip || e.start < at || e.end > end)
				continue;
			text = typeof e.text === "function" ? e.text() : e.text;
			out.push(this.source.slice(at, e.start), text);
			at = e.end;
		}
		out.push(this.source.slice(at, end));
		return out.join("");
	};

	Rewrite.prototype.toString = function () {
		this.edits.sort(editOrder);
		return this.render(0, this.source.length, null);
	};

	/*
	 * for-of needs two more fixes besides __fm_iter, both for buble bugs:
	 * - buble renames block-scoped names that clash but forgets the names
	 *   bound by a destructuring pattern in the loop head (the body then
	 *   refers to a "tag$1" that was never declared), so the pattern
	 *   moves into the body, where buble handles it:
	 *     for (const [k, v] of m) BODY  ->
	 *     for (const __fm_ref1 of m) { const [k, v] = __fm_iter(__fm_ref1); BODY }
	 * - a body that is not a block and holds a closure over the loop
	 *   variable compiles to code that reads an undefined list, so such
	 *   bodies get braces.
	 */
	Rewrite.prototype.forOf = function (node) {
		var left = node.left, body = node.body, self = this;
		var pattern = left, decl = null, ref, moved, prefix = "";

		this.wrap(node.right);
		if (left.type === "VariableDeclaration") {
			pattern = left.declarations[0].id;
			decl = left.kind + " ";
		}
		if (pattern.type === "ArrayPattern" ||
		    pattern.type === "ObjectPattern") {
			ref = "__fm_ref" + ++this.refs;
			moved = this.replace(left.start, left.end,
			    (decl || "var ") + ref);
			prefix = function () {
				var text = self.render(pattern.start, pattern.end,
				    moved);
				var value = pattern.type === "ArrayPattern"
				    ? ITER + ref + ")" : ref;

				return decl ? decl + text + " = " + value + "; "
				    : "(" + text + " = " + value + "); ";
			};
		} else if (body.type === "BlockStatement") {
			return;
		}
		this.insert(body.start, function () {
			return "{ " + (prefix === "" ? "" : prefix());
		}, 1, body.end - body.start);
		this.insert(body.end, " }", 0, body.end - body.start);
	};

	Rewrite.prototype.visit = function (node, parent) {
		switch (node.type) {
		case "ForOfStatement":
			this.forOf(node);
			break;
		case "SpreadElement":
			if (parent !== null && SPREAD_PARENTS[parent.type])
				this.wrap(node.argument);
			break;
		case "VariableDeclarator":
			if (node.id.type === "ArrayPattern" && node.init)
				this.wrap(node.init);
			break;
		case "AssignmentExpression":
			if (node.left.type === "ArrayPattern")
				this.wrap(node.right);
			break;
		case "CatchClause":
			/* ES2019 optional catch binding; ES5 needs a name. */
			if (!node.param)
				this.insert(node.body.start, "(__fm_unused) ", 1,
				    0);
			break;
		case "ImportDeclaration":
		case "ExportNamedDeclaration":
		case "ExportDefaultDeclaration":
		case "ExportAllDeclaration":
			throw new SyntaxProblem("import and export are not " +
			    "supported in job-type scripts; use require()", node);
		}
		for (var key in node) {
			if (key === "loc")
				continue;
			var v = node[key];
			if (Array.isArray(v)) {
				for (var i = 0; i < v.length; i++)
					if (isNode(v[i]))
						this.visit(v[i], node);
			} else if (isNode(v)) {
				this.visit(v, node);
			}
		}
	};

	/* "Unexpected token (3:4)" -> "Unexpected token"; drop advice. */
	function bareMessage(err) {
		var m = String(err && err.message !== undefined ? err.message : err);
		m = m.replace(/ \(\d+:\d+\)$/, "");
		/* buble's advice on its own options means nothing to authors. */
		return m.replace(/\. Use `transforms: [^]*$/,
		    " (not supported by the Manager's script engine)");
	}

	/* 1-based line of a source offset. */
	function lineOf(source, pos) {
		return source.slice(0, pos).split("\n").length;
	}

	function failure(source, filename, err) {
		var line = err && err.loc && err.loc.line;

		if (!line && err && typeof err.pos === "number")
			line = lineOf(source, err.pos);
		return { error: filename + (line ? ":" + line : "") + ": " +
		    bareMessage(err) };
	}

	/*
	 * The "//# fmLines=" table for code of n lines from buble's decoded
	 * map (per output line, segments [column, source, line, column]);
	 * an output line without a mapping keeps the line before it.
	 */
	function lineTable(map, n) {
		var lines = map && map.mappings, out = [], prev = 0;
		var last = null, count = 0, i, j, orig, d;

		if (!Array.isArray(lines))
			return "";
		for (i = 0; i < n; i++) {
			orig = 0;
			for (j = 0; lines[i] && j < lines[i].length; j++) {
				if (lines[i][j].length >= 4) {
					orig = lines[i][j][2] + 1;
					break;
				}
			}
			if (orig === 0)
				orig = prev > 0 ? prev : 1;
			d = orig - prev;
			prev = orig;
			if (d === last) {
				count++;
				continue;
			}
			if (last !== null)
				out.push(count > 1 ? last + "*" + count : String(last));
			last = d;
			count = 1;
		}
		if (last !== null)
			out.push(count > 1 ? last + "*" + count : String(last));
		return "\n//# fmLines=" + out.join(",");
	}

	return function transpile(source, filename) {
		var rw = new Rewrite(source), code, out;

		try {
			rw.visit(parser.parse(source, PARSE_OPTIONS), null);
			out = buble.transform(rw.toString(), BUBLE_OPTIONS);
			code = out.code;
			code += lineTable(out.map, code.split("\n").length);
		} catch (err) {
			return failure(source, filename, err);
		}
		return { code: code };
	};
})
