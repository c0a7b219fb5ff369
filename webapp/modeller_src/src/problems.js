// Problems from the runtime's validation: listed under the toolbar, and each one that names an element is marked
// on the canvas (marker class + overlay); clicking the message selects the element and scrolls to it.

const MARKER = 'signoff-problem';

export async function postJson(url, csrf, payload) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf, Accept: 'application/json' },
      body: JSON.stringify(payload),
    });
  } catch (err) {
    return { ok: false, body: { error: `The server could not be reached: ${err.message}` } };
  }
  let body;
  try {
    body = await response.json();
  } catch (err) {
    body = { error: `The server answered ${response.status} without a readable message.` };
  }
  return { ok: response.ok, status: response.status, body };
}

export function clearProblems(modeler, list) {
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  registry.getAll().forEach((el) => canvas.removeMarker(el, MARKER));
  modeler.get('overlays').remove({ type: MARKER });
  list.replaceChildren();
}

export function showProblems(modeler, list, problems) {
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const overlays = modeler.get('overlays');
  problems.forEach((problem) => {
    const item = document.createElement('li');
    const element = problem.element_id ? registry.get(problem.element_id) : null;
    if (element) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link problem-link';
      button.dataset.elementId = problem.element_id;
      button.textContent = problem.text;
      button.addEventListener('click', () => {
        modeler.get('selection').select(element);
        canvas.scrollToElement(element);
      });
      item.appendChild(button);
      canvas.addMarker(element, MARKER);
      const badge = document.createElement('div');
      badge.className = 'signoff-problem-badge';
      badge.title = problem.message;
      badge.textContent = '!';
      overlays.add(element, MARKER, { position: { top: -10, right: 10 }, html: badge });
    } else {
      item.textContent = problem.text;
    }
    list.appendChild(item);
  });
}
