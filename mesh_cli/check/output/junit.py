"""JUnit XML, the file CI systems show as test results: a suite per domain, a test case per error or warning.

Errors are failures; warnings are passing cases whose output says why; a domain without either has one passing
case, so every domain shows up.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mesh_cli.check.report import CheckReport
from mesh_cli.contracts.rules import ERROR, WARNING


def render(report: CheckReport) -> str:
    suites = ET.Element("testsuites", name="mesh check", tests="0", failures=str(report.errors))
    total = 0
    for domain, findings in report.by_domain():
        shown = [f for f in findings if f.severity in (ERROR, WARNING)]
        failures = sum(1 for f in shown if f.severity == ERROR)
        suite = ET.SubElement(suites, "testsuite", name=domain, tests=str(max(1, len(shown))),
                              failures=str(failures), errors="0", skipped="0")
        if not shown:
            ET.SubElement(suite, "testcase", classname=f"mesh.check.{domain}", name="contracts and governance")
        for finding in shown:
            subject = ".".join(filter(None, [finding.model or domain, finding.column]))
            case = ET.SubElement(suite, "testcase", classname=f"mesh.check.{domain}",
                                 name=f"{finding.rule}: {subject}")
            where = report.relative(finding.file)
            if where:
                case.set("file", where)
                if finding.line:
                    case.set("line", str(finding.line))
            if finding.severity == ERROR:
                failure = ET.SubElement(case, "failure", message=finding.message, type=finding.rule)
                failure.text = finding.full_text()
            else:
                ET.SubElement(case, "system-out").text = f"warning: {finding.full_text()}"
        total += max(1, len(shown))
    suites.set("tests", str(total))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
