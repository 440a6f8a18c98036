// One task: its state, commands and log. The log starts from the
// Manager's log tail and then follows /tasklog/{id}; the task's own
// changes come from /jobs/{job id}.

import { api } from './api.js';
import { act, badge, fill, h, ms, progress, setBadge, setProgress, setTime, time } from './ui.js';

// Keep the page light on endless logs: only the newest text stays shown.
const LOG_KEEP = 256 * 1024;

export function taskView(taskId, jobId) {
	let task = null;
	let ctxRef;
	const el = {};
	let collecting = false;
	let collected = [];
	let tail = '';
	let logInfoAsked = false;

	function appendLog(text) {
		if (!text) return;
		const pre = el.log;
		const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
		pre.append(text);
		if (pre.textContent.length > LOG_KEEP) pre.textContent = pre.textContent.slice(-LOG_KEEP / 2);
		if (atBottom) pre.scrollTop = pre.scrollHeight;
		el.logEmpty.hidden = true;
	}

	// Chunks that came while the tail loaded: the tail already ends with
	// the first of them, in order; only the rest are new.
	function finishCollecting() {
		collecting = false;
		let k = collected.length;
		while (k > 0 && !tail.endsWith(collected.slice(0, k).join(''))) k--;
		for (const c of collected.slice(k)) appendLog(c);
		collected = [];
	}

	function draw() {
		el.title.textContent = task.name;
		document.title = `${task.name} · Flamenco Manager`;
		setBadge(el.status, task.status);
		el.type.textContent = task.task_type;
		el.priority.textContent = task.priority;
		el.worker.textContent = (task.worker && task.worker.name) || '—';
		el.activity.textContent = task.activity || '—';
		setProgress(el.progress, task.steps_completed, task.steps_total, task.status);
		setTime(el.updated, task.updated);
		el.requeue.disabled = task.status === 'queued';
	}

	function mount(root, ctx) {
		ctxRef = ctx;
		el.title = h('h1', null, 'Task');
		el.status = badge('');
		el.jobLink = h('a', { href: jobId ? `#/jobs/${jobId}` : '#/jobs' }, 'job');
		el.type = h('dd');
		el.priority = h('dd');
		el.worker = h('dd');
		el.activity = h('dd');
		el.progress = progress(0, 0);
		el.updated = time('');
		el.created = h('dd');
		el.failed = h('dd');
		el.deps = h('dd');
		el.commands = h('ol', { class: 'commands' });
		el.log = h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Task log' });
		el.logEmpty = h('p', { class: 'muted' }, 'No log yet.');
		el.fullLog = h('a', { hidden: true, target: '_blank', rel: 'noopener' }, 'Full log');
		el.requeue = h('button', { type: 'button', disabled: true, dataset: { action: 'requeue-task' } }, 'Requeue');
		el.requeue.addEventListener('click', () => act(el.requeue,
			() => api.setTaskStatus(taskId, 'queued', 'requeued from the dashboard'), 'Task requeued'));
		root.append(
			h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/jobs' }, 'Jobs'), ' › ', el.jobLink, ' › ',
				h('span', null, 'task')),
			h('div', { class: 'toolbar' }, el.title, el.status, h('span', { class: 'spacer' }),
				h('div', { class: 'actions' }, el.requeue)),
			h('dl', { class: 'meta' },
				h('dt', null, 'Type'), el.type,
				h('dt', null, 'Priority'), el.priority,
				h('dt', null, 'Worker'), el.worker,
				h('dt', null, 'Progress'), h('dd', null, el.progress),
				h('dt', null, 'Activity'), el.activity,
				h('dt', null, 'Created'), el.created,
				h('dt', null, 'Updated'), h('dd', null, el.updated),
				h('dt', null, 'Failed by'), el.failed,
				h('dt', null, 'Waits for'), el.deps,
				h('dt', null, 'ID'), h('dd', { class: 'mono' }, taskId)),
			h('h2', null, 'Commands'),
			el.commands,
			h('div', { class: 'toolbar sub' }, h('h2', null, 'Log'), h('span', { class: 'spacer' }), el.fullLog),
			el.logEmpty,
			el.log);
	}

	async function load() {
		collecting = true;
		collected = [];
		const [t, text, info] = await Promise.all([
			api.task(taskId),
			api.taskLogTail(taskId),
			api.taskLogInfo(taskId).catch(() => null),
		]);
		task = t;
		if (!jobId || jobId !== t.job_id) {
			// Come back with the job in the address, so the stream can
			// follow this task's updates from the start.
			ctxRef.navigate(`#/jobs/${t.job_id}/tasks/${taskId}`, true);
			return;
		}
		draw();
		el.created.replaceChildren(time(t.created));
		fill(el.failed, (t.failed_by_workers || []).map((w) => w.name || w.id).join(', ') || '—');
		fill(el.deps, (t.dependencies || []).length
			? h('ul', { class: 'plain' }, t.dependencies.map((d) => h('li', null, h('a', { href: `#/jobs/${jobId}/tasks/${d}`, class: 'mono' }, d.slice(0, 8)))))
			: '—');
		fill(el.commands, (t.commands || []).map((c) => h('li', null,
			h('strong', null, c.name), h('pre', { class: 'params' }, JSON.stringify(c.parameters, null, 2)))));
		tail = typeof text === 'string' ? text : '';
		el.log.textContent = '';
		el.logEmpty.hidden = false;
		appendLog(tail);
		el.log.scrollTop = el.log.scrollHeight;
		if (info && info.url) {
			el.fullLog.href = info.url;
			el.fullLog.hidden = false;
		}
		// The held events are replayed right after load() returns.
		setTimeout(finishCollecting, 0);
		api.job(t.job_id).then((j) => {
			el.jobLink.textContent = j.name;
		}).catch(() => {});
		document.querySelector('.crumbs span').textContent = t.name;
	}

	function event(topic, d) {
		if (topic === `/tasklog/${taskId}`) {
			if (collecting) collected.push(d.log);
			else appendLog(d.log);
			if (el.fullLog.hidden && !logInfoAsked) {
				logInfoAsked = true;
				api.taskLogInfo(taskId).then((info) => {
					if (info && info.url) {
						el.fullLog.href = info.url;
						el.fullLog.hidden = false;
					}
				}).catch(() => {});
			}
		} else if (topic === `/jobs/${jobId}` && d.id === taskId && task) {
			if (ms(d.updated) < ms(task.updated)) return;
			Object.assign(task, { status: d.status, activity: d.activity, steps_completed: d.steps_completed,
				steps_total: d.steps_total, updated: d.updated,
				worker: d.worker ? { id: d.worker.uuid, name: d.worker.name } : task.worker });
			draw();
		} else if (topic === '/jobs' && d.id === jobId) {
			if (d.name) el.jobLink.textContent = d.name;
		}
	}

	return {
		title: 'Task',
		follow: () => ({ jobs: jobId ? [jobId] : [], tasks: [taskId] }),
		mount,
		load,
		event,
		failed(e) {
			fill(el.commands, h('li', null, e.status === 404 ? 'No such task.' : e.message));
		},
	};
}
