"""tools/miwg_check.py: the corpus run over a folder (here the shipped refusal fixtures)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("miwg_check", ROOT / "tools/miwg_check.py")
miwg_check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(miwg_check)


def test_forcing_marks_every_process_executable():
    data = (b'<bpmn:process id="a" isExecutable="false"><x/></bpmn:process>'
            b'<process id="b"></process><bpmn:processType/>')
    assert miwg_check.forced_executable(data) == (b'<bpmn:process isExecutable="true" id="a"><x/></bpmn:process>'
                                                  b'<process isExecutable="true" id="b"></process><bpmn:processType/>')


def test_the_run_prints_every_refusal_and_the_totals(capsys):
    assert miwg_check.main([str(ROOT / "tests/fixtures/bpmn/refusals")]) == 0
    out = capsys.readouterr().out
    files = len(list((ROOT / "tests/fixtures/bpmn/refusals").glob("*.bpmn")))
    assert f"as exported: files {files}, deployable 0, refused {files}, tracebacks 0" in out
    assert f"forced: files {files}, deployable 0, refused {files}, tracebacks 0" in out
    assert "[forced] refusals/no_executable_process.bpmn: Sequence flow 'f2'" in out  # forced: the FEEL condition
    assert "the timer has no time set" in out
