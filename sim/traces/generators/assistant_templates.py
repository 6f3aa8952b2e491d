"""Turn templates of the assistant generator: one function per kind of request.

Each template takes the episode's `Ctx` and returns a turn dict. Argument values are the
words the user said where a model would copy them, and normalised or derived values
(ISO dates, ids and addresses from an earlier result) where a model would write those.
"""

from rtsim.traces.generators.assistant_world import CITIES, Ctx, Day, clock, dumps

NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
           "ten", "eleven", "twelve"]
MEETINGS = ["Design review", "Team standup", "Budget sync", "Dentist", "Yoga class",
            "Lunch with {p}", "Call with {p}", "1:1 with {p}", "Coffee with {p}"]
CUISINES = {
    "Italian": ["Luigi's Trattoria", "Osteria Nove", "Pasta Madre"],
    "Japanese": ["Sakura House", "Kaito Ramen", "Umi Sushi"],
    "Thai": ["Baan Thai", "Lemongrass Kitchen", "Siam Garden"],
    "Indian": ["Tandoori Nights", "Masala Lane", "Dosa Corner"],
    "Mexican": ["Casa Lola", "El Farolito", "Taqueria Sol"],
    "French": ["Bistro Margaux", "Le Petit Zinc", "Chez Odette"],
    "vegetarian": ["Green Fork", "Leaf and Root", "The Herbivore"],
}
STREETS = ["Market Street", "High Street", "Oak Avenue", "Station Road", "King Street",
           "Canal Street", "Park Lane", "Mill Road"]
SMALL_TALK = [
    ("thanks, that's all I needed for now", "You're welcome! Have a good one."),
    ("perfect, thank you so much for sorting that out", "Happy to help. Anything else, just ask."),
    ("tell me a quick joke before I head out",
     "Why don't skeletons fight each other? They don't have the guts."),
    ("how do you say thank you in Japanese?",
     "It's arigato, or arigato gozaimasu if you want to be more polite."),
    ("great, you're a lifesaver, that's everything for today", "Anytime! Talk to you later."),
    ("what's a good name for a grey kitten, any ideas?",
     "How about Pebble, Smokey or Earl Grey? Earl Grey has a nice ring to it."),
    ("hmm, actually never mind, I'll sort it out myself later",
     "No problem. I'm here if you need me."),
    ("how many ounces are in a cup, roughly?", "A US cup is 8 fluid ounces, about 240 ml."),
]


def count(c: Ctx, n: int) -> str:
    """A small number as the transcript may write it: digits or a word."""
    return c.pick([str(n), NUMBERS[n]]) if n < len(NUMBERS) else str(n)


def spoken_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def ref(c: Ctx, prefix: str) -> str:
    return f"{prefix}_{c.rng.randrange(1000, 10000)}"


def agenda(c: Ctx, d: Day, hours=range(8, 19)) -> tuple[str, list[dict]]:
    """A list_events output for day `d`, and its events."""
    n = c.pick([0, 1, 2, 2, 3])
    titles = c.rng.sample(MEETINGS, n)
    events = [{"id": ref(c, "ev"), "title": t.format(p=c.pick(c.people[:-1]).first),
               "start": f"{h:02d}:00", "end": f"{h + 1:02d}:00"}
              for h, t in zip(sorted(c.rng.sample(list(hours), n)), titles, strict=True)]
    return dumps({"date": d.iso, "events": events}), events


def said_events(events: list[dict]) -> str:
    return spoken_list([f"{e['title']} at {clock(int(e['start'][:2])).said}" for e in events])


def weather(c: Ctx) -> dict:
    away = c.chance(0.5)
    city, d = c.city(away), c.day()
    where = f" in {city.name}" if away or c.chance(0.3) else ""
    user = c.pick([f"what's the weather going to be like{where} {d.said}?",
                   f"do I need to bring an umbrella{where} {d.said}?",
                   f"{d.said}{where}, will it be warm enough to skip the coat?",
                   f"I'm planning a long walk {d.said}, how's the weather looking{where}?",
                   f"I was thinking of going for a run after work {d.said}, but only if it "
                   f"stays dry, so what's the forecast{where}?"])
    args = {"city": city.name} if where else {}
    args["date"] = c.date_arg(d)
    fc = c.forecast(city, d)
    c.mem.update(city=city, day=d)
    return c.turn(user, [[c.call("get_weather", args, fc.output)]], fc.said)


def weather_there(c: Ctx) -> dict:
    city, d = c.mem["city"], c.mem["day"]
    user = c.pick(["and what's the weather going to be like there?",
                   "should I pack a warm jacket, how cold does it get there?",
                   "nice, and will it rain there while I'm around?"])
    fc = c.forecast(city, d)
    call = c.call("get_weather", {"city": city.name, "date": c.date_arg(d)}, fc.output)
    return c.turn(user, [[call]], fc.said)


def weather_two_cities(c: Ctx) -> dict:
    a, b = c.rng.sample([x for x in CITIES if x != c.home], 2)
    d = c.day((2, 3, 4, 5, 6))
    user = c.pick([f"I'm choosing between {a.name} and {b.name} for a trip {d.said}, "
                   "which one will have better weather?",
                   f"compare the weather in {a.name} and {b.name} {d.said} for me",
                   f"{d.said}, is it nicer in {a.name} or in {b.name}?"])
    fa, fb = c.forecast(a, d), c.forecast(b, d)
    better = a if (fa.wet, -fa.high) < (fb.wet, -fb.high) else b
    calls = [c.call("get_weather", {"city": x.name, "date": c.date_arg(d)}, f.output)
             for x, f in ((a, fa), (b, fb))]
    c.mem.update(city=better, day=d)
    answer = (f"Expect {fa.sky} in {a.name} and {fb.sky} in {b.name} {d.label}, with highs "
              f"of {fa.high} and {fb.high} degrees. {better.name} looks like the better bet.")
    return c.turn(user, [calls], answer)


def weather_and_calendar(c: Ctx) -> dict:
    d = c.day((0, 1, 1, 2, 3))
    user = c.pick([f"what's the weather {d.said}, and do I have anything on my calendar?",
                   f"{d.said}, what does my day look like, and is it going to rain?",
                   f"can you check my calendar for {d.word} and tell me the forecast too?"])
    fc = c.forecast(c.home, d)
    events_out, events = agenda(c, d)
    calls = [c.call("get_weather", {"date": c.date_arg(d)}, fc.output),
             c.call("list_events", {"date": c.date_arg(d)}, events_out)]
    plan = f"you have {said_events(events)}" if events else "your calendar is clear"
    c.mem["day"] = d
    return c.turn(user, [calls], f"{fc.said} As for your schedule, {plan}.")


def briefing(c: Ctx) -> dict:
    today, p, topic = c.day((0,)), c.person(family=0), c.pick(TOPICS)
    user = c.pick(["good morning! What's the weather like today, what's on my calendar, and is "
                   "there anything urgent in my inbox?",
                   "before I leave the house, give me today's forecast, my meetings, and any "
                   "urgent emails I should know about"])
    fc = c.forecast(c.home, today)
    events_out, events = agenda(c, today)
    mail = [{"id": ref(c, "msg"), "from": f"{p.full} <{p.email}>",
             "subject": f"Urgent: {topic[2]}", "received": f"{today.iso} 07:{c.pick([12, 48])}",
             "snippet": topic[3]}] if c.chance(0.6) else []
    calls = [c.call("get_weather", {"date": c.date_arg(today)}, fc.output),
             c.call("list_events", {"date": c.date_arg(today)}, events_out),
             c.call("search_email", {"query": "urgent", "unread": True},
                    dumps({"results": mail, "unread_total": c.rng.randint(2, 14)}))]
    plan = f"You have {said_events(events)}" if events else "Your calendar is clear"
    news = (f"{p.called} flagged an urgent email about {topic[1]}." if mail
            else "Nothing urgent in your inbox.")
    return c.turn(user, [calls], f"Expect {fc.sky} today, high of {fc.high}. {plan}. {news}")


def free_check(c: Ctx) -> dict:
    d = c.day((1, 2, 3, 4))
    part, lo, hi = c.pick([("morning", 8, 12), ("afternoon", 12, 17), ("evening", 17, 21)])
    user = c.pick([f"do I have anything going on {d.said} {part}?",
                   f"{d.said} {part}, is my calendar clear or do I have meetings?",
                   f"check whether I'm free {d.said} in the {part}, please"])
    output, events = agenda(c, d, range(8, 20))
    busy = [e for e in events if lo <= int(e["start"][:2]) < hi]
    answer = (f"{d.label.capitalize()} {part} you have {said_events(busy)}." if busy
              else f"Your {part} {d.label} is free.")
    taken = {e["start"] for e in events}
    c.mem.update(day=d, hour=next((h for h in range(lo, hi) if f"{h:02d}:00" not in taken), lo))
    return c.turn(user, [[c.call("list_events", {"date": c.date_arg(d)}, output)]], answer)


def meeting_with_contact(c: Ctx) -> dict:
    p = c.person()
    what = c.pick(["coffee", "a project sync", "a quick call", "lunch", "the quarterly review"])
    if "hour" in c.mem:
        d, t = c.mem["day"], clock(c.mem.pop("hour"))
        user = c.pick([f"great, set up {what} with {p.said} at {t.said} then and invite them",
                       f"okay, book {t.said} for {what} with {p.said} and send the invite"])
    else:
        d, t = c.day((1, 2, 3, 4)), c.time(range(9, 17))
        user = c.pick([f"set up {what} with {p.said} {d.said} at {t.said} and send an invite",
                       f"{d.said} at {t.said} I'd like {what} with {p.said}, "
                       "put it in my calendar"])
    title = what.removeprefix("a ").removeprefix("the ")
    title = title.capitalize() if c.chance(0.5) else f"{title.capitalize()} with {p.first}"
    look = c.call("lookup_contact", {"name": p.said}, p.card())
    first = [look]
    if c.chance(0.4):
        first.append(c.call("list_events", {"date": c.date_arg(d)}, agenda(c, d)[0]))
    args = {"title": title, "date": c.date_arg(d), "start": c.time_arg(t), "attendees": [p.email]}
    made = dumps({"status": "created", "event_id": ref(c, "ev"), "title": title,
                  "start": f"{d.iso}T{t.iso}", "invited": [p.email]})
    answer = f"Done: {title} {d.label} at {t.said}, and I've sent {p.called} an invite."
    return c.turn(user, [first, [c.call("create_event", args, made, after=[look])]], answer)


def move_event(c: Ctx) -> dict:
    p, today = c.person(), c.day((0,))
    old = c.time(range(10, 16), (0, 30))
    new = clock(int(old.iso[:2]) + c.pick([1, 2]), c.pick([0, 30]))
    user = c.pick([f"push my {old.said} with {p.said} to {new.said} and give them a heads-up",
                   f"I can't make the {old.said} with {p.said} today, move it to {new.said} "
                   "and let them know",
                   f"something came up, move today's {old.said} call to {new.said} and text "
                   f"{p.said} about it"])
    event = {"id": ref(c, "ev"), "title": f"Call with {p.first}", "start": old.iso}
    listed = c.call("list_events", {"date": c.date_arg(today)},
                    dumps({"date": today.iso, "events": [event]}))
    look = c.call("lookup_contact", {"name": p.said}, p.card())
    moved = c.call("update_event", {"event_id": event["id"], "start": c.time_arg(new)},
                   dumps({"status": "updated", "event_id": event["id"], "start": new.iso}),
                   after=[listed])
    body = f"Hi {p.first}, something came up, can we talk at {new.said} instead?"
    sent = c.call("send_message", {"to": p.phone, "body": body}, delivered(c, p), after=[look])
    answer = f"I moved your call with {p.first} to {new.said} and texted them the new time."
    return c.turn(user, [[listed, look], [moved, sent]], answer)


def delivered(c: Ctx, p) -> str:
    return dumps({"status": "delivered", "to": p.full, "message_id": ref(c, "msg")})


def message(c: Ctx, p, body: str) -> list[list[dict]]:
    """Steps that look a contact up and text them."""
    look = c.call("lookup_contact", {"name": p.said}, p.card())
    sent = c.call("send_message", {"to": p.phone, "body": body}, delivered(c, p), after=[look])
    return [[look], [sent]]


def running_late(c: Ctx) -> dict:
    p, m = c.person(), c.pick([5, 10, 10, 15, 20])
    user, news = c.pick([
        (f"text {p.said} that I'm running {m} minutes late", f"I'm running {m} minutes late"),
        (f"I'll be there in {m} minutes, can you let {p.said} know?",
         f"I'll be there in {m} minutes"),
        (f"send a message to {p.said}: stuck in traffic, about {m} minutes behind, sorry!",
         f"stuck in traffic, about {m} minutes behind"),
        (f"ugh, the train is stuck outside the station again, please text {p.said} that I'll "
         f"be {m} minutes late and they should start without me", f"I'll be {m} minutes late"),
    ])
    body = news if c.chance(0.5) else f"Sorry {p.first}, running about {m} min late!"
    return c.turn(user, message(c, p, body), f"I've texted {p.called} that you're {m} minutes out.")


def share_booking(c: Ctx) -> dict:
    p, (name, d, t, code) = c.person(), c.mem["booking"]
    user = c.pick([f"send {p.said} a text with the details and the address",
                   f"can you let {p.said} know where we're going and what time?",
                   f"tell {p.said} we're booked at {name} at {t.said}"])
    written = f"Table booked at {name}, {d.label} at {t.said} (ref {code}). See you there!"
    body = f"we're booked at {name} at {t.said}" if "booked" in user and c.chance(0.5) else written
    return c.turn(user, message(c, p, body), f"Sent the details for {name} to {p.called}.")


def message_ask(c: Ctx) -> dict:
    p = c.person()
    user = c.pick([f"can you send a message to {p.said} for me?",
                   f"I need to text {p.said} something, quickly"])
    return c.turn(user, [], f"Sure, what would you like to say to {p.called}?")


def message_answer(c: Ctx) -> dict:
    p = c.mem["person"]
    said, written = c.pick([
        ("dinner is ready in twenty minutes", "Dinner's ready in 20 minutes!"),
        ("to grab some bread on the way home", "Could you grab some bread on the way home?"),
        ("the spare keys are under the mat", "Spare keys are under the mat."),
        ("the game starts at 8 tonight", "Heads up, the game starts at 8 tonight."),
    ])
    user = c.pick([f"tell them {said}", f"just say {said}, thanks"])
    body = said if c.chance(0.5) else written
    return c.turn(user, message(c, p, body), f"Done, I sent that to {p.called}.")


TOPICS = [
    ("the budget", "budget", "Q3 budget draft",
     "Draft attached, can you check the travel line before Friday?"),
    ("the offsite", "offsite", "Offsite agenda and hotel",
     "Hotel is booked for the 12th, agenda attached, comments welcome."),
    ("the contract", "contract", "Contract redlines v2",
     "Legal sent back their redlines, mostly small wording changes."),
    ("the invoice", "invoice", "Invoice 4471 overdue",
     "Just a reminder that invoice 4471 is now two weeks overdue."),
    ("the slides", "slides", "Slides for Thursday",
     "Here's my draft deck, I still need your numbers for slide 6."),
]
REPLIES = [("I'll send it by Friday", "you'll send it by Friday"),
           ("the numbers look good to me", "the numbers look good"),
           ("we can go through it on Monday", "you can go through it on Monday"),
           ("I'm happy with the changes", "you're happy with the changes"),
           ("I'll review it tonight", "you'll review it tonight")]


def inbox(c: Ctx, p, subject: str, snippet: str) -> tuple[str, str, str]:
    """A search_email output, the newest message id, and when it came, as said aloud."""
    days = c.pick([0, 1, 2])
    found = [{"id": ref(c, "msg"), "from": f"{p.full} <{p.email}>", "subject": subject,
              "received": f"{c.ago(days)} {c.rng.randint(8, 18):02d}:{c.pick([5, 20, 42]):02d}",
              "snippet": snippet}]
    if c.chance(0.5):
        found.append({"id": ref(c, "msg"), "from": p.email, "subject": f"Re: {subject}",
                      "received": c.ago(days + c.rng.randint(2, 6))})
    return dumps({"results": found}), found[0]["id"], ["earlier today", "yesterday",
                                                       "two days ago"][days]


def email_search(c: Ctx) -> dict:
    p = c.person(family=0)
    topic, query, subject, snippet = c.pick(TOPICS)
    user = c.pick([f"did I get an email from {p.said} about {topic} this week?",
                   f"check my inbox for anything from {p.said} about {topic}",
                   f"about {topic}, has {p.said} sent me anything yet?"])
    output, msg_id, when = inbox(c, p, subject, snippet)
    c.mem["email"] = msg_id
    answer = f'Yes, {p.called} wrote {when}: "{subject}". They say: {snippet}'
    return c.turn(user, [[c.call("search_email", {"from": p.said, "query": query}, output)]],
                  answer)


def reply_args(c: Ctx, p, msg_id: str, reply: str) -> tuple[dict, str]:
    body = reply if c.chance(0.4) else f"Hi {p.first}, {reply}. Thanks!"
    sent = dumps({"status": "sent", "in_reply_to": msg_id, "to": p.email})
    return {"reply_to": msg_id, "to": p.email, "body": body}, sent


def email_reply(c: Ctx) -> dict:
    p, (reply, reported) = c.mem["person"], c.pick(REPLIES)
    user = c.pick([f"reply and tell {p.said} {reply}", f"okay, answer that one: {reply}"])
    args, sent = reply_args(c, p, c.mem["email"], reply)
    answer = f"Sent. I told {p.called} {reported}."
    return c.turn(user, [[c.call("send_email", args, sent)]], answer)


def email_reply_chain(c: Ctx) -> dict:
    p, (reply, reported) = c.person(family=0), c.pick(REPLIES)
    topic, query, subject, snippet = c.pick(TOPICS)
    user = c.pick([f"find {p.said}'s latest email about {topic} and reply that {reply}",
                   f"reply to {p.said}'s email about {topic} and say {reply}",
                   f"{p.said} emailed me about {topic}, write back that {reply}",
                   f"I still haven't answered {p.said}'s email about {topic}, can you find it "
                   f"and write back that {reply}, short and friendly?"])
    output, msg_id, _ = inbox(c, p, subject, snippet)
    found = c.call("search_email", {"from": p.said, "query": query}, output)
    args, sent = reply_args(c, p, msg_id, reply)
    answer = f'I replied to {p.called}\'s "{subject}" email saying {reported}.'
    return c.turn(user, [[found], [c.call("send_email", args, sent, after=[found])]], answer)


def small_talk(c: Ctx) -> dict:
    user, answer = c.pick(SMALL_TALK)
    return c.turn(user, [], answer)
