// The dry-run side panel: build a scenario from steps, run it against the draft in the editor (nothing is
// stored), draw the path taken on the diagram, show what it would do; save scenarios and re-run them all.
import { postJson } from './problems.js';

const PATH = 'signoff-path';
const END = 'signoff-path-end';

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// "decision=approve" lines → {decision: "approve"}; true/false/numbers/null/JSON are read as such
export function parseValues(text) {
  const data = {};
  text.split('\n').map((line) => line.trim()).filter(Boolean).forEach((line) => {
    const at = line.indexOf('=');
    if (at < 1) throw new Error(`"${line}": write name=value, one per line`);
    const raw = line.slice(at + 1).trim();
    let value = raw;
    try { value = JSON.parse(raw); } catch (err) { value = raw; }
    data[line.slice(0, at).trim()] = value;
  });
  return data;
}

function describe(step) {
  if (step.action === 'wait') return `let ${step.duration} pass`;
  const values = Object.entries(step.data || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  return `complete ${step.task}${values ? ` with ${values}` : ''}`;
}

export function setupDryRuns(modeler, root, { send, currentProcessId, say }) {
  const steps = [];
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const status = $('dryrun-status');
  let lastSummary = null;
  let lastStart = null; // the start data of the run whose summary a save keeps

  function refreshTasks() {
    const select = $('dryrun-task');
    const chosen = select.value;
    select.replaceChildren(...registry.filter((e) => e.type === 'bpmn:UserTask').map((task) => {
      const option = el('option', task.businessObject.name ? `${task.businessObject.name} (${task.id})` : task.id);
      option.value = task.id;
      return option;
    }));
    if (chosen) select.value = chosen;
  }

  function renderSteps() {
    const list = $('dryrun-steps');
    list.replaceChildren(...steps.map((step, index) => {
      const item = el('li', `${describe(step)} `);
      const remove = el('button', 'remove', 'link');
      remove.type = 'button';
      remove.addEventListener('click', () => { steps.splice(index, 1); renderSteps(); });
      item.appendChild(remove);
      return item;
    }));
  }

  function clearPath() {
    registry.getAll().forEach((e) => { canvas.removeMarker(e, PATH); canvas.removeMarker(e, END); });
  }

  function drawPath(result) {
    clearPath();
    result.path.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, PATH); });
    if (result.end_element && registry.get(result.end_element)) canvas.addMarker(result.end_element, END);
  }

  function table(rows, columns) {
    if (!rows.length) return el('p', 'none');
    const node = el('table');
    const head = el('tr');
    columns.forEach((c) => head.appendChild(el('th', c)));
    node.appendChild(head);
    rows.forEach((row) => {
      const tr = el('tr');
      columns.forEach((c) => tr.appendChild(el('td', String(row[c] ?? ''))));
      node.appendChild(tr);
    });
    return node;
  }

  function showResult(result) {
    const box = $('dryrun-result');
    box.replaceChildren();
    box.appendChild(el('p', result.summary, 'dryrun-summary'));
    if (result.error) box.appendChild(el('p', result.error, 'bad dryrun-error'));
    if (result.open_tasks.length) box.appendChild(el('p', `Waiting at: ${result.open_tasks.join(', ')}`));
    box.appendChild(el('h4', 'E-mails that would be sent'));
    box.appendChild(table(result.emails, ['template', 'to', 'subject']));
    box.appendChild(el('h4', 'Case statuses set'));
    box.appendChild(table(result.statuses, ['what', 'status']));
    box.appendChild(el('h4', 'Final variables'));
    box.appendChild(el('pre', JSON.stringify(result.variables, null, 2), 'dryrun-variables'));
  }

  $('dryrun-task').addEventListener('focus', refreshTasks);
  modeler.on('elements.changed', refreshTasks);
  refreshTasks();

  $('dryrun-add').addEventListener('click', () => {
    try {
      if ($('dryrun-action').value === 'wait') {
        const duration = $('dryrun-duration').value.trim();
        if (!duration) throw new Error('write how long to wait, e.g. P3D for 3 days');
        steps.push({ action: 'wait', duration });
      } else {
        if (!$('dryrun-task').value) throw new Error('the diagram has no user task to complete');
        steps.push({ action: 'complete', task: $('dryrun-task').value, data: parseValues($('dryrun-data').value) });
      }
      say(status, '', '');
      renderSteps();
    } catch (err) {
      say(status, err.message, 'bad');
    }
  });

  function startData() {
    const text = $('dryrun-start').value.trim();
    return text ? JSON.parse(text) : null;
  }

  $('dryrun-run').addEventListener('click', async () => {
    let start;
    try { start = startData(); } catch (err) { return say(status, `Start data: ${err.message}`, 'bad'); }
    const { ok, body } = await send(root.dataset.dryRunUrl, { steps, start_data: start });
    if (!ok) return say(status, body.error, 'bad');
    if (body.problems.length) {
      clearPath();
      return say(status, `Nothing ran: ${body.problems.map((p) => p.text).join('; ')}`, 'bad');
    }
    lastSummary = body.summary;
    lastStart = start;
    drawPath(body);
    showResult(body);
    return say(status, 'Dry run done: nothing was stored.', 'ok');
  });

  async function loadScenarios() {
    const url = `${root.dataset.scenariosUrl}?process=${encodeURIComponent(currentProcessId())}`;
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const body = await response.json();
    const list = $('scenario-list');
    if (!response.ok) return list.replaceChildren(el('li', body.error));
    return list.replaceChildren(...body.scenarios.map((scenario) => {
      const item = el('li');
      const load = el('button', scenario.name, 'link');
      load.type = 'button';
      load.addEventListener('click', () => {
        steps.splice(0, steps.length, ...scenario.steps);
        $('scenario-name').value = scenario.name;
        $('dryrun-start').value = scenario.start_data ? JSON.stringify(scenario.start_data) : '';
        renderSteps();
      });
      item.appendChild(load);
      const start = scenario.start_data ? ` (start: ${JSON.stringify(scenario.start_data)})` : '';
      item.appendChild(el('span', ` — ${scenario.steps.map(describe).join(', then ')}${start}; ${scenario.expected}`));
      return item;
    }));
  }

  $('scenario-save').addEventListener('click', async () => {
    if (lastSummary === null) return say(status, 'Run the scenario first: its outcome is saved with it.', 'bad');
    const { ok, body } = await postJson(root.dataset.scenariosUrl, root.dataset.csrf, {
      process_id: currentProcessId(), name: $('scenario-name').value, steps, expected: lastSummary,
      start_data: lastStart });
    if (!ok) return say(status, body.error, 'bad');
    say(status, body.message, 'ok');
    return loadScenarios();
  });

  $('scenario-rerun').addEventListener('click', async () => {
    const { ok, body } = await send(root.dataset.rerunUrl, { process_id: currentProcessId() });
    const box = $('scenario-rerun-result');
    if (!ok) return say(box, body.error, 'bad');
    return say(box, body.sentence, body.all_same ? 'ok' : 'bad');
  });

  loadScenarios();
}
