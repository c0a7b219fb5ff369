// The /instances/<id> case page: the case's process version in a bpmn-js NavigatedViewer (pan and zoom, no
// editing), the path the case took marked and where it is now highlighted. Everything comes from the element's
// data-diagram attribute (the XML's address, the element ids of the path, the position and an error), since the
// page's CSP allows no inline script.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './viewer.css';

function mark(canvas, registry, ids, marker) {
  for (const id of ids) {
    if (registry.get(id)) canvas.addMarker(id, marker);
  }
}

async function showCase(root, status) {
  const diagram = JSON.parse(root.dataset.diagram);
  const response = await fetch(diagram.xml_url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`the diagram could not be loaded (${response.status})`);
  const viewer = new NavigatedViewer({ container: root });
  await viewer.importXML(await response.text());
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');
  mark(canvas, registry, diagram.path, 'case-path');
  mark(canvas, registry, diagram.position, 'case-position');
  mark(canvas, registry, diagram.error, 'case-error');
  const here = diagram.position.filter((id) => registry.get(id)).map((id) => registry.get(id).businessObject.name || id);
  root.dataset.position = diagram.position.join(' ');
  status.textContent = here.length ? `Now at: ${here.join(', ')}` : 'The case is not waiting anywhere.';
}

document.addEventListener('DOMContentLoaded', () => {
  const root = document.getElementById('case-diagram');
  const status = document.getElementById('case-diagram-status');
  if (!root) return;
  showCase(root, status).catch((err) => { status.textContent = `The diagram cannot be shown: ${err.message}`; });
});
