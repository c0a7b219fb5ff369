// "Who may not complete this task": a user task's separation of duties (engine/workflow/separation.py), kept in
// the task's own camunda:properties as one camunda:property named signoff:not whose value lists the rules,
// comma-separated, in the engine's RULES order. Every change is a single modeling.updateModdleProperties
// command on the one moddle element it touches (built ahead with bpmnFactory where missing), so one click is one
// undo step; the task's other camunda:property entries are kept as they are.
import { h } from '@bpmn-io/properties-panel/preact';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

const PROPERTY = 'signoff:not';
const RULES = [ // engine/workflow/separation.py RULES, in that order
  ['sender', 'Not the person who sent the work for approval'],
  ['previous_approver', 'Not whoever completed the previous step'],
];

function isRuleProperty(property) {
  return is(property, 'camunda:Property') && (property.get('name') || property.get('id')) === PROPERTY;
}

function propertiesOf(task) {
  const extensionElements = task.get('extensionElements');
  return extensionElements ? extensionElements.get('values').filter((value) => is(value, 'camunda:Properties')) : [];
}

// the rules declared on the task, in RULES order (the engine, too, reads every camunda:properties of the task)
function rulesOf(task) {
  const declared = propertiesOf(task).flatMap((properties) => properties.get('values')).filter(isRuleProperty)
    .flatMap((property) => (property.get('value') || '').split(',').map((rule) => rule.trim()));
  return RULES.map(([rule]) => rule).filter((rule) => declared.includes(rule));
}

function create(bpmnFactory, type, attrs, parent) {
  const element = bpmnFactory.create(type, attrs);
  element.$parent = parent;
  return element;
}

function newProperties(bpmnFactory, value, parent) {
  const properties = create(bpmnFactory, 'camunda:Properties', {}, parent);
  properties.set('values', [create(bpmnFactory, 'camunda:Property', { name: PROPERTY, value }, properties)]);
  return properties;
}

function setRules(element, rules, bpmnFactory, modeling) {
  const task = getBusinessObject(element);
  const value = RULES.map(([rule]) => rule).filter((rule) => rules.includes(rule)).join(',');
  const extensionElements = task.get('extensionElements');
  const all = propertiesOf(task);
  const holder = all.find((properties) => properties.get('values').some(isRuleProperty)) || all[0];
  const existing = holder ? holder.get('values').filter(isRuleProperty) : [];
  if (!value && !existing.length) return;
  if (value && existing.length === 1) {
    modeling.updateModdleProperties(element, existing[0], { value });
  } else if (holder) {
    const kept = holder.get('values').filter((property) => !isRuleProperty(property));
    if (value) { // none yet, or repeats (read together) that become one
      const property = create(bpmnFactory, 'camunda:Property', { name: PROPERTY, value }, holder);
      modeling.updateModdleProperties(element, holder, { values: [...kept, property] });
    } else if (kept.length) {
      modeling.updateModdleProperties(element, holder, { values: kept });
    } else { // no rule and nothing else: the camunda:properties goes too
      modeling.updateModdleProperties(element, extensionElements,
        { values: extensionElements.get('values').filter((each) => each !== holder) });
    }
  } else if (extensionElements) {
    modeling.updateModdleProperties(element, extensionElements,
      { values: [...extensionElements.get('values'), newProperties(bpmnFactory, value, extensionElements)] });
  } else {
    const created = create(bpmnFactory, 'bpmn:ExtensionElements', {}, task);
    created.set('values', [newProperties(bpmnFactory, value, created)]);
    modeling.updateModdleProperties(element, task, { extensionElements: created });
  }
}

// A checkbox drawn from the model on every render. Not the panel's CheckboxEntry: that one keeps a local state
// which it sets to the input's `value` ("on") after each change, so an untick could be drawn ticked again when
// the panel re-rendered first (a race a browser test met).
function RuleCheckbox({ id, label, ticked, onChange }) {
  const inputId = `bio-properties-panel-${id}`;
  return h('div', { class: 'bio-properties-panel-entry', 'data-entry-id': id },
    h('div', { class: 'bio-properties-panel-checkbox' },
      h('input', { id: inputId, name: id, type: 'checkbox', class: 'bio-properties-panel-input', checked: ticked,
        onChange: (event) => onChange(event.target.checked) }),
      h('label', { for: inputId, class: 'bio-properties-panel-label' }, label)));
}

export function SeparationEntry(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const task = getBusinessObject(element);
  const change = (rule, ticked) => {
    const rules = rulesOf(task);
    setRules(element, ticked ? [...rules, rule] : rules.filter((each) => each !== rule), bpmnFactory, modeling);
  };
  return h('div', { class: 'bio-properties-panel-entry signoff-separation', 'data-entry-id': id },
    h('p', { class: 'bio-properties-panel-label' }, 'Who may not complete this task'),
    RULES.map(([rule, label]) => h(RuleCheckbox, {
      key: rule, id: `${id}-${rule}`, label, ticked: rulesOf(task).includes(rule),
      onChange: (ticked) => change(rule, ticked),
    })),
    h('p', { class: 'bio-properties-panel-description' },
      'Signoff refuses them wherever the task is completed (saved as signoff:not on the task).'));
}

// the group's "edited" mark: the panel hands over the entry's first input; any ticked rule counts
export function isSeparationEdited(input) {
  const entry = input && input.closest('.signoff-separation');
  return !!(entry && entry.querySelector('input:checked'));
}
