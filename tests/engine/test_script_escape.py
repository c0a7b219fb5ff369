"""A script that raises BaseException (via `Exception.mro()`) fails only its own instance: the sweep and
the embedded background worker go on and advance the other instances."""

import time

from engine.background import BackgroundWorker
from engine.mail.transport import DevMailbox
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import start_instance
from tests.engine.helpers import instance

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{wait}</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="act" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="act" />
    <bpmn:sequenceFlow id="f2" sourceRef="act" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def start(ctx, pid: str, wait: str, script: str) -> int:
    deploy_file(ctx, SYSTEM, PROCESS.format(pid=pid, wait=wait, script=script).encode(), f"{pid}.bpmn")
    return start_instance(ctx, pid, {"customer_id": 7})


def test_a_base_exception_script_fails_only_its_instance_and_the_worker_goes_on(ctx, clock):
    escaping = start(ctx, "escape_attempt", "PT5M", 'raise Exception.mro()[1]("x")')
    fine = start(ctx, "fine_after_it", "PT10M", "done = True")
    clock.advance(minutes=15)  # both timers due; the escaping instance's first
    worker = BackgroundWorker(ctx, DevMailbox(), interval=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and worker.is_alive() and instance(ctx, fine).status == "running":
            time.sleep(0.05)
        assert worker.is_alive()
    finally:
        worker.stop()
    failed = instance(ctx, escaping)
    assert failed.status == "error" and failed.error_element == "act"
    assert "mro" in failed.error_message and "not available in scripts" in failed.error_message
    assert instance(ctx, fine).status == "completed"
