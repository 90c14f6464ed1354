"""What the sending services share and tests replace: the clock, waiting, and the randomness of pacing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Runtime:
    clock: Callable[[], float] = time.time  # epoch seconds
    rng: random.Random = field(default_factory=random.SystemRandom)
    sleep: Callable[[float], None] = time.sleep  # seconds: send-email waits for a send's slot within its second
