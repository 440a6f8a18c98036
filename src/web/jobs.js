// The jobs list: one page of jobs (newest first), an optional status
// filter, kept current from /jobs events. A change the page cannot place
// by itself (a job entering or leaving the filter, a deleted job) reloads
// the page once the burst of events is over.

import { api } from './api.js';
import { badge, h, ms, progress, setBadge, setProgress, setTime, time } from './ui.js';

const PAGE = 50;
const FILTERS = [
	['', 'All'],
	['active,queued', 'Active or queued'],
	['active', 'active'],
	['queued', 'queued'],
	['paused,pause-requested', 'paused'],
	['failed', 'failed'],
	['completed', 'completed'],
	['canceled,cancel-requested', 'canceled'],
	['requeueing', 'requeueing'],
	['under-construction', 'under construction'],
];

function href(status, page) {
	const q = new URLSearchParams();
	if (status) q.set('status', status);
	if (page) q.set('page', String(page));
	const qs = q.toString();
	return `#/jobs${qs ? `?${qs}` : ''}`;
}

// A queued job waiting for other jobs (waiting_for, beyond Flamenco).
function waitsText(job) {
	const n = (job.waiting_for || []).length;
	if (!n || job.status !== 'queued') return '';
	const names = (job.depends_on || []).filter((d) => !d.satisfied).map((d) => d.job_name);
	return ` waiting for ${[...new Set(names)].join(', ')}`;
}

function makeRow(job) {
	const r = {
		job: { ...job },
		name: h('a', { href: `#/jobs/${job.id}` }, job.name || '(unnamed)'),
		status: badge(job.status),
		progress: progress(job.steps_completed, job.steps_total, job.status),
		priority: h('td', { class: 'num' }, job.priority),
		type: h('td', null, job.type),
		updated: time(job.updated),
		waits: h('span', { class: 'muted waits-note' }, waitsText(job)),
	};
	r.tr = h('tr', null,
		h('th', { scope: 'row' }, r.name),
		h('td', null, r.status, r.waits),
		h('td', null, r.progress),
		r.priority,
		r.type,
		h('td', null, time(job.created)),
		h('td', null, r.updated));
	return r;
}

function updateRow(r, d) {
	const j = r.job;
	if (d.name && d.name !== j.name) r.name.textContent = d.name;
	if (d.status && d.status !== j.status) setBadge(r.status, d.status);
	if (d.status && d.status !== 'queued') r.waits.textContent = '';
	// waiting_for comes with jobs that have dependencies; the names are
	// those of the dependencies the list loaded.
	else if (d.waiting_for)
		r.waits.textContent = waitsText({ ...j, ...d,
			depends_on: (j.depends_on || []).map((x) => ({ ...x, satisfied: !d.waiting_for.includes(x.job) })) });
	setProgress(r.progress, d.steps_completed, d.steps_total, d.status);
	if (d.priority !== j.priority) r.priority.textContent = d.priority;
	setTime(r.updated, d.updated);
	Object.assign(j, d);
}

export function jobsView(query) {
	const status = query.get('status') || '';
	const page = Math.max(0, parseInt(query.get('page') || '0', 10) || 0);
	const wanted = status ? new Set(status.split(',')) : null;
	const rows = new Map();
	let tbody, empty, range, prev, next;
	let hasNext = false;
	let reloadTimer = null;
	let drawn = false;

	function scheduleReload() {
		clearTimeout(reloadTimer);
		reloadTimer = setTimeout(() => load().catch(() => {}), 300);
	}

	function pager() {
		const n = rows.size;
		range.textContent = n ? `${page * PAGE + 1}–${page * PAGE + n}` : '';
		prev.hidden = page === 0;
		next.hidden = !hasNext;
		empty.hidden = n > 0;
	}

	async function load() {
		const res = await api.jobs({ status, limit: PAGE + 1, offset: page * PAGE });
		const jobs = res.jobs.slice(0, PAGE);
		hasNext = res.jobs.length > PAGE;
		rows.clear();
		const frag = document.createDocumentFragment();
		for (const job of jobs) {
			const r = makeRow(job);
			rows.set(job.id, r);
			frag.append(r.tr);
		}
		tbody.replaceChildren(frag);
		pager();
		if (!drawn) {
			drawn = true;
			performance.mark('fm-jobs-rendered');
		}
	}

	function event(topic, d) {
		if (topic !== '/jobs') return;
		const r = rows.get(d.id);
		if (d.was_deleted) {
			if (r) {
				r.tr.remove();
				rows.delete(d.id);
				scheduleReload();
			}
			return;
		}
		const fits = !wanted || wanted.has(d.status);
		if (r) {
			if (ms(d.updated) < ms(r.job.updated)) return;
			updateRow(r, d);
			if (!fits) scheduleReload();
			return;
		}
		if (!fits) return;
		if (!d.previous_status && page === 0) {
			// A new job: newest first, so it goes on top.
			const nr = makeRow({ ...d, created: d.updated });
			rows.set(d.id, nr);
			tbody.prepend(nr.tr);
			nr.tr.classList.add('fresh');
			if (rows.size > PAGE) {
				const last = tbody.lastElementChild;
				for (const [id, x] of rows) if (x.tr === last) rows.delete(id);
				last.remove();
				hasNext = true;
			}
			pager();
		} else if (wanted) {
			// An older job just entered the filter: where it goes
			// depends on its creation time, which events lack.
			scheduleReload();
		}
	}

	return {
		title: 'Jobs',
		follow: () => ({}),
		mount(el, ctx) {
			const select = h('select', { id: 'job-filter' },
				FILTERS.map(([v, label]) => h('option', { value: v, selected: v === status }, label)));
			if (status && !FILTERS.some(([v]) => v === status))
				select.append(h('option', { value: status, selected: true }, status));
			select.addEventListener('change', () => ctx.navigate(href(select.value, 0)));
			range = h('span', { class: 'range' });
			prev = h('a', { class: 'button', href: href(status, page - 1), hidden: true }, '← Newer');
			next = h('a', { class: 'button', href: href(status, page + 1), hidden: true }, 'Older →');
			tbody = h('tbody');
			empty = h('p', { class: 'empty', hidden: true }, status ? 'No jobs with this status.' : 'No jobs yet. Submit one from Blender.');
			el.append(
				h('div', { class: 'toolbar' },
					h('h1', null, 'Jobs'),
					h('label', { for: 'job-filter' }, 'Status'), select,
					h('span', { class: 'spacer' }),
					range, prev, next),
				h('table', { class: 'grid jobs' },
					h('thead', null, h('tr', null,
						h('th', { scope: 'col' }, 'Name'),
						h('th', { scope: 'col' }, 'Status'),
						h('th', { scope: 'col' }, 'Progress'),
						h('th', { scope: 'col', class: 'num' }, 'Priority'),
						h('th', { scope: 'col' }, 'Type'),
						h('th', { scope: 'col' }, 'Submitted'),
						h('th', { scope: 'col' }, 'Updated'))),
					tbody),
				empty);
		},
		load,
		event,
		unmount() {
			clearTimeout(reloadTimer);
		},
	};
}
