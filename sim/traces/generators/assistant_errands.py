"""Turn templates for restaurants, maps, flights, reminders, timers and the smart home."""

from rtsim.traces.generators.assistant_templates import (
    CUISINES,
    STREETS,
    count,
    delivered,
    message,
    ref,
)
from rtsim.traces.generators.assistant_world import Clock, Ctx, Day, Person, clock, dumps

PLACES = {
    "pharmacy": ["HealthPlus Pharmacy", "Corner Chemist", "MedExpress"],
    "coffee shop": ["Daily Grind", "Bean There", "Little Roastery"],
    "supermarket": ["FreshMart", "Green Grocer", "Market Basket"],
    "gas station": ["Shell", "Quick Fuel", "Esso"],
    "hardware store": ["Tool Shed", "Ace Hardware", "Fix-It Depot"],
}
# where the user goes, how they say they get there, and the tool's mode
TRIPS = [("work", "drive", "drive"), ("work", "bike", "bike"), ("the office", "walk", "walk"),
         ("the office", "take the bus", "transit"), ("the airport", "drive", "drive"),
         ("the airport", "take the train", "transit"), ("the gym", "walk", "walk"),
         ("the train station", "bike", "bike")]
TASKS = ["call the dentist", "pick up the dry cleaning", "water the plants", "send the invoice",
         "buy milk on the way home", "take my medication", "renew my passport",
         "leave for the airport"]
TIMERS = {"pasta": (8, 10, 12), "eggs": (6, 8, 10), "pizza": (12, 15), "bread": (35, 40, 45),
          "tea": (3, 4, 5), "laundry": (45, 55), "roast vegetables": (25, 30)}
ROOMS = ["living room", "kitchen", "bedroom", "office"]
ARTISTS = ["Miles Davis", "Norah Jones", "Daft Punk", "Fleetwood Mac", "Billie Eilish",
           "Bach", "Radiohead", "Stevie Wonder"]
MOODS = [("something relaxing", "relaxing", "Chill Acoustic"),
         ("some upbeat cooking music", "upbeat cooking", "Kitchen Grooves"),
         ("a bit of jazz", "jazz", "Jazz Classics"),
         ("something to help me focus", "focus", "Deep Focus")]
AIRLINES = [("United", "UA"), ("Lufthansa", "LH"), ("British Airways", "BA"),
            ("Air France", "AF"), ("Delta", "DL"), ("KLM", "KL")]


def restaurants(c: Ctx, cuisine: str, t: Clock | None = None) -> tuple[str, list[dict]]:
    """A search_restaurants output: three places, the first with a table at `t`."""
    rows = []
    for i, name in enumerate(c.rng.sample(CUISINES[cuisine], 3)):
        row = {"id": ref(c, "r"), "name": name, "rating": round(c.rng.uniform(3.9, 4.8), 1),
               "distance_km": round(c.rng.uniform(0.3, 4.0), 1)}
        if t:
            other = clock(int(t.iso[:2]) + c.pick([-1, 1]), int(t.iso[3:])).iso
            row["free"] = [t.iso] if i == 0 else sorted({other, c.pick([t.iso, "21:30"])})
        rows.append(row)
    return dumps({"cuisine": cuisine.lower(), "results": rows}), rows


def booking(c: Ctx, row: dict, d: Day, t: Clock, n: int, after=()) -> dict:
    """A book_table call; the booking is remembered for later turns."""
    code = ref(c, "BK")
    c.mem["booking"] = (row["name"], d, t, code)
    out = dumps({"status": "confirmed", "restaurant": row["name"], "date": d.iso, "time": t.iso,
                 "party_size": n, "confirmation": code})
    args = {"restaurant_id": row["id"], "date": c.date_arg(d), "time": c.time_arg(t),
            "party_size": n}
    return c.call("book_table", args, out, after=after)


def search_and_book(c: Ctx, user: str, cuisine: str, d: Day, t: Clock, n: int,
                    share: Person | None = None) -> dict:
    """Search, then book the best match; with `share`, text that person the booking too."""
    output, rows = restaurants(c, cuisine, t)
    args = {"cuisine": cuisine.lower(), "date": c.date_arg(d), "time": c.time_arg(t),
            "party_size": n}
    found = c.call("search_restaurants", args, output)
    r = rows[0]
    answer = (f"You're booked at {r['name']} {d.label} at {t.said} for {n}. It's rated "
              f"{r['rating']} and {r['distance_km']} kilometres away.")
    if not share:
        return c.turn(user, [[found], [booking(c, r, d, t, n, after=[found])]], answer)
    look = c.call("lookup_contact", {"name": share.said}, share.card())
    booked = booking(c, r, d, t, n, after=[found])
    body = f"Booked {r['name']} {d.label} at {t.said}, confirmation {c.mem['booking'][3]}."
    sent = c.call("send_message", {"to": share.phone, "body": body}, delivered(c, share),
                  after=[booked, look])
    answer += f" I've texted {share.called} the details."
    return c.turn(user, [[found, look], [booked], [sent]], answer)


def restaurant_book(c: Ctx, share: float = 0.3) -> dict:
    """Search and book in one request; with probability `share`, text a friend the booking."""
    cuisine, n = c.pick(list(CUISINES)), c.pick([2, 2, 3, 4, 4, 5, 6])
    d, t, k = c.day((0, 0, 1, 2, 4, 5)), c.time((18, 19, 20), (0, 30)), count(c, n)
    user = c.pick([f"book a table for {k} at a good {cuisine} place {d.said} at {t.said}",
                   f"{d.said} at {t.said}, I need a {cuisine} restaurant for {k} people, "
                   "can you book something nearby?",
                   f"can you find a {cuisine} restaurant near me and reserve a table for {k} "
                   f"{d.said} around {t.said}?",
                   f"some friends are in town {d.said}, could you find a nice {cuisine} place "
                   f"not too far from here and book a table for {k} at {t.said}?"])
    if c.chance(share):
        p = c.person()
        end = "?" if user.endswith("?") else ""
        user = f"{user.rstrip('?')}, and text {p.said} the details{end}"
        return search_and_book(c, user, cuisine, d, t, n, share=p)
    return search_and_book(c, user, cuisine, d, t, n)


def booking_ask(c: Ctx) -> dict:
    c.mem["day"] = d = c.day((0, 0, 4, 5))
    when = "tonight" if d.word == "today" else d.word
    user = c.pick([f"can you book us a table somewhere for dinner {when}?",
                   f"I'd like to take a friend out for dinner {d.said}, can you book something?"])
    return c.turn(user, [], "Sure! How many people, what time, and any cuisine in mind?")


def booking_answer(c: Ctx) -> dict:
    cuisine, n, t = c.pick(list(CUISINES)), c.pick([2, 3, 4]), c.time((18, 19, 20), (0, 30))
    k = count(c, n)
    user = c.pick([f"{k} of us, {cuisine} if possible, around {t.said}",
                   f"just {k} people at {t.said}, something {cuisine} would be great",
                   f"{cuisine} food for {k}, and {t.said} works best for us"])
    return search_and_book(c, user, cuisine, c.mem["day"], t, n)


def restaurant_search(c: Ctx) -> dict:
    city, cuisine = c.mem.get("city", c.home), c.pick(list(CUISINES))
    user = c.pick([f"any good {cuisine} restaurants in {city.name} you'd recommend?",
                   f"where can we get really good {cuisine} food in {city.name}?"])
    output, rows = restaurants(c, cuisine)
    c.mem["restaurants"] = rows
    a, b = rows[0], rows[1]
    answer = (f"{a['name']} is rated {a['rating']} and {b['name']} {b['rating']}. "
              f"{a['name']} is the closer one, {a['distance_km']} kilometres away.")
    call = c.call("search_restaurants", {"cuisine": cuisine.lower(), "city": city.name}, output)
    return c.turn(user, [[call]], answer)


def book_followup(c: Ctx) -> dict:
    i = c.pick([0, 1])
    row, d = c.mem["restaurants"][i], c.mem.get("day") or c.day()
    n, t = c.pick([2, 3, 4]), c.time((19, 20), (0, 30))
    k = count(c, n)
    user = c.pick([f"book the {['first', 'second'][i]} one for {k} at {t.said} {d.said}",
                   f"let's do {row['name']}, a table for {k} {d.said} at {t.said}"])
    answer = f"Booked: {row['name']}, {d.label} at {t.said}, table for {n}."
    return c.turn(user, [[booking(c, row, d, t, n)]], answer)


def places(c: Ctx, kind: str) -> tuple[str, dict]:
    """A search_nearby output and its nearest place."""
    rows = [{"name": name, "address": f"{c.rng.randint(2, 480)} {c.pick(STREETS)}",
             "distance_m": dist, "open_until": f"{c.rng.randint(20, 23)}:00"}
            for name, dist in zip(c.rng.sample(PLACES[kind], 3),
                                  sorted(c.rng.sample(range(150, 2400, 10), 3)), strict=True)]
    return dumps({"results": rows}), rows[0]


def directions(c: Ctx, place: dict) -> str:
    minutes = max(2, place["distance_m"] // 80)
    return (f"Head {c.pick(['north', 'south', 'east', 'west'])} on {c.pick(STREETS)} for "
            f"{place['distance_m'] // 2} m, then turn {c.pick(['left', 'right'])}; "
            f"{place['name']} is on your right. About {minutes} min on foot.")


def nearby(c: Ctx) -> dict:
    kind = c.pick(list(PLACES))
    output, top = places(c, kind)
    c.mem["place"] = top
    said = (f"The nearest is {top['name']} at {top['address']}, {top['distance_m']} metres "
            f"away and open until {top['open_until']}.")
    if c.chance(0.4):
        user = f"find the nearest {kind} and give me walking directions"
        found = c.call("search_nearby", {"query": kind, "open_now": True}, output)
        route = c.call("get_directions", {"destination": top["address"], "mode": "walking"},
                       directions(c, top), after=[found])
        return c.turn(user, [[found], [route]], said + " I've put the walking route on screen.")
    user = c.pick([f"is there a {kind} open near me right now?",
                   f"I need a {kind}, what's the closest one that's still open?"])
    return c.turn(user, [[c.call("search_nearby", {"query": kind, "open_now": True}, output)]],
                  said)


def directions_there(c: Ctx) -> dict:
    place = c.mem["place"]
    user = c.pick(["okay, how do I get there on foot?", "great, give me walking directions there"])
    call = c.call("get_directions", {"destination": place["address"], "mode": "walking"},
                  directions(c, place))
    return c.turn(user, [[call]], call["output"])


def travel_time_events(c: Ctx) -> dict:
    dest, verb, mode = c.pick(TRIPS)
    user = c.pick([f"how long will it take me to {verb} to {dest} right now, and when is my "
                   "first meeting today?",
                   f"when's my first meeting today, and how long to {verb} to {dest}?"])
    minutes = c.rng.randint(12, 35) + (20 if dest == "the airport" else 0)
    trip = dumps({"destination": dest.removeprefix("the ").title(), "mode": mode,
                  "duration_min": minutes, "traffic": c.pick(["light", "moderate", "heavy"])})
    today, start = c.day((0,)), c.time(range(9, 12))
    events = dumps({"date": today.iso, "events": [
        {"id": ref(c, "ev"), "title": c.pick(["Team standup", "Client call", "Design review"]),
         "start": start.iso}]})
    calls = [c.call("get_travel_time", {"destination": dest.removeprefix("the "), "mode": mode},
                    trip),
             c.call("list_events", {"date": c.date_arg(today)}, events)]
    answer = f"It's about {minutes} minutes right now. Your first meeting starts at {start.said}."
    return c.turn(user, [calls], answer)


def reminder(c: Ctx) -> dict:
    task, d, t = c.pick(TASKS), c.day((0, 1, 1, 2, 3)), c.time(range(8, 21))
    user = c.pick([f"remind me to {task} {d.said} at {t.said}",
                   f"{d.said} at {t.said}, remind me to {task}",
                   f"can you set a reminder for {t.said} {d.said} to {task}?",
                   f"don't let me forget to {task}, remind me {d.said} at {t.said}"])
    text = task if c.chance(0.7) else task.replace("my ", "").capitalize()
    args = {"text": text, "date": c.date_arg(d), "time": c.time_arg(t)}
    out = dumps({"status": "scheduled", "reminder_id": ref(c, "rem"), "text": text,
                 "due": f"{d.iso}T{t.iso}"})
    answer = f"Okay, I'll remind you {d.label} at {t.said} to {task.replace('my ', 'your ')}."
    return c.turn(user, [[c.call("create_reminder", args, out)]], answer)


def timer(c: Ctx) -> dict:
    what, options = c.pick(list(TIMERS.items()))
    m = c.pick(options)
    k = count(c, m)
    user = c.pick([f"set a timer for {k} minutes for the {what}",
                   f"start a {k} minute timer for the {what}, please",
                   f"the {what} will be done in {k} minutes, can you set a timer?"])
    out = dumps({"status": "running", "timer_id": ref(c, "tm"), "label": what,
                 "duration_s": m * 60})
    return c.turn(user, [[c.call("set_timer", {"minutes": m, "label": what}, out)]],
                  f"Timer set: {m} minutes for the {what}.")


def alarm_ask(c: Ctx) -> dict:
    c.mem["day"] = d = c.day((1, 1, 2))
    user = c.pick([f"can you set an alarm for {d.word} morning?",
                   f"I have to get up really early {d.said}, set an alarm for me"])
    return c.turn(user, [], "Sure, what time should I set it for?")


def alarm_time(c: Ctx) -> dict:
    d, t = c.mem["day"], c.time((5, 6, 7), (0, 15, 30, 45))
    backup = clock(int(t.iso[:2]), int(t.iso[3:]) + 10)
    user = f"let's say {t.said}, and add a backup ten minutes later just in case"
    calls = [c.call("set_alarm", {"time": c.time_arg(x), "date": c.date_arg(d)},
                    dumps({"status": "set", "alarm_id": ref(c, "al"), "time": x.iso,
                           "date": d.iso}))
             for x in (t, backup)]
    return c.turn(user, [calls], f"Alarms set for {t.said} and {backup.said} {d.label}.")


def home_scene(c: Ctx) -> dict:
    room = c.pick(ROOMS)
    temp = c.rng.randint(66, 72) if c.home.fahrenheit else c.rng.randint(18, 22)
    lock = c.chance(0.35)
    user = c.pick([f"I'm heading to bed, turn off the {room} lights and set the heat to {temp}",
                   f"set the thermostat to {temp} degrees and switch off the lights in the {room}"])
    out = dumps({"room": room, "lights": "off", "status": "ok"})
    calls = [c.call("set_lights", {"room": room, "on": False}, out),
             c.call("set_thermostat", {"temperature": temp},
                    dumps({"target": temp, "current": temp - 2, "mode": "heat",
                           "eta_min": c.rng.randint(10, 40)}))]
    if lock:
        user += ", and lock the front door"
        calls.append(c.call("lock_door", {"door": "front door"},
                            dumps({"door": "front door", "locked": True, "battery": "82%"})))
    answer = f"The {room} lights are off and the heating is set to {temp} degrees."
    return c.turn(user, [calls], answer + (" The front door is locked." if lock else ""))


def climate_query(c: Ctx) -> dict:
    room = c.pick([None, *ROOMS])
    user = (f"how warm is it in the {room} right now?" if room
            else "what's the temperature inside the house at the moment?")
    now = c.degrees(c.rng.uniform(17, 23))
    out = dumps({"room": room or "whole house", "temperature": now,
                 "humidity": c.rng.randint(35, 60), "heating": c.pick(["on", "off"])})
    call = c.call("get_thermostat", {"room": room} if room else {}, out)
    return c.turn(user, [[call]], f"It's {now} degrees in the {room or 'house'} right now.")


def music(c: Ctx) -> dict:
    room = c.pick(ROOMS)
    if c.chance(0.5):
        artist = c.pick(ARTISTS)
        user, query, playing = f"play some {artist} in the {room}", artist, artist
    else:
        said, word, playlist = c.pick(MOODS)
        user, playing = f"put on {said} in the {room}", f"the {playlist} playlist"
        query = word if c.chance(0.5) else playlist
    out = dumps({"status": "playing", "query": query, "device": f"{room} speaker"})
    answer = f"Playing {playing} on the {room} speaker."
    return c.turn(user, [[c.call("play_music", {"query": query, "room": room}, out)]], answer)


def flight_status(c: Ctx) -> dict:
    (airline, code), num = c.pick(AIRLINES), c.rng.randint(100, 999)
    city, d = c.city(True), c.day((0, 1, 2))
    user = c.pick([f"is my flight to {city.name} on time {d.said}? It's {airline} {num}",
                   f"can you check {airline} flight {num} to {city.name} {d.said}?",
                   f"{airline} {num} {d.said}, is it still leaving on time?"])
    args = ({"flight": f"{code}{num}", "date": d.iso} if c.normalise
            else {"airline": airline, "number": num, "date": d.word})
    dep, late = c.time(range(7, 20)), c.pick([0, 0, 15, 25, 40])
    new = clock(int(dep.iso[:2]) + (int(dep.iso[3:]) + late) // 60, (int(dep.iso[3:]) + late) % 60)
    c.mem.update(city=city, day=d, landing=clock(int(new.iso[:2]) + c.pick([1, 2, 3]),
                                                 int(new.iso[3:])))
    gate = f"{c.pick('ABCD')}{c.rng.randint(2, 40)}"
    out = dumps({"flight": f"{code}{num}", "from": c.home.name, "to": city.name,
                 "departure": dep.iso, "estimated": new.iso, "gate": gate,
                 "status": f"delayed {late} min" if late else "on time"})
    answer = (f"It's {late} minutes late and now leaves at {new.said}" if late
              else f"It's on time, leaving at {dep.said}") + f" from gate {gate}."
    return c.turn(user, [[c.call("get_flight_status", args, out)]], answer)


def arrival_message(c: Ctx) -> dict:
    p, land = c.person(), c.mem["landing"]
    news = c.pick([f"I land at {land.said}", f"I'm landing around {land.said}"])
    user = c.pick([f"text {p.said} that {news}",
                   f"let {p.said} know {news} and I'll call from the taxi"])
    body = news if c.chance(0.5) else f"Landing at {land.said}, will call from the taxi!"
    return c.turn(user, message(c, p, body), f"Done, {p.called} knows you land at {land.said}.")
