"""CIDs that Kubo itself printed for known bytes (see shared/FACTS.md), for tests that check the studio's."""
from __future__ import annotations

#: `hello world` (11 bytes, no newline) as Kubo's default CIDv0, and as a raw CIDv1.
HELLO_V0 = "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
HELLO_V1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
