"""Customer preference extraction with spaCy rules on ``spacy.blank("en")``.

Types: ``channel`` (email, phone, sms, whatsapp, chat, callback), ``language``
(ISO 639-1 code and name), ``contact_time`` (a normalised window),
``do_not_contact`` (a channel or ``any``) and ``other`` (supervisor, same agent,
female agent, human agent, accessibility). A channel mention counts only inside
a request ("please email me", "provide a call option"); a negated request
("don't call me", "stop calling") is ``do_not_contact`` and never a channel; a
complaint about a past contact ("the agent called me at midnight") is not a
preference. Each preference has its evidence span and a confidence.

The rules propose :class:`Candidate` s with their own verdict; a trained
:class:`PreferenceGate` (stored in the model folder) may re-decide each one from
its context. Without a gate the rules' verdict stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import spacy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted
from spacy.matcher import Matcher, PhraseMatcher
from spacy.util import filter_spans

from .errors import LabelsError
from .themes import best_threshold

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
    "email": ["email", "e-mail", "e mail", "mail", "email id", "mail id", "email address", "email me", "mail me",
              "by email", "via email", "through email", "over email"],
    "phone": ["phone call", "telephone", "contact number", "customer care number", "customer care no",
              "customer service number", "support number", "helpline", "helpline number", "toll free",
              "toll free number", "tollfree number", "direct number", "direct no", "direct no.", "call option",
              "calling option", "calling facility", "call facility", "option to call", "voice call", "direct call",
              "calling", "through call", "by phone", "over the phone", "on phone", "phone support", "call support"],
    "sms": ["sms", "text message", "text messages", "text me", "message me", "sms me", "send me a text",
            "send a text", "by text", "via text", "through text", "over text"],
    "whatsapp": ["whatsapp me", "whatsapp", "whats app", "watsapp", "whatsup", "whatsapp service", "whatsapp number"],
    "chat": ["chat", "chat support", "live chat", "chatting", "chat service", "chat option"],
    "callback": ["call back", "callback", "call me back", "call-back", "redial", "call them back", "call customers back",
                 "call back customers", "call back customer", "call me", "contact me", "call me again", "call me asap",
                 "contact me asap"],
}
GENERIC_CONTACT = {"contact me", "contact me asap", "call me", "call me asap"}
# weaker channel words: candidates only, for a trained gate to judge in context
CHANNEL_CANDIDATES = {
    "phone": ["call", "calls", "number", "phone", "mobile number", "telecommunication", "telecomunication", "cll",
              "talk", "voice"],
    "sms": ["msg", "message", "messages", "text"],
    "email": ["emails", "mails", "email ids"],
    "callback": ["contact", "reach out", "get back", "revert back"],
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
    [{"LOWER": {"IN": ["stop", "quit"]}}, {"LOWER": {"IN": ["sending", "send"]}}, {"LOWER": {"IN": ["me", "us"]}, "OP": "?"},
     {"LOWER": {"IN": ["emails", "mails", "messages", "texts", "sms", "spam", "calls", "notifications", "whatsapp",
                       "surveys", "promotions"]}}],
    [{"LOWER": {"IN": ["unsubscribe", "opt-out", "optout"]}}],
    [{"LOWER": "opt"}, {"LOWER": "out"}],
]
OTHER = {
    "wants to speak to a supervisor": ["supervisor", "seniors", "manager", "higher authority", "team leader",
                                       "senior person", "senior officer", "senior team", "senior", "senior executive",
                                       "senior support", "senior staff", "escalation", "escalate", "ceo",
                                       "higher level", "higher official", "higher officials"],
    "wants service in the language they chose": ["language preferred", "preferred language", "language chosen",
                                                 "chosen language", "which language", "selected language"],
    "wants to be called on another number": ["alternative number", "alternate number", "other number",
                                             "another number"],
    "wants the same agent": ["same agent", "same executive", "same person", "refer to her", "refer to him",
                             "talk to her again", "talk to him again", "same lady", "that person again",
                             "same executive again", "same guy"],
    "wants a female agent": ["female agent", "female executive", "lady executive", "lady agent", "woman agent",
                             "female staff"],
    "wants a human agent": ["human", "real person", "human agent", "live agent", "real agent", "instead of bot",
                            "instead of chatbot", "not a bot", "not bot", "direct talk", "talk directly",
                            "direct connect", "directly contact", "contact directly", "chat directly", "direct contact",
                            "live executive", "speaking executive", "customer agent", "direct supporter",
                            "with person", "the person", "talk to executive", "talk to an executive"],
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


@dataclass(frozen=True)
class Candidate:
    """A possible preference: what the rules decided about it and the context a learned gate reads."""

    pref: Preference
    rule_ok: bool
    features: tuple[str, ...]


def _context(doc, span, kind: str, value: str, rule_ok: bool) -> tuple[str, ...]:
    """Hashed-feature strings for one candidate: type, value, rule verdict, nearby words and sentence words."""
    sent = span.sent
    f = [f"t={kind}", f"rule={int(rule_ok)}", f"{kind}|rule={int(rule_ok)}", f"len={min(len(doc) // 10, 6)}"]
    # channel and language gates judge the context, not the value: values rare in training must pass too
    if kind not in ("language", "channel") or value in ("regional", "other"):
        f += [f"v={kind}:{value}", f"{kind}|ev={span.text.lower()}"]
    for k in (1, 2, 3):
        if span.start - k >= sent.start:
            f.append(f"{kind}|L{k}={doc[span.start - k].lower_}")
        if span.end - 1 + k < sent.end:
            f.append(f"{kind}|R{k}={doc[span.end - 1 + k].lower_}")
    f += [f"{kind}|l={t.lower_}" for t in doc[max(sent.start, span.start - 6):span.start]]
    f += [f"{kind}|r={t.lower_}" for t in doc[span.end:min(sent.end, span.end + 6)]]
    f += [f"{kind}|s={t.lower_}" for t in sent if not t.is_punct]
    return tuple(dict.fromkeys(f))


class PreferenceExtractor:
    """Preference extraction: spaCy Matcher and PhraseMatcher rules on a blank English pipeline.

    Parameters
    ----------
    gate : PreferenceGate, optional
        A trained gate that re-decides the rule candidates from their context; without
        one the rules decide alone.
    """

    def __init__(self, gate=None):
        self.gate = gate
        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("sentencizer")
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for value, words in CHANNELS.items():
            self.phrases.add(f"channel:{value}", list(self.nlp.tokenizer.pipe(words)))
        for value, words in CHANNEL_CANDIDATES.items():
            self.phrases.add(f"channel?:{value}", list(self.nlp.tokenizer.pipe(words)))
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
             {**ampm, "OP": "?"}, {"LOWER": {"IN": ["-", "to", "and"]}}, {"LIKE_NUM": True}, ampm],
            [{"LOWER": {"IN": ["anytime", "any"]}}, {"LOWER": "time", "OP": "?"}],
            [{"LOWER": {"IN": ["after", "before", "between", "from", "around", "by"]}},
             {"TEXT": {"REGEX": r"^\d{1,2}(:\d{2})?(am|pm)$"}}],
            [{"LOWER": {"IN": ["in", "during", "on", "only", "weekends", "mornings", "evenings"]}},
             {"LOWER": {"IN": ["the", "a"]}, "OP": "?"}, {"LOWER": {"IN": list(TIME_WORDS)}}],
        ])

    def candidates(self, texts: list[str], features: bool = True) -> list[list[Candidate]]:
        """Every rule candidate in each text, with the rules' verdict and (if `features`) its context features."""
        return [self._candidates(doc, features) for doc in self.nlp.pipe(texts, batch_size=500)]

    def extract(self, texts: list[str]) -> list[list[Preference]]:
        """Preferences stated in each text (deduplicated by type and value)."""
        cands = self.candidates(texts, features=self.gate is not None)  # rules alone need no context
        if self.gate is not None:
            keep = self.gate.decide(cands)
        else:
            keep = [[(c.pref, c.pref.confidence) for c in cs if c.rule_ok] for cs in cands]
        out = []
        for kept in keep:
            prefs: dict[tuple[str, str], Preference] = {}
            for p, conf in kept:
                key = (p.type, p.value)
                if key not in prefs or prefs[key].confidence < conf:
                    prefs[key] = replace(p, confidence=round(float(conf), 3))
            out.append(list(prefs.values()))
        return out

    def _candidates(self, doc, features: bool = True) -> list[Candidate]:
        out: list[Candidate] = []

        def add(kind, value, span, rule_ok, conf, evidence=None, code=None):
            p = Preference(kind, value, evidence or span.text, span.start_char, span.end_char, conf, code)
            out.append(Candidate(p, rule_ok, _context(doc, span, kind, value, rule_ok) if features else ()))

        strings = self.nlp.vocab.strings
        dnc_spans, time_spans = [], []
        for match_id, start, end in self.matcher(doc):
            (dnc_spans if strings[match_id] == "dnc" else time_spans).append(doc[start:end])
        for span in filter_spans(time_spans):  # "between 7 am and 10 pm", not also "between 7 am"
            window = self._window(span)
            if not window:
                continue
            sent = span.sent
            ok = any(t.lower_ in ("call", "contact", "reach", "available", "phone", "callback", "free",
                                  "busy", "ring") for t in sent) \
                and any(t.lower_ in REQUEST_CUES | {"me", "only", "can", "could"} for t in sent) \
                and not PAST_CONTACT.search(sent.text)
            add("contact_time", window, span, ok, 0.7, sent.text.strip()[:200])
        for span in filter_spans(dnc_spans):
            add("do_not_contact", self._dnc_channel(span), span, True, 0.85)
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
            if kind == "channel?":
                add("channel", value, span, False, 0.5)
            elif kind == "channel":
                ok, conf = self._channel_ok(span, value, sent, words)
                if ok and span.text.lower() in GENERIC_CONTACT and any(
                        lab.startswith("channel:") and lab != "channel:callback" and other.sent == sent
                        for lab, other in matches):
                    ok = False  # "please contact me by email" asks for email, not a callback
                add("channel", value, span, ok, conf)
            elif kind == "language":
                if value == "regional":
                    name = span.text.lower()
                    add("language", "other" if name.startswith("other") else "regional", span,
                        bool(words & (REQUEST_CUES | {"also", "support"})), 0.6)
                    continue
                code, name = LANGUAGES[span.text.lower()]
                support_in = (span.start > 0 and doc[span.start - 1].lower_ == "in" and words & {
                    "support", "speak", "talk", "service", "help", "reply", "respond", "communicate", "assistance"}) \
                    or (span.end < len(doc) and doc[span.end].lower_ in LANGUAGE_NEXT) \
                    or (span.end + 1 < len(doc) and doc[span.end].lower_ in ("speaking", "speaker", "speakers")
                        and doc[span.end + 1].lower_ in LANGUAGE_NEXT)
                ok = bool(support_in) or bool(words & LANGUAGE_CUES and words & (REQUEST_CUES | {
                    "also", "selected", "chose", "preference", "support", "will", "try"}))
                add("language", name, span, ok, 0.8, code=code)
            elif kind == "other":
                add("other", value, span, bool(words & OTHER_CUES), 0.6)
        return out

    @staticmethod
    def _channel_ok(span, value: str, sent, words: set[str]) -> tuple[bool, float]:
        """The rules' verdict on a channel mention: a request, not a complaint about a past contact."""
        doc = span.doc
        strong = span.text.lower() in STRONG_CHANNEL or (
            value == "callback" and span.start == sent.start)  # imperative: "Call back customer if ..."
        conf = 0.8 if words & {"please", "prefer", "instead", "rather", "only", "want"} else 0.6
        if PAST_CONTACT.search(sent.text) or not (strong or words & REQUEST_CUES):
            return False, conf
        if value == "chat" and any(t.lower_ in ("bot", "chatbot") for t in doc[span.end:span.end + 1]):
            return False, conf
        # "never tried to call back" is a complaint, not a request for a callback
        if value in ("callback", "email") and words & COMPLAINT_CUES and not words & {"please", "pls", "kindly"}:
            return False, conf
        if value == "phone" and span.text.lower() == "calling" and \
                not (words & {"option", "facility", "available", "accessible", "direct", "provide", "add"}):
            return False, conf
        return True, conf

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
        if words[0] in ("anytime", "any"):
            return "any time" if words[0] == "anytime" or words[1:] == ["time"] else None
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


def candidate_labels(cands: list[Candidate], gold: list[dict]) -> list[int]:
    """1 where a candidate matches a gold preference (type, and value for channel, language and do_not_contact)."""
    out = []
    for c in cands:
        p = c.pref
        same = [g for g in gold if g.get("type") == p.type]
        if p.type in ("channel", "do_not_contact"):
            hit = any(str(g.get("value", "")).lower() == p.value for g in same)
        elif p.type == "language" and p.code:
            hit = any(str(g.get("value", "")).lower() in (p.value.lower(), p.code) for g in same)
        elif p.type == "language":
            hit = any(str(g.get("value", "")).split(" ")[0].lower() not in LANGUAGES for g in same)
        else:
            hit = bool(same)
        out.append(int(hit))
    return out


class PreferenceGate(ClassifierMixin, BaseEstimator):
    """Logistic gate over hashed candidate context; one threshold per preference type.

    Types with fewer than `min_positives` positive candidates keep the rules' verdict.

    Parameters
    ----------
    C : float
        Inverse regularisation.
    n_features : int
        Size of the hashed feature space.
    min_positives : int
    cv : int
        Folds (grouped by comment) for the out-of-fold thresholds and metrics.
    random_state : int
    """

    def __init__(self, C: float = 1.0, n_features: int = 2 ** 18, min_positives: int = 15, cv: int = 5,
                 random_state: int = 0):
        self.C = C
        self.n_features = n_features
        self.min_positives = min_positives
        self.cv = cv
        self.random_state = random_state

    def _hash(self, feats: list[tuple[str, ...]]):
        return FeatureHasher(self.n_features, input_type="string", alternate_sign=False).transform(feats)

    def fit(self, cands: list[list[Candidate]], gold: list[list[dict]]) -> "PreferenceGate":
        """Fit on the candidates of each comment and that comment's gold preferences."""
        from sklearn.model_selection import GroupKFold

        flat = [c for cs in cands for c in cs]
        y = np.array([v for cs, g in zip(cands, gold) for v in candidate_labels(cs, g)], dtype=int)
        groups = np.array([i for i, cs in enumerate(cands) for _ in cs])
        types = np.array([c.pref.type for c in flat])
        if len(set(y)) < 2:
            raise LabelsError("preference gate: the labels give no positive and negative candidates; "
                              "label some preferences or train without the gate")
        X = self._hash([c.features for c in flat])
        oof = np.zeros(len(y))
        folds = GroupKFold(min(self.cv, len(set(groups))))
        for tr, te in folds.split(X, y, groups):
            if len(set(y[tr])) < 2:
                continue
            head = LogisticRegression(C=self.C, max_iter=3000).fit(X[tr], y[tr])
            oof[te] = head.predict_proba(X[te])[:, 1]
        head = LogisticRegression(C=self.C, max_iter=3000).fit(X, y)
        self.coef_ = head.coef_[0].astype(np.float32)
        self.intercept_ = float(head.intercept_[0])
        self.thresholds_, self.cv_metrics_ = {}, {}
        rule = np.array([c.rule_ok for c in flat])
        for t in sorted(set(types.tolist())):
            m = types == t
            if y[m].sum() < self.min_positives:
                continue
            self.thresholds_[t], stats = best_threshold(y[m], oof[m])
            stats = {k: (int(v) if k == "support" else float(v)) for k, v in stats.items()}
            rp = rule[m]
            tp = float((rp & (y[m] == 1)).sum())
            stats["rules"] = {"precision": round(tp / max(rp.sum(), 1), 4),
                              "recall": round(tp / max(y[m].sum(), 1), 4)}
            self.cv_metrics_[t] = stats
        self.classes_ = np.array([False, True])
        return self

    def predict_proba(self, feats: list[tuple[str, ...]]) -> np.ndarray:
        check_is_fitted(self, "coef_")
        if not feats:
            return np.zeros((0, 2))
        z = np.asarray(self._hash(feats).dot(self.coef_)).ravel() + self.intercept_
        p = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1 - p, p])

    def decide(self, cands: list[list[Candidate]]) -> list[list[tuple[Preference, float]]]:
        """Kept candidates per comment with their confidence (the gate's probability, or the rule confidence)."""
        flat = [c for cs in cands for c in cs]
        p = self.predict_proba([c.features for c in flat])[:, 1] if flat else []
        out, k = [], 0
        for cs in cands:
            kept = []
            for c in cs:
                t = self.thresholds_.get(c.pref.type)
                if t is None:
                    if c.rule_ok:
                        kept.append((c.pref, c.pref.confidence))
                elif p[k] >= t:
                    kept.append((c.pref, float(p[k])))
                k += 1
            out.append(kept)
        return out


def preference_metrics(pred: list[list[Preference]], gold: list[list[dict]]) -> dict:
    """Type-level precision and recall (per comment) and value accuracy for channel and language.

    Value accuracy counts gold channel / language preferences whose type was predicted
    in the same comment, and how many of them got the right value.
    """
    tp = fp = fn = 0
    per: dict[str, list[int]] = {}
    vright = vtotal = 0
    for p, g in zip(pred, gold):
        gt, pt = {x.get("type") for x in g}, {x.type for x in p}
        for t in gt | pt:
            c = per.setdefault(t, [0, 0, 0])
            c[0 if t in gt and t in pt else 1 if t in pt else 2] += 1
        tp, fp, fn = tp + len(gt & pt), fp + len(pt - gt), fn + len(gt - pt)
        for x in g:
            if x.get("type") not in ("channel", "language"):
                continue
            same = [y for y in p if y.type == x["type"]]
            if same:
                vtotal += 1
                vright += int(any(candidate_labels([Candidate(y, True, ()) for y in same], [x])))

    def ratio(a, b):
        return round(a / b, 4) if b else 0.0

    return {"precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn), "support": tp + fn, "predicted": tp + fp,
            "value_accuracy": ratio(vright, vtotal), "value_n": vtotal,
            "per_type": {t: {"precision": ratio(c[0], c[0] + c[1]), "recall": ratio(c[0], c[0] + c[2]),
                             "support": c[0] + c[2]} for t, c in sorted(per.items())}}
