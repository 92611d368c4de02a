"""Template benchmark: the CPU time a render of typical templates costs (compiled and cached, as
at send time), and the most CPU time and memory any template of the denial-of-service corpus
takes.

    uv run python scripts/bench_templates.py                # both
    uv run python scripts/bench_templates.py --typical-only # the renders only
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import time
import timeit
import tracemalloc
from pathlib import Path
from uuid import uuid4

from adapters.templating import JinjaRenderer
from application.errors import Invalid
from domain.lead import Lead
from domain.personalisation import context_for

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "template_dos.txt"
TYPICAL = {
    "short (the engine benchmark's)": "Hello {{ lead.name }}, {{ lead.timeline }}",
    "email (conditions, a loop, a filter)": (
        "Hi {{ lead.first_name }},\n\nI have three new {{ lead.preferences.property_type }}s in "
        "{{ lead.preferences.area | default('your area') }} with "
        "{{ lead.preferences.bedrooms }} bedrooms.\n{% if lead.timeline %}You said you want to "
        "move {{ lead.timeline }}: shall we visit this week?{% endif %}\n\n"
        "{% for x in ['Open house Saturday', 'New listing Monday'] %}- {{ x }}\n{% endfor %}"
        "Best,\n{{ agent.id | title }}"),
}


def typical(repeat: int, number: int) -> None:
    lead = Lead.register(lead_id=uuid4(), agent_id="agent-7", name="Ana Lima", email=None,
                         phone=None, timezone="UTC", timeline="within 3 months",
                         preferences={"property_type": "condo", "area": "Downtown",
                                      "bedrooms": 2})
    renderer = JinjaRenderer()
    for name, text in TYPICAL.items():
        context = context_for(lead)
        renderer.render(text, context)
        timer = timeit.Timer(lambda t=text, c=context: renderer.render(t, c),
                             timer=time.thread_time)  # CPU time: the machine may be busy
        best = min(timer.repeat(number=number, repeat=repeat)) / number
        print(f"{name}: {best * 1e6:.1f} µs of CPU per render (best of {repeat} x {number})")


def corpus() -> None:
    texts = [line for line in CORPUS.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    worst_cpu, worst_peak, saved = 0.0, 0, 0
    for text in texts:
        gc.disable()
        started = time.thread_time()
        try:
            JinjaRenderer().check(text, "body")
            saved += 1
        except Invalid:
            pass
        worst_cpu = max(worst_cpu, time.thread_time() - started)
        gc.enable()
        tracemalloc.start()
        with contextlib.suppress(Invalid):
            JinjaRenderer().check(text, "body")
        worst_peak = max(worst_peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    print(f"corpus: {len(texts)} templates, {saved} saved; the most CPU time one took "
          f"{worst_cpu * 1000:.1f} ms, the most memory {worst_peak / 2**20:.2f} MiB at its peak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--typical-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args()
    typical(args.repeat, args.number)
    if not args.typical_only:
        corpus()


if __name__ == "__main__":
    main()
