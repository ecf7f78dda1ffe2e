"""What a render reports: its counts, notes and phase times (no heavy imports: a split render's parent process
reports with it without importing the Pulumi SDK)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RenderSummary:
    out_dir: Path
    resources: int
    objects: Counter
    others: Counter = field(default_factory=Counter)
    """Resources outside Kubernetes (image builds, registry repositories, ...), by type."""
    notes: tuple[str, ...] = ()
    """What the render could not check offline (the cluster guard), said on the summary."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (validate_s, program_s, registrations_s, record_s, write_s): ``mlserve render --timings``."""

    def lines(self, stack: str) -> list[str]:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.objects.items()))
        lines = [
            f"rendered stack '{stack}': {self.resources} resources, {sum(self.objects.values())} Kubernetes objects",
            f"  {kinds}",
        ]
        if self.others:
            lines.append("  and " + ", ".join(f"{count} {kind}" for kind, count in sorted(self.others.items())))
        lines.append(f"  -> {self.out_dir}/manifests/, {self.out_dir}/resources.json")
        lines.extend(f"  {note}" for note in self.notes)
        return lines
