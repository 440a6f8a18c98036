// One job: its state and actions, the last-rendered image, its tasks and
// their dependency graph. Live from /jobs (the job), /jobs/{id} (its tasks)
// and /jobs/{id}/last-rendered.

import { api } from './api.js';
import { drawGraph } from './graph.js';
import { act, badge, fill, h, ms, pool, progress, setBadge, setProgress, setTime, time, toast } from './ui.js';

// Task details (dependencies, activity) are one request per task: fetched
// by themselves only up to this many tasks, on request up to GRAPH_MAX.
const DETAIL_LIMIT = 300;
const GRAPH_MAX = 2000;
// Rows drawn at once: a browser lays out a 10,000-row table in seconds.
const TASK_PAGE = 100;

const ACTIONS = [
	{ key: 'pause', label: 'Pause', status: 'pause-requested', reason: 'paused from the dashboard',
		when: ['active', 'queued', 'requeueing'] },
	{ key: 'resume', label: 'Resume', status: 'queued', reason: 'resumed from the dashboard',
		when: ['paused', 'pause-requested'] },
	{ key: 'requeue', label: 'Requeue', status: 'requeueing', reason: 'requeued from the dashboard',
		when: ['completed', 'failed', 'canceled', 'paused'] },
	{ key: 'cancel', label: 'Cancel', status: 'cancel-requested', reason: 'canceled from the dashboard',
		when: ['active', 'queued', 'paused', 'pause-requested', 'requeueing', 'under-construction'],
		confirm: 'Cancel this job? Its running tasks are stopped.' },
];

export function jobView(jobId) {
	let job = null;
	let ctxRef;
	const el = {};
	const buttons = {};
	let tasks = [];           // every task, in index_in_job order
	const byId = new Map();   // id -> task
	const rows = new Map();   // id -> drawn row (the shown page only)
	let counts = {};          // tasks per status
	let taskPage = 0;
	let graph = null;
	let deps = null;
	let tasksTimer = null;
	let imageSerial = 0;
	let deleted = false;

	function taskHref(id) {
		return `#/jobs/${jobId}/tasks/${id}`;
	}

	function drawJob() {
		el.title.textContent = job.name;
		document.title = `${job.name} · Flamenco Manager`;
		setBadge(el.status, job.status);
		el.type.textContent = job.type;
		el.created.replaceChildren(time(job.created));
		setTime(el.updated, job.updated);
		el.activity.textContent = job.activity || '—';
		setProgress(el.progress, job.steps_completed, job.steps_total, job.status);
		if (document.activeElement !== el.priority) el.priority.value = job.priority;
		drawCounts();
		drawWaits();
		for (const a of ACTIONS) buttons[a.key].disabled = deleted || !a.when.includes(job.status);
		buttons.delete.disabled = deleted || Boolean(job.delete_requested_at);
		if (job.delete_requested_at || deleted) el.note.textContent = 'This job is being deleted.';
	}

	// The jobs this one waits for (depends_on, beyond Flamenco).
	function drawWaits() {
		const list = job.depends_on || [];
		fill(el.waits, list.length ? list.map((d) => h('li', null,
			h('a', { href: `#/jobs/${d.job}` }, d.job_name), ' ', badge(d.job_status),
			d.tasks ? ` ${Object.keys(d.tasks)[0]} ${Object.values(d.tasks)[0]}` : '',
			d.satisfied ? ' · met' : ` · ${d.remaining} task(s) left`)) : h('li', { class: 'muted' }, '—'));
	}

	// The jobs it waits for and those waiting for it, drawn like tasks.
	async function loadJobGraph() {
		const g = await api.jobGraph(jobId);
		el.jobGraphBox.hidden = g.job_edges.length === 0;
		if (el.jobGraphBox.hidden) return;
		const nodes = g.jobs.map((j, i) => ({ id: j.id, name: j.name, status: j.status, index_in_job: i }));
		const waits = new Map(nodes.map((n) => [n.id, []]));
		for (const e of g.job_edges) waits.get(e.to_job).push(e.from_job);
		fill(el.jobGraph, drawGraph(nodes, waits, (n) => `#/jobs/${n.id}`).svg);
	}

	// Why its queued tasks are not handed out, computed on request.
	async function explain() {
		const b = await api.jobBlockers(jobId);
		const items = b.reasons.map((r) => h('li', null, r.message));
		for (const t of b.task_types)
			items.push(h('li', null, `${t.task_type} tasks (first: `,
				h('a', { href: taskHref(t.task) }, t.task_name), '):',
				h('ul', null, t.reasons.map((r) => h('li', null, r.message)))));
		fill(el.why, items.length ? items : h('li', { class: 'muted' }, 'Nothing to explain.'));
	}

	// Tasks per status, from the task list (kept live) rather than the
	// job's task_counts, which no event carries.
	function drawCounts() {
		fill(el.counts, Object.keys(counts).filter((s) => counts[s] > 0).sort()
			.map((s) => h('li', null, badge(s), ` ${counts[s]}`)));
	}

	function taskRow(t) {
		const r = {
			status: badge(t.status),
			progress: progress(t.steps_completed, t.steps_total, t.status),
			worker: h('td', null, (t.worker && t.worker.name) || '—'),
			activity: h('td', { class: 'activity' }, t.activity || ''),
			updated: time(t.updated),
			requeue: h('button', { class: 'small', type: 'button', disabled: t.status === 'queued' }, 'Requeue'),
		};
		r.requeue.setAttribute('aria-label', `Requeue task ${t.name}`);
		r.requeue.addEventListener('click', () => act(r.requeue,
			() => api.setTaskStatus(t.id, 'queued', 'requeued from the dashboard'), `Task ${t.name} requeued`));
		r.tr = h('tr', null,
			h('td', { class: 'num' }, t.index_in_job),
			h('th', { scope: 'row' }, h('a', { href: taskHref(t.id) }, t.name)),
			h('td', null, r.status),
			h('td', null, t.task_type),
			h('td', null, r.progress),
			r.worker,
			r.activity,
			h('td', null, r.updated),
			h('td', null, r.requeue));
		return r;
	}

	function updateTask(d) {
		const t = byId.get(d.id);
		if (!t) {
			scheduleTasks();
			return;
		}
		if (ms(d.updated) < ms(t.updated)) return;
		const changed = d.status !== t.status;
		if (changed) {
			counts[t.status]--;
			counts[d.status] = (counts[d.status] || 0) + 1;
			drawCounts();
			if (graph) graph.setStatus(d.id, d.status);
		}
		Object.assign(t, { status: d.status, steps_completed: d.steps_completed, steps_total: d.steps_total,
			updated: d.updated, activity: d.activity, worker: d.worker });
		const r = rows.get(d.id);
		if (!r) return;
		if (changed) {
			setBadge(r.status, d.status);
			r.requeue.disabled = d.status === 'queued';
		}
		setProgress(r.progress, d.steps_completed, d.steps_total, d.status);
		r.worker.textContent = (d.worker && d.worker.name) || '—';
		r.activity.textContent = d.activity || '';
		setTime(r.updated, d.updated);
	}

	function drawTaskPage() {
		const pages = Math.max(1, Math.ceil(tasks.length / TASK_PAGE));
		taskPage = Math.min(taskPage, pages - 1);
		const first = taskPage * TASK_PAGE;
		const shown = tasks.slice(first, first + TASK_PAGE);
		rows.clear();
		const frag = document.createDocumentFragment();
		for (const t of shown) {
			const r = taskRow(t);
			rows.set(t.id, r);
			frag.append(r.tr);
		}
		el.tasks.replaceChildren(frag);
		el.taskRange.textContent = tasks.length > TASK_PAGE ? `${first + 1}–${first + shown.length} of ${tasks.length}` : '';
		el.taskPrev.hidden = taskPage === 0;
		el.taskNext.hidden = taskPage >= pages - 1;
	}

	async function loadTasks() {
		const res = await api.jobTasks(jobId);
		tasks = res.tasks;
		byId.clear();
		counts = {};
		for (const t of tasks) {
			byId.set(t.id, t);
			counts[t.status] = (counts[t.status] || 0) + 1;
		}
		drawTaskPage();
		el.taskCount.textContent = `${tasks.length}`;
		drawCounts();
		if (deps) drawDeps();
		else if (tasks.length <= DETAIL_LIMIT) loadDetails();
		else if (tasks.length <= GRAPH_MAX) fill(el.graph, h('p', null, `${tasks.length} tasks: details are fetched one task at a time. `,
			h('button', { type: 'button', onclick: (e) => { e.target.disabled = true; loadDetails(); } },
				'Load dependencies and activities')));
		else fill(el.graph, h('p', { class: 'muted' }, `${tasks.length} tasks: too many to draw here.`));
	}

	// One request per task: dependencies for the graph, and the activity
	// the task list leaves out.
	async function loadDetails() {
		fill(el.graph, h('p', { class: 'muted' }, 'Loading dependencies…'));
		const found = new Map();
		await pool(tasks.map((t) => t.id), 6, async (id) => {
			const t = await api.task(id);
			found.set(id, t.dependencies || []);
			const known = byId.get(id);
			if (known && ms(t.updated) >= ms(known.updated)) {
				known.activity = t.activity;
				const r = rows.get(id);
				if (r) r.activity.textContent = t.activity;
			}
		});
		deps = found;
		drawDeps();
	}

	function drawDeps() {
		if (!tasks.length) {
			fill(el.graph, h('p', { class: 'muted' }, 'No tasks.'));
			return;
		}
		graph = drawGraph(tasks, deps, (t) => taskHref(t.id));
		fill(el.graph, graph.svg);
	}

	async function loadImage() {
		const info = await api.lastRendered(jobId);
		if (!info || !info.suffixes || !info.suffixes.length) {
			fill(el.image, h('p', { class: 'muted' }, 'Nothing rendered yet.'));
			return;
		}
		const suffix = info.suffixes.includes('last-rendered.jpg') ? 'last-rendered.jpg' : info.suffixes[0];
		const src = `${info.base}/${suffix}${imageSerial ? `?v=${imageSerial}` : ''}`;
		fill(el.image, h('a', { href: src, target: '_blank', rel: 'noopener' },
			h('img', { src, alt: `Last rendered image of ${job ? job.name : 'this job'}`, loading: 'lazy' })));
	}

	function scheduleTasks() {
		clearTimeout(tasksTimer);
		tasksTimer = setTimeout(() => {
			deps = null;
			loadTasks().catch((e) => toast(e.message, 'error'));
		}, 300);
	}

	function setStatus(a) {
		if (a.confirm && !window.confirm(a.confirm)) return;
		act(buttons[a.key], () => api.setJobStatus(jobId, a.status, a.reason), `${a.label}: requested`);
	}

	function mount(root, ctx) {
		ctxRef = ctx;
		el.title = h('h1', null, 'Job');
		el.status = badge('');
		el.type = h('dd');
		el.created = h('dd');
		el.updated = time('');
		el.activity = h('dd');
		el.progress = progress(0, 0);
		el.counts = h('ul', { class: 'counts', 'aria-label': 'Tasks per status' });
		el.waits = h('ul', { class: 'waits', 'aria-label': 'Jobs this job waits for' });
		el.why = h('ul', { class: 'why', 'aria-live': 'polite' });
		const whyButton = h('button', { type: 'button', class: 'small', dataset: { action: 'why' } }, 'Why not running?');
		whyButton.addEventListener('click', () => act(whyButton, explain));
		el.note = h('p', { class: 'note', role: 'status' });
		el.priority = h('input', { id: 'job-priority', type: 'number', min: '0', max: '100', required: true });
		const prioSet = h('button', { type: 'submit', class: 'small' }, 'Set');
		const prioForm = h('form', { class: 'inline' }, el.priority, prioSet);
		prioForm.addEventListener('submit', (e) => {
			e.preventDefault();
			const p = Number(el.priority.value);
			act(prioSet, () => api.setJobPriority(jobId, p), `Priority set to ${p}`);
		});
		for (const a of ACTIONS)
			buttons[a.key] = h('button', { type: 'button', disabled: true, dataset: { action: a.key },
				onclick: () => setStatus(a) }, a.label);
		buttons.delete = h('button', { type: 'button', class: 'danger', disabled: true, dataset: { action: 'delete' } }, 'Delete');
		buttons.delete.addEventListener('click', () => {
			if (!window.confirm('Delete this job, its tasks and its files?')) return;
			act(buttons.delete, async () => {
				await api.deleteJob(jobId);
				ctxRef.navigate('#/jobs');
			}, 'Deletion requested');
		});
		el.image = h('div', { class: 'last-rendered' });
		el.tasks = h('tbody');
		el.taskCount = h('span', { class: 'count' });
		el.taskRange = h('span', { class: 'range' });
		el.taskPrev = h('button', { type: 'button', class: 'small', hidden: true,
			onclick: () => { taskPage--; drawTaskPage(); } }, '← Previous');
		el.taskNext = h('button', { type: 'button', class: 'small', hidden: true,
			onclick: () => { taskPage++; drawTaskPage(); } }, 'Next →');
		el.graph = h('div', { class: 'graph-box', tabindex: '0', role: 'region', 'aria-label': 'Task dependencies' });
		el.jobGraph = h('div', { class: 'graph-box job-graph', tabindex: '0', role: 'region', 'aria-label': 'Job dependencies' });
		el.jobGraphBox = h('section', { hidden: true }, h('h2', null, 'Jobs it waits for, and jobs waiting for it'), el.jobGraph);
		root.append(
			h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/jobs' }, 'Jobs'), ' › ', h('span', null, 'job')),
			h('div', { class: 'toolbar' }, el.title, el.status, h('span', { class: 'spacer' }),
				h('div', { class: 'actions', role: 'group', 'aria-label': 'Job actions' },
					ACTIONS.map((a) => buttons[a.key]), buttons.delete)),
			el.note,
			h('div', { class: 'split' },
				h('dl', { class: 'meta' },
					h('dt', null, 'Type'), el.type,
					h('dt', null, h('label', { for: 'job-priority' }, 'Priority')), h('dd', null, prioForm),
					h('dt', null, 'Progress'), h('dd', null, el.progress),
					h('dt', null, 'Tasks'), h('dd', null, el.counts),
					h('dt', null, 'Waits for'), h('dd', null, el.waits),
					h('dt', null, 'Blockers'), h('dd', null, whyButton, el.why),
					h('dt', null, 'Activity'), el.activity,
					h('dt', null, 'Submitted'), el.created,
					h('dt', null, 'Updated'), h('dd', null, el.updated),
					h('dt', null, 'ID'), h('dd', { class: 'mono' }, jobId)),
				h('figure', null, el.image, h('figcaption', null, 'Last rendered'))),
			h('div', { class: 'toolbar sub' }, h('h2', null, 'Tasks ', el.taskCount), h('span', { class: 'spacer' }),
				el.taskRange, el.taskPrev, el.taskNext),
			h('div', { class: 'scroll' }, h('table', { class: 'grid tasks' },
				h('thead', null, h('tr', null,
					h('th', { scope: 'col', class: 'num' }, '#'),
					h('th', { scope: 'col' }, 'Name'),
					h('th', { scope: 'col' }, 'Status'),
					h('th', { scope: 'col' }, 'Type'),
					h('th', { scope: 'col' }, 'Progress'),
					h('th', { scope: 'col' }, 'Worker'),
					h('th', { scope: 'col' }, 'Activity'),
					h('th', { scope: 'col' }, 'Updated'),
					h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
				el.tasks)),
			h('h2', null, 'Dependencies'),
			el.graph,
			el.jobGraphBox);
	}

	async function load() {
		const [j] = await Promise.all([api.job(jobId), loadTasks()]);
		job = j;
		drawJob();
		document.querySelector('.crumbs span').textContent = job.name;
		loadJobGraph().catch((e) => fill(el.jobGraph, h('p', { class: 'muted' }, e.message)));
		await loadImage().catch((e) => fill(el.image, h('p', { class: 'muted' }, e.message)));
	}

	function event(topic, d) {
		if (topic === '/jobs' && d.id === jobId) {
			if (d.was_deleted) {
				deleted = true;
				if (job) drawJob();
				el.note.textContent = 'This job was deleted.';
				return;
			}
			if (!job || ms(d.updated) < ms(job.updated)) return;
			const statusChanged = d.status !== job.status ||
				// An upstream job moved (waiting_for, beyond Flamenco).
				String(d.waiting_for || '') !== String(job.waiting_for || '');
			Object.assign(job, d);
			drawJob();
			if (d.refresh_tasks) scheduleTasks();
			// The event leaves out the activity, which follows the status.
			if (statusChanged)
				api.job(jobId).then((j) => {
					if (ms(j.updated) < ms(job.updated)) return;
					job = j;
					drawJob();
				}).catch(() => {});
		} else if (topic === `/jobs/${jobId}`) {
			updateTask(d);
		} else if (topic === `/jobs/${jobId}/last-rendered`) {
			imageSerial++;
			loadImage().catch(() => {});
		}
	}

	return {
		title: 'Job',
		follow: () => ({ jobs: [jobId] }),
		mount,
		load,
		event,
		failed(e) {
			el.note.textContent = e.status === 404 ? 'No such job.' : e.message;
		},
		unmount() {
			clearTimeout(tasksTimer);
		},
	};
}
