// The /processes modeller page: bpmn-js with the properties panel and the Camunda moddle, the Signoff group,
// Check / Deploy / Download against the runtime's own validation, and dry runs of scenarios drawn on the diagram.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import SignoffPropertiesProvider from './signoff-provider.js';
import { setupDryRuns } from './dry-runs.js';
import { postJson, showProblems, clearProblems } from './problems.js';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import './modeller.css';

const SignoffModule = { __init__: ['signoffPropertiesProvider'], signoffPropertiesProvider: ['type', SignoffPropertiesProvider] };

function readJson(root, name) {
  return JSON.parse(root.dataset[name] || '[]');
}

// the file name deploy_file expects: the (first) executable process id + .bpmn
function processIdOf(modeler) {
  const roots = modeler.getDefinitions().rootElements || [];
  const processes = roots.filter((el) => el.$type === 'bpmn:Process');
  const executable = processes.find((p) => p.isExecutable) || processes[0];
  return executable ? executable.id : 'process';
}

async function currentXml(modeler) {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

function say(node, text, kind) {
  node.textContent = text;
  node.className = `modeller-status ${kind || ''}`;
}

async function start() {
  const root = document.getElementById('modeller');
  if (!root) return;
  const modeler = new BpmnModeler({
    container: '#modeller-canvas',
    propertiesPanel: { parent: '#modeller-properties' },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule, CamundaBehaviorsModule, SignoffModule],
    moddleExtensions: { camunda: camundaModdle },
    signoff: { topics: readJson(root, 'topics'), variables: readJson(root, 'variables') },
  });
  window.signoffModeler = modeler; // the browser tests drive the modeling API where clicks are impractical
  const status = document.getElementById('modeller-status');
  const problems = document.getElementById('modeller-problems');
  const csrf = root.dataset.csrf;
  try {
    const response = await fetch(root.dataset.xmlUrl, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`the diagram could not be loaded (${response.status})`);
    await modeler.importXML(await response.text());
    modeler.get('canvas').zoom('fit-viewport');
    say(status, 'Diagram loaded.', 'ok');
  } catch (err) {
    say(status, `This diagram cannot be shown: ${err.message}`, 'bad');
    return;
  }
  root.dataset.ready = '1';

  async function send(url, extra) {
    const xml = await currentXml(modeler);
    const filename = `${processIdOf(modeler)}.bpmn`;
    return postJson(url, csrf, { xml, filename, ...(extra || {}) });
  }

  document.getElementById('modeller-check').addEventListener('click', async () => {
    clearProblems(modeler, problems);
    const { ok, body } = await send(root.dataset.checkUrl);
    if (!ok) return say(status, body.error, 'bad');
    if (!body.problems.length) return say(status, 'No problems: this diagram can be deployed.', 'ok');
    showProblems(modeler, problems, body.problems);
    return say(status, `${body.problems.length} problem(s): see the list and the marked elements.`, 'bad');
  });

  document.getElementById('modeller-deploy').addEventListener('click', async () => {
    clearProblems(modeler, problems);
    const { ok, body } = await send(root.dataset.deployUrl);
    if (body.problems && body.problems.length) {
      showProblems(modeler, problems, body.problems);
      return say(status, 'Not deployed: fix the problems listed below.', 'bad');
    }
    if (!ok) return say(status, body.error, 'bad');
    status.className = 'modeller-status ok';
    status.textContent = `${body.message} `;
    const link = document.createElement('a');
    link.href = body.bindings_url;
    link.textContent = 'Choose which customers use it (bindings)';
    status.appendChild(link);
    return undefined;
  });

  document.getElementById('modeller-download').addEventListener('click', async () => {
    const xml = await currentXml(modeler);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([xml], { type: 'application/xml' }));
    link.download = `${processIdOf(modeler)}.bpmn`;
    document.body.appendChild(link);
    link.click();
    link.remove();
  });

  setupDryRuns(modeler, root, { send, currentProcessId: () => processIdOf(modeler), say });
}

start();
