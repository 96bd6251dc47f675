"""Validates ASFF findings against Security Hub's own API model, as a BatchImportFindings call.

Usage: python3 validate_asff.py < findings.json      (a JSON array of findings, e.g. `orgmfa scan --format asff`)

Each finding is checked as the input of BatchImportFindings (`{"Findings": [finding]}`) by
botocore's own parameter validator against the `securityhub` service model botocore ships: required
members, unknown members, types, minimum lengths. botocore's validator leaves the rest of the
model's constraints to the service, so they are checked here from the same model: enum values,
maximum lengths and item counts, and string patterns. One documented rule the model cannot express
is checked too: a finding needs a severity label ("If neither attribute is populated, then the
finding is invalid"), given by a finding provider in FindingProviderFields.Severity (or, the old
way, in the top-level Severity).

Prints one line per problem (`Findings[i] <Id>: ...`) and a summary on stderr.
Exit codes: 0 all valid, 1 some finding invalid, 2 the input is not a JSON array of objects,
3 botocore is not installed.
"""

import json
import re
import sys

try:
    import botocore.session
    from botocore.validate import ParamValidator
except ImportError:
    print(
        "botocore is not installed for this python3. It comes with the emulator: "
        'pip install "moto[server]>=5.2"  (or just: pip install botocore)',
        file=sys.stderr,
    )
    sys.exit(3)


def _model_constraints(value, shape, path, problems):
    """What botocore's validator does not check: enums, max lengths/counts, patterns."""
    if value is None:
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _model_constraints(value[name], member, f"{path}.{name}", problems)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: {len(value)} items, at most {meta['max']} allowed")
        for i, item in enumerate(value):
            _model_constraints(item, shape.member, f"{path}[{i}]", problems)
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: {len(value)} entries, at most {meta['max']} allowed")
        for k, v in value.items():
            _model_constraints(k, shape.key, f"{path} key {k!r}", problems)
            _model_constraints(v, shape.value, f"{path}[{k!r}]", problems)
    elif kind == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} is not one of {', '.join(enum)}")
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: {len(value)} characters, at most {meta['max']} allowed")
        pattern = meta.get("pattern")
        if pattern:
            try:
                ok = re.search(pattern, value) is not None
            except re.error:
                ok = True  # a pattern Python cannot compile is left to the service
            if not ok:
                problems.append(f"{path}: {value!r} does not match the pattern {pattern!r}")


def _has_severity(finding):
    for sev in ((finding.get("FindingProviderFields") or {}).get("Severity"), finding.get("Severity")):
        if isinstance(sev, dict) and (sev.get("Label") or sev.get("Normalized") is not None):
            return True
    return False


def validate(findings):
    """Problems of a list of findings, each line naming the finding's index and Id."""
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    finding_shape = shape.members["Findings"].member
    validator = ParamValidator()
    problems = []
    for i, finding in enumerate(findings):
        label = f"Findings[{i}] {finding.get('Id', '(no Id)') if isinstance(finding, dict) else ''}".rstrip()
        if not isinstance(finding, dict):
            problems.append(f"{label}: not a JSON object")
            continue
        mine = []
        report = validator.validate({"Findings": [finding]}, shape)
        if report.has_errors():
            mine.extend(line.replace("Findings[0]", f"Findings[{i}]") for line in report.generate_report().splitlines())
        _model_constraints(finding, finding_shape, f"Findings[{i}]", mine)
        if not _has_severity(finding):
            mine.append(f"Findings[{i}]: no severity (FindingProviderFields.Severity.Label, or Severity.Label)")
        problems.extend(f"{label}: {line}" for line in mine)
    return problems


def main():
    try:
        findings = json.load(sys.stdin)
    except ValueError as e:
        print(f"stdin is not JSON: {e}", file=sys.stderr)
        return 2
    if not isinstance(findings, list):
        print("stdin must be a JSON array of ASFF findings", file=sys.stderr)
        return 2
    problems = validate(findings)
    for p in problems:
        print(p)
    print(
        f"{len(findings)} finding(s) checked against securityhub BatchImportFindings "
        f"(botocore {botocore.__version__}): {len(problems)} problem(s)",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
