"""Seeded generator of multi-step personal-assistant voice episodes: the built-in trace set.

    rtsim traces generate assistant --episodes 36 --seed 0 --out scenarios/traces/assistant.jsonl
"""

import random
from functools import partial

from rtsim.traces.generators import assistant_errands as e
from rtsim.traces.generators import assistant_templates as t
from rtsim.traces.generators.assistant_world import Ctx

# A story: (templates played in a row, probability of playing them), in order.
STORIES = {
    "evening-out": [((t.weather_and_calendar,), 1), ((e.restaurant_book,), 1),
                    ((t.share_booking,), 0.7), ((t.small_talk,), 0.3)],
    "friends-dinner": [((t.weather,), 0.6), ((partial(e.restaurant_book, share=1),), 1),
                       ((t.running_late,), 1), ((t.small_talk,), 0.5)],
    "morning-briefing": [((t.briefing,), 1), ((e.travel_time_events,), 0.5), ((e.reminder,), 1),
                         ((t.small_talk,), 0.3)],
    "dinner-ask": [((e.booking_ask, e.booking_answer), 1), ((t.share_booking,), 0.6),
                   ((t.small_talk,), 0.3)],
    "commute": [((t.briefing,), 0.3), ((e.travel_time_events,), 1), ((e.reminder,), 1),
                ((t.running_late,), 0.5)],
    "home-evening": [((e.home_scene,), 1), ((e.climate_query,), 0.6), ((e.music,), 1),
                     ((e.timer,), 0.4), ((t.small_talk,), 0.4)],
    "trip": [((e.flight_status,), 1), ((t.weather_there,), 1), ((e.arrival_message,), 0.7),
             ((e.restaurant_search,), 0.4), ((t.small_talk,), 0.4)],
    "inbox": [((t.email_search,), 1), ((t.email_reply,), 1), ((e.reminder,), 0.6),
              ((t.small_talk,), 0.2)],
    "meeting": [((t.free_check,), 1), ((t.meeting_with_contact,), 1),
                ((t.email_reply_chain,), 0.4), ((t.small_talk,), 0.4)],
    "reschedule": [((t.move_event,), 1), ((t.weather,), 1), ((t.running_late,), 0.5),
                   ((e.nearby,), 0.3)],
    "errand": [((e.nearby,), 1), ((e.directions_there,), 0.7), ((t.running_late,), 1),
               ((e.reminder,), 0.4), ((t.small_talk,), 0.4)],
    "morning": [((e.alarm_ask, e.alarm_time), 1), ((t.weather,), 0.8), ((e.reminder,), 0.6),
                ((e.travel_time_events,), 0.5)],
    "weekend-trip": [((t.weather_two_cities,), 1), ((e.restaurant_search,), 1),
                     ((e.book_followup,), 0.8), ((t.small_talk,), 0.3)],
    "kitchen": [((e.timer,), 1), ((e.music,), 1), ((t.message_ask, t.message_answer), 0.7),
                ((e.climate_query,), 0.4)],
    "busy-day": [((t.briefing,), 0.6), ((t.email_reply_chain,), 1), ((t.move_event,), 0.5),
                 ((e.reminder,), 1), ((t.small_talk,), 0.3)],
}


def episode(rng: random.Random, episode_id: str, story: str) -> dict:
    """One episode of `story`, drawn from `rng`."""
    c = Ctx(rng)
    turns: list[dict] = []
    for templates, p in STORIES[story]:
        if c.chance(p):
            for template in templates:
                c.begin_turn(len(turns) + 1)
                turns.append(template(c))
    return {"id": episode_id, "source": "builtin", "date": c.today.isoformat(), "turns": turns}


def generate(episodes: int, seed: int) -> list[dict]:
    """`episodes` raw episode dicts in the trace format; the same seed gives the same list.

    Stories are dealt in shuffled rounds so that every kind appears; each episode draws from
    its own stream, so an episode does not change when another one's templates do.
    """
    rng = random.Random(seed)
    stories: list[str] = []
    while len(stories) < episodes:
        round_ = sorted(STORIES)
        rng.shuffle(round_)
        stories += round_
    return [episode(random.Random(rng.getrandbits(64)), f"assistant-{i + 1:02d}-{story}", story)
            for i, story in enumerate(stories[:episodes])]

