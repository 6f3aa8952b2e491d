"""The world of the assistant generator: tools, people, places, days, and one episode's state."""

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

SAFE = {
    "get_weather": True, "list_events": True, "create_event": False, "update_event": False,
    "lookup_contact": True, "send_message": False, "search_email": True, "send_email": False,
    "get_travel_time": True, "search_nearby": True, "get_directions": True,
    "create_reminder": False, "set_timer": False, "set_alarm": False,
    "search_restaurants": True, "book_table": False, "get_thermostat": True,
    "set_thermostat": False, "set_lights": False, "play_music": False,
    "get_flight_status": True, "lock_door": False,
}


@dataclass(frozen=True)
class City:
    """A city the user lives in or talks about."""

    name: str
    phone_code: str
    fahrenheit: bool


CITIES = [
    City("Paris", "+33 6", False), City("Lyon", "+33 6", False), City("Berlin", "+49 151", False),
    City("Munich", "+49 151", False), City("London", "+44 7700", False),
    City("Manchester", "+44 7700", False), City("Madrid", "+34 612", False),
    City("Barcelona", "+34 612", False), City("Amsterdam", "+31 6", False),
    City("Lisbon", "+351 912", False), City("Rome", "+39 347", False),
    City("New York", "+1 917", True), City("Boston", "+1 617", True),
    City("Chicago", "+1 312", True), City("San Francisco", "+1 415", True),
    City("Seattle", "+1 206", True), City("Austin", "+1 512", True),
    City("Toronto", "+1 416", False),
]

FIRST_LAST = [
    ("Anna", "Berg"), ("Tom", "Okafor"), ("Priya", "Shah"), ("Mark", "Jensen"), ("Sarah", "Kim"),
    ("Luis", "Moreno"), ("Emma", "Dubois"), ("David", "Cohen"), ("Mei", "Tanaka"),
    ("Jonas", "Weber"), ("Chloe", "Martin"), ("Omar", "Haddad"), ("Nina", "Rossi"),
    ("Ben", "Walker"), ("Grace", "Liu"), ("Sam", "Patel"),
]
RELATIVES = [("mom", "Helen"), ("dad", "Robert"), ("my sister", "Julia"), ("my brother", "Alex")]
SURNAMES = ["Carter", "Novak", "Fischer", "Lopez", "Brennan"]
MAIL_DOMAINS = ["gmail.com", "outlook.com", "icloud.com", "fastmail.com"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SKIES = {"sunny": "sunshine", "partly cloudy": "some clouds", "overcast": "grey skies",
         "light rain": "light rain", "showers": "showers", "windy": "wind but no rain",
         "clear": "clear skies", "thunderstorms": "thunderstorms"}
WET = {"light rain", "showers", "thunderstorms"}
# typical daily high in Celsius by month, Northern Hemisphere
SEASON_HIGH = [4, 6, 11, 15, 19, 24, 27, 26, 22, 16, 9, 5]
FIRST_DAY = date(2026, 1, 5)


@dataclass(frozen=True)
class Person:
    """A contact as the user names them and as the address book holds them."""

    said: str  # in the user's words: "Anna", "mom", "my sister"
    full: str
    first: str  # in a message to them: "Anna", "Mom", "Julia"
    called: str  # in the assistant's answers: "Anna", "your mom", "your sister"
    phone: str
    email: str

    def card(self) -> str:
        """The lookup_contact output."""
        return dumps({"name": self.full, "mobile": self.phone, "email": self.email})


@dataclass(frozen=True)
class Day:
    """A day as spoken ("on Friday"), as an argument ("Friday"), as ISO, and in answers."""

    said: str
    word: str
    iso: str
    label: str


@dataclass(frozen=True)
class Clock:
    """A time of day as spoken ("7:30 pm") and as an argument in 24-hour form ("19:30")."""

    said: str
    iso: str


class Forecast(NamedTuple):
    """A get_weather output, its spoken summary, and what a comparison needs."""

    output: str
    said: str
    sky: str
    high: int
    wet: bool


def dumps(value) -> str:
    """Compact JSON as tools return it."""
    return json.dumps(value, ensure_ascii=False)


def clock(hour: int, minute: int = 0) -> Clock:
    """A Clock for a 24-hour time."""
    h12 = hour % 12 or 12
    said = f"{h12}:{minute:02d}" if minute else str(h12)
    return Clock(f"{said} {'am' if hour < 12 else 'pm'}", f"{hour:02d}:{minute:02d}")


class Ctx:
    """One episode being generated: its random stream, the user's world, and memory."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.today = FIRST_DAY + timedelta(days=rng.randrange(320))
        self.home = rng.choice(CITIES)
        self.normalise = rng.random() < 0.3  # the model writes ISO dates and 24-hour times
        self.people = [self._person(first, last) for first, last in rng.sample(FIRST_LAST, 5)]
        relative, first = rng.choice(RELATIVES)
        self.people.append(self._person(first, rng.choice(SURNAMES), relative))
        self.mem: dict = {}
        self.turn_no = 0
        self.n_calls = 0

    def _person(self, first: str, last: str, relative: str = "") -> Person:
        phone = f"{self.home.phone_code} {self.rng.randrange(100, 1000)} "
        phone += f"{self.rng.randrange(1000, 10000)}"
        email = f"{first.lower()}.{last.lower()}@{self.rng.choice(MAIL_DOMAINS)}"
        if not relative:
            return Person(first, f"{first} {last}", first, first, phone, email)
        role = relative.removeprefix("my ")
        greet = role.capitalize() if role in ("mom", "dad") else first
        return Person(relative, f"{first} {last} ({role})", greet, f"your {role}", phone, email)

    def pick(self, seq):
        return self.rng.choice(seq)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def person(self, family: float = 0.2) -> Person:
        """A contact, the family member less often; remembered as the last one named."""
        family_member = self.chance(family)
        self.mem["person"] = self.people[-1] if family_member else self.pick(self.people[:-1])
        return self.mem["person"]

    def ago(self, days: int) -> str:
        """The ISO date `days` before today."""
        return (self.today - timedelta(days=days)).isoformat()

    def day(self, offsets=(0, 1, 1, 2, 3, 4, 5)) -> Day:
        """A day within the coming week."""
        offset = self.pick(offsets)
        d = self.today + timedelta(days=offset)
        if offset == 0:
            return Day("today", "today", d.isoformat(), "today")
        if offset == 1:
            return Day("tomorrow", "tomorrow", d.isoformat(), "tomorrow")
        name = WEEKDAYS[d.weekday()]
        return Day(self.pick([f"on {name}", f"this {name}", name]), name, d.isoformat(),
                   f"on {name}")

    def time(self, hours, minutes=(0, 0, 15, 30, 30, 45)) -> Clock:
        return clock(self.pick(hours), self.pick(minutes))

    def date_arg(self, d: Day) -> str:
        return d.iso if self.normalise else d.word

    def time_arg(self, t: Clock) -> str:
        return t.iso if self.normalise else t.said

    def city(self, away: bool) -> City:
        """The home city, or another one."""
        return self.pick([c for c in CITIES if c != self.home]) if away else self.home

    def degrees(self, celsius: float) -> int:
        return round(celsius * 9 / 5 + 32) if self.home.fahrenheit else round(celsius)

    def forecast(self, city: City, d: Day) -> Forecast:
        """A get_weather output and what an assistant would say about it."""
        high_c = SEASON_HIGH[date.fromisoformat(d.iso).month - 1] + self.rng.randint(-4, 4)
        sky = self.pick(list(SKIES))
        high, low = self.degrees(high_c), self.degrees(high_c - self.rng.randint(5, 9))
        rain = self.rng.randint(55, 95) if sky in WET else self.rng.randint(0, 20)
        output = dumps({"city": city.name, "date": d.iso, "conditions": sky, "high": high,
                        "low": low, "unit": "F" if self.home.fahrenheit else "C",
                        "precipitation_chance": rain})
        said = f"Expect {SKIES[sky]} in {city.name} {d.label}, with a high of {high} degrees."
        if sky in WET:
            said += f" There's a {rain} percent chance of rain, so take an umbrella."
        return Forecast(output, said, SKIES[sky], high, sky in WET)

    def begin_turn(self, number: int) -> None:
        """Start turn `number` (1-based); its call ids are t<number>c1, t<number>c2, ..."""
        self.turn_no, self.n_calls = number, 0

    def call(self, name: str, arguments: dict, output: str, after=()) -> dict:
        """A call of the current turn; `after` lists the calls it depends on."""
        self.n_calls += 1
        call = {"id": f"t{self.turn_no}c{self.n_calls}", "name": name, "arguments": arguments}
        if after:
            call["depends_on"] = [c["id"] for c in after]
        call.update(safe=SAFE[name], output=output)
        return call

    def turn(self, user: str, steps: list[list[dict]], answer: str) -> dict:
        """A turn dict: the spoken words, the steps with brief reasoning, the answer."""
        if steps and self.chance(0.2):
            user = self.pick(["Okay, ", "Hey, ", "Um, ", "Alright, "]) + user
        turn = {"user": user[0].upper() + user[1:]}
        if steps:
            turn["steps"] = [{"reasoning_tokens": self.rng.randint(0, min(40, 8 + 10 * len(calls))),
                              "calls": calls} for calls in steps]
        turn["answer"] = answer
        if self.chance(0.25):
            turn["answer_reasoning_tokens"] = self.rng.randint(4, 30)
        return turn
