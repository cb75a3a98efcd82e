"""A lived-in demo region (marked as demo): how many demo citizens each town has, what they
think of each measure, what they wrote. Deterministic: the same figures on every machine.

Opinions differ by town and by measure: each (town, measure) has its own leaning,
from which the answers of that town's demo citizens are drawn.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from soesmart.demo.catalogue import demo_catalogue
from soesmart.demo.featured import DEMO_MARK, DEMO_MEASURES

CITIZENS_IN_REGION = 1500
SUPPORT_ANSWERS = ("yes", "rather_yes", "rather_no", "no")
CLOSED_MEASURES = 8  # measures the earlier, closed consultation of each town asked
RATES_OPEN, RATES_CLOSED = 0.35, 0.55  # share of a consultation's measures a citizen answers
PAPER_SHEETS = 12  # per town, in the closed consultation

COMMENT_THREADS = (
    ("Das würde meinen Schulweg deutlich sicherer machen.",
     "Für die Kinder in unserer Straße auch – bitte zügig umsetzen."),
    ("Wer bezahlt das, und was fällt dafür weg?",
     "Laut Steckbrief gibt es Fördermittel vom Land; der Eigenanteil ist klein."),
    ("Bitte auch an die Ortsteile denken, nicht nur an die Innenstadt.", None),
    ("Gute Sache, aber die Baustellenzeit sollte in den Ferien liegen.",
     "Stimmt, im letzten Sommer hat das gut geklappt."),
)
IDEAS = (
    ("Sitzbänke entlang der Fußwege", "Alle 300 Meter eine Bank, damit auch ältere Menschen "
     "ihre Wege zu Fuß schaffen.", "walking", True),
    ("Fahrradreparaturstation am Bahnhof", "Luftpumpe und Werkzeug rund um die Uhr, "
     "kostenlos für alle.", "cycling", True),
    ("Solaranlage auf der Sporthalle", "Die Dachfläche der Sporthalle für eine "
     "Bürgersolaranlage nutzen.", "energy_supply", False),
    ("Mitfahrbänke in den Dörfern", "Wer auf der Bank wartet, möchte mitgenommen werden – "
     "in die Stadt und zurück.", "mobility_management", False),
)


def _unit(*parts: str) -> float:
    digest = hashlib.sha256(":".join(parts).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF


def citizens_per_town(populations: dict[str, int]) -> dict[str, int]:
    """About 1,500 demo citizens in all, shared by population (at least 60 a town)."""
    total = sum(populations.values()) or 1
    return {slug: max(60, round(CITIZENS_IN_REGION * n / total)) for slug, n in populations.items()}


def leaning(town: str, code: str) -> float:
    """0 (against) .. 1 (for): how the town's demo citizens see the measure."""
    return 0.15 + 0.8 * _unit("leaning", town, code)


def answer(rng: random.Random, town: str, code: str) -> tuple[int | None, str | None]:
    """One demo citizen's answer: effectiveness around the leaning, support drawn from it;
    now and then one of the two questions is left out."""
    lean = leaning(town, code)
    effectiveness: int | None = min(5, max(1, round(rng.gauss(1 + 4 * lean, 0.9))))
    x = rng.random()
    support: str | None = SUPPORT_ANSWERS[0 if x < lean * 0.55 else 1 if x < lean
                                         else 2 if x < lean + (1 - lean) * 0.5 else 3]
    if rng.random() < 0.08:
        effectiveness = None
    elif rng.random() < 0.05:
        support = None
    return effectiveness, support


def closed_consultation_codes(town: str) -> list[str]:
    """What the town asked before: decided or built measures of the town and the region,
    and two featured region-wide ones (asked again now, so their story has two rounds)."""
    featured = {m.code for m in DEMO_MEASURES}
    done = [m.code for m in demo_catalogue()
            if m.code not in featured and (not m.towns or town in m.towns)
            and m.status in ("decided", "in_implementation", "implemented")]
    again = [m.code for m in DEMO_MEASURES if not m.towns][1:3]
    return again + done[:CLOSED_MEASURES - len(again)]


def sample(rng: random.Random, codes: Sequence[str], share: float) -> list[str]:
    """The measures one citizen answers (at least one)."""
    picked = [c for c in codes if rng.random() < share]
    return picked or [rng.choice(list(codes))]


def demo_text(text: str) -> str:
    return f"{text} {DEMO_MARK}"
