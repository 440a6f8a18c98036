// Workers and worker tags. The workers page follows /workers for status
// changes and the task updates of the jobs being worked on (/jobs/{id})
// for what each worker is doing; the tags page follows /workertags.

import { api } from './api.js';
import { act, badge, fill, h, ms, pool, setBadge, setTime, time, toast } from './ui.js';

function schedule(s) {
	if (!s) return '—';
	const when = `${s.days_of_week || 'every day'} ${s.start_time || '…'}–${s.end_time || '…'}`;
	return s.is_active ? when : `off (${when})`;
}

function pendingChange(w) {
	const c = w.status_change;
	if (!c || !c.status) return '';
	return ` → ${c.status}${c.is_lazy ? ' after its task' : ''}`;
}

export function workersView() {
	const rows = new Map();
	const followed = new Set();
	let tbody, empty, ctxRef;

	function taskCell(r) {
		const t = r.worker.task;
		if (!t || !t.id) return fill(r.task, '—');
		const link = h('a', { href: `#/jobs/${t.job_id}/tasks/${t.id}` }, t.name);
		if (t.status === 'active') fill(r.task, link);
		else fill(r.task, h('span', { class: 'muted' }, 'last: '), link, ' ', badge(t.status));
	}

	function tagsCell(r) {
		const tags = r.worker.tags || [];
		fill(r.tags, tags.length ? tags.map((t) => h('span', { class: 'tag' }, t.name)) : '—');
	}

	function statusCell(r) {
		setBadge(r.status, r.worker.status, 'worker');
		r.change.textContent = pendingChange(r.worker);
		const asleep = r.worker.status === 'asleep';
		r.sleep.hidden = asleep;
		r.wake.hidden = !asleep;
	}

	function makeRow(w) {
		const r = {
			worker: { ...w },
			name: h('th', { scope: 'row' }, w.name),
			status: badge(w.status, 'worker'),
			change: h('span', { class: 'muted' }),
			seen: time(w.last_seen),
			task: h('td'),
			tags: h('td'),
			sched: h('td', null, '…'),
			version: h('td', null, w.version || ''),
			sleep: h('button', { type: 'button', class: 'small', dataset: { action: 'sleep' } }, 'Sleep'),
			wake: h('button', { type: 'button', class: 'small', dataset: { action: 'wake' } }, 'Wake'),
		};
		r.sleep.setAttribute('aria-label', `Send ${w.name} to sleep`);
		r.wake.setAttribute('aria-label', `Wake ${w.name}`);
		r.sleep.addEventListener('click', () => act(r.sleep, () => api.setWorkerStatus(w.id, 'asleep', false), `${w.name}: sleep requested`));
		r.wake.addEventListener('click', () => act(r.wake, () => api.setWorkerStatus(w.id, 'awake', false), `${w.name}: wake-up requested`));
		r.tr = h('tr', null, r.name, h('td', null, r.status, r.change), h('td', null, r.seen), r.task, r.tags, r.sched,
			r.version, h('td', null, r.sleep, r.wake));
		statusCell(r);
		taskCell(r);
		tagsCell(r);
		return r;
	}

	// Details the summary leaves out: current task, tags, platform, and
	// the sleep schedule.
	async function details(r) {
		const id = r.worker.id;
		const [w, s] = await Promise.all([api.worker(id), api.sleepSchedule(id).catch(() => null)]);
		if (rows.get(id) !== r) return;
		const keepTask = r.worker.task && w.task && r.worker.task.id !== w.task.id && r.worker.task.status === 'active';
		Object.assign(r.worker, { tags: w.tags, platform: w.platform, address: w.ip_address });
		if (!keepTask) r.worker.task = w.task;
		if (w.task && w.task.job_id) watchJob(w.task.job_id);
		taskCell(r);
		tagsCell(r);
		r.version.textContent = `${w.version || ''} ${w.platform || ''}`.trim();
		r.sched.textContent = schedule(s);
	}

	function watchJob(id) {
		if (followed.has(id) || followed.size >= 256) return;
		followed.add(id);
		if (ctxRef) ctxRef.refollow();
	}

	function addRow(w, atEnd = true) {
		const r = makeRow(w);
		rows.set(w.id, r);
		if (atEnd) tbody.append(r.tr);
		empty.hidden = true;
		return r;
	}

	async function load() {
		const [res, active] = await Promise.all([api.workers(), api.jobs({ status: 'active', limit: 256 })]);
		for (const j of active.jobs) followed.add(j.id);
		rows.clear();
		tbody.textContent = '';
		const sorted = res.workers.sort((a, b) => a.name.localeCompare(b.name));
		for (const w of sorted) addRow(w);
		empty.hidden = sorted.length > 0;
		ctxRef.refollow();
		pool([...rows.values()], 6, details);
	}

	function event(topic, d) {
		if (topic === '/workers') {
			const r = rows.get(d.id);
			if (d.deleted_at) {
				if (r) r.tr.remove();
				rows.delete(d.id);
				empty.hidden = rows.size > 0;
				return;
			}
			if (!r) {
				details(addRow(d)).catch(() => {});
				return;
			}
			if (ms(d.updated) < ms(r.worker.updated)) return;
			Object.assign(r.worker, { name: d.name, status: d.status, status_change: d.status_change,
				last_seen: d.last_seen, version: d.version, updated: d.updated });
			r.name.textContent = d.name;
			setTime(r.seen, d.last_seen);
			statusCell(r);
			// A status change may have requeued or ended its task.
			if (d.previous_status) details(r).catch(() => {});
		} else if (topic === '/jobs') {
			if (d.status === 'active') watchJob(d.id);
		} else if (topic === '/workertags') {
			for (const r of rows.values()) {
				const tags = r.worker.tags || [];
				const t = tags.find((x) => x.id === d.tag.id);
				if (!t) continue;
				if (d.was_deleted) r.worker.tags = tags.filter((x) => x !== t);
				else t.name = d.tag.name;
				tagsCell(r);
			}
		} else if (topic.startsWith('/jobs/') && d.worker && d.worker.uuid) {
			// A task update names its worker: that is what it works on.
			for (const r of rows.values()) {
				const t = r.worker.task;
				if (r.worker.id === d.worker.uuid) {
					if (t && t.id === d.id && t.status === d.status) continue;
					if (d.status === 'active' || !t || t.id === d.id) {
						r.worker.task = { id: d.id, name: d.name, status: d.status, job_id: d.job_id };
						taskCell(r);
					}
				} else if (t && t.id === d.id && t.status === 'active') {
					// Taken from this worker (requeued to another).
					r.worker.task = { ...t, status: d.status };
					taskCell(r);
				}
			}
		}
	}

	return {
		title: 'Workers',
		follow: () => ({ jobs: [...followed] }),
		mount(el, ctx) {
			ctxRef = ctx;
			tbody = h('tbody');
			empty = h('p', { class: 'empty', hidden: true }, 'No workers have registered yet.');
			el.append(
				h('div', { class: 'toolbar' }, h('h1', null, 'Workers')),
				h('table', { class: 'grid workers' },
					h('thead', null, h('tr', null,
						h('th', { scope: 'col' }, 'Name'),
						h('th', { scope: 'col' }, 'Status'),
						h('th', { scope: 'col' }, 'Last seen'),
						h('th', { scope: 'col' }, 'Task'),
						h('th', { scope: 'col' }, 'Tags'),
						h('th', { scope: 'col' }, 'Sleep schedule'),
						h('th', { scope: 'col' }, 'Version'),
						h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
					tbody),
				empty);
		},
		load,
		event,
	};
}

export function tagsView() {
	let tbody, empty;

	async function load() {
		const res = await api.tags();
		fill(tbody, res.tags.map((t) => {
			const del = h('button', { type: 'button', class: 'small danger' }, 'Delete');
			del.setAttribute('aria-label', `Delete tag ${t.name}`);
			del.addEventListener('click', () => {
				if (window.confirm(`Delete the tag "${t.name}"? Workers and jobs lose it.`))
					act(del, () => api.deleteTag(t.id), `Tag ${t.name} deleted`);
			});
			return h('tr', null, h('th', { scope: 'row' }, t.name), h('td', null, t.description || ''),
				h('td', { class: 'mono' }, t.id), h('td', null, del));
		}));
		empty.hidden = res.tags.length > 0;
	}

	return {
		title: 'Worker tags',
		follow: () => ({}),
		mount(el) {
			tbody = h('tbody');
			empty = h('p', { class: 'empty', hidden: true }, 'No tags. Tags let jobs run on some workers only.');
			const name = h('input', { id: 'tag-name', required: true, maxlength: '64' });
			const desc = h('input', { id: 'tag-desc', maxlength: '200' });
			const add = h('button', { type: 'submit' }, 'Create');
			const form = h('form', { class: 'inline create' },
				h('label', { for: 'tag-name' }, 'Name'), name,
				h('label', { for: 'tag-desc' }, 'Description'), desc, add);
			form.addEventListener('submit', (e) => {
				e.preventDefault();
				act(add, async () => {
					await api.createTag(name.value.trim(), desc.value.trim());
					form.reset();
				}, 'Tag created');
			});
			el.append(
				h('div', { class: 'toolbar' }, h('h1', null, 'Worker tags')),
				form,
				h('table', { class: 'grid tags' },
					h('thead', null, h('tr', null,
						h('th', { scope: 'col' }, 'Name'),
						h('th', { scope: 'col' }, 'Description'),
						h('th', { scope: 'col' }, 'ID'),
						h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
					tbody),
				empty);
		},
		load,
		event(topic) {
			if (topic === '/workertags') load().catch((e) => toast(e.message, 'error'));
		},
	};
}
