"""The label values the media tests write into files (ours, made up for the tests)."""

from __future__ import annotations

from typing import Any

# A first-write label: the propagation elements equal the production elements (Annex E Note 1).
LABEL: dict[str, Any] = {
    "Label": "1",
    "ContentProducer": "001191110102MAD55U9H0F10002",
    "ProduceID": "hy-0001",
    "ReservedCode1": "",
    "ContentPropagator": "001191110102MAD55U9H0F10002",
    "PropagateID": "hy-0001",
    "ReservedCode2": "",
}
