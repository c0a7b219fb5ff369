"""Plain Python handlers that BPMN service tasks call by name."""
