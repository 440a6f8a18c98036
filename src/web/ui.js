// Small DOM helpers shared by the views: element building, status badges,
// progress bars, times and the notification area.

export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === null || v === undefined || v === false) continue;
			if (k === 'class') el.className = v;
			else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
			else if (k === 'dataset') Object.assign(el.dataset, v);
			else if (v === true) el.setAttribute(k, '');
			else el.setAttribute(k, v);
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.append(c instanceof Node ? c : String(c));
	}
}

// Replace the contents of el.
export function fill(el, ...children) {
	el.textContent = '';
	append(el, children);
}

export function badge(status, kind = 'status') {
	const s = status || 'unknown';
	return h('span', { class: `badge ${kind}-${s}` }, s);
}

export function setBadge(el, status, kind = 'status') {
	const s = status || 'unknown';
	el.className = `badge ${kind}-${s}`;
	el.textContent = s;
}

// Steps done of total; without steps (total 0) a completed one is full.
function share(done, total, status) {
	if (total > 0) return { pct: Math.min(100, Math.round((100 * done) / total)), text: `${done}/${total}` };
	return { pct: status === 'completed' ? 100 : 0, text: '—' };
}

export function progress(done, total, status) {
	const { pct, text } = share(done, total, status);
	const bar = h('span', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0',
		'aria-valuemax': '100', 'aria-valuenow': String(pct),
		'aria-label': `${done} of ${total} steps` }, h('span', { style: `width:${pct}%` }));
	return h('span', { class: 'progress' }, bar, h('span', { class: 'steps' }, text));
}

export function setProgress(el, done, total, status) {
	const { pct, text } = share(done, total, status);
	const bar = el.querySelector('.bar');
	bar.setAttribute('aria-valuenow', String(pct));
	bar.setAttribute('aria-label', `${done} of ${total} steps`);
	bar.firstChild.style.width = `${pct}%`;
	el.querySelector('.steps').textContent = text;
}

// Milliseconds since the epoch of an RFC 3339 time, 0 when absent.
export function ms(t) {
	const v = t ? Date.parse(t) : NaN;
	return Number.isNaN(v) ? 0 : v;
}

export function ago(t) {
	const v = ms(t);
	if (!v || v < 1e11) return '—';
	const s = Math.round((Date.now() - v) / 1000);
	if (s < 5) return 'just now';
	if (s < 60) return `${s} s ago`;
	if (s < 3600) return `${Math.floor(s / 60)} min ago`;
	if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
	return new Date(v).toLocaleDateString();
}

// A <time> that shows how long ago and keeps it current (see tickTimes).
export function time(t) {
	const v = ms(t);
	return h('time', { datetime: t || '', title: v ? new Date(v).toLocaleString() : '' }, ago(t));
}

export function setTime(el, t) {
	const v = ms(t);
	el.setAttribute('datetime', t || '');
	el.title = v ? new Date(v).toLocaleString() : '';
	el.textContent = ago(t);
}

export function tickTimes(root) {
	for (const el of root.querySelectorAll('time[datetime]'))
		el.textContent = ago(el.getAttribute('datetime'));
}

let toastArea = null;

// A message for the user; errors stay until dismissed.
export function toast(text, kind = 'info') {
	toastArea = toastArea || document.getElementById('toasts');
	const close = h('button', { class: 'link', 'aria-label': 'Dismiss' }, '×');
	const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : null },
		h('span', null, text), close);
	close.addEventListener('click', () => el.remove());
	toastArea.append(el);
	if (kind !== 'error') setTimeout(() => el.remove(), 4000);
}

// Run an API action from a button: busy meanwhile (not disabled: whether
// it may be pressed is the view's to say, from the state events bring),
// errors shown.
export async function act(button, fn, done) {
	if (button) {
		if (button.getAttribute('aria-busy') === 'true') return;
		button.setAttribute('aria-busy', 'true');
	}
	try {
		await fn();
		if (done) toast(done);
	} catch (e) {
		toast(e.message, 'error');
	} finally {
		if (button) button.removeAttribute('aria-busy');
	}
}

// Run tasks (functions returning promises) at most n at a time.
export async function pool(items, n, fn) {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			try {
				await fn(items[i], i);
			} catch (e) {
				/* one failure must not stop the rest */
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export function shortId(id) {
	return id ? id.slice(0, 8) : '';
}
