"""Demo data (clearly marked as demo): the regional catalogue and one consultation per town.

The measures are modelled on the kinds of measures discussed in Soest's traffic
plan VEP Klima+ and the Masterplan Klimapakt; they are not the official lists.
`DEMO_MEASURES` are the few featured in each town's demo consultation;
`demo_catalogue()` adds generated ones around them (deterministic, same on every
machine) to the size of the real plans: 260 VEP Klima+ and 60 Masterplan measures.
"""

from __future__ import annotations

from soesmart.demo.catalogue import demo_catalogue
from soesmart.demo.featured import DEMO_MARK, DEMO_MEASURES, DEMO_NOTE, DemoMeasure, measures_for_town

__all__ = ["DEMO_MARK", "DEMO_MEASURES", "DEMO_NOTE", "DemoMeasure", "demo_catalogue", "measures_for_town"]
