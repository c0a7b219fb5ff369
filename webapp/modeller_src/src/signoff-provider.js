// The "Signoff" group of the properties panel: a service task's topic chosen from the registered handlers only
// (each with its one-line description), who may not complete a user task (separation of duties), and the
// variables the processes receive wherever an expression is typed.
import { h } from '@bpmn-io/properties-panel/preact';
import { SelectEntry, isSelectEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';
import { SeparationEntry, isSeparationEdited } from './separation-entry.js';

// where a modeller types an expression: conditions, timers, scripts, input parameters, form defaults
const EXPRESSION_TYPES = ['bpmn:SequenceFlow', 'bpmn:Gateway', 'bpmn:Event', 'bpmn:ServiceTask',
  'bpmn:ScriptTask', 'bpmn:UserTask'];

function TopicEntry(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const { topics } = useService('config.signoff');
  const known = new Map(topics);
  const getValue = () => getBusinessObject(element).get('camunda:topic') || '';
  const setValue = (value) => modeling.updateProperties(element, value
    ? { 'camunda:type': 'external', 'camunda:topic': value }
    : { 'camunda:topic': undefined });
  const getOptions = () => {
    const options = [{ value: '', label: '(choose what this task does)' }];
    const current = getValue();
    if (current && !known.has(current)) {
      options.push({ value: current, label: `${current} — not a Signoff topic: choose another` });
    }
    return options.concat(topics.map(([name, text]) => ({ value: name, label: `${name} — ${text}` })));
  };
  const current = getValue();
  const description = known.get(current) || 'Only the topics Signoff has a handler for are offered.';
  return h(SelectEntry, { element, id, label: 'Signoff topic', getValue, setValue, getOptions, description });
}

function VariablesEntry() {
  const { variables } = useService('config.signoff');
  return h('div', { class: 'bio-properties-panel-entry signoff-variables', 'data-entry-id': 'signoff-variables' },
    h('p', { class: 'bio-properties-panel-label' }, 'Variables the processes receive (write ${name} in an expression)'),
    h('ul', null, variables.map(([name, text]) =>
      h('li', { key: name }, h('code', null, name), ' — ', text))));
}

export default class SignoffPropertiesProvider {
  constructor(propertiesPanel) {
    propertiesPanel.registerProvider(400, this);
  }

  getGroups(element) {
    return (groups) => {
      const entries = [];
      if (is(element, 'bpmn:ServiceTask')) {
        entries.push({ id: 'signoff-topic', component: TopicEntry, isEdited: isSelectEntryEdited });
      }
      if (is(element, 'bpmn:UserTask')) {
        entries.push({ id: 'signoff-not', component: SeparationEntry, isEdited: isSeparationEdited });
      }
      if (EXPRESSION_TYPES.some((type) => is(element, type))) {
        entries.push({ id: 'signoff-variables', component: VariablesEntry });
      }
      if (entries.length) {
        groups.splice(1, 0, { id: 'signoff', label: 'Signoff', entries });
      }
      return groups;
    };
  }
}

SignoffPropertiesProvider.$inject = ['propertiesPanel'];
