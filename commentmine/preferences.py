"""Customer preference extraction with spaCy rules on ``spacy.blank("en")``.

Types: ``channel`` (email, phone, sms, whatsapp, chat, callback), ``language``
(ISO 639-1 code and name), ``contact_time`` (a normalised window),
``do_not_contact`` (a channel or ``any``) and ``other`` (supervisor, same agent,
female agent, human agent, accessibility). A channel mention counts only inside
a request ("please email me", "provide a call option"); a negated request
("don't call me", "stop calling") is ``do_not_contact`` and never a channel; a
complaint about a past contact ("the agent called me at midnight") is not a
preference. Each preference has its evidence span and a confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import spacy
from spacy.matcher import Matcher, PhraseMatcher
from spacy.util import filter_spans

LANGUAGES = {
    "english": ("en", "English"), "hindi": ("hi", "Hindi"), "bengali": ("bn", "Bengali"), "bangla": ("bn", "Bengali"),
    "telugu": ("te", "Telugu"), "tamil": ("ta", "Tamil"), "kannada": ("kn", "Kannada"), "malayalam": ("ml", "Malayalam"),
    "marathi": ("mr", "Marathi"), "gujarati": ("gu", "Gujarati"), "punjabi": ("pa", "Punjabi"), "odia": ("or", "Odia"),
    "oriya": ("or", "Odia"), "assamese": ("as", "Assamese"), "urdu": ("ur", "Urdu"), "nepali": ("ne", "Nepali"),
    "spanish": ("es", "Spanish"), "french": ("fr", "French"), "german": ("de", "German"), "arabic": ("ar", "Arabic"),
    "portuguese": ("pt", "Portuguese"), "italian": ("it", "Italian"), "chinese": ("zh", "Chinese"),
    "mandarin": ("zh", "Chinese"), "japanese": ("ja", "Japanese"), "russian": ("ru", "Russian"), "dutch": ("nl", "Dutch"),
    "polish": ("pl", "Polish"), "turkish": ("tr", "Turkish"), "korean": ("ko", "Korean"), "vietnamese": ("vi", "Vietnamese"),
}
REGIONAL = ("regional language", "local language", "mother tongue", "regional languages", "local languages",
            "other language", "other languages", "native language", "my language", "reginal languages",
            "multilingual", "all languages", "all language", "major languages", "indian languages")
CHANNELS = {
    "email": ["email", "e-mail", "e mail", "mail", "email id", "mail id", "email address"],
    "phone": ["phone call", "telephone", "contact number", "customer care number", "customer care no",
              "customer service number", "support number", "helpline", "helpline number", "toll free",
              "toll free number", "tollfree number", "direct number", "direct no", "direct no.", "call option",
              "calling option", "calling facility", "call facility", "option to call", "voice call", "direct call",
              "calling", "through call", "by phone", "over the phone", "on phone", "phone support", "call support"],
    "sms": ["sms", "text message", "text messages"],
    "whatsapp": ["whatsapp", "whats app", "watsapp", "whatsup", "whatsapp service", "whatsapp number"],
    "chat": ["chat", "chat support", "live chat", "chatting", "chat service", "chat option"],
    "callback": ["call back", "callback", "call me back", "call-back", "redial", "call them back", "call customers back",
                 "call back customers", "call back customer", "call me", "contact me", "call me again", "call me asap",
                 "contact me asap"],
}
REQUEST_CUES = {"please", "pls", "plz", "kindly", "provide", "give", "add", "introduce", "start", "bring", "need",
                "want", "wanted", "prefer", "preferred", "should", "must", "would", "option", "make", "available",
                "include", "arrange", "rather", "instead", "request", "display", "enable", "allow", "create",
                "required", "require", "accessible"}
# specific enough to be a request on their own ("Direct call to customer support", "Set a toll free number")
STRONG_CHANNEL = {"toll free", "toll free number", "tollfree number", "direct call", "direct number", "direct no",
                  "direct no.", "customer care no", "call option", "calling option", "option to call", "calling facility",
                  "call facility", "whatsapp", "whats app", "watsapp", "whatsapp service", "chat support",
                  "chat service", "live chat", "chat option"}
LANGUAGE_NEXT = {"customer", "executive", "executives", "call", "calls", "callers",
                 "caller", "support", "assistance", "service", "language", "me", "mein", "mai", "agent", "agents",
                 "team", "person", "people", "center", "centre"}
COMPLAINT_CUES = {"never", "didn't", "didnt", "not", "no", "without", "haven't", "hasn't", "wasn't", "won't"}
PAST_CONTACT = re.compile(r"\b(called|messaged|emailed|texted|mailed|rang)\s+(me|us)\b.*\b(at|in the|midnight|night|"
                          r"late|early|during|while)\b", re.IGNORECASE)
_DNC_VERBS = ["call", "calling", "email", "emailing", "mail", "message", "messaging", "text", "texting", "sms",
              "whatsapp", "contact", "contacting", "disturb", "bother", "ring"]
DNC = [
    [{"LOWER": {"IN": ["do", "does", "pls", "please"]}}, {"LOWER": {"IN": ["not", "n't", "nt"]}},
     {"LOWER": {"IN": _DNC_VERBS}}, {"LOWER": {"IN": ["me", "us"]}, "OP": "?"}],
    [{"LOWER": {"IN": ["never", "stop"]}}, {"LOWER": {"IN": _DNC_VERBS}}, {"LOWER": {"IN": ["me", "us"]}, "OP": "?"}],
    [{"LOWER": {"IN": ["no", "stop"]}}, {"LOWER": {"IN": ["more", "further"]}},
     {"LOWER": {"IN": ["calls", "call", "messages", "emails", "mails", "sms", "spam", "whatsapp"]}}],
    [{"LOWER": "why"}, {"LOWER": {"IN": ["you", "u", "do", "are"]}, "OP": "*"},
     {"LOWER": {"IN": ["call", "calling", "message", "messaging"]}}, {"LOWER": {"IN": ["me", "us"]}}],
    [{"LOWER": {"IN": ["unsubscribe", "opt-out", "optout"]}}],
    [{"LOWER": "opt"}, {"LOWER": "out"}],
]
OTHER = {
    "wants to speak to a supervisor": ["supervisor", "seniors", "manager", "higher authority", "team leader",
                                       "senior person", "senior officer", "senior team"],
    "wants the same agent": ["same agent", "same executive", "same person", "refer to her", "refer to him",
                             "talk to her again", "talk to him again", "same lady"],
    "wants a female agent": ["female agent", "female executive", "lady executive", "lady agent", "woman agent",
                             "female staff"],
    "wants a human agent": ["human", "real person", "human agent", "live agent", "real agent", "instead of bot",
                            "instead of chatbot", "not a bot", "not bot"],
    "accessibility needs": ["hearing impaired", "deaf", "blind", "visually impaired", "disabled", "disability",
                            "senior citizen", "wheelchair", "hard of hearing"],
}
OTHER_CUES = {"speak", "talk", "connect", "transfer", "want", "wanted", "need", "please", "pls", "kindly",
              "again", "directly", "request", "prefer", "instead", "escalate"}
LANGUAGE_CUES = {"language", "languages", "lagenge", "langauge", "bhasha", "tongue", "lang"}
TIME_WORDS = {"morning": "mornings", "mornings": "mornings", "evening": "evenings", "evenings": "evenings",
              "night": "nights", "afternoon": "afternoons", "weekend": "weekends", "weekends": "weekends",
              "weekday": "weekdays", "weekdays": "weekdays", "saturday": "saturdays", "sunday": "sundays"}
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE)


@dataclass(frozen=True)
class Preference:
    """One stated preference with its evidence."""

    type: str
    value: str
    evidence: str
    start: int
    end: int
    confidence: float
    code: str | None = None

    def to_dict(self) -> dict:
        d = {"type": self.type, "value": self.value, "evidence": self.evidence, "confidence": self.confidence}
        if self.code:
            d["code"] = self.code
        return d


def _clock(text: str) -> str | None:
    m = _CLOCK.fullmatch(text.strip())
    if not m:
        return None
    hour, minute, ampm = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    if ampm == "am" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


class PreferenceExtractor:
    """Rule-based preference extraction (spaCy Matcher and PhraseMatcher on a blank English pipeline)."""

    def __init__(self):
        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("sentencizer")
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for value, words in CHANNELS.items():
            self.phrases.add(f"channel:{value}", list(self.nlp.tokenizer.pipe(words)))
        self.phrases.add("language:regional", list(self.nlp.tokenizer.pipe(REGIONAL)))
        self.phrases.add("language:name", list(self.nlp.tokenizer.pipe(LANGUAGES)))
        for value, words in OTHER.items():
            self.phrases.add(f"other:{value}", list(self.nlp.tokenizer.pipe(words)))
        self.matcher = Matcher(self.nlp.vocab)
        self.matcher.add("dnc", DNC)
        ampm = {"LOWER": {"IN": ["am", "pm", "a.m.", "p.m.", "a.m", "p.m"]}}
        self.matcher.add("time", [
            [{"LOWER": {"IN": ["after", "before", "between", "from", "around", "by"]}}, {"LIKE_NUM": True}, ampm],
            [{"LOWER": {"IN": ["after", "before", "between", "from", "around", "by"]}}, {"LIKE_NUM": True},
             {"LOWER": {"IN": ["-", "to", "and"]}}, {"LIKE_NUM": True}, ampm],
            [{"LOWER": {"IN": ["after", "before", "between", "from", "around", "by"]}},
             {"TEXT": {"REGEX": r"^\d{1,2}(:\d{2})?(am|pm)$"}}],
            [{"LOWER": {"IN": ["in", "during", "on", "only", "weekends", "mornings", "evenings"]}},
             {"LOWER": {"IN": ["the", "a"]}, "OP": "?"}, {"LOWER": {"IN": list(TIME_WORDS)}}],
        ])

    def extract(self, texts: list[str]) -> list[list[Preference]]:
        """Preferences stated in each text (deduplicated by type and value)."""
        out = []
        for doc in self.nlp.pipe(texts, batch_size=500):
            out.append(self._doc(doc))
        return out

    def _doc(self, doc) -> list[Preference]:
        prefs: dict[tuple[str, str], Preference] = {}

        def add(p: Preference) -> None:
            key = (p.type, p.value)
            if key not in prefs or prefs[key].confidence < p.confidence:
                prefs[key] = p

        strings = self.nlp.vocab.strings
        dnc_spans = []
        for match_id, start, end in self.matcher(doc):
            label = strings[match_id]
            span = doc[start:end]
            if label == "dnc":
                dnc_spans.append(span)
            elif label == "time":
                window = self._window(span)
                sent = span.sent
                if window and any(t.lower_ in ("call", "contact", "reach", "available", "phone", "callback", "free",
                                               "busy", "ring") for t in sent) \
                        and any(t.lower_ in REQUEST_CUES | {"me", "only", "can", "could"} for t in sent) \
                        and not PAST_CONTACT.search(sent.text):
                    add(Preference("contact_time", window, sent.text.strip()[:200], span.start_char, span.end_char, 0.7))
        for span in filter_spans(dnc_spans):
            channel = self._dnc_channel(span)
            add(Preference("do_not_contact", channel, span.text, span.start_char, span.end_char, 0.85))
        dnc_tokens = {i for s in dnc_spans for i in range(s.start, s.end)}
        matches = [(strings[m], doc[s:e]) for m, s, e in self.phrases(doc)]
        spans = filter_spans([span for _, span in matches])
        kept = {(sp.start, sp.end) for sp in spans}
        for label, span in matches:
            if (span.start, span.end) not in kept or dnc_tokens & set(range(span.start, span.end)):
                continue
            kind, value = label.split(":", 1)
            sent = span.sent
            words = {t.lower_ for t in sent}
            if kind == "channel":
                strong = span.text.lower() in STRONG_CHANNEL or (
                    value == "callback" and span.start == sent.start)  # imperative: "Call back customer if ..."
                if PAST_CONTACT.search(sent.text) or not (strong or words & REQUEST_CUES):
                    continue
                if value == "chat" and any(t.lower_ in ("bot", "chatbot") for t in doc[span.end:span.end + 1]):
                    continue
                # "never tried to call back" is a complaint, not a request for a callback
                if value in ("callback", "email") and words & COMPLAINT_CUES and not words & {"please", "pls", "kindly"}:
                    continue
                if value == "phone" and span.text.lower() == "calling" and \
                        not (words & {"option", "facility", "available", "accessible", "direct", "provide", "add"}):
                    continue
                conf = 0.8 if words & {"please", "prefer", "instead", "rather", "only", "want"} else 0.6
                add(Preference("channel", value, span.text, span.start_char, span.end_char, conf))
            elif kind == "language":
                if value == "regional":
                    if not (words & (REQUEST_CUES | {"also", "support"})):
                        continue
                    name = span.text.lower()
                    val = "other" if name.startswith("other") else "regional"
                    add(Preference("language", val, span.text, span.start_char, span.end_char, 0.6))
                    continue
                code, name = LANGUAGES[span.text.lower()]
                support_in = (span.start > 0 and doc[span.start - 1].lower_ == "in" and words & {
                    "support", "speak", "talk", "service", "help", "reply", "respond", "communicate", "assistance"}) \
                    or (span.end < len(doc) and doc[span.end].lower_ in LANGUAGE_NEXT) \
                    or (span.end + 1 < len(doc) and doc[span.end].lower_ in ("speaking", "speaker", "speakers")
                        and doc[span.end + 1].lower_ in LANGUAGE_NEXT)
                if not support_in and (not (words & LANGUAGE_CUES) or not (words & (REQUEST_CUES | {
                        "also", "selected", "chose", "preference", "support", "will", "try"}))):
                    continue
                add(Preference("language", name, span.text, span.start_char, span.end_char, 0.8, code))
            elif kind == "other":
                if not (words & OTHER_CUES):
                    continue
                add(Preference("other", value, span.text, span.start_char, span.end_char, 0.6))
        return list(prefs.values())

    @staticmethod
    def _dnc_channel(span) -> str:
        words = {t.lower_ for t in span}
        for channel, keys in (("phone", {"call", "calling", "calls"}), ("email", {"email", "emailing", "mail", "emails",
                              "mails"}), ("sms", {"sms", "text", "texting", "message", "messages", "messaging"}),
                              ("whatsapp", {"whatsapp"})):
            if words & keys:
                return channel
        return "any"

    @staticmethod
    def _window(span) -> str | None:
        words = [t.lower_ for t in span]
        for w in words:
            if w in TIME_WORDS:
                return TIME_WORDS[w]
        text = span.text.lower()
        times = re.findall(r"\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?", text)
        clocks = [c for c in (_clock(t) for t in times) if c]
        if not clocks:
            return None
        if words[0] == "after":
            return f"after {clocks[0]}"
        if words[0] == "before":
            return f"before {clocks[0]}"
        if len(clocks) >= 2:
            return f"{clocks[0]}-{clocks[1]}"
        return f"around {clocks[0]}"
