"""What a contract comparison finds: findings, each with its rule, severity, place and the consumers it hits
(`mesh check` reports them, the catalogue's contract history lists them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Hit:
    """A consumer a change reaches: `pinned` is the version its ref pins (None: it follows the latest)."""

    domain: str
    node: str
    model: str                  # the upstream model it refs, e.g. customers.dim_customers
    reads: str | None           # the version it read before the change (None: unversioned)
    pinned: str | None
    available: bool             # whether the version it reads stays available with its old contract
    file: str | None = None
    columns: tuple[str, ...] = ()   # the consumer's own columns the changed column flows into

    def describe(self) -> str:
        if self.pinned is None:
            how = "unpinned" + (f", reads v{self.reads}" if self.reads is not None else "")
        else:
            how = f"pins v{self.pinned}, " + ("which stays" if self.available else "which is gone")
        into = f"; into {', '.join(f'{self.node}.{column}' for column in self.columns)}" if self.columns else ""
        return f"{self.domain}.{self.node} ({how}{into})"


@dataclass
class Finding:
    """One thing `mesh check` reports; `domain` is the domain it is reported to."""

    rule: str
    severity: str
    domain: str
    message: str
    fix: str = ""
    model: str | None = None
    column: str | None = None
    classification: str | None = None
    hits: list[Hit] = field(default_factory=list)
    file: Path | None = None
    line: int | None = None

    @property
    def hits_text(self) -> str:
        """`hits: ...` for a breaking change, `read by: ...` for any other."""
        word = "hits" if self.classification == "breaking" else "read by"
        return f"{word}: " + ", ".join(hit.describe() for hit in self.hits)

    def full_text(self) -> str:
        """The message with the consumers it hits and the fix, for formats with one text per finding."""
        parts = [self.message]
        if self.hits:
            parts.append(self.hits_text)
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return "\n".join(parts)


_NAME_LINE = r"^(\s*)-\s*name:\s*['\"]?{}['\"]?\s*(#.*)?$"
_ANY_NAME = re.compile(r"^(\s*)-\s*name:")


def locate(path: Path | None, model: str | None, column: str | None = None) -> int | None:
    """The line that describes `model` (then `column` within it) in a YAML file, 1-based; None if not found."""
    if path is None or not path.is_file() or model is None or path.suffix not in (".yml", ".yaml"):
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    pattern = re.compile(_NAME_LINE.format(re.escape(model)))
    found = next(((n, m) for n, line in enumerate(lines) if (m := pattern.match(line))), None)
    if found is None:
        return None
    model_line, match = found
    if column is not None:
        indent = len(match.group(1))
        column_pattern = re.compile(_NAME_LINE.format(re.escape(column)), re.IGNORECASE)
        for number in range(model_line + 1, len(lines)):
            other = _ANY_NAME.match(lines[number])
            if other and len(other.group(1)) <= indent:
                break  # the next model: the column is not described here (e.g. it was removed)
            if column_pattern.match(lines[number]):
                return number + 1
    return model_line + 1
