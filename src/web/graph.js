// A job's task dependency graph as SVG, layered by depth: tasks without
// dependencies in the first column, every other task one column right of
// the deepest task it waits for, edges drawn from a dependency to its
// dependant. Nodes take their colour from the task status and open the
// task when activated.

const NS = 'http://www.w3.org/2000/svg';
const W = 160;
const H = 24;
const GAP_X = 48;
const GAP_Y = 8;
const PAD = 8;
const CENTRE_MAX = 16;

function s(tag, attrs, ...children) {
	const el = document.createElementNS(NS, tag);
	for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
	for (const c of children) el.append(c);
	return el;
}

// Depth of every task; a cycle (which the Manager refuses) stops the walk.
function depths(tasks, deps) {
	const depth = new Map();
	const visiting = new Set();
	const walk = (id) => {
		if (depth.has(id)) return depth.get(id);
		if (visiting.has(id)) return 0;
		visiting.add(id);
		let d = 0;
		for (const dep of deps.get(id) || []) if (deps.has(dep)) d = Math.max(d, walk(dep) + 1);
		visiting.delete(id);
		depth.set(id, d);
		return d;
	};
	for (const t of tasks) walk(t.id);
	return depth;
}

// tasks: [{id, name, status, index_in_job}]; deps: Map id -> [id];
// href(task) gives the link of a node.
export function drawGraph(tasks, deps, href) {
	const depth = depths(tasks, deps);
	const layers = [];
	for (const t of [...tasks].sort((a, b) => a.index_in_job - b.index_in_job)) {
		const d = depth.get(t.id) || 0;
		(layers[d] = layers[d] || []).push(t);
	}
	const pos = new Map();
	const rowsMax = layers.reduce((n, l) => Math.max(n, l.length), 0);
	layers.forEach((layer, col) => {
		// Shorter layers sit in the middle of the tallest one, unless that
		// is so tall the middle would be out of sight.
		const rows = rowsMax <= CENTRE_MAX ? rowsMax : layer.length;
		const top = PAD + ((rows - layer.length) * (H + GAP_Y)) / 2;
		layer.forEach((t, row) => pos.set(t.id, { x: PAD + col * (W + GAP_X), y: top + row * (H + GAP_Y) }));
	});
	const width = PAD * 2 + layers.length * W + Math.max(0, layers.length - 1) * GAP_X;
	const height = PAD * 2 + rowsMax * H + Math.max(0, rowsMax - 1) * GAP_Y;
	const edges = s('g', { class: 'edges' });
	const nodes = s('g', { class: 'nodes' });
	const nodeOf = new Map();
	for (const t of tasks) {
		const p = pos.get(t.id);
		for (const dep of deps.get(t.id) || []) {
			const q = pos.get(dep);
			if (!q) continue;
			const x1 = q.x + W;
			const y1 = q.y + H / 2;
			const x2 = p.x;
			const y2 = p.y + H / 2;
			const mx = (x1 + x2) / 2;
			edges.append(s('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
		}
		const label = t.name.length > 22 ? `${t.name.slice(0, 21)}…` : t.name;
		const g = s('a', { href: href(t), class: `node status-${t.status}`, 'aria-label': `${t.name}: ${t.status}` },
			s('title', {}, `${t.name} (${t.status})`),
			s('rect', { x: p.x, y: p.y, width: W, height: H, rx: 4 }),
			s('text', { x: p.x + 8, y: p.y + H / 2 + 4 }, label));
		nodeOf.set(t.id, g);
		nodes.append(g);
	}
	const svg = s('svg', { class: 'graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
		'aria-label': `Dependency graph of ${tasks.length} tasks in ${layers.length} layers` }, edges, nodes);
	return {
		svg,
		setStatus(id, status) {
			const g = nodeOf.get(id);
			if (!g) return;
			g.setAttribute('class', `node status-${status}`);
			const name = g.querySelector('title').textContent.replace(/ \([^)]*\)$/, '');
			g.querySelector('title').textContent = `${name} (${status})`;
			g.setAttribute('aria-label', `${name}: ${status}`);
		},
	};
}
