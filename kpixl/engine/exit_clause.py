"""Exit clause: consecutive missed periods (SPEC §5.11)."""

from __future__ import annotations

from collections.abc import Sequence


def exit_status(
    weighted_attainments: Sequence[float], threshold: float, consecutive: int
) -> tuple[list[bool], list[bool]]:
    """Which periods are misses and after which the client may exit.

    Args:
        weighted_attainments: W per period, in period order; NaN marks a period not settled,
            which is not a miss and breaks a streak.
        threshold: a period is a miss when W < threshold.
        consecutive: how many misses in a row make the exit clause eligible.

    Returns:
        (miss, exit_eligible), one flag per period each.
    """
    if consecutive < 1:
        raise ValueError("consecutive must be at least 1")
    misses = [w < threshold for w in weighted_attainments]
    return misses, [streak >= consecutive for streak in miss_streaks(misses)]


def miss_streaks(misses: Sequence[bool]) -> list[int]:
    """How many misses in a row end at each period (0 after a period that is not a miss)."""
    streaks = []
    streak = 0
    for miss in misses:
        streak = streak + 1 if miss else 0
        streaks.append(streak)
    return streaks
