"""How the processes pages put the engine's answers into words and JSON: problems, deployments, dry runs, re-runs."""

from engine.services.scenarios import regression_sentence


def problem_dict(problem) -> dict:
    """A validation Problem as JSON: the element it names (or None) and the sentence to show."""
    return {"filename": problem.filename, "element_id": problem.element_id, "element_name": problem.element_name,
            "message": problem.message, "text": str(problem)}


def problem_dicts(err) -> list[dict]:
    """The problems of a DeployError/BpmnFileError; one without a list is one problem about the whole file."""
    problems = getattr(err, "problems", None) or []
    if not problems:
        return [{"filename": None, "element_id": None, "element_name": None, "message": str(err), "text": str(err)}]
    return [problem_dict(problem) for problem in problems]


def deployed_sentence(deployed: list) -> str:
    """"job_approval version 3 deployed" for each process of the file (or "… is already deployed")."""
    parts = [f"{d.process_id} version {d.version} deployed" if d.created
             else f"{d.process_id} version {d.version} is already deployed (the same file): nothing changed"
             for d in deployed]
    return "; ".join(parts) + "."


def step_dicts(steps) -> list[dict]:
    return [step.as_dict() for step in steps]


def result_dict(result) -> dict:
    """A DryRunResult as JSON, its problems with their sentences."""
    return {"problems": [problem_dict(p) for p in result.problems], "path": list(result.path),
            "open_tasks": list(result.open_tasks), "ended": result.ended, "end_element": result.end_element,
            "variables": result.variables, "emails": list(result.emails), "statuses": list(result.statuses),
            "error": result.error, "summary": result.summary}


def scenario_dict(scenario) -> dict:
    return {"id": scenario.id, "process_id": scenario.process_id, "name": scenario.name,
            "steps": step_dicts(scenario.steps), "expected": scenario.expected, "start_data": scenario.start_data}


def rerun_sentence(process_id: str, outcomes: list) -> str:
    """"3 of 4 scenarios still end where they did; 'query then expire' now ends at …" (scenarios' own words)."""
    if not outcomes:
        return f"{process_id} has no saved scenarios yet: run one and save it."
    return regression_sentence(outcomes) + "."
