// The /monitor page: a process version in a bpmn-js NavigatedViewer (pan and zoom, no editing) with, on each
// element, a badge of the cases waiting there now (a link to the case list filtered to them) and, on user tasks
// with decided tasks, the median and 90th-percentile time spent there, the element coloured by its band.
// Everything comes from the element's data-monitor attribute (the XML's address and one entry per element, its
// durations already in words), since the page's CSP allows no inline script; the table under it has the same.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './monitor.css';

const BANDS = new Set(['fast', 'slow', 'stuck']);

function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

// DOM nodes with textContent, never HTML strings: element names come from an uploaded diagram
function node(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = text;
  return el;
}

function waitingBadge(element) {
  const words = [element.waiting && `${element.waiting} waiting`, element.timers && plural(element.timers, 'timer')];
  const link = node('a', 'monitor-count', words.filter(Boolean).join(' · '));
  link.href = element.cases_url;
  link.title = `The cases waiting at ${element.name}`;
  return link;
}

// Where a count goes: on a task's top right corner; on a boundary event (the timers), beside it on the side away
// from its neighbour on the same task, so the badges of two timers side by side do not cover each other.
function countPosition(shape) {
  const siblings = shape.host ? [...shape.host.attachers].sort((a, b) => a.x - b.x) : [shape];
  if (siblings.length > 1 && siblings.indexOf(shape) < siblings.length / 2) {
    return { position: { top: -10, left: 6 }, side: 'monitor-count-left' };
  }
  return { position: { top: shape.host ? -10 : -6, right: shape.host ? 6 : 10 }, side: '' };
}

function annotate(viewer, elements) {
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const overlays = viewer.get('overlays');
  let waiting = 0;
  for (const element of elements) {
    const shape = registry.get(element.id);
    if (!shape) continue;
    if (BANDS.has(element.band)) canvas.addMarker(element.id, `monitor-${element.band}`);
    if (element.waiting || element.timers) {
      const { position, side } = countPosition(shape);
      const html = waitingBadge(element);
      if (side) html.classList.add(side);
      overlays.add(element.id, 'monitor-count', { position, html });
      waiting += element.waiting + element.timers;
    }
    if (element.user_task && element.decided) {
      const times = node('span', `monitor-times monitor-times-${element.band || 'none'}`,
        `median ${element.median} · 90 % ${element.p90}`);
      overlays.add(element.id, 'monitor-times', { position: { top: -22, left: 0 }, html: times });
    }
  }
  return waiting;
}

async function showMonitor(root, status) {
  const data = JSON.parse(root.dataset.monitor);
  const response = await fetch(data.xml_url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`the diagram could not be loaded (${response.status})`);
  const viewer = new NavigatedViewer({ container: root });
  await viewer.importXML(await response.text());
  viewer.get('canvas').zoom('fit-viewport');
  const waiting = annotate(viewer, data.elements);
  root.dataset.ready = 'yes';
  status.textContent = waiting ? 'Click a count to list those cases.' : 'No case is waiting anywhere now.';
}

document.addEventListener('DOMContentLoaded', () => {
  const root = document.getElementById('monitor-diagram');
  const status = document.getElementById('monitor-diagram-status');
  if (!root) return;
  showMonitor(root, status).catch((err) => { status.textContent = `The diagram cannot be shown: ${err.message}`; });
});
